"""Cleaning shared by every source: speeds, largest SCC, keys, grades, node weights.

All sources hand raw frames to :func:`finalize_network`, which returns the canonical node
and edge tables written to the workspace (see :mod:`evfleet.network.io` for the columns).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from evfleet.errors import NetworkSourceError
from evfleet.network.geo import bearing_deg, project, utm_crs
from evfleet.units import KM_PER_MILE, KPH_PER_MPS

logger = logging.getLogger(__name__)

MIN_RUN_M = 20.0
"""Grades use at least this run, so short edges and DEM noise cannot give absurd grades."""
MAX_ABS_GRADE = 0.30
"""San Francisco's steepest streets are about 30 %."""

HIGHWAY_ORDER: tuple[str, ...] = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "road",
)
"""Drivable OSM highway classes, most important first (lists keep the first in this order)."""

DRIVABLE_HIGHWAYS = frozenset(HIGHWAY_ORDER)

FALLBACK_SPEED_KPH: dict[str, float] = {
    "motorway": 65 * KM_PER_MILE,
    "trunk": 55 * KM_PER_MILE,
    "primary": 35 * KM_PER_MILE,
    "secondary": 30 * KM_PER_MILE,
    "tertiary": 25 * KM_PER_MILE,
    "motorway_link": 35 * KM_PER_MILE,
    "trunk_link": 30 * KM_PER_MILE,
    "primary_link": 25 * KM_PER_MILE,
    "secondary_link": 25 * KM_PER_MILE,
    "tertiary_link": 25 * KM_PER_MILE,
    "unclassified": 25 * KM_PER_MILE,
    "residential": 25 * KM_PER_MILE,
    "living_street": 10 * KM_PER_MILE,
    "road": 25 * KM_PER_MILE,
}
"""US urban defaults used where ``maxspeed`` is missing or unparseable."""

_SPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph|knots)?\s*$", re.IGNORECASE)
_UNIT_KPH = {None: 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": KM_PER_MILE, "knots": 1.852}
MIN_SPEED_KPH, MAX_SPEED_KPH = 5.0, 200.0


def parse_maxspeed(value: Any) -> float:
    """Parse an OSM ``maxspeed`` value to km/h (NaN when it carries no number).

    Handles ``"25 mph"``, ``"50"`` (km/h, the OSM default unit), ``"30 knots"``,
    semicolon / pipe separated values and lists (the mean of the parsed parts).
    """
    if isinstance(value, list | tuple):
        parts = [parse_maxspeed(v) for v in value]
    elif isinstance(value, str):
        pieces = re.split(r"[;|]", value)
        if len(pieces) > 1:
            parts = [parse_maxspeed(p) for p in pieces]
        else:
            match = _SPEED_RE.match(value)
            if match is None:
                return math.nan
            unit = match.group(2).lower() if match.group(2) else None
            return float(match.group(1)) * _UNIT_KPH[unit]
    elif isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    else:
        return math.nan
    finite = [p for p in parts if math.isfinite(p)]
    return float(np.mean(finite)) if finite else math.nan


def _hashable(value: Any) -> Hashable:
    return tuple(value) if isinstance(value, list) else value


def speeds_from_maxspeed(maxspeed: pd.Series, highway: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Speed in km/h from ``maxspeed`` where it parses, else the per-class fallback.

    Returns ``(speed_kph, from_tag)``; parsing runs once per distinct value.
    """
    keys = maxspeed.map(_hashable)
    parsed = {k: parse_maxspeed(k) for k in pd.unique(keys)}
    tag = keys.map(parsed).to_numpy(dtype=float)
    ok = np.isfinite(tag) & (tag >= MIN_SPEED_KPH) & (tag <= MAX_SPEED_KPH)
    fallback = highway.map(FALLBACK_SPEED_KPH).fillna(FALLBACK_SPEED_KPH["road"]).to_numpy(float)
    return np.where(ok, tag, fallback), ok


def keep_largest_scc(nodes: pd.DataFrame, edges: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Restrict to the largest strongly connected component (ties: the earliest node)."""
    node_ids = nodes["node_id"].to_numpy()
    order = np.argsort(node_ids, kind="stable")
    u = order[np.searchsorted(node_ids, edges["u"].to_numpy(), sorter=order)]
    v = order[np.searchsorted(node_ids, edges["v"].to_numpy(), sorter=order)]
    n = len(nodes)
    adj = sp.csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    _, labels = connected_components(adj, directed=True, connection="strong")
    keep = labels == np.argmax(np.bincount(labels))
    logger.info("largest strongly connected component keeps %d of %d nodes", keep.sum(), n)
    kept_edges = keep[u] & keep[v]
    return nodes[keep].reset_index(drop=True), edges[kept_edges].reset_index(drop=True)


def clip_to_bbox(
    nodes: pd.DataFrame, edges: pd.DataFrame, bbox: tuple[float, float, float, float], *, what: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep nodes inside ``bbox`` (west, south, east, north) and the edges between them."""
    west, south, east, north = bbox
    inside = nodes["lon"].between(west, east) & nodes["lat"].between(south, north)
    ids = nodes.loc[inside, "node_id"].to_numpy()
    keep = edges["u"].isin(ids) & edges["v"].isin(ids)
    if not keep.any():
        msg = f"bbox {list(bbox)} contains no drivable roads of {what}"
        raise NetworkSourceError(msg)
    return nodes[inside].reset_index(drop=True), edges[keep].reset_index(drop=True)


def edge_grades(
    elev_u: np.ndarray, elev_v: np.ndarray, length_m: np.ndarray
) -> tuple[np.ndarray, int]:
    """Robust rise/run: run at least :data:`MIN_RUN_M`, clipped to +-:data:`MAX_ABS_GRADE`.

    Returns the grades and how many were clipped.
    """
    raw = (elev_v - elev_u) / np.maximum(length_m, MIN_RUN_M)
    clipped = int(np.count_nonzero(np.abs(raw) > MAX_ABS_GRADE))
    return np.clip(raw, -MAX_ABS_GRADE, MAX_ABS_GRADE), clipped


def _node_weights(
    nodes: pd.DataFrame, edges: pd.DataFrame, rows_u: np.ndarray, rows_v: np.ndarray
) -> None:
    """Fill missing ``pop_weight`` / ``commercial_weight`` from incident road lengths."""
    n = len(nodes)
    half = edges["length_m"].to_numpy() / 2
    hw = edges["highway"]
    homes = hw.isin(["residential", "living_street", "unclassified", "tertiary"]).to_numpy()
    shops = hw.isin(["primary", "secondary", "tertiary", "trunk"]).to_numpy()
    if "pop_weight" not in nodes or nodes["pop_weight"].isna().all():
        w = np.bincount(rows_u, half * homes, n) + np.bincount(rows_v, half * homes, n)
        nodes["pop_weight"] = w
    if "commercial_weight" not in nodes or nodes["commercial_weight"].isna().all():
        w = np.bincount(rows_u, half * shops, n) + np.bincount(rows_v, half * shops, n)
        nodes["commercial_weight"] = w * np.where(nodes["is_signal"], 2.0, 1.0)
    for col in ("pop_weight", "commercial_weight"):
        w = nodes[col].to_numpy(dtype=float)
        nodes[col] = w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)


def finalize_network(
    nodes: pd.DataFrame, edges: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Largest SCC, sorted ids and keys, lengths/times/grades/bearings, projected coords.

    ``nodes`` needs ``node_id, lat, lon, elevation_m`` (``control``, ``place``, ``kind`` and
    weights optional); ``edges`` needs ``u, v, length_m, highway, speed_kph`` and the flag
    columns. Returns the canonical frames and a few statistics for ``meta.json``.
    """
    nodes, edges = keep_largest_scc(nodes, edges)
    nodes = nodes.sort_values("node_id", kind="stable").reset_index(drop=True)
    edges = edges.sort_values(["u", "v"], kind="stable").reset_index(drop=True)
    edges.insert(2, "key", edges.groupby(["u", "v"], sort=False).cumcount().astype(np.int64))
    ids = nodes["node_id"].to_numpy()
    ru, rv = (
        np.searchsorted(ids, edges["u"].to_numpy()),
        np.searchsorted(ids, edges["v"].to_numpy()),
    )
    lat, lon = nodes["lat"].to_numpy(), nodes["lon"].to_numpy()
    elev = nodes["elevation_m"].to_numpy(dtype=float)
    length = edges["length_m"].to_numpy(dtype=float)
    grade, n_clipped = edge_grades(elev[ru], elev[rv], length)
    control = nodes.get("control", pd.Series("none", index=nodes.index)).fillna("none")
    crs = utm_crs(float((lat.min() + lat.max()) / 2), float((lon.min() + lon.max()) / 2))
    x, y = project(lat, lon, crs)
    for col, default in (("place", ""), ("kind", "")):
        if col not in nodes:
            nodes[col] = default
    nodes = nodes.assign(
        node_id=ids.astype(np.int64),
        x_m=x,
        y_m=y,
        control=control.astype(str),
        is_signal=(control == "signal").to_numpy(),
    )
    speed = edges["speed_kph"].to_numpy(dtype=float)
    edges = edges.assign(
        edge_id=np.arange(len(edges), dtype=np.int64),
        travel_time_s=length / (speed / KPH_PER_MPS),
        grade=grade,
        bearing_deg=bearing_deg(lat[ru], lon[ru], lat[rv], lon[rv]),
        signal_at_v=(control.to_numpy()[rv] == "signal"),
        stop_at_v=(control.to_numpy()[rv] == "stop"),
    )
    _node_weights(nodes, edges, ru, rv)
    stats = {"crs": crs, "n_grade_clipped": n_clipped}
    return nodes[NODE_COLUMNS].copy(), edges[EDGE_COLUMNS].copy(), stats


NODE_COLUMNS: list[str] = [
    "node_id",
    "lat",
    "lon",
    "x_m",
    "y_m",
    "elevation_m",
    "control",
    "is_signal",
    "place",
    "kind",
    "pop_weight",
    "commercial_weight",
]
EDGE_COLUMNS: list[str] = [
    "edge_id",
    "u",
    "v",
    "key",
    "length_m",
    "highway",
    "speed_kph",
    "speed_source",
    "travel_time_s",
    "grade",
    "oneway",
    "bridge",
    "tunnel",
    "name",
    "ref",
    "lanes",
    "bearing_deg",
    "signal_at_v",
    "stop_at_v",
]
