"""Benchmark of the optimisation stage in-process (single worker), against synthesis.

Usage::

    python bench/bench_optimize.py                  # demo size: 50 vehicles x 7 days
    python bench/bench_optimize.py --large          # also 1,000 vehicles x 7 days
    python bench/bench_optimize.py --strategy all --planning-mode rolling_horizon

Builds the embedded network once, simulates the fleet (the baseline dataset) chunk by
chunk, then re-plans it chunk by chunk for one strategy (the ``optimize`` task's work:
planning, physics scoring of both sides with common random numbers) and runs the
shared-site LP, fleet KPIs and report (the finalize task's work). Prints seconds per
phase, the ratio optimise / synthesise (timings on a shared machine are noisy; the ratio
is the comparable figure) and the peak resident memory. Target: demo size <= 60 s.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import pandas as pd

from evfleet.config import NetworkConfig, StudioConfig
from evfleet.fleet import generate_fleet, generate_weather, simulate_chunk
from evfleet.network import RoadGraph, build_network
from evfleet.optimize import vehicle_trips
from evfleet.optimize.stage import combine, optimize_chunk, stage_runs


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0**2


def bench(
    graph: RoadGraph, stations: pd.DataFrame, n: int, days: int, args: argparse.Namespace
) -> None:
    """Synthesise then optimise one fleet size; print the figures."""
    cfg = StudioConfig().with_overrides({"fleet.n_vehicles": n, "fleet.days": days})
    runs = stage_runs(cfg, args.strategy, args.planning_mode)
    start = cfg.fleet.start_date
    t0 = time.perf_counter()
    fleet = generate_fleet(cfg, graph)
    weather = generate_weather(cfg)
    chunks = []
    for lo in range(0, n, args.chunk):
        part = fleet.iloc[lo : lo + args.chunk]
        chunks.append({**simulate_chunk(cfg, graph, stations, part, weather), "fleet_info": part})
    synth_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    parts, vehicles, trips = [], [], 0
    for tables in chunks:
        vs = vehicle_trips(tables, graph.edges, start)
        out = optimize_chunk(cfg, graph, weather, vs, start, runs)
        parts.append(out)
        vehicles += vs
        trips += len(out["plans"])
    plan_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    merged = {k: pd.concat([p[k] for p in parts], ignore_index=True) for k in parts[0]}
    result = combine(cfg, merged, vehicles, start, runs)
    combine_s = time.perf_counter() - t2
    opt_s = plan_s + combine_s
    fleet_rows = result["fleet"]
    stranded = float(fleet_rows.loc[fleet_rows["side"] == "optimised", "stranded_trips"].sum())
    print(
        f"{n:>5} vehicles x {days} days, {', '.join(r.label for r in runs)}: "
        f"synthesise {synth_s:6.1f} s | optimise {opt_s:6.1f} s (plan+score {plan_s:.1f} s, "
        f"site LP+KPIs+report {combine_s:.1f} s) | {trips / opt_s:6.1f} trips/s | "
        f"optimise/synthesise {opt_s / synth_s:4.2f} | stranded {stranded:.0f} | "
        f"peak RSS {_peak_rss_mb():.0f} MB"
    )
    for row in result["infeasible"].head(5).itertuples():
        print(f"      infeasible: {row.vehicle_id} {row.trip_id}: {row.reason}")


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, build the network once, run the sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--large", action="store_true", help="also 1,000 vehicles")
    parser.add_argument("--strategy", default="balanced")
    parser.add_argument("--planning-mode", default="rolling_horizon")
    parser.add_argument("--chunk", type=int, default=25)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    data = build_network(NetworkConfig(scale=args.scale))
    graph = RoadGraph(data.nodes, data.edges, crs=str(data.meta["crs"]), stations=data.stations)
    print(
        f"network: {graph.n_nodes:,} nodes, {graph.n_edges:,} edges, {len(data.stations)} stations"
    )
    for n in [args.vehicles] + ([1000] if args.large else []):
        bench(graph, data.stations, n, args.days, args)


if __name__ == "__main__":
    main()
