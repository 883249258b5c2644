"""Tests of tariffs, charging sessions and station choice (evfleet.fleet.charging)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evfleet.config import ChargingConfig
from evfleet.fleet.charging import (
    StationArrays,
    Tariff,
    charge,
    nearest_stations,
    rank_stations,
)
from evfleet.network.geo import haversine_km
from evfleet.units import HOUR_S
from evfleet.vehicles import get_vehicle

EFFICIENCY = 0.9
PLACE = ("st-1", 37.8, -122.27)


@pytest.fixture
def tariff() -> Tariff:
    return Tariff.from_config(ChargingConfig())


def _charge(
    kind: str,
    kw: float,
    soc0: float,
    target: float,
    start_h: float,
    hours: float,
    tariff: Tariff,
    model: str = "tesla_model_3",
    factor: float = 1.0,
):
    return charge(
        get_vehicle(model),
        kind=kind,
        charger_kw=kw,
        soc_start=soc0,
        target_soc=target,
        start_s=start_h * HOUR_S,
        latest_end_s=(start_h + hours) * HOUR_S,
        tariff=tariff,
        efficiency=EFFICIENCY,
        place=PLACE,
        trigger="threshold",
        station_factor=factor,
    )


def test_tariff_prices_follow_the_config(tariff: Tariff) -> None:
    cfg = ChargingConfig()
    assert tariff.price("home", 3 * HOUR_S) == pytest.approx(cfg.home_price_usd_per_kwh)
    assert tariff.price("home", 17 * HOUR_S) == pytest.approx(
        cfg.home_price_usd_per_kwh * cfg.peak_multiplier
    )
    assert tariff.price("l2", 10 * HOUR_S) == pytest.approx(
        cfg.l2_price_usd_per_kwh * cfg.public_multiplier
    )
    assert tariff.price("dcfc", (24 + 20.5) * HOUR_S) == pytest.approx(
        cfg.dcfc_price_usd_per_kwh * cfg.public_multiplier * cfg.peak_multiplier
    )
    assert tariff.off_peak_from(17.5 * HOUR_S) == 21 * HOUR_S
    assert tariff.off_peak_from(22 * HOUR_S) == 22 * HOUR_S
    np.testing.assert_allclose(
        tariff.boundaries(15 * HOUR_S, 46 * HOUR_S) / HOUR_S, [16, 21, 40, 45]
    )


def test_ac_session_energy_grid_power_and_flat_cost(tariff: Tariff) -> None:
    s = _charge("home", 7.2, 0.3, 0.8, 22.0, 10.0, tariff)
    spec = get_vehicle("tesla_model_3")
    assert s is not None
    assert s.soc_end == pytest.approx(0.8)
    assert s.energy_kwh == pytest.approx(0.5 * spec.battery_kwh)
    assert s.grid_kwh == pytest.approx(s.energy_kwh / EFFICIENCY)
    assert s.power_kw == 7.2  # the wall box's rating, exactly
    # The 7.2 kW rating is grid-side: the battery gets 7.2 x efficiency, the grid 7.2 kW.
    assert s.mean_power_kw == pytest.approx(7.2 * EFFICIENCY, rel=1e-3)
    hours = (s.end_s - s.start_s) / HOUR_S
    assert s.grid_kwh / hours == pytest.approx(7.2, rel=1e-3)
    assert s.cost_usd == pytest.approx(s.grid_kwh * tariff.price("home", 0.0))  # all off-peak


def test_ac_power_is_capped_by_the_on_board_charger(tariff: Tariff) -> None:
    s = _charge("l2", 22.0, 0.2, 0.5, 9.0, 10.0, tariff, model="nissan_leaf")
    assert s is not None
    assert s.power_kw == 22.0
    on_board = get_vehicle("nissan_leaf").max_ac_kw
    assert s.mean_power_kw == pytest.approx(on_board * EFFICIENCY, rel=1e-3)


def test_cost_splits_at_the_peak_boundary(tariff: Tariff) -> None:
    s = _charge("home", 7.2, 0.1, 0.9, 19.0, 12.0, tariff)  # 19:00 -> ~03:20, peak until 21:00
    assert s is not None
    peak_kwh = 2.0 * 7.2 * EFFICIENCY  # battery kWh of the two peak hours
    expected = (
        peak_kwh * tariff.price("home", 20 * HOUR_S)
        + (s.energy_kwh - peak_kwh) * tariff.price("home", 23 * HOUR_S)
    ) / EFFICIENCY
    assert s.cost_usd == pytest.approx(expected, rel=1e-3)
    assert tariff.price("home", 0.0) * s.grid_kwh < s.cost_usd


def test_station_factor_scales_the_public_price(tariff: Tariff) -> None:
    cheap = _charge("l2", 11.0, 0.2, 0.6, 9.0, 8.0, tariff, factor=0.8)
    base = _charge("l2", 11.0, 0.2, 0.6, 9.0, 8.0, tariff)
    assert cheap is not None
    assert base is not None
    assert cheap.cost_usd == pytest.approx(0.8 * base.cost_usd)


def test_dc_fast_charging_tapers_above_80_percent(tariff: Tariff) -> None:
    low = _charge("dcfc", 250.0, 0.10, 0.50, 10.0, 4.0, tariff)
    high = _charge("dcfc", 250.0, 0.80, 0.95, 10.0, 4.0, tariff)
    assert low is not None
    assert high is not None
    assert low.power_kw == high.power_kw == 250.0
    # DC ratings are battery-side: the Model 3 accepts >150 kW at low SOC, far less at 80 %.
    assert low.mean_power_kw > 150.0
    assert high.mean_power_kw < 0.5 * low.mean_power_kw
    assert low.grid_kwh == pytest.approx(low.energy_kwh / EFFICIENCY)
    assert low.end_s - low.start_s < 20 * 60


def test_session_stops_at_the_departure(tariff: Tariff) -> None:
    s = _charge("home", 7.2, 0.2, 0.9, 1.0, 2.0, tariff)
    assert s is not None
    assert s.end_s == pytest.approx(3.0 * HOUR_S)
    assert 0.2 < s.soc_end < 0.9
    assert s.energy_kwh == pytest.approx(
        (s.soc_end - 0.2) * get_vehicle("tesla_model_3").battery_kwh
    )


def test_nothing_to_charge_gives_no_session(tariff: Tariff) -> None:
    assert _charge("home", 7.2, 0.9, 0.85, 1.0, 5.0, tariff) is None
    assert _charge("home", 7.2, 0.5, 0.9, 1.0, 0.0, tariff) is None


@pytest.fixture
def stations() -> StationArrays:
    frame = pd.DataFrame(
        {
            "station_id": ["l2-near", "dc-near", "dc-far", "l2-off-route"],
            "node_id": [1, 2, 3, 4],
            "lat": [37.80, 37.801, 37.90, 37.70],
            "lon": [-122.20, -122.201, -122.20, -122.40],
            "kind": ["l2", "dcfc", "dcfc", "l2"],
            "power_kw": [11.0, 150.0, 350.0, 7.2],
            "ports": [2, 4, 8, 2],
            "price_usd_per_kwh": [0.35, 0.40, 0.60, 0.35],
        }
    )
    return StationArrays.from_frame(frame)


def test_station_price_factor_is_relative_to_its_kind(stations: StationArrays) -> None:
    np.testing.assert_allclose(stations.price_factor, [1.0, 0.8, 1.2, 1.0])


def test_rank_respects_kind_and_max_detour(stations: StationArrays, tariff: Tariff) -> None:
    spec = get_vehicle("tesla_model_3")
    a, b = (37.78, -122.22), (37.82, -122.18)

    def rank(dcfc: bool, km: float) -> list[str]:
        idx = rank_stations(
            stations,
            a,
            b,
            energy_kwh=30.0,
            spec=spec,
            tariff=tariff,
            want_dcfc=dcfc,
            max_detour_km=km,
        )
        return stations.station_id[idx].tolist()

    assert rank(True, 3.0) == ["dc-near"]
    assert rank(True, 100.0) == ["dc-near", "dc-far"]
    assert rank(False, 3.0) == ["l2-near"]
    assert rank(False, 0.0) == []


def test_nearest_stations_sorted_by_distance(stations: StationArrays) -> None:
    idx = nearest_stations(stations, 37.80, -122.20, radius_km=15.0)
    assert stations.station_id[idx].tolist() == ["l2-near", "dc-near", "dc-far"]
    assert haversine_km(37.0, -122.0, 38.0, -122.0) == pytest.approx(111.2, rel=1e-3)
