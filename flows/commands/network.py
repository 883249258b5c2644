"""``evfleet network``: build, describe and draw the road network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from evfleet.config import NetworkSource
from evfleet.errors import ConfigError
from evfleet.storage import Workspace
from flows.commands.common import (
    ConfigOpt,
    WorkspaceOpt,
    check_inputs,
    console,
    effective_config,
    workspace_path,
)

app = typer.Typer(help="Build, inspect and plot the road network.", no_args_is_help=True)

IdOpt = Annotated[str | None, typer.Option("--id", help="Network id (default: the latest).")]


def _parse_bbox(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4:
        msg = f"--bbox must be WEST,SOUTH,EAST,NORTH (four numbers), got {text!r}"
        raise ConfigError(msg)
    return values


def network_overrides(
    osm_file: Path | None, place: str | None, bbox: str | None, dem: list[Path] | None
) -> dict[str, Any]:
    """Dotted config overrides for the network source flags (at most one source)."""
    given = [
        name for name, v in (("--osm-file", osm_file), ("--place", place), ("--bbox", bbox)) if v
    ]
    if len(given) > 1:
        msg = f"choose one network source, got {' and '.join(given)}"
        raise ConfigError(msg)
    out: dict[str, Any] = {}
    if osm_file:
        out |= {"network.source": NetworkSource.OSM_FILE.value, "network.osm_file": str(osm_file)}
    elif place:
        out |= {"network.source": NetworkSource.PLACE.value, "network.place": place}
    elif bbox:
        out |= {"network.source": NetworkSource.BBOX.value, "network.bbox": _parse_bbox(bbox)}
    if dem:
        out["network.dem_files"] = [str(p) for p in dem]
    return out


@app.command("build")
def build(
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    osm_file: Annotated[
        Path | None, typer.Option(help="Local OSM extract (.osm or .osm.bz2).")
    ] = None,
    place: Annotated[
        str | None, typer.Option(help="Place name to download (needs internet).")
    ] = None,
    bbox: Annotated[
        str | None, typer.Option(help="WEST,SOUTH,EAST,NORTH to download (needs internet).")
    ] = None,
    dem: Annotated[list[Path] | None, typer.Option(help="DEM raster(s) for elevation.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the embedded network.")] = None,
    scale: Annotated[float | None, typer.Option(help="Size of the embedded network.")] = None,
) -> None:
    """Build (or reuse) a road network and register nodes/edges/stations in the catalog.

    Examples:

      evfleet network build                      # embedded synthetic Bay Area (offline)

      evfleet network build --osm-file sf.osm.bz2 --dem dem.tif

      evfleet network build --place "Berkeley, California"
    """
    root = workspace_path(workspace)
    overrides = network_overrides(osm_file, place, bbox, dem)
    overrides |= {"network.seed": seed, "network.scale": scale}
    cfg = effective_config(config, overrides)
    check_inputs(cfg)
    from flows.network import network_flow
    from flows.runtime import flow_session

    session = flow_session(root, purpose="evfleet network build")
    with console.status("building network (Prefect starts in about 10 s) ..."), session:
        result = network_flow(cfg, str(root))
    verb = "reused" if result.reused else "built"
    console.print(f"network [bold]{result.id}[/bold] {verb}: {result.path}")
    _print_summary(_summary(Workspace(root), result.id))


def _summary(ws: Workspace, network_id: str | None) -> dict[str, Any]:
    sid = ws.resolve("network", network_id)
    from evfleet.network import network_summary

    return {"id": sid, **network_summary(ws.stage_dir("network", sid))}


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(show_header=False)
    for key, value in summary.items():
        shown = json.dumps(value) if isinstance(value, dict | list) else str(value)
        table.add_row(key, shown)
    console.print(table)


@app.command("info")
def info(
    workspace: WorkspaceOpt = None,
    network_id: IdOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Describe a built network: source, counts, bbox, grade distribution, road classes.

    Example: ``evfleet network info --json``
    """
    summary = _summary(Workspace(workspace_path(workspace)), network_id)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        _print_summary(summary)


@app.command("plot")
def plot(
    workspace: WorkspaceOpt = None,
    network_id: IdOpt = None,
    out: Annotated[
        Path | None, typer.Option(help="PNG path (default: <workspace>/plots/).")
    ] = None,
) -> None:
    """Draw the network to a PNG: roads coloured by class, bridges and stations visible.

    Example: ``evfleet network plot --out bay.png``
    """
    from evfleet.network import plot_network

    ws = Workspace(workspace_path(workspace))
    sid = ws.resolve("network", network_id)
    target = out or ws.root / "plots" / f"network-{sid}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    path = plot_network(ws.stage_dir("network", sid), target)
    console.print(f"wrote {path}")
