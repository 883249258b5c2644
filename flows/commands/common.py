"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from evfleet.config import StudioConfig, load_config
from evfleet.storage import DEFAULT_WORKSPACE, WORKSPACE_ENV
from flows import env

console = Console()
err_console = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file (default: built-in defaults)."),
]
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help=f"Workspace folder (default: ${WORKSPACE_ENV} or {DEFAULT_WORKSPACE}).",
    ),
]


def workspace_path(workspace: Path | None) -> Path:
    """Resolve the workspace and configure the offline environment for it."""
    chosen = workspace or Path(os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE)
    return env.configure(chosen)


def effective_config(config: Path | None, overrides: dict[str, Any] | None = None) -> StudioConfig:
    """Load the YAML config (or defaults) and apply CLI-flag overrides (``None`` = unset)."""
    cfg = load_config(config)
    if overrides:
        cfg = cfg.with_overrides(
            {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in overrides.items()}
        )
    return cfg
