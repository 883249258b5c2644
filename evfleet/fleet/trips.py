"""Driving trips: speed profiles, weather and physics for batches of routed trips.

:func:`drive` takes any number of routed trips of one vehicle (edge indices and departure
times) and returns per-edge results: start time, duration, speeds, stops, weather and the
battery energy split into components. It makes one profile call and one physics call per
batch, gathering edge attributes by fancy indexing (no per-edge Python loops).

Speed profiles are power-limited for the vehicle under the worst road load of the period
(:func:`road_load_bound`), so no edge needs more than the motor / battery can deliver.
Each edge traversal uses the weather of its own zone (the zone of its start node) and of
the hour it starts in; rush-hour congestion uses the free-flow clock of the trip (weekend
congestion is milder). Energy is computed under on-road conditions (sun, wet roads, cabin
and tyre warm-up since departure; see :mod:`evfleet.physics.onroad`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np

from evfleet.fleet.road_arrays import NetArrays
from evfleet.fleet.weather import WeatherLookup
from evfleet.physics import (
    PARKED_COLD_S,
    Conditions,
    EdgeArrays,
    RoadLoadBound,
    generate_profile,
    solar_irradiance_at,
    trace_energy,
    trip_congestion,
    trip_turns_deg,
)
from evfleet.units import KPH_PER_MPS
from evfleet.vehicles import VehicleSpec

logger = logging.getLogger(__name__)

_MAX_WIND_MPS = 59.0
WET_ROAD_DRYING_S = 3_600.0
"""Roads stay wet about an hour after the rain stops."""


@dataclass(frozen=True)
class Driven:
    """Per-edge results of a batch of trips (edges of trip ``k``: ``offsets[k]:offsets[k+1]``).

    Attributes
    ----------
    edge
        Edge index (into :class:`NetArrays`) of each traversal.
    offsets
        Trip boundaries in the edge arrays.
    start_s, duration_s
        Start time (s since the period start) and time on the edge (including stops).
    mean_speed_kph, max_speed_kph, n_stops
        Kinematics per edge.
    components_kwh
        Battery energy per component (n_edges, 8), columns as
        :data:`evfleet.schema.ENERGY_COMPONENTS`.
    max_power_kw
        Peak motor shaft (traction) power per edge, kW.
    temp_c, humidity_pct, headwind_kph, crosswind_kph
        Weather per edge.
    """

    edge: np.ndarray
    offsets: np.ndarray
    start_s: np.ndarray
    duration_s: np.ndarray
    mean_speed_kph: np.ndarray
    max_speed_kph: np.ndarray
    n_stops: np.ndarray
    components_kwh: np.ndarray
    max_power_kw: np.ndarray
    temp_c: np.ndarray
    headwind_kph: np.ndarray
    crosswind_kph: np.ndarray

    @property
    def n_trips(self) -> int:
        """Number of trips in the batch."""
        return int(self.offsets.size - 1)

    def trip_energy_kwh(self) -> np.ndarray:
        """Net battery energy per trip, kWh."""
        return np.add.reduceat(self.components_kwh.sum(axis=1), self.offsets[:-1])

    def end_s(self, k: int) -> float:
        """Arrival time of trip ``k``."""
        last = self.offsets[k + 1] - 1
        return float(self.start_s[last] + self.duration_s[last])


def local_clock(start_date: dt.date, t_s: np.ndarray) -> np.ndarray:
    """Seconds since midnight of ``start_date`` as local wall-clock ``datetime64[us]``."""
    micros = np.round(np.asarray(t_s, dtype=float) * 1e6).astype(np.int64)
    return np.datetime64(start_date, "us") + micros.astype("timedelta64[us]")


def _edge_starts(duration_s: np.ndarray, offsets: np.ndarray, depart_s: np.ndarray) -> np.ndarray:
    trip = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    cum = np.cumsum(duration_s) - duration_s
    return depart_s[trip] + cum - (cum[offsets[:-1]])[trip]


def _road_conditions(
    weather: WeatherLookup,
    start_date: dt.date,
    timing: tuple[np.ndarray, np.ndarray],
    offsets: np.ndarray,
    depart: np.ndarray,
    zone: np.ndarray,
    first_parked_s: float,
) -> Conditions:
    """On-road conditions per edge: weather, sun, wet road, time since departure, parking.

    A road is wet in a rain hour and the hour after. A trip's cabin and tyres start from the
    time parked since the previous trip of the batch; the first trip of a batch has parked
    ``first_parked_s`` (the vehicle's real parking time before it). ``timing`` holds each
    edge's start (s since midnight of ``start_date``, local wall clock) and duration.
    """
    start, duration = timing
    trip = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    arrive = start[offsets[1:] - 1] + duration[offsets[1:] - 1]
    parked = np.concatenate(([first_parked_s], np.maximum(depart[1:] - arrive[:-1], 0.0)))
    rain = weather.get("precip_mm", start, zone) > 0.0
    wet = rain | (weather.get("precip_mm", start - WET_ROAD_DRYING_S, zone) > 0.0)
    return Conditions(
        temp_c=weather.get("temp_c", start, zone),
        relative_humidity=np.clip(weather.get("humidity_pct", start, zone) / 100.0, 0.0, 1.0),
        on_road=True,
        solar_w_m2=solar_irradiance_at(local_clock(start_date, start), raining=rain),
        wet_road=wet.astype(np.float64),
        trip_time_s=np.maximum(start - depart[trip], 0.0),
        parked_s=parked[trip],
    )


def road_load_bound(weather: WeatherLookup) -> RoadLoadBound:
    """Worst road load of the period: its coldest air and strongest wind, as a head wind."""
    min_temp_c = weather.extremes("temp_c")[0]
    max_wind_mps = min(weather.extremes("wind_kph")[1] / KPH_PER_MPS, _MAX_WIND_MPS)
    return RoadLoadBound(min_temp_c=min_temp_c, max_wind_mps=max_wind_mps, on_road=True)


def drive(
    net: NetArrays,
    weather: WeatherLookup,
    spec: VehicleSpec,
    *,
    style: str,
    routes: list[np.ndarray],
    depart_s: np.ndarray,
    rng: np.random.Generator,
    start_date: dt.date,
    parked_s: float = PARKED_COLD_S,
    draws: np.ndarray | None = None,
) -> Driven:
    """Profile, weather and energy of routed trips of one vehicle.

    Parameters
    ----------
    net
        Edge and node arrays of the network.
    weather
        Hour x zone weather lookup.
    spec
        The vehicle.
    style
        Driving style (``eco``, ``normal``, ``aggressive``).
    routes
        Edge indices of each trip (each non-empty).
    depart_s
        Departure time of each trip, s since the period start.
    rng
        The vehicle's generator (cruise spread, stops, dwell at signals).
    start_date
        The period's first day: weekend congestion and the sun's path by date and
        daylight saving time.
    parked_s
        Time the vehicle has been parked before the first trip, s (cabin and tyres soak
        towards ambient; the default is fully soaked). Later trips of the batch park
        from their predecessor's arrival to their departure.
    draws
        Uniform draws ``(4, n_edges)`` replacing ``rng`` (common random numbers, see
        :func:`evfleet.physics.generate_profile`).

    Returns
    -------
    Driven
        Per-edge results of all trips.
    """
    depart = np.asarray(depart_s, dtype=float)
    offsets = np.concatenate([[0], np.cumsum([r.size for r in routes])]).astype(np.int64)
    edge = np.concatenate(routes).astype(np.int64)
    edges = EdgeArrays(
        length_m=net.length_m[edge],
        speed_limit_kph=net.speed_kph[edge],
        road_class=net.road_class[edge],
        control=net.control[edge],
        turn_deg=trip_turns_deg(net.bearing_deg[edge], offsets),
        grade=net.grade[edge],
    )
    trace = generate_profile(
        edges,
        style=style,
        congestion=trip_congestion(
            net.travel_time_s[edge], net.road_class[edge], offsets, depart, start_date.weekday()
        ),
        trip_offsets=offsets,
        rng=rng,
        vehicle=spec,
        road_load=road_load_bound(weather),
        draws=draws,
    )
    duration = trace.edge_duration_s
    start = _edge_starts(duration, offsets, depart)
    zone = net.node_zone[net.u_pos[edge]]
    temp = weather.get("temp_c", start, zone)
    wind = weather.get("wind_kph", start, zone)
    angle = np.radians(weather.get("wind_dir_deg", start, zone) - net.bearing_deg[edge])
    headwind = wind * np.cos(angle)
    energy = trace_energy(
        spec,
        trace,
        grade=net.grade[edge],
        headwind_mps=np.clip(headwind / KPH_PER_MPS, -_MAX_WIND_MPS, _MAX_WIND_MPS),
        conditions=_road_conditions(
            weather, start_date, (start, duration), offsets, depart, zone, max(float(parked_s), 0.0)
        ),
    )
    mean_speed_kph = edges.length_m / np.maximum(duration, 1e-9) * KPH_PER_MPS
    return Driven(
        edge=edge,
        offsets=offsets,
        start_s=start,
        duration_s=duration,
        mean_speed_kph=mean_speed_kph,
        # At constant speed the two agree up to rounding: keep max >= mean exactly.
        max_speed_kph=np.maximum(trace.edge_max_speed_mps * KPH_PER_MPS, mean_speed_kph),
        n_stops=trace.edge_stops.astype(np.int64),
        components_kwh=energy.components_kwh,
        max_power_kw=energy.max_power_kw,
        temp_c=temp,
        headwind_kph=headwind,
        crosswind_kph=wind * np.sin(angle),
    )
