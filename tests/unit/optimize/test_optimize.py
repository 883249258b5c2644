"""Tests of the fleet optimiser: LPs against brute force, CRN draws, modes on a small fleet."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest

from evfleet.config import (
    STRATEGY_PRESETS,
    PlanningMode,
    Strategy,
    StudioConfig,
    with_strategy,
)
from evfleet.errors import OptimizationError
from evfleet.fleet import generate_fleet, generate_weather, simulate_chunk
from evfleet.network import NetworkData, RoadGraph
from evfleet.optimize import (
    HorizonInput,
    Settings,
    VehiclePlanner,
    World,
    crn_draws,
    optimize_vehicles,
    plan_horizon,
    schedule_site,
    site_schedule,
    vehicle_trips,
)
from evfleet.optimize.inputs import BaselineLegs
from evfleet.optimize.report import render_report
from evfleet.routing import StationSet


def _horizon(**kw: object) -> HorizonInput:
    base: dict[str, object] = {
        "energy_kwh": np.array([6.0, 8.0]),
        "slot_window": np.array([0, 1, 1]),
        "slot_max_kwh": np.array([4.0, 3.0, 5.0]),
        "slot_price": np.array([0.5, 0.2, 0.4]),
        "public_price": np.array([0.9, 0.9]),
        "public_fixed": np.array([0.3, 0.3]),
        "start_kwh": 8.0,
        "reserve_kwh": 2.0,
        "max_kwh": 12.0,
        "gamma": 0.9,
    }
    base.update(kw)
    return HorizonInput(**base)  # type: ignore[arg-type]


def _brute(h: HorizonInput, step: float = 1.0) -> float:
    """Least objective over a grid of home and public amounts (tiny instances only)."""
    grids = [np.arange(0, m + 1e-9, step) for m in h.slot_max_kwh]
    grids += [np.arange(0, h.max_kwh + 1e-9, step)] * h.energy_kwh.size
    best = np.inf
    m = h.slot_max_kwh.size
    disc = h.gamma ** np.arange(h.energy_kwh.size)
    for combo in itertools.product(*grids):
        x, p = np.array(combo[:m]), np.array(combo[m:])
        b, ok, cost = h.start_kwh, True, 0.0
        for j, e in enumerate(h.energy_kwh):
            b += x[h.slot_window == j].sum()
            ok &= b <= h.max_kwh + 1e-9 and b - e / 2 >= h.reserve_kwh - 1e-9
            ok &= b - e + p[j] >= h.reserve_kwh - 1e-9 and b - e / 2 + p[j] <= h.max_kwh + 1e-9
            cost += disc[j] * (h.public_price[j] * p[j] + h.public_fixed[j] * (p[j] > 0))
            b += p[j] - e
        cost += float((disc[h.slot_window] * h.slot_price * x).sum())
        if ok:
            best = min(best, cost)
    return best


def test_horizon_lp_matches_brute_force() -> None:
    for h in (
        _horizon(),
        _horizon(start_kwh=3.0),
        _horizon(slot_max_kwh=np.array([1.0, 1.0, 2.0])),
        _horizon(start_kwh=12.0, energy_kwh=np.array([3.0, 4.0])),
        _horizon(start_kwh=12.0, energy_kwh=np.array([3.0, 8.0])),
    ):
        plan = plan_horizon(h)
        assert plan.objective == pytest.approx(_brute(h), abs=1e-6)


def test_horizon_lp_prefers_cheap_slots_and_says_when_infeasible() -> None:
    plan = plan_horizon(_horizon(start_kwh=8.0))
    # trip 2 needs 8 kWh: the 0.2 slot is filled first, no public stop
    assert plan.home_kwh[1] == pytest.approx(3.0)
    assert plan.public_kwh.sum() == pytest.approx(0.0)
    with pytest.raises(OptimizationError, match="infeasible"):
        plan_horizon(_horizon(start_kwh=1.0, slot_max_kwh=np.array([0.5, 3.0, 5.0])))


def test_site_lp_respects_the_cap_and_matches_brute_force() -> None:
    avail = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    price = np.array([0.5, 0.2, 0.3])
    need = np.array([1.8, 2.7])
    sched = schedule_site(
        need, avail, np.array([4.0, 4.0]), price, slot_h=1.0, efficiency=0.9, cap_kw=5.0,
        demand_usd_per_kw=0.0, before_kw=np.array([[4.0, 0, 0], [4.0, 0, 0]]), site="s",
    )  # fmt: skip
    assert sched.power_kw.sum(axis=0).max() <= 5.0 + 1e-9
    assert sched.peak_before_kw == pytest.approx(8.0)
    assert (sched.power_kw.sum(axis=1) * 0.9 >= need - 1e-9).all()
    grid = np.arange(0, 4.01, 0.1)
    best = np.inf
    for a0, a1, b0, b1, b2 in itertools.product(grid[:21], grid[:21], [0.0], grid[:31], grid[:31]):
        load = np.array([a0 + b0, a1 + b1, b2])
        if (
            load.max() > 5 + 1e-9
            or (a0 + a1) * 0.9 < 1.8 - 1e-9
            or (b0 + b1 + b2) * 0.9 < 2.7 - 1e-9
        ):
            continue
        best = min(best, float(price @ load))
    assert sched.cost_usd == pytest.approx(best, abs=0.05)
    # parked for half of the last interval only: half the power there
    half = schedule_site(
        np.array([1.8]), np.array([[0.0, 0.0, 0.5]]), np.array([4.0]), price, slot_h=1.0,
        efficiency=0.9, cap_kw=None, demand_usd_per_kw=0.0, before_kw=np.zeros((1, 3)), site="h",
    )  # fmt: skip
    assert half.power_kw[0, 2] == pytest.approx(2.0)
    with pytest.raises(OptimizationError, match="site h"):
        schedule_site(
            np.array([2.0]), np.array([[0.0, 0.0, 0.5]]), np.array([4.0]), price, slot_h=1.0,
            efficiency=0.9, cap_kw=None, demand_usd_per_kw=0.0, before_kw=np.zeros((1, 3)),
            site="h",
        )  # fmt: skip
    with pytest.raises(OptimizationError, match="site s"):
        schedule_site(
            need * 10, avail, np.array([4.0, 4.0]), price, slot_h=1.0, efficiency=0.9,
            cap_kw=5.0, demand_usd_per_kw=0.0, before_kw=np.zeros((2, 3)), site="s",
        )  # fmt: skip


def test_crn_draws_depend_on_the_key_only() -> None:
    a = crn_draws(1, 2, np.array([0, 0, 1]), np.array([5, 6, 5]))
    b = crn_draws(1, 2, np.array([0, 1]), np.array([6, 5]))
    assert a.shape == (4, 3)
    np.testing.assert_array_equal(a[:, 1:], b)
    assert not np.allclose(a[:, 0], a[:, 2])
    assert ((a >= 0) & (a < 1)).all()


@pytest.fixture(scope="module")
def world(road_graph: RoadGraph, small_network: NetworkData) -> dict[str, object]:
    data, graph = small_network, road_graph
    cfg = StudioConfig().with_overrides({"fleet.n_vehicles": 4, "fleet.days": 2, "fleet.seed": 11})
    fleet = generate_fleet(cfg, graph)
    # low batteries, one without a home charger, one with: every mode must charge
    fleet.loc[:1, "initial_soc"] = 0.3
    fleet.loc[0, "has_home_charger"] = False
    fleet.loc[1, "has_home_charger"] = True
    weather = generate_weather(cfg)
    tables = simulate_chunk(cfg, graph, data.stations, fleet, weather)
    tables["fleet_info"] = fleet
    vehicles = vehicle_trips(tables, graph.edges, cfg.fleet.start_date)
    return {"graph": graph, "cfg": cfg, "weather": weather, "vehicles": vehicles, "tables": tables}


def test_a_slice_of_vehicles_that_did_not_drive_has_no_trips(world) -> None:
    # A chunk of the optimisation stage can hold only vehicles without trips.
    tables = dict(world["tables"])
    for name in ("routes", "segments", "charging_sessions"):
        tables[name] = tables[name].iloc[0:0]
    vehicles = vehicle_trips(tables, world["graph"].edges, world["cfg"].fleet.start_date)
    assert [v.vehicle_id for v in vehicles] == list(tables["fleet_info"]["vehicle_id"])
    assert [v.n_trips for v in vehicles] == [0] * len(vehicles)


def _run(world: dict[str, object], strategy: str, mode: str) -> dict[str, pd.DataFrame]:
    cfg = with_strategy(world["cfg"], strategy).with_overrides(  # type: ignore[arg-type]
        {"optimization.planning_mode": mode}
    )
    return optimize_vehicles(
        cfg,
        world["graph"],
        world["weather"],
        world["vehicles"],
        cfg.fleet.start_date,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("mode", ["myopic", "next_trip", "rolling_horizon"])
def test_plans_close_the_energy_balance_and_keep_the_reserve(world, mode) -> None:
    out = _run(world, "energy_first", mode)
    plans, charging = out["plans"], out["charging_plan"]
    assert out["infeasible"].empty
    assert (plans["soc_min"] >= 0.15 - 1e-9).all()
    assert (plans["soc_end"] <= 1.0).all()
    for v in world["vehicles"]:
        p = plans.loc[plans["vehicle_id"] == v.vehicle_id]
        c = charging.loc[charging["vehicle_id"] == v.vehicle_id]
        if p.empty:
            continue
        cap = v.spec.battery_kwh
        end = v.initial_soc + (c["energy_kwh"].sum() - p["energy_kwh"].sum()) / cap
        assert p["soc_end"].iloc[-1] == pytest.approx(end, abs=1e-9)


def test_modes_differ_and_same_inputs_give_same_bytes(world) -> None:
    a = _run(world, "balanced", "myopic")
    b = _run(world, "balanced", "next_trip")
    c = _run(world, "balanced", "rolling_horizon")
    assert not a["charging_plan"].equals(b["charging_plan"])
    assert not b["charging_plan"].equals(c["charging_plan"])
    again = _run(world, "balanced", "rolling_horizon")
    pd.testing.assert_frame_equal(c["plans"], again["plans"])
    pd.testing.assert_frame_equal(c["kpis"], again["kpis"])


def test_site_schedule_keeps_energy_and_cap(world) -> None:
    out = _run(world, "cost_conscious", "next_trip")
    cfg = world["cfg"].with_overrides({"charging.site_power_cap_kw": 7.2})  # type: ignore[union-attr]
    rows, sites = site_schedule(cfg, out["charging_plan"])
    home_before = out["charging_plan"].query("kind == 'home'")["energy_kwh"].sum()
    assert rows.query("kind == 'home'")["energy_kwh"].sum() == pytest.approx(home_before, rel=1e-6)
    assert (sites["peak_after_kw"] <= 7.2 + 1e-6).all()


@pytest.mark.parametrize("mode", ["myopic", "next_trip", "rolling_horizon"])
def test_strategies_beat_the_baseline_on_their_own_objective(world, mode) -> None:
    def fleet(strategy: str) -> pd.DataFrame:
        k = _run(world, strategy, mode)["kpis"]
        return k.groupby("side")[["energy_kwh", "cost_adjusted_usd"]].sum()

    energy = fleet("energy_first")
    assert energy.loc["optimised", "energy_kwh"] <= energy.loc["baseline", "energy_kwh"]
    cost = fleet("cost_conscious")
    assert cost.loc["optimised", "cost_adjusted_usd"] <= cost.loc["baseline", "cost_adjusted_usd"]


def _constructed(world, *, soc: float | None = None) -> tuple[World, object, Settings]:
    """A vehicle without a home charger: a short trip, then a long one across the network."""
    graph = world["graph"]
    cfg = with_strategy(world["cfg"], "balanced")
    w = World(cfg, graph, world["weather"], cfg.fleet.start_date)
    v0 = world["vehicles"][0]
    ids, x, y = graph.node_ids, graph.x_m, graph.y_m
    o = 0
    d = int(np.argsort(np.hypot(x - x[o], y - y[o]))[40])
    far = int(np.argmax(np.hypot(x - x[d], y - y[d])))
    empty = np.empty(0, dtype=np.int64)
    v = dataclasses.replace(
        v0,
        has_home_charger=False,
        trip_id=np.array(["short", "long"]),
        origin=np.array([ids[o], ids[d]], dtype=np.int64),
        destination=np.array([ids[d], ids[far]], dtype=np.int64),
        depart_s=np.array([9 * 3600.0, 13 * 3600.0]),
        arrive_s=np.array([9.5 * 3600.0, 14 * 3600.0]),
        baseline=BaselineLegs([empty], np.zeros(1), np.zeros(1, dtype=np.int64), 0.5, 0.5, 0),
        sessions=v0.sessions.iloc[:0],
    )
    s = Settings.from_config(cfg)
    probe = VehiclePlanner(w, v, s)
    e0, e1 = probe.planned_energy(0), probe.planned_energy(1)
    cap = v.spec.battery_kwh
    start = soc if soc is not None else (probe.floor + e0 + 0.5 * e1) / cap + 0.01
    return w, dataclasses.replace(v, initial_soc=start), s


def test_next_trip_charges_for_a_long_next_trip_and_myopic_does_not(world) -> None:
    w, v, s = _constructed(world)
    myopic = VehiclePlanner(w, v, dataclasses.replace(s, mode=PlanningMode.MYOPIC)).run()
    ahead = VehiclePlanner(w, v, dataclasses.replace(s, mode=PlanningMode.NEXT_TRIP)).run()
    assert myopic.trips[0]["n_stops"] == 0
    assert ahead.trips[0]["n_stops"] >= 1
    assert ahead.trips[0]["soc_end"] > myopic.trips[0]["soc_end"]


def test_infeasible_trip_is_listed_or_fails_in_strict_mode(world) -> None:
    w, v, s = _constructed(world, soc=0.16)
    w._stations[v.model] = StationSet.empty(w.graph.n_nodes)
    out = VehiclePlanner(w, v, s).run()
    assert out.infeasible
    assert out.infeasible[0]["trip_id"] == "short"
    assert "infeasible" in out.infeasible[0]["reason"]
    with pytest.raises(OptimizationError, match=f"vehicle {v.vehicle_id} trip short"):
        VehiclePlanner(w, v, dataclasses.replace(s, strict=True)).run()


def test_strategy_presets_apply_and_report_is_offline(world) -> None:
    cfg = with_strategy(StudioConfig(), "time_critical")
    assert cfg.optimization.soc_objective.value == "time"
    assert cfg.optimization.strategy is Strategy.TIME_CRITICAL
    assert set(STRATEGY_PRESETS) | {Strategy.CUSTOM} == set(Strategy)
    fleet = pd.DataFrame(
        [
            {"strategy": "balanced", "planning_mode": "myopic", "side": side, "energy_kwh": e,
             "cost_adjusted_usd": 1.0, "drive_time_h": 1.0, "charging_time_h": 0.5,
             "public_sessions": 1.0, "site_peak_kw": 7.2}
            for side, e in (("baseline", 10.0), ("optimised", 8.0))
        ]
    )  # fmt: skip
    page = render_report(fleet, pd.DataFrame(), pd.DataFrame(), title="t")
    assert page.count("<svg") == 6
    assert "<script" not in page
    assert "https://" not in page


def test_config_show_prints_a_strategy_preset(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.fixtures.cli import run_cli

    code, out, _ = run_cli(["config", "show", "--strategy", "cost_conscious"], capsys)
    assert code == 0
    assert "soc_objective: cost" in out
    assert "strategy: cost_conscious" in out
    code, _, err = run_cli(["config", "show", "--strategy", "fastest"], capsys)
    assert code == 2
    assert "--strategy must be one of" in err


def test_two_stop_composition_keeps_the_reserve(world) -> None:
    w, v, s = _constructed(world, soc=0.3)
    planner = VehiclePlanner(w, v, s)
    b = 0.3 * v.spec.battery_kwh
    plan = planner._two_stops(1, b, planner.floor, planner.trip_context(1))
    assert plan is not None
    assert len(plan.stops) == 2
    first, second = plan.stops
    assert plan.nodes[0] == v.origin[1]
    assert plan.nodes[-1] == v.destination[1]
    assert first.node in plan.nodes
    assert second.node in plan.nodes
    assert plan.soc_min >= s.reserve_soc - 1e-9
    assert first.departure_soc == pytest.approx(s.max_charge_soc)
    charged = sum(st.energy_kwh for st in plan.stops)
    assert plan.soc_end == pytest.approx(0.3 + (charged - plan.energy_kwh) / v.spec.battery_kwh)


def test_trips_the_label_search_gives_up_on_are_composed_not_stranded(world, monkeypatch) -> None:
    w, v, s = _constructed(world)
    tiny = {"max_labels": 1}
    w.options = dataclasses.replace(w.options, **tiny)
    w.reserve_options = dataclasses.replace(w.reserve_options, **tiny)
    monkeypatch.setattr("evfleet.optimize.planner.DEFAULT_MAX_LABELS", 1)
    s = dataclasses.replace(s, mode=PlanningMode.NEXT_TRIP)
    out = VehiclePlanner(w, v, s).run()
    assert out.infeasible == []
    assert [t["trip_id"] for t in out.trips] == ["short", "long"]
    assert sum(t["n_stops"] for t in out.trips) >= 1
    assert min(t["soc_min"] for t in out.trips) >= s.reserve_soc - 1e-9


def _stage_files(world, chunks: list[list[int]], folder) -> dict[str, bytes]:
    """Chunks planned separately (parts written like the chunk tasks), combined and
    written like the finalize task; the bytes of every output file."""
    from evfleet.optimize.stage import Run, combine, optimize_chunk
    from evfleet.storage import read_table, write_parquet

    runs = (Run("balanced", "next_trip"), Run("cost_conscious", "next_trip"))
    vehicles, cfg = world["vehicles"], world["cfg"]
    names = ("plans", "charging_plan", "kpis", "infeasible")
    for index, chunk in enumerate(chunks):
        part = optimize_chunk(
            cfg, world["graph"], world["weather"], [vehicles[i] for i in chunk],
            cfg.fleet.start_date, runs,
        )  # fmt: skip
        for name in names:
            write_parquet(part[name], folder / "parts" / name / f"part-{index:05d}.parquet")
    parts = {name: read_table(folder / "parts" / name) for name in names}
    out = combine(cfg, parts, vehicles, cfg.fleet.start_date, runs)
    files = {}
    for name in (*names, "sites"):
        path = write_parquet(out[name].reset_index(drop=True), folder / f"{name}.parquet")
        files[name] = path.read_bytes()
    files["report"] = out["report_html"].encode()
    return files


def test_same_inputs_give_the_same_bytes_whatever_the_chunking(world, tmp_path) -> None:
    one = _stage_files(world, [[0, 1, 2, 3]], tmp_path / "one")
    again = _stage_files(world, [[0, 1, 2, 3]], tmp_path / "again")
    split = _stage_files(world, [[2, 3], [0], [1]], tmp_path / "split")
    assert set(one) == {"plans", "charging_plan", "kpis", "infeasible", "sites", "report"}
    for name, data in one.items():
        assert data == again[name], name
        assert data == split[name], name


def test_ml_planned_energy_is_scored_by_physics(world) -> None:
    """Planning with another energy source changes the planned energies (the planning error
    KPI), never the physics scoring of a route."""
    from evfleet.optimize.stage import Run, optimize_chunk

    graph = world["graph"]
    length_km = graph.edges["length_m"].to_numpy(float) / 1000

    def half_a_kwh_per_km(ctx) -> np.ndarray:
        return 0.5 * length_km

    cfg, runs = world["cfg"], (Run("energy_first", "next_trip"),)
    args = (cfg, graph, world["weather"], world["vehicles"], cfg.fleet.start_date, runs)
    physics = optimize_chunk(*args)
    ml = optimize_chunk(*args, energy_source=half_a_kwh_per_km)
    plans = ml["plans"]
    no_stop = plans["n_stops"] == 0
    assert no_stop.sum() > 3
    # planned: the source's 0.5 kWh/km on the route's length; driven: the simulator
    assert plans.loc[no_stop, "planned_energy_kwh"].to_numpy() == pytest.approx(
        0.5 * plans.loc[no_stop, "distance_km"].to_numpy(), rel=1e-6
    )
    assert not np.allclose(plans["planned_energy_kwh"], plans["energy_kwh"])
    error = ml["kpis"].set_index("side").loc["optimised", "planning_error_pct"]
    assert not np.allclose(
        error, physics["kpis"].set_index("side").loc["optimised", "planning_error_pct"]
    )


@pytest.mark.parametrize("algorithm", ["astar", "ch"])
def test_every_search_algorithm_plans_the_same_fleet(world, algorithm) -> None:
    """``optimization.algorithm`` only changes how routes are found: the optimum of each
    trip is the same, so the plans' times, energies and KPIs agree with Dijkstra's."""
    base = _run(world, "time_critical", "myopic")
    cfg = world["cfg"]
    world_alg = {**world, "cfg": cfg.with_overrides({"optimization.algorithm": algorithm})}
    other = _run(world_alg, "time_critical", "myopic")
    cols = ["drive_time_h", "distance_km", "energy_kwh", "soc_end"]
    np.testing.assert_allclose(other["plans"][cols], base["plans"][cols], rtol=1e-9, atol=1e-9)
    pd.testing.assert_frame_equal(other["kpis"], base["kpis"], rtol=1e-9)
