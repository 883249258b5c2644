"""The training feature table: one row per segment with leak-free inputs and the target."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from evfleet.errors import InputDataError
from evfleet.features.build import (
    EDGE_COLUMNS,
    MAX_PARKED_H,
    ROUTE_FEATURES,
    UNKNOWN_CONTROL,
    calendar,
    edge_heading_deg,
    feature_frame,
    node_controls,
    planned_route,
    vehicle_attributes,
)
from evfleet.features.catalog import ENERGY, FEATURES, HISTORY_FEATURES, KEYS, TARGET
from evfleet.features.history import daily_totals, history_by_day
from evfleet.fleet.weather import zone_names
from evfleet.schema import require_columns
from evfleet.units import M_PER_KM

logger = logging.getLogger(__name__)

SEGMENT_COLUMNS: tuple[str, ...] = (*KEYS, *EDGE_COLUMNS, "duration_s", ENERGY)
"""Columns of the ``segments`` table the feature builder reads (``start_time`` only for
the trip's departure, ``duration_s`` only to date the arrival of a vehicle's *previous*
trip, for ``parked_h``)."""
WEATHER_COLUMNS: tuple[str, ...] = (
    "date", "hour", "zone", "temp_c", "wind_kph", "wind_dir_deg", "humidity_pct", "is_raining",
)  # fmt: skip
"""Columns of the ``weather`` table the feature builder reads."""
_FORECAST = ("temp_c", "wind_kph", "wind_dir_deg", "humidity_pct", "is_raining")
_MIN_LENGTH_M = 1.0


def _forecast(segments: pd.DataFrame, weather: pd.DataFrame, when: pd.Series) -> pd.DataFrame:
    """Weather of each segment's zone at its planned hour ``when`` (NaN when absent)."""
    require_columns(weather, WEATHER_COLUMNS, "weather")
    table = pd.DataFrame(
        {
            "day": pd.to_datetime(weather["date"].astype(str)).to_numpy(),
            "hour": weather["hour"].to_numpy(dtype=np.int64),
            "zone": weather["zone"].astype(str).to_numpy(),
            **{c: weather[c].to_numpy(dtype=np.float64) for c in _FORECAST},
        }
    ).drop_duplicates(["day", "hour", "zone"])
    start = when
    keys = pd.DataFrame(
        {
            "day": start.dt.normalize().to_numpy(),
            "hour": start.dt.hour.to_numpy(dtype=np.int64),
            "zone": zone_names(
                segments["start_lat"].to_numpy(dtype=np.float64),
                segments["start_lon"].to_numpy(dtype=np.float64),
            ).astype(str),
        }
    )
    return keys.merge(table, on=["day", "hour", "zone"], how="left")


def _trip_timing(segments: pd.DataFrame) -> dict[str, np.ndarray]:
    """``parked_h``, :data:`ROUTE_FEATURES` and ``planned_time`` of every segment.

    Parking is the trip's departure minus the arrival of the same vehicle's previous trip
    (its last segment's start plus duration: a past, recorded event), 24 h before a
    vehicle's first trip. The route features and the planned clock time come from the
    trip's departure and its planned edges in order (:func:`planned_route`, the function
    inference uses): expected times and speeds, headings; never realised values.
    """
    order = np.lexsort((segments["seq"].to_numpy(), segments["trip_id"].to_numpy()))
    seg = segments.iloc[order]
    departure = seg.groupby("trip_id", sort=False)["start_time"].transform("first")
    route = planned_route(seg, departure.to_numpy(), seg["trip_id"].to_numpy())
    arrive = seg["start_time"] + pd.to_timedelta(seg["duration_s"], unit="s")
    trips = (
        seg.assign(arrive=arrive)
        .groupby("trip_id", sort=False)
        .agg(
            vehicle_id=("vehicle_id", "first"),
            depart=("start_time", "first"),
            arrive=("arrive", "last"),  # the last segment's end (rows are in seq order)
        )
        .sort_values(["vehicle_id", "depart"])
    )
    previous = trips.groupby("vehicle_id", sort=False)["arrive"].shift()
    parked = ((trips["depart"] - previous) / pd.Timedelta(hours=1)).fillna(MAX_PARKED_H)
    out = {"parked_h": segments["trip_id"].map(parked.clip(0.0, MAX_PARKED_H)).to_numpy(float)}
    for name, values in route.items():
        out[name] = np.empty(len(segments), dtype=values.dtype)
        out[name][order] = values
    return out


def build_features(
    segments: pd.DataFrame,
    fleet_info: pd.DataFrame,
    weather: pd.DataFrame,
    *,
    nodes: pd.DataFrame | None = None,
    edges: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Leak-free features and the kWh/km target of every segment.

    Parameters
    ----------
    segments, fleet_info, weather
        Dataset tables (:mod:`evfleet.schema`); extra columns are ignored and the realised
        columns (speeds, stops, duration, energy components) are never used as inputs.
    nodes, edges
        Optional network nodes (``node_id``, ``control``) and edges (``u``, ``v``), both
        or neither: add the junction control at each segment's start and end node
        (:func:`evfleet.features.build.node_controls`); without them both are
        ``"unknown"``.

    Returns
    -------
    pandas.DataFrame
        :data:`KEYS`, :data:`FEATURES`, ``energy_kwh`` and ``kwh_per_km``, in the order of
        ``segments`` (segments shorter than 1 m are dropped: their kWh/km is undefined).

    Raises
    ------
    InputDataError
        On an empty table, missing columns, or segments of vehicles absent from
        ``fleet_info``.
    """
    require_columns(segments, SEGMENT_COLUMNS, "segments")
    if segments.empty:
        msg = "segments table is empty: nothing to build features from"
        raise InputDataError(msg)
    if (nodes is None) != (edges is None):
        msg = "build_features needs the network's nodes and edges together (or neither)"
        raise InputDataError(msg)
    if nodes is not None and edges is not None:
        control = node_controls(nodes, edges).astype(str)
        segments = segments.assign(
            start_control=segments["u"].map(control).fillna(UNKNOWN_CONTROL).to_numpy(),
            end_control=segments["v"].map(control).fillna(UNKNOWN_CONTROL).to_numpy(),
        )
    last_seq = segments.groupby("trip_id", sort=False)["seq"].transform("max")
    timing = _trip_timing(segments)
    segments = segments.assign(
        is_trip_start=(segments["seq"] == 0).to_numpy(dtype=np.float64),
        is_trip_end=(segments["seq"] == last_seq).to_numpy(dtype=np.float64),
        **timing,
    )
    segments = segments.loc[segments["length_m"].to_numpy(dtype=np.float64) >= _MIN_LENGTH_M]
    segments = segments.reset_index(drop=True)
    vehicles = vehicle_attributes(fleet_info)
    unknown = pd.Index(segments["vehicle_id"].unique()).difference(vehicles.index)
    if len(unknown):
        shown = ", ".join(map(str, unknown[:5]))
        msg = f"segments reference vehicles missing from fleet_info: {shown}"
        raise InputDataError(msg)
    controls = [c for c in ("start_control", "end_control") if c in segments.columns]
    edge_rows = segments.loc[:, [*EDGE_COLUMNS, "is_trip_start", "is_trip_end", *controls]]
    start = segments["start_time"]
    planned = segments["planned_time"]
    forecast = _forecast(segments, weather, planned)
    wind = forecast["wind_kph"].to_numpy()
    angle = np.radians(forecast["wind_dir_deg"].to_numpy() - edge_heading_deg(segments))
    nan = np.full(len(segments), np.nan)
    feats = feature_frame(
        edge_rows,
        when=calendar(planned.to_numpy()),
        weather={
            "temp_c": forecast["temp_c"].to_numpy(),
            "headwind_kph": wind * np.cos(angle),
            "crosswind_kph": wind * np.sin(angle),
            "humidity_pct": forecast["humidity_pct"].to_numpy(),
            "is_raining": forecast["is_raining"].to_numpy(),
        },
        vehicle=vehicles.loc[segments["vehicle_id"]].reset_index(drop=True),
        history=dict.fromkeys(HISTORY_FEATURES, nan),
        trip={name: segments[name].to_numpy() for name in ("parked_h", *ROUTE_FEATURES)},
    )
    out = pd.concat([segments.loc[:, list(KEYS)], feats], axis=1)
    out[ENERGY] = segments[ENERGY].to_numpy(dtype=np.float64)
    out[TARGET] = out[ENERGY] / (out["length_m"] / M_PER_KM)
    hist = history_by_day(daily_history_table(out))
    keys = pd.DataFrame({"vehicle_id": out["vehicle_id"].to_numpy(), "day": start.dt.normalize()})
    joined = keys.merge(hist, on=["vehicle_id", "day"], how="left")
    for name in HISTORY_FEATURES:
        out[name] = joined[name].to_numpy()
    logger.info("built %d features for %d segments", len(FEATURES), len(out))
    return out


def daily_history_table(features: pd.DataFrame) -> pd.DataFrame:
    """Per vehicle-day totals (see :func:`daily_totals`) from a feature table."""
    km = features["length_m"].to_numpy(dtype=np.float64) / M_PER_KM
    return daily_totals(
        features["vehicle_id"],
        features["start_time"],
        features[ENERGY],
        features["length_m"],
        pd.Series(features["physics_prior_kwh_per_km"].to_numpy() * km),
    )
