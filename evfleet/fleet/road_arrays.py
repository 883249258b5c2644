"""The road network as flat per-node and per-edge arrays for the simulator, and a cached router.

:class:`NetArrays` gathers, once per graph, the node and edge columns the simulator needs
on top of :class:`~evfleet.network.RoadGraph`'s own arrays (node rows ``0..n-1`` and edge
indices are the routing core's), so trips gather their edge attributes by fancy indexing:
the weather zone of each node, the junction control at each edge's head, the road-class
code and compass bearing of each edge. :class:`Router` wraps the routing core with a
per-chunk cache of origin-destination paths and batches the searches.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evfleet.errors import InputDataError, RoutingError
from evfleet.fleet.weather import zone_index
from evfleet.network.geo import bearing_deg
from evfleet.network.graph import edge_end_rows
from evfleet.physics import JunctionControl, road_class_codes

if TYPE_CHECKING:
    from evfleet.network import RoadGraph

logger = logging.getLogger(__name__)

_CONTROL_CODES = {
    "signal": JunctionControl.SIGNAL,
    "traffic_signals": JunctionControl.SIGNAL,
    "stop": JunctionControl.STOP_SIGN,
    "stop_sign": JunctionControl.STOP_SIGN,
}
_MIN_JUNCTION_DEGREE = 3
_NET_CACHE: weakref.WeakKeyDictionary[RoadGraph, NetArrays] = weakref.WeakKeyDictionary()


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

    The one definition the simulator (:class:`NetArrays`) and the ML features share; it
    works on the network's tables, where :class:`NetArrays` has a :class:`RoadGraph`.
    """
    u_pos, v_pos = edge_end_rows(nodes, edges)
    return _control_codes(nodes, _neighbour_counts(u_pos, v_pos, len(nodes)))


def _neighbour_counts(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Number of distinct neighbours of each node (either direction)."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    pairs = np.unique(lo[lo != hi] * n + hi[lo != hi])
    return np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)


@dataclass(frozen=True)
class NetArrays:
    """Node and edge columns as arrays (node rows, edge indices of the routing core).

    Columns the simulator takes as they are come straight from :class:`RoadGraph`; speeds
    and grades are clipped to the physics' range, and the derived arrays (weather zone,
    junction control, road class, bearing) are computed once.
    """

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
    graph_ref: weakref.ReferenceType[RoadGraph]
    """The graph the arrays came from (weak: the per-graph cache must not keep it alive)."""

    @classmethod
    def of(cls, graph: RoadGraph) -> NetArrays:
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
    def from_graph(cls, graph: RoadGraph) -> NetArrays:
        """Arrays of a road graph."""
        nodes, edges = graph.nodes_frame(), graph.edges_frame()
        u_pos, v_pos = graph.edge_u, graph.edge_v
        lat, lon = graph.lat, graph.lon
        degree = _neighbour_counts(u_pos, v_pos, graph.n_nodes)
        bearing = (
            edges["bearing_deg"].to_numpy(dtype=float)
            if "bearing_deg" in edges.columns
            else bearing_deg(lat[u_pos], lon[u_pos], lat[v_pos], lon[v_pos])
        )
        highway = edges["highway"].astype(str).to_numpy(dtype=object)
        return cls(
            nodes=nodes,
            node_id=graph.node_ids,
            lat=lat,
            lon=lon,
            elevation_m=np.nan_to_num(graph.elevation_m),
            node_zone=zone_index(lat, lon),
            u_pos=u_pos,
            v_pos=v_pos,
            key=edges["key"].to_numpy(dtype=np.int64)
            if "key" in edges
            else np.zeros(graph.n_edges, np.int64),
            length_m=graph.length_m,
            travel_time_s=graph.travel_time_s,
            speed_kph=np.clip(graph.speed_kph, 5.0, 200.0),
            grade=np.clip(np.nan_to_num(graph.grade), -0.3, 0.3),
            highway=highway,
            road_class=road_class_codes(highway.astype(str)),
            control=_control_codes(nodes, degree)[v_pos],
            bearing_deg=np.nan_to_num(bearing),
            graph_ref=weakref.ref(graph),
        )

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Node rows of node ids (:meth:`RoadGraph.node_index`; raises on unknown ids)."""
        graph = self.graph_ref()
        if graph is None:
            msg = "the road graph of these arrays is gone; build them again with NetArrays.of"
            raise RuntimeError(msg)
        try:
            return graph.node_index(np.asarray(ids))
        except RoutingError as exc:
            msg = f"node ids not in the network: {exc}"
            raise InputDataError(msg) from None


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

    def __init__(self, graph: RoadGraph, net: NetArrays) -> None:
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
