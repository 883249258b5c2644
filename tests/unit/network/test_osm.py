"""OSM sources: real extracts, DEM elevations, maxspeed parsing, stations, bad inputs."""

from __future__ import annotations

import bz2
import math
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest

from evfleet.config import NetworkConfig
from evfleet.errors import NetworkSourceError
from evfleet.network import NetworkData, RoadGraph, build_network, save_network
from evfleet.network import osm as osm_source
from evfleet.network.clean import finalize_network, parse_maxspeed
from evfleet.network.elevation import add_elevations

MPH = 1.609344
DOWNTOWN = (-122.4093, 37.7901, -122.3965, 37.8004)

ROADS_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" lat="37.8000" lon="-122.3000"/>
  <node id="2" lat="37.8010" lon="-122.3000"/>
  <node id="3" lat="37.8010" lon="-122.3012"/>
  <node id="4" lat="37.8000" lon="-122.3012"/>
  <node id="9" lat="37.8005" lon="-122.3006">
    <tag k="amenity" v="charging_station"/><tag k="capacity" v="4"/>
    <tag k="socket:type2_combo:output" v="150 kW"/><tag k="name" v="Test DC"/>
  </node>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="highway" v="residential"/><tag k="maxspeed" v="25 mph"/></way>
  <way id="11"><nd ref="1"/><nd ref="3"/><tag k="highway" v="{second}"/></way>
</osm>
"""


def _osm_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _cfg(path: Path, **kw: object) -> NetworkConfig:
    return NetworkConfig(source="osm_file", osm_file=path, **kw)


@pytest.fixture(scope="module")
def sf(shared_data: Path) -> NetworkData:
    return build_network(_cfg(shared_data / "osm" / "sf_north_filtered.osm.bz2"))


# ---------------------------------------------------------------- real extracts
def test_sf_extract_loads_clean(sf: NetworkData) -> None:
    assert 1_800 <= sf.meta["n_nodes"] <= 2_000
    assert sf.meta["source"] == "osm_file"
    assert sf.nodes["node_id"].is_unique
    west, south, east, north = sf.meta["bbox"]
    assert -122.50 < west < east < -122.39
    assert 37.77 < south < north < 37.82
    drivable = {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
    }
    assert set(sf.edges["highway"]) <= drivable
    assert sf.nodes["is_signal"].sum() > 100


def test_sf_speeds_parsed_from_maxspeed(sf: NetworkData) -> None:
    tagged = sf.edges[sf.edges["speed_source"] == "maxspeed"]
    assert 0.1 < len(tagged) / len(sf.edges) < 0.5
    mph = set(np.round(tagged["speed_kph"] / MPH, 6))
    assert {25.0, 30.0, 35.0} <= mph
    fallback = sf.edges[sf.edges["speed_source"] == "fallback"]
    residential = fallback.loc[fallback["highway"] == "residential", "speed_kph"]
    assert np.allclose(residential, 25 * MPH)


def test_sf_routing_matches_networkx(sf: NetworkData, tmp_path: Path) -> None:
    save_network(sf, tmp_path)
    graph = RoadGraph.load(tmp_path)
    oracle = sf.graph
    rng = np.random.default_rng(3)
    for o, d in zip(rng.choice(graph.node_ids, 25), rng.choice(graph.node_ids, 25), strict=True):
        route = graph.fastest_path(o, d)
        expected = nx.path_weight(
            oracle, nx.shortest_path(oracle, o, d, weight="travel_time_s"), "travel_time_s"
        )
        assert route.cost == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_west_oakland_messy_extract(shared_data: Path) -> None:
    data = build_network(_cfg(shared_data / "osm" / "west_oakland.osm.bz2"))
    assert 15 <= data.meta["n_nodes"] <= 84
    assert set(data.edges["highway"]) <= {"residential", "secondary", "unclassified", "tertiary"}
    assert (data.edges["speed_source"] == "fallback").all()
    assert data.edges["speed_kph"].gt(0).all()
    assert data.edges["grade"].abs().max() < 0.05


def test_dem_gives_plausible_downtown_grades(sf: NetworkData, shared_data: Path) -> None:
    dems = [shared_data / "dem" / "sf_downtown_1.tif", shared_data / "dem" / "sf_downtown_2.tif"]
    raw = sf.nodes[["node_id", "lat", "lon", "control", "place", "kind"]].assign(elevation_m=np.nan)
    nodes, stats = add_elevations(raw, sf.edges, dem_files=dems)
    nodes, edges, _ = finalize_network(nodes, sf.edges.drop(columns=["edge_id", "key"]))
    assert stats["elevation_source"] == "dem+terrain"
    assert 0.03 < stats["dem_coverage"] < 0.2
    west, south, east, north = DOWNTOWN
    inside = nodes["lon"].between(west, east) & nodes["lat"].between(south, north)
    assert nodes.loc[inside, "elevation_m"].between(-5, 130).all()
    assert nodes.loc[inside, "elevation_m"].max() > 40
    ids = nodes.loc[inside, "node_id"]
    grade = edges.loc[edges["u"].isin(ids) & edges["v"].isin(ids), "grade"].abs()
    assert len(grade) > 200
    assert grade.max() <= 0.30
    assert grade.median() < 0.06
    assert grade.quantile(0.9) < 0.18
    assert (grade >= 0.299).mean() < 0.02


# ---------------------------------------------------------------- parsing and stations
@pytest.mark.parametrize(
    ("value", "kph"),
    [
        ("25 mph", 25 * MPH),
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("20 knots", 37.04),
        (["25 mph", "35 mph"], 30 * MPH),
        ("30;50", 40.0),
        (40, 40.0),
    ],
)
def test_parse_maxspeed(value: object, kph: float) -> None:
    assert parse_maxspeed(value) == pytest.approx(kph)


@pytest.mark.parametrize("value", ["none", "signals", "walk", "", None, float("nan"), ["none"]])
def test_parse_maxspeed_without_number(value: object) -> None:
    assert math.isnan(parse_maxspeed(value))


def test_osm_charging_stations_are_used(tmp_path: Path) -> None:
    path = _osm_file(tmp_path, "roads.osm", ROADS_XML.format(second="tertiary"))
    data = build_network(_cfg(path))
    assert data.meta["stations_source"] == "osm"
    station = data.stations.iloc[0]
    assert (station["station_id"], station["kind"], station["power_kw"], station["ports"]) == (
        "osm-9",
        "dcfc",
        150.0,
        4,
    )
    assert station["node_id"] in set(data.nodes["node_id"])
    assert data.edges["speed_kph"].max() == pytest.approx(25 * MPH)


def test_cached_download_is_used_offline(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bbox = (-122.31, 37.80, -122.29, 37.82)
    raw = osm_source.load_osm_file(shared_data / "osm" / "west_oakland.osm.bz2")
    ox.save_graphml(raw, osm_source.cache_file(tmp_path, bbox=bbox))
    monkeypatch.setattr(osm_source, "ONLINE_HOSTS", ("host.invalid",))
    monkeypatch.setattr(osm_source, "download_charging_stations", lambda **_: pd.DataFrame())
    data = build_network(NetworkConfig(source="bbox", bbox=bbox), cache_dir=tmp_path)
    assert data.meta["source"] == "bbox"
    assert data.meta["n_nodes"] > 10


# ---------------------------------------------------------------- bad inputs
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NetworkSourceError, match="OSM file not found"):
        build_network(_cfg(tmp_path / "nope.osm.bz2"))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(NetworkSourceError, match="OSM file is empty"):
        build_network(_cfg(_osm_file(tmp_path, "empty.osm", "")))


def test_truncated_bz2(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / "osm" / "sf_north_filtered.osm.bz2").read_bytes()
    path = tmp_path / "cut.osm.bz2"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(NetworkSourceError, match="truncated"):
        build_network(_cfg(path))


def test_truncated_bz2_header(tmp_path: Path) -> None:
    path = tmp_path / "cut.osm.bz2"
    path.write_bytes(bz2.compress(ROADS_XML.encode())[:40])
    with pytest.raises(NetworkSourceError, match="truncated"):
        build_network(_cfg(path))


@pytest.mark.parametrize(
    ("name", "text"),
    [("notes.osm", "hello, not xml at all"), ("page.osm", "<html><body>hi</body></html>")],
)
def test_not_osm_xml(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(NetworkSourceError, match="not an OSM XML file"):
        build_network(_cfg(_osm_file(tmp_path, name, text)))


def test_broken_xml(tmp_path: Path) -> None:
    text = ROADS_XML.format(second="tertiary")[:300]
    with pytest.raises(NetworkSourceError, match="not valid XML"):
        build_network(_cfg(_osm_file(tmp_path, "broken.osm", text)))


def test_not_bz2(tmp_path: Path) -> None:
    path = tmp_path / "fake.osm.bz2"
    path.write_bytes(b"this is not compressed")
    with pytest.raises(NetworkSourceError, match="not a valid bz2"):
        build_network(_cfg(path))


def test_no_drivable_roads(tmp_path: Path) -> None:
    text = ROADS_XML.format(second="footway").replace('v="residential"', 'v="cycleway"')
    with pytest.raises(NetworkSourceError, match="no drivable roads"):
        build_network(_cfg(_osm_file(tmp_path, "paths.osm", text)))


def test_pbf_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "area.osm.pbf"
    path.write_bytes(b"\x00\x00\x00\x0dOSMHeader")
    with pytest.raises(NetworkSourceError, match="osmium cat"):
        build_network(_cfg(path))


def test_bbox_with_nothing_in_it(shared_data: Path) -> None:
    path = shared_data / "osm" / "west_oakland.osm.bz2"
    with pytest.raises(NetworkSourceError, match="contains no drivable roads"):
        build_network(_cfg(path, bbox=(-120.0, 37.0, -119.9, 37.1)))


def test_dem_not_overlapping(shared_data: Path) -> None:
    path = shared_data / "osm" / "west_oakland.osm.bz2"
    dem = shared_data / "dem" / "sf_downtown_1.tif"
    with pytest.raises(NetworkSourceError, match="does not overlap"):
        build_network(_cfg(path, dem_files=[dem]))


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("missing.tif", None, "DEM file not found"),
        ("text.tif", b"not a raster", "not a readable raster"),
    ],
)
def test_bad_dem_file(tmp_path: Path, name: str, content: bytes | None, match: str) -> None:
    dem = tmp_path / name
    if content is not None:
        dem.write_bytes(content)
    with pytest.raises(NetworkSourceError, match=match):
        build_network(NetworkConfig(scale=0.2, dem_files=[dem]))


@pytest.mark.parametrize(
    "cfg",
    [
        NetworkConfig(source="place", place="San Francisco, California"),
        NetworkConfig(source="bbox", bbox=(-122.42, 37.78, -122.41, 37.79)),
    ],
)
def test_no_internet_fails_fast_with_hint(
    cfg: NetworkConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(osm_source, "ONLINE_HOSTS", ("host.invalid", "host.invalid"))
    with pytest.raises(NetworkSourceError, match=r"cannot reach .*--osm-file"):
        build_network(cfg, cache_dir=tmp_path)
