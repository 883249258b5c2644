"""Build a road network from any source into the canonical tables (DESIGN.md §6)."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evfleet.config import NetworkConfig, NetworkSource
from evfleet.network.clean import clip_to_bbox, finalize_network
from evfleet.network.elevation import add_elevations, check_dem_files
from evfleet.network.io import NetworkData, grade_stats
from evfleet.network.stations import snap_stations, synthesize_stations
from evfleet.network.synthetic import build_synthetic

logger = logging.getLogger(__name__)

NETWORK_SCHEMA_VERSION = 1
"""Version of the network tables and meta.json layout; part of the network stage id."""


def _raw_source(
    cfg: NetworkConfig, cache_dir: Path
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Raw nodes/edges, OSM stations (maybe empty) and source metadata for ``cfg``."""
    if cfg.source is NetworkSource.EMBEDDED:
        nodes, edges = build_synthetic(scale=cfg.scale, seed=cfg.seed)
        detail = {"source_detail": "embedded synthetic Bay Area", "scale": cfg.scale}
        return nodes, edges, pd.DataFrame(), detail
    from evfleet.network import osm  # osmnx is slow to import: only for OSM sources

    if cfg.source is NetworkSource.OSM_FILE:
        path = Path(str(cfg.osm_file))
        graph = osm.load_osm_file(path)
        nodes, edges = osm.drivable_frames(graph, what=f"OSM file {path}")
        stations = osm.read_osm_charging_stations(path)
        return nodes, edges, stations, {"source_detail": path.name}
    query: dict[str, Any] = (
        {"place": cfg.place} if cfg.source is NetworkSource.PLACE else {"bbox": cfg.bbox}
    )
    graph = osm.download_osm(**query, cache_dir=cache_dir)
    what = f"place {cfg.place!r}" if "place" in query else f"bbox {list(cfg.bbox or ())}"
    nodes, edges = osm.drivable_frames(graph, what=what)
    stations = osm.download_charging_stations(**query, cache_dir=cache_dir)
    return nodes, edges, stations, {"source_detail": what}


def build_network(cfg: NetworkConfig, *, cache_dir: Path | None = None) -> NetworkData:
    """Build the cleaned, drivable, strongly connected network described by ``cfg``.

    Parameters
    ----------
    cfg
        Network section of the studio config (source, file/place/bbox, DEMs, scale, seed).
        With the embedded or OSM-file source a ``bbox`` clips the network.
    cache_dir
        Folder for online downloads (ignored by offline sources); a temporary folder when
        omitted.

    Raises
    ------
    NetworkSourceError
        Missing / empty / corrupt / non-OSM file, no drivable roads, empty bbox, DEM not
        overlapping, no internet for an online source.
    """
    started = time.perf_counter()
    check_dem_files(cfg.dem_files)
    with tempfile.TemporaryDirectory(prefix="evfleet-osm-") as tmp:
        nodes, edges, osm_stations, detail = _raw_source(cfg, Path(cache_dir or tmp))
    what = detail["source_detail"]
    if cfg.bbox is not None and cfg.source in (NetworkSource.EMBEDDED, NetworkSource.OSM_FILE):
        nodes, edges = clip_to_bbox(nodes, edges, cfg.bbox, what=what)
    nodes, elevation = add_elevations(nodes, edges, dem_files=cfg.dem_files)
    nodes, edges, stats = finalize_network(nodes, edges)
    stations = snap_stations(osm_stations, nodes, crs=stats["crs"])
    stations_source = "osm"
    if stations.empty:
        stations = synthesize_stations(nodes, edges, seed=cfg.seed)
        stations_source = "synthetic"
    meta = {
        "schema_version": NETWORK_SCHEMA_VERSION,
        "source": cfg.source.value,
        **detail,
        "seed": cfg.seed,
        "bbox": [
            round(float(v), 6)
            for v in (
                nodes["lon"].min(),
                nodes["lat"].min(),
                nodes["lon"].max(),
                nodes["lat"].max(),
            )
        ],
        "crs": stats["crs"],
        "n_nodes": len(nodes),
        "n_edges": len(edges),
        "n_stations": len(stations),
        "stations_source": stations_source,
        **elevation,
        "elevation_m_min": round(float(nodes["elevation_m"].min()), 3),
        "elevation_m_max": round(float(nodes["elevation_m"].max()), 3),
        "n_grade_clipped": stats["n_grade_clipped"],
        **grade_stats(edges["grade"].to_numpy()),
        "total_km": round(float(edges["length_m"].sum() / 1000), 3),
        "speed_from_maxspeed_share": round(float(np.mean(edges["speed_source"] == "maxspeed")), 5),
    }
    logger.info(
        "built %s network: %d nodes, %d edges, %d stations in %.1f s",
        cfg.source.value,
        len(nodes),
        len(edges),
        len(stations),
        time.perf_counter() - started,
    )
    return NetworkData(nodes, edges, stations, meta)
