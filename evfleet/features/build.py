"""Vectorised feature assembly shared by training segments and network-wide prediction.

:func:`feature_frame` turns edge attributes plus context (time, weather, vehicle, history)
into the model inputs of :data:`evfleet.features.catalog.FEATURES`; context values may be
per-row arrays (training segments) or scalars broadcast over every edge (one prediction
context). No function here reads a realised speed, stop count, duration or energy.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from evfleet.errors import InputDataError
from evfleet.features.catalog import CATEGORICAL_FEATURES, HISTORY_FEATURES, NUMERIC_FEATURES
from evfleet.fleet.road_arrays import junction_controls
from evfleet.network.geo import bearing_deg
from evfleet.physics import air_density_kg_m3, congestion_factor, road_class_codes, trip_turns_deg
from evfleet.physics.hvac import on_road_hvac_power_w
from evfleet.physics.model import GRAVITY_MPS2
from evfleet.physics.onroad import (
    ON_ROAD_AUX_EXTRA_W,
    PARKED_COLD_S,
    on_road_crr_factor,
    solar_irradiance_w_m2,
    standard_time,
)
from evfleet.physics.profiles import TURN_MIN_DEG
from evfleet.physics.roads import STOP_PROBABILITY, TURN_SPEED_MPS, JunctionControl
from evfleet.schema import require_columns
from evfleet.units import HOUR_S, KPH_PER_MPS, M_PER_KM, MINUTE_S, W_PER_KW
from evfleet.vehicles import get_vehicle

logger = logging.getLogger(__name__)

EDGE_COLUMNS: Final[tuple[str, ...]] = (
    "length_m",
    "grade",
    "highway",
    "speed_limit_kph",
    "start_lat",
    "start_lon",
    "end_lat",
    "end_lon",
    "start_elevation_m",
    "end_elevation_m",
)
"""Edge attributes every feature build needs (segments and network edges alike)."""

VEHICLE_COLUMNS: Final[tuple[str, ...]] = (
    "model",
    "mass_kg",
    "battery_kwh",
    "driver_profile",
    "driving_style",
    "charging_personality",
)
"""Fleet-register columns every feature build needs."""

DRIVETRAIN_EFFICIENCY: Final = 0.9
"""Nominal battery-to-wheel efficiency of the physics prior."""
REGEN_SHARE: Final = 0.6
"""Nominal share of downhill potential energy recovered, in the physics prior."""
MAX_PARKED_H: Final = PARKED_COLD_S / HOUR_S
"""Parking time after which cabin and tyres are fully soaked (longer gaps are capped)."""
DEFAULT_HUMIDITY: Final = 0.6
"""Relative humidity assumed for air density when the forecast has none."""
CONTROL_NAMES: Final[tuple[str, ...]] = tuple(c.name.lower() for c in JunctionControl)
"""Values of ``start_control`` / ``end_control`` (plus ``"unknown"`` without a network)."""
UNKNOWN_CONTROL: Final = "unknown"
_J_PER_M_TO_KWH_PER_KM: Final = 1.0 / 3600.0
_J_PER_KWH: Final = 3.6e6
_MIN_SPEED_KPH: Final = 3.0
_SEASONS: Final = np.array(
    ["winter"] * 2 + ["spring"] * 3 + ["summer"] * 3 + ["autumn"] * 3 + ["winter"]
)


def node_controls(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.Series:
    """Junction control a driver meets at each node, by ``node_id`` (:data:`CONTROL_NAMES`).

    The simulator's definition (:func:`evfleet.fleet.road_arrays.junction_controls`):
    the node's signal or stop-sign tag, else ``junction`` where three or more streets of
    the network's ``edges`` meet, else ``none``. Static: known from the map.
    """
    require_columns(nodes, ("node_id", "control"), "nodes")
    require_columns(edges, ("u", "v"), "network edges")
    codes = junction_controls(nodes, edges)
    return pd.Series(
        pd.Categorical.from_codes(codes, CONTROL_NAMES), index=nodes["node_id"].to_numpy()
    )


def stop_probability(highway: pd.Categorical, control: pd.Categorical) -> NDArray[np.float64]:
    """Odds that a driver on a road of class ``highway`` stops where it meets ``control``.

    The simulator's table (:data:`evfleet.physics.roads.STOP_PROBABILITY`); an
    ``"unknown"`` control counts as a plain junction.
    """
    classes = road_class_codes(np.asarray(highway.categories, dtype=str))
    names = [str(c) for c in control.categories]
    lookup = np.array(
        [
            CONTROL_NAMES.index(c) if c in CONTROL_NAMES else int(JunctionControl.JUNCTION)
            for c in names
        ],
        dtype=np.int64,
    )
    table = STOP_PROBABILITY[classes][:, lookup]
    return np.asarray(table[highway.codes, control.codes], dtype=np.float64)


def vehicle_attributes(fleet_info: pd.DataFrame) -> pd.DataFrame:
    """Per-vehicle inputs: the fleet register joined with the catalogue spec of its model.

    Returns a frame indexed by ``vehicle_id`` with the register columns plus ``cda_m2``,
    ``rolling_resistance``, ``heat_pump`` (0/1) and ``aux_w``.
    """
    require_columns(fleet_info, ("vehicle_id", *VEHICLE_COLUMNS), "fleet_info")
    if fleet_info["vehicle_id"].duplicated().any():
        msg = "fleet_info has duplicate vehicle_id values"
        raise InputDataError(msg)
    specs = {m: get_vehicle(str(m)) for m in pd.unique(fleet_info["model"])}
    out = fleet_info.set_index("vehicle_id")[list(VEHICLE_COLUMNS)].copy()
    model = out["model"].astype(str)
    out["cda_m2"] = model.map({m: s.cda_m2 for m, s in specs.items()}).astype(float)
    out["rolling_resistance"] = model.map(
        {m: s.rolling_resistance for m, s in specs.items()}
    ).astype(float)
    out["heat_pump"] = model.map(
        {m: float(s.hvac_kind == "heat_pump") for m, s in specs.items()}
    ).astype(float)
    out["aux_w"] = model.map({m: s.aux_w for m, s in specs.items()}).astype(float)
    return out


def expected_speed_kph(
    speed_limit_kph: ArrayLike, highway: pd.Categorical, hour_of_day: ArrayLike, weekend: ArrayLike
) -> NDArray[np.float64]:
    """Speed limit times the typical congestion of the road class at that hour.

    The factor is the simulator's own rule, :func:`evfleet.physics.roads.congestion_factor`
    (weekday rush hours, milder weekends). Realised speeds are never used, so the value is
    known when the trip is planned.
    """
    classes = road_class_codes(np.asarray(highway.categories, dtype=str))
    if np.ndim(hour_of_day) == 0 and np.ndim(weekend) == 0:
        # one context: evaluate the curve once per road class, then gather
        per_class = congestion_factor(np.full(classes.size, hour_of_day), classes, weekend)
        factor = per_class[highway.codes]
    else:
        factor = congestion_factor(hour_of_day, classes[highway.codes], weekend)
    limit = np.asarray(speed_limit_kph, dtype=np.float64)
    return np.asarray(np.maximum(limit * factor, _MIN_SPEED_KPH), dtype=np.float64)


def fractional_hour(when: pd.Series | pd.Timestamp) -> Any:
    """Clock time as hours since midnight (0 <= h < 24), for a timestamp or a series."""
    if isinstance(when, pd.Series):
        return ((when - when.dt.normalize()) / pd.Timedelta(hours=1)).to_numpy(dtype=np.float64)
    return float((when - when.normalize()) / pd.Timedelta(hours=1))


def calendar(when: ArrayLike) -> dict[str, Any]:
    """The ``when`` inputs of :func:`feature_frame` for local wall-clock time(s).

    ``hour_of_day`` (fractional), ``weekday`` (0 = Monday), ``month``, and the sun's
    ``solar_hour`` (standard time: daylight saving removed) and ``day_of_year``. A scalar
    time gives scalars (one prediction context), an array gives arrays.
    """
    t = np.asarray(when, dtype="datetime64[us]")
    index = pd.DatetimeIndex(t.reshape(-1))
    hour = (index - index.normalize()) / pd.Timedelta(hours=1)
    solar_hour, day_of_year = standard_time(t)
    out = {
        "hour_of_day": np.asarray(hour, dtype=np.float64),
        "weekday": np.asarray(index.weekday, dtype=np.int64),
        "month": np.asarray(index.month, dtype=np.int64),
    }
    if t.ndim == 0:
        return {**{k: v[0] for k, v in out.items()}, "solar_hour": float(solar_hour),
                "day_of_year": int(day_of_year)}  # fmt: skip
    return {**out, "solar_hour": solar_hour, "day_of_year": day_of_year}


def _season(month: ArrayLike) -> NDArray[np.str_]:
    return np.asarray(_SEASONS[np.asarray(month, dtype=np.int64) - 1])


def _on_road_hvac_w(
    cols: dict[str, Any], models: pd.Categorical, on_edge_s: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Mean cabin climate power over each row's expected time on the edge, W.

    The same cabin model the simulator drives with (:func:`on_road_hvac_power_w`): the
    steady heat balance with occupants and sun, plus the warm-up of a cabin that soaked
    towards ambient for ``parked_h`` and has been driving for ``trip_elapsed_min``. It is
    evaluated once per vehicle model (heat pump or resistive heater, largest power).
    """
    n = cols["length_m"].shape[0]
    temp = np.broadcast_to(cols["temp_c"], (n,))
    sun = np.broadcast_to(
        solar_irradiance_w_m2(
            cols["solar_hour"], raining=cols["is_raining"] > 0, day_of_year=cols["day_of_year"]
        ),
        (n,),
    )
    elapsed = np.broadcast_to(cols["trip_elapsed_min"] * MINUTE_S, (n,))
    parked = np.broadcast_to(cols["parked_h"] * HOUR_S, (n,))
    out = np.empty(n, dtype=np.float64)
    for code, name in enumerate(models.categories):
        rows = models.codes == code
        out[rows] = on_road_hvac_power_w(
            get_vehicle(str(name)),
            temp[rows],
            solar_w_m2=sun[rows],
            trip_time_s=elapsed[rows],
            duration_s=on_edge_s[rows],
            parked_s=parked[rows],
        )
    return out


def _boundary_speed_sq(
    own_mps: NDArray[np.float64],
    other_mps: NDArray[np.float64],
    turn_deg: NDArray[np.float64],
    turnable: NDArray[np.bool_],
    stop_prob: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Expected squared speed where an edge meets its route neighbour, (m/s)^2.

    The simulator's rule: standstill with the stop odds, else the slower of the two
    edges' speeds, capped at the turn speed for a sharp turn at a junction (``turnable``).
    """
    cap = np.where((turn_deg >= TURN_MIN_DEG) & turnable, TURN_SPEED_MPS, np.inf)
    speed = np.minimum(np.minimum(own_mps, other_mps), cap)
    return np.asarray((1.0 - stop_prob) * speed**2, dtype=np.float64)


def _inertia_prior(cols: dict[str, Any]) -> NDArray[Any]:
    """Expected kinetic energy per km spent speeding up on the edge minus what braking
    at its end regenerates, kWh/km: from the expected entry and exit speeds (route
    neighbours' speeds, stop odds and turns at both ends) to the edge's expected speed,
    with the nominal drivetrain and regeneration efficiencies. Known once the route is
    planned; nothing is fitted.
    """
    own = cols["expected_speed_kph"] / 3.6
    v_in_sq = _boundary_speed_sq(
        own,
        cols["prev_expected_speed_kph"] / 3.6,
        cols["prev_turn_deg"],
        cols["start_turnable"],
        cols["start_stop_prob"],
    )
    v_out_sq = _boundary_speed_sq(
        own,
        cols["next_expected_speed_kph"] / 3.6,
        cols["turn_deg"],
        cols["end_turnable"],
        cols["end_stop_prob"],
    )
    peak_sq = own**2
    half_mass = 0.5 * cols["mass_kg"]
    kwh = (
        half_mass
        * (
            np.maximum(peak_sq - v_in_sq, 0.0) / DRIVETRAIN_EFFICIENCY
            - REGEN_SHARE * DRIVETRAIN_EFFICIENCY * np.maximum(peak_sq - v_out_sq, 0.0)
        )
        / _J_PER_KWH
    )
    return np.asarray(kwh / (np.maximum(cols["length_m"], 1.0) / 1000.0), dtype=np.float64)


def _physics_priors(cols: dict[str, Any], models: pd.Categorical) -> dict[str, NDArray[np.float64]]:
    """Per-km energy terms of a fixed-coefficient on-road model at the expected speed.

    Rolling resistance carries the on-road factors the simulator's physics uses (pavement,
    tyre pressure, wet road, tyres cold after ``parked_h`` warming up over the trip),
    auxiliaries the on-road extra load, and climate control the cabin model of
    :func:`_on_road_hvac_w`; drivetrain and regeneration use nominal efficiencies. Every
    input is known before the edge is driven; nothing is fitted.
    """
    secant = np.sqrt(1.0 + cols["grade"] ** 2)
    cos_theta, sin_theta = 1.0 / secant, cols["grade"] / secant
    mass = cols["mass_kg"]
    v_mps = cols["expected_speed_kph"] / KPH_PER_MPS
    air_mps = v_mps + cols["headwind_kph"] / KPH_PER_MPS
    h_per_km = cols["expected_time_s_per_km"] / HOUR_S
    on_edge_s = cols["expected_time_s_per_km"] * cols["length_m"] / M_PER_KM
    crr_factor = on_road_crr_factor(
        wet_road=cols["is_raining"],
        trip_time_s=cols["trip_elapsed_min"] * MINUTE_S,
        duration_s=on_edge_s,
        parked_s=cols["parked_h"] * HOUR_S,
    )
    rolling = mass * GRAVITY_MPS2 * cols["rolling_resistance"] * crr_factor * cos_theta
    rolling = rolling * _J_PER_M_TO_KWH_PER_KM
    grade = mass * GRAVITY_MPS2 * sin_theta * _J_PER_M_TO_KWH_PER_KM
    aero = 0.5 * cols["air_density_kg_m3"] * cols["cda_m2"] * air_mps * np.abs(air_mps)
    aero = aero * _J_PER_M_TO_KWH_PER_KM
    aux = (cols["aux_w"] + ON_ROAD_AUX_EXTRA_W) / W_PER_KW * h_per_km
    hvac = _on_road_hvac_w(cols, models, on_edge_s) / W_PER_KW * h_per_km
    traction = rolling + np.maximum(grade, 0.0) + np.maximum(aero, 0.0)
    prior = (
        traction / DRIVETRAIN_EFFICIENCY
        + REGEN_SHARE * DRIVETRAIN_EFFICIENCY * np.minimum(grade, 0.0)
        + aux
        + hvac
    )
    return {
        "rolling_prior_kwh_per_km": rolling,
        "grade_prior_kwh_per_km": grade,
        "aero_prior_kwh_per_km": aero,
        "aux_prior_kwh_per_km": aux,
        "hvac_prior_kwh_per_km": hvac,
        "physics_prior_kwh_per_km": prior,
    }


ROUTE_FEATURES: Final[tuple[str, ...]] = (
    "trip_elapsed_min",
    "prev_expected_speed_kph",
    "next_expected_speed_kph",
    "turn_deg",
    "prev_turn_deg",
    "start_stop_prob",
)
"""Features that depend on the planned route around an edge (see :func:`route_context`)."""


def route_context(
    edges: pd.DataFrame,
    hour_of_day: ArrayLike,
    weekend: ArrayLike,
    trip: ArrayLike | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Route-order features of edges in driving order: what a planned route tells.

    ``trip`` labels the trip of each row (``None``: all rows are one route); rows of a
    trip must be in driving order. Returns :data:`ROUTE_FEATURES`:

    * ``trip_elapsed_min``: expected minutes driven before the edge (summed expected
      travel times of the route's earlier edges; realised durations are never used);
    * ``prev_expected_speed_kph`` / ``next_expected_speed_kph``: expected speed of the
      route's previous / next edge, 0 at the route's start / end (standstill): the speed
      the vehicle accelerates from and slows to;
    * ``turn_deg``: heading change from the edge onto the next edge (0..180), 0 at the end;
    * ``prev_turn_deg``: heading change from the previous edge onto the edge, 0 at the start;
    * ``start_stop_prob``: odds that the vehicle enters the edge from standstill: 1 at the
      route's start, else the odds that a driver on the previous edge's road class stops
      at the edge's start node (its ``start_control`` column, ``"unknown"`` without it;
      see :func:`stop_probability`).
    """
    n = len(edges)
    highway = _category(edges["highway"], n)
    limit = edges["speed_limit_kph"].to_numpy(dtype=np.float64)
    speed = expected_speed_kph(limit, highway, hour_of_day, weekend)
    minutes = edges["length_m"].to_numpy(dtype=np.float64) / M_PER_KM / speed * 60.0
    heading = edge_heading_deg(edges)
    labels = np.zeros(n, dtype=np.int64) if trip is None else pd.factorize(np.asarray(trip))[0]
    first = np.ones(n, dtype=bool)
    first[1:] = labels[1:] != labels[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = first[1:]
    if trip is not None and int(first.sum()) != int(labels.max(initial=-1)) + 1:
        msg = "route_context needs the rows of each trip to be contiguous and in driving order"
        raise InputDataError(msg)
    running = pd.Series(minutes).groupby(labels, sort=False).cumsum().to_numpy()
    prev_speed = np.where(first, 0.0, np.roll(speed, 1))
    next_speed = np.where(last, 0.0, np.roll(speed, -1))
    turn = trip_turns_deg(heading, np.append(np.flatnonzero(first), n))
    prev_highway = pd.Categorical.from_codes(np.roll(highway.codes, 1), highway.categories)
    start_control = _category(edges.get("start_control", UNKNOWN_CONTROL), n)
    start_stop = np.where(first, 1.0, stop_probability(prev_highway, start_control))
    return {
        "trip_elapsed_min": np.asarray(running - minutes, dtype=np.float64),
        "prev_expected_speed_kph": np.asarray(prev_speed, dtype=np.float64),
        "next_expected_speed_kph": np.asarray(next_speed, dtype=np.float64),
        "turn_deg": turn,
        "prev_turn_deg": np.asarray(np.where(first, 0.0, np.roll(turn, 1)), dtype=np.float64),
        "start_stop_prob": np.asarray(start_stop, dtype=np.float64),
    }


def planned_route(
    edges: pd.DataFrame, departure: ArrayLike, trip: ArrayLike | None = None
) -> dict[str, NDArray[Any]]:
    """Route features and the planned clock time of edges in driving order.

    The one definition of planned time, used at training and at inference: an edge's
    ``planned_time`` is its trip's departure plus the *expected* durations of the route's
    earlier edges (``trip_elapsed_min`` of :func:`route_context`, expected speeds at the
    departure hour); realised durations are never used.

    Parameters
    ----------
    edges
        Edge rows in driving order (see :func:`route_context`).
    departure
        Departure (local wall clock): a scalar for one route, or one value per row (the
        departure of the row's trip).
    trip
        Trip label of each row (``None``: one route).

    Returns
    -------
    dict
        :data:`ROUTE_FEATURES` and ``planned_time`` (``datetime64[us]``) per row.
    """
    n = len(edges)
    dep = np.broadcast_to(np.asarray(departure, dtype="datetime64[us]"), (n,))
    at_departure = calendar(dep)
    context = route_context(edges, at_departure["hour_of_day"], at_departure["weekday"] >= 5, trip)
    elapsed_us = np.round(context["trip_elapsed_min"] * 6e7).astype(np.int64)
    return {**context, "planned_time": dep + elapsed_us.astype("timedelta64[us]")}


def edge_heading_deg(edges: pd.DataFrame) -> NDArray[np.float64]:
    """Compass heading of each edge: its ``heading_deg`` column, else from its end points."""
    if "heading_deg" in edges.columns:
        return np.asarray(edges["heading_deg"].to_numpy(dtype=np.float64))
    return bearing_deg(
        edges["start_lat"].to_numpy(dtype=np.float64),
        edges["start_lon"].to_numpy(dtype=np.float64),
        edges["end_lat"].to_numpy(dtype=np.float64),
        edges["end_lon"].to_numpy(dtype=np.float64),
    )


def _category(values: Any, n: int) -> pd.Categorical:
    """Values as a string-category array; a scalar is broadcast without a per-row cost."""
    if np.ndim(values) == 0:
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[str(values)])
    cat = pd.Categorical(values)
    return cat.rename_categories([str(c) for c in cat.categories])


def _broadcast(value: Any, n: int) -> NDArray[Any]:
    """``value`` as an array of ``n`` rows; a scalar stays 0-d (numpy broadcasts it for free)."""
    arr = np.asarray(value)
    if arr.ndim and arr.shape != (n,):
        msg = f"context arrays must have one value per edge ({n}), got shape {arr.shape}"
        raise InputDataError(msg)
    return arr


def edge_columns(edges: pd.DataFrame) -> dict[str, Any]:
    """The context-free inputs of :func:`feature_frame`: one array per column of ``edges``.

    Geometry (lengths, grades, elevations, headings), road class and junction controls
    (pandas categoricals), route-position flags and the stop odds of a through edge
    (:func:`stop_probability` of its own class at both ends; 1 at a route's start / end).
    They depend on the edges only, so a caller predicting many contexts over one network
    computes them once (:func:`evfleet.features.network.network_features` caches them).
    """
    require_columns(edges, EDGE_COLUMNS, "edge table")
    n = len(edges)
    cols: dict[str, Any] = {}
    for name in ("length_m", "grade", "speed_limit_kph", "start_lat", "start_lon"):
        cols[name] = edges[name].to_numpy(dtype=np.float64)
    start_elev = edges["start_elevation_m"].to_numpy(dtype=np.float64)
    cols["start_elevation_m"] = start_elev
    cols["elevation_change_m"] = edges["end_elevation_m"].to_numpy(dtype=np.float64) - start_elev
    heading_deg = edge_heading_deg(edges)
    heading = np.radians(heading_deg)
    cols["heading_deg"] = heading_deg
    cols["heading_sin"], cols["heading_cos"] = np.sin(heading), np.cos(heading)
    for name in ("is_trip_start", "is_trip_end"):
        flag = edges[name].to_numpy(dtype=np.float64) if name in edges.columns else 0.0
        cols[name] = _broadcast(flag, n)
    highway = _category(edges["highway"], n)
    cols["highway"] = highway
    for name in ("start_control", "end_control"):
        cols[name] = _category(edges[name] if name in edges.columns else UNKNOWN_CONTROL, n)
    cols["start_stop_prob"] = np.where(
        cols["is_trip_start"] > 0, 1.0, stop_probability(highway, cols["start_control"])
    )
    cols["end_stop_prob"] = np.where(
        cols["is_trip_end"] > 0, 1.0, stop_probability(highway, cols["end_control"])
    )
    for end in ("start", "end"):
        control: pd.Categorical = cols[f"{end}_control"]
        none = np.asarray(control.categories == CONTROL_NAMES[JunctionControl.NONE])
        cols[f"{end}_turnable"] = ~none[control.codes] if none.any() else np.ones(n, dtype=bool)
    cols["road_class"] = road_class_codes(np.asarray(highway.categories, dtype=str))[highway.codes]
    return cols


def feature_frame(
    edges: pd.DataFrame,
    *,
    when: Mapping[str, ArrayLike],
    weather: Mapping[str, ArrayLike],
    vehicle: pd.DataFrame,
    history: Mapping[str, ArrayLike],
    trip: Mapping[str, ArrayLike],
    static: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Model inputs for rows of ``edges`` under the given context.

    Parameters
    ----------
    edges
        One row per edge (traversal) with :data:`EDGE_COLUMNS`; optional ``start_control``
        and ``end_control`` columns name the junction control at the start and end node,
        optional ``is_trip_start`` / ``is_trip_end`` flags mark the first / last edge of a
        planned route (default 0: a through edge), and an optional ``heading_deg`` column
        saves recomputing headings from coordinates.
    when
        ``hour_of_day`` (fractional), ``weekday`` (0 = Monday), ``month`` (1..12),
        ``solar_hour`` and ``day_of_year``, each an array aligned with ``edges`` or a
        scalar: :func:`calendar` of the planned clock time (:func:`planned_route`).
    weather
        ``temp_c``, ``headwind_kph``, ``crosswind_kph``, ``humidity_pct`` and
        ``is_raining``, arrays or scalars.
    vehicle
        Rows of :func:`vehicle_attributes` aligned with ``edges``, or one row for all.
    history
        :data:`evfleet.features.catalog.HISTORY_FEATURES`, arrays or scalars (NaN when the
        vehicle has no earlier day).
    trip
        ``parked_h`` (parking time before the trip, capped at :data:`MAX_PARKED_H`) and
        ``trip_elapsed_min`` (expected minutes driven when the edge starts), arrays or
        scalars; optionally the other :data:`ROUTE_FEATURES` of a planned route (see
        :func:`route_context`). Without them an edge is a through edge: the previous and
        next edges run at its own expected speed and there is no turn.
    static
        :func:`edge_columns` of ``edges``, when the caller keeps them (they do not depend
        on the context); computed here when ``None``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FEATURES` (categoricals as pandas ``category``), index of ``edges``.
    """
    n = len(edges)
    cols: dict[str, Any] = dict(edge_columns(edges) if static is None else static)
    if len(cols["length_m"]) != n:
        msg = f"static edge columns have {len(cols['length_m'])} rows, the edges {n}"
        raise InputDataError(msg)
    highway: pd.Categorical = cols["highway"]

    hour = _broadcast(when["hour_of_day"], n).astype(np.float64)
    weekday = _broadcast(when["weekday"], n).astype(np.int64)
    cols["hour_of_day"] = hour
    cols["solar_hour"] = _broadcast(when["solar_hour"], n).astype(np.float64)
    cols["day_of_year"] = _broadcast(when["day_of_year"], n).astype(np.float64)
    cols["weekday"] = weekday.astype(np.float64)
    cols["is_weekend"] = (weekday >= 5).astype(np.float64)
    season = _season(when["month"])
    cols["expected_speed_kph"] = expected_speed_kph(
        cols["speed_limit_kph"], highway, hour, weekday >= 5
    )
    cols["expected_time_s_per_km"] = HOUR_S / cols["expected_speed_kph"]

    for name in ("temp_c", "headwind_kph", "crosswind_kph", "humidity_pct"):
        cols[name] = _broadcast(weather[name], n).astype(np.float64)
    cols["is_raining"] = _broadcast(weather["is_raining"], n).astype(np.float64)
    rh = np.where(np.isfinite(cols["humidity_pct"]), cols["humidity_pct"] / 100.0, DEFAULT_HUMIDITY)
    cols["air_density_kg_m3"] = air_density_kg_m3(
        cols["temp_c"], relative_humidity=np.clip(rh, 0, 1)
    )

    if len(vehicle) not in (1, n):
        msg = f"vehicle rows ({len(vehicle)}) must be 1 or one per edge ({n})"
        raise InputDataError(msg)
    one = len(vehicle) == 1
    for name in ("mass_kg", "battery_kwh", "cda_m2", "rolling_resistance", "heat_pump", "aux_w"):
        values = vehicle[name].to_numpy(dtype=np.float64)
        cols[name] = _broadcast(values[0], n) if one else values
    parked = _broadcast(trip["parked_h"], n).astype(np.float64)
    cols["parked_h"] = np.clip(parked, 0.0, MAX_PARKED_H)
    cols["trip_elapsed_min"] = np.maximum(_broadcast(trip["trip_elapsed_min"], n), 0.0)
    own = cols["expected_speed_kph"]
    for name in ("prev_expected_speed_kph", "next_expected_speed_kph"):
        cols[name] = _broadcast(trip[name], n).astype(np.float64) if name in trip else own
    cols["turn_deg"] = _broadcast(trip.get("turn_deg", 0.0), n).astype(np.float64)
    cols["prev_turn_deg"] = _broadcast(trip.get("prev_turn_deg", 0.0), n).astype(np.float64)
    if "start_stop_prob" in trip:
        cols["start_stop_prob"] = _broadcast(trip["start_stop_prob"], n).astype(np.float64)
    cols["inertia_prior_kwh_per_km"] = _inertia_prior(cols)
    models = _category(vehicle["model"].iloc[0] if one else vehicle["model"], n)
    cols.update(_physics_priors(cols, models))
    for name in HISTORY_FEATURES:
        cols[name] = _broadcast(history[name], n).astype(np.float64)

    cols["season"] = _category(season, n)
    cols["model"] = models
    for name in ("driver_profile", "driving_style", "charging_personality"):
        cols[name] = _category(vehicle[name].iloc[0] if one else vehicle[name], n)
    numeric = np.empty((n, len(NUMERIC_FEATURES)), dtype=np.float64, order="F")
    for j, name in enumerate(NUMERIC_FEATURES):
        numeric[:, j] = cols[name]
    frame = pd.DataFrame(numeric, columns=list(NUMERIC_FEATURES), index=edges.index, copy=False)
    cats = pd.DataFrame({name: cols[name] for name in CATEGORICAL_FEATURES}, index=edges.index)
    return pd.concat([cats, frame], axis=1)
