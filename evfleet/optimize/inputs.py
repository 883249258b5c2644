"""What the optimiser reads from a dataset: each vehicle's trips, parking and baseline.

A vehicle's *trips* are its ``routes`` rows that are not charging legs, in time order:
origin, destination, departure (s since the period start), the dataset's arrival, and
the dwell until the next departure. The vehicle parks at each trip's destination; it can
charge while parked there when that is its ``home_node`` and it has a home charger. The
*baseline* is what the synthetic driver did: every leg driven (charging legs included)
and every charging session, from the same tables.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evfleet.errors import InputDataError
from evfleet.fleet.composition import vehicle_index
from evfleet.vehicles import VehicleSpec, get_vehicle

CHARGING_PURPOSE = "charging"
PUBLIC_KINDS = ("l2", "dcfc", "roadside")


@dataclass(frozen=True)
class BaselineLegs:
    """Every leg the driver drove: edge indices, departure, draw key, stranded flag."""

    edges: list[NDArray[np.int64]]
    depart_s: NDArray[np.float64]
    trip_key: NDArray[np.int64]
    soc_min: float
    soc_end: float
    stranded_trips: int


@dataclass(frozen=True)
class VehicleTrips:
    """One vehicle's trips and attributes (times in s since the period start)."""

    vehicle_id: str
    index: int
    spec: VehicleSpec
    model: str
    style: str
    profile: str
    personality: str
    initial_soc: float
    has_home_charger: bool
    home_node: int
    trip_id: NDArray[np.str_]
    origin: NDArray[np.int64]
    destination: NDArray[np.int64]
    depart_s: NDArray[np.float64]
    arrive_s: NDArray[np.float64]
    baseline: BaselineLegs
    sessions: pd.DataFrame

    @property
    def n_trips(self) -> int:
        """Number of trips."""
        return int(self.trip_id.size)

    def home_window(self, k: int) -> bool:
        """Whether the vehicle parks at its home charger before trip ``k``."""
        if not self.has_home_charger:
            return False
        here = self.origin[k] if k == 0 else self.destination[k - 1]
        return bool(here == self.home_node)


def seconds_since(start: dt.date, times: pd.Series) -> NDArray[np.float64]:
    """Seconds of ``times`` since midnight of ``start``."""
    delta = pd.to_datetime(times).to_numpy("datetime64[us]") - np.datetime64(start, "us")
    return np.asarray(delta / np.timedelta64(1, "s"), dtype=np.float64)


def edge_lookup(graph_edges: pd.DataFrame, segments: pd.DataFrame) -> NDArray[np.int64]:
    """Edge index of each segment's ``(u, v, key)`` (raises on an edge not in the network)."""
    index = pd.Series(
        np.arange(len(graph_edges), dtype=np.int64),
        index=pd.MultiIndex.from_arrays(
            [graph_edges["u"].to_numpy(np.int64), graph_edges["v"].to_numpy(np.int64),
             graph_edges["key"].to_numpy(np.int64)]
        ),
    )  # fmt: skip
    index = index[~index.index.duplicated()]
    keys = pd.MultiIndex.from_arrays(
        [segments["u"].to_numpy(np.int64), segments["v"].to_numpy(np.int64),
         segments["key"].to_numpy(np.int64)]
    )  # fmt: skip
    pos = index.reindex(keys).to_numpy()
    if np.isnan(pos.astype(float)).any():
        msg = "the dataset's segments use edges that are not in the network (wrong network id?)"
        raise InputDataError(msg)
    return pos.astype(np.int64)


def vehicle_trips(
    tables: dict[str, pd.DataFrame], graph_edges: pd.DataFrame, start: dt.date
) -> list[VehicleTrips]:
    """Per-vehicle trips and baseline of a dataset (``fleet_info``, ``routes``, ``segments``,
    ``charging_sessions``), vehicles in ``fleet_info`` order."""
    fleet, routes = tables["fleet_info"], tables["routes"]
    segments, sessions = tables["segments"], tables["charging_sessions"]
    seg = segments.sort_values(["trip_id", "seq"], kind="stable")
    seg_edges = edge_lookup(graph_edges, seg)
    trip_of_seg = seg["trip_id"].astype(str).to_numpy()
    # Trip boundaries; none when no vehicle of the slice drove (a chunk of idle vehicles).
    starts = np.r_[True, trip_of_seg[1:] != trip_of_seg[:-1], True] if len(seg) else [False]
    bounds = np.flatnonzero(starts)
    by_trip = {trip_of_seg[a]: seg_edges[a:b] for a, b in itertools.pairwise(bounds)}
    routes = routes.sort_values(["vehicle_id", "start_time"], kind="stable")
    route_groups = _by_vehicle(routes)
    session_groups = _by_vehicle(sessions)
    out = []
    for _, row in fleet.iterrows():
        vid = str(row["vehicle_id"])
        r = route_groups.get(vid, routes.iloc[:0])
        out.append(_vehicle(row, r, by_trip, session_groups.get(vid, sessions.iloc[:0]), start))
    return out


def _by_vehicle(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Rows per vehicle id (one pass, not one scan of the table per vehicle)."""
    keys = frame["vehicle_id"].astype(str)
    return {str(k): g for k, g in frame.groupby(keys, sort=False)}


def _vehicle(
    row: pd.Series,
    r: pd.DataFrame,
    by_trip: dict[str, NDArray[np.int64]],
    sessions: pd.DataFrame,
    start: dt.date,
) -> VehicleTrips:
    vid = str(row["vehicle_id"])
    charging = r["purpose"].astype(str).to_numpy() == CHARGING_PURPOSE
    trips = r.loc[~charging]
    # a charging leg draws from the stream of the trip it serves (the next real trip)
    key = np.cumsum(~charging) - (~charging).astype(np.int64)
    key = np.where(charging, key + 1_000_000, key)
    ids = r["trip_id"].astype(str).to_numpy()
    soc = r[["soc_start", "soc_end"]].to_numpy(dtype=float)
    baseline = BaselineLegs(
        edges=[by_trip.get(t, np.empty(0, dtype=np.int64)) for t in ids],
        depart_s=seconds_since(start, r["start_time"]),
        trip_key=key.astype(np.int64),
        soc_min=float(soc.min()) if soc.size else float(row["initial_soc"]),
        soc_end=_last_soc(r, sessions, float(row["initial_soc"])),
        stranded_trips=int(r["stranded"].astype(bool).sum()),
    )
    spec = replace(get_vehicle(str(row["model"])), test_mass_kg=float(row["mass_kg"]))
    return VehicleTrips(
        vehicle_id=vid,
        index=vehicle_index(vid),
        spec=spec,
        model=str(row["model"]),
        style=str(row["driving_style"]),
        profile=str(row["driver_profile"]),
        personality=str(row["charging_personality"]),
        initial_soc=float(row["initial_soc"]),
        has_home_charger=bool(row["has_home_charger"]),
        home_node=int(row["home_node"]),
        trip_id=trips["trip_id"].astype(str).to_numpy(),
        origin=trips["origin_node"].to_numpy(np.int64),
        destination=trips["destination_node"].to_numpy(np.int64),
        depart_s=seconds_since(start, trips["start_time"]),
        arrive_s=seconds_since(start, trips["end_time"]),
        baseline=baseline,
        sessions=sessions,
    )


def _last_soc(routes: pd.DataFrame, sessions: pd.DataFrame, initial: float) -> float:
    """SOC after the last trip or session of the dataset."""
    ends = pd.concat(
        [routes[["end_time", "soc_end"]], sessions[["end_time", "soc_end"]]], ignore_index=True
    )
    if ends.empty:
        return initial
    return float(ends.sort_values("end_time", kind="stable")["soc_end"].iloc[-1])
