"""Road classes, junction controls and traffic: what a driver meets along the edges.

OSM ``highway`` tags fold into seven :class:`RoadClass` codes; each edge ends at a
:class:`JunctionControl`. The tables give, by class and control, the odds of stopping,
of slowing for a turn, and the dwell at a stop; :func:`time_of_day_congestion` gives the
rush-hour speed factor. All numbers are round, plausible urban values (signals red about
40-50 % of the time on arterials, turns at ~25 km/h).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evfleet.errors import InputDataError


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
