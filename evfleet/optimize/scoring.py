"""Score driven routes with the simulator's physics under common random numbers.

Baseline and optimised plans of a trip are both driven by :func:`evfleet.fleet.trips.drive`
(the simulator's speed profiles, weather per edge and hour, on-road energy). The profile's
random draws (cruise spread, stops, dwell) are not taken from one stream per vehicle:
each edge traversal gets its four uniforms from a counter-based hash of
``(seed, vehicle, trip, edge)``, so the same edge of the same trip sees the same draws
whichever route uses it (common random numbers). Differences between the two plans are
then differences of routes and charging, not of luck.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from evfleet.fleet.road_arrays import NetArrays
from evfleet.fleet.trips import drive
from evfleet.fleet.weather import WeatherLookup
from evfleet.vehicles import VehicleSpec

_GOLDEN: Final = np.uint64(0x9E3779B97F4A7C15)
_MIX1: Final = np.uint64(0xBF58476D1CE4E5B9)
_MIX2: Final = np.uint64(0x94D049BB133111EB)
_TO_UNIT: Final = 2.0**-53
N_DRAWS: Final = 4
"""Uniforms per edge traversal that :func:`evfleet.physics.generate_profile` uses."""


def _splitmix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


def crn_draws(
    seed: int, vehicle: int, trip: NDArray[np.int64], edge: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Uniform draws ``(4, n)`` of edge traversals keyed on (seed, vehicle, trip, edge)."""
    t = np.asarray(trip).astype(np.uint64)
    e = np.asarray(edge).astype(np.uint64)
    with np.errstate(over="ignore"):
        key = _splitmix(np.full(e.shape, np.uint64(seed)) + np.uint64(vehicle) * _MIX1)
        key = _splitmix(key ^ (t * _MIX2))
        key = _splitmix(key ^ e)
        rows = [_splitmix(key + np.uint64(k) * _GOLDEN) for k in range(N_DRAWS)]
    return np.stack([(r >> np.uint64(11)).astype(np.float64) * _TO_UNIT for r in rows])


@dataclass(frozen=True)
class Scored:
    """Physics results per driven leg: battery energy, time and distance."""

    energy_kwh: NDArray[np.float64]
    duration_s: NDArray[np.float64]
    distance_km: NDArray[np.float64]


def score_legs(
    net: NetArrays,
    weather: WeatherLookup,
    spec: VehicleSpec,
    *,
    style: str,
    start_date: dt.date,
    legs: list[NDArray[np.int64]],
    depart_s: NDArray[np.float64],
    trip_key: NDArray[np.int64],
    seed: int,
    vehicle: int,
    parked_s: float,
) -> Scored:
    """Drive ``legs`` (edge indices, one per leg) with common random numbers.

    ``trip_key[k]`` names the trip leg ``k`` belongs to (the key of its draws); legs of
    zero edges score zero.
    """
    n = len(legs)
    sizes = np.array([leg.size for leg in legs], dtype=np.int64)
    out_e, out_t, out_d = np.zeros(n), np.zeros(n), np.zeros(n)
    keep = np.flatnonzero(sizes > 0)
    if keep.size == 0:
        return Scored(out_e, out_t, out_d)
    routes = [np.asarray(legs[k], dtype=np.int64) for k in keep]
    edge = np.concatenate(routes)
    trip = np.repeat(np.asarray(trip_key, dtype=np.int64)[keep], sizes[keep])
    result = drive(
        net,
        weather,
        spec,
        style=style,
        routes=routes,
        depart_s=np.asarray(depart_s, dtype=float)[keep],
        rng=np.random.default_rng(0),
        start_date=start_date,
        parked_s=parked_s,
        draws=crn_draws(seed, vehicle, trip, edge),
    )
    starts = result.offsets[:-1]
    out_e[keep] = result.trip_energy_kwh()
    out_t[keep] = np.add.reduceat(result.duration_s, starts)
    out_d[keep] = np.add.reduceat(net.length_m[edge], starts) / 1000.0
    return Scored(out_e, out_t, out_d)
