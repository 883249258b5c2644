"""Feature builder: leak-freedom, look-ahead, history, splits, network consistency, errors."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from evfleet.errors import InputDataError
from evfleet.features import (
    FEATURES,
    FORBIDDEN_INPUTS,
    HISTORY_FEATURES,
    PredictionContext,
    assign_splits,
    build_features,
    network_edges,
    network_features,
    sample_trips,
    split_by_time,
    split_by_vehicle,
)
from evfleet.features.build import expected_speed_kph, fractional_hour
from evfleet.models import route_features
from evfleet.schema import ENERGY_COMPONENTS
from tests.fixtures.ml_dataset import MLDataset

if TYPE_CHECKING:
    from evfleet.network import RoadGraph


@pytest.fixture(scope="module")
def data(ml_dataset: MLDataset) -> MLDataset:
    return ml_dataset


@pytest.fixture(scope="module")
def table(data: MLDataset) -> pd.DataFrame:
    return build_features(
        data.segments, data.fleet_info, data.weather, nodes=data.nodes, edges=data.edges
    )


def _features(
    data: MLDataset, segments: pd.DataFrame, weather: pd.DataFrame | None = None
) -> pd.DataFrame:
    return build_features(
        segments,
        data.fleet_info,
        data.weather if weather is None else weather,
        nodes=data.nodes,
        edges=data.edges,
    )


def test_table_has_every_feature_and_no_realised_input(table: pd.DataFrame) -> None:
    assert set(FEATURES) <= set(table.columns)
    assert not set(FEATURES) & FORBIDDEN_INPUTS
    assert not set(FEATURES) & set(ENERGY_COMPONENTS)
    assert np.isfinite(table["kwh_per_km"]).all()
    np.testing.assert_allclose(table["kwh_per_km"] * table["length_m"] / 1000, table["energy_kwh"])
    assert set(table["end_control"].astype(str)) <= {"none", "junction", "signal", "stop_sign"}


def test_realised_columns_do_not_change_features(data: MLDataset, table: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    scrambled = data.segments.copy()
    for col in ("mean_speed_kph", "max_speed_kph", "n_stops", *ENERGY_COMPONENTS):
        scrambled[col] = scrambled[col].to_numpy()[rng.permutation(len(scrambled))]
    # Durations only date a trip's arrival (its last segment), for the *next* trip's
    # parking time: scrambling every other duration changes nothing.
    last = scrambled["seq"] == scrambled.groupby("trip_id")["seq"].transform("max")
    inner = np.flatnonzero(~last.to_numpy())
    scrambled.loc[inner, "duration_s"] = scrambled["duration_s"].to_numpy()[rng.permutation(inner)]
    pd.testing.assert_frame_equal(_features(data, scrambled)[list(FEATURES)], table[list(FEATURES)])


def test_look_ahead_changes_after_t_leave_earlier_features_unchanged(
    data: MLDataset, table: pd.DataFrame
) -> None:
    t = data.segments["start_time"].quantile(0.6)
    later = data.segments["start_time"] >= t
    changed = data.segments.copy()
    changed.loc[later, "energy_kwh"] *= 3.0
    changed.loc[later, "temp_c"] += 15.0
    changed.loc[later, "length_m"] *= 2.0
    changed.loc[later, "duration_s"] *= 2.0
    weather = data.weather.copy()
    day = pd.to_datetime(weather["date"].astype(str)) + pd.to_timedelta(weather["hour"], unit="h")
    weather.loc[day >= t.floor("h") + pd.Timedelta(hours=1), "humidity_pct"] = 1.0
    after = _features(data, changed, weather)
    before_t = (table["start_time"] < t).to_numpy()
    assert before_t.sum() > 100
    pd.testing.assert_frame_equal(
        after.loc[before_t, list(FEATURES)].reset_index(drop=True),
        table.loc[before_t, list(FEATURES)].reset_index(drop=True),
    )
    assert not after.loc[~before_t, "hist_kwh_per_km"].equals(
        table.loc[~before_t, "hist_kwh_per_km"]
    )


def test_history_aggregates_strictly_earlier_days(table: pd.DataFrame) -> None:
    vid = table["vehicle_id"].iloc[0]
    rows = table[table["vehicle_id"] == vid]
    day = rows["start_time"].dt.normalize()
    first = rows[day == day.min()]
    assert first["hist_kwh_per_km"].isna().all()
    assert (first["hist_days"] == 0).all()
    last_day = day.max()
    earlier = rows[day < last_day]
    expected = earlier["energy_kwh"].sum() / (earlier["length_m"].sum() / 1000)
    got = rows.loc[day == last_day, "hist_kwh_per_km"].unique()
    np.testing.assert_allclose(got, [expected])
    assert rows.loc[day == last_day, "hist_days"].iloc[0] == day[day < last_day].nunique()


def test_vehicle_split_never_shares_a_vehicle(table: pd.DataFrame) -> None:
    labels = split_by_vehicle(table["vehicle_id"], seed=1)
    groups = {s: set(table.loc[labels == s, "vehicle_id"]) for s in ("train", "valid", "test")}
    assert all(groups.values())
    assert not groups["train"] & (groups["valid"] | groups["test"])
    assert not groups["valid"] & groups["test"]
    np.testing.assert_array_equal(labels, split_by_vehicle(table["vehicle_id"], seed=1))


def test_time_split_holds_out_last_days_with_whole_trips(table: pd.DataFrame) -> None:
    labels = split_by_time(table["trip_id"], table["start_time"])
    per_trip = pd.Series(labels).groupby(table["trip_id"].to_numpy()).nunique()
    assert (per_trip == 1).all()
    day = table["start_time"].dt.normalize()
    assert day[labels == "train"].max() < day[labels == "valid"].min()
    assert day[labels == "valid"].max() < day[labels == "test"].min()
    splits = assign_splits(table, seed=1)
    assert {"split_vehicle", "split_time"} <= set(splits.columns)


def test_split_and_sample_errors(table: pd.DataFrame) -> None:
    with pytest.raises(InputDataError, match="at least 3 vehicles"):
        split_by_vehicle(pd.Series(["a", "b", "a"]))
    keep = sample_trips(table["trip_id"], 0.5, seed=2)
    kept = table.loc[keep, "trip_id"].unique()
    assert 0 < len(kept) < table["trip_id"].nunique()
    assert keep.sum() == table["trip_id"].isin(kept).sum()
    with pytest.raises(InputDataError, match="fraction"):
        sample_trips(table["trip_id"], 0.0)


def test_network_features_match_training_features(data: MLDataset, table: pd.DataFrame) -> None:
    through = np.flatnonzero((table["is_trip_start"] == 0) & (table["is_trip_end"] == 0))
    pos = int(through[len(through) // 2])
    row = table.iloc[pos]
    assert not feats_flags_set(row)
    veh = data.fleet_info.set_index("vehicle_id").loc[row["vehicle_id"]]
    wind_from = 0.0
    departure = table.loc[table["trip_id"] == row["trip_id"], "start_time"].min()
    planned = departure + pd.Timedelta(minutes=float(row["trip_elapsed_min"]))
    context = PredictionContext(
        model=str(veh["model"]),
        mass_kg=float(veh["mass_kg"]),
        battery_kwh=float(veh["battery_kwh"]),
        departure=planned.floor("us"),
        temp_c=float(row["temp_c"]),
        humidity_pct=row["humidity_pct"],
        is_raining=bool(row["is_raining"]),
        driver_profile=str(veh["driver_profile"]),
        driving_style=str(veh["driving_style"]),
        charging_personality=str(veh["charging_personality"]),
        wind_kph=0.0,
        wind_from_deg=wind_from,
        history={n: row[n] for n in HISTORY_FEATURES},
        parked_h=float(row["parked_h"]),
        trip_elapsed_min=float(row["trip_elapsed_min"]),
    )
    edges = network_edges(data.edges, data.nodes)
    match = ((edges["u"] == row["u"]) & (edges["v"] == row["v"])).to_numpy()
    through = network_features(edges, context)
    assert len(through) == len(data.edges)
    plain = through.loc[match].iloc[0]  # a through edge: neighbours at its speed, no turn
    assert plain["prev_expected_speed_kph"] == plain["expected_speed_kph"]
    assert plain["next_expected_speed_kph"] == plain["expected_speed_kph"]
    assert plain["turn_deg"] == 0.0
    assert plain["prev_turn_deg"] == 0.0
    around_names = ("prev_expected_speed_kph", "next_expected_speed_kph", "turn_deg",
                    "prev_turn_deg", "start_stop_prob")  # fmt: skip
    around = {c: row[c] for c in around_names}
    got = network_features(edges.assign(**around), context).loc[match].iloc[0]
    wind = {"headwind_kph", "crosswind_kph", "aero_prior_kwh_per_km", "physics_prior_kwh_per_km"}
    for name in FEATURES:
        if name in wind:
            continue
        if isinstance(got[name], str):
            assert got[name] == str(row[name]), name
        else:
            np.testing.assert_allclose(got[name], row[name], rtol=1e-9, atol=1e-6, err_msg=name)


def test_route_features_equal_the_training_features_of_a_recorded_trip(data: MLDataset) -> None:
    # One forecast for the whole trip (inference has one), so every feature must agree.
    calm = {"temp_c": 9.0, "wind_kph": 0.0, "humidity_pct": 70.0, "is_raining": False}
    table = build_features(
        data.segments,
        data.fleet_info,
        data.weather.assign(**calm),
        nodes=data.nodes,
        edges=data.edges,
    )
    lengths = table.groupby("trip_id")["seq"].size()
    trip_id = lengths.index[lengths.to_numpy().argmax()]  # the longest: crosses planned time
    rows = table.loc[table["trip_id"] == trip_id].sort_values("seq").reset_index(drop=True)
    seg = data.segments.loc[data.segments["trip_id"] == trip_id].sort_values("seq")
    assert len(seg) == len(rows)  # no segment dropped
    edges = network_edges(data.edges, data.nodes).set_index(["u", "v", "key"])
    route = edges.loc[list(zip(seg["u"], seg["v"], seg["key"], strict=True))].reset_index()
    first = rows.iloc[0]
    veh = data.fleet_info.set_index("vehicle_id").loc[first["vehicle_id"]]
    context = PredictionContext(
        model=str(veh["model"]),
        mass_kg=float(veh["mass_kg"]),
        battery_kwh=float(veh["battery_kwh"]),
        departure=first["start_time"],  # the recorded departure
        temp_c=9.0,
        humidity_pct=70.0,
        driver_profile=str(veh["driver_profile"]),
        driving_style=str(veh["driving_style"]),
        charging_personality=str(veh["charging_personality"]),
        history={n: first[n] for n in HISTORY_FEATURES},
        parked_h=float(first["parked_h"]),
    )
    got = route_features(route, context)
    assert rows["trip_elapsed_min"].iloc[-1] > 5.0
    for name in FEATURES:
        if isinstance(got[name].dtype, pd.CategoricalDtype):
            assert list(got[name].astype(str)) == list(rows[name].astype(str)), name
        else:
            np.testing.assert_allclose(
                got[name].to_numpy(dtype=float), rows[name].to_numpy(dtype=float),
                rtol=1e-9, atol=1e-6, err_msg=name,
            )  # fmt: skip


def feats_flags_set(row: pd.Series) -> bool:
    return bool(row["is_trip_start"] or row["is_trip_end"])


def test_route_position_flags(table: pd.DataFrame) -> None:
    first = table.groupby("trip_id")["seq"].transform("min") == table["seq"]
    last = table.groupby("trip_id")["seq"].transform("max") == table["seq"]
    np.testing.assert_array_equal(table["is_trip_start"], (table["seq"] == 0).astype(float))
    assert (table.loc[first, "is_trip_start"] == 1).all()
    assert (table.loc[last, "is_trip_end"] == 1).all()
    assert table["is_trip_end"].sum() == table["trip_id"].nunique()


def test_network_wind_projection() -> None:
    edges = pd.DataFrame(
        {
            "u": [0, 1],
            "v": [1, 0],
            "key": [0, 0],
            "length_m": [500.0, 500.0],
            "highway": ["primary", "primary"],
            "speed_kph": [50.0, 50.0],
            "grade": [0.0, 0.0],
        }
    )
    nodes = pd.DataFrame(
        {
            "node_id": [0, 1],
            "lat": [37.70, 37.7045],
            "lon": [-122.3, -122.3],
            "elevation_m": [10.0, 10.0],
        }
    )
    context = PredictionContext(
        model="nissan_leaf",
        mass_kg=1700,
        battery_kwh=39,
        departure=pd.Timestamp("2024-01-15 08:00"),
        temp_c=10,
        wind_kph=20,
        wind_from_deg=0,
    )
    feats = network_features(network_edges(edges, nodes), context)
    np.testing.assert_allclose(feats["headwind_kph"], [20.0, -20.0], atol=1e-6)
    assert feats["aero_prior_kwh_per_km"].iloc[0] > feats["aero_prior_kwh_per_km"].iloc[1]


def test_bad_inputs_give_clear_errors(data: MLDataset) -> None:
    with pytest.raises(InputDataError, match="empty"):
        build_features(data.segments.iloc[:0], data.fleet_info, data.weather)
    with pytest.raises(InputDataError, match="missing columns: grade"):
        build_features(data.segments.drop(columns=["grade"]), data.fleet_info, data.weather)
    with pytest.raises(InputDataError, match="missing from fleet_info"):
        build_features(data.segments, data.fleet_info.iloc[1:], data.weather)
    bad_fleet = data.fleet_info.assign(model="flying_car")
    with pytest.raises(InputDataError, match="unknown vehicle id 'flying_car'"):
        build_features(data.segments, bad_fleet, data.weather)
    with pytest.raises(InputDataError, match="temp_c"):
        PredictionContext(
            model="nissan_leaf",
            mass_kg=1700,
            battery_kwh=39,
            departure=pd.Timestamp("2024-01-15"),
            temp_c=99,
        )


def test_every_feature_is_documented_in_the_catalogue() -> None:
    from evfleet.features import catalog

    doc = catalog.__doc__ or ""
    undocumented = [name for name in FEATURES if name not in doc]
    assert not undocumented


def test_trip_timing_comes_from_the_plan_and_earlier_trips(
    data: MLDataset, table: pd.DataFrame
) -> None:
    seg = data.segments
    trips = (
        seg.assign(arrive=seg["start_time"] + pd.to_timedelta(seg["duration_s"], unit="s"))
        .sort_values(["trip_id", "seq"])
        .groupby("trip_id")
        .agg(
            vehicle=("vehicle_id", "first"),
            depart=("start_time", "first"),
            arrive=("arrive", "last"),
        )
        .sort_values(["vehicle", "depart"])
    )
    gap_h = (trips["depart"] - trips.groupby("vehicle")["arrive"].shift()) / pd.Timedelta(hours=1)
    expected = gap_h.fillna(24.0).clip(0.0, 24.0)
    got = table.groupby("trip_id")["parked_h"].agg(["min", "max"])
    np.testing.assert_allclose(got["min"], got["max"])  # one value per trip
    np.testing.assert_allclose(got["min"], expected.loc[got.index], rtol=1e-9)
    assert (got["min"] < 24.0).any()
    assert (got["min"] == 24.0).any()
    ordered = table.sort_values(["trip_id", "seq"])
    assert (ordered.loc[ordered["seq"] == 0, "trip_elapsed_min"] == 0.0).all()
    steps = ordered.groupby("trip_id")["trip_elapsed_min"].diff().dropna()
    assert (steps > 0).all()
    # the expected (not realised) time: the route's minutes at the departure hour add up
    depart = ordered.groupby("trip_id")["start_time"].transform("first")
    speed = expected_speed_kph(
        ordered["speed_limit_kph"].to_numpy(),
        pd.Categorical(ordered["highway"].astype(str)),
        fractional_hour(depart),
        depart.dt.weekday.to_numpy() >= 5,
    )
    expected_min = ordered["length_m"] / 1000 / speed * 60
    total = (ordered["trip_elapsed_min"] + expected_min).groupby(ordered["trip_id"]).max()
    np.testing.assert_allclose(total, expected_min.groupby(ordered["trip_id"]).sum(), rtol=1e-9)


def test_a_cold_soaked_cabin_raises_the_hvac_prior_in_winter(data: MLDataset) -> None:
    edges = network_edges(data.edges, data.nodes).iloc[:50]
    base = {
        "model": "nissan_leaf",
        "mass_kg": 1700.0,
        "battery_kwh": 39.0,
        "departure": pd.Timestamp("2024-01-16 07:00"),
        "temp_c": 2.0,
    }
    cold = network_features(edges, PredictionContext(**base, parked_h=24.0, trip_elapsed_min=0))
    warm = network_features(edges, PredictionContext(**base, parked_h=0.05, trip_elapsed_min=0))
    later = network_features(edges, PredictionContext(**base, parked_h=24.0, trip_elapsed_min=60))
    hvac = "hvac_prior_kwh_per_km"
    assert (cold[hvac] > 1.5 * warm[hvac]).all()
    assert (cold[hvac] > 1.5 * later[hvac]).all()
    assert (later[hvac] <= warm[hvac]).all()  # three minutes parked cool the cabin a little
    assert (cold["rolling_prior_kwh_per_km"] > later["rolling_prior_kwh_per_km"]).all()


def test_bad_trip_context_is_a_clear_error() -> None:
    with pytest.raises(InputDataError, match="parked_h must be finite and >= 0"):
        PredictionContext(
            model="nissan_leaf",
            mass_kg=1700.0,
            battery_kwh=39.0,
            departure=pd.Timestamp("2024-01-16 07:00"),
            temp_c=2.0,
            parked_h=-1.0,
        )


def test_route_context_reads_neighbours_turns_and_time_in_driving_order() -> None:
    from evfleet.features.build import route_context

    route = pd.DataFrame(
        {
            "length_m": [1000.0, 500.0, 2000.0],
            "speed_limit_kph": [50.0, 100.0, 30.0],
            "highway": ["residential", "primary", "residential"],
            "heading_deg": [90.0, 90.0, 0.0],  # east, east, then a left turn north
        }
    )
    ctx = route_context(route, 3.0, weekend=False)  # 03:00, free flow (within 0.01 %)
    speeds = [50.0, 100.0, 30.0]
    close = {"rtol": 1e-4}
    np.testing.assert_allclose(ctx["prev_expected_speed_kph"], [0.0, 50.0, 100.0], **close)
    np.testing.assert_allclose(ctx["next_expected_speed_kph"], [100.0, 30.0, 0.0], **close)
    np.testing.assert_allclose(ctx["turn_deg"], [0.0, 90.0, 0.0])
    minutes = np.array([1.0, 0.5, 2.0]) / np.array(speeds) * 60
    np.testing.assert_allclose(
        ctx["trip_elapsed_min"], [0.0, minutes[0], minutes[:2].sum()], **close
    )
    two = pd.concat([route, route], ignore_index=True)
    np.testing.assert_allclose(
        route_context(two, 3.0, False, trip=[1, 1, 1, 2, 2, 2])["prev_expected_speed_kph"],
        [0.0, 50.0, 100.0, 0.0, 50.0, 100.0],
        **close,
    )
    with pytest.raises(InputDataError, match="contiguous and in driving order"):
        route_context(two, 3.0, False, trip=[1, 2, 1, 2, 1, 2])


def test_route_context_stop_odds_and_previous_turn() -> None:
    from evfleet.features.build import route_context
    from evfleet.physics.roads import STOP_PROBABILITY, JunctionControl, RoadClass

    route = pd.DataFrame(
        {
            "length_m": [1000.0, 500.0, 2000.0],
            "speed_limit_kph": [50.0, 100.0, 30.0],
            "highway": ["residential", "primary", "residential"],
            "heading_deg": [90.0, 90.0, 0.0],
            "start_control": ["none", "signal", "stop_sign"],
        }
    )
    ctx = route_context(route, 3.0, weekend=False)
    np.testing.assert_allclose(ctx["prev_turn_deg"], [0.0, 0.0, 90.0])
    # entering edge 1 comes off a residential road at a signal; edge 2 off a primary road
    expected = [
        1.0,
        STOP_PROBABILITY[RoadClass.RESIDENTIAL, JunctionControl.SIGNAL],
        STOP_PROBABILITY[RoadClass.PRIMARY, JunctionControl.STOP_SIGN],
    ]
    np.testing.assert_allclose(ctx["start_stop_prob"], expected)


def test_junction_controls_are_the_simulators(road_graph: RoadGraph) -> None:
    from evfleet.features.build import CONTROL_NAMES, node_controls
    from evfleet.fleet.road_arrays import NetArrays

    nodes, edges = road_graph.nodes_frame(), road_graph.edges_frame()
    control = node_controls(nodes, edges)
    names = control.loc[edges["v"].to_numpy()].astype(str).to_numpy()
    codes = NetArrays.from_graph(road_graph).control
    assert list(names) == [CONTROL_NAMES[c] for c in codes]
    assert {"junction", "none"} <= set(names)  # untagged nodes: 3+ streets or not


def test_stop_odds_and_inertia_prior_follow_the_route_ends(table: pd.DataFrame) -> None:
    start, end = table["is_trip_start"] == 1, table["is_trip_end"] == 1
    assert (table.loc[start, "start_stop_prob"] == 1).all()
    assert (table.loc[end, "end_stop_prob"] == 1).all()
    through = ~start & ~end
    assert table.loc[through, "end_stop_prob"].between(0, 1).all()
    # from standstill the car spends kinetic energy; stopping at the end regenerates some
    assert (table.loc[start & ~end, "inertia_prior_kwh_per_km"] > 0).all()
    flowing_in = (table["start_stop_prob"] == 0) & (table["prev_turn_deg"] < 45)
    flowing_in &= table["prev_expected_speed_kph"] >= table["expected_speed_kph"]
    arriving = table.loc[end & ~start & flowing_in, "inertia_prior_kwh_per_km"]
    assert len(arriving)
    assert (arriving < 0).all()


def test_static_columns_are_cached_per_edge_table(data: MLDataset) -> None:
    from evfleet.features.build import edge_columns
    from evfleet.features.network import static_cache_info, static_columns

    edges = network_edges(data.edges, data.nodes)
    context = PredictionContext(
        model="nissan_leaf", mass_kg=1700, battery_kwh=40,
        departure=pd.Timestamp("2024-01-16 08:30"), temp_c=5.0,
    )  # fmt: skip
    first = network_features(edges, context)
    hits = static_cache_info().hits
    later = network_features(edges, replace(context, temp_c=-3.0))
    assert static_cache_info().hits == hits + 1
    assert static_columns(edges) is static_columns(edges)
    fresh = network_features(edges, replace(context, temp_c=-3.0), static=edge_columns(edges))
    pd.testing.assert_frame_equal(later, fresh)
    assert not later["temp_c"].equals(first["temp_c"])
    # a planned route's edges are never cached (they differ per route)
    route = edges.iloc[:3].assign(turn_deg=[0.0, 90.0, 0.0])
    assert static_columns(route) is not static_columns(route)
