"""RoadGraph: the routing core (CSR arrays + compiled kernels, no networkx on the hot path).

Load a built network with :meth:`RoadGraph.load`, snap coordinates with
:meth:`RoadGraph.nearest_nodes` and route with :meth:`RoadGraph.fastest_path` (one pair),
:meth:`RoadGraph.shortest_paths_from` (one origin, many destinations) or
:meth:`RoadGraph.route_many` (a batch of pairs in one compiled call). ``weight`` is an edge
column name (``"travel_time_s"``, ``"length_m"``, ...) or an array of non-negative per-edge
costs indexed by edge index (= ``edge_id``), e.g. predicted energy per edge.

Node arguments are node ids (``node_id`` column); paths carry node ids and edge indices, so
a caller can gather any edge attribute with fancy indexing: ``g.edge_attr("grade")[p.edges]``.
A RoadGraph is not thread-safe for concurrent queries on the same instance (it caches
weight arrays); use one instance per thread or process.
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from evfleet.errors import InputDataError, NetworkSourceError, RoutingError
from evfleet.network import _kernels, _pairs
from evfleet.network._hierarchy import Hierarchy
from evfleet.network.geo import project

HEURISTIC_SAFETY = 1.0 - 1e-9
ALT_LANDMARKS = 8
"""Landmarks of the A* bound of :meth:`RoadGraph.landmarks` (memory: 2 x 8 floats a node)."""
REDUCED_COST_TOLERANCE = 1e-9
"""Reduced costs above ``-tolerance * max|cost|`` count as non-negative (rounding)."""


def edge_end_rows(
    nodes: pd.DataFrame, edges: pd.DataFrame
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows of ``nodes`` at each edge's ``u`` and ``v`` (the network's tables, before a
    :class:`RoadGraph` exists); :class:`InputDataError` names an edge end the nodes lack."""
    ids = nodes["node_id"].to_numpy(dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    rows = []
    for col in ("u", "v"):
        end = edges[col].to_numpy(dtype=np.int64)
        pos = np.clip(np.searchsorted(sorted_ids, end), 0, max(len(sorted_ids) - 1, 0))
        if end.size and (sorted_ids.size == 0 or not np.array_equal(sorted_ids[pos], end)):
            msg = f"network edges reference nodes missing from the nodes table (column {col})"
            raise InputDataError(msg)
        rows.append(order[pos])
    return rows[0], rows[1]


@dataclass(frozen=True)
class PreparedWeight:
    """A validated per-edge cost array with its CSR-slot copies and A* factor.

    Build once with :meth:`RoadGraph.prepare` and reuse for many queries (validation and
    the slot gathers cost O(edges), a query only what it visits). ``rev_slot_cost`` is
    the cost per slot of :attr:`RoadGraph.reverse_csr` (for the backward half of a
    bidirectional search).
    """

    cost: NDArray[np.float64]
    slot_cost: NDArray[np.float64]
    hk: float
    rev_slot_cost: NDArray[np.float64]
    _landmarks: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = field(
        default_factory=list, repr=False, compare=False
    )
    _customised: list[tuple[NDArray[Any], ...]] = field(
        default_factory=list, repr=False, compare=False
    )


Weight = str | NDArray[np.float64] | PreparedWeight


@dataclass(frozen=True)
class Route:
    """One path: node ids, edge indices (driving order), and its totals."""

    nodes: NDArray[np.int64]
    edges: NDArray[np.int64]
    cost: float
    length_m: float
    travel_time_s: float


@dataclass(frozen=True)
class RouteBatch:
    """Paths of a batch of origin/destination pairs, stored flat.

    Path ``i`` uses ``edges[edge_offsets[i]:edge_offsets[i + 1]]``; ``found[i]`` is False
    (and the totals NaN) where no route exists.
    """

    origs: NDArray[np.int64]
    dests: NDArray[np.int64]
    found: NDArray[np.bool_]
    cost: NDArray[np.float64]
    length_m: NDArray[np.float64]
    travel_time_s: NDArray[np.float64]
    edge_offsets: NDArray[np.int64]
    edges: NDArray[np.int64]
    edge_tail_ids: NDArray[np.int64]
    edge_head_ids: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.origs)

    def route(self, i: int) -> Route:
        """Path ``i`` as a :class:`Route`."""
        edges = self.edges[self.edge_offsets[i] : self.edge_offsets[i + 1]]
        nodes = np.concatenate([[self.origs[i]], self.edge_head_ids[edges]]).astype(np.int64)
        return Route(
            nodes, edges, float(self.cost[i]), float(self.length_m[i]), float(self.travel_time_s[i])
        )


class RoadGraph:
    """A road network in CSR form with fast nearest-node and shortest-path queries.

    Parameters
    ----------
    nodes, edges
        The canonical frames written by :func:`evfleet.network.save_network` (nodes sorted
        by ``node_id``; edge row ``i`` has ``edge_id == i``).
    crs
        The projected CRS of the ``x_m`` / ``y_m`` node columns.
    stations
        Optional charging stations frame.
    """

    def __init__(
        self,
        nodes: pd.DataFrame,
        edges: pd.DataFrame,
        *,
        crs: str,
        stations: pd.DataFrame | None = None,
    ) -> None:
        self.nodes = nodes.reset_index(drop=True)
        self.edges = edges.reset_index(drop=True)
        self.stations = stations
        self.crs = crs
        self.node_ids = self.nodes["node_id"].to_numpy(dtype=np.int64)
        if np.any(np.diff(self.node_ids) <= 0):
            msg = "nodes must be sorted by unique node_id"
            raise NetworkSourceError(msg)
        self.lat = self.nodes["lat"].to_numpy(dtype=float)
        self.lon = self.nodes["lon"].to_numpy(dtype=float)
        self.x_m = self.nodes["x_m"].to_numpy(dtype=float)
        self.y_m = self.nodes["y_m"].to_numpy(dtype=float)
        self.elevation_m = self.nodes["elevation_m"].to_numpy(dtype=float)
        self.edge_u = self._rows(self.edges["u"].to_numpy(dtype=np.int64))
        self.edge_v = self._rows(self.edges["v"].to_numpy(dtype=np.int64))
        self.length_m = self.edges["length_m"].to_numpy(dtype=float)
        self.travel_time_s = self.edges["travel_time_s"].to_numpy(dtype=float)
        self.speed_kph = self.edges["speed_kph"].to_numpy(dtype=float)
        self.grade = self.edges["grade"].to_numpy(dtype=float)
        codes, classes = pd.factorize(self.edges["highway"], sort=True)
        self.highway_code = codes.astype(np.int16)
        self.highway_classes: tuple[str, ...] = tuple(str(c) for c in classes)
        order = np.argsort(self.edge_u, kind="stable")
        self.slot_edge = order.astype(np.int64)
        self.indices = self.edge_v[order]
        counts = np.bincount(self.edge_u, minlength=self.n_nodes)
        self.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._edge_dist_m = np.hypot(
            self.x_m[self.edge_v] - self.x_m[self.edge_u],
            self.y_m[self.edge_v] - self.y_m[self.edge_u],
        )
        self._tree = cKDTree(np.column_stack([self.x_m, self.y_m]))
        self._weights: dict[str, PreparedWeight] = {}
        self._per_thread = threading.local()

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, folder: str | Path) -> RoadGraph:
        """Load ``nodes.parquet``, ``edges.parquet`` (and ``stations.parquet``) of a network."""
        folder = Path(folder)
        for name in ("nodes.parquet", "edges.parquet", "meta.json"):
            if not (folder / name).is_file():
                msg = f"not a network folder (missing {name}): {folder}"
                raise NetworkSourceError(msg)
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        stations_path = folder / "stations.parquet"
        stations = pq.read_table(stations_path).to_pandas() if stations_path.is_file() else None
        return cls(
            pq.read_table(folder / "nodes.parquet").to_pandas(),
            pq.read_table(folder / "edges.parquet").to_pandas(),
            crs=str(meta["crs"]),
            stations=stations,
        )

    # ------------------------------------------------------------------ accessors
    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    def __repr__(self) -> str:
        return f"RoadGraph({self.n_nodes} nodes, {self.n_edges} edges, crs={self.crs})"

    def _rows(self, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        rows = np.searchsorted(self.node_ids, ids)
        rows = np.minimum(rows, len(self.node_ids) - 1)
        bad = self.node_ids[rows] != ids
        if bad.any():
            msg = f"unknown node id {int(np.asarray(ids)[bad][0])}"
            raise RoutingError(msg)
        return rows.astype(np.int64)

    def node_index(self, node_ids: ArrayLike) -> NDArray[np.int64]:
        """Row positions of node ids (raises :class:`RoutingError` for an unknown id)."""
        return self._rows(np.atleast_1d(np.asarray(node_ids, dtype=np.int64)))

    @functools.cached_property
    def _row_of(self) -> dict[int, int]:
        return {int(node): row for row, node in enumerate(self.node_ids.tolist())}

    def node_row(self, node_id: int) -> int:
        """Row position of one node id (a dict lookup: the per-query path).

        Raises :class:`RoutingError` for an unknown id, like :meth:`node_index`.
        """
        try:
            return self._row_of[node_id]
        except (KeyError, TypeError):
            msg = f"unknown node id {node_id}"
            raise RoutingError(msg) from None

    def edge_attr(self, name: str) -> NDArray[Any]:
        """Per-edge array of column ``name`` indexed by edge index."""
        if name not in self.edges:
            msg = f"unknown edge attribute {name!r}; have {', '.join(self.edges.columns)}"
            raise KeyError(msg)
        return self.edges[name].to_numpy()

    @functools.cached_property
    def reverse_csr(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """In-edges per node: ``(indptr, tail rows, edge indices)`` (for backward searches)."""
        order = np.argsort(self.edge_v, kind="stable").astype(np.int64)
        counts = np.bincount(self.edge_v, minlength=self.n_nodes)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return indptr, self.edge_u[order], order

    def pair_work(self) -> tuple[NDArray[Any], ...]:
        """This thread's work arrays for one-pair bidirectional searches
        (:func:`evfleet.network._pairs.pair_work`): allocated once per thread, each query
        resets what it labelled, so threads sharing a graph never share them."""
        work = getattr(self._per_thread, "pair_work", None)
        if work is None:
            work = self._per_thread.pair_work = _pairs.pair_work(self.n_nodes, self.n_edges)
        return work

    @functools.cached_property
    def head_ids(self) -> NDArray[np.int64]:
        """Node id at the head of each edge (paths' node lists in one gather)."""
        return self.node_ids[self.edge_v]

    @functools.cached_property
    def hierarchy(self) -> Hierarchy:
        """The cost-independent contraction hierarchy (built on first use, kept).

        Nested-dissection ranks and the shortcut arcs and triangles they imply
        (:class:`evfleet.network._hierarchy.Hierarchy`); each cost array then needs only
        a customisation (:meth:`customised`) before its ``ch`` queries.
        """
        return Hierarchy.build(self.n_nodes, self.edge_u, self.edge_v)

    def customised(self, weight: PreparedWeight) -> tuple[NDArray[Any], ...]:
        """The :attr:`hierarchy`'s arc costs for ``weight`` (customised on first use, kept
        with the weight like its landmarks)."""
        if not weight._customised:
            weight._customised.append(self.hierarchy.customise(weight.cost))
        return weight._customised[0]

    def need_to_reach(
        self,
        sources: NDArray[np.int64],
        cost: NDArray[np.float64],
        energy: NDArray[np.float64],
        init: NDArray[np.float64] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Battery each node needs (above the floor) to reach ``sources`` (node rows).

        Follows the least-``cost`` path (``cost >= 0`` per edge; ``init`` optional start
        distances of the sources) and returns the deepest cumulative drawdown of
        ``energy`` along it, the path's net energy and its ``cost`` (``inf`` where no
        source is reachable). With ``cost`` the potential-reduced energy and ``init`` the sources'
        potentials, the net energy is the least energy to any source.
        """
        start = np.full(self.n_nodes, np.inf)
        start[sources] = 0.0 if init is None else init
        indptr, tails, slot_edge = self.reverse_csr
        need, net, dist = _kernels.reverse_need(
            indptr, tails, slot_edge, cost, energy, self.edge_v, start
        )
        return (
            np.asarray(need, dtype=float),
            np.asarray(net, dtype=float),
            np.asarray(dist, dtype=float),
        )

    def edges_frame(self) -> pd.DataFrame:
        """The edge table (row ``i`` is edge index ``i``)."""
        return self.edges

    def nodes_frame(self) -> pd.DataFrame:
        """The node table (row ``i`` is node row ``i``)."""
        return self.nodes

    # ------------------------------------------------------------------ queries
    def nearest_nodes(
        self, lat: ArrayLike, lon: ArrayLike, *, return_dist: bool = False
    ) -> NDArray[np.int64] | tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Node ids nearest to each (lat, lon) (KD-tree on projected metres)."""
        x, y = project(np.atleast_1d(lat), np.atleast_1d(lon), self.crs)
        dist, rows = self._tree.query(np.column_stack([x, y]))
        ids = self.node_ids[rows]
        return (ids, np.asarray(dist, dtype=float)) if return_dist else ids

    def prepare(self, weight: Weight) -> PreparedWeight:
        """Validate a weight (column name or per-edge array) for repeated queries.

        Costs must be finite and non-negative; the A* factor is the smallest cost per
        straight-line metre (so ``hk * euclid`` is a consistent lower bound).
        """
        if isinstance(weight, PreparedWeight):
            return weight
        if isinstance(weight, str) and weight in self._weights:
            return self._weights[weight]
        cost = np.asarray(
            self.edge_attr(weight) if isinstance(weight, str) else weight, dtype=float
        )
        if cost.shape != (self.n_edges,):
            msg = f"weight array has shape {cost.shape}, expected ({self.n_edges},)"
            raise RoutingError(msg)
        if not np.all(np.isfinite(cost)) or np.any(cost < 0):
            msg = "edge weights must be finite and non-negative for shortest paths"
            raise RoutingError(msg)
        moving = self._edge_dist_m > 0
        ratio = cost[moving] / self._edge_dist_m[moving]
        hk = float(ratio.min() * HEURISTIC_SAFETY) if ratio.size else 0.0
        entry = PreparedWeight(cost, cost[self.slot_edge], hk, cost[self.reverse_csr[2]])
        if isinstance(weight, str):
            self._weights[weight] = entry
        return entry

    def landmarks(self, weight: PreparedWeight) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Least costs to and from :data:`ALT_LANDMARKS` landmarks (ALT A* bounds), cached.

        Built on the first A* query of a weight (two full Dijkstras per landmark, see
        :func:`evfleet.network._pairs.landmark_distances`); the triangle inequality
        then bounds the cost to any target far more tightly than the straight line.
        """
        if not weight._landmarks:
            indptr, tails, order = self.reverse_csr
            weight._landmarks.append(
                _pairs.landmark_distances(
                    (self.indptr, self.indices, self.slot_edge, weight.slot_cost),
                    (indptr, tails, order, weight.rev_slot_cost),
                    ALT_LANDMARKS,
                )
            )
        return weight._landmarks[0]

    def _weight(self, weight: Weight) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """(per-edge cost, cost per CSR slot, A* factor) for a column name or an array."""
        w = self.prepare(weight)
        return w.cost, w.slot_cost, w.hk

    def potential(self, cost: ArrayLike, *, per_m: float | None = None) -> NDArray[np.float64]:
        """A node potential ``phi`` that makes ``cost - phi[v] + phi[u]`` non-negative.

        Edge energies with regeneration are negative on descents. With ``per_m`` (kWh per
        metre of climb, e.g. the recoverable share of ``m g``) the potential is
        ``per_m * elevation`` (Sachenbacher et al., AAAI 2011); it is checked on every
        edge, and when it does not make all reduced costs non-negative (a model whose
        descents recover more than the bound, or whose grades disagree with the node
        elevations), the largest slope ``k`` that all edges admit is tried, then the
        exact Johnson potential (Bellman-Ford
        from a virtual source, compiled) replaces it. A negative cycle raises
        :class:`RoutingError` instead of looping.
        """
        c = np.asarray(cost, dtype=float)
        if c.shape != (self.n_edges,) or not np.all(np.isfinite(c)):
            msg = f"edge costs must be finite with shape ({self.n_edges},), got {c.shape}"
            raise RoutingError(msg)
        tol = REDUCED_COST_TOLERANCE * max(float(np.abs(c).max(initial=0.0)), 1e-12)
        elevation = np.nan_to_num(self.elevation_m)
        for k in (per_m, self._tightest_per_m(c, elevation)):
            if k is not None and np.all(self.reduced(c, k * elevation) >= -tol):
                return np.asarray(k * elevation, dtype=float)
        if np.all(c >= 0):
            return np.zeros(self.n_nodes)
        phi, ok = _kernels.johnson_potential(self.indptr, self.indices, c[self.slot_edge])
        if not ok:
            msg = (
                "the edge energies contain a negative cycle (a loop that gains energy): "
                "exact energy-optimal routes do not exist for these weights"
            )
            raise RoutingError(msg)
        return np.asarray(phi, dtype=float)

    def _tightest_per_m(self, cost: NDArray[np.float64], elevation: NDArray[np.float64]) -> float:
        """Largest ``cost / climb`` over descents (a candidate slope of the potential)."""
        climb = elevation[self.edge_v] - elevation[self.edge_u]
        down = climb < 0
        return float((cost[down] / climb[down]).max()) if down.any() else 0.0

    def reduced(self, cost: NDArray[np.float64], phi: NDArray[np.float64]) -> NDArray[np.float64]:
        """Reduced edge costs ``cost - phi[v] + phi[u]`` (per edge index)."""
        return np.asarray(cost - phi[self.edge_v] + phi[self.edge_u], dtype=float)

    def route_many(
        self,
        origs: ArrayLike,
        dests: ArrayLike,
        *,
        weight: Weight = "travel_time_s",
        strict: bool = True,
        astar: bool = True,
    ) -> RouteBatch:
        """Least-cost paths for many origin/destination node-id pairs in one compiled call.

        With ``strict`` an unreachable pair raises :class:`RoutingError`; otherwise its
        ``found`` flag is False. ``astar=False`` runs plain Dijkstra.
        """
        o_ids = np.atleast_1d(np.asarray(origs, dtype=np.int64))
        d_ids = np.atleast_1d(np.asarray(dests, dtype=np.int64))
        if o_ids.shape != d_ids.shape:
            msg = f"{len(o_ids)} origins but {len(d_ids)} destinations"
            raise RoutingError(msg)
        src, dst = self._rows(o_ids), self._rows(d_ids)
        cost, slot_cost, hk = self._weight(weight)
        found, total, length, time, offsets, edges = _kernels.route_batch(
            self.indptr,
            self.indices,
            self.slot_edge,
            slot_cost,
            self.edge_u,
            self.x_m,
            self.y_m,
            hk if astar else 0.0,
            src,
            dst,
            cost,
            self.length_m,
            self.travel_time_s,
        )
        if strict and not found.all():
            i = int(np.flatnonzero(~found)[0])
            msg = f"no route from node {o_ids[i]} to node {d_ids[i]}"
            raise RoutingError(msg)
        return RouteBatch(
            o_ids,
            d_ids,
            found,
            total,
            length,
            time,
            offsets,
            edges,
            self.node_ids[self.edge_u],
            self.node_ids[self.edge_v],
        )

    def fastest_path(self, orig: int, dest: int, *, weight: Weight = "travel_time_s") -> Route:
        """Least-cost path between two node ids (A* with a consistent straight-line bound)."""
        return self.route_many([orig], [dest], weight=weight).route(0)

    def costs_from(self, orig: int, *, weight: Weight = "travel_time_s") -> NDArray[np.float64]:
        """Least cost from ``orig`` to every node row (``inf`` where unreachable)."""
        _, slot_cost, _ = self._weight(weight)
        dist, _ = _kernels.shortest_tree(
            self.indptr,
            self.indices,
            self.slot_edge,
            slot_cost,
            self._rows(np.array([orig]))[0],
            np.empty(0, np.int64),
        )
        return np.asarray(dist, dtype=float)

    def shortest_paths_from(
        self, orig: int, dests: ArrayLike, *, weight: Weight = "travel_time_s"
    ) -> list[Route]:
        """Least-cost paths from one origin to many destinations (one Dijkstra)."""
        src = int(self._rows(np.array([orig]))[0])
        d_ids = np.atleast_1d(np.asarray(dests, dtype=np.int64))
        rows = self._rows(d_ids)
        cost, slot_cost, _ = self._weight(weight)
        dist, pred = _kernels.shortest_tree(
            self.indptr, self.indices, self.slot_edge, slot_cost, src, rows
        )
        routes = []
        for d_id, row in zip(d_ids, rows, strict=True):
            if not np.isfinite(dist[row]):
                msg = f"no route from node {orig} to node {d_id}"
                raise RoutingError(msg)
            edges = _kernels.walk_path(pred, self.edge_u, src, row)
            nodes = np.concatenate([[orig], self.node_ids[self.edge_v[edges]]]).astype(np.int64)
            routes.append(
                Route(
                    nodes,
                    edges,
                    float(cost[edges].sum()),
                    float(self.length_m[edges].sum()),
                    float(self.travel_time_s[edges].sum()),
                )
            )
        return routes
