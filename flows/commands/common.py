"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console

from evfleet.config import NetworkSource, Runner, StudioConfig, load_config
from evfleet.errors import ConfigError, OrchestrationError
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


VehiclesOpt = Annotated[int | None, typer.Option(help="Fleet size.")]
DaysOpt = Annotated[int | None, typer.Option(help="Simulated days.")]
StartDateOpt = Annotated[
    dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")
]
SeedOpt = Annotated[int | None, typer.Option(help="Seed of the fleet simulation.")]
RunnerOpt = Annotated[str | None, typer.Option(help="Task runner: local or dask.")]
DaskAddressOpt = Annotated[str | None, typer.Option(help="Address of an existing Dask scheduler.")]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        help="Seconds to wait when another run holds the workspace (default: refuse at once).",
    ),
]


def fleet_overrides(
    vehicles: int | None,
    days: int | None,
    start_date: dt.date | None,
    seed: int | None,
    runner: str | None,
    dask_address: str | None,
) -> dict[str, Any]:
    """Dotted config overrides of the fleet and runner flags (``None`` = not given)."""
    if isinstance(start_date, dt.datetime):  # typer parses dates as datetimes
        start_date = start_date.date()
    return {
        "fleet.n_vehicles": vehicles,
        "fleet.days": days,
        "fleet.start_date": start_date,
        "fleet.seed": seed,
        "performance.runner": runner,
        "performance.dask_address": dask_address,
    }


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


def check_inputs(cfg: StudioConfig) -> None:
    """Check the inputs a config names before Prefect starts (fail in seconds, not minutes).

    The stages check them again when they read them; this only moves the common mistakes
    (missing, empty, corrupt or wrong-format files; a Dask scheduler that does not answer)
    ahead of the ~10 s Prefect start-up and before any staging folder exists.
    """
    perf = cfg.performance
    if perf.runner is Runner.DASK and perf.dask_address:
        check_dask_address(perf.dask_address)
    net = cfg.network
    if net.source is NetworkSource.OSM_FILE and net.osm_file is not None:
        from evfleet.network.osm import check_osm_file

        check_osm_file(net.osm_file)
    if net.dem_files:
        from evfleet.network.elevation import check_dem_files

        check_dem_files(net.dem_files)


def check_dask_address(address: str, *, timeout_s: float = 5.0) -> None:
    """Fail in seconds, with one line, when no Dask scheduler answers at ``address``."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls"):
        msg = f"--dask-address must be tcp://HOST:PORT (or tls://), got {address!r}"
        raise ConfigError(msg)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        msg = f"--dask-address must be tcp://HOST:PORT, got {address!r}"
        raise ConfigError(msg)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        msg = (
            f"no Dask scheduler reachable at {address} ({reason}); start one with "
            "`dask scheduler`, or drop --dask-address to use a local cluster"
        )
        raise OrchestrationError(msg) from None
