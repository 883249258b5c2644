"""Network files: save, graphml round trip, summary, plot, RoadGraph.load."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import osmnx as ox
import pandas as pd
import pytest

from evfleet.errors import NetworkSourceError
from evfleet.network import (
    NetworkData,
    RoadGraph,
    network_summary,
    plot_network,
)
from evfleet.network.clean import EDGE_COLUMNS, NODE_COLUMNS
from evfleet.network.stations import STATION_COLUMNS


@pytest.fixture(scope="module")
def data(small_network: NetworkData) -> NetworkData:
    return small_network


@pytest.fixture(scope="module")
def folder(small_network_folder: Path) -> Path:
    return small_network_folder


def test_tables_have_the_contract_columns(folder: Path) -> None:
    nodes = pd.read_parquet(folder / "nodes.parquet")
    edges = pd.read_parquet(folder / "edges.parquet")
    stations = pd.read_parquet(folder / "stations.parquet")
    assert list(nodes.columns) == NODE_COLUMNS
    assert list(edges.columns) == EDGE_COLUMNS
    assert list(stations.columns) == STATION_COLUMNS
    assert str(nodes["node_id"].dtype) == "int64"
    assert (edges["edge_id"] == range(len(edges))).all()
    assert nodes["node_id"].is_monotonic_increasing
    assert nodes["pop_weight"].sum() == pytest.approx(1.0)
    assert edges[["u", "v", "key"]].duplicated().sum() == 0


def test_meta(folder: Path, data: NetworkData) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    assert meta == json.loads(json.dumps(data.meta))
    assert meta["source"] == "embedded"
    west, south, east, north = meta["bbox"]
    assert west < east
    assert south < north
    assert meta["crs"] == "EPSG:32610"


def test_graphml_round_trips_through_osmnx(folder: Path, data: NetworkData) -> None:
    graph = ox.load_graphml(folder / "graph.graphml")
    assert graph.number_of_nodes() == len(data.nodes)
    assert graph.number_of_edges() == len(data.edges)
    u, v, k = (int(x) for x in data.edges.loc[0, ["u", "v", "key"]])
    attrs = graph.edges[u, v, k]
    assert attrs["length"] == pytest.approx(data.edges.loc[0, "length_m"], abs=1e-3)
    assert attrs["travel_time"] == pytest.approx(data.edges.loc[0, "travel_time_s"], abs=1e-3)
    assert isinstance(attrs["oneway"], bool)
    assert graph.nodes[u]["x"] == pytest.approx(data.nodes.set_index("node_id").loc[u, "lon"])


def test_networkx_graph_matches_tables(data: NetworkData) -> None:
    graph = data.graph
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.number_of_edges() == len(data.edges)
    assert nx.is_strongly_connected(graph)


def test_summary(folder: Path, data: NetworkData) -> None:
    summary = network_summary(folder)
    for key in (
        "source",
        "n_nodes",
        "n_edges",
        "n_stations",
        "bbox",
        "grade_p50",
        "grade_p99",
        "grade_buckets",
        "highway_counts",
        "total_km",
    ):
        assert key in summary
    assert summary["n_nodes"] == len(data.nodes)
    assert summary["n_stations"] == len(data.stations)
    assert sum(b["n_edges"] for b in summary["grade_buckets"]) == len(data.edges)
    assert sum(summary["highway_counts"].values()) == len(data.edges)
    assert 0 <= summary["grade_p50"] <= summary["grade_p99"] <= 0.30
    json.dumps(summary)


def test_plot(folder: Path, tmp_path: Path) -> None:
    out = plot_network(folder, tmp_path / "net.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    zoom = plot_network(folder, tmp_path / "zoom.png", bbox=(-122.52, 37.70, -122.35, 37.82))
    assert zoom.stat().st_size > 10_000


def test_roadgraph_load(folder: Path, data: NetworkData) -> None:
    graph = RoadGraph.load(folder)
    assert graph.n_nodes == len(data.nodes)
    assert graph.n_edges == len(data.edges)
    assert graph.stations is not None
    assert len(graph.stations) == len(data.stations)
    assert graph.indptr[-1] == graph.n_edges
    assert set(graph.highway_classes) == set(data.edges["highway"])


def test_summary_of_a_non_network_folder(tmp_path: Path) -> None:
    with pytest.raises(NetworkSourceError, match="not a network folder"):
        network_summary(tmp_path)
