from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from evfleet.errors import InputDataError
from evfleet.vehicles import (
    DEFAULT_MARKET_SHARES,
    ChargerKind,
    HvacKind,
    get_vehicle,
    list_vehicles,
)

FLEET_MIX = (
    "tesla_model_3",
    "tesla_model_y",
    "nissan_leaf",
    "chevrolet_bolt",
    "ford_mustang_mach_e",
    "volkswagen_id4",
)
REFERENCE = (
    "nissan_leaf_2016_30kwh",
    "chevrolet_bolt_2020",
    "tesla_model_3_rwd_2022",
    "renault_zoe_ze50",
)


def test_catalogue_holds_fleet_mix_and_reference_vehicles() -> None:
    assert set(FLEET_MIX) | set(REFERENCE) <= set(list_vehicles())
    assert list_vehicles() == sorted(list_vehicles())
    for vid in list_vehicles():
        spec = get_vehicle(vid)
        assert spec.vehicle_id == vid
        assert spec.source
        assert isinstance(spec.hvac_kind, HvacKind)


def test_default_market_shares() -> None:
    assert set(DEFAULT_MARKET_SHARES) == set(FLEET_MIX)
    assert sum(DEFAULT_MARKET_SHARES.values()) == pytest.approx(1.0)
    assert DEFAULT_MARKET_SHARES["tesla_model_3"] == 0.35
    assert DEFAULT_MARKET_SHARES["volkswagen_id4"] == 0.05


@pytest.mark.parametrize(
    ("vid", "mass", "cd", "area", "crr", "battery", "motor"),
    [
        ("nissan_leaf_2016_30kwh", 1636, 0.315, 2.755, 0.0080, 30, 80),
        ("chevrolet_bolt_2020", 1626, 0.309, 2.397, 0.0078, 66, 149),
        ("tesla_model_3_rwd_2022", 1752, 0.230, 2.220, 0.0070, 54, 239),
        ("renault_zoe_ze50", 1600, 0.330, 2.512, 0.0090, 54.7, 100),
    ],
)
def test_reference_vehicles_match_fastsim_parameters(
    vid: str, mass: float, cd: float, area: float, crr: float, battery: float, motor: float
) -> None:
    spec = get_vehicle(vid)
    assert spec.test_mass_kg == mass
    assert spec.drag_coefficient == cd
    assert spec.frontal_area_m2 == area
    assert spec.rolling_resistance == crr
    assert spec.battery_kwh == battery
    assert spec.motor_peak_kw == motor
    assert spec.aux_w == 250
    assert spec.motor_efficiency[0] == pytest.approx(0.84 * (1.03 if "bolt" in vid else 1.0))


def test_unknown_vehicle_lists_valid_ids() -> None:
    with pytest.raises(InputDataError, match="unknown vehicle id 'tesla_roadster'") as info:
        get_vehicle("tesla_roadster")
    for vid in FLEET_MIX:
        assert vid in str(info.value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("test_mass_kg", -1.0, "test_mass_kg"),
        ("drag_coefficient", float("nan"), "drag_coefficient"),
        ("rotating_mass_factor", 0.9, "rotating_mass_factor"),
        ("transmission_efficiency", 1.2, "transmission_efficiency"),
        ("motor_efficiency", (0.9, 0.95), "motor curve"),
        ("dc_curve_kw", (50.0,) * 10 + (400.0,), "above max_dc_kw"),
        ("dc_curve_soc", tuple(np.linspace(0, 0.9, 11)), "span 0..1"),
    ],
)
def test_spec_validation(field: str, value: object, message: str) -> None:
    spec = get_vehicle("nissan_leaf")
    with pytest.raises(InputDataError, match=message):
        dataclasses.replace(spec, **{field: value})


def test_dc_charge_power_tapers_and_is_capped_by_charger() -> None:
    spec = get_vehicle("tesla_model_3")
    soc = np.array([0.1, 0.3, 0.5, 0.8, 0.95, 1.0])
    fast = spec.charge_power_kw(soc, charger_kw=350.0)
    assert np.all(np.diff(fast[1:]) < 0)
    assert fast[0] == pytest.approx(spec.max_dc_kw)
    assert fast[-1] == 0.0
    slow = spec.charge_power_kw(soc, charger_kw=50.0)
    assert np.all(slow <= 50.0)
    assert slow[0] == 50.0


def test_ac_charge_power_is_flat_until_nearly_full() -> None:
    spec = get_vehicle("renault_zoe_ze50")
    power = spec.charge_power_kw([0.2, 0.9, 0.985, 1.0], charger_kw=7.2, kind=ChargerKind.AC)
    np.testing.assert_allclose(power, [7.2, 7.2, 3.6, 0.0])
    assert spec.charge_power_kw(0.5, charger_kw=50.0, kind="ac") == spec.max_ac_kw
    # AC ratings are grid-side: the battery gets rating x efficiency; DC is battery-side.
    lossy = spec.charge_power_kw(0.5, charger_kw=7.2, kind="ac", efficiency=0.9)
    assert lossy == pytest.approx(7.2 * 0.9)
    assert spec.charge_power_kw(0.5, charger_kw=40.0, efficiency=0.9) == 40.0
    with pytest.raises(InputDataError, match="efficiency"):
        spec.charge_power_kw(0.5, charger_kw=7.2, kind="ac", efficiency=1.5)
    with pytest.raises(InputDataError, match="charger_kw"):
        spec.charge_power_kw(0.5, charger_kw=-1.0)
    with pytest.raises(InputDataError, match="unknown charger kind 'dcx'"):
        spec.charge_power_kw(0.5, charger_kw=50.0, kind="dcx")


def test_charge_duration_and_inverse_are_consistent() -> None:
    spec = get_vehicle("chevrolet_bolt")
    minutes = spec.charge_duration_s(0.1, 0.8, charger_kw=150.0) / 60
    assert 50 < minutes < 75  # Bolt EV: ~1 h for 10-80 % on a 55 kW taper
    start = np.array([0.1, 0.3, 0.6])
    duration = spec.charge_duration_s(start, 0.8, charger_kw=150.0)
    np.testing.assert_allclose(spec.soc_after_charging(start, duration, charger_kw=150.0), 0.8)
    assert spec.charge_duration_s(0.8, 0.5, charger_kw=150.0) == 0.0
    assert np.isinf(spec.charge_duration_s(0.5, 1.0, charger_kw=150.0))
    hours_ac = spec.charge_duration_s(0.2, 0.9, charger_kw=11.0, kind="ac") / 3600
    assert hours_ac == pytest.approx(0.7 * 65.0 / 11.0, rel=1e-3)
    lossy_h = spec.charge_duration_s(0.2, 0.9, charger_kw=11.0, kind="ac", efficiency=0.9) / 3600
    assert lossy_h == pytest.approx(hours_ac / 0.9, rel=1e-3)
