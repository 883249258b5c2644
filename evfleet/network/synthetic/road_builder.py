"""Accumulate synthetic nodes and edges as column arrays, then emit DataFrames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from evfleet.units import KM_PER_MILE

MPH_TO_KPH = KM_PER_MILE

LINE_CLASSES = ("residential", "tertiary", "secondary", "primary")

NODE_DEFAULTS: dict[str, Any] = {
    "elevation_m": np.nan,
    "place": "",
    "kind": "rural",
    "control": "none",
    "pop_weight": 0.0,
    "commercial_weight": 0.0,
    "rank": 0,
}

EDGE_DEFAULTS: dict[str, Any] = {
    "highway": "residential",
    "name": "",
    "ref": "",
    "oneway": False,
    "bridge": False,
    "tunnel": False,
    "lanes": 1,
    "speed_kph": 25 * MPH_TO_KPH,
    "length_factor": 1.0,
}


class RoadBuilder:
    """Collects node and edge columns in chunks; node ids are assigned sequentially."""

    def __init__(self) -> None:
        self._nodes: list[dict[str, Any]] = []
        self._edges: list[dict[str, Any]] = []
        self.n_nodes = 0

    def add_nodes(self, lat: ArrayLike, lon: ArrayLike, **attrs: Any) -> NDArray[np.int64]:
        """Add nodes (attribute values scalar or per node); return their ids."""
        lat_a = np.asarray(lat, dtype=float).ravel()
        ids = np.arange(self.n_nodes, self.n_nodes + len(lat_a), dtype=np.int64)
        cols = {"node_id": ids, "lat": lat_a, "lon": np.asarray(lon, dtype=float).ravel()}
        for name, default in NODE_DEFAULTS.items():
            cols[name] = _broadcast(attrs.pop(name, default), len(lat_a))
        if attrs:
            msg = f"unknown node attributes: {sorted(attrs)}"
            raise TypeError(msg)
        self._nodes.append(cols)
        self.n_nodes += len(lat_a)
        return ids

    def add_edges(
        self, u: ArrayLike, v: ArrayLike, *, both_ways: bool = False, **attrs: Any
    ) -> None:
        """Add directed edges u->v (and v->u when ``both_ways``)."""
        u_a, v_a = np.asarray(u, dtype=np.int64).ravel(), np.asarray(v, dtype=np.int64).ravel()
        cols = {"u": u_a, "v": v_a}
        for name, default in EDGE_DEFAULTS.items():
            cols[name] = _broadcast(attrs.pop(name, default), len(u_a))
        if attrs:
            msg = f"unknown edge attributes: {sorted(attrs)}"
            raise TypeError(msg)
        self._edges.append(cols)
        if both_ways:
            self._edges.append({**cols, "u": v_a, "v": u_a})

    def nodes_frame(self) -> pd.DataFrame:
        """All nodes so far."""
        return _concat(self._nodes)

    def edges_frame(self) -> pd.DataFrame:
        """All edges so far."""
        return _concat(self._edges)


def _broadcast(value: Any, n: int) -> NDArray[Any]:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return np.full(n, value)
    if len(arr) != n:
        msg = f"attribute has {len(arr)} values for {n} rows"
        raise ValueError(msg)
    return arr


def _concat(chunks: list[dict[str, Any]]) -> pd.DataFrame:
    if not chunks:
        return pd.DataFrame()
    return pd.DataFrame({k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]})
