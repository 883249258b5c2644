"""Power-limited driving: profiles never ask for more than the motor / battery delivers."""

from __future__ import annotations

import numpy as np
import pytest

from evfleet.errors import InputDataError
from evfleet.physics import EdgeArrays, RoadLoadBound, generate_profile, trace_energy
from evfleet.physics.power import battery_power_limit_w, max_shaft_power_w, power_limited
from evfleet.vehicles import get_vehicle

LEAF = get_vehicle("nissan_leaf_2016_30kwh")  # 80 kW motor


def _freeway(n: int = 6, grade: float = 0.0) -> EdgeArrays:
    return EdgeArrays(
        length_m=np.full(n, 400.0),
        speed_limit_kph=np.full(n, 120.0),
        road_class=np.array(["motorway"] * n),
        grade=np.full(n, grade),
    )


def test_aggressive_leaf_would_exceed_its_peak_without_the_limit() -> None:
    edges = _freeway()
    free = generate_profile(edges, style="aggressive", rng=1)
    limited = generate_profile(edges, style="aggressive", rng=1, vehicle=LEAF)
    free_kw = trace_energy(LEAF, free).max_power_kw.max()
    limited_kw = trace_energy(LEAF, limited).max_power_kw.max()
    assert free_kw > LEAF.motor_peak_kw  # 2.4 m/s² up to ~130 km/h needs > 100 kW
    assert limited_kw <= LEAF.motor_peak_kw
    assert limited_kw > 0.6 * LEAF.motor_peak_kw  # the driver still uses the power it has
    assert limited.trip_duration_s[0] > free.trip_duration_s[0]  # slower to reach speed
    np.testing.assert_allclose(limited.edge_distance_m, edges.length_m, rtol=1e-9)


def test_limit_holds_uphill_in_cold_wind_and_caps_cruise() -> None:
    bound = RoadLoadBound(min_temp_c=-5.0, max_wind_mps=12.0)
    edges = _freeway(grade=0.12)
    trace = generate_profile(edges, style="aggressive", rng=3, vehicle=LEAF, road_load=bound)
    energy = trace_energy(LEAF, trace, grade=0.12, headwind_mps=12.0)
    assert energy.max_power_kw.max() <= LEAF.motor_peak_kw
    assert trace.edge_max_speed_mps.max() * 3.6 < 120.0  # cannot hold 130 km/h up a 12 % grade


def test_power_limited_keeps_wishes_a_strong_car_can_meet() -> None:
    model_3 = get_vehicle("tesla_model_3")
    cruise, accel = power_limited(
        model_3, grade=[0.0, 0.0], cruise_mps=[10.0, 30.0], accel_mps2=1.5, bound=RoadLoadBound()
    )
    np.testing.assert_allclose(cruise, [10.0, 30.0])
    np.testing.assert_allclose(accel, [1.5, 1.5])
    with pytest.raises(InputDataError, match="grade"):
        power_limited(
            model_3, grade=[0.5], cruise_mps=[10.0], accel_mps2=1.5, bound=RoadLoadBound()
        )


def test_a_cold_battery_limits_power_below_the_motor_peak() -> None:
    warm = max_shaft_power_w(LEAF, RoadLoadBound(min_temp_c=25.0))
    cold = max_shaft_power_w(LEAF, RoadLoadBound(min_temp_c=-7.0))
    assert warm == pytest.approx(LEAF.motor_peak_kw * 1000.0)
    assert cold < 0.95 * warm
    # Resistance ~3.4x at -7 °C: the battery's deliverable power falls by the same factor.
    ratio = battery_power_limit_w(LEAF, 25.0) / battery_power_limit_w(LEAF, -7.0)
    assert 3.0 < ratio < 3.8
