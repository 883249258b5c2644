"""Tables of a simulated chunk: routes, segments, charging sessions, vehicle states.

Turns the walk results (:class:`~evfleet.fleet.walk.WalkResult`) into the contract tables
of :mod:`evfleet.schema`. Times become ``datetime64[us]`` from the period start; segments
are gathered by fancy indexing from the driven batches; ``vehicle_states`` has one row per
vehicle and day of the period, attributing each trip and session to the day it starts,
so that ``soc_end`` of consecutive days closes the energy balance day by day.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evfleet.fleet.trips import local_clock
from evfleet.schema import ENERGY_COMPONENTS, TABLES, conform
from evfleet.units import DAY_S, MINUTE_S

if TYPE_CHECKING:
    from evfleet.fleet.context import ChunkContext
    from evfleet.fleet.walk import WalkResult

logger = logging.getLogger(__name__)

_COMP = list(ENERGY_COMPONENTS)


def to_datetime(start: dt.date, t_s: np.ndarray) -> np.ndarray:
    """Seconds since midnight of ``start`` as ``datetime64[us]``."""
    return local_clock(start, t_s)


Columns = dict[str, np.ndarray]
"""Column name -> array of one vehicle's rows (all of equal length)."""


def empty_table(table: str) -> pd.DataFrame:
    """A contract table with no rows."""
    return conform(table, pd.DataFrame({c: pd.Series(dtype=t) for c, t in TABLES[table].items()}))


def frame_from_columns(table: str, parts: list[Columns]) -> pd.DataFrame:
    """Concatenate per-vehicle column dicts into one conformed table."""
    parts = [p for p in parts if p]
    if not parts:
        return empty_table(table)
    data = {col: np.concatenate([p[col] for p in parts]) for col in TABLES[table]}
    return conform(table, pd.DataFrame(data))


def _const(value: object, n: int) -> np.ndarray:
    return np.full(n, value, dtype=object)


def routes_and_segments(
    ctx: ChunkContext, vehicle_id: str, walk: WalkResult
) -> tuple[Columns, Columns]:
    """``routes`` and ``segments`` columns of one vehicle."""
    trips = walk.trips
    if not trips:
        return {}, {}
    net = ctx.net
    trip_ids = np.array([f"{vehicle_id}-T{j:05d}" for j in range(len(trips))], dtype=object)
    parts = [np.arange(t.batch.offsets[t.k], t.batch.offsets[t.k + 1]) for t in trips]
    counts = np.array([p.size for p in parts])
    fields = (
        "edge",
        "start_s",
        "duration_s",
        "mean_speed_kph",
        "max_speed_kph",
        "n_stops",
        "temp_c",
        "headwind_kph",
        "crosswind_kph",
        "components_kwh",
        "max_power_kw",
    )
    seg = {
        f: np.concatenate([getattr(t.batch, f)[p] for t, p in zip(trips, parts, strict=True)])
        for f in fields
    }
    edge, comps = seg["edge"], seg["components_kwh"]
    u, v = net.u_pos[edge], net.v_pos[edge]
    n = edge.size
    segments = {
        "trip_id": np.repeat(trip_ids, counts),
        "vehicle_id": _const(vehicle_id, n),
        "seq": np.concatenate([np.arange(c) for c in counts]),
        "u": net.node_id[u],
        "v": net.node_id[v],
        "key": net.key[edge],
        "start_time": to_datetime(ctx.start, seg["start_s"]),
        "start_lat": net.lat[u],
        "start_lon": net.lon[u],
        "end_lat": net.lat[v],
        "end_lon": net.lon[v],
        "start_elevation_m": net.elevation_m[u],
        "end_elevation_m": net.elevation_m[v],
        "length_m": net.length_m[edge],
        "grade": net.grade[edge],
        "highway": net.highway[edge],
        "speed_limit_kph": net.speed_kph[edge],
        "mean_speed_kph": seg["mean_speed_kph"],
        "max_speed_kph": seg["max_speed_kph"],
        "n_stops": seg["n_stops"],
        "duration_s": seg["duration_s"],
        "max_power_kw": seg["max_power_kw"],
        "energy_kwh": comps.sum(axis=1),
        **{c: comps[:, i] for i, c in enumerate(_COMP)},
        "temp_c": seg["temp_c"],
        "headwind_kph": seg["headwind_kph"],
        "crosswind_kph": seg["crosswind_kph"],
    }
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    comp_sums = np.add.reduceat(comps, first, axis=0)
    routes = _routes_columns(ctx, vehicle_id, walk, trip_ids, comp_sums, seg["temp_c"][first])
    return routes, segments


def _routes_columns(
    ctx: ChunkContext,
    vehicle_id: str,
    walk: WalkResult,
    trip_ids: np.ndarray,
    comp_sums: np.ndarray,
    temp_c: np.ndarray,
) -> Columns:
    trips = walk.trips
    net = ctx.net
    origin = np.array([t.origin for t in trips])
    dest = np.array([t.destination for t in trips])
    start = np.array([t.start_s for t in trips])
    end = np.array([t.end_s for t in trips])
    dist = np.array([t.distance_km for t in trips])
    energy = np.array([t.energy_kwh for t in trips])
    return {
        "trip_id": trip_ids,
        "vehicle_id": _const(vehicle_id, len(trips)),
        "start_time": to_datetime(ctx.start, start),
        "end_time": to_datetime(ctx.start, end),
        "origin_node": net.node_id[origin],
        "destination_node": net.node_id[dest],
        "origin_lat": net.lat[origin],
        "origin_lon": net.lon[origin],
        "destination_lat": net.lat[dest],
        "destination_lon": net.lon[dest],
        "distance_km": dist,
        "duration_min": (end - start) / MINUTE_S,
        "energy_kwh": energy,
        "kwh_per_100km": energy / np.maximum(dist, 1e-9) * 100.0,
        "soc_start": np.array([t.soc_start for t in trips]),
        "soc_end": np.array([t.soc_end for t in trips]),
        "purpose": np.array([t.purpose for t in trips], dtype=object),
        "stranded": np.array([t.stranded for t in trips], dtype=bool),
        "temp_c": temp_c,
        **{c: comp_sums[:, i] for i, c in enumerate(_COMP)},
    }


_SESSION_FIELDS = (
    "kind",
    "station_id",
    "lat",
    "lon",
    "soc_start",
    "soc_end",
    "energy_kwh",
    "grid_kwh",
    "power_kw",
    "mean_power_kw",
    "cost_usd",
    "trigger",
    "detour_km",
    "wait_min",
)


def sessions_columns(ctx: ChunkContext, vehicle_id: str, walk: WalkResult) -> Columns:
    """``charging_sessions`` columns of one vehicle."""
    ss = walk.sessions
    if not ss:
        return {}
    cols: Columns = {f: np.array([getattr(s, f) for s in ss]) for f in _SESSION_FIELDS}
    for f in ("kind", "station_id", "trigger"):
        cols[f] = cols[f].astype(object)
    cols["session_id"] = np.array([f"{vehicle_id}-C{j:04d}" for j in range(len(ss))], dtype=object)
    cols["vehicle_id"] = _const(vehicle_id, len(ss))
    cols["start_time"] = to_datetime(ctx.start, np.array([s.start_s for s in ss]))
    cols["end_time"] = to_datetime(ctx.start, np.array([s.end_s for s in ss]))
    return cols


def _per_day(starts: list[float], values: list[float], days: int) -> np.ndarray:
    d = np.minimum((np.asarray(starts, dtype=float) // DAY_S).astype(np.int64), days - 1)
    return np.bincount(d, weights=np.asarray(values, dtype=float), minlength=days)


def _daily_soc(walk: WalkResult, initial_soc: float, days: int) -> tuple[np.ndarray, np.ndarray]:
    """SOC after the last event starting each day (carried) and the day's lowest SOC."""
    events = sorted(
        [(t.start_s, t.soc_start, t.soc_end) for t in walk.trips]
        + [(s.start_s, s.soc_start, s.soc_end) for s in walk.sessions]
    )
    soc_end = np.full(days, np.nan)
    soc_min = np.full(days, np.inf)
    for start_s, s0, s1 in events:
        d = min(int(start_s // DAY_S), days - 1)
        soc_end[d] = s1
        soc_min[d] = min(soc_min[d], s0, s1)
    carried = pd.Series(soc_end).ffill().fillna(initial_soc).to_numpy()
    return carried, np.where(np.isinf(soc_min), carried, soc_min)


def vehicle_state_columns(
    ctx: ChunkContext, vehicle_id: str, initial_soc: float, walk: WalkResult
) -> Columns:
    """One row per day of the period: driving, charging and SOC of the vehicle."""
    days = ctx.days
    soc_end, soc_min = _daily_soc(walk, initial_soc, days)
    trip_start = [t.start_s for t in walk.trips]
    sess_start = [s.start_s for s in walk.sessions]
    distance = _per_day(trip_start, [t.distance_km for t in walk.trips], days)
    energy = _per_day(trip_start, [t.energy_kwh for t in walk.trips], days)
    driven = distance > 0
    return {
        "vehicle_id": _const(vehicle_id, days),
        "date": np.array([ctx.start + dt.timedelta(days=d) for d in range(days)], dtype=object),
        "distance_km": distance,
        "energy_kwh": energy,
        "kwh_per_100km": np.where(driven, energy / np.where(driven, distance, 1.0) * 100, np.nan),
        "trips": _per_day(trip_start, [1.0] * len(trip_start), days).astype(np.int64),
        "charging_sessions": _per_day(sess_start, [1.0] * len(sess_start), days).astype(np.int64),
        "soc_min": soc_min,
        "soc_end": soc_end,
        "charging_kwh": _per_day(sess_start, [s.energy_kwh for s in walk.sessions], days),
        "charging_cost_usd": _per_day(sess_start, [s.cost_usd for s in walk.sessions], days),
        "stranded_trips": _per_day(
            trip_start, [float(t.stranded) for t in walk.trips], days
        ).astype(np.int64),
    }
