"""Draw a saved network to a PNG: roads coloured by class, bridges, charging stations.

Uses matplotlib's Agg canvas directly (no pyplot, no global backend change).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from evfleet.network.synthetic import bay_area_facts as geo_facts

STYLE: dict[str, tuple[str, float, int]] = {
    "motorway": ("#d6604d", 1.6, 6),
    "trunk": ("#f4a582", 1.3, 5),
    "motorway_link": ("#f4a582", 0.8, 5),
    "primary": ("#fdb863", 1.0, 4),
    "secondary": ("#e6d36b", 0.7, 3),
    "tertiary": ("#9e9e9e", 0.5, 2),
}
OTHER = ("#c8c8c8", 0.3, 1)
BRIDGE = ("#7b3294", 2.4, 7)


def _segments(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    nodes = pq.read_table(folder / "nodes.parquet", columns=["node_id", "lat", "lon"]).to_pandas()
    edges = pq.read_table(
        folder / "edges.parquet", columns=["u", "v", "highway", "bridge"]
    ).to_pandas()
    pair = np.sort(edges[["u", "v"]].to_numpy(), axis=1)
    _, first = np.unique(pair, axis=0, return_index=True)
    edges = edges.iloc[np.sort(first)]
    ids = nodes["node_id"].to_numpy()
    ru, rv = (
        np.searchsorted(ids, edges["u"].to_numpy()),
        np.searchsorted(ids, edges["v"].to_numpy()),
    )
    lon, lat = nodes["lon"].to_numpy(), nodes["lat"].to_numpy()
    segs = np.stack(
        [np.column_stack([lon[ru], lat[ru]]), np.column_stack([lon[rv], lat[rv]])], axis=1
    )
    return segs, edges["highway"].to_numpy(dtype=str), edges["bridge"].to_numpy(dtype=bool), lat


def plot_network(
    folder: str | Path,
    out_png: str | Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    dpi: int = 150,
) -> Path:
    """Render the network in ``folder`` to ``out_png`` and return the path.

    ``bbox`` (west, south, east, north) zooms in; by default the whole network is drawn.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon

    folder, out_png = Path(folder), Path(out_png)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    segs, highway, bridge, lat = _segments(folder)
    stations = pq.read_table(
        folder / "stations.parquet", columns=["lat", "lon", "kind"]
    ).to_pandas()
    fig = Figure(figsize=(10, 10))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    if meta["source"] == "embedded":
        for _, poly in geo_facts.WATER_BODIES:
            arr = np.asarray(poly)[:, ::-1]
            ax.add_patch(Polygon(arr, closed=True, facecolor="#d4e6f1", edgecolor="none", zorder=0))
    handles = []
    classes = [*STYLE, "other"]
    for cls in classes:
        color, width, z = STYLE.get(cls, OTHER)
        mask = (~np.isin(highway, list(STYLE)) if cls == "other" else highway == cls) & ~bridge
        if mask.any():
            ax.add_collection(LineCollection(segs[mask], colors=color, linewidths=width, zorder=z))
            handles.append(Line2D([], [], color=color, lw=max(width, 1.0), label=cls))
    if bridge.any():
        color, width, z = BRIDGE
        ax.add_collection(LineCollection(segs[bridge], colors=color, linewidths=width, zorder=z))
        handles.append(Line2D([], [], color=color, lw=width, label="bridge"))
    for kind, marker, color, size in (("l2", "o", "#1a9850", 10), ("dcfc", "^", "#2166ac", 28)):
        sub = stations[stations["kind"] == kind]
        if len(sub):
            ax.scatter(
                sub["lon"],
                sub["lat"],
                s=size,
                marker=marker,
                c=color,
                zorder=8,
                edgecolors="white",
                linewidths=0.4,
            )
            handles.append(
                Line2D([], [], marker=marker, color=color, lw=0, label=f"{kind} station")
            )
    west, south, east, north = bbox or meta["bbox"]
    pad = 0.02 * max(east - west, north - south)
    ax.set_xlim(west - pad, east + pad)
    ax.set_ylim(south - pad, north + pad)
    ax.set_aspect(1 / np.cos(np.radians(float(np.mean(lat)))))
    ax.set_title(
        f"{meta.get('source_detail', meta['source'])}: {meta['n_nodes']:,} nodes, "
        f"{meta['n_edges']:,} edges, {len(stations)} stations"
    )
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=dpi, bbox_inches="tight")
    return out_png
