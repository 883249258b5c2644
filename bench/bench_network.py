"""Benchmark of the network stage: build time per source, nearest-node lookups, routing.

Run: ``.venv/bin/python bench/bench_network.py [--pairs 300] [--nx-pairs 60]``

Prints the build time of the embedded default network, the SF extract and the West
Oakland extract (from ``EVFLEET_TEST_DATA``, default ``../shared/data``; skipped when
absent), nearest-node lookups per second, and one-to-one fastest-path latency (median,
p95) of the compiled RoadGraph next to networkx's ``shortest_path`` on the same pairs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np

from evfleet.config import NetworkConfig
from evfleet.network import NetworkData, RoadGraph, build_network, save_network

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EVFLEET_TEST_DATA") or REPO.parent / "shared" / "data")


def _sources() -> dict[str, NetworkConfig]:
    sources = {"embedded (scale 1.0)": NetworkConfig()}
    for label, name in (("SF extract", "sf_north_filtered"), ("West Oakland", "west_oakland")):
        path = DATA / "osm" / f"{name}.osm.bz2"
        if path.is_file():
            sources[label] = NetworkConfig(source="osm_file", osm_file=path)
        else:
            print(f"skip {label}: {path} not found (set EVFLEET_TEST_DATA)")
    return sources


def _latency(
    graph: RoadGraph, oracle: nx.MultiDiGraph, n_pairs: int, n_nx: int
) -> dict[str, float]:
    rng = np.random.default_rng(0)
    origs, dests = rng.choice(graph.node_ids, n_pairs), rng.choice(graph.node_ids, n_pairs)
    graph.fastest_path(origs[0], dests[0])  # compile / load the numba cache
    ours = []
    for o, d in zip(origs, dests, strict=True):
        start = time.perf_counter()
        graph.fastest_path(o, d)
        ours.append(time.perf_counter() - start)
    theirs = []
    for o, d in zip(origs[:n_nx], dests[:n_nx], strict=True):
        start = time.perf_counter()
        nx.shortest_path(oracle, o, d, weight="travel_time_s")
        theirs.append(time.perf_counter() - start)
    start = time.perf_counter()
    graph.route_many(origs, dests)
    batch = time.perf_counter() - start
    return {
        "ours_p50_ms": 1e3 * float(np.median(ours)),
        "ours_p95_ms": 1e3 * float(np.percentile(ours, 95)),
        "nx_p50_ms": 1e3 * float(np.median(theirs)),
        "nx_p95_ms": 1e3 * float(np.percentile(theirs, 95)),
        "ratio_p50": float(np.median(theirs) / np.median(ours)),
        "batch_pairs_per_s": n_pairs / batch,
    }


def _nearest_rate(graph: RoadGraph, n_points: int = 200_000) -> float:
    rng = np.random.default_rng(1)
    lat = rng.uniform(graph.lat.min(), graph.lat.max(), n_points)
    lon = rng.uniform(graph.lon.min(), graph.lon.max(), n_points)
    start = time.perf_counter()
    graph.nearest_nodes(lat, lon)
    return n_points / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300, help="OD pairs for RoadGraph")
    parser.add_argument("--nx-pairs", type=int, default=60, help="OD pairs for networkx")
    args = parser.parse_args()
    print(f"{'source':22s} {'build s':>8s} {'save s':>7s} {'nodes':>7s} {'edges':>7s}")
    folders: dict[str, tuple[Path, NetworkData]] = {}
    with tempfile.TemporaryDirectory(prefix="evfleet-bench-") as tmp:
        for label, cfg in _sources().items():
            start = time.perf_counter()
            data = build_network(cfg)
            built = time.perf_counter() - start
            folder = Path(tmp) / label.split()[0].lower()
            start = time.perf_counter()
            save_network(data, folder)
            saved = time.perf_counter() - start
            print(
                f"{label:22s} {built:8.2f} {saved:7.2f} {len(data.nodes):7d} {len(data.edges):7d}"
            )
            folders[label] = (folder, data)
        print()
        header = (
            f"{'routing on':22s} {'nearest/s':>10s} {'ours p50':>9s} {'ours p95':>9s} "
            f"{'nx p50':>8s} {'nx p95':>8s} {'ratio':>6s} {'batch/s':>8s}"
        )
        print(header + "   (ms; ratio = nx p50 / ours p50)")
        for label in ("SF extract", "embedded (scale 1.0)"):
            if label not in folders:
                continue
            folder, data = folders[label]
            graph = RoadGraph.load(folder)
            stats = _latency(graph, data.graph, args.pairs, args.nx_pairs)
            print(
                f"{label:22s} {_nearest_rate(graph):10.0f} {stats['ours_p50_ms']:9.2f} "
                f"{stats['ours_p95_ms']:9.2f} {stats['nx_p50_ms']:8.2f} {stats['nx_p95_ms']:8.2f} "
                f"{stats['ratio_p50']:6.1f} {stats['batch_pairs_per_s']:8.0f}"
            )


if __name__ == "__main__":
    main()
