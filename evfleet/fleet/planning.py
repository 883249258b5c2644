"""Daily trip plans per driver profile: origins, destinations, departure times, purposes.

A plan lists, for each trip of a vehicle, its day, earliest departure (seconds since the
period start), origin and destination (positions in :class:`~evfleet.fleet.places.Places`)
and purpose. Travel times are only estimated here (great-circle distance x circuity at a
typical speed); the simulator departs at ``max(planned, arrival + dwell)`` once the real
routes are known. Every day starts and ends at home.

Profiles:

- commuter: home -> work around the morning peak, an occasional lunch errand, work ->
  (errand) -> home around the evening peak, sometimes an evening outing; weekends casual.
- rideshare: a 6-10 h shift of rides between pickups near hubs and drop-offs across the
  region, with repositioning legs between rides.
- delivery: home -> depot, a tour of 8-20 stops around the depot, depot -> home.
- casual: one to three tours from home, more on weekends; occasional long day trips.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from evfleet.fleet.behaviour import PROFILES
from evfleet.fleet.places import Places
from evfleet.units import DAY_S, HOUR_S, MINUTE_S
from evfleet.vocab import DriverProfile, TripPurpose

_CIRCUITY = 1.35
_LATEST_TOUR_START_H = 19.5
_SHIFT_END_H = 21.5
_MAX_RIDES = 13


@dataclass(frozen=True)
class Anchors:
    """A vehicle's fixed places (positions) and the range it can plan for."""

    home: int
    work: int
    range_km: float


@dataclass
class Plan:
    """Trips of one vehicle (parallel lists, in departure order)."""

    day: list[int] = field(default_factory=list)
    depart_s: list[float] = field(default_factory=list)
    origin: list[int] = field(default_factory=list)
    destination: list[int] = field(default_factory=list)
    purpose: list[TripPurpose] = field(default_factory=list)

    def add(
        self, day: int, depart_s: float, origin: int, destination: int, purpose: TripPurpose
    ) -> None:
        """Append a trip unless it goes nowhere."""
        if origin == destination:
            return
        self.day.append(day)
        self.depart_s.append(depart_s)
        self.origin.append(origin)
        self.destination.append(destination)
        self.purpose.append(purpose)

    def __len__(self) -> int:
        return len(self.day)


class _DayBuilder:
    """Chains trips within a day: each departs after the previous arrival plus a dwell."""

    def __init__(self, plan: Plan, places: Places, day: int, here: int, t_s: float) -> None:
        self.plan, self.places, self.day = plan, places, day
        self.here, self.t_s = here, t_s

    def drive(self, dest: int, purpose: TripPurpose, *, speed_kph: float = 32.0) -> None:
        if dest == self.here:
            return
        self.plan.add(self.day, self.t_s, self.here, dest, purpose)
        km = float(self.places.distance_km(self.here, dest)) * _CIRCUITY
        self.t_s += km / speed_kph * HOUR_S
        self.here = dest

    def dwell(self, minutes: float) -> None:
        self.t_s += minutes * MINUTE_S

    def wait_until(self, t_s: float) -> None:
        self.t_s = max(self.t_s, t_s)

    def clock_h(self) -> float:
        return self.t_s / HOUR_S - 24.0 * self.day

    def at(self, hour: float) -> float:
        return (24.0 * self.day + hour) * HOUR_S


def _clip_normal(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float) -> float:
    return float(np.clip(rng.normal(mean, sd), lo, hi))


def _long_trip_km(rng: np.random.Generator, places: Places, anchors: Anchors) -> float:
    cap = min(0.3 * anchors.range_km, 0.6 * places.extent_km(), 90.0)
    return max(5.0, cap * rng.uniform(0.6, 1.0))


def _commuter_day(rng: np.random.Generator, b: _DayBuilder, a: Anchors) -> None:
    b.wait_until(b.at(_clip_normal(rng, 7.9, 0.8, 5.5, 10.5)))
    b.drive(a.work, TripPurpose.COMMUTE)
    if rng.random() < 0.25:
        b.wait_until(b.at(_clip_normal(rng, 12.2, 0.4, 11.3, 13.5)))
        b.drive(b.places.sample_near(rng, a.work, typical_km=2.5, max_km=8.0), TripPurpose.ERRAND)
        b.dwell(rng.uniform(25, 55))
        b.drive(a.work, TripPurpose.COMMUTE)
    b.wait_until(b.at(_clip_normal(rng, 17.3, 0.8, 15.0, 20.0)))
    if rng.random() < 0.35:
        b.drive(b.places.sample_near(rng, a.home, typical_km=3.0, max_km=12.0), TripPurpose.ERRAND)
        b.dwell(rng.uniform(15, 60))
    b.drive(a.home, TripPurpose.COMMUTE)
    if rng.random() < 0.2:
        b.wait_until(b.at(_clip_normal(rng, 19.5, 0.6, 18.5, 21.0)))
        b.drive(b.places.sample_near(rng, a.home, typical_km=5.0), TripPurpose.LEISURE)
        b.dwell(rng.uniform(60, 150))
        b.drive(a.home, TripPurpose.HOME)


def _casual_day(
    rng: np.random.Generator, b: _DayBuilder, a: Anchors, *, weekend: bool, long_prob: float
) -> None:
    if rng.random() < long_prob * (2 if weekend else 1):
        b.wait_until(b.at(_clip_normal(rng, 9.5, 1.0, 7.0, 12.0)))
        km = _long_trip_km(rng, b.places, a)
        dest = b.places.sample_near(rng, a.home, typical_km=km, min_km=0.5 * km, max_km=1.3 * km)
        b.drive(dest, TripPurpose.LONG_TRIP, speed_kph=55.0)
        b.dwell(rng.uniform(90, 240))
        b.drive(a.home, TripPurpose.HOME, speed_kph=55.0)
        return
    n_tours = int(rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15] if weekend else [0.6, 0.32, 0.08]))
    b.wait_until(b.at(_clip_normal(rng, 10.5 if weekend else 10.0, 1.5, 7.5, 14.0)))
    for tour in range(n_tours):
        purpose = TripPurpose.LEISURE if weekend or rng.random() < 0.4 else TripPurpose.ERRAND
        b.drive(b.places.sample_near(rng, a.home, typical_km=rng.choice([3.0, 6.0, 12.0])), purpose)
        b.dwell(rng.uniform(25, 150))
        if rng.random() < 0.3:
            b.drive(b.places.sample_near(rng, b.here, typical_km=2.5), TripPurpose.ERRAND)
            b.dwell(rng.uniform(15, 60))
        b.drive(a.home, TripPurpose.HOME)
        if tour < n_tours - 1:
            b.dwell(rng.uniform(60, 180))
        if b.clock_h() > _LATEST_TOUR_START_H:
            break


def _rideshare_day(rng: np.random.Generator, b: _DayBuilder, a: Anchors) -> None:
    morning = rng.random() < 0.55
    b.wait_until(b.at(_clip_normal(rng, 7.0 if morning else 15.5, 0.6, 5.0, 18.0)))
    shift_end = min(b.t_s + rng.uniform(6.0, 10.0) * HOUR_S, b.at(_SHIFT_END_H))
    places = b.places
    b.drive(places.sample_near(rng, a.work, typical_km=1.5, max_km=4.0), TripPurpose.REPOSITION)
    rides = 0
    while b.t_s < shift_end - HOUR_S and rides < _MAX_RIDES:
        km = 25.0 if rng.random() < 0.1 else float(rng.choice([3.0, 6.0, 10.0]))
        b.drive(places.sample_near(rng, b.here, typical_km=km), TripPurpose.RIDE, speed_kph=35.0)
        rides += 1
        b.dwell(rng.uniform(3, 15))
        if rng.random() < 0.55:
            pickup = places.sample_near(rng, b.here, typical_km=1.2, max_km=3.0)
        else:
            hub = places.nearest_of(b.here, places.hubs) if rng.random() < 0.5 else a.work
            pickup = places.sample_near(rng, hub, typical_km=0.8, max_km=3.0)
        b.drive(pickup, TripPurpose.REPOSITION)
        b.dwell(rng.uniform(2, 12) + (20 if rides == 4 else 0))
    b.drive(a.home, TripPurpose.HOME)


def _delivery_day(rng: np.random.Generator, b: _DayBuilder, a: Anchors) -> None:
    b.wait_until(b.at(_clip_normal(rng, 6.8, 0.4, 5.5, 8.5)))
    b.drive(a.work, TripPurpose.COMMUTE)
    b.dwell(rng.uniform(20, 40))
    places = b.places
    n_stops = int(rng.integers(8, 21))
    stops = [places.sample_near(rng, a.work, typical_km=6.0, max_km=18.0) for _ in range(n_stops)]
    remaining = np.asarray(stops, dtype=np.int64)
    while remaining.size:
        nxt = places.nearest_of(b.here, remaining)
        remaining = remaining[remaining != nxt]
        b.drive(nxt, TripPurpose.DELIVERY)
        b.dwell(rng.uniform(3, 12))
    b.drive(a.work, TripPurpose.COMMUTE)
    b.dwell(rng.uniform(15, 30))
    b.drive(a.home, TripPurpose.COMMUTE)


def plan_vehicle(
    rng: np.random.Generator,
    places: Places,
    profile: DriverProfile,
    anchors: Anchors,
    *,
    start: dt.date,
    days: int,
) -> Plan:
    """Trips of one vehicle over ``days`` days from ``start``.

    Parameters
    ----------
    rng
        The vehicle's own generator.
    places
        Candidate destinations.
    profile
        How the vehicle is used.
    anchors
        Home, work (workplace, home hub or depot) and planning range.
    start, days
        The simulated period.

    Returns
    -------
    Plan
        Trips in departure order, each day starting and ending at home.
    """
    spec = PROFILES[profile]
    plan = Plan()
    for day in range(days):
        weekend = (start + dt.timedelta(days=day)).weekday() >= 5
        p_drive = spec.weekend_drive_prob if weekend else spec.weekday_drive_prob
        if rng.random() >= p_drive:
            continue
        b = _DayBuilder(plan, places, day, anchors.home, day * DAY_S)
        if profile is DriverProfile.COMMUTER and not weekend:
            _commuter_day(rng, b, anchors)
        elif profile is DriverProfile.RIDESHARE:
            _rideshare_day(rng, b, anchors)
        elif profile is DriverProfile.DELIVERY:
            _delivery_day(rng, b, anchors)
        else:
            _casual_day(rng, b, anchors, weekend=weekend, long_prob=spec.long_trip_prob)
    return plan
