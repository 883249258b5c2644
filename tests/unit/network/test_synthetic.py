"""The embedded synthetic Bay Area network: determinism, connectivity, geography, grades."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from evfleet.config import NetworkConfig
from evfleet.errors import NetworkSourceError
from evfleet.network import NetworkData, TerrainModel, build_network, save_network
from evfleet.network.geo import segments_cross_polygon
from evfleet.network.synthetic import bay_area_facts as geo_facts

TINY = 0.05


@pytest.fixture(scope="module")
def small(small_network: NetworkData) -> NetworkData:
    return small_network


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_files(small: NetworkData, tmp_path: Path) -> None:
    save_network(small, tmp_path / "a")
    save_network(
        build_network(NetworkConfig(scale=small.meta["scale"], seed=small.meta["seed"])),
        tmp_path / "b",
    )
    hashes = _hashes(tmp_path / "a")
    assert set(hashes) == {
        "nodes.parquet",
        "edges.parquet",
        "stations.parquet",
        "graph.graphml",
        "meta.json",
    }
    assert hashes == _hashes(tmp_path / "b")


def test_other_seed_changes_the_network(small: NetworkData) -> None:
    same = build_network(NetworkConfig(scale=TINY, seed=7))
    other = build_network(NetworkConfig(scale=TINY, seed=8))
    assert not other.stations[["lat", "lon"]].equals(same.stations[["lat", "lon"]])
    assert not other.nodes[["lat", "lon"]].equals(same.nodes[["lat", "lon"]])


def test_strongly_connected(small: NetworkData) -> None:
    ids = small.nodes["node_id"].to_numpy()
    u = np.searchsorted(ids, small.edges["u"].to_numpy())
    v = np.searchsorted(ids, small.edges["v"].to_numpy())
    adj = sp.csr_matrix((np.ones(len(u)), (u, v)), shape=(len(ids), len(ids)))
    n_comp, _ = connected_components(adj, directed=True, connection="strong")
    assert n_comp == 1


def test_scale_controls_size(small: NetworkData) -> None:
    assert 3_000 < small.meta["n_nodes"] < 12_000
    assert small.meta["n_nodes"] == len(small.nodes)
    assert small.meta["n_edges"] == len(small.edges)


def _endpoints(data: NetworkData, edges: pd.DataFrame) -> tuple[np.ndarray, ...]:
    nodes = data.nodes.set_index("node_id")
    a, b = nodes.loc[edges["u"]], nodes.loc[edges["v"]]
    return a["lat"].to_numpy(), a["lon"].to_numpy(), b["lat"].to_numpy(), b["lon"].to_numpy()


def test_only_bridges_cross_water(small: NetworkData) -> None:
    roads = small.edges[~small.edges["bridge"]]
    for name, poly in geo_facts.WATER_BODIES:
        wet = segments_cross_polygon(*_endpoints(small, roads), poly)
        assert not wet.any(), f"{wet.sum()} non-bridge edges cross the {name}"
    bridges = small.edges[small.edges["bridge"]]
    crossing = segments_cross_polygon(*_endpoints(small, bridges), geo_facts.BAY_WATER)
    assert crossing.sum() > 0
    assert set(bridges["name"]) == {b.name for b in geo_facts.BRIDGES}


def test_road_hierarchy_and_one_ways(small: NetworkData) -> None:
    counts = small.edges["highway"].value_counts()
    for cls in ("motorway", "motorway_link", "primary", "secondary", "tertiary", "residential"):
        assert counts.get(cls, 0) > 0, cls
    assert counts["residential"] > counts["primary"]
    assert small.edges.loc[small.edges["highway"] == "residential", "oneway"].any()
    assert set(small.nodes["control"]) == {"signal", "stop", "none"}
    assert small.edges["travel_time_s"].gt(0).all()
    np.testing.assert_allclose(
        small.edges["travel_time_s"], small.edges["length_m"] / (small.edges["speed_kph"] / 3.6)
    )


def test_elevations_within_terrain_range(small: NetworkData) -> None:
    terrain = TerrainModel()
    elev = small.nodes["elevation_m"]
    assert elev.between(0.0, terrain.max_elevation_m).all()
    assert elev.max() > 150


def _grades_near(data: NetworkData, lat: float, lon: float, radius_deg: float) -> pd.Series:
    nodes = data.nodes
    near = nodes.loc[np.hypot(nodes["lat"] - lat, nodes["lon"] - lon) < radius_deg, "node_id"]
    return data.edges.loc[data.edges["u"].isin(near), "grade"].abs()


def test_grades_plausible_with_real_hills(small: NetworkData) -> None:
    grade = small.edges["grade"].abs()
    assert grade.max() <= 0.30
    assert grade.median() < 0.02
    assert _grades_near(small, 37.7544, -122.4477, 0.015).max() > 0.10  # Twin Peaks
    assert _grades_near(small, 37.8820, -122.2450, 0.02).max() > 0.10  # Berkeley hills
    assert _grades_near(small, 37.7800, -122.4000, 0.008).median() < 0.03  # SoMa is flat
    motorway = small.edges.loc[small.edges["highway"] == "motorway", "grade"].abs()
    assert motorway.max() <= 0.051


def test_terrain_model_shore_and_peaks() -> None:
    terrain = TerrainModel()
    elev = terrain.elevation_m(
        [37.70, 37.7544, 37.8816, 37.7900], [-122.30, -122.4477, -121.9142, -122.3900]
    )
    assert elev[0] == 0.0  # the bay
    assert 250 < elev[1] < 320  # Twin Peaks
    assert 1_100 < elev[2] < 1_300  # Mount Diablo
    assert 0 < elev[3] <= 5  # right at the Embarcadero shore


def test_stations_synthesised(small: NetworkData) -> None:
    st = small.stations
    assert small.meta["stations_source"] == "synthetic"
    assert set(st["kind"]) == {"l2", "dcfc"}
    assert st["station_id"].is_unique
    assert st["node_id"].isin(small.nodes["node_id"]).all()
    l2, dcfc = st[st["kind"] == "l2"], st[st["kind"] == "dcfc"]
    assert l2["power_kw"].between(7, 22).all()
    assert dcfc["power_kw"].between(50, 350).all()
    assert st["ports"].ge(1).all()
    assert st["price_usd_per_kwh"].between(0.2, 0.8).all()


def test_bbox_clips_the_embedded_network() -> None:
    sf = build_network(NetworkConfig(scale=TINY, bbox=(-122.52, 37.70, -122.35, 37.82)))
    assert sf.nodes["lon"].between(-122.52, -122.35).all()
    assert 100 < len(sf.nodes) < 3_000


def test_bbox_with_nothing_in_it() -> None:
    with pytest.raises(NetworkSourceError, match="contains no drivable roads"):
        build_network(NetworkConfig(scale=TINY, bbox=(-123.0, 37.0, -122.9, 37.1)))


@pytest.mark.slow
def test_default_scale_size_and_build_time() -> None:
    started = time.perf_counter()
    data = build_network(NetworkConfig())
    assert time.perf_counter() - started < 30
    assert data.meta["n_nodes"] >= 20_000
