"""Network files: save a built network, summarise one, convert frames to networkx.

A network folder holds::

    nodes.parquet     node_id, lat, lon, x_m, y_m, elevation_m, control, is_signal, place,
                      kind, pop_weight, commercial_weight
    edges.parquet     edge_id, u, v, key, length_m, highway, speed_kph, speed_source,
                      travel_time_s, grade, oneway, bridge, tunnel, name, ref, lanes,
                      bearing_deg, signal_at_v, stop_at_v
    stations.parquet  station_id, name, node_id, lat, lon, kind, power_kw, ports,
                      price_usd_per_kwh, source
    graph.graphml     the graph for osmnx / networkx users (see :func:`write_graphml`)
    meta.json         source, bbox [west, south, east, north], counts, crs, grade stats
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evfleet.errors import NetworkSourceError
from evfleet.storage import atomic_write_bytes, atomic_write_json, write_parquet

GRADE_BUCKETS: tuple[float, ...] = (0.0, 0.02, 0.05, 0.08, 0.12, 0.20, np.inf)
"""Edges of the absolute-grade histogram reported by :func:`network_summary`."""

_GRAPH_EDGE_COLS = ("edge_id", "highway", "speed_kph", "grade", "oneway", "bridge", "name")
_GRAPHML_DECIMALS = {
    "x": 7,
    "y": 7,
    "elevation": 2,
    "length": 3,
    "travel_time": 3,
    "speed_kph": 3,
    "grade": 5,
}


@dataclass
class NetworkData:
    """A built network: the three tables and the metadata; ``graph`` is built on demand."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    stations: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The network as a networkx MultiDiGraph (osmnx attribute names; built once)."""
        return to_networkx(self.nodes, self.edges)


def to_networkx(
    nodes: pd.DataFrame, edges: pd.DataFrame, *, crs: str = "epsg:4326"
) -> nx.MultiDiGraph:
    """A MultiDiGraph with osmnx-compatible attributes (x=lon, y=lat, length, travel_time)."""
    graph = nx.MultiDiGraph(crs=crs)
    node_attrs = nodes.drop(columns="node_id").assign(
        x=nodes["lon"], y=nodes["lat"], elevation=nodes["elevation_m"]
    )
    graph.add_nodes_from(zip(nodes["node_id"].tolist(), node_attrs.to_dict("records"), strict=True))
    edge_attrs = edges.drop(columns=["u", "v", "key"]).assign(
        length=edges["length_m"], travel_time=edges["travel_time_s"]
    )
    graph.add_edges_from(
        zip(
            edges["u"].tolist(),
            edges["v"].tolist(),
            edges["key"].tolist(),
            edge_attrs.to_dict("records"),
            strict=True,
        )
    )
    return graph


_GRAPHML_HEAD = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
)


def _xml_text(values: pd.Series) -> pa.Array:
    """Column values as GraphML text (Arrow kernels; fixed decimals per float column)."""
    arr = pa.array(values.to_numpy())
    kind = values.dtype.kind
    if kind == "b":
        return pc.if_else(arr, "True", "False")
    if kind == "f":
        return pc.cast(
            pc.round(arr, ndigits=_GRAPHML_DECIMALS.get(str(values.name), 6)), pa.string()
        )
    if kind in "iu":
        return pc.cast(arr, pa.string())
    text = pc.cast(arr, pa.string())
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        text = pc.replace_substring(text, old, new)
    return text


def _graphml_block(
    head: list[Any], table: pd.DataFrame, prefix: str, close: str
) -> tuple[list[str], str]:
    """Key declarations and element lines of one element kind."""
    what = "node" if prefix == "n" else "edge"
    keys, pieces = [], list(head)
    for k, col in enumerate(table.columns):
        key = f"{prefix}{k}"
        keys.append(f'<key id="{key}" for="{what}" attr.name="{col}" attr.type="string" />')
        pieces += [f'<data key="{key}">', _xml_text(table[col]), "</data>"]
    lines = pc.binary_join_element_wise(*pieces, close, "")
    return keys, "\n".join(lines.to_pylist())


def write_graphml(nodes: pd.DataFrame, edges: pd.DataFrame, path: str | Path) -> Path:
    """Write the network as GraphML with a vectorised writer (networkx's is slow here).

    The file keeps the topology and the attributes osmnx and networkx users route on (node
    ``x``/``y``/``elevation``/``control``; edge ``edge_id``, ``length``, ``travel_time``,
    ``speed_kph``, ``highway``, ``grade``, ``oneway``, ``bridge``, ``name``); the Parquet
    tables hold every column. Like osmnx's own files every value is stored as a string, so
    ``osmnx.load_graphml`` restores the types (``networkx.read_graphml`` gives strings).
    """
    node_table = pd.DataFrame(
        {
            "x": nodes["lon"],
            "y": nodes["lat"],
            "elevation": nodes["elevation_m"],
            "control": nodes["control"],
        }
    )
    edge_table = edges[list(_GRAPH_EDGE_COLS)].assign(
        length=edges["length_m"], travel_time=edges["travel_time_s"]
    )

    def ids(col: str, frame: pd.DataFrame) -> pa.Array:
        return pc.cast(pa.array(frame[col].to_numpy()), pa.string())

    node_head = ['<node id="', ids("node_id", nodes), '">']
    edge_head = [
        '<edge source="',
        ids("u", edges),
        '" target="',
        ids("v", edges),
        '" id="',
        ids("key", edges),
        '">',
    ]
    node_keys, node_text = _graphml_block(node_head, node_table, "n", "</node>")
    edge_keys, edge_text = _graphml_block(edge_head, edge_table, "e", "</edge>")
    text = "".join(
        [
            _GRAPHML_HEAD,
            '<key id="g0" for="graph" attr.name="crs" attr.type="string" />\n',
            "\n".join(node_keys + edge_keys),
            '\n<graph edgedefault="directed">\n<data key="g0">epsg:4326</data>\n',
            node_text,
            "\n",
            edge_text,
            "\n</graph>\n</graphml>\n",
        ]
    )
    return atomic_write_bytes(path, text.encode("utf-8"))


def save_network(data: NetworkData, folder: str | Path) -> None:
    """Write a :class:`NetworkData` into ``folder`` (each file written atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_parquet(data.nodes, folder / "nodes.parquet")
    write_parquet(data.edges, folder / "edges.parquet")
    write_parquet(data.stations, folder / "stations.parquet")
    write_graphml(data.nodes, data.edges, folder / "graph.graphml")
    atomic_write_json(folder / "meta.json", data.meta)


def grade_stats(grade: np.ndarray) -> dict[str, float]:
    """Percentiles of the absolute edge grade (rise/run)."""
    g = np.abs(np.asarray(grade, dtype=float))
    if g.size == 0:
        return {"grade_p50": 0.0, "grade_p90": 0.0, "grade_p99": 0.0, "grade_max": 0.0}
    p50, p90, p99 = np.percentile(g, [50, 90, 99])
    return {
        "grade_p50": round(float(p50), 5),
        "grade_p90": round(float(p90), 5),
        "grade_p99": round(float(p99), 5),
        "grade_max": round(float(g.max()), 5),
    }


def network_summary(folder: str | Path) -> dict[str, Any]:
    """Counts, bbox, grade distribution, road classes and stations of a saved network."""
    folder = Path(folder)
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        msg = f"not a network folder (missing meta.json): {folder}"
        raise NetworkSourceError(msg)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    edges = pq.read_table(
        folder / "edges.parquet", columns=["length_m", "highway", "grade", "bridge", "oneway"]
    ).to_pandas()
    stations = pq.read_table(folder / "stations.parquet", columns=["kind"]).to_pandas()
    km = edges["length_m"] / 1000
    abs_grade = edges["grade"].abs()
    bucket = pd.cut(abs_grade, GRADE_BUCKETS, right=False)
    buckets = []
    for interval, n in bucket.value_counts(sort=False).items():
        lo, hi = interval.left, interval.right
        label = f"{lo:.0%}-{hi:.0%}" if np.isfinite(hi) else f">={lo:.0%}"
        buckets.append(
            {
                "grade": label,
                "n_edges": int(n),
                "km": round(float(km[bucket == interval].sum()), 3),
                "share": round(float(n / max(len(edges), 1)), 5),
            }
        )
    by_class = edges.groupby("highway", sort=True)
    return {
        "source": meta["source"],
        "source_detail": meta.get("source_detail", ""),
        "n_nodes": int(meta["n_nodes"]),
        "n_edges": int(meta["n_edges"]),
        "n_stations": len(stations),
        "bbox": meta["bbox"],
        "crs": meta.get("crs"),
        "elevation_source": meta.get("elevation_source"),
        **grade_stats(edges["grade"].to_numpy()),
        "grade_buckets": buckets,
        "highway_counts": {str(k): int(v) for k, v in by_class.size().items()},
        "highway_km": {
            str(k): round(float(v), 3) for k, v in (by_class["length_m"].sum() / 1000).items()
        },
        "total_km": round(float(km.sum()), 3),
        "bridge_km": round(float(km[edges["bridge"]].sum()), 3),
        "oneway_share": round(float(edges["oneway"].mean()), 5) if len(edges) else 0.0,
        "stations_by_kind": {
            str(k): int(v) for k, v in stations["kind"].value_counts().sort_index().items()
        },
    }
