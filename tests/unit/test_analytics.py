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


def _kpi_rows(run: tuple[str, str], base: float, opt: float) -> list[dict[str, object]]:
    rows = []
    for side, value in (("baseline", base), ("optimised", opt)):
        row: dict[str, object] = dict.fromkeys(analytics.OPT_KPIS, value)
        row.update(vehicle_id="FLEET", side=side, strategy=run[0], planning_mode=run[1])
        rows.append(row)
    return rows


def test_optimisation_comparison_per_run_and_kpi() -> None:
    kpis = pd.DataFrame(
        _kpi_rows(("energy_first", "myopic"), 10.0, 8.0)
        + _kpi_rows(("time_critical", "myopic"), 10.0, 12.0)
        + [{**_kpi_rows(("energy_first", "myopic"), 99.0, 99.0)[0], "vehicle_id": "EV000001"}]
    )
    out = analytics.optimisation_comparison(kpis)
    assert list(out.columns) == ["run", "kpi", "baseline", "optimised", "change", "change_pct"]
    assert len(out) == 2 * len(analytics.OPT_KPIS), "fleet rows only, one per run and KPI"
    assert list(out["kpi"].iloc[: len(analytics.OPT_KPIS)]) == list(analytics.OPT_KPIS)
    energy = out.set_index(["run", "kpi"]).loc[("energy_first/myopic", "energy_kwh")]
    assert energy["change"] == pytest.approx(-2.0)
    assert energy["change_pct"] == pytest.approx(-20.0)
    slower = out.set_index(["run", "kpi"]).loc[("time_critical/myopic", "drive_time_h")]
    assert slower["change_pct"] == pytest.approx(20.0)
    zero = pd.DataFrame(_kpi_rows(("balanced", "next_trip"), 0.0, 1.0))
    assert analytics.optimisation_comparison(zero)["change_pct"].isna().all()


def _grid_nodes() -> pd.DataFrame:
    return pd.DataFrame({"node_id": [1, 2, 3, 4], "lat": [0.0, 0.0, 1.0, 1.0],
                         "lon": [0.0, 1.0, 1.0, 0.0]})  # fmt: skip


def test_vehicle_day_routes_baseline_and_optimised() -> None:
    start = pd.Timestamp("2024-01-15").date()
    segments = pd.DataFrame({
        "trip_id": ["a", "a", "b", "c"], "vehicle_id": "EV000001", "seq": [1, 0, 0, 0],
        "u": [2, 1, 3, 1], "v": [3, 2, 4, 4],
        "start_time": pd.to_datetime(["2024-01-15 08:05", "2024-01-15 08:00",
                                      "2024-01-15 18:00", "2024-01-16 08:00"]),
    })  # fmt: skip
    plans = pd.DataFrame({
        "vehicle_id": ["EV000001"] * 3, "trip_id": ["a", "b", "c"],
        "depart_s": [8 * 3600.0, 18 * 3600.0, 32 * 3600.0],
        "route_nodes": [[1, 4, 3], [3, 4], [1, 4]], "n_stops": [0, 1, 0],
    })  # fmt: skip
    day = pd.Timestamp("2024-01-15").date()
    lines = analytics.vehicle_day_routes(segments, plans, _grid_nodes(), "EV000001", day, start)
    base = lines[lines["side"] == "baseline"]
    assert list(zip(base["u"], base["v"], strict=True)) == [(1, 2), (2, 3), (3, 4)]
    opt = lines[lines["side"] == "optimised"]
    assert list(zip(opt["u"], opt["v"], strict=True)) == [(1, 4), (4, 3), (3, 4)]
    assert opt["dst_lat"].tolist() == [1.0, 1.0, 1.0]
    days = analytics.vehicle_days(plans, start)
    assert days[["trips", "stops"]].to_numpy().tolist() == [[2, 1], [1, 0]]


def test_vehicle_day_charging_places_stops() -> None:
    start = pd.Timestamp("2024-01-15").date()
    day = start
    sessions = pd.DataFrame({
        "vehicle_id": ["EV000001", "EV000001"], "kind": ["l2", "home"],
        "station_id": ["s1", ""], "lat": [0.5, 0.0], "lon": [0.5, 0.0],
        "start_time": pd.to_datetime(["2024-01-15 12:00", "2024-01-16 22:00"]),
        "energy_kwh": [5.0, 9.0], "cost_usd": [2.0, 1.0],
    })  # fmt: skip
    plan = pd.DataFrame({
        "vehicle_id": ["EV000001"] * 2, "kind": ["dcfc", "home"],
        "station_id": ["s2", "HOME-EV000001"], "site": ["", "4"],
        "start_s": [9 * 3600.0, 20 * 3600.0], "energy_kwh": [7.0, 3.0], "cost_usd": [4.0, 0.5],
    })  # fmt: skip
    stations = pd.DataFrame({"station_id": ["s1", "s2"], "lat": [0.5, 0.9], "lon": [0.5, 0.1]})
    out = analytics.vehicle_day_charging(
        sessions, plan, stations, _grid_nodes(), "EV000001", day, start
    )
    assert out["side"].tolist() == ["baseline", "optimised", "optimised"]
    assert out[["lat", "lon"]].to_numpy().tolist() == [[0.5, 0.5], [0.9, 0.1], [1.0, 0.0]]
    assert out["start"].iloc[1] == pd.Timestamp("2024-01-15 09:00")


def test_named_places_one_node_per_place_and_stations() -> None:
    nodes = _grid_nodes().assign(place=["Alpha", "Alpha", "Beta", ""],
                                 pop_weight=[1.0, 3.0, 1.0, 9.0])  # fmt: skip
    stations = pd.DataFrame({"name": ["Alpha", "Depot"], "node_id": [1, 3], "lat": [0.0, 1.0],
                             "lon": [0.0, 1.0], "kind": ["l2", "dcfc"]})  # fmt: skip
    out = analytics.named_places(nodes, stations)
    assert out["name"].tolist() == ["Alpha", "Alpha (station)", "Beta", "Depot (station)"]
    assert out.set_index("name").loc["Alpha", "node_id"] == 2, "the busiest node of the place"
    assert analytics.named_places(_grid_nodes()).empty


def test_lines_near_keeps_the_box_around_the_points() -> None:
    lines = pd.DataFrame({"src_lon": [0.0, 0.5, 3.0], "src_lat": [0.0, 0.5, 3.0],
                          "dst_lon": [0.1, 2.0, 3.1], "dst_lat": [0.1, 2.0, 3.1]})  # fmt: skip
    near = analytics.lines_near(lines, np.array([0.0, 1.0]), np.array([0.0, 1.0]), margin=0.1)
    assert near["src_lon"].tolist() == [0.0, 0.5], "one end inside is enough; far lines go"
    assert analytics.lines_near(lines, np.array([]), np.array([])).empty
