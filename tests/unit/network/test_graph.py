"""RoadGraph: compiled shortest paths equal networkx's, batch and one-to-many APIs, errors."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from evfleet.errors import NetworkSourceError, RoutingError
from evfleet.network import NetworkData, RoadGraph, to_networkx


@pytest.fixture(scope="module")
def data(small_network: NetworkData) -> NetworkData:
    return small_network


@pytest.fixture(scope="module")
def graph(small_network_folder: Path) -> RoadGraph:
    return RoadGraph.load(small_network_folder)


@pytest.fixture(scope="module")
def pairs(graph: RoadGraph) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return rng.choice(graph.node_ids, 40), rng.choice(graph.node_ids, 40)


def _nx_cost(g: nx.MultiDiGraph, o: int, d: int, weight: str) -> float:
    return float(nx.path_weight(g, nx.shortest_path(g, o, d, weight=weight), weight))


@pytest.mark.parametrize("weight", ["travel_time_s", "length_m"])
def test_fastest_path_cost_equals_networkx(
    data: NetworkData, graph: RoadGraph, pairs: tuple[np.ndarray, np.ndarray], weight: str
) -> None:
    for o, d in zip(*pairs, strict=True):
        route = graph.fastest_path(o, d, weight=weight)
        assert route.cost == pytest.approx(_nx_cost(data.graph, o, d, weight), rel=1e-9, abs=1e-12)


def test_custom_weight_array_equals_networkx(
    data: NetworkData, graph: RoadGraph, pairs: tuple[np.ndarray, np.ndarray]
) -> None:
    energy = graph.length_m * (1 + 5 * np.clip(graph.grade, 0, None))
    oracle = to_networkx(data.nodes, data.edges.assign(energy=energy))
    for o, d in list(zip(*pairs, strict=True))[:20]:
        route = graph.fastest_path(o, d, weight=energy)
        assert route.cost == pytest.approx(_nx_cost(oracle, o, d, "energy"), rel=1e-9)


def test_route_is_a_consistent_walk(graph: RoadGraph, pairs: tuple[np.ndarray, np.ndarray]) -> None:
    o, d = pairs[0][0], pairs[1][0]
    route = graph.fastest_path(o, d)
    edges = graph.edges_frame().iloc[route.edges]
    assert route.nodes[0] == o
    assert route.nodes[-1] == d
    np.testing.assert_array_equal(edges["u"].to_numpy(), route.nodes[:-1])
    np.testing.assert_array_equal(edges["v"].to_numpy(), route.nodes[1:])
    assert route.length_m == pytest.approx(graph.length_m[route.edges].sum())
    assert route.travel_time_s == pytest.approx(route.cost)
    assert graph.edge_attr("grade")[route.edges].shape == route.edges.shape


def test_route_many_and_one_to_many_agree(
    graph: RoadGraph, pairs: tuple[np.ndarray, np.ndarray]
) -> None:
    origs, dests = pairs
    batch = graph.route_many(origs, dests)
    assert len(batch) == len(origs)
    assert batch.found.all()
    for i in (0, 7, 39):
        single = graph.fastest_path(origs[i], dests[i])
        assert batch.cost[i] == pytest.approx(single.cost, rel=1e-12)
        np.testing.assert_array_equal(batch.route(i).nodes, single.nodes)
    tree = graph.shortest_paths_from(origs[0], dests[:10])
    expected = [graph.fastest_path(origs[0], d).cost for d in dests[:10]]
    np.testing.assert_allclose([r.cost for r in tree], expected, rtol=1e-9)
    costs = graph.costs_from(origs[0])
    rows = graph.node_index(dests[:10])
    np.testing.assert_allclose(costs[rows], [r.cost for r in tree], rtol=1e-9)


def test_same_origin_and_destination(graph: RoadGraph) -> None:
    node = int(graph.node_ids[3])
    route = graph.fastest_path(node, node)
    assert route.cost == 0.0
    assert len(route.edges) == 0
    np.testing.assert_array_equal(route.nodes, [node])


def test_nearest_nodes_vectorised(graph: RoadGraph) -> None:
    rows = np.arange(0, graph.n_nodes, 97)
    ids, dist = graph.nearest_nodes(graph.lat[rows], graph.lon[rows], return_dist=True)
    np.testing.assert_array_equal(ids, graph.node_ids[rows])
    assert dist.max() < 1e-3
    assert graph.nearest_nodes(37.7749, -122.4194).shape == (1,)


def test_unknown_node_and_bad_weights(graph: RoadGraph) -> None:
    node = int(graph.node_ids[0])
    with pytest.raises(RoutingError, match="unknown node id 999999999"):
        graph.fastest_path(node, 999_999_999)
    with pytest.raises(RoutingError, match="non-negative"):
        graph.fastest_path(node, node, weight=-graph.length_m)
    with pytest.raises(RoutingError, match="shape"):
        graph.fastest_path(node, node, weight=np.ones(3))


def test_unreachable_destination() -> None:
    nodes = pd.DataFrame(
        {
            "node_id": [1, 2, 3],
            "lat": [37.0, 37.001, 37.002],
            "lon": [-122.0] * 3,
            "x_m": [0.0, 0.0, 0.0],
            "y_m": [0.0, 111.0, 222.0],
            "elevation_m": [0.0] * 3,
        }
    )
    edges = pd.DataFrame(
        {
            "u": [1, 2],
            "v": [2, 3],
            "length_m": [111.0, 111.0],
            "travel_time_s": [10.0, 10.0],
            "speed_kph": [40.0, 40.0],
            "grade": [0.0, 0.0],
            "highway": ["residential"] * 2,
        }
    )
    graph = RoadGraph(nodes, edges, crs="EPSG:32610")
    assert graph.fastest_path(1, 3).cost == 20.0
    with pytest.raises(RoutingError, match="no route from node 3 to node 1"):
        graph.fastest_path(3, 1)
    batch = graph.route_many([1, 3], [3, 1], strict=False)
    np.testing.assert_array_equal(batch.found, [True, False])
    assert np.isnan(batch.cost[1])
    with pytest.raises(RoutingError, match="no route"):
        graph.shortest_paths_from(3, [1])


def test_load_rejects_a_non_network_folder(tmp_path: Path) -> None:
    with pytest.raises(NetworkSourceError, match="not a network folder"):
        RoadGraph.load(tmp_path)
