"""Route answers as GeoJSON and as a PNG map (matplotlib's Agg canvas, no pyplot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from evfleet.network import RoadGraph
from evfleet.routing.plans import RoutePlan


def route_geojson(graph: RoadGraph, plans: list[RoutePlan]) -> dict[str, Any]:
    """A FeatureCollection: one LineString per route, one Point per charging stop."""
    features: list[dict[str, Any]] = []
    for i, plan in enumerate(plans):
        rows = graph.node_index(plan.nodes)
        props = {k: v for k, v in plan.to_dict().items() if k not in ("nodes", "stops")}
        coords = np.column_stack([graph.lon[rows], graph.lat[rows]]).round(7).tolist()
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {"route": i, **props},
            }
        )
        for stop in plan.stops:
            row = int(graph.node_index([stop.node])[0])
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Point",
                        "coordinates": [round(graph.lon[row], 7), round(graph.lat[row], 7)],
                    },
                    "properties": {"route": i, **stop.to_dict()},
                }
            )
    return {"type": "FeatureCollection", "features": features}


def plot_routes(graph: RoadGraph, plans: list[RoutePlan], out_png: str | Path) -> Path:
    """Draw the routes (and stops) over the network's roads around them; return the path."""
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    rows = graph.node_index(np.concatenate([p.nodes for p in plans]))
    pad = 0.002
    west, east = graph.lon[rows].min() - pad, graph.lon[rows].max() + pad
    south, north = graph.lat[rows].min() - pad, graph.lat[rows].max() + pad
    u, v = graph.edge_u, graph.edge_v
    inside = (graph.lon[u] >= west) & (graph.lon[u] <= east)
    inside &= (graph.lat[u] >= south) & (graph.lat[u] <= north)
    segs = np.stack(
        [
            np.column_stack([graph.lon[u[inside]], graph.lat[u[inside]]]),
            np.column_stack([graph.lon[v[inside]], graph.lat[v[inside]]]),
        ],
        axis=1,
    )
    fig = Figure(figsize=(7, 7))
    ax = fig.add_subplot()
    ax.add_collection(LineCollection(list(segs), colors="#cccccc", linewidths=0.4))
    for i, plan in enumerate(plans):
        r = graph.node_index(plan.nodes)
        label = f"{plan.time_min:.1f} min, {plan.energy_kwh:.2f} kWh"
        ax.plot(graph.lon[r], graph.lat[r], lw=2.0, label=label, color=f"C{i % 10}")
        for stop in plan.stops:
            s = int(graph.node_index([stop.node])[0])
            ax.plot(graph.lon[s], graph.lat[s], "k^", ms=9)
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1.0 / np.cos(np.radians((south + north) / 2)))
    ax.legend(loc="best", fontsize=7)
    ax.set_xlabel("lon")
    ax.set_ylabel("lat")
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120, bbox_inches="tight")
    return out
