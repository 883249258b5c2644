"""Tests of the shared traffic and turn rules (evfleet.physics.roads)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evfleet.features.build import expected_speed_kph
from evfleet.physics.roads import (
    WEEKEND_CONGESTION_SHARE,
    RoadClass,
    congestion_factor,
    time_of_day_congestion,
    trip_congestion,
    trip_turns_deg,
)
from evfleet.units import DAY_S, HOUR_S

MOTORWAY = int(RoadClass.MOTORWAY)


def test_weekend_sees_a_share_of_the_weekday_slowdown() -> None:
    weekday = float(time_of_day_congestion(17.5, MOTORWAY))
    weekend = float(congestion_factor(17.5, MOTORWAY, True))
    assert weekday == pytest.approx(0.55)
    assert 1.0 - weekend == pytest.approx(WEEKEND_CONGESTION_SHARE * (1.0 - weekday))
    assert float(congestion_factor(17.5, MOTORWAY, False)) == weekday


def test_trip_congestion_follows_each_trip_free_flow_clock() -> None:
    # trip 0: two 1-hour motorway edges from Friday 16:30 (second edge at the 17:30 peak);
    # trip 1: one edge departing at midnight into Saturday (weekend, night)
    free_s = np.array([HOUR_S, HOUR_S, 60.0])
    offsets = np.array([0, 2, 3])
    friday = 4
    depart = np.array([16.5 * HOUR_S, DAY_S])
    factor = trip_congestion(free_s, np.full(3, MOTORWAY), offsets, depart, friday)
    assert factor[1] == pytest.approx(float(time_of_day_congestion(17.5, MOTORWAY)))
    assert factor[0] > factor[1]
    assert factor[2] == pytest.approx(float(congestion_factor(0.0, MOTORWAY, True)))
    saturday_peak = trip_congestion(
        [60.0], [MOTORWAY], np.array([0, 1]), [DAY_S + 17.5 * HOUR_S], friday
    )
    assert saturday_peak[0] == pytest.approx(float(congestion_factor(17.5, MOTORWAY, True)))


def test_trip_turns_are_zero_on_each_trip_last_edge() -> None:
    bearing = np.array([0.0, 90.0, 350.0, 10.0, 180.0])
    turns = trip_turns_deg(bearing, np.array([0, 3, 5]))
    np.testing.assert_allclose(turns, [90.0, 100.0, 0.0, 170.0, 0.0])


def test_feature_prior_uses_the_simulator_rule() -> None:
    highway = pd.Categorical(["motorway", "residential"])
    limit = np.array([100.0, 40.0])
    for weekend in (False, True):
        speed = expected_speed_kph(limit, highway, 17.5, weekend)
        classes = np.array([RoadClass.MOTORWAY, RoadClass.RESIDENTIAL])
        np.testing.assert_allclose(speed, limit * congestion_factor(17.5, classes, weekend))
