"""Road network stage: sources, cleaning, elevation, stations, files and the routing core.

Two jobs: :mod:`evfleet.network.synthetic` generates the embedded Bay Area network (the
offline default source); the modules here turn any source (that network, an OSM file, a
download) into the canonical tables and route on them (:class:`RoadGraph`).

Public API::

    data = build_network(cfg, cache_dir=...)   # embedded synthetic / OSM file / download
    save_network(data, folder)                 # nodes/edges/stations parquet, graphml, meta
    g = RoadGraph.load(folder)                 # CSR + compiled shortest paths
    network_summary(folder)                    # counts, bbox, grades, classes
    plot_network(folder, out_png)              # PNG of the network
"""

from __future__ import annotations

from evfleet.network.build import NETWORK_SCHEMA_VERSION, build_network
from evfleet.network.graph import RoadGraph, Route, RouteBatch
from evfleet.network.io import NetworkData, network_summary, save_network, to_networkx
from evfleet.network.plot import plot_network
from evfleet.network.synthetic import TerrainModel

__all__ = [
    "NETWORK_SCHEMA_VERSION",
    "NetworkData",
    "RoadGraph",
    "Route",
    "RouteBatch",
    "TerrainModel",
    "build_network",
    "network_summary",
    "plot_network",
    "save_network",
    "to_networkx",
]
