"""Features for every edge of a road network under one context (vehicle, weather, hour).

This is the feature half of the router's call: :func:`network_edges` turns the network's
``edges`` and ``nodes`` tables into the edge attributes the models use (once per network),
and :func:`network_features` broadcasts one :class:`PredictionContext` over them with
array operations only (about a second per million edges on one core).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
import pandas as pd

from evfleet.errors import InputDataError
from evfleet.features.build import (
    ROUTE_FEATURES,
    calendar,
    edge_columns,
    feature_frame,
    node_controls,
    vehicle_attributes,
)
from evfleet.features.catalog import HISTORY_FEATURES
from evfleet.features.history import history_as_of
from evfleet.network.geo import bearing_deg
from evfleet.network.graph import edge_end_rows
from evfleet.schema import require_columns
from evfleet.vehicles import get_vehicle
from evfleet.vocab import ChargingPersonality, DriverProfile, DrivingStyle

NETWORK_EDGE_COLUMNS = ("u", "v", "key", "length_m", "highway", "speed_kph", "grade")
NETWORK_NODE_COLUMNS = ("node_id", "lat", "lon", "elevation_m")
STATIC_CACHE_SIZE: Final = 4
"""Edge tables (networks) whose context-free feature columns are kept (LRU)."""
VEHICLE_CACHE_SIZE: Final = 64
"""Vehicles whose :meth:`PredictionContext.vehicle_frame` is kept (LRU; a catalogue join
of a few milliseconds, paid again by every new context of the same vehicle otherwise)."""
_ROUTE_COLUMNS: Final = (*ROUTE_FEATURES, "planned_time")


@dataclass(frozen=True)
class PredictionContext:
    """What is fixed for one network-wide prediction.

    Attributes
    ----------
    model
        Vehicle catalogue key, e.g. ``"tesla_model_3"``.
    mass_kg, battery_kwh
        Vehicle mass (with load) and battery energy.
    driver_profile, driving_style, charging_personality
        Driver attributes as in ``fleet_info``.
    departure
        Date and time of the trip (hour, weekday and season).
    temp_c, humidity_pct, is_raining
        Forecast at departure.
    wind_kph, wind_from_deg
        Forecast wind speed and the direction it blows from (degrees from north).
    history
        :data:`HISTORY_FEATURES` of the vehicle (NaN / 0 when it has no earlier day).
    parked_h
        Time parked before departure, h (cabin and tyres soak towards ambient; 24 h is
        fully soaked).
    trip_elapsed_min
        Minutes already driven when the edges are reached, for network-wide costs (the
        default, 30 min, is a warmed-up car); :func:`predict_route` computes it per edge.
    calibration
        The vehicle's factor from its earlier days (:mod:`evfleet.models.calibration`);
        predictions are multiplied by it (1: no correction).
    """

    model: str
    mass_kg: float
    battery_kwh: float
    departure: pd.Timestamp
    temp_c: float
    driver_profile: str = DriverProfile.COMMUTER
    driving_style: str = DrivingStyle.NORMAL
    charging_personality: str = ChargingPersonality.CONVENIENCE
    wind_kph: float = 0.0
    wind_from_deg: float = 0.0
    humidity_pct: float = 70.0
    is_raining: bool = False
    parked_h: float = 8.0
    trip_elapsed_min: float = 30.0
    calibration: float = 1.0
    history: Mapping[str, float] = field(
        default_factory=lambda: {
            n: (0.0 if n in ("hist_km", "hist_days") else math.nan) for n in HISTORY_FEATURES
        }
    )

    def __post_init__(self) -> None:
        """Validate ranges; raise :class:`InputDataError` naming the bad value."""
        if not -60 <= self.temp_c <= 60:
            msg = f"temp_c must be within -60..60 degC, got {self.temp_c}"
            raise InputDataError(msg)
        if not (self.wind_kph >= 0 and math.isfinite(self.wind_kph)):
            msg = f"wind_kph must be finite and >= 0, got {self.wind_kph}"
            raise InputDataError(msg)
        if self.mass_kg <= 0 or self.battery_kwh <= 0:
            msg = "mass_kg and battery_kwh must be > 0"
            raise InputDataError(msg)
        if not (math.isfinite(self.calibration) and 0.2 <= self.calibration <= 5.0):
            msg = f"calibration must be within 0.2..5, got {self.calibration}"
            raise InputDataError(msg)
        for name in ("parked_h", "trip_elapsed_min"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                msg = f"{name} must be finite and >= 0, got {value}"
                raise InputDataError(msg)

    def vehicle_frame(self) -> pd.DataFrame:
        """One-row :func:`vehicle_attributes` frame of the context's vehicle (a copy of the
        cached frame: contexts that differ only in time or weather share it)."""
        return _vehicle_frame(
            self.model,
            self.mass_kg,
            self.battery_kwh,
            self.driver_profile,
            self.driving_style,
            self.charging_personality,
        ).copy()


@functools.lru_cache(maxsize=VEHICLE_CACHE_SIZE)
def _vehicle_frame(
    model: str,
    mass_kg: float,
    battery_kwh: float,
    driver_profile: str,
    driving_style: str,
    charging_personality: str,
) -> pd.DataFrame:
    row = pd.DataFrame(
        {
            "vehicle_id": ["context"],
            "model": [model],
            "mass_kg": [mass_kg],
            "battery_kwh": [battery_kwh],
            "driver_profile": [driver_profile],
            "driving_style": [driving_style],
            "charging_personality": [charging_personality],
        }
    )
    return vehicle_attributes(row)


def context_for_vehicle(
    vehicle: str,
    *,
    departure: pd.Timestamp,
    temp_c: float,
    fleet_info: pd.DataFrame | None = None,
    daily: pd.DataFrame | None = None,
    wind_kph: float = 0.0,
    wind_from_deg: float = 0.0,
    humidity_pct: float = 70.0,
    is_raining: bool = False,
) -> PredictionContext:
    """Context of a fleet vehicle (by ``vehicle_id``) or of a catalogue model (by key).

    A fleet vehicle brings its register attributes and, when ``daily`` (vehicle-day totals,
    :func:`evfleet.features.segments.daily_history_table`) is given, its history before
    ``departure``'s day. A catalogue model uses its test mass and default driver attributes.
    """
    if fleet_info is not None and vehicle in set(fleet_info["vehicle_id"].astype(str)):
        row = fleet_info.loc[fleet_info["vehicle_id"].astype(str) == vehicle].iloc[0]
        base = PredictionContext(
            model=str(row["model"]),
            mass_kg=float(row["mass_kg"]),
            battery_kwh=float(row["battery_kwh"]),
            departure=departure,
            temp_c=temp_c,
            driver_profile=str(row["driver_profile"]),
            driving_style=str(row["driving_style"]),
            charging_personality=str(row["charging_personality"]),
        )
        if daily is not None:
            base = replace(base, history=history_as_of(daily, vehicle, departure))
    else:
        try:
            spec = get_vehicle(vehicle)
        except InputDataError:
            msg = f"unknown vehicle {vehicle!r}: neither a fleet vehicle_id nor a catalogue model"
            raise InputDataError(msg) from None
        base = PredictionContext(
            model=spec.vehicle_id,
            mass_kg=spec.test_mass_kg,
            battery_kwh=spec.battery_kwh,
            departure=departure,
            temp_c=temp_c,
        )
    return replace(
        base,
        temp_c=temp_c,
        wind_kph=wind_kph,
        wind_from_deg=wind_from_deg,
        humidity_pct=humidity_pct,
        is_raining=is_raining,
    )


def network_edges(edges: pd.DataFrame, nodes: pd.DataFrame) -> pd.DataFrame:
    """Edge attributes of a network in the segment column names (plus junction controls).

    Parameters
    ----------
    edges
        The network's ``edges`` table (``u, v, key, length_m, highway, speed_kph, grade``).
    nodes
        The network's ``nodes`` table (``node_id, lat, lon, elevation_m``, optional
        ``control``: then ``start_control`` / ``end_control`` are the junction controls of
        :func:`evfleet.features.build.node_controls`).
    """
    require_columns(edges, NETWORK_EDGE_COLUMNS, "network edges")
    require_columns(nodes, NETWORK_NODE_COLUMNS, "network nodes")
    if edges.empty:
        msg = "the network has no edges"
        raise InputDataError(msg)
    start, end = edge_end_rows(nodes, edges)
    rows = {"start": start, "end": end}
    out = pd.DataFrame(
        {
            "u": edges["u"].to_numpy(),
            "v": edges["v"].to_numpy(),
            "key": edges["key"].to_numpy(),
            "length_m": edges["length_m"].to_numpy(dtype=np.float64),
            "grade": edges["grade"].to_numpy(dtype=np.float64),
            "highway": pd.Categorical(edges["highway"].astype(str)),
            "speed_limit_kph": edges["speed_kph"].to_numpy(dtype=np.float64),
        }
    )
    for end, idx in rows.items():
        out[f"{end}_lat"] = nodes["lat"].to_numpy(dtype=np.float64)[idx]
        out[f"{end}_lon"] = nodes["lon"].to_numpy(dtype=np.float64)[idx]
        out[f"{end}_elevation_m"] = nodes["elevation_m"].to_numpy(dtype=np.float64)[idx]
    out["heading_deg"] = bearing_deg(
        out["start_lat"], out["start_lon"], out["end_lat"], out["end_lon"]
    )
    if "control" in nodes.columns:
        control = pd.Categorical(node_controls(nodes, edges).to_numpy())
        for end, idx in rows.items():
            out[f"{end}_control"] = pd.Categorical.from_codes(
                control.codes[idx], control.categories
            )
    return out


@dataclass(frozen=True)
class _EdgesKey:
    """An edge table as an LRU key, by identity: the cached entry holds the table itself,
    so no other object can take its id while the entry lives."""

    ident: int
    edges: pd.DataFrame = field(compare=False, hash=False)


@functools.lru_cache(maxsize=STATIC_CACHE_SIZE)
def _cached_edge_columns(key: _EdgesKey) -> Mapping[str, Any]:
    cols = edge_columns(key.edges)
    for values in cols.values():
        if isinstance(values, np.ndarray):
            values.flags.writeable = False  # shared by every later context
    return cols


def static_columns(edges: pd.DataFrame) -> Mapping[str, Any]:
    """Context-free feature columns of ``edges`` (:func:`edge_columns`), cached per table.

    A network's :func:`network_edges` table keeps its columns in a bounded LRU
    (:data:`STATIC_CACHE_SIZE` tables, :func:`functools.lru_cache`) so that a new context
    only computes the columns that depend on it; tables must not be modified in place
    once predicted on. A planned route's edges (with :data:`ROUTE_FEATURES` or
    ``planned_time``) are computed afresh: they are seldom predicted twice.
    """
    if any(c in edges.columns for c in _ROUTE_COLUMNS):
        return edge_columns(edges)
    return _cached_edge_columns(_EdgesKey(id(edges), edges))


def static_cache_info() -> functools._CacheInfo:
    """Hits, misses and size of the context-free column cache."""
    return _cached_edge_columns.cache_info()


def network_features(
    edges: pd.DataFrame,
    context: PredictionContext,
    *,
    static: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Model inputs of every edge of :func:`network_edges` under ``context``.

    Head- and cross-wind are the forecast wind projected on each edge's heading (the same
    convention as the simulator: wind *from* ``wind_from_deg``, positive head wind opposes
    travel). :data:`ROUTE_FEATURES` columns of ``edges`` (a planned route, see
    :func:`evfleet.models.predict_route`) override the through-edge defaults and the
    context's ``trip_elapsed_min``; its ``planned_time`` column (departure + expected
    durations of the earlier edges, :func:`evfleet.features.build.planned_route`) dates
    each edge, else every edge is at the departure. ``static`` are the context-free
    columns of ``edges`` (default: :func:`static_columns`, cached per table).
    """
    cols = static_columns(edges) if static is None else static
    angle = np.radians(context.wind_from_deg - cols["heading_deg"])
    when = (
        edges["planned_time"].to_numpy(dtype="datetime64[us]")
        if "planned_time" in edges.columns
        else pd.Timestamp(context.departure).to_datetime64()
    )
    return feature_frame(
        edges,
        when=calendar(when),
        weather={
            "temp_c": context.temp_c,
            "headwind_kph": context.wind_kph * np.cos(angle),
            "crosswind_kph": context.wind_kph * np.sin(angle),
            "humidity_pct": context.humidity_pct,
            "is_raining": float(context.is_raining),
        },
        vehicle=context.vehicle_frame(),
        history=context.history,
        trip={
            "parked_h": context.parked_h,
            "trip_elapsed_min": context.trip_elapsed_min,
            **{c: edges[c].to_numpy(dtype=np.float64) for c in ROUTE_FEATURES if c in edges},
        },
        static=cols,
    )
