"""Benchmark of the synth stage in-process (single worker): vehicle-days/s and segments/s.

Usage::

    python bench/bench_synth.py                       # 50, 200, 1000 vehicles x 7 days
    python bench/bench_synth.py --vehicles 50 --days 30 --scale 0.5

Builds the embedded network once, then for each fleet size generates the fleet and the
weather and simulates it chunk by chunk (``performance.synth_chunk_vehicles`` vehicles per
chunk, invariants checked per chunk, tables discarded as a writer would stream them to
Parquet). Prints one line per size and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from evfleet.config import NetworkConfig, StudioConfig
from evfleet.fleet import generate_fleet, generate_weather, simulate_chunk
from evfleet.network import RoadGraph, build_network


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0**2


def bench(graph: RoadGraph, stations: object, n_vehicles: int, days: int, chunk: int) -> None:
    """Simulate one fleet size and print its throughput."""
    cfg = StudioConfig().with_overrides(
        {
            "fleet.n_vehicles": n_vehicles,
            "fleet.days": days,
            "performance.synth_chunk_vehicles": chunk,
        }
    )
    started = time.perf_counter()
    fleet = generate_fleet(cfg, graph)
    weather = generate_weather(cfg)
    trips = segments = sessions = 0
    for lo in range(0, n_vehicles, chunk):
        tables = simulate_chunk(cfg, graph, stations, fleet.iloc[lo : lo + chunk], weather)
        trips += len(tables["routes"])
        segments += len(tables["segments"])
        sessions += len(tables["charging_sessions"])
    elapsed = time.perf_counter() - started
    vehicle_days = n_vehicles * days
    print(
        f"{n_vehicles:>5} vehicles x {days} days: {elapsed:7.1f} s  "
        f"{vehicle_days / elapsed:7.1f} vehicle-days/s  {segments / elapsed:9.0f} segments/s  "
        f"({trips} trips, {segments} segments, {sessions} sessions)  "
        f"peak RSS {_peak_rss_mb():.0f} MB"
    )


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, build the network once, run every fleet size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0, help="embedded network scale")
    parser.add_argument("--chunk", type=int, default=25, help="vehicles per chunk")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data = build_network(NetworkConfig(scale=args.scale))
    graph = RoadGraph(data.nodes, data.edges, crs=str(data.meta["crs"]), stations=data.stations)
    print(
        f"network {graph} with {len(data.stations)} stations in "
        f"{time.perf_counter() - started:.1f} s"
    )
    for n in args.vehicles:
        bench(graph, data.stations, n, args.days, args.chunk)


if __name__ == "__main__":
    main()
