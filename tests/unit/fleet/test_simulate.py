"""Tests of the chunk simulator on a small embedded network (5 vehicles x 3 days)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evfleet.config import StudioConfig
from evfleet.errors import InputDataError
from evfleet.fleet import generate_fleet, generate_weather, simulate_chunk
from evfleet.fleet.charging import Tariff
from evfleet.fleet.context import open_stations
from evfleet.fleet.weather import zone_names
from evfleet.invariants import check_all
from evfleet.network import NetworkData, RoadGraph
from evfleet.schema import TABLES, conform
from evfleet.vehicles import get_vehicle

TABLE_NAMES = ("routes", "segments", "charging_sessions", "vehicle_states")


@pytest.fixture(scope="module")
def network(road_graph: RoadGraph, small_network: NetworkData) -> tuple[RoadGraph, pd.DataFrame]:
    return road_graph, small_network.stations


@pytest.fixture(scope="module")
def cfg() -> StudioConfig:
    return StudioConfig().with_overrides({"fleet.n_vehicles": 5, "fleet.days": 3, "fleet.seed": 11})


@pytest.fixture(scope="module")
def world(network, cfg) -> dict[str, pd.DataFrame]:
    graph, _stations = network
    fleet = generate_fleet(cfg, graph)
    # Low batteries and no home chargers for two vehicles: public charging must happen.
    fleet.loc[:1, "initial_soc"] = 0.2
    fleet.loc[:1, "has_home_charger"] = False
    weather = generate_weather(cfg)
    return {"fleet_info": fleet, "weather": weather}


@pytest.fixture(scope="module")
def tables(network, cfg, world) -> dict[str, pd.DataFrame]:
    graph, stations = network
    return simulate_chunk(cfg, graph, stations, world["fleet_info"], world["weather"])


def test_tables_follow_the_contract(tables: dict[str, pd.DataFrame]) -> None:
    assert set(tables) == set(TABLE_NAMES)
    for name in TABLE_NAMES:
        assert list(tables[name].columns) == list(TABLES[name])
        pd.testing.assert_frame_equal(conform(name, tables[name]), tables[name])
    assert len(tables["routes"]) > 10
    assert len(tables["segments"]) > len(tables["routes"])
    assert len(tables["vehicle_states"]) == 5 * 3


def test_invariants_hold(tables, world) -> None:
    assert check_all({"fleet_info": world["fleet_info"], **tables}) == []


def test_same_seed_same_bytes_whatever_the_chunking(network, cfg, world, tables) -> None:
    graph, stations = network
    fleet, weather = world["fleet_info"], world["weather"]
    parts = [
        simulate_chunk(cfg, graph, stations, fleet.iloc[i:j], weather) for i, j in ((0, 2), (2, 5))
    ]
    reversed_ = simulate_chunk(cfg, graph, stations, fleet.iloc[::-1], weather)
    for name in TABLE_NAMES:
        joined = pd.concat([p[name] for p in parts], ignore_index=True)
        pd.testing.assert_frame_equal(joined, tables[name])
        key = list(TABLES[name])[:2]
        again = reversed_[name].sort_values(key, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(again, tables[name].sort_values(key).reset_index(drop=True))


def _events(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    cols = ["vehicle_id", "start_time", "end_time", "soc_start", "soc_end"]
    return pd.concat(
        [
            tables["routes"][cols].assign(ev="trip"),
            tables["charging_sessions"][cols].assign(ev="charge"),
        ]
    ).sort_values(["vehicle_id", "start_time"], kind="stable")


def test_traction_power_stays_within_the_motor_peak(tables, world) -> None:
    seg = tables["segments"].merge(world["fleet_info"][["vehicle_id", "model"]], on="vehicle_id")
    peak = seg["model"].map(lambda m: get_vehicle(m).motor_peak_kw)
    assert (seg["max_power_kw"] >= 0).all()
    assert (seg["max_power_kw"] <= peak).all()
    assert (seg["max_power_kw"] > 0.3 * peak).any()  # drivers do use the power they have


def test_soc_is_carried_without_gaps(tables, world) -> None:
    events = _events(tables)
    initial = world["fleet_info"].set_index("vehicle_id")["initial_soc"]
    for vid, ev in events.groupby("vehicle_id"):
        start = ev["soc_start"].to_numpy()
        assert start[0] == initial[vid]
        np.testing.assert_array_equal(start[1:], ev["soc_end"].to_numpy()[:-1])
        assert (ev["start_time"].to_numpy()[1:] >= ev["end_time"].to_numpy()[:-1]).all()


def test_trips_end_within_the_period(tables, cfg) -> None:
    end = pd.Timestamp(cfg.fleet.start_date) + pd.Timedelta(days=cfg.fleet.days)
    assert tables["routes"]["end_time"].max() <= end
    assert tables["routes"]["start_time"].min() >= pd.Timestamp(cfg.fleet.start_date)


def test_trips_chain_place_to_place(tables) -> None:
    for _, r in tables["routes"].groupby("vehicle_id"):
        np.testing.assert_array_equal(
            r["origin_node"].to_numpy()[1:], r["destination_node"].to_numpy()[:-1]
        )


def test_segments_use_the_weather_of_their_zone_and_hour(tables, world) -> None:
    seg = tables["segments"]
    weather = world["weather"].set_index(["date", "hour", "zone"])
    keys = pd.MultiIndex.from_arrays(
        [
            seg["start_time"].dt.date.astype("date32[day][pyarrow]"),
            seg["start_time"].dt.hour.astype("int64"),
            zone_names(seg["start_lat"].to_numpy(), seg["start_lon"].to_numpy()),
        ]
    )
    expected = weather["temp_c"].reindex(keys).to_numpy()
    np.testing.assert_array_equal(seg["temp_c"].to_numpy(), expected)
    first = seg.groupby("trip_id", sort=False)["temp_c"].first()
    routes = tables["routes"].set_index("trip_id")
    np.testing.assert_array_equal(routes.loc[first.index, "temp_c"].to_numpy(), first.to_numpy())


def test_public_stops_are_driven_to(tables) -> None:
    s, r = tables["charging_sessions"], tables["routes"]
    public = s[s["kind"] != "home"]
    assert len(public) > 0
    legs = r[r["purpose"] == "charging"]
    for row in public.itertuples():
        before = legs[(legs["vehicle_id"] == row.vehicle_id) & (legs["end_time"] <= row.start_time)]
        last = before.iloc[-1]
        assert (last["destination_lat"], last["destination_lon"]) == (row.lat, row.lon)
        assert row.detour_km >= 0.0
    assert (s.loc[s["kind"] == "home", "detour_km"] == 0).all()


def test_costs_follow_the_tariff(tables, cfg) -> None:
    tariff = Tariff.from_config(cfg.charging)
    s = tables["charging_sessions"]
    np.testing.assert_allclose(s["grid_kwh"], s["energy_kwh"] / cfg.charging.efficiency)
    home = s[s["kind"] == "home"]
    per_kwh = home["cost_usd"] / home["grid_kwh"]
    lo, hi = tariff.price("home", 0.0), tariff.price("home", 17 * 3600.0)
    assert per_kwh.between(lo - 1e-9, hi + 1e-9).all()


def test_sessions_store_the_charger_rating_and_the_achieved_mean(network, cfg, tables) -> None:
    _graph, stations = network
    s = tables["charging_sessions"]
    home = s[s["kind"] == "home"]
    assert (home["power_kw"] == cfg.charging.home_power_kw).all()  # exactly, no float mean
    public = s[s["kind"].isin(["l2", "dcfc"])]
    rating = public["station_id"].map(stations.set_index("station_id")["power_kw"])
    np.testing.assert_array_equal(public["power_kw"], rating)
    hours = (s["end_time"] - s["start_time"]).dt.total_seconds() / 3600.0
    np.testing.assert_allclose(s["mean_power_kw"], s["energy_kwh"] / hours, rtol=1e-9)
    ac = s[s["kind"] != "dcfc"]  # grid-side ratings: the battery never gets more than x eff.
    assert (ac["mean_power_kw"] <= ac["power_kw"] * cfg.charging.efficiency + 1e-9).all()


def test_station_knobs_derate_and_thin_public_charging(network, cfg, world) -> None:
    graph, stations = network
    slow = cfg.with_overrides(
        {"charging.dcfc_power_kw": 50.0, "charging.l2_power_kw": 7.2,
         "charging.public_station_share": 0.3}
    )  # fmt: skip
    t = simulate_chunk(slow, graph, stations, world["fleet_info"], world["weather"])
    public = t["charging_sessions"].query("kind in ('l2', 'dcfc')")
    assert len(public) > 0
    assert (public.loc[public["kind"] == "dcfc", "power_kw"] <= 50.0).all()
    assert (public.loc[public["kind"] == "l2", "power_kw"] <= 7.2).all()
    kept = open_stations(stations, 0.3, seed=slow.fleet.seed)
    assert 0 < len(kept) < len(stations)
    assert set(public["station_id"]) <= set(kept["station_id"])


def test_vehicle_states_sum_the_day(tables) -> None:
    vs, r = tables["vehicle_states"], tables["routes"]
    day = r.assign(date=r["start_time"].dt.date.astype("date32[day][pyarrow]"))
    km = day.groupby(["vehicle_id", "date"])["distance_km"].sum()
    got = vs.set_index(["vehicle_id", "date"])["distance_km"]
    np.testing.assert_allclose(got[km.index].to_numpy(), km.to_numpy())
    assert (vs["soc_min"] <= vs["soc_end"] + 1e-12).all()


def test_bad_inputs_are_clear_errors(network, cfg, world) -> None:
    graph, stations = network
    fleet, weather = world["fleet_info"], world["weather"]
    with pytest.raises(InputDataError, match="fleet_chunk lacks"):
        simulate_chunk(cfg, graph, stations, fleet.drop(columns="model"), weather)
    with pytest.raises(InputDataError, match="no charging stations"):
        simulate_chunk(cfg, graph, stations.iloc[:0], fleet, weather)


def test_a_trip_starts_with_the_cabin_of_its_real_parking_time(network, cfg, world) -> None:
    """Two minutes parked in January leave a warm cabin: less HVAC than a cold soak."""
    from evfleet.fleet.context import ChunkContext

    graph, stations = network
    ctx = ChunkContext(cfg, graph, stations, world["weather"])
    vehicle = ctx.vehicle(world["fleet_info"].iloc[2])
    route = ctx.route(vehicle.home, vehicle.work)
    depart = np.array([7.5 * 3600.0])
    hvac = ctx.drive(vehicle, [route], depart).components_kwh[:, 5].sum()
    warm = ctx.drive(vehicle, [route], depart, parked_s=120.0).components_kwh[:, 5].sum()
    assert warm < 0.8 * hvac


def test_redriven_trips_park_from_the_last_arrival(network, cfg, world, monkeypatch) -> None:
    """After a charging stop the next trips are driven again: with the real parking time
    since the vehicle's last arrival, never as a car soaked overnight."""
    from evfleet.fleet.context import ChunkContext
    from evfleet.fleet.simulate import _plan
    from evfleet.fleet.walk import VehicleWalk
    from evfleet.physics import PARKED_COLD_S

    graph, stations = network
    ctx = ChunkContext(cfg, graph, stations, world["weather"])
    calls: list[tuple[float, float]] = []
    drive = ctx.drive

    def spy(v, routes, depart_s, parked_s=PARKED_COLD_S):
        if len(routes) == 1:
            calls.append((float(depart_s[0]), parked_s))
        return drive(v, routes, depart_s, parked_s)

    monkeypatch.setattr(ctx, "drive", spy)
    vehicle = ctx.vehicle(world["fleet_info"].iloc[0])  # low battery, no home charger
    walk = VehicleWalk(ctx, vehicle, _plan(ctx, vehicle)).run()
    ends = np.array([t.end_s for t in walk.trips])
    assert calls, "the low-battery vehicle never left its plan"
    for dep, parked in calls:
        earlier = ends[ends <= dep]
        if earlier.size:
            assert parked == pytest.approx(dep - earlier.max())
        else:
            assert parked == PARKED_COLD_S


def test_no_free_energy_charge_at_home_or_call_roadside(network, cfg, world) -> None:
    graph, stations = network
    fleet = world["fleet_info"].copy()
    fleet["initial_soc"] = 0.005  # below any trip's need: nothing reachable on this charge
    fleet["has_home_charger"] = [True] + [False] * (len(fleet) - 1)
    t = simulate_chunk(cfg, graph, stations, fleet, world["weather"])  # invariants checked
    s, routes, states = t["charging_sessions"], t["routes"], t["vehicle_states"]
    first = s.sort_values("start_time").groupby("vehicle_id").head(1).set_index("vehicle_id")
    home_id = fleet["vehicle_id"].iloc[0]
    assert first.loc[home_id, "kind"] == "home"  # charged before departure, at home
    others = first.drop(index=home_id)
    assert (others["kind"] == "roadside").all()
    assert (others["trigger"] == "stranded").all()
    assert (others["wait_min"] == 75.0).all()
    assert (others["cost_usd"] > 150.0).all()  # call-out fee + energy
    assert (others["power_kw"] == 20.0).all()
    assert (routes[["soc_start", "soc_end"]] >= 0).all().all()
    assert (s[["soc_start", "soc_end"]] >= 0).all().all()
    n_roadside = int((s["kind"] == "roadside").sum())
    assert routes["stranded"].sum() == states["stranded_trips"].sum() == n_roadside
    assert not routes.loc[routes["vehicle_id"] == home_id, "stranded"].any()
    assert check_all({"fleet_info": fleet, **t}) == []
