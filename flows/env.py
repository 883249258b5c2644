"""Offline environment for Prefect, MLflow, GX and Streamlit (DESIGN.md §8).

:func:`configure` must run before ``prefect`` or ``mlflow`` are imported: both read their
settings at import time. The CLI calls it first thing; the Makefile exports the same values.
Values already set by the user win (``setdefault``).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from evfleet.errors import WorkspaceError

OFFLINE_ENV: dict[str, str] = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "GX_ANALYTICS_ENABLED": "false",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
}


def configure(workspace: str | Path) -> Path:
    """Set the offline environment variables and keep Prefect's state in the workspace.

    Returns the resolved workspace path. ``PREFECT_HOME`` defaults to
    ``<workspace>/prefect`` so flow runs, results and the UI database travel with the data.
    """
    root = Path(workspace).resolve()
    if root.exists() and not root.is_dir():
        msg = f"workspace {root} is a file, not a folder; pass a folder to --workspace"
        raise WorkspaceError(msg)
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("PREFECT_HOME", str(root / "prefect"))
    try:
        Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the Prefect home {os.environ['PREFECT_HOME']}: {exc.strerror}"
        raise WorkspaceError(msg) from None
    os.environ["EVFLEET_WORKSPACE"] = str(root)
    return root


_QUIET = {"verbose": True}
# Libraries that log progress at INFO on their own handlers; -v shows them again.
_CHATTY_LOGGERS = {
    "optuna": logging.WARNING,
    "mlflow": logging.ERROR,  # as MLFLOW_LOGGING_LEVEL=ERROR (the CLI's default)
    "alembic": logging.WARNING,
    "distributed": logging.WARNING,
    "great_expectations": logging.WARNING,
    "numba": logging.WARNING,
}


def set_verbose(verbose: bool) -> None:
    """Remember whether the CLI runs with ``-v`` (libraries then keep their INFO logs)."""
    _QUIET["verbose"] = verbose
    quiet_libraries()


def quiet_libraries() -> None:
    """Raise chatty libraries' log levels unless verbose; silence MLflow's notices.

    Optuna resets its level to INFO when it is first imported, so this runs again once
    the flows (and with them Optuna and MLflow) are imported.
    """
    if _QUIET["verbose"]:
        return
    for name, level in _CHATTY_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    if "optuna" in sys.modules:
        sys.modules["optuna"].logging.set_verbosity(logging.WARNING)
    if "mlflow.utils.logging_utils" in sys.modules:
        # MLflow prints registry notices ("Created version 3 ...") to its own stream.
        sys.modules["mlflow.utils.logging_utils"].disable_logging()
