"""``evfleet run``: the end-to-end pipeline."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from evfleet.storage import Workspace
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
from flows.commands.network import network_overrides
from flows.commands.progress import pipeline_progress


def describe_stage(folder: Path, stage: str) -> str:
    """One line on what a stage output holds (counts, score), from its own files."""
    if stage == "network":
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        return (
            f"{meta['source_detail']}: {meta['n_nodes']:,} nodes, {meta['n_edges']:,} edges, "
            f"{meta['n_stations']:,} stations"
        )
    if stage == "datasets":
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        rows = manifest["rows"]
        return (
            f"{manifest['n_vehicles']} vehicles x {manifest['days']} days: "
            f"{rows['routes']:,} trips, {rows['segments']:,} segments, "
            f"{rows['charging_sessions']:,} charging sessions, "
            f"{manifest.get('stranded_trips', 0):,} stranded trips"
        )
    if stage == "features":
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return f"{manifest['rows']:,} segment rows x {len(manifest['features'])} features"
    if stage == "quality":
        from expectations.report import QualityReport

        report = QualityReport.read(folder)
        counts = report.counts()
        return (
            f"score {report.score:.1f}/100: {counts['passed']} expectations passed, "
            f"{len(report.warnings)} warnings, {len(report.critical_failures)} critical"
        )
    if stage == "optimization":
        from tasks.optimize import comparison

        rows = comparison(folder)
        base, opt = rows.iloc[0], rows.iloc[1]
        return (
            f"{opt['strategy']}/{opt['planning_mode']}: {base['energy_kwh']:,.1f} -> "
            f"{opt['energy_kwh']:,.1f} kWh, {base['cost_usd']:,.2f} -> {opt['cost_usd']:,.2f} "
            f"USD, {opt['stranded_trips']:.0f} stranded trips"
        )
    return ""


def run(
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    vehicles: VehiclesOpt = None,
    days: DaysOpt = None,
    start_date: StartDateOpt = None,
    seed: SeedOpt = None,
    osm_file: Annotated[Path | None, typer.Option(help="Use a local OSM extract.")] = None,
    runner: RunnerOpt = None,
    dask_address: DaskAddressOpt = None,
    wait: WaitOpt = 0.0,
) -> None:
    """Run the whole pipeline; stages whose inputs did not change are reused.

    One run writes to a workspace at a time: a second one refuses (or waits with --wait),
    while evfleet sql keeps answering from the catalog.

    Examples:

      evfleet run                                  # embedded default (offline)

      evfleet run --vehicles 200 --days 14 --seed 7

      evfleet run --config my.yaml --workspace /data/evfleet
    """
    root = workspace_path(workspace)
    overrides = network_overrides(osm_file, None, None, None)
    overrides |= fleet_overrides(vehicles, days, start_date, seed, runner, dask_address)
    cfg = effective_config(config, overrides)
    check_inputs(cfg)
    Workspace(root).ensure()
    from flows.end_to_end import end_to_end_flow
    from flows.runtime import flow_session

    started = time.perf_counter()
    console.print(f"running the end-to-end flow in {root} (Prefect starts in about 10 s)")
    with (
        flow_session(root, purpose="evfleet run", wait_s=wait),
        pipeline_progress(root, cfg),
    ):
        results = end_to_end_flow(cfg, str(root))
    elapsed = time.perf_counter() - started
    table = Table(title=f"evfleet run: {elapsed:.1f} s")
    for col in ("stage/id", "status", "what"):
        table.add_column(col, overflow="fold")
    for res in results["stages"]:
        status = "[cyan]reused[/cyan]" if res.reused else "[green]built[/green]"
        table.add_row(f"{res.stage}/{res.id}", status, describe_stage(Path(res.path), res.stage))
    console.print(table)
    champion = results["champion"]
    console.print(
        f"Energy model: [bold]{champion.family}[/bold] ({champion.model_name} "
        f"v{champion.version} @{champion.alias}): held-out vehicles trip MAPE "
        f"{champion.metric('test/calibrated/trip_kwh_mape'):.1f} % (physics prior alone "
        f"{champion.metric('test/physics_prior/trip_kwh_mape'):.1f} %), segment R² "
        f"{champion.metric('test/calibrated/seg_kwh_r2'):.2f}"
    )
    console.print(f"Outputs under {root}/<stage>/<id>/ (reused = cache hit on the stage id).")
    console.print(
        'Query it: [bold]evfleet sql "select count(*) from edges"[/bold]   '
        "UIs: [bold]evfleet ui prefect[/bold], [bold]evfleet ui mlflow[/bold]"
    )
