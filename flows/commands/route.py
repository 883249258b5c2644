"""``evfleet route``: battery-aware route between two places of a built network."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from evfleet.errors import InputDataError
from evfleet.features.network import PredictionContext
from evfleet.network import RoadGraph
from evfleet.route_planner import route_plans
from evfleet.routing import EdgeCostModel, RoutePlan, RoutingOptions
from evfleet.routing.export import plot_routes, route_geojson
from evfleet.storage import Workspace
from flows.commands.common import ConfigOpt, WorkspaceOpt, console, effective_config, workspace_path

MAX_SNAP_KM = 2.0
"""Coordinates farther than this from every network node are refused."""


def _endpoint(graph: RoadGraph, text: str, what: str) -> int:
    """Node id of ``LAT,LON`` (nearest node) or of a node id."""
    parts = [p.strip() for p in text.split(",")]
    try:
        if len(parts) == 1:
            node = int(parts[0])
            graph.node_index([node])
            return node
        lat, lon = (float(p) for p in parts)
    except ValueError:
        msg = f"--{what} must be LAT,LON or a node id, got {text!r}"
        raise InputDataError(msg) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        msg = f"--{what} coordinates out of range: {lat}, {lon}"
        raise InputDataError(msg)
    ids, dist = graph.nearest_nodes([lat], [lon], return_dist=True)
    if dist[0] > MAX_SNAP_KM * 1000:
        msg = f"--{what} {lat},{lon} is {dist[0] / 1000:.1f} km from the network (its nearest road)"
        raise InputDataError(msg)
    return int(ids[0])


def _ml_source(ws: Workspace, network_id: str, vehicle: str, ctx: PredictionContext) -> Any:
    """Per-edge kWh of the MLflow champion (the ``evfleet predict`` path), and the
    context calibrated for the vehicle."""
    from evfleet.routing import model_energy_source
    from evfleet.serving import FleetHistory, network_edge_table
    from tasks.mlflow_utils import load_champion

    model = load_champion(ws.root)
    ctx = FleetHistory.load(ws).calibrated(model, vehicle, ctx)
    return model_energy_source(model, network_edge_table(ws, network_id)), ctx


def _print(plans: list[RoutePlan]) -> None:
    table = Table(title="routes" if len(plans) > 1 else "route")
    for col in ("objective", "km", "min", "kWh", "physics kWh", "USD", "SOC start→end", "stops"):
        table.add_column(col, justify="left" if col == "objective" else "right")
    for p in plans:
        table.add_row(
            p.objective + ("" if p.supported in (None, True) else " (unsupported)"),
            f"{p.distance_km:.2f}",
            f"{p.time_min:.1f}",
            f"{p.energy_kwh:.3f}",
            f"{p.physics_energy_kwh:.3f}" if p.physics_energy_kwh is not None else "-",
            f"{p.cost_usd:.2f}",
            f"{p.soc_start:.2f}→{p.soc_end:.2f}",
            str(len(p.stops)),
        )
    console.print(table)
    for p in plans:
        for s in p.stops:
            console.print(
                f"  stop {s.station_id} ({s.kind}, {s.power_kw:g} kW) at node {s.node}: "
                f"SOC {s.arrival_soc:.2f}→{s.departure_soc:.2f}, {s.energy_kwh:.2f} kWh, "
                f"{s.minutes:.1f} min (wait {s.wait_min:.1f}), {s.cost_usd:.2f} USD"
            )


def route(
    orig: Annotated[str, typer.Option("--from", help="Start: LAT,LON or a node id.")],
    dest: Annotated[str, typer.Option("--to", help="Destination: LAT,LON or a node id.")],
    vehicle: Annotated[
        str, typer.Option("--vehicle", help="Fleet vehicle id (e.g. EV0007) or catalogue model.")
    ],
    depart: Annotated[
        str | None, typer.Option("--depart", help="Departure, ISO date-time (default: now).")
    ] = None,
    soc: Annotated[float, typer.Option("--soc", help="SOC at departure, 0..1.")] = 0.8,
    objective: Annotated[
        str | None,
        typer.Option(help="energy|time|cost|weighted (default: optimization.soc_objective)."),
    ] = None,
    algorithm: Annotated[
        str | None, typer.Option(help="dijkstra|astar|ch (default: optimization.algorithm).")
    ] = None,
    energy_model: Annotated[
        str, typer.Option("--energy-model", help="physics | ml (the MLflow champion).")
    ] = "physics",
    temp_c: Annotated[float, typer.Option("--temp-c", help="Ambient temperature, °C.")] = 15.0,
    pareto: Annotated[
        bool, typer.Option("--pareto", help="All (time, energy) trade-offs.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    geojson: Annotated[Path | None, typer.Option("--geojson", help="Write GeoJSON here.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a PNG map here.")] = None,
    network: Annotated[
        str | None, typer.Option("--network", help="Network id (default: the latest).")
    ] = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Plan a battery-aware route: least energy, time, cost or weighted, with charging stops.

    Examples:

      evfleet route --from 37.79,-122.41 --to 37.80,-122.44 --vehicle nissan_leaf --soc 0.3

      evfleet route --from 123 --to 456 --vehicle EV0003 --objective time --pareto --json
    """
    if energy_model not in ("physics", "ml"):
        msg = f"--energy-model must be physics or ml, got {energy_model!r}"
        raise InputDataError(msg)
    if not (math.isfinite(soc) and 0.0 <= soc <= 1.0):
        msg = f"--soc must be within [0, 1], got {soc}"
        raise InputDataError(msg)
    root = workspace_path(workspace)
    cfg = effective_config(
        config, {"optimization.algorithm": algorithm, "optimization.soc_objective": objective}
    )
    try:
        when = pd.Timestamp(depart) if depart else pd.Timestamp.now().floor("min")
    except ValueError:
        msg = f"--depart must be an ISO date-time, got {depart!r}"
        raise InputDataError(msg) from None
    ws = Workspace(root)
    network_id = ws.resolve("network", network)
    graph = RoadGraph.load(ws.stage_dir("network", network_id))
    o, d = _endpoint(graph, orig, "from"), _endpoint(graph, dest, "to")
    from evfleet.serving import FleetHistory

    ctx = FleetHistory.load(ws).context(vehicle, departure=when, temp_c=temp_c)
    source = None
    if energy_model == "ml":
        source, ctx = _ml_source(ws, network_id, vehicle, ctx)
    from evfleet.fleet.charging import Tariff

    tariff = Tariff.from_config(cfg.charging)
    model = EdgeCostModel(graph, tariff=tariff, energy_source=source)
    opts = RoutingOptions.from_config(cfg)
    plans = route_plans(
        graph, model, ctx, o, d, options=opts, objective=cfg.optimization.soc_objective,
        soc_start=soc, pareto=pareto, tariff=tariff,
    )  # fmt: skip
    if geojson is not None:
        geojson.parent.mkdir(parents=True, exist_ok=True)
        geojson.write_text(json.dumps(route_geojson(graph, plans)), encoding="utf-8")
    if plot is not None:
        plot_routes(graph, plans, plot)
    if as_json:
        payload = [p.to_dict() for p in plans]
        typer.echo(json.dumps(payload if pareto else payload[0]))
        return
    _print(plans)
    source_name = model.weights(ctx).source
    console.print(
        f"energy model: {source_name}; planned vs physics re-evaluated energy per route above"
    )
