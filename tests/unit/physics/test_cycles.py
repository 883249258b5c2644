"""Drive-cycle files and the ambient / HVAC / battery helpers of the physics package."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evfleet.errors import InputDataError
from evfleet.physics import (
    Conditions,
    air_density_kg_m3,
    cycle_energy,
    headwind_mps,
    hvac_power_w,
    internal_resistance_ohm,
    read_cycle,
    simulate,
    usable_capacity_kwh,
)
from evfleet.vehicles import get_vehicle


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cycle.csv"
    path.write_text(text)
    return path


def test_read_cycle_with_and_without_grade(tmp_path: Path) -> None:
    cycle = read_cycle(write(tmp_path, "time_s,speed_mps,grade\n0,0,0\n1,2,0.01\n2,4,0.02\n"))
    np.testing.assert_allclose(cycle.grade, [0.0, 0.01, 0.02])
    assert cycle.distance_m == pytest.approx(4.0)
    assert cycle.name == "cycle"
    flat = read_cycle(write(tmp_path, "speed_mps, time_s\n0,0\n5,1\n"))
    np.testing.assert_allclose(flat.grade, 0.0)
    np.testing.assert_allclose(flat.speed_mps, [0.0, 5.0])


def test_uphill_cycle_costs_more_than_flat(tmp_path: Path) -> None:
    rows = "\n".join(f"{t},{min(t, 15)},{{g}}" for t in range(60))
    flat = read_cycle(write(tmp_path, "time_s,speed_mps,grade\n" + rows.format(g=0.0)))
    hill = read_cycle(write(tmp_path, "time_s,speed_mps,grade\n" + rows.replace("{g}", "0.05")))
    spec = get_vehicle("nissan_leaf")
    assert cycle_energy(spec, hill).energy_kwh > 1.5 * cycle_energy(spec, flat).energy_kwh


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time_s,speed\n0,0\n1,1\n", r"missing column\(s\) \['speed_mps'\]"),
        ("time_s,speed_mps\n0,0\n1,-1\n", "negative speed_mps on line 3"),
        ("time_s,speed_mps\n0,0\n1,\n", "missing or non-numeric value on line 3"),
        ("time_s,speed_mps\n0,0\n1,abc\n", "speed_mps' has a missing or non-numeric"),
        ("time_s,speed_mps\n0,0\n1,nan\n", "non-numeric value on line 3"),
        ("time_s,speed_mps\n0,0\n2,1\n1,1\n", "time_s is not strictly increasing at line 4"),
        ("time_s,speed_mps\n0,0\n0,1\n", "not strictly increasing"),
        ("time_s,speed_mps,grade\n0,0,0\n1,1,0.5\n", r"\|grade\| above 0.35"),
        ("time_s,speed_mps\n0,0\n1,150\n", "above 100"),
        ("time_s,speed_mps\n0,0\n", "at least two samples"),
        ("", "not a readable CSV"),
    ],
)
def test_bad_cycle_files_raise_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputDataError, match=message):
        read_cycle(write(tmp_path, text))


def test_missing_cycle_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="cycle file not found"):
        read_cycle(tmp_path / "nope.csv")


def test_air_density() -> None:
    assert air_density_kg_m3(15.0, relative_humidity=0.0) == pytest.approx(1.225, abs=1e-3)
    humid, dry = air_density_kg_m3(30.0, relative_humidity=[1.0, 0.0])
    assert humid < dry
    cold, hot = air_density_kg_m3([-7.0, 35.0])
    assert cold / hot == pytest.approx(308.15 / 266.15, rel=0.02)
    assert air_density_kg_m3(20.0, pressure_pa=90_000.0) < air_density_kg_m3(20.0)
    with pytest.raises(InputDataError, match="pressure_pa"):
        air_density_kg_m3(20.0, pressure_pa=1000.0)


def test_headwind_component() -> None:
    np.testing.assert_allclose(
        headwind_mps([0.0, 180.0, 90.0], wind_speed_mps=10.0, wind_from_deg=0.0),
        [10.0, -10.0, 0.0],
        atol=1e-12,
    )
    with pytest.raises(InputDataError, match="wind_speed_mps"):
        headwind_mps(0.0, wind_speed_mps=-1.0, wind_from_deg=0.0)


def test_hvac_idles_near_setpoint_and_works_in_heat_and_cold() -> None:
    heat_pump = get_vehicle("tesla_model_3")
    resistive = get_vehicle("chevrolet_bolt")
    temps = np.array([-20.0, -7.0, 20.0, 22.0, 35.0])
    hp = hvac_power_w(heat_pump, temps)
    pt = hvac_power_w(resistive, temps)
    assert hp[2] == hp[3] == 0.0
    assert 2000.0 < pt[1] < 4000.0  # PTC heater at -7 °C
    assert hp[1] < 0.6 * pt[1]
    assert hp[4] == pytest.approx(pt[4])
    assert 300.0 < hp[4] < 1500.0  # A/C at 35 °C
    assert np.all(pt <= resistive.hvac_max_kw * 1000.0)


def test_battery_temperature_effects() -> None:
    spec = get_vehicle("nissan_leaf")
    r_cold, r_ref, r_hot = internal_resistance_ohm(spec, [-7.0, 25.0, 40.0])
    assert r_ref == pytest.approx(spec.internal_resistance_ohm)
    assert 2.5 < r_cold / r_ref < 4.5
    assert r_hot < r_ref
    cap = usable_capacity_kwh(spec, [-30.0, -7.0, 25.0, 40.0])
    assert cap[2] == cap[3] == spec.battery_kwh
    assert 0.75 * spec.battery_kwh < cap[1] < 0.9 * spec.battery_kwh
    assert cap[0] >= 0.6 * spec.battery_kwh


def test_cold_battery_loses_more_energy() -> None:
    spec = get_vehicle("renault_zoe_ze50")
    speed = np.concatenate((np.linspace(0, 30, 20), np.full(60, 30.0), np.linspace(30, 0, 15)))
    loss = {
        temp: simulate(
            spec, speed, conditions=Conditions(battery_temp_c=temp, hvac_on=False)
        ).components_kwh["battery_loss"]
        for temp in (25.0, -10.0)
    }
    assert loss[-10.0] > 2.5 * loss[25.0]
