"""Offline environment for Prefect, MLflow, GX and Streamlit (DESIGN.md §8).

:func:`configure` must run before ``prefect`` or ``mlflow`` are imported: both read their
settings at import time. The CLI calls it first thing; the Makefile exports the same values.
Values already set by the user win (``setdefault``).
"""

from __future__ import annotations

import os
from pathlib import Path

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
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("PREFECT_HOME", str(root / "prefect"))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ["EVFLEET_WORKSPACE"] = str(root)
    return root
