"""Customisable contraction hierarchy: structure, exactness against networkx, edge cases."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evfleet.network import RoadGraph, _hierarchy, _pairs
from evfleet.network._hierarchy import Hierarchy
from tests.fixtures.routing import grid_graph, random_graph


def _route(graph: RoadGraph, cost: np.ndarray, src: int, dst: int) -> tuple[bool, np.ndarray, bool]:
    """One hierarchy query between node rows (battery bounds that never bind)."""
    custom = graph.hierarchy.customise(cost)
    found, edges, _, clean = _hierarchy.route_pair(
        graph.hierarchy.arrays, custom, src, dst, (0.0, -np.inf, np.inf),
        (cost, np.zeros(graph.n_edges), graph.length_m), graph.pair_work(),
    )  # fmt: skip
    return found, edges, clean


def test_upward_neighbours_form_cliques_and_ranks_are_a_permutation() -> None:
    """The chordal supergraph: every node's higher neighbours are pairwise joined, and
    each original edge maps to an arc between its ends in its direction."""
    graph = grid_graph(7, seed=2)
    h = graph.hierarchy
    assert sorted(h.rank.tolist()) == list(range(graph.n_nodes))
    arcs = {(int(t), int(v)) for t, v in zip(h.arc_tail, h.up_head, strict=True)}
    assert all(t < v for t, v in arcs)
    for x in range(graph.n_nodes):
        up = h.up_head[h.up_indptr[x] : h.up_indptr[x + 1]].tolist()
        assert up == sorted(set(up))
        assert all((a, b) in arcs for a, b in itertools.combinations(up, 2))
    ru, rv = h.rank[graph.edge_u], h.rank[graph.edge_v]
    arc = h.edge_arc >> 1
    assert np.array_equal(h.arc_tail[arc], np.minimum(ru, rv))
    assert np.array_equal(h.up_head[arc], np.maximum(ru, rv))
    assert np.array_equal(h.edge_arc & 1, (ru < rv).astype(np.int64))
    n_tri = sum(d * (d - 1) // 2 for d in np.diff(h.up_indptr).tolist())
    assert len(h.tri[0]) == n_tri


def test_the_ranking_is_reproducible() -> None:
    graph = grid_graph(8, seed=5)
    first = Hierarchy.build(graph.n_nodes, graph.edge_u, graph.edge_v)
    again = Hierarchy.build(graph.n_nodes, graph.edge_u, graph.edge_v)
    assert np.array_equal(first.rank, again.rank)
    assert np.array_equal(first.up_head, again.up_head)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    ring=st.booleans(),
    zeros=st.floats(0.0, 0.5),
)
def test_queries_equal_networkx_on_random_graphs(seed: int, ring: bool, zeros: float) -> None:
    """Directed random graphs with parallel edges and zero-cost edges, possibly not
    strongly connected: the least cost of every pair, a walk from origin to destination
    whose cost is that least cost, or no route where networkx finds none."""
    graph = random_graph(12, 30, seed, ring=ring)
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0.0, 10.0, graph.n_edges) * (rng.random(graph.n_edges) >= zeros)
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    for k in np.argsort(-cost, kind="stable"):
        g.add_edge(int(graph.edge_u[k]), int(graph.edge_v[k]), c=float(cost[k]))
    lengths = dict(nx.all_pairs_dijkstra_path_length(g, weight="c"))
    for src, dst in itertools.product(range(graph.n_nodes), repeat=2):
        found, edges, _ = _route(graph, cost, src, dst)
        assert found == (dst in lengths[src])
        if not found or src == dst:
            assert len(edges) == 0
            continue
        assert graph.edge_u[edges[0]] == src
        assert graph.edge_v[edges[-1]] == dst
        assert np.array_equal(graph.edge_v[edges[:-1]], graph.edge_u[edges[1:]])
        assert cost[edges].sum() == pytest.approx(lengths[src][dst], abs=1e-9)


def test_graph_without_edges_routes_nowhere_but_home() -> None:
    empty = np.empty(0, dtype=np.int64)
    h = Hierarchy.build(4, empty, empty)
    assert h.rank.tolist() == [0, 1, 2, 3]
    assert h.n_arcs == 0
    custom = h.customise(np.empty(0))
    work = _pairs.pair_work(4, 0)
    data = (np.empty(0), np.empty(0), np.empty(0))
    found, edges, *_ = _hierarchy.route_pair(
        h.arrays, custom, 0, 3, (0.0, -np.inf, np.inf), data, work
    )
    assert not found
    home, edges, *_ = _hierarchy.route_pair(
        h.arrays, custom, 2, 2, (0.0, -np.inf, np.inf), data, work
    )
    assert home
    assert len(edges) == 0


def test_clean_flag_reports_binding_battery_bounds() -> None:
    """``clean`` is False when the battery along the path would rise above its cap or
    drop below its floor (then the caller must search under the bounds)."""
    graph = grid_graph(4, seed=1)
    cost = np.ones(graph.n_edges)
    energy = np.full(graph.n_edges, 0.5)
    custom = graph.hierarchy.customise(cost)

    def clean(b0: float, b_min: float, b_max: float) -> bool:
        found, edges, totals, ok = _hierarchy.route_pair(
            graph.hierarchy.arrays, custom, 0, graph.n_nodes - 1, (b0, b_min, b_max),
            (cost, energy, graph.length_m), graph.pair_work(),
        )  # fmt: skip
        assert found
        # energy used: the edges' sum, or nothing when a full battery wastes regeneration
        assert totals[2] == pytest.approx(max(energy[edges].sum(), 0.0))
        return bool(ok)

    assert clean(10.0, 0.0, 10.0)
    assert not clean(10.0, 8.0, 10.0)  # six edges of 0.5 kWh: the floor binds
    energy[:] = -0.5  # regeneration from a full battery is wasted
    assert not clean(10.0, 0.0, 10.0)
