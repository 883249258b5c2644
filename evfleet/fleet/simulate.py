"""Simulate a chunk of vehicles: plan, route, drive, charge, tabulate, check.

Each vehicle draws everything from its own generator ``default_rng([fleet seed, index])``
in a fixed order (plan, then profiles and charging decisions as the walk goes), so its
rows do not depend on which chunk or worker simulates it. Routes are prefetched for the
whole chunk (one search per origin) and cached.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import pandas as pd

from evfleet.errors import InputDataError
from evfleet.fleet.context import ChunkContext, VehicleInputs
from evfleet.fleet.planning import Anchors, Plan, plan_vehicle
from evfleet.fleet.states import (
    Columns,
    frame_from_columns,
    routes_and_segments,
    sessions_columns,
    vehicle_state_columns,
)
from evfleet.fleet.walk import VehicleWalk
from evfleet.invariants import assert_invariants
from evfleet.schema import TABLES, conform
from evfleet.vocab import DriverProfile

if TYPE_CHECKING:
    from evfleet.config import StudioConfig

logger = logging.getLogger(__name__)

CHUNK_TABLES = ("routes", "segments", "charging_sessions", "vehicle_states")
_KWH_PER_KM_PLANNING = 0.2


def _plan(ctx: ChunkContext, v: VehicleInputs) -> Plan:
    anchors = Anchors(home=v.home, work=v.work, range_km=v.spec.battery_kwh / _KWH_PER_KM_PLANNING)
    return plan_vehicle(
        v.rng, ctx.places, DriverProfile(v.profile), anchors, start=ctx.start, days=ctx.days
    )


def simulate_chunk(
    cfg: StudioConfig,
    graph: Any,
    stations: pd.DataFrame,
    fleet_chunk: pd.DataFrame,
    weather: pd.DataFrame,
    *,
    check: bool = True,
) -> dict[str, pd.DataFrame]:
    """Simulate the vehicles of ``fleet_chunk`` over the configured period.

    Parameters
    ----------
    cfg
        Studio configuration (fleet period and seed, charging tariffs and powers).
    graph
        The road network (:class:`evfleet.network.RoadGraph`).
    stations
        Public charging stations of the network.
    fleet_chunk
        Rows of ``fleet_info`` to simulate (any subset; results do not depend on it).
    weather
        The ``weather`` table of the period (:func:`evfleet.fleet.generate_weather`).
    check
        Check the dataset invariants of the chunk and raise on violation.

    Returns
    -------
    dict
        ``routes``, ``segments``, ``charging_sessions`` and ``vehicle_states`` tables.

    Raises
    ------
    InputDataError
        On malformed inputs or when a generated table violates an invariant.
    """
    missing = [c for c in TABLES["fleet_info"] if c not in fleet_chunk.columns]
    if missing:
        msg = f"fleet_chunk lacks fleet_info columns: {', '.join(missing)}"
        raise InputDataError(msg)
    t0 = time.perf_counter()
    ctx = ChunkContext(cfg, graph, stations, weather)
    vehicles = [ctx.vehicle(row) for _, row in fleet_chunk.iterrows()]
    plans = [_plan(ctx, v) for v in vehicles]
    ctx.prefetch([o for p in plans for o in p.origin], [d for p in plans for d in p.destination])
    out: dict[str, list[Columns]] = {t: [] for t in CHUNK_TABLES}
    for v, plan in zip(vehicles, plans, strict=True):
        walk = VehicleWalk(ctx, v, plan).run()
        routes, segments = routes_and_segments(ctx, v.vehicle_id, walk)
        out["routes"].append(routes)
        out["segments"].append(segments)
        out["charging_sessions"].append(sessions_columns(ctx, v.vehicle_id, walk))
        out["vehicle_states"].append(vehicle_state_columns(ctx, v.vehicle_id, v.initial_soc, walk))
    tables = {t: frame_from_columns(t, parts) for t, parts in out.items()}
    if check:
        assert_invariants({"fleet_info": conform("fleet_info", fleet_chunk), **tables})
    logger.info(
        "chunk of %d vehicles: %d trips, %d segments, %d sessions in %.1f s (%d routed pairs)",
        len(vehicles),
        len(tables["routes"]),
        len(tables["segments"]),
        len(tables["charging_sessions"]),
        time.perf_counter() - t0,
        ctx.router.pairs_routed,
    )
    return tables
