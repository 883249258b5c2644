"""``evfleet synth``: generate the synthetic fleet dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.commands.common import (
    ConfigOpt,
    DaskAddressOpt,
    DaysOpt,
    RunnerOpt,
    SeedOpt,
    StartDateOpt,
    VehiclesOpt,
    WaitOpt,
    WorkspaceOpt,
    check_inputs,
    console,
    effective_config,
    fleet_overrides,
    workspace_path,
)
from flows.commands.progress import pipeline_progress
from flows.commands.run import describe_stage


def synth(
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    vehicles: VehiclesOpt = None,
    days: DaysOpt = None,
    start_date: StartDateOpt = None,
    seed: SeedOpt = None,
    runner: RunnerOpt = None,
    dask_address: DaskAddressOpt = None,
    chunk_vehicles: Annotated[int | None, typer.Option(help="Vehicles per parallel chunk.")] = None,
    wait: WaitOpt = 0.0,
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
            **fleet_overrides(vehicles, days, start_date, seed, runner, dask_address),
            "performance.synth_chunk_vehicles": chunk_vehicles,
        },
    )
    check_inputs(cfg)
    from flows.runtime import flow_session
    from flows.synthesize import synthesize_with_runner

    console.print(f"synthesizing {cfg.fleet.n_vehicles} vehicles x {cfg.fleet.days} days")
    with (
        flow_session(root, purpose="evfleet synth", wait_s=wait),
        pipeline_progress(root, cfg),
    ):
        result = synthesize_with_runner(cfg, str(root))
    verb = "reused (cache hit)" if result.reused else "built"
    console.print(f"dataset [bold]{result.id}[/bold] {verb}: {result.path}")
    console.print(describe_stage(Path(result.path), "datasets"))
    console.print('Query it: [bold]evfleet sql "select * from vehicle_states limit 5"[/bold]')
