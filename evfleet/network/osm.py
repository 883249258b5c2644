"""OpenStreetMap sources: a local XML file or an online download (cached), via osmnx.

Both end in raw node/edge frames for :func:`evfleet.network.clean.finalize_network`:
ways without a drivable ``highway`` tag are dropped *before* simplification (osmnx's
``graph_from_xml`` keeps every way), then the graph is simplified and flattened.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import logging
import os
import socket
import uuid
import xml.etree.ElementTree as ET
import xml.sax
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd

from evfleet.errors import NetworkSourceError
from evfleet.network.clean import DRIVABLE_HIGHWAYS, HIGHWAY_ORDER, speeds_from_maxspeed
from evfleet.network.stations import station_tags

logger = logging.getLogger(__name__)

ONLINE_HOSTS = ("overpass-api.de", "nominatim.openstreetmap.org")
CONNECT_TIMEOUT_S = 3.0
REQUESTS_TIMEOUT_S = 30
OFFLINE_HINT = "use --osm-file FILE or the embedded default network"
_PEEK_BYTES = 4096
_EXTRA_WAY_TAGS = ("motor_vehicle", "motorcar", "access", "area", "bridge", "tunnel", "ref")
_NO_VALUES = frozenset({"no", "private"})


@contextlib.contextmanager
def _osmnx_settings(**overrides: Any) -> Iterator[None]:
    """Temporarily change osmnx settings (restored afterwards)."""
    old = {k: getattr(ox.settings, k) for k in overrides}
    try:
        for k, v in overrides.items():
            setattr(ox.settings, k, v)
        yield
    finally:
        for k, v in old.items():
            setattr(ox.settings, k, v)


def _way_tags() -> list[str]:
    return list(dict.fromkeys([*ox.settings.useful_tags_way, *_EXTRA_WAY_TAGS]))


def _open_bytes(path: Path) -> io.BufferedIOBase:
    if path.suffix == ".bz2":
        return bz2.open(path, "rb")
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


def check_osm_file(path: str | Path) -> Path:
    """Fail with a one-line :class:`NetworkSourceError` unless ``path`` looks like OSM XML."""
    path = Path(path)
    if not path.is_file():
        msg = f"OSM file not found: {path}"
        raise NetworkSourceError(msg)
    if path.name.endswith(".pbf"):
        msg = (
            f"OSM PBF files are not supported ({path.name}); convert it to XML first, e.g. "
            f"`osmium cat {path.name} -o {path.name.removesuffix('.pbf')}.bz2`"
        )
        raise NetworkSourceError(msg)
    if path.stat().st_size == 0:
        msg = f"OSM file is empty: {path}"
        raise NetworkSourceError(msg)
    try:
        with _open_bytes(path) as fh:
            head = fh.read(_PEEK_BYTES)
    except EOFError:
        msg = f"OSM file is truncated (compressed stream ends early): {path}"
        raise NetworkSourceError(msg) from None
    except OSError as exc:
        msg = f"OSM file is not a valid {path.suffix.lstrip('.')} archive: {path} ({exc})"
        raise NetworkSourceError(msg) from None
    if not head.strip():
        msg = f"OSM file is empty: {path}"
        raise NetworkSourceError(msg)
    if b"<osm" not in head:
        msg = f"not an OSM XML file (no <osm> root element): {path}"
        raise NetworkSourceError(msg)
    return path


def load_osm_file(path: str | Path) -> nx.MultiDiGraph:
    """Parse an ``.osm`` / ``.osm.bz2`` / ``.osm.gz`` file into a raw (unsimplified) graph."""
    path = check_osm_file(path)
    try:
        with _osmnx_settings(useful_tags_way=_way_tags(), log_console=False):
            graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except EOFError:
        msg = f"OSM file is truncated (compressed stream ends early): {path}"
        raise NetworkSourceError(msg) from None
    except (xml.sax.SAXException, ParseError) as exc:
        msg = f"OSM file is not valid XML: {path} ({str(exc).splitlines()[0]})"
        raise NetworkSourceError(msg) from None
    except (KeyError, ValueError, TypeError) as exc:
        msg = f"OSM file has malformed elements: {path} ({type(exc).__name__}: {exc})"
        raise NetworkSourceError(msg) from None
    except ox._errors.InsufficientResponseError:
        msg = f"no drivable roads in OSM file {path}"
        raise NetworkSourceError(msg) from None
    if graph.number_of_edges() == 0:
        msg = f"no drivable roads in OSM file {path} (it has no ways)"
        raise NetworkSourceError(msg)
    return graph


def _check_online(hosts: tuple[str, ...] = ONLINE_HOSTS) -> None:
    """Fail fast (a ~3 s TCP connect) when OpenStreetMap servers are unreachable."""
    for host in hosts:
        try:
            with socket.create_connection((host, 443), timeout=CONNECT_TIMEOUT_S):
                pass
        except OSError:
            msg = f"cannot reach {host} (no internet connection?): {OFFLINE_HINT}"
            raise NetworkSourceError(msg) from None


BBox = tuple[float, float, float, float]


def _require_bbox(bbox: BBox | None) -> BBox:
    if bbox is None:
        msg = "an online download needs a place or a bbox"
        raise NetworkSourceError(msg)
    return bbox


def cache_file(
    cache_dir: Path,
    *,
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> Path:
    """Where the raw graph of an online query is cached (keyed on the query)."""
    query = {"place": place} if place else {"bbox": [float(v) for v in bbox or ()]}
    key = hashlib.sha256(repr(sorted(query.items())).encode()).hexdigest()[:16]
    return cache_dir / f"osm-{key}.graphml"


def download_osm(
    *,
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    cache_dir: Path,
) -> nx.MultiDiGraph:
    """Download the drivable network of a place or bbox (west, south, east, north), cached.

    The raw graph is cached as GraphML under ``cache_dir`` keyed on the query, and osmnx's
    HTTP cache lives there too, so a second build of the same query is offline.
    """
    cached = cache_file(cache_dir, place=place, bbox=bbox)
    if cached.is_file():
        logger.info("using cached download %s", cached)
        return ox.load_graphml(cached)
    _check_online(ONLINE_HOSTS if place else ONLINE_HOSTS[:1])
    cache_dir.mkdir(parents=True, exist_ok=True)
    overrides = {
        "useful_tags_way": _way_tags(),
        "log_console": False,
        "use_cache": True,
        "cache_folder": str(cache_dir / "http"),
        "requests_timeout": REQUESTS_TIMEOUT_S,
    }
    what = f"place {place!r}" if place else f"bbox {list(bbox or ())}"
    try:
        with _osmnx_settings(**overrides):
            if place:
                graph = ox.graph_from_place(
                    place,
                    network_type="drive",
                    simplify=False,
                    retain_all=True,
                    truncate_by_edge=True,
                )
            else:
                graph = ox.graph_from_bbox(
                    _require_bbox(bbox),
                    network_type="drive",
                    simplify=False,
                    retain_all=True,
                    truncate_by_edge=True,
                )
    except ox._errors.InsufficientResponseError:
        msg = f"no drivable roads found for {what}"
        raise NetworkSourceError(msg) from None
    except (TypeError, ValueError) as exc:
        msg = f"OpenStreetMap query for {what} failed: {str(exc).splitlines()[0]}"
        raise NetworkSourceError(msg) from None
    except OSError as exc:
        msg = f"download of {what} failed ({type(exc).__name__}): {OFFLINE_HINT}"
        raise NetworkSourceError(msg) from None
    tmp = cached.with_name(f".{cached.name}.tmp-{uuid.uuid4().hex[:8]}")
    ox.save_graphml(graph, tmp)
    os.replace(tmp, cached)
    return graph


def _flag(series: pd.Series) -> np.ndarray:
    """OSM yes/no-ish tags (possibly lists after simplification) to booleans."""

    def truthy(value: Any) -> bool:
        values = value if isinstance(value, list) else [value]
        return any(v not in (None, "no", "false", "0", False) and not pd.isna(v) for v in values)

    keys = series.map(lambda x: tuple(x) if isinstance(x, list) else x)
    table = {k: truthy(list(k) if isinstance(k, tuple) else k) for k in pd.unique(keys)}
    return keys.map(table).to_numpy(dtype=bool)


def _first_text(series: pd.Series) -> pd.Series:
    return series.map(
        lambda x: str(x[0]) if isinstance(x, list) else ("" if pd.isna(x) else str(x))
    )


def _best_highway(series: pd.Series) -> pd.Series:
    rank = {h: i for i, h in enumerate(HIGHWAY_ORDER)}
    return series.map(
        lambda x: min(x, key=lambda h: rank.get(h, len(rank))) if isinstance(x, list) else x
    )


def _lanes(series: pd.Series) -> np.ndarray:
    def parse(x: Any) -> int:
        vals = x if isinstance(x, list) else [x]
        nums = [
            int(float(v)) for v in vals if isinstance(v, str) and v.replace(".", "", 1).isdigit()
        ]
        return max(nums) if nums else 1

    return series.map(parse).to_numpy(dtype=np.int64)


def drivable_frames(graph: nx.MultiDiGraph, *, what: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop non-drivable ways, simplify, and flatten to raw node/edge frames."""
    edges = ox.graph_to_gdfs(graph, nodes=False, fill_edge_geometry=False)
    ok = (
        edges["highway"].isin(DRIVABLE_HIGHWAYS)
        if "highway" in edges
        else pd.Series(False, index=edges.index)
    )
    for tag in ("access", "motor_vehicle", "motorcar"):
        if tag in edges:
            ok &= ~edges[tag].isin(_NO_VALUES)
    if "area" in edges:
        ok &= edges["area"].ne("yes")
    if not ok.any():
        msg = f"no drivable roads in {what}"
        raise NetworkSourceError(msg)
    graph = graph.copy()
    graph.remove_edges_from(edges.index[~ok.to_numpy()].tolist())
    graph.remove_nodes_from([n for n, d in graph.degree() if d == 0])
    logger.info("kept %d of %d OSM edges with drivable highway tags", ok.sum(), len(edges))
    graph = ox.simplify_graph(graph)
    nodes, edges = ox.graph_to_gdfs(graph, node_geometry=False, fill_edge_geometry=False)
    return _node_frame(nodes), _edge_frame(edges.reset_index())


def _node_frame(nodes: pd.DataFrame) -> pd.DataFrame:
    tag = nodes["highway"] if "highway" in nodes else pd.Series("", index=nodes.index)
    control = np.where(
        tag.eq("traffic_signals"), "signal", np.where(tag.eq("stop"), "stop", "none")
    )
    return pd.DataFrame(
        {
            "node_id": nodes.index.to_numpy(dtype=np.int64),
            "lat": nodes["y"].to_numpy(dtype=float),
            "lon": nodes["x"].to_numpy(dtype=float),
            "elevation_m": np.nan,
            "control": control,
            "place": "",
            "kind": "osm",
        }
    )


def _edge_frame(edges: pd.DataFrame) -> pd.DataFrame:
    highway = _best_highway(edges["highway"])
    maxspeed = edges["maxspeed"] if "maxspeed" in edges else pd.Series(np.nan, index=edges.index)
    speed, from_tag = speeds_from_maxspeed(maxspeed, highway)

    def column(name: str) -> pd.Series:
        return edges[name] if name in edges else pd.Series(np.nan, index=edges.index)

    return pd.DataFrame(
        {
            "u": edges["u"].to_numpy(dtype=np.int64),
            "v": edges["v"].to_numpy(dtype=np.int64),
            "length_m": edges["length"].to_numpy(dtype=float),
            "highway": highway.to_numpy(dtype=str),
            "speed_kph": speed,
            "speed_source": np.where(from_tag, "maxspeed", "fallback"),
            "oneway": _flag(column("oneway")),
            "bridge": _flag(column("bridge")),
            "tunnel": _flag(column("tunnel")),
            "name": _first_text(column("name")).to_numpy(dtype=str),
            "ref": _first_text(column("ref")).to_numpy(dtype=str),
            "lanes": _lanes(column("lanes")),
        }
    )


def read_osm_charging_stations(path: Path) -> pd.DataFrame:
    """``amenity=charging_station`` nodes of an OSM XML file (streamed; may be empty)."""
    rows = []
    with _open_bytes(path) as fh:
        for _, elem in ET.iterparse(fh, events=("end",)):
            if elem.tag == "node":
                tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
                if tags.get("amenity") == "charging_station":
                    rows.append(
                        {
                            "osm_id": int(elem.get("id", 0)),
                            "lat": float(elem.get("lat", "nan")),
                            "lon": float(elem.get("lon", "nan")),
                            **station_tags(tags),
                        }
                    )
                elem.clear()
            elif elem.tag in ("way", "relation"):
                elem.clear()
    return pd.DataFrame(rows)


def stations_from_features(features: pd.DataFrame) -> pd.DataFrame:
    """Stations from an osmnx features GeoDataFrame (points or polygon centroids)."""
    if features.empty:
        return pd.DataFrame()
    centroids = features.geometry.representative_point()
    rows = [
        {
            "osm_id": int(idx[-1]) if isinstance(idx, tuple) else int(idx),
            "lat": pt.y,
            "lon": pt.x,
            **station_tags({k: v for k, v in row.items() if isinstance(v, str)}),
        }
        for (idx, row), pt in zip(
            features.drop(columns="geometry").iterrows(), centroids, strict=True
        )
    ]
    return pd.DataFrame(rows)


def download_charging_stations(
    *,
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    cache_dir: Path,
) -> pd.DataFrame:
    """``amenity=charging_station`` features of a place or bbox (empty if there are none)."""
    tags: dict[str, bool | str | list[str]] = {"amenity": "charging_station"}
    overrides = {
        "log_console": False,
        "use_cache": True,
        "cache_folder": str(cache_dir / "http"),
        "requests_timeout": REQUESTS_TIMEOUT_S,
    }
    try:
        with _osmnx_settings(**overrides):
            if place:
                features = ox.features_from_place(place, tags)
            else:
                features = ox.features_from_bbox(_require_bbox(bbox), tags)
    except ox._errors.InsufficientResponseError:
        return pd.DataFrame()
    except (OSError, TypeError, ValueError) as exc:
        logger.warning("charging stations download failed (%s); synthesising instead", exc)
        return pd.DataFrame()
    return stations_from_features(features)
