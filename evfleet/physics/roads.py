"""Road classes, junction controls and traffic: what a driver meets along the edges.

OSM ``highway`` tags fold into seven :class:`RoadClass` codes; each edge ends at a
:class:`JunctionControl`. The tables give, by class and control, the odds of stopping,
of slowing for a turn, and the dwell at a stop; :func:`time_of_day_congestion` gives the
weekday rush-hour speed factor, :func:`congestion_factor` adds the milder weekend and
:func:`trip_congestion` applies both along trips (the simulator, the router's replay and
the model's expected-speed prior all call these, so they cannot drift apart). All numbers
are round, plausible urban values (signals red about 40-50 % of the time on arterials,
turns at ~25 km/h).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evfleet.errors import InputDataError
from evfleet.network.geo import heading_change_deg
from evfleet.units import DAY_S, HOUR_S


class RoadClass(IntEnum):
    """Road class codes (OSM ``highway`` values folded into seven groups)."""

    MOTORWAY = 0
    TRUNK = 1
    PRIMARY = 2
    SECONDARY = 3
    TERTIARY = 4
    RESIDENTIAL = 5
    MINOR = 6
    """unclassified, service, living_street and any other drivable way."""

    @classmethod
    def from_highway(cls, highway: str) -> RoadClass:
        """Map an OSM ``highway`` tag (``*_link`` folds into its road) to a class."""
        key = highway.strip().lower().removesuffix("_link")
        return _HIGHWAY_CLASSES.get(key, cls.MINOR)


_HIGHWAY_CLASSES: Final = {
    "motorway": RoadClass.MOTORWAY,
    "trunk": RoadClass.TRUNK,
    "primary": RoadClass.PRIMARY,
    "secondary": RoadClass.SECONDARY,
    "tertiary": RoadClass.TERTIARY,
    "residential": RoadClass.RESIDENTIAL,
}


class JunctionControl(IntEnum):
    """What a driver meets at the end of an edge."""

    NONE = 0
    """No junction (the edge continues): never stop or turn."""
    JUNCTION = 1
    """A junction of unknown control: class-dependent odds of stopping or turning."""
    SIGNAL = 2
    """Traffic signal: stop on red (class-dependent odds), long wait."""
    STOP_SIGN = 3
    """Stop sign: always stop briefly."""


# Odds of stopping at the end of an edge, by [road class, junction control].
STOP_PROBABILITY: Final = np.array(
    [  # none  junction signal stop_sign
        [0.0, 0.00, 0.30, 1.0],  # motorway
        [0.0, 0.05, 0.35, 1.0],  # trunk
        [0.0, 0.20, 0.40, 1.0],  # primary
        [0.0, 0.20, 0.45, 1.0],  # secondary
        [0.0, 0.25, 0.50, 1.0],  # tertiary
        [0.0, 0.15, 0.50, 1.0],  # residential
        [0.0, 0.15, 0.50, 1.0],  # minor
    ]
)
# Odds of slowing to TURN_SPEED_MPS at a junction passed without stopping, by road class.
TURN_PROBABILITY: Final = np.array([0.0, 0.10, 0.20, 0.25, 0.30, 0.35, 0.35])
TURN_SPEED_MPS: Final = 7.0
# Dwell range (s) at a stop, by junction control (none, junction, signal, stop sign).
DWELL_RANGE_S: Final = np.array([[0.0, 0.0], [2.0, 15.0], [5.0, 50.0], [1.0, 4.0]])


WEEKEND_CONGESTION_SHARE: Final = 0.35
"""Share of the weekday rush-hour slowdown seen at weekends."""

# Depth of the rush-hour speed drop by road class (motorways suffer most).
_CONGESTION_DEPTH: Final = np.array([0.45, 0.40, 0.30, 0.25, 0.15, 0.05, 0.05])


def road_class_codes(highway: ArrayLike) -> NDArray[np.int8]:
    """Vectorised :meth:`RoadClass.from_highway` over an array of OSM ``highway`` strings."""
    values = np.asarray(highway, dtype=str)
    unique, inverse = np.unique(values, return_inverse=True)
    codes = np.array([RoadClass.from_highway(v) for v in unique], dtype=np.int8)
    return codes[inverse].reshape(values.shape)


def time_of_day_congestion(hour: ArrayLike, road_class: ArrayLike) -> NDArray[np.float64]:
    """Speed factor (0..1] from the hour of day (0..24) and road class.

    Weekday pattern with morning (08:00) and evening (17:30) peaks; at the evening peak a
    motorway flows at 55 % of its free speed, a residential street at 95 %.
    """
    h = np.asarray(hour, dtype=np.float64)
    cls = np.asarray(road_class, dtype=np.int64)
    if np.any(~np.isfinite(h)):
        msg = "hour must be finite"
        raise InputDataError(msg)
    h = np.mod(h, 24.0)
    peak = 0.9 * np.exp(-0.5 * ((h - 8.0) / 1.2) ** 2) + np.exp(-0.5 * ((h - 17.5) / 1.5) ** 2)
    return np.asarray(1.0 - _CONGESTION_DEPTH[cls] * np.minimum(peak, 1.0), dtype=np.float64)


def congestion_factor(
    hour: ArrayLike, road_class: ArrayLike, weekend: ArrayLike
) -> NDArray[np.float64]:
    """Speed factor (0..1] by hour of day, road class and weekend flag (broadcasting).

    Weekends see :data:`WEEKEND_CONGESTION_SHARE` of the weekday slowdown of
    :func:`time_of_day_congestion`.
    """
    factor = time_of_day_congestion(hour, road_class)
    return np.where(weekend, 1.0 - WEEKEND_CONGESTION_SHARE * (1.0 - factor), factor)


def trip_congestion(
    free_flow_s: ArrayLike,
    road_class: ArrayLike,
    offsets: NDArray[np.int64],
    depart_s: ArrayLike,
    first_weekday: int,
) -> NDArray[np.float64]:
    """Speed factor per edge of a batch of trips, on each trip's free-flow clock.

    Parameters
    ----------
    free_flow_s, road_class
        Per traversed edge; the edges of trip ``k`` are ``offsets[k]:offsets[k + 1]``.
    depart_s
        Departure of each trip, seconds since midnight of the period's first day.
    first_weekday
        Weekday of the period's first day (0 = Monday).
    """
    free = np.asarray(free_flow_s, dtype=np.float64)
    trip = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    cum = np.cumsum(free) - free
    clock = np.asarray(depart_s, dtype=np.float64)[trip] + cum - (cum[offsets[:-1]])[trip]
    weekday = (np.floor(clock / DAY_S).astype(np.int64) + first_weekday) % 7
    return congestion_factor((clock % DAY_S) / HOUR_S, road_class, weekday >= 5)


def trip_turns_deg(bearing_deg: ArrayLike, offsets: NDArray[np.int64]) -> NDArray[np.float64]:
    """Heading change from each edge onto the next edge of its trip (0 on a trip's last)."""
    bearing = np.asarray(bearing_deg, dtype=np.float64)
    turn = heading_change_deg(bearing, np.roll(bearing, -1))
    turn[offsets[1:] - 1] = 0.0
    return turn
