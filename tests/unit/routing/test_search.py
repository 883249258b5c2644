"""Routing searches: exact against networkx / Bellman-Ford / brute force, bounds, errors."""

from __future__ import annotations

import itertools
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evfleet.config import RoutingAlgorithm
from evfleet.errors import InputDataError, RoutingError
from evfleet.network import RoadGraph
from evfleet.routing import (
    EdgeWeights,
    InfeasibleRouteError,
    RoutePlan,
    RoutingOptions,
    StationSet,
    pareto_routes,
    plan_route,
    plan_soc_route,
    plan_trip,
)
from evfleet.vehicles import get_vehicle
from tests.fixtures.routing import context, grid_graph, random_graph, toy_weights

DIJKSTRA = RoutingOptions(algorithm=RoutingAlgorithm.DIJKSTRA, reserve_soc=0.0)
ASTAR = RoutingOptions(algorithm=RoutingAlgorithm.ASTAR, reserve_soc=0.0)
CH = RoutingOptions(algorithm=RoutingAlgorithm.CH, reserve_soc=0.0)


def _nx(graph: RoadGraph, w: EdgeWeights) -> nx.DiGraph:
    g = nx.DiGraph()
    ids = graph.node_ids
    for k in range(graph.n_edges):
        u, v = int(ids[graph.edge_u[k]]), int(ids[graph.edge_v[k]])
        g.add_edge(u, v, time=w.time_s[k], energy=w.energy_kwh[k], k=k)
    return g


def _simple_graph(graph: RoadGraph) -> bool:
    pairs = set(zip(graph.edge_u.tolist(), graph.edge_v.tolist(), strict=True))
    return len(pairs) == graph.n_edges


@pytest.fixture(scope="module")
def grid() -> tuple[RoadGraph, EdgeWeights]:
    graph = grid_graph(6, seed=3)
    return graph, toy_weights(graph, battery_kwh=1000.0)


def test_toy_weights_regenerate_and_potential_is_exact(
    grid: tuple[RoadGraph, EdgeWeights],
) -> None:
    graph, w = grid
    assert (w.energy_kwh < 0).any()
    reduced = graph.reduced(w.energy_kwh, w.potential_kwh)
    assert reduced.min() >= -1e-12


@pytest.mark.parametrize("options", [DIJKSTRA, ASTAR, CH])
@pytest.mark.parametrize(
    ("objective", "oracle", "scale"),
    [("energy", nx.bellman_ford_path_length, 1.0), ("time", nx.dijkstra_path_length, 60.0)],
)
def test_route_equals_networkx(
    grid: tuple[RoadGraph, EdgeWeights],
    options: RoutingOptions,
    objective: str,
    oracle: Any,
    scale: float,
) -> None:
    graph, w = grid
    g = _nx(graph, w)
    rng = np.random.default_rng(1)
    for o, d in rng.choice(graph.node_ids, (25, 2)):
        plan = plan_route(graph, w, o, d, objective=objective, options=options, soc_start=0.5)
        got = plan.energy_kwh if objective == "energy" else plan.time_min
        assert got * scale == pytest.approx(oracle(g, int(o), int(d), weight=objective), abs=1e-9)
        assert plan.energy_kwh == pytest.approx(w.energy_kwh[plan.edges].sum(), abs=1e-12)


def test_each_objective_wins_on_its_own_measure(grid: tuple[RoadGraph, EdgeWeights]) -> None:
    graph, w = grid
    rng = np.random.default_rng(3)
    wts = DIJKSTRA.weights

    def weighted(p: RoutePlan) -> float:
        return (
            wts.energy_weight * p.energy_kwh
            + wts.time_penalty_kwh_per_h * p.time_min / 60
            + wts.price_weight_kwh_per_usd * p.cost_usd
        )

    for o, d in rng.choice(graph.node_ids, (20, 2)):
        plans = {
            obj: plan_route(graph, w, o, d, objective=obj, options=DIJKSTRA, soc_start=0.5)
            for obj in ("energy", "time", "cost", "weighted")
        }
        assert plans["energy"].energy_kwh <= plans["time"].energy_kwh + 1e-12
        assert plans["time"].time_min <= plans["energy"].time_min + 1e-12
        assert plans["cost"].cost_usd <= plans["time"].cost_usd + 1e-12
        assert plans["weighted"].objective_value == pytest.approx(weighted(plans["weighted"]))
        assert weighted(plans["weighted"]) <= min(map(weighted, plans.values())) + 1e-9


def _nx_min(graph: RoadGraph, cost: np.ndarray) -> nx.DiGraph:
    """networkx graph keeping the cheapest of parallel edges (and every node)."""
    g = nx.DiGraph()
    g.add_nodes_from(int(i) for i in graph.node_ids)
    ids = graph.node_ids
    for k in np.argsort(-cost, kind="stable"):
        g.add_edge(int(ids[graph.edge_u[k]]), int(ids[graph.edge_v[k]]), c=float(cost[k]))
    return g


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), ring=st.booleans())
def test_bidirectional_landmark_and_hierarchy_searches_are_exact(seed: int, ring: bool) -> None:
    """Every objective, Dijkstra (bidirectional), A* (landmarks) and the contraction
    hierarchy, on every pair of a random graph, possibly not strongly connected: the
    networkx / Bellman-Ford optimum, or a routing error when the destination is
    unreachable."""
    graph = random_graph(10, 22, seed, ring=ring)
    w = toy_weights(graph, battery_kwh=1000.0, seed=seed)
    wts = DIJKSTRA.weights
    a_e = wts.energy_weight + wts.price_weight_kwh_per_usd * w.drive_price_usd_per_kwh
    costs = {
        "time": w.time_s,
        "energy": w.energy_kwh,
        "weighted": a_e * w.energy_kwh + wts.time_penalty_kwh_per_h / 3600 * w.time_s,
    }
    for objective, cost in costs.items():
        g = _nx_min(graph, cost)
        for options in (DIJKSTRA, ASTAR, CH):
            for o, d in itertools.product(graph.node_ids[:6].tolist(), repeat=2):
                try:
                    expected = nx.bellman_ford_path_length(g, o, d, weight="c")
                except nx.NetworkXNoPath:
                    with pytest.raises(RoutingError):
                        plan_route(graph, w, o, d, objective=objective, options=options,
                                   soc_start=0.5)  # fmt: skip
                    continue
                plan = plan_route(
                    graph, w, o, d, objective=objective, options=options, soc_start=0.5
                )
                assert plan.nodes[0] == o
                assert plan.nodes[-1] == d
                assert cost[plan.edges].sum() == pytest.approx(expected, abs=1e-9)


def test_concurrent_queries_answer_as_sequential_ones(
    grid: tuple[RoadGraph, EdgeWeights],
) -> None:
    """Per-thread work arrays: threads sharing a graph and its weights get the same plans."""
    graph, w = grid
    rng = np.random.default_rng(7)
    jobs = [
        (int(o), int(d), obj, opts)
        for (o, d) in rng.choice(graph.node_ids, (12, 2))
        for obj in ("time", "energy", "weighted")
        for opts in (DIJKSTRA, ASTAR, CH)
    ]

    def run(job: tuple[int, int, str, RoutingOptions]) -> list[int]:
        o, d, obj, opts = job
        return plan_route(graph, w, o, d, objective=obj, options=opts, soc_start=0.5).nodes.tolist()

    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(run, jobs * 3))
    assert parallel == [run(job) for job in jobs * 3]


@pytest.mark.parametrize("options", [DIJKSTRA, ASTAR, CH])
@pytest.mark.parametrize("objective", ["time", "energy"])
def test_reused_work_arrays_are_left_clean(
    grid: tuple[RoadGraph, EdgeWeights], options: RoutingOptions, objective: str
) -> None:
    """Bidirectional, A*, battery-bounded and hierarchy queries reset what they labelled
    in the thread's work arrays."""
    graph, w = grid
    ids = graph.node_ids
    ends = int(ids[0]), int(ids[-1])
    first = plan_route(graph, w, *ends, objective=objective, options=options)
    for o, d in np.random.default_rng(3).choice(ids, (20, 2)):
        plan_route(graph, w, int(o), int(d), objective=objective, options=options, soc_start=0.5)
    work = graph.pair_work()
    fwd, bwd, pred, succ = work[:4]
    assert np.isinf(np.concatenate([fwd, bwd])).all()
    assert (np.concatenate([pred, succ]) == -1).all()
    assert not work[10].any()  # settled flags of the one-way search
    again = plan_route(graph, w, *ends, objective=objective, options=options)
    assert again.nodes.tolist() == first.nodes.tolist()


def _brute_energy(
    graph: RoadGraph, w: EdgeWeights, o: int, d: int, b0: float, b_min: float, cap: float
) -> float:
    """Least battery use over all simple paths with the capped, reserve-bounded battery."""
    g = nx.DiGraph()
    for k in range(graph.n_edges):
        g.add_edge(int(graph.edge_u[k]), int(graph.edge_v[k]), k=k)
    src, dst = (int(r) for r in graph.node_index([o, d]))
    best = math.inf
    for path in nx.all_simple_paths(g, src, dst):
        b = b0
        for a, c in itertools.pairwise(path):
            b = min(cap, b - w.energy_kwh[g[a][c]["k"]])
            if b < b_min:
                break
        else:
            best = min(best, b0 - b)
    return best


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    soc=st.floats(0.3, 1.0),
    reserve=st.floats(0.0, 0.3),
    algorithm=st.sampled_from(RoutingAlgorithm),
)
def test_battery_bounded_energy_route_is_exact(
    seed: int, soc: float, reserve: float, algorithm: RoutingAlgorithm
) -> None:
    """Every algorithm, including the hierarchy (whose least-energy path is kept only
    when the bounds do not bind on it), matches brute force under the battery bounds."""
    graph = random_graph(8, 14, seed)
    if not _simple_graph(graph):
        return
    w = toy_weights(graph, battery_kwh=0.6, seed=seed)
    o, d = (int(x) for x in graph.node_ids[[0, 5]])
    opts = RoutingOptions(reserve_soc=reserve, algorithm=algorithm)
    cap = w.context.battery_kwh
    expected = _brute_energy(graph, w, o, d, soc * cap, reserve * cap, cap)
    if not math.isfinite(expected):
        with pytest.raises(RoutingError):
            plan_route(graph, w, o, d, objective="energy", options=opts, soc_start=soc)
        return
    plan = plan_route(graph, w, o, d, objective="energy", options=opts, soc_start=soc)
    assert plan.energy_kwh == pytest.approx(expected, abs=1e-9)
    assert plan.soc_min >= reserve - 1e-12
    assert len(set(plan.nodes.tolist())) == len(plan.nodes)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_pareto_set_equals_brute_force(seed: int) -> None:
    graph = random_graph(8, 16, seed)
    if not _simple_graph(graph):
        return
    w = toy_weights(graph, seed=seed)
    o, d = (int(x) for x in graph.node_ids[[0, 5]])
    front = pareto_routes(graph, w, o, d, options=DIJKSTRA)
    g = nx.DiGraph()
    for k in range(graph.n_edges):
        g.add_edge(int(graph.edge_u[k]), int(graph.edge_v[k]), k=k)
    src, dst = (int(r) for r in graph.node_index([o, d]))
    points = []
    for path in nx.all_simple_paths(g, src, dst):
        ks = [g[a][c]["k"] for a, c in itertools.pairwise(path)]
        points.append((w.time_s[ks].sum() / 60, w.energy_kwh[ks].sum()))
    brute = sorted(
        p for p in points if not any(q[0] <= p[0] and q[1] <= p[1] and q != p for q in points)
    )
    brute = [p for i, p in enumerate(brute) if i == 0 or p[1] < brute[i - 1][1] - 1e-12]
    got = [(p.time_min, p.energy_kwh) for p in front]
    assert np.allclose(got, brute, atol=1e-9)
    assert front[0].supported
    assert front[-1].supported


def test_pareto_front_has_both_extremes(grid: tuple[RoadGraph, EdgeWeights]) -> None:
    graph, w = grid
    rng = np.random.default_rng(4)
    for o, d in rng.choice(graph.node_ids, (10, 2)):
        front = pareto_routes(graph, w, o, d, options=DIJKSTRA, soc_start=0.5)
        fast = plan_route(graph, w, o, d, objective="time", options=DIJKSTRA, soc_start=0.5)
        low = plan_route(graph, w, o, d, objective="energy", options=DIJKSTRA, soc_start=0.5)
        assert front[0].time_min == pytest.approx(fast.time_min)
        assert front[-1].energy_kwh == pytest.approx(low.energy_kwh)
        times = [p.time_min for p in front]
        energies = [p.energy_kwh for p in front]
        assert times == sorted(times)
        assert all(np.diff(energies) < 0)
        approx = pareto_routes(graph, w, o, d, options=DIJKSTRA, epsilon=0.05)
        assert approx[-1].energy_kwh <= low.energy_kwh + 0.05 * abs(low.energy_kwh) + 0.05


@pytest.fixture(scope="module")
def charging() -> tuple[RoadGraph, EdgeWeights, StationSet]:
    graph = grid_graph(7, seed=5, spacing_m=1500.0)
    w = toy_weights(graph, battery_kwh=3.0)
    stations = StationSet.build(graph, get_vehicle("nissan_leaf"), _tariff(), depart_clock_s=3e4)
    return graph, w, stations


def _tariff():  # type: ignore[no-untyped-def]
    from evfleet.config import ChargingConfig
    from evfleet.fleet.charging import Tariff

    return Tariff.from_config(ChargingConfig())


def _far_pair(graph: RoadGraph, w: EdgeWeights) -> tuple[int, int, float]:
    o, d = int(graph.node_ids[0]), int(graph.node_ids[-1])
    need = plan_route(graph, w, o, d, objective="energy", options=DIJKSTRA, soc_start=1.0)
    return o, d, need.energy_kwh


@pytest.mark.parametrize("algorithm", [RoutingAlgorithm.ASTAR, RoutingAlgorithm.CH])
@pytest.mark.parametrize("objective", ["time", "energy", "cost", "weighted"])
def test_soc_route_stops_to_charge_and_keeps_the_reserve(
    charging: tuple[RoadGraph, EdgeWeights, StationSet],
    objective: str,
    algorithm: RoutingAlgorithm,
) -> None:
    graph, w, stations = charging
    o, d, need = _far_pair(graph, w)
    opts = RoutingOptions(reserve_soc=0.1, algorithm=algorithm)
    soc = 0.1 + 0.5 * need / w.context.battery_kwh
    with pytest.raises(InfeasibleRouteError):
        plan_route(graph, w, o, d, objective="energy", options=opts, soc_start=soc)
    plan = plan_soc_route(
        graph, w, stations, o, d, objective=objective, options=opts, soc_start=soc
    )
    again = plan_soc_route(
        graph, w, stations, o, d, objective=objective, options=opts, soc_start=soc
    )
    assert plan.to_dict() == again.to_dict()
    assert len(plan.stops) >= 1
    assert plan.soc_min >= 0.1 - 1e-9
    assert len(set(plan.nodes.tolist())) == len(plan.nodes)
    for stop in plan.stops:
        assert stop.departure_soc > stop.arrival_soc >= 0.1 - 1e-9
        assert stop.minutes > 0
        assert stop.cost_usd > 0
        assert stop.energy_kwh == pytest.approx(
            (stop.departure_soc - stop.arrival_soc) * w.context.battery_kwh
        )
        assert stop.station_id in set(stations.station_id)
    # battery balance: start - driven + charged = end
    charged = sum(s.energy_kwh for s in plan.stops)
    cap = w.context.battery_kwh
    assert plan.soc_end * cap == pytest.approx(soc * cap - plan.energy_kwh + charged)
    dijkstra = plan_soc_route(
        graph, w, stations, o, d, objective=objective, options=RoutingOptions(reserve_soc=0.1),
        soc_start=soc,
    )  # fmt: skip
    assert dijkstra.objective_value == pytest.approx(plan.objective_value, rel=1e-6)


def test_soc_route_without_need_matches_plain_route(
    charging: tuple[RoadGraph, EdgeWeights, StationSet],
) -> None:
    graph, _, stations = charging
    w = toy_weights(graph, battery_kwh=30.0)
    o, d, _ = _far_pair(graph, w)
    opts = RoutingOptions(reserve_soc=0.1)
    plain = plan_route(graph, w, o, d, objective="time", options=opts, soc_start=1.0)
    soc = plan_soc_route(graph, w, stations, o, d, objective="time", options=opts, soc_start=1.0)
    assert soc.stops == ()
    assert soc.time_min == pytest.approx(plain.time_min)
    trip = plan_trip(graph, w, stations, o, d, objective="time", options=opts, soc_start=1.0)
    assert trip.time_min == pytest.approx(plain.time_min)


def test_several_stations_on_one_node_are_all_offered(
    charging: tuple[RoadGraph, EdgeWeights, StationSet],
) -> None:
    _, _, stations = charging
    shared = np.flatnonzero(np.diff(stations.indptr) >= 2)
    assert shared.size >= 1
    kinds = set(stations.kind[stations.indptr[shared[0]] : stations.indptr[shared[0] + 1]])
    assert kinds == {"dcfc", "l2"}


def test_infeasible_trips_say_what_is_missing(
    charging: tuple[RoadGraph, EdgeWeights, StationSet],
) -> None:
    graph, w, stations = charging
    o, d, need = _far_pair(graph, w)
    opts = RoutingOptions(reserve_soc=0.1)
    empty = StationSet.empty(graph.n_nodes)
    with pytest.raises(InfeasibleRouteError, match="no charging station is available"):
        plan_soc_route(graph, w, empty, o, d, options=opts, soc_start=0.11)
    with pytest.raises(InfeasibleRouteError, match=r"start SOC of \d"):
        plan_soc_route(graph, w, stations, o, d, options=opts, soc_start=0.1)
    assert need > 0


def test_bad_inputs_raise_one_line_errors(grid: tuple[RoadGraph, EdgeWeights]) -> None:
    graph, w = grid
    o = int(graph.node_ids[0])
    with pytest.raises(InputDataError, match="SOC must be within"):
        plan_route(graph, w, o, o, soc_start=1.2)
    with pytest.raises(RoutingError, match="unknown node id"):
        plan_route(graph, w, o, 7, soc_start=0.5)


def test_unreachable_destination_is_a_routing_error() -> None:
    graph = random_graph(6, 0, 1)
    keep = ~((graph.edge_u == 5) & (graph.edge_v == 0))
    keep &= ~((graph.edge_u == 4) & (graph.edge_v == 5))
    cut = RoadGraph(graph.nodes, graph.edges[keep].reset_index(drop=True), crs=graph.crs)
    w = toy_weights(cut)
    o, d = (int(x) for x in cut.node_ids[[0, 5]])
    for objective in ("energy", "time"):
        with pytest.raises(RoutingError, match="no route"):
            plan_route(cut, w, o, d, objective=objective, soc_start=0.9)
    with pytest.raises(RoutingError, match="no route"):
        pareto_routes(cut, w, o, d)


def test_negative_cycle_is_refused_not_looped() -> None:
    graph = random_graph(6, 0, 2)
    energy = np.full(graph.n_edges, -0.01)
    with pytest.raises(RoutingError, match="negative cycle"):
        EdgeWeights.from_arrays(
            graph,
            time_s=graph.travel_time_s,
            energy_kwh=energy,
            context=context(),
            drive_price_usd_per_kwh=0.3,
            source="ml",
        )


def test_johnson_potential_repairs_a_bad_elevation_bound() -> None:
    graph = grid_graph(5, seed=9)
    w = toy_weights(graph)
    # claim regeneration recovers nothing: the elevation bound is wrong on descents
    rebuilt = EdgeWeights.from_arrays(
        graph,
        time_s=w.time_s,
        energy_kwh=w.energy_kwh,
        context=w.context,
        drive_price_usd_per_kwh=0.3,
        source="ml",
        recoverable_per_m=1e-9,
    )
    assert graph.reduced(w.energy_kwh, rebuilt.potential_kwh).min() >= -1e-12
