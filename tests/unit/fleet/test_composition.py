"""Tests of fleet composition and trip planning (no road network needed)."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from evfleet.config import DriverProfile, StudioConfig, config_from_dict
from evfleet.errors import ConfigError
from evfleet.fleet import generate_fleet
from evfleet.fleet.behaviour import PROFILES
from evfleet.fleet.composition import allocate, vehicle_id, vehicle_index
from evfleet.fleet.places import Places
from evfleet.fleet.planning import Anchors, plan_vehicle
from evfleet.schema import TABLES, conform
from evfleet.vehicles import get_vehicle

MONDAY = dt.date(2024, 1, 15)


def _nodes(n: int = 900, seed: int = 3) -> pd.DataFrame:
    """A grid of nodes over the East Bay with random weights."""
    rng = np.random.default_rng(seed)
    side = int(np.sqrt(n))
    lat, lon = np.meshgrid(np.linspace(37.70, 37.90, side), np.linspace(-122.30, -122.05, side))
    return pd.DataFrame(
        {
            "node_id": np.arange(side * side) * 10 + 5,
            "lat": lat.ravel(),
            "lon": lon.ravel(),
            "pop_weight": rng.random(side * side),
            "commercial_weight": rng.random(side * side) ** 3,
        }
    )


@pytest.fixture(scope="module")
def graph() -> SimpleNamespace:
    return SimpleNamespace(nodes_frame=_nodes)


@pytest.fixture(scope="module")
def places(graph: SimpleNamespace) -> Places:
    return Places.from_nodes(graph.nodes_frame())


def _cfg(**overrides: object) -> StudioConfig:
    return StudioConfig().with_overrides({f"fleet.{k}": v for k, v in overrides.items()})


def test_fleet_info_follows_the_contract_and_the_mix(graph: SimpleNamespace) -> None:
    cfg = _cfg(n_vehicles=40)
    fleet = generate_fleet(cfg, graph)
    pd.testing.assert_frame_equal(conform("fleet_info", fleet), fleet)
    assert list(fleet.columns) == list(TABLES["fleet_info"])
    assert fleet["vehicle_id"].is_unique
    counts = fleet["driver_profile"].value_counts()
    assert counts.to_dict() == {"commuter": 20, "rideshare": 8, "delivery": 6, "casual": 6}
    assert fleet["has_home_charger"].sum() == 28  # 70 % of 40
    assert set(fleet["home_node"]) <= set(graph.nodes_frame()["node_id"])
    assert set(fleet["work_node"]) <= set(graph.nodes_frame()["node_id"])
    assert fleet["initial_soc"].between(0, 1).all()
    for row in fleet.itertuples():
        spec = get_vehicle(row.model)
        assert row.battery_kwh == spec.battery_kwh
        payload = PROFILES[DriverProfile(row.driver_profile)].payload_kg
        assert row.mass_kg == pytest.approx(spec.test_mass_kg + payload)


def test_fleet_is_deterministic_from_the_seed(graph: SimpleNamespace) -> None:
    a = generate_fleet(_cfg(n_vehicles=12, seed=5), graph)
    b = generate_fleet(_cfg(n_vehicles=12, seed=5), graph)
    c = generate_fleet(_cfg(n_vehicles=12, seed=6), graph)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_allocate_uses_largest_remainders() -> None:
    rng = np.random.default_rng(0)
    labels = allocate({"a": 0.5, "b": 0.3, "c": 0.2}, 7, rng)
    assert sorted(labels.tolist()) == ["a", "a", "a", "a", "b", "b", "c"]
    assert vehicle_index(vehicle_id(1234)) == 1234


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"fleet": {"n_vehicles": 0}}, "fleet.n_vehicles"),
        ({"fleet": {"days": 0}}, "fleet.days"),
        ({"fleet": {"driver_profiles": {"commuter": 0.5, "casual": 0.4}}}, "sum to 1"),
        ({"fleet": {"start_date": "2024-13-45"}}, "fleet.start_date"),
        ({"fleet": {"market_shares": {"tesla_model_3": 0.5, "flying_car": 0.5}}}, "flying_car"),
    ],
)
def test_bad_fleet_config_is_a_clear_error(overrides: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        config_from_dict(overrides)


def test_places_pick_spread_hubs_and_depots(places: Places) -> None:
    assert 1 <= places.hubs.size <= 12
    assert 1 <= places.depots.size <= 6
    d = places.distance_km(places.hubs[:, None], places.hubs[None, :])
    assert (d[~np.eye(places.hubs.size, dtype=bool)] >= 3.0).all()


def test_sample_near_prefers_the_typical_distance(places: Places) -> None:
    rng = np.random.default_rng(1)
    origin = places.size // 2
    km = [
        places.distance_km(origin, places.sample_near(rng, origin, typical_km=5.0))
        for _ in range(300)
    ]
    assert 3.0 < np.median(km) < 7.5


def _plan(places: Places, profile: DriverProfile, days: int = 14, seed: int = 2):
    rng = np.random.default_rng(seed)
    home, work = int(places.hubs[0]) + 1, int(places.depots[0])
    anchors = Anchors(home=home, work=work, range_km=300.0)
    return plan_vehicle(rng, places, profile, anchors, start=MONDAY, days=days), anchors


@pytest.mark.parametrize("profile", list(DriverProfile))
def test_each_day_starts_and_ends_at_home(places: Places, profile: DriverProfile) -> None:
    plan, anchors = _plan(places, profile)
    days = np.asarray(plan.day)
    assert len(plan) > 0
    assert np.all(np.diff(plan.depart_s) > 0)
    lo, hi = PROFILES[profile].trips_per_day
    for d in np.unique(days):
        idx = np.flatnonzero(days == d)
        assert plan.origin[idx[0]] == anchors.home
        assert plan.destination[idx[-1]] == anchors.home
        assert lo <= idx.size <= hi
        for a, b in itertools.pairwise(idx):
            assert plan.destination[a] == plan.origin[b]


def test_commuters_go_to_work_around_the_morning_peak(places: Places) -> None:
    plan, anchors = _plan(places, DriverProfile.COMMUTER, days=5)  # Mon-Fri
    to_work = [
        t % 86_400 / 3600
        for t, d, p in zip(plan.depart_s, plan.destination, plan.purpose, strict=True)
        if d == anchors.work and p == "commute"
    ]
    assert len(to_work) >= 4
    assert 6.0 <= np.median(to_work) <= 9.5


def test_delivery_tours_start_at_the_depot(places: Places) -> None:
    plan, anchors = _plan(places, DriverProfile.DELIVERY, days=5)
    stops = [o for o, p in zip(plan.origin, plan.purpose, strict=True) if p == "delivery"]
    assert plan.purpose.count("delivery") >= 5 * 8
    assert anchors.work in stops


def test_casual_drivers_drive_more_at_weekends(places: Places) -> None:
    weekend, weekday = [], []
    for seed in range(12):
        plan, _ = _plan(places, DriverProfile.CASUAL, days=14, seed=seed)
        days = np.asarray(plan.day)
        is_weekend = np.array([(MONDAY + dt.timedelta(days=int(d))).weekday() >= 5 for d in days])
        weekend.append(is_weekend.sum() / 4)
        weekday.append((~is_weekend).sum() / 10)
    assert np.mean(weekend) > np.mean(weekday)
