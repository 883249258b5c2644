"""``evfleet synth``: generate the synthetic fleet dataset."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from flows.commands.common import ConfigOpt, WorkspaceOpt, console, effective_config, workspace_path
from flows.commands.progress import pipeline_progress


def synth(
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    vehicles: Annotated[int | None, typer.Option(help="Fleet size.")] = None,
    days: Annotated[int | None, typer.Option(help="Simulated days.")] = None,
    start_date: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the fleet simulation.")] = None,
    runner: Annotated[str | None, typer.Option(help="Task runner: local or dask.")] = None,
    dask_address: Annotated[
        str | None, typer.Option(help="Address of an existing Dask scheduler.")
    ] = None,
    chunk_vehicles: Annotated[int | None, typer.Option(help="Vehicles per parallel chunk.")] = None,
) -> None:
    """Generate (or reuse) the six-table ground-truth dataset on the configured network.

    Examples:

      evfleet synth --vehicles 200 --days 14

      evfleet synth --runner dask                      # local Dask cluster

      evfleet synth --runner dask --dask-address tcp://10.0.0.5:8786
    """
    root = workspace_path(workspace)
    cfg = effective_config(
        config,
        {
            "fleet.n_vehicles": vehicles,
            "fleet.days": days,
            "fleet.start_date": start_date.date() if start_date else None,
            "fleet.seed": seed,
            "performance.runner": runner,
            "performance.dask_address": dask_address,
            "performance.synth_chunk_vehicles": chunk_vehicles,
        },
    )
    from flows.runtime import prefect_api
    from flows.synthesize import synthesize_with_runner

    console.print(f"synthesizing {cfg.fleet.n_vehicles} vehicles x {cfg.fleet.days} days")
    with prefect_api(), pipeline_progress(root, cfg):
        result = synthesize_with_runner(cfg, str(root))
    verb = "reused (cache hit)" if result.reused else "built"
    console.print(f"dataset [bold]{result.id}[/bold] {verb}: {result.path}")
    console.print('Query it: [bold]evfleet sql "select * from vehicle_states limit 5"[/bold]')
