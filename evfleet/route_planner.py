"""One live route query: the battery-aware plan and the (time, energy) Pareto front.

Pure library code shared by ``evfleet route`` and the studio's route planner, so both
answer the same question the same way::

    model = EdgeCostModel(graph, tariff=Tariff.from_config(cfg.charging))
    ctx = context_for_vehicle("EV000007", departure=when, temp_c=12.0, fleet_info=fleet)
    plans = route_plans(graph, model, ctx, orig, dest, options=opts, objective="energy",
                        soc_start=0.4, pareto=False)

Every returned plan carries its physics re-evaluated energy (``physics_energy_kwh``), next
to the planned energy of the edge weights it was searched on.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import numpy as np
import pandas as pd

from evfleet.features.build import fractional_hour
from evfleet.features.network import PredictionContext
from evfleet.fleet.charging import Tariff
from evfleet.network import RoadGraph
from evfleet.routing import (
    EdgeCostModel,
    RoutePlan,
    RoutingOptions,
    StationSet,
    pareto_routes,
    plan_trip,
    simulate_route_energy,
)
from evfleet.vehicles import get_vehicle

ROUTE_COLUMNS: Final = (
    "objective", "distance_km", "time_min", "energy_kwh", "physics_energy_kwh", "cost_usd",
    "soc_start", "soc_end", "n_stops", "supported",
)  # fmt: skip
STOP_COLUMNS: Final = (
    "route", "station_id", "kind", "power_kw", "node", "lat", "lon", "arrival_soc",
    "departure_soc", "energy_kwh", "minutes", "wait_min", "cost_usd",
)  # fmt: skip


def route_plans(
    graph: RoadGraph,
    model: EdgeCostModel,
    ctx: PredictionContext,
    orig: int,
    dest: int,
    *,
    options: RoutingOptions,
    objective: str,
    soc_start: float,
    pareto: bool,
    tariff: Tariff,
) -> list[RoutePlan]:
    """The SOC-aware plan by ``objective`` (with charging stops), or with ``pareto`` every
    non-dominated (time, energy) route, fastest first; each re-scored by the physics."""
    w = model.weights(ctx)
    if pareto:
        plans = pareto_routes(graph, w, orig, dest, options=options, soc_start=soc_start)
    else:
        depart_s = fractional_hour(pd.Timestamp(ctx.departure)) * 3600
        stations = StationSet.build(graph, get_vehicle(ctx.model), tariff, depart_clock_s=depart_s)
        plans = [
            plan_trip(
                graph, w, stations, orig, dest, objective=objective, options=options,
                soc_start=soc_start,
            )
        ]  # fmt: skip
    return [
        replace(p, physics_energy_kwh=simulate_route_energy(model.net, ctx, p.edges)) for p in plans
    ]


def routes_table(plans: list[RoutePlan]) -> pd.DataFrame:
    """One row per plan with the columns of :data:`ROUTE_COLUMNS` (the CLI's table)."""
    rows = [
        {
            "objective": p.objective,
            "distance_km": p.distance_km,
            "time_min": p.time_min,
            "energy_kwh": p.energy_kwh,
            "physics_energy_kwh": np.nan if p.physics_energy_kwh is None else p.physics_energy_kwh,
            "cost_usd": p.cost_usd,
            "soc_start": p.soc_start,
            "soc_end": p.soc_end,
            "n_stops": len(p.stops),
            "supported": p.supported,
        }
        for p in plans
    ]
    return pd.DataFrame(rows, columns=list(ROUTE_COLUMNS))


def stops_table(plans: list[RoutePlan], graph: RoadGraph) -> pd.DataFrame:
    """Charging stops of the plans (``route`` is the plan's position) with coordinates."""
    rows = [{"route": i, **s.to_dict()} for i, p in enumerate(plans) for s in p.stops]
    out = pd.DataFrame(rows, columns=[c for c in STOP_COLUMNS if c not in ("lat", "lon")])
    at = graph.node_index(out["node"].to_numpy(dtype=np.int64)) if len(out) else []
    out.insert(5, "lat", graph.lat[at] if len(out) else np.array([], dtype=float))
    out.insert(6, "lon", graph.lon[at] if len(out) else np.array([], dtype=float))
    return out


def route_lines(plans: list[RoutePlan], graph: RoadGraph) -> pd.DataFrame:
    """The plans' edges as drawable lines: ``route``, ``objective``, ``u``, ``v`` and the
    ``src_lon/src_lat/dst_lon/dst_lat`` of each edge's end nodes."""
    if not plans:
        cols = ["route", "objective", "u", "v", "src_lon", "src_lat", "dst_lon", "dst_lat"]
        return pd.DataFrame(columns=cols)
    route = np.concatenate([np.full(max(len(p.nodes) - 1, 0), i) for i, p in enumerate(plans)])
    objective = np.concatenate([np.full(max(len(p.nodes) - 1, 0), p.objective) for p in plans])
    u = np.concatenate([np.asarray(p.nodes[:-1], dtype=np.int64) for p in plans])
    v = np.concatenate([np.asarray(p.nodes[1:], dtype=np.int64) for p in plans])
    iu, iv = graph.node_index(u), graph.node_index(v)
    return pd.DataFrame(
        {
            "route": route, "objective": objective, "u": u, "v": v,
            "src_lon": graph.lon[iu], "src_lat": graph.lat[iu],
            "dst_lon": graph.lon[iv], "dst_lat": graph.lat[iv],
        }
    )  # fmt: skip
