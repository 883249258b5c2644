"""Realistic speed profiles over sequences of road edges, vectorised over many trips.

For each trip (a run of consecutive edges that starts and ends at standstill) the
generator picks, per edge, a cruise speed (speed limit x driving-style factor x
time-of-day congestion x a small random spread), decides at the end of each edge whether
the driver stops (signals, stop signs, unsignalled junctions; class-dependent odds) or
slows for a turn (the route's own turns when the headings are known, else class odds),
then solves the boundary speeds with a forward / backward pass under
the style's acceleration and deceleration limits. Given the vehicle, cruise speeds and
accelerations are first cut to what its motor and battery deliver at that speed
(:mod:`evfleet.physics.power`), so traction never asks for more than the peak power.
Every edge becomes three constant-acceleration phases (accelerate, cruise, decelerate)
plus a dwell at a stop; the phases are cut into steps of at most ``step_s`` seconds, so
each step has a constant acceleration and its trapezoidal distance is exact: the trace
covers every edge length to rounding error. Energy follows from :func:`trace_energy`,
which integrates :mod:`evfleet.physics.model` over the trace and sums it per edge.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from evfleet.errors import InputDataError
from evfleet.physics.model import Conditions, simulate_segments
from evfleet.physics.power import RoadLoadBound, power_limited
from evfleet.physics.results import SegmentEnergy
from evfleet.physics.roads import (
    DWELL_RANGE_S,
    STOP_PROBABILITY,
    TURN_PROBABILITY,
    TURN_SPEED_MPS,
    JunctionControl,
    RoadClass,
    road_class_codes,
)
from evfleet.units import KPH_PER_MPS
from evfleet.vehicles import VehicleSpec
from evfleet.vocab import DrivingStyle

logger = logging.getLogger(__name__)

MAX_SPEED_LIMIT_KPH: Final = 200.0
TURN_MIN_DEG: Final = 45.0
"""A heading change onto the next edge from which the driver slows to the turn speed."""
_MIN_PHASE_S: Final = 1e-3


@dataclass(frozen=True, slots=True)
class StyleParams:
    """Kinematic limits of a driving style.

    Attributes
    ----------
    accel_mps2, decel_mps2
        Constant acceleration / deceleration used by the driver (both > 0).
    cruise_factor
        Cruise speed / speed limit before congestion and spread.
    speed_spread
        Cruise speeds are drawn uniformly in ``[1 - spread, 1] x limit x cruise_factor``.
    """

    accel_mps2: float
    decel_mps2: float
    cruise_factor: float
    speed_spread: float


STYLES: Final = {
    DrivingStyle.ECO: StyleParams(
        accel_mps2=1.0, decel_mps2=1.3, cruise_factor=0.93, speed_spread=0.06
    ),
    DrivingStyle.NORMAL: StyleParams(
        accel_mps2=1.5, decel_mps2=2.0, cruise_factor=1.0, speed_spread=0.08
    ),
    DrivingStyle.AGGRESSIVE: StyleParams(
        accel_mps2=2.4, decel_mps2=3.2, cruise_factor=1.08, speed_spread=0.06
    ),
}


def _codes(values: ArrayLike, kind: type[IntEnum], name: str) -> NDArray[np.int8]:
    """Validate integer codes of an enum and return them as a contiguous int8 array."""
    codes = np.asarray(values).reshape(-1)
    if codes.size and (codes.dtype.kind not in "iu" or codes.min() < 0 or codes.max() >= len(kind)):
        msg = f"{name} codes must be integers in 0..{len(kind) - 1} ({kind.__name__})"
        raise InputDataError(msg)
    return np.ascontiguousarray(codes, dtype=np.int8)


@dataclass(frozen=True, slots=True)
class EdgeArrays:
    """The edges to drive, in order (one row per edge traversal).

    Attributes
    ----------
    length_m
        Edge lengths, m (>= 0).
    speed_limit_kph
        Speed limits, km/h (0 < limit <= 200).
    road_class
        :class:`RoadClass` codes, or OSM ``highway`` strings (converted on construction).
    control
        :class:`JunctionControl` at the end of each edge; ``None`` means ``JUNCTION``.
    turn_deg
        Heading change from each edge onto the next edge driven (0..180), when the route
        is known: a junction passed with a turn of at least :data:`TURN_MIN_DEG` is taken
        at the turn speed. ``None``: turns are unknown and drawn with the class odds.
    grade
        Road grade per edge (rise/run, within ±0.35); used by the power limit of
        :func:`generate_profile` (``None``: flat).
    """

    length_m: NDArray[np.float64]
    speed_limit_kph: NDArray[np.float64]
    road_class: NDArray[np.int8]
    control: NDArray[np.int8] | None = None
    turn_deg: NDArray[np.float64] | None = None
    grade: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        """Coerce to arrays (``road_class`` may hold OSM highway strings) and validate."""
        length = np.ascontiguousarray(self.length_m, dtype=np.float64).reshape(-1)
        limit = np.ascontiguousarray(self.speed_limit_kph, dtype=np.float64).reshape(-1)
        raw_class = np.asarray(self.road_class).reshape(-1)
        if raw_class.dtype.kind in "USO":
            raw_class = road_class_codes(raw_class)
        object.__setattr__(self, "length_m", length)
        object.__setattr__(self, "speed_limit_kph", limit)
        object.__setattr__(self, "road_class", _codes(raw_class, RoadClass, "road_class"))
        if self.control is not None:
            object.__setattr__(self, "control", _codes(self.control, JunctionControl, "control"))
        if self.turn_deg is not None:
            turn = np.ascontiguousarray(self.turn_deg, dtype=np.float64).reshape(-1)
            if turn.size != length.size or np.any(~np.isfinite(turn) | (turn < 0) | (turn > 180)):
                msg = "turn_deg must hold one heading change in 0..180 per edge"
                raise InputDataError(msg)
            object.__setattr__(self, "turn_deg", turn)
        if self.grade is not None:
            grade = np.ascontiguousarray(self.grade, dtype=np.float64).reshape(-1)
            if grade.size != length.size or np.any(~np.isfinite(grade) | (np.abs(grade) > 0.35)):
                msg = "grade must hold one finite value within ±0.35 per edge"
                raise InputDataError(msg)
            object.__setattr__(self, "grade", grade)
        for name, arr in (
            ("speed_limit_kph", limit),
            ("road_class", self.road_class),
            ("control", self.junction_control),
        ):
            if arr.size != length.size:
                msg = f"{name} has {arr.size} values but length_m has {length.size}"
                raise InputDataError(msg)
        if np.any(~np.isfinite(length) | (length < 0)):
            msg = "length_m must be finite and >= 0"
            raise InputDataError(msg)
        if np.any(~np.isfinite(limit) | (limit <= 0) | (limit > MAX_SPEED_LIMIT_KPH)):
            msg = f"speed_limit_kph must be within (0, {MAX_SPEED_LIMIT_KPH}]"
            raise InputDataError(msg)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.length_m.size)

    @property
    def junction_control(self) -> NDArray[np.int8]:
        """Control codes at the end of each edge (``JUNCTION`` where none was given)."""
        if self.control is None:
            return np.full(self.n_edges, JunctionControl.JUNCTION, dtype=np.int8)
        return self.control


@dataclass(frozen=True, slots=True)
class SpeedTrace:
    """A time-step speed trace over edges (see :func:`generate_profile`).

    Step ``i`` lasts ``dt_s[i]`` with constant acceleration from the previous step's speed
    (0 for the first step; every trip starts and ends at standstill) to ``speed_mps[i]``.

    Attributes
    ----------
    speed_mps, dt_s, edge_index
        Per step: end speed, duration and the (0-based) edge it lies on.
    edge_offsets
        Steps of edge ``j`` are ``edge_offsets[j]:edge_offsets[j + 1]``.
    trip_offsets
        Edges of trip ``k`` are ``trip_offsets[k]:trip_offsets[k + 1]``.
    edge_duration_s, edge_max_speed_mps, edge_stops
        Per edge: time spent (including a stop's dwell), peak speed, stops (0 or 1).
    """

    speed_mps: NDArray[np.float64]
    dt_s: NDArray[np.float64]
    edge_index: NDArray[np.int64]
    edge_offsets: NDArray[np.int64]
    trip_offsets: NDArray[np.int64]
    edge_duration_s: NDArray[np.float64]
    edge_max_speed_mps: NDArray[np.float64]
    edge_stops: NDArray[np.int8]

    @property
    def n_steps(self) -> int:
        """Number of time steps."""
        return int(self.speed_mps.size)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.edge_duration_s.size)

    @property
    def start_speed_mps(self) -> NDArray[np.float64]:
        """Speed at the start of each step."""
        return np.concatenate(([0.0], self.speed_mps[:-1]))

    @property
    def step_distance_m(self) -> NDArray[np.float64]:
        """Distance of each step (exact for constant acceleration), m."""
        return np.asarray(0.5 * (self.start_speed_mps + self.speed_mps) * self.dt_s, np.float64)

    @property
    def edge_distance_m(self) -> NDArray[np.float64]:
        """Distance driven on each edge, m (equals the edge lengths)."""
        sums = np.bincount(self.edge_index, weights=self.step_distance_m, minlength=self.n_edges)
        return np.asarray(sums, dtype=np.float64)

    @property
    def trip_duration_s(self) -> NDArray[np.float64]:
        """Duration of each trip, s."""
        totals = np.concatenate(([0.0], np.cumsum(self.edge_duration_s)))
        return np.asarray(np.diff(totals[self.trip_offsets]), dtype=np.float64)


@nb.njit(cache=True, nogil=True)
def _boundary_speeds(
    length: NDArray[np.float64],
    cruise: NDArray[np.float64],
    cap: NDArray[np.float64],
    trip_offsets: NDArray[np.int64],
    accel: NDArray[np.float64],
    decel: float,
    v_in: NDArray[np.float64],
    v_out: NDArray[np.float64],
) -> None:
    """Entry / exit speed of every edge: forward pass (acceleration), backward (braking).

    ``cap`` is the largest speed at the end of each edge (0 for a stop, a turn speed, or
    inf); ``accel`` the (power-limited) acceleration on each edge; trips start and end at
    rest.
    """
    for k in range(trip_offsets.size - 1):
        first = trip_offsets[k]
        last = trip_offsets[k + 1]
        v = 0.0
        for j in range(first, last):
            v_in[j] = v
            nxt = 0.0 if j == last - 1 else min(cap[j], cruise[j], cruise[j + 1])
            v = min(nxt, np.sqrt(v * v + 2.0 * accel[j] * length[j]))
            v_out[j] = v
        v = 0.0
        for j in range(last - 1, first - 1, -1):
            v = min(v_out[j], v)
            v_out[j] = v
            v = min(v_in[j], np.sqrt(v * v + 2.0 * decel * length[j]))
            v_in[j] = v


@nb.njit(cache=True, nogil=True)
def _phases(
    length: NDArray[np.float64],
    cruise: NDArray[np.float64],
    dwell: NDArray[np.float64],
    v_in: NDArray[np.float64],
    v_out: NDArray[np.float64],
    accel: NDArray[np.float64],
    decel: float,
    step_s: float,
    phases: NDArray[np.float64],
    counts: NDArray[np.int64],
) -> None:
    """Constant-acceleration phases of every edge and their step counts.

    Accelerate to the peak speed, cruise, decelerate: ``phases[j]`` receives the entry
    speed, the end speeds and durations of up to three motion phases and the dwell;
    ``counts[j]`` the steps of each. A phase shorter than ``_MIN_PHASE_S`` is merged into
    a neighbour (same distance, gentler acceleration) so that no step is vanishingly short.
    """
    knots = np.empty(4)
    dist = np.empty(3)
    for j in range(length.size):
        a_in = v_in[j]
        b_out = v_out[j]
        up = accel[j]
        tri = (2.0 * up * decel * length[j] + decel * a_in**2 + up * b_out**2) / (up + decel)
        v_pk = max(min(cruise[j], np.sqrt(tri)), a_in, b_out)
        knots[0], knots[1], knots[2], knots[3] = a_in, v_pk, v_pk, b_out
        dist[0] = (v_pk * v_pk - a_in * a_in) / (2.0 * up)
        dist[2] = (v_pk * v_pk - b_out * b_out) / (2.0 * decel)
        dist[1] = max(length[j] - dist[0] - dist[2], 0.0)
        phases[j, 0] = a_in
        n_kept = 0
        start = 0
        for p in range(3):
            speed_sum = knots[p] + knots[p + 1]
            if speed_sum > 0.0 and 2.0 * dist[p] / speed_sum >= _MIN_PHASE_S:
                if n_kept > 0:
                    _store_phase(phases, counts, j, n_kept - 1, knots, dist, start, p, step_s)
                    start = p
                n_kept += 1
        if n_kept > 1 or (n_kept == 1 and a_in + b_out > 0.0):
            _store_phase(phases, counts, j, n_kept - 1, knots, dist, start, 3, step_s)
        elif a_in + b_out > 0.0:  # a very short edge: one phase from entry to exit speed
            _store_phase(phases, counts, j, 0, knots, dist, 0, 3, step_s)
            n_kept = 1
        elif length[j] > 0.0:  # a short edge between two stops: up, then down again
            _store_phase(phases, counts, j, 0, knots, dist, 0, 1, step_s)
            _store_phase(phases, counts, j, 1, knots, dist, 1, 3, step_s)
            n_kept = 2
        else:
            n_kept = 0
        for q in range(n_kept, 3):
            phases[j, 1 + q] = phases[j, n_kept]
            phases[j, 4 + q] = 0.0
            counts[j, q] = 0
        phases[j, 7] = dwell[j]
        counts[j, 3] = int(np.ceil(dwell[j] / step_s)) if dwell[j] > 0.0 else 0


@nb.njit(cache=True, nogil=True, inline="always")
def _store_phase(
    phases: NDArray[np.float64],
    counts: NDArray[np.int64],
    j: int,
    slot: int,
    knots: NDArray[np.float64],
    dist: NDArray[np.float64],
    first: int,
    stop: int,
    step_s: float,
) -> None:
    """Store the phase from knot ``first`` to knot ``stop`` (absorbing the phases between)."""
    v0 = knots[first]
    v1 = knots[stop]
    x = 0.0
    for p in range(first, stop):
        x += dist[p]
    duration = 2.0 * x / (v0 + v1) if v0 + v1 > 0.0 else 0.0
    phases[j, 1 + slot] = v1
    phases[j, 4 + slot] = duration
    counts[j, slot] = int(np.ceil(duration / step_s)) if duration > 0.0 else 0


@nb.njit(cache=True, nogil=True)
def _fill(
    phases: NDArray[np.float64],
    counts: NDArray[np.int64],
    offsets: NDArray[np.int64],
    speed: NDArray[np.float64],
    dt: NDArray[np.float64],
    edge_index: NDArray[np.int64],
) -> None:
    """Write the steps of every edge: its motion phases, then the dwell of a stop."""
    for j in range(counts.shape[0]):
        i = offsets[j]
        v = phases[j, 0]
        for p in range(3):
            n = counts[j, p]
            v_end = phases[j, 1 + p]
            for s in range(n):
                speed[i] = v_end if s == n - 1 else v + (v_end - v) * (s + 1) / n
                dt[i] = phases[j, 4 + p] / n
                i += 1
            v = v_end
        n = counts[j, 3]
        for _ in range(n):
            speed[i] = 0.0
            dt[i] = phases[j, 7] / n
            i += 1
        edge_index[offsets[j] : i] = j


def _trip_offsets(trip_offsets: ArrayLike | None, n_edges: int) -> NDArray[np.int64]:
    if trip_offsets is None:
        return np.array([0, n_edges], dtype=np.int64)
    offsets = np.ascontiguousarray(trip_offsets, dtype=np.int64).reshape(-1)
    ok = offsets.size >= 2 and offsets[0] == 0 and offsets[-1] == n_edges
    if not ok or np.any(np.diff(offsets) <= 0):
        msg = (
            "trip_offsets must start at 0, end at the number of edges "
            f"({n_edges}) and increase strictly (every trip needs >= 1 edge)"
        )
        raise InputDataError(msg)
    return offsets


def _congestion(congestion: ArrayLike, n_edges: int) -> NDArray[np.float64]:
    factor = np.ascontiguousarray(congestion, dtype=np.float64).reshape(-1)
    if factor.size not in (1, n_edges):
        msg = f"congestion must be a scalar or one value per edge ({n_edges}), got {factor.size}"
        raise InputDataError(msg)
    if np.any(~np.isfinite(factor) | (factor <= 0) | (factor > 1)):
        msg = "congestion factors must be within (0, 1]"
        raise InputDataError(msg)
    return factor


def generate_profile(
    edges: EdgeArrays,
    *,
    style: DrivingStyle | str = DrivingStyle.NORMAL,
    congestion: ArrayLike = 1.0,
    trip_offsets: ArrayLike | None = None,
    rng: np.random.Generator | int,
    step_s: float = 1.0,
    vehicle: VehicleSpec | None = None,
    road_load: RoadLoadBound | None = None,
    draws: NDArray[np.float64] | None = None,
) -> SpeedTrace:
    """Generate the speed trace of one or many trips over their edges.

    Parameters
    ----------
    edges
        All edges of all trips, trip after trip.
    style
        Driving style (acceleration limits, cruise factor).
    congestion
        Speed factor in (0, 1], scalar or per edge (see :func:`.roads.trip_congestion`).
    trip_offsets
        Edges of trip ``k`` are ``trip_offsets[k]:trip_offsets[k + 1]`` (default: one trip).
    rng
        Random generator or seed (cruise spread, stops, turns, dwell times).
    step_s
        Longest time step, s.
    vehicle
        The car: cruise speeds and accelerations are cut to what its motor and battery
        deliver (:func:`evfleet.physics.power.power_limited`); ``None``: the style alone.
    road_load
        Worst road-load conditions of the period for that limit (default: mild, calm).
    draws
        Uniform draws ``(4, n_edges)`` to use instead of ``rng`` (common random numbers:
        the same edge of the same trip gets the same draws on any route).

    Returns
    -------
    SpeedTrace
        Steps of all trips; the distance on each edge equals its length.

    Raises
    ------
    InputDataError
        On bad trip offsets, congestion factors, style or step.
    """
    try:
        params = STYLES[DrivingStyle(style)]
    except ValueError:
        msg = f"unknown driving style {style!r}; valid: {', '.join(s.value for s in DrivingStyle)}"
        raise InputDataError(msg) from None
    if not (np.isfinite(step_s) and 0.01 <= step_s <= 10.0):
        msg = f"step_s must be within 0.01..10 s, got {step_s}"
        raise InputDataError(msg)
    n = edges.n_edges
    if n == 0:
        msg = "a speed profile needs at least one edge"
        raise InputDataError(msg)
    trips = _trip_offsets(trip_offsets, n)
    factor = _congestion(congestion, n)
    if draws is None:
        draws = np.random.default_rng(rng).random((4, n))
    elif np.shape(draws) != (4, n):
        msg = f"draws must have shape (4, {n}), got {np.shape(draws)}"
        raise InputDataError(msg)
    free_speed_mps = edges.speed_limit_kph / KPH_PER_MPS * params.cruise_factor
    cruise = free_speed_mps * factor * (1.0 - params.speed_spread * draws[0])
    control = edges.junction_control
    stop = draws[1] < STOP_PROBABILITY[edges.road_class, control]
    trip_end = np.zeros(n, dtype=bool)
    trip_end[trips[1:] - 1] = True
    stop &= ~trip_end
    turning = (
        draws[2] < TURN_PROBABILITY[edges.road_class]
        if edges.turn_deg is None
        else edges.turn_deg >= TURN_MIN_DEG
    )
    turn = ~stop & ~trip_end & (control != JunctionControl.NONE) & turning
    cap = np.where(stop, 0.0, np.where(turn, TURN_SPEED_MPS, np.inf))
    accel = np.full(n, params.accel_mps2)
    if vehicle is not None:
        grade = np.zeros(n) if edges.grade is None else edges.grade
        cruise, accel = power_limited(
            vehicle,
            grade=grade,
            cruise_mps=cruise,
            accel_mps2=params.accel_mps2,
            bound=road_load or RoadLoadBound(),
        )
    low, high = DWELL_RANGE_S[control, 0], DWELL_RANGE_S[control, 1]
    dwell = np.where(stop, low + (high - low) * draws[3], 0.0)
    v_in = np.empty(n, dtype=np.float64)
    v_out = np.empty(n, dtype=np.float64)
    _boundary_speeds(edges.length_m, cruise, cap, trips, accel, params.decel_mps2, v_in, v_out)
    phases = np.empty((n, 8), dtype=np.float64)
    counts = np.empty((n, 4), dtype=np.int64)
    _phases(
        edges.length_m,
        cruise,
        dwell,
        v_in,
        v_out,
        accel,
        params.decel_mps2,
        step_s,
        phases,
        counts,
    )
    offsets = np.concatenate(([0], np.cumsum(counts.sum(axis=1))))
    n_steps = int(offsets[-1])
    speed = np.empty(n_steps, dtype=np.float64)
    dt = np.empty(n_steps, dtype=np.float64)
    edge_index = np.empty(n_steps, dtype=np.int64)
    _fill(phases, counts, offsets, speed, dt, edge_index)
    logger.debug("profile: %d trips, %d edges, %d steps", trips.size - 1, n, n_steps)
    return SpeedTrace(
        speed_mps=speed,
        dt_s=dt,
        edge_index=edge_index,
        edge_offsets=offsets,
        trip_offsets=trips,
        edge_duration_s=phases[:, 4:8].sum(axis=1),
        edge_max_speed_mps=np.where(edges.length_m > 0, phases[:, :4].max(axis=1), 0.0),
        edge_stops=stop.astype(np.int8),
    )


def trace_energy(
    spec: VehicleSpec,
    trace: SpeedTrace,
    *,
    grade: ArrayLike = 0.0,
    headwind_mps: ArrayLike = 0.0,
    conditions: Conditions | None = None,
) -> SegmentEnergy:
    """Battery energy per edge of a trace.

    Parameters
    ----------
    spec
        Vehicle.
    trace
        Output of :func:`generate_profile`.
    grade, headwind_mps
        Per edge (or scalar): grade (rise/run) and wind against the direction of travel.
    conditions
        Ambient conditions; array fields hold one value per edge.

    Returns
    -------
    SegmentEnergy
        One row per edge (sum rows over ``trace.trip_offsets`` for trips).
    """
    return simulate_segments(
        spec,
        trace.speed_mps,
        segment_index=trace.edge_index,
        n_segments=trace.n_edges,
        dt_s=trace.dt_s,
        grade=grade,
        headwind_mps=headwind_mps,
        conditions=conditions,
        per_segment_inputs=True,
    )
