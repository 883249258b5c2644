"""On-road losses (``Conditions(on_road=True)``): rolling, auxiliaries, cabin, sun."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from evfleet.errors import InputDataError
from evfleet.physics import (
    Conditions,
    simulate,
    simulate_segments,
    solar_irradiance_at,
    solar_irradiance_w_m2,
    steady_state_kwh_per_100km,
)
from evfleet.physics.hvac import on_road_hvac_power_w
from evfleet.physics.onroad import (
    ON_ROAD_AUX_EXTRA_W,
    ROAD_SURFACE_CRR_FACTOR,
    TYRE_PRESSURE_CRR_FACTOR,
    WET_ROAD_CRR_RISE,
    standard_time,
)
from evfleet.vehicles import DEFAULT_MARKET_SHARES, MOTOR_LOAD_GRID, get_vehicle, list_vehicles

from .test_model import split, urban_trace

SPEED = urban_trace(11, n_stops=20)
TRIP_TIME_S = np.arange(SPEED.size, dtype=float)  # 1 s steps from departure


def road(**kwargs: object) -> Conditions:
    return Conditions(on_road=True, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("vid", list_vehicles())
def test_on_road_costs_20_to_35_percent_more_than_the_dyno(vid: str) -> None:
    # EPA's label divides dyno results by 0.7 for on-road losses (incl. aggressive driving)
    spec = get_vehicle(vid)
    dyno = simulate(spec, SPEED, conditions=Conditions(temp_c=20.0))
    on_road = simulate(
        spec, SPEED, conditions=road(temp_c=20.0, solar_w_m2=400.0, trip_time_s=TRIP_TIME_S)
    )
    assert 1.2 < on_road.kwh_per_100km / dyno.kwh_per_100km < 1.35
    for name in ("aero", "inertia"):  # same forces; the motor's load point moves a little
        assert on_road.components_kwh[name] == pytest.approx(dyno.components_kwh[name], rel=0.02)
    for name in ("rolling", "hvac", "aux"):
        assert on_road.components_kwh[name] > dyno.components_kwh[name]
    extra_aux_kwh = ON_ROAD_AUX_EXTRA_W * dyno.duration_s / 3.6e6
    assert on_road.components_kwh["aux"] - dyno.components_kwh["aux"] == pytest.approx(
        extra_aux_kwh
    )


def test_road_surface_and_wet_roads_scale_rolling_resistance() -> None:
    flat_motor = (0.9,) * len(MOTOR_LOAD_GRID)  # battery energy proportional to force
    spec = dataclasses.replace(get_vehicle("tesla_model_3"), motor_efficiency=flat_motor)
    dyno = simulate(spec, SPEED, conditions=Conditions(hvac_on=False))
    dry = simulate(spec, SPEED, conditions=road(hvac_on=False))
    wet = simulate(spec, SPEED, conditions=road(hvac_on=False, wet_road=1.0))
    ratio = dry.components_kwh["rolling"] / dyno.components_kwh["rolling"]
    assert ratio == pytest.approx(ROAD_SURFACE_CRR_FACTOR * TYRE_PRESSURE_CRR_FACTOR)
    wet_ratio = wet.components_kwh["rolling"] / dry.components_kwh["rolling"]
    assert wet_ratio == pytest.approx(1.0 + WET_ROAD_CRR_RISE)


def test_cold_start_costs_more_and_fades_with_trip_time() -> None:
    spec = get_vehicle("nissan_leaf")
    seg = split(SPEED.size, 10)
    cold = road(temp_c=0.0, trip_time_s=TRIP_TIME_S)
    per_segment = simulate_segments(spec, SPEED, segment_index=seg, conditions=cold)
    hvac_w = per_segment.component_kwh("hvac") * 3.6e6 / per_segment.duration_s
    rolling = per_segment.component_kwh("rolling") / per_segment.distance_m
    assert np.all(np.diff(hvac_w) < 0)  # the warm-up transient decays
    assert rolling[0] > rolling[-1]  # tyres warm up
    warm = simulate(spec, SPEED, conditions=road(temp_c=0.0))  # long under way
    short_park = road(temp_c=0.0, trip_time_s=TRIP_TIME_S, parked_s=60.0)
    assert per_segment.total().energy_kwh > 1.1 * warm.energy_kwh
    assert simulate(spec, SPEED, conditions=short_park).energy_kwh < 1.02 * warm.energy_kwh


def test_per_segment_warm_up_equals_per_step_warm_up() -> None:
    spec = get_vehicle("chevrolet_bolt")
    seg = split(SPEED.size, 8)
    starts = np.flatnonzero(np.diff(seg, prepend=-1))
    fields = {"temp_c": 2.0, "solar_w_m2": 300.0, "parked_s": 900.0}
    by_step = simulate_segments(
        spec, SPEED, segment_index=seg, conditions=road(trip_time_s=TRIP_TIME_S, **fields)
    )
    by_segment = simulate_segments(
        spec,
        SPEED,
        segment_index=seg,
        conditions=road(trip_time_s=TRIP_TIME_S[starts], **fields),
        per_segment_inputs=True,
    )
    for name in ("hvac", "aux"):  # exact means of the exponential warm-up over time
        np.testing.assert_allclose(
            by_segment.component_kwh(name), by_step.component_kwh(name), rtol=1e-9
        )
    # the tyre warm-up is averaged over time, not distance: close, not exact
    rolling = by_segment.component_kwh("rolling")
    np.testing.assert_allclose(rolling, by_step.component_kwh("rolling"), rtol=2e-3)
    np.testing.assert_allclose(by_segment.energy_kwh, by_step.energy_kwh, rtol=1e-3)


def test_sun_and_heat_drive_the_air_conditioning() -> None:
    spec = get_vehicle("tesla_model_y")
    temps = np.array([15.0, 20.0, 25.0, 30.0, 35.0])
    shade = on_road_hvac_power_w(spec, temps, solar_w_m2=0.0)
    sun = on_road_hvac_power_w(spec, temps, solar_w_m2=900.0)
    assert np.all(np.diff(sun[1:]) > 0)
    assert np.all(sun[2:] > shade[2:])
    assert 600.0 < sun[-1] < 2000.0  # steady A/C at 35 °C in full sun
    noon, night = solar_irradiance_w_m2([12.17, 0.0])
    assert 700.0 < noon < 1000.0
    assert night == 0.0
    assert solar_irradiance_w_m2(12.7, raining=True) < 0.3 * noon
    assert solar_irradiance_w_m2(12.7, day_of_year=172) > solar_irradiance_w_m2(
        12.7, day_of_year=355
    )


def test_the_sun_follows_the_date_and_daylight_saving_time() -> None:
    clock = np.array(
        ["2024-01-15T12:10", "2024-07-15T12:10", "2024-07-15T13:10", "2024-12-21T12:10",
         "2024-06-21T13:10", "2024-03-09T12:00", "2024-03-11T12:00"],
        dtype="datetime64[us]",
    )  # fmt: skip
    hour, day = standard_time(clock)
    # PDT (from 10 March 2024) runs an hour ahead of the sun; PST does not.
    np.testing.assert_allclose(hour, [12 + 1 / 6, 11 + 1 / 6, 12 + 1 / 6, 12 + 1 / 6,
                                      12 + 1 / 6, 12.0, 11.0])  # fmt: skip
    np.testing.assert_array_equal(day, [15, 197, 197, 356, 173, 69, 71])
    sun = solar_irradiance_at(clock)
    assert sun[2] > sun[1]  # 13:10 PDT is solar noon, 12:10 PDT an hour before it
    # Solar noon at 37.7° N: elevation 90 - 37.7 - 23.4 = 28.9° in December, 75.7° in June.
    december, june = sun[3], sun[4]
    assert 400.0 < december < 560.0
    assert 900.0 < june < 1050.0
    assert solar_irradiance_at(np.datetime64("2024-12-21T17:30")) == 0.0  # after sunset
    assert solar_irradiance_at(np.datetime64("2024-06-21T17:30")) > 300.0  # long June day


@pytest.mark.parametrize("vid", list(DEFAULT_MARKET_SHARES))
def test_on_road_cold_and_hot_trips_cost_plausible_extra_energy(vid: str) -> None:
    spec = get_vehicle(vid)

    def kwh_per_100km(temp_c: float, solar_w_m2: float) -> float:
        cond = road(temp_c=temp_c, solar_w_m2=solar_w_m2, trip_time_s=TRIP_TIME_S)
        return simulate(spec, SPEED, conditions=cond).kwh_per_100km

    mild = kwh_per_100km(20.0, 400.0)
    assert 1.3 < kwh_per_100km(-7.0, 0.0) / mild < 2.7  # AAA (2019): x1.7 after a soak
    assert 1.1 < kwh_per_100km(5.0, 200.0) / mild < 1.8
    assert 1.05 < kwh_per_100km(35.0, 800.0) / mild < 1.5  # AAA (2019): x1.2


def test_steady_state_broadcasts_on_road_fields() -> None:
    spec = get_vehicle("volkswagen_id4")
    table = steady_state_kwh_per_100km(
        spec, [50.0, 100.0], conditions=road(temp_c=30.0, solar_w_m2=[[0.0], [900.0]])
    )
    assert table.shape == (2, 2)
    assert np.all(table[1] > table[0])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"wet_road": 1.5}, "wet_road must be within"),
        ({"solar_w_m2": -1.0}, "solar_w_m2 must be within"),
        ({"parked_s": float("nan")}, "parked_s contains NaN"),
        ({"trip_time_s": [0.0, 1.0, 2.0]}, "trip_time_s must be a scalar or have one value"),
    ],
)
def test_bad_on_road_inputs_raise(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InputDataError, match=message):
        simulate(get_vehicle("tesla_model_3"), [1.0, 2.0], conditions=road(**fields))
