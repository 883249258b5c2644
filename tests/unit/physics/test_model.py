"""Physical properties of the energy model (conservation, monotonicity, temperature)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evfleet.errors import InputDataError
from evfleet.physics import (
    COMPONENTS,
    Conditions,
    EdgeArrays,
    generate_profile,
    simulate,
    simulate_segments,
    steady_state_kwh_per_100km,
    trace_energy,
)
from evfleet.physics.model import GRAVITY_MPS2
from evfleet.vehicles import VehicleSpec, get_vehicle, list_vehicles

QUIET = Conditions(hvac_on=False)
vehicle_ids = st.sampled_from(list_vehicles())
fast = settings(max_examples=40, deadline=None)


def no_aux(spec: VehicleSpec) -> VehicleSpec:
    return dataclasses.replace(spec, aux_w=0.0)


def urban_trace(seed: int, n_stops: int = 10) -> np.ndarray:
    """1 Hz stop-and-go speeds (m/s): accelerate, cruise, brake to a stop, wait; repeat."""
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(n_stops):
        top = rng.uniform(8.0, 18.0)
        n_up = int(np.ceil(top / rng.uniform(0.8, 2.0)))
        n_down = int(np.ceil(top / rng.uniform(1.0, 2.5)))
        parts += [np.linspace(0.0, top, n_up + 1)[1:], np.full(rng.integers(5, 40), top)]
        parts += [np.linspace(top, 0.0, n_down + 1)[1:], np.zeros(5)]
    return np.concatenate(parts)


def split(n: int, k: int = 6) -> np.ndarray:
    """Split n steps into k contiguous segments."""
    return np.arange(n) * k // n


@fast
@given(
    vid=vehicle_ids,
    n=st.integers(1, 50),
    grade=st.floats(-0.3, 0.3),
    temp=st.floats(-30, 45),
    dt=st.floats(0.1, 5.0),
)
def test_standstill_without_auxiliaries_uses_no_energy(
    vid: str, n: int, grade: float, temp: float, dt: float
) -> None:
    spec = no_aux(get_vehicle(vid))
    result = simulate(
        spec, np.zeros(n), dt_s=dt, grade=grade, conditions=Conditions(temp_c=temp, hvac_on=False)
    )
    assert result.energy_kwh == 0.0
    assert all(v == 0.0 for v in result.components_kwh.values())
    assert result.duration_s == pytest.approx(n * dt)


def test_components_sum_to_total_and_segments_to_trace() -> None:
    spec = get_vehicle("tesla_model_y")
    speed = urban_trace(3)
    grade = np.random.default_rng(4).uniform(-0.06, 0.06, speed.size)
    total = simulate(spec, speed, grade=grade, conditions=Conditions(temp_c=5.0))
    assert total.energy_kwh == pytest.approx(sum(total.components_kwh.values()))
    assert total.components_kwh["regen"] < 0.0
    assert total.components_kwh["hvac"] > 0.0
    seg = split(speed.size)
    parts = simulate_segments(
        spec, speed, segment_index=seg, grade=grade, conditions=Conditions(temp_c=5.0)
    )
    assert parts.components_kwh.shape == (6, len(COMPONENTS))
    np.testing.assert_allclose(parts.energy_kwh.sum(), total.energy_kwh, rtol=1e-12)
    assert parts.total().distance_m == pytest.approx(total.distance_m)
    cols = parts.as_columns()
    np.testing.assert_allclose(cols["regen_kwh"], parts.component_kwh("regen"))
    with pytest.raises(InputDataError, match="unknown energy component"):
        parts.component_kwh("drag")


def test_per_segment_inputs_equal_per_step_inputs() -> None:
    spec = get_vehicle("nissan_leaf")
    speed = urban_trace(5)
    seg = split(speed.size)
    grade = np.array([0.02, -0.03, 0.0, 0.05, -0.05, 0.01])
    temp = np.array([-5.0, 0.0, 10.0, 20.0, 30.0, 40.0])
    by_step = simulate_segments(
        spec, speed, segment_index=seg, grade=grade[seg], conditions=Conditions(temp_c=temp[seg])
    )
    by_segment = simulate_segments(
        spec,
        speed,
        segment_index=seg,
        grade=grade,
        conditions=Conditions(temp_c=temp),
        per_segment_inputs=True,
    )
    np.testing.assert_allclose(by_step.components_kwh, by_segment.components_kwh, rtol=1e-12)


@fast
@given(
    vid=vehicle_ids,
    speed_kph=st.floats(10, 150),
    grade=st.floats(-0.1, 0.1),
    factor=st.floats(1.05, 1.5),
)
def test_energy_rises_with_mass_and_drag_area(
    vid: str, speed_kph: float, grade: float, factor: float
) -> None:
    spec = get_vehicle(vid)
    heavy = dataclasses.replace(spec, test_mass_kg=spec.test_mass_kg * factor)
    draggy = dataclasses.replace(spec, frontal_area_m2=spec.frontal_area_m2 * factor)
    base = steady_state_kwh_per_100km(spec, speed_kph, grade=abs(grade))
    assert steady_state_kwh_per_100km(heavy, speed_kph, grade=abs(grade)) > base
    assert steady_state_kwh_per_100km(draggy, speed_kph, grade=abs(grade)) > base


def test_energy_rises_with_mass_on_a_drive_cycle() -> None:
    spec = get_vehicle("chevrolet_bolt")
    speed = urban_trace(7)
    light = simulate(spec, speed).energy_kwh
    heavier = dataclasses.replace(spec, test_mass_kg=spec.test_mass_kg + 300)
    assert simulate(heavier, speed).energy_kwh > light * 1.05


@fast
@given(vid=vehicle_ids, low=st.floats(30, 145), step=st.floats(1, 30), temp=st.floats(-10, 35))
def test_steady_consumption_rises_with_speed_above_30_kph(
    vid: str, low: float, step: float, temp: float
) -> None:
    spec = get_vehicle(vid)
    cond = Conditions(temp_c=temp, hvac_on=False)
    slow, quick = steady_state_kwh_per_100km(spec, [low, low + step], conditions=cond)
    assert quick > slow


@fast
@given(
    vid=vehicle_ids, speed_kph=st.floats(10, 130), g1=st.floats(-0.3, 0.3), dg=st.floats(0.005, 0.1)
)
def test_consumption_rises_with_uphill_grade(
    vid: str, speed_kph: float, g1: float, dg: float
) -> None:
    spec = get_vehicle(vid)
    g2 = min(g1 + dg, 0.35)
    flat, steep = steady_state_kwh_per_100km(spec, speed_kph, grade=[g1, g2])
    assert steep >= flat  # equal only while regeneration is at its power cap downhill
    if g1 >= 0.0:
        assert steep > flat


@settings(max_examples=25, deadline=None)
@given(
    vid=vehicle_ids,
    seed=st.integers(0, 2**32 - 1),
    n_edges=st.integers(1, 12),
    style=st.sampled_from(["eco", "normal", "aggressive"]),
)
def test_closed_loop_never_gains_energy(vid: str, seed: int, n_edges: int, style: str) -> None:
    rng = np.random.default_rng(seed)
    length = rng.uniform(20.0, 800.0, n_edges)
    grade = rng.uniform(-0.2, 0.2, n_edges)
    limit = rng.choice([30.0, 50.0, 90.0, 110.0], n_edges)
    # out and back on the same roads: the route returns to its start elevation
    edges = EdgeArrays(
        np.concatenate((length, length[::-1])),
        np.concatenate((limit, limit[::-1])),
        np.full(2 * n_edges, 3),
    )
    trace = generate_profile(edges, style=style, rng=rng)
    loop_grade = np.concatenate((grade, -grade[::-1]))
    spec = no_aux(get_vehicle(vid))
    result = trace_energy(spec, trace, grade=loop_grade, conditions=QUIET).total()
    assert result.energy_kwh > 0.0
    assert result.components_kwh["regen"] <= 0.0


@settings(max_examples=40, deadline=None)
@given(
    vid=vehicle_ids,
    seed=st.integers(0, 2**32 - 1),
    grade=st.floats(-0.35, 0.35),
    wind=st.floats(-15, 15),
)
def test_regen_never_exceeds_released_kinetic_and_potential_energy(
    vid: str, seed: int, grade: float, wind: float
) -> None:
    spec = get_vehicle(vid)
    speed = urban_trace(seed, n_stops=3)
    v0 = np.concatenate(([0.0], speed[:-1]))
    steps = simulate_segments(
        spec,
        speed,
        segment_index=np.arange(speed.size),
        grade=grade,
        headwind_mps=wind,
        conditions=QUIET,
    )
    distance = 0.5 * (v0 + speed)
    kinetic = 0.5 * spec.test_mass_kg * spec.rotating_mass_factor * (v0**2 - speed**2)
    potential = -spec.test_mass_kg * GRAVITY_MPS2 * grade / np.hypot(1.0, grade) * distance
    released_kwh = np.maximum(kinetic + potential, 0.0) / 3.6e6
    recovered_kwh = -steps.component_kwh("regen")
    assert np.all(recovered_kwh >= 0.0)
    assert np.all(recovered_kwh <= released_kwh * (1 + 1e-9) + 1e-15)


def test_regen_is_limited_by_power_and_fades_at_low_speed() -> None:
    spec = dataclasses.replace(get_vehicle("tesla_model_3"), max_regen_kw=20.0)
    hard_stop = simulate_segments(
        spec, [25.0, 20.0], segment_index=[0, 1], initial_speed_mps=30.0, conditions=QUIET
    )
    assert np.all(-hard_stop.component_kwh("regen") * 3.6e6 <= 20_000.0 + 1e-6)
    m_eff = spec.test_mass_kg * spec.rotating_mass_factor
    crawl = simulate(spec, [0.0], initial_speed_mps=1.0, conditions=QUIET)
    brisk = simulate(spec, [9.0], initial_speed_mps=10.0, conditions=QUIET)
    crawl_share = -crawl.components_kwh["regen"] * 3.6e6 / (0.5 * m_eff * 1.0**2)
    brisk_share = -brisk.components_kwh["regen"] * 3.6e6 / (0.5 * m_eff * (10.0**2 - 9.0**2))
    assert brisk_share > 0.8
    assert crawl_share < 0.05 * brisk_share


@pytest.mark.parametrize("vid", list_vehicles())
def test_cold_and_hot_weather_cost_plausible_extra_energy(vid: str) -> None:
    spec = get_vehicle(vid)
    speed = urban_trace(11, n_stops=20)
    mild = simulate(spec, speed, conditions=Conditions(temp_c=20.0)).kwh_per_100km
    cold = simulate(spec, speed, conditions=Conditions(temp_c=-7.0)).kwh_per_100km
    hot = simulate(spec, speed, conditions=Conditions(temp_c=35.0)).kwh_per_100km
    cold_no_hvac = simulate(spec, speed, conditions=Conditions(temp_c=-7.0, hvac_on=False))
    assert 1.2 < cold / mild < 2.5  # AAA (2019): -41 % range at -7 °C with heat on
    assert 1.03 < hot / mild < 1.5  # AAA (2019): -17 % range at 35 °C with A/C on
    assert 1.0 < cold_no_hvac.kwh_per_100km / mild < 1.2  # tyres, denser air, battery


def test_heat_pump_beats_resistive_heating_in_the_cold() -> None:
    spec = get_vehicle("nissan_leaf")
    assert spec.hvac_kind == "resistive"
    heat_pump = dataclasses.replace(spec, hvac_kind="heat_pump")
    cold = Conditions(temp_c=-7.0)
    resistive_kwh = steady_state_kwh_per_100km(spec, 40.0, conditions=cold)
    assert steady_state_kwh_per_100km(heat_pump, 40.0, conditions=cold) < 0.8 * resistive_kwh


def test_headwind_costs_and_tailwind_saves() -> None:
    spec = get_vehicle("volkswagen_id4")
    calm, head, tail = steady_state_kwh_per_100km(spec, 100.0, headwind_mps=[0.0, 8.0, -8.0])
    assert head > calm * 1.15
    assert tail < calm * 0.9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"speed_mps": [1.0, float("nan")]}, "speed_mps contains NaN"),
        ({"speed_mps": [1.0, -2.0]}, "speed_mps must be within"),
        ({"dt_s": 0.0}, "dt_s must be > 0"),
        ({"dt_s": [1.0, 1.0, 1.0]}, "dt_s must be a scalar or have one value per step"),
        ({"grade": 0.5}, "grade must be within"),
        ({"headwind_mps": [1.0] * 5}, "headwind_mps must be a scalar"),
        ({"conditions": Conditions(temp_c=80.0)}, "temp_c must be within"),
        ({"conditions": Conditions(relative_humidity=1.5)}, "relative_humidity"),
        ({"initial_speed_mps": -1.0}, "initial_speed_mps"),
    ],
)
def test_bad_inputs_raise_input_data_error(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"speed_mps": [1.0, 2.0], **kwargs}
    speed = args.pop("speed_mps")
    with pytest.raises(InputDataError, match=message):
        simulate(get_vehicle("tesla_model_3"), speed, **args)  # type: ignore[arg-type]


def test_bad_segment_index_raises() -> None:
    spec = get_vehicle("tesla_model_3")
    with pytest.raises(InputDataError, match="segment_index values"):
        simulate_segments(spec, [1.0, 2.0], segment_index=[0, 3], n_segments=2)
    with pytest.raises(InputDataError, match="one entry per step"):
        simulate_segments(spec, [1.0, 2.0], segment_index=[0])
    with pytest.raises(InputDataError, match="one value per segment"):
        simulate_segments(
            spec, [1.0, 2.0], segment_index=[0, 1], grade=[0.0] * 3, per_segment_inputs=True
        )
    with pytest.raises(InputDataError, match="speed_kph must be > 0"):
        steady_state_kwh_per_100km(spec, [0.0, 50.0])


def test_empty_trace_gives_zero_energy() -> None:
    result = simulate(get_vehicle("nissan_leaf"), np.array([]))
    assert result.energy_kwh == 0.0
    assert np.isnan(result.kwh_per_100km)
