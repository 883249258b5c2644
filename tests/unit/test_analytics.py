"""The studio's analytics tables: distance-weighted efficiencies, costs, stations, edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evfleet import analytics
from evfleet.errors import InputDataError
from tests.fixtures.tiny_dataset import tiny_dataset


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return tiny_dataset()


def test_fleet_kpis_sum_the_tables(tables: dict[str, pd.DataFrame]) -> None:
    routes, sessions = tables["routes"], tables["charging_sessions"]
    k = analytics.fleet_kpis(tables["fleet_info"], tables["vehicle_states"], routes, sessions)
    assert k["vehicles"] == 3
    assert k["days"] == 2
    assert k["trips"] == 5
    assert k["distance_km"] == pytest.approx(routes["distance_km"].sum())
    assert k["kwh_per_100km"] == pytest.approx(
        100 * routes["energy_kwh"].sum() / routes["distance_km"].sum()
    )
    usd_per_kwh = sessions["cost_usd"].sum() / sessions["grid_kwh"].sum()
    assert k["usd_per_kwh"] == pytest.approx(usd_per_kwh)
    assert k["soc_min"] == pytest.approx(tables["vehicle_states"]["soc_min"].min())


def test_efficiency_is_distance_weighted() -> None:
    routes = pd.DataFrame(
        {"vehicle_id": ["a", "a", "b"], "distance_km": [1.0, 99.0, 10.0],
         "energy_kwh": [1.0, 14.0, 2.0]}
    )  # fmt: skip
    fleet = pd.DataFrame({"vehicle_id": ["a", "b"], "model": ["m1", "m2"]})
    eff = analytics.efficiency_by(routes, fleet, "model").set_index("model")
    # 15 kWh over 100 km, not the mean of 100 and 14.1 kWh/100 km
    assert eff.loc["m1", "kwh_per_100km"] == pytest.approx(15.0)
    assert eff.loc["m1", "trips"] == 2
    assert eff.loc["m2", "kwh_per_100km"] == pytest.approx(20.0)
    with pytest.raises(InputDataError, match="cannot group efficiency by 'colour'"):
        analytics.efficiency_by(routes, fleet, "colour")


def test_temperature_bands_split_components(tables: dict[str, pd.DataFrame]) -> None:
    routes = tables["routes"].assign(temp_c=[-3.0, 2.0, 4.9, 12.0, 14.0])
    temp = analytics.efficiency_by_temperature(routes, bin_c=5.0).set_index("temp_c_from")
    assert list(temp.index) == [-5.0, 0.0, 10.0]
    assert temp.loc[0.0, "trips"] == 2
    parts = temp[[c for c in temp.columns if c.endswith("_kwh_per_100km")]].sum(axis=1)
    np.testing.assert_allclose(parts, temp["kwh_per_100km"], rtol=1e-9)
    with pytest.raises(InputDataError, match="positive"):
        analytics.efficiency_by_temperature(routes, bin_c=0)


def test_charging_cost_by_kind() -> None:
    sessions = pd.DataFrame(
        {"kind": ["home", "dcfc", "home"], "energy_kwh": [9.0, 27.0, 9.0],
         "grid_kwh": [10.0, 30.0, 10.0], "cost_usd": [3.0, 15.0, 3.0]}
    )  # fmt: skip
    cost = analytics.charging_cost(sessions).set_index("kind")
    assert list(cost.index) == ["dcfc", "home"]
    assert cost.loc["home", "sessions"] == 2
    assert cost.loc["home", "usd_per_kwh"] == pytest.approx(0.30)
    assert cost.loc["dcfc", "usd_per_kwh"] == pytest.approx(0.50)
    assert cost["share_of_cost"].sum() == pytest.approx(1.0)


def test_daily_cost(tables: dict[str, pd.DataFrame]) -> None:
    daily = analytics.daily_cost(tables["vehicle_states"])
    assert len(daily) == 2
    assert daily["charging_cost_usd"].sum() == pytest.approx(
        tables["vehicle_states"]["charging_cost_usd"].sum()
    )


def test_station_usage_keeps_idle_stations() -> None:
    stations = pd.DataFrame(
        {"station_id": ["s1", "s2"], "name": ["A", "B"], "lat": [37.7, 37.8],
         "lon": [-122.4, -122.3], "kind": ["l2", "dcfc"], "power_kw": [11.0, 150.0]}
    )  # fmt: skip
    sessions = pd.DataFrame(
        {"station_id": ["s2", "s2", None], "energy_kwh": [20.0, 30.0, 8.0],
         "cost_usd": [10.0, 14.0, 2.0], "wait_min": [0.0, 10.0, 0.0]}
    )  # fmt: skip
    usage = analytics.station_usage(sessions, stations).set_index("station_id")
    assert list(usage.index) == ["s2", "s1"]
    assert usage.loc["s2", "sessions"] == 2
    assert usage.loc["s2", "energy_kwh"] == pytest.approx(50.0)
    assert usage.loc["s2", "mean_wait_min"] == pytest.approx(5.0)
    assert usage.loc["s1", "sessions"] == 0
    assert usage.loc["s1", "revenue_usd"] == 0.0


def test_edge_energy_and_lines(tables: dict[str, pd.DataFrame]) -> None:
    segments = tables["segments"]
    per_edge = analytics.edge_energy(segments)
    assert per_edge["energy_kwh"].sum() == pytest.approx(segments["energy_kwh"].sum())
    assert per_edge["traversals"].sum() == len(segments)
    first = per_edge.set_index(["u", "v", "key"]).loc[(100, 101, 0)]
    rows = segments[(segments["u"] == 100) & (segments["v"] == 101)]
    assert first["kwh_per_km"] == pytest.approx(
        rows["energy_kwh"].sum() / (rows["length_m"].sum() / 1000)
    )
    nodes = pd.DataFrame({"node_id": [100, 101, 102], "lat": [1.0, 2.0, 3.0],
                          "lon": [10.0, 20.0, 30.0]})  # fmt: skip
    edges = pd.DataFrame({"u": [100, 101, 101, 102], "v": [101, 100, 102, 999],
                          "highway": ["primary"] * 4})  # fmt: skip
    lines = analytics.edge_lines(edges, nodes)
    # the two directions of 100-101 draw once; 102-999 has an unknown node
    assert lines[["u", "v"]].to_numpy().tolist() == [[100, 101], [101, 102]]
    assert lines[["src_lon", "src_lat", "dst_lon", "dst_lat"]].iloc[1].tolist() == [
        20.0, 2.0, 30.0, 3.0,
    ]  # fmt: skip


def test_missing_columns_are_named() -> None:
    with pytest.raises(InputDataError, match="segments lacks column"):
        analytics.edge_energy(pd.DataFrame({"u": [1]}))
