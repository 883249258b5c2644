"""Tests of the hourly Bay Area weather generator (evfleet.fleet.weather)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from evfleet.config import StudioConfig
from evfleet.errors import ConfigError, InputDataError
from evfleet.fleet import generate_weather
from evfleet.fleet.weather import WeatherLookup, simulate_weather, zone_index, zone_names
from evfleet.schema import TABLES, WEATHER_ZONES, conform


@pytest.fixture(scope="module")
def january() -> pd.DataFrame:
    return simulate_weather(dt.date(2024, 1, 1), 31, seed=7)


@pytest.fixture(scope="module")
def july() -> pd.DataFrame:
    return simulate_weather(dt.date(2024, 7, 1), 31, seed=7)


def _zone_mean(frame: pd.DataFrame, col: str) -> pd.Series:
    return frame.groupby("zone")[col].mean()


def test_table_follows_the_contract(january: pd.DataFrame) -> None:
    assert list(january.columns) == list(TABLES["weather"])
    assert len(january) == 31 * 24 * 3
    assert set(january["zone"]) == set(WEATHER_ZONES)
    pd.testing.assert_frame_equal(conform("weather", january), january)
    assert not january.isna().any().any()
    assert (january["is_raining"] == (january["precip_mm"] > 0)).all()
    assert january["humidity_pct"].between(15, 100).all()
    assert january["wind_dir_deg"].between(0, 360).all()


def test_same_seed_same_bytes_other_seed_differs(january: pd.DataFrame) -> None:
    again = simulate_weather(dt.date(2024, 1, 1), 31, seed=7)
    pd.testing.assert_frame_equal(january, again)
    other = simulate_weather(dt.date(2024, 1, 1), 31, seed=8)
    assert not np.allclose(other["temp_c"], january["temp_c"])


def test_generate_weather_uses_the_fleet_period_and_seed() -> None:
    cfg = StudioConfig().with_overrides({"fleet.days": 2, "fleet.start_date": "2024-03-01"})
    table = generate_weather(cfg)
    assert table["date"].astype(str).unique().tolist() == ["2024-03-01", "2024-03-02"]
    expected = simulate_weather(dt.date(2024, 3, 1), 2, seed=cfg.fleet.seed)
    pd.testing.assert_frame_equal(table, expected)


def test_microclimates_by_season(january: pd.DataFrame, july: pd.DataFrame) -> None:
    jul = _zone_mean(july, "temp_c")
    jan = _zone_mean(january, "temp_c")
    # Cool foggy SF summers, hot inland summers; mild winters everywhere.
    assert jul["sf_coast"] < jul["bay_side"] < jul["inland"]
    assert jul["inland"] - jul["sf_coast"] > 5.0
    assert jan.min() > 5.0
    assert jan.max() < 15.0
    assert _zone_mean(july, "humidity_pct")["sf_coast"] > _zone_mean(july, "humidity_pct")["inland"]


def test_wet_winters_dry_summers(january: pd.DataFrame, july: pd.DataFrame) -> None:
    assert january["precip_mm"].sum() > 10 * july["precip_mm"].sum() + 10.0
    assert july["is_raining"].mean() < 0.02


def test_daily_cycle_makes_the_hour_matter(july: pd.DataFrame) -> None:
    by_hour = july[july["zone"] == "inland"].groupby("hour")["temp_c"].mean()
    assert by_hour[15] - by_hour[6] > 8.0
    assert by_hour.idxmax() in (14, 15, 16)
    assert by_hour.idxmin() in (5, 6, 7)
    breeze = july[july["zone"] == "sf_coast"].groupby("hour")["wind_kph"].mean()
    assert breeze[16] > 1.5 * breeze[4]


def test_zones_of_known_places() -> None:
    lat = np.array([37.7749, 37.8044, 37.9101, 37.3382, 37.6624, 37.8591])
    lon = np.array([-122.4194, -122.2712, -122.0652, -121.8863, -121.8747, -122.4853])
    names = zone_names(lat, lon).tolist()
    assert names == ["sf_coast", "bay_side", "inland", "bay_side", "inland", "sf_coast"]
    assert zone_index(lat, lon).dtype == np.int8


def test_lookup_returns_the_row_of_each_hour_and_zone(january: pd.DataFrame) -> None:
    look = WeatherLookup(january, dt.date(2024, 1, 1))
    t_s = np.array([0.0, 3599.0, 3600.0 * 27 + 10, 1e9])
    zone = np.array([0, 1, 2, 2])
    got = look.get("temp_c", t_s, zone)
    rows = january.set_index(["date", "hour", "zone"])["temp_c"]
    day2 = january["date"].iloc[24 * 3]
    last = january.iloc[-1]
    assert got[0] == rows[(january["date"].iloc[0], 0, "sf_coast")]
    assert got[1] == rows[(january["date"].iloc[0], 0, "bay_side")]
    assert got[2] == rows[(day2, 3, "inland")]
    assert got[3] == last["temp_c"]  # clipped to the last hour


def test_lookup_rejects_gaps_and_wrong_start(january: pd.DataFrame) -> None:
    with pytest.raises(InputDataError, match="gaps"):
        WeatherLookup(january.drop(index=[5]), dt.date(2024, 1, 1))
    with pytest.raises(InputDataError, match="start"):
        WeatherLookup(january, dt.date(2024, 1, 2))
    with pytest.raises(InputDataError, match="missing columns"):
        WeatherLookup(january.drop(columns="temp_c"), dt.date(2024, 1, 1))


def test_zero_days_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="fleet.days"):
        simulate_weather(dt.date(2024, 1, 1), 0, seed=1)
