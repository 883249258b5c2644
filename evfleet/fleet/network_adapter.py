"""The road network as flat arrays for the simulator, and a cached router.

:class:`NetArrays` gathers the node and edge columns the simulator needs once per chunk
(positions 0..n-1 index nodes; edge indices are the routing core's edge indices), so trips
gather their edge attributes by fancy indexing. :class:`Router` wraps the routing core of
:mod:`evfleet.network` with a per-chunk cache of origin-destination paths and batches the
searches: one search per origin for all its destinations.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evfleet.errors import InputDataError, RoutingError
from evfleet.fleet.weather import zone_index
from evfleet.physics import JunctionControl, road_class_codes

logger = logging.getLogger(__name__)

_NODE_COLUMNS = ("node_id", "lat", "lon")
_EDGE_COLUMNS = ("u", "v", "length_m", "travel_time_s", "speed_kph", "grade", "highway")
_CONTROL_CODES = {
    "signal": JunctionControl.SIGNAL,
    "traffic_signals": JunctionControl.SIGNAL,
    "stop": JunctionControl.STOP_SIGN,
    "stop_sign": JunctionControl.STOP_SIGN,
}
_MIN_JUNCTION_DEGREE = 3
_NET_CACHE: weakref.WeakKeyDictionary[Any, NetArrays] = weakref.WeakKeyDictionary()


def nodes_frame(graph: Any) -> pd.DataFrame:
    """The network's nodes table (``node_id, lat, lon`` and optional weights)."""
    nodes = getattr(graph, "nodes", None)
    if not isinstance(nodes, pd.DataFrame):
        msg = "the road graph has no nodes table (expected RoadGraph.nodes as a DataFrame)"
        raise InputDataError(msg)
    return nodes


def _edges_frame(graph: Any) -> pd.DataFrame:
    edges = getattr(graph, "edges", None)
    if not isinstance(edges, pd.DataFrame):
        msg = "the road graph has no edges table (expected RoadGraph.edges as a DataFrame)"
        raise InputDataError(msg)
    return edges


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"network {what} table lacks columns: {', '.join(missing)}"
        raise InputDataError(msg)


def _bearing(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlon = np.radians(lon2 - lon1)
    x = np.sin(dlon) * np.cos(p2)
    y = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dlon)
    return np.degrees(np.arctan2(x, y)) % 360.0


def _control_codes(nodes: pd.DataFrame, degree: np.ndarray) -> np.ndarray:
    """Junction control of each node from its ``control`` tag and its degree."""
    junction = np.where(
        degree >= _MIN_JUNCTION_DEGREE, JunctionControl.JUNCTION, JunctionControl.NONE
    )
    if "control" not in nodes.columns:
        return junction.astype(np.int8)
    tags = nodes["control"].astype(str).str.lower().to_numpy()
    uniq, inv = np.unique(tags, return_inverse=True)
    mapped = np.array([_CONTROL_CODES.get(t, -1) for t in uniq], dtype=np.int64)[inv]
    return np.where(mapped >= 0, mapped, junction).astype(np.int8)


def junction_controls(nodes: pd.DataFrame, edges: pd.DataFrame) -> np.ndarray:
    """Junction control drivers meet at each node (rows of ``nodes``, codes of
    :class:`JunctionControl`): the node's ``control`` tag (signal, stop sign), else a plain
    junction where three or more streets meet, else none (the road just continues).

    The one definition the simulator (:class:`NetArrays`) and the ML features share.
    """
    node_id = nodes["node_id"].to_numpy(dtype=np.int64)
    lookup = _Lookup(node_id, np.argsort(node_id, kind="stable"))
    u_pos, v_pos = lookup(edges["u"].to_numpy()), lookup(edges["v"].to_numpy())
    return _control_codes(nodes, _neighbour_counts(u_pos, v_pos, node_id.size))


class _Lookup:
    """Vectorised node id -> position map."""

    def __init__(self, node_id: np.ndarray, order: np.ndarray) -> None:
        self.sorted_ids, self.order = node_id[order], order

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        idx = np.clip(np.searchsorted(self.sorted_ids, ids), 0, self.sorted_ids.size - 1)
        if ids.size and not np.array_equal(self.sorted_ids[idx], ids):
            bad = ids[self.sorted_ids[idx] != ids][:5]
            msg = f"node ids not in the network: {bad.tolist()}"
            raise InputDataError(msg)
        return self.order[idx]


def _neighbour_counts(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Number of distinct neighbours of each node (either direction)."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    pairs = np.unique(lo[lo != hi] * n + hi[lo != hi])
    return np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)


@dataclass(frozen=True)
class NetArrays:
    """Node and edge columns as arrays (node positions, edge indices)."""

    nodes: pd.DataFrame
    node_id: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    elevation_m: np.ndarray
    node_zone: np.ndarray
    u_pos: np.ndarray
    v_pos: np.ndarray
    key: np.ndarray
    length_m: np.ndarray
    travel_time_s: np.ndarray
    speed_kph: np.ndarray
    grade: np.ndarray
    highway: np.ndarray
    road_class: np.ndarray
    control: np.ndarray
    bearing_deg: np.ndarray
    lookup: _Lookup

    @classmethod
    def of(cls, graph: Any) -> NetArrays:
        """Arrays of a road graph, cached per graph object."""
        try:
            return _NET_CACHE[graph]
        except (KeyError, TypeError):
            pass
        net = cls.from_graph(graph)
        with contextlib.suppress(TypeError):
            _NET_CACHE[graph] = net
        return net

    @classmethod
    def from_graph(cls, graph: Any) -> NetArrays:
        """Arrays of a road graph."""
        nodes, edges = nodes_frame(graph), _edges_frame(graph)
        _require(nodes, _NODE_COLUMNS, "nodes")
        _require(edges, _EDGE_COLUMNS, "edges")
        node_id = nodes["node_id"].to_numpy(dtype=np.int64)
        order = np.argsort(node_id, kind="stable")
        lookup = _Lookup(node_id, order)
        u_pos, v_pos = lookup(edges["u"].to_numpy()), lookup(edges["v"].to_numpy())
        lat, lon = nodes["lat"].to_numpy(dtype=float), nodes["lon"].to_numpy(dtype=float)
        elev = (
            nodes["elevation_m"].to_numpy(dtype=float)
            if "elevation_m" in nodes
            else np.zeros(lat.size)
        )
        degree = _neighbour_counts(u_pos, v_pos, lat.size)
        bearing = (
            edges["bearing_deg"].to_numpy(dtype=float)
            if "bearing_deg" in edges.columns
            else _bearing(lat[u_pos], lon[u_pos], lat[v_pos], lon[v_pos])
        )
        highway = edges["highway"].astype(str).to_numpy(dtype=object)
        return cls(
            nodes=nodes,
            node_id=node_id,
            lat=lat,
            lon=lon,
            elevation_m=np.nan_to_num(elev),
            node_zone=zone_index(lat, lon),
            u_pos=u_pos,
            v_pos=v_pos,
            key=edges["key"].to_numpy(dtype=np.int64)
            if "key" in edges
            else np.zeros(len(edges), np.int64),
            length_m=edges["length_m"].to_numpy(dtype=float),
            travel_time_s=edges["travel_time_s"].to_numpy(dtype=float),
            speed_kph=np.clip(edges["speed_kph"].to_numpy(dtype=float), 5.0, 200.0),
            grade=np.clip(np.nan_to_num(edges["grade"].to_numpy(dtype=float)), -0.3, 0.3),
            highway=highway,
            road_class=road_class_codes(highway.astype(str)),
            control=_control_codes(nodes, degree)[v_pos],
            bearing_deg=np.nan_to_num(bearing),
            lookup=lookup,
        )

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Node positions of node ids (raises on unknown ids)."""
        return self.lookup(np.asarray(ids))


class Router:
    """Fastest paths between node positions, cached per chunk.

    Uncached pairs are routed together in one compiled call of
    :meth:`evfleet.network.RoadGraph.route_many` (A* per pair).

    Parameters
    ----------
    graph
        The routing core (:class:`evfleet.network.RoadGraph`).
    net
        Its arrays (for id <-> position mapping).
    """

    def __init__(self, graph: Any, net: NetArrays) -> None:
        self.graph, self.net = graph, net
        self._cache: dict[tuple[int, int], np.ndarray] = {}
        self.pairs_routed = 0

    def prefetch(self, origins: list[int], destinations: list[int]) -> None:
        """Route all uncached pairs (node positions) in one batch."""
        todo = sorted(
            {
                (o, d)
                for o, d in zip(origins, destinations, strict=True)
                if o != d and (o, d) not in self._cache
            }
        )
        if not todo:
            return
        pairs = np.asarray(todo, dtype=np.int64)
        ids = self.net.node_id[pairs]
        try:
            batch = self.graph.route_many(ids[:, 0], ids[:, 1])
        except RoutingError as exc:
            msg = f"the fleet needs a route the network does not have: {exc}"
            raise RoutingError(msg) from None
        self.pairs_routed += len(todo)
        offsets, edges = batch.edge_offsets, batch.edges
        for i, key in enumerate(todo):
            self._cache[key] = edges[offsets[i] : offsets[i + 1]]

    def route(self, origin: int, destination: int) -> np.ndarray:
        """Edge indices of the fastest path between two node positions (cached)."""
        key = (origin, destination)
        if key not in self._cache:
            self.prefetch([origin], [destination])
        return self._cache[key]
