"""Benchmark of the optimisation stage: one process, and vehicle chunks on parallel workers.

Usage::

    python bench/bench_optimize.py                  # demo size: 50 vehicles x 7 days
    python bench/bench_optimize.py --large          # also 1,000 vehicles x 7 days
    python bench/bench_optimize.py --vehicles 200 --workers 2 --runner process
    python bench/bench_optimize.py --strategy all --planning-mode rolling_horizon

Builds the embedded network once, simulates the fleet (the baseline dataset) chunk by
chunk, then re-plans it chunk by chunk for the runs (the ``optimize-chunk`` tasks' work:
planning, physics scoring of both sides with common random numbers) and runs the
shared-site LP, fleet KPIs and report (the finalize task's work), twice: in this process,
and with the chunks mapped over ``--workers`` workers, as the stage maps them over the
synthesis task runner (``--runner process``: one process per worker, like the Dask
runner; ``thread``: a thread pool, like the local runner). Both give the same bytes.

Prints seconds per phase for both, the speed-up, the ratio optimise / synthesise (timings
on a shared machine are noisy; ratios within one run are the comparable figures), the peak
resident memory of this process and of the largest worker, and the figure each target is
about: demo size <= 60 s, 1,000 vehicles x 7 days <= 600 s on 2 workers.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import resource
import sys
import time
from typing import Any, Final

import pandas as pd

from evfleet.config import NetworkConfig, StudioConfig
from evfleet.fleet import generate_fleet, generate_weather, simulate_chunk
from evfleet.network import RoadGraph, build_network
from evfleet.optimize import vehicle_trips
from evfleet.optimize.stage import Run, combine, optimize_chunk, stage_runs

TARGET_S: Final = {50: 60.0, 1000: 600.0}
"""The issue's targets: seconds of the stage per fleet size (7 days, 2 cores)."""

_WORKER: dict[str, Any] = {}
"""What a pool worker holds: the network, weather, config and runs (sent once)."""


def _peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    kb = resource.getrusage(who).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0**2


def _init(
    graph: RoadGraph, weather: pd.DataFrame, cfg: StudioConfig, runs: tuple[Run, ...]
) -> None:
    _WORKER.update(graph=graph, weather=weather, cfg=cfg, runs=runs)


def _chunk(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """One ``optimize-chunk`` task: the chunk's vehicles re-planned for every run."""
    w = _WORKER
    start = w["cfg"].fleet.start_date
    vehicles = vehicle_trips(tables, w["graph"].edges, start)
    return optimize_chunk(w["cfg"], w["graph"], w["weather"], vehicles, start, w["runs"])


def _optimise(
    chunks: list[dict[str, pd.DataFrame]],
    setup: tuple[RoadGraph, pd.DataFrame, StudioConfig, tuple[Run, ...]],
    workers: int,
    runner: str,
) -> tuple[dict[str, Any], float, float]:
    """Chunks planned in this process (``workers`` 1) or on a pool; combined; seconds of
    the planning and of the combine step."""
    t0 = time.perf_counter()
    if workers == 1:
        _init(*setup)
        parts = [_chunk(c) for c in chunks]
    else:
        pool: cf.Executor
        if runner == "process":
            pool = cf.ProcessPoolExecutor(workers, initializer=_init, initargs=setup)
        else:
            _init(*setup)
            pool = cf.ThreadPoolExecutor(workers)
        with pool:
            parts = list(pool.map(_chunk, chunks))
    plan_s = time.perf_counter() - t0
    graph, _, cfg, runs = setup
    t1 = time.perf_counter()
    start = cfg.fleet.start_date
    vehicles = [v for c in chunks for v in vehicle_trips(c, graph.edges, start)]
    merged = {k: pd.concat([p[k] for p in parts], ignore_index=True) for k in parts[0]}
    result = combine(cfg, merged, vehicles, start, runs)
    return result, plan_s, time.perf_counter() - t1


def bench(
    graph: RoadGraph, stations: pd.DataFrame, n: int, days: int, args: argparse.Namespace
) -> None:
    """Synthesise, then optimise one fleet size in one process and on the workers."""
    cfg = StudioConfig().with_overrides({"fleet.n_vehicles": n, "fleet.days": days})
    runs = stage_runs(cfg, args.strategy, args.planning_mode)
    t0 = time.perf_counter()
    fleet = generate_fleet(cfg, graph)
    weather = generate_weather(cfg)
    chunks = []
    for lo in range(0, n, args.chunk):
        part = fleet.iloc[lo : lo + args.chunk]
        chunks.append({**simulate_chunk(cfg, graph, stations, part, weather), "fleet_info": part})
    synth_s = time.perf_counter() - t0
    setup = (graph, weather, cfg, runs)
    label = ", ".join(r.label for r in runs)
    print(f"{n:>5} vehicles x {days} days, {label}: synthesise {synth_s:.1f} s (one process)")
    modes = [] if args.parallel_only else [1]
    modes += [] if args.workers == 1 else [args.workers]
    totals = {}
    for workers in modes:
        result, plan_s, combine_s = _optimise(chunks, setup, workers, args.runner)
        total = plan_s + combine_s
        totals[workers] = total
        trips = len(result["plans"])
        stranded = len(result["infeasible"])
        where = "one process" if workers == 1 else f"{workers} {args.runner} workers"
        target = TARGET_S.get(n)
        verdict = (
            ""
            if target is None
            else f" | target <= {target:.0f} s: " + ("met" if total <= target else "MISSED")
        )
        print(
            f"      optimise, {where:>18}: {total:7.1f} s (plan+score {plan_s:.1f} s, site LP+KPIs"
            f"+report {combine_s:.1f} s) | {trips / total:6.1f} trips/s | optimise/synthesise "
            f"{total / synth_s:4.2f} | infeasible trips {stranded}{verdict}"
        )
        for row in result["infeasible"].head(5).itertuples():
            print(f"        infeasible: {row.vehicle_id} {row.trip_id}: {row.reason}")
    if len(totals) == 2:
        print(f"      speed-up on {args.workers} workers: {totals[1] / totals[args.workers]:.2f}x")
    workers_rss = (
        f", largest worker process {_peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB"
        if args.runner == "process" and args.workers > 1
        else ""
    )
    print(f"      peak RSS: this process {_peak_rss_mb():.0f} MB{workers_rss}")


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, build the network once, run the sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--large", action="store_true", help="also 1,000 vehicles")
    parser.add_argument("--strategy", default="balanced")
    parser.add_argument("--planning-mode", default="rolling_horizon")
    parser.add_argument("--chunk", type=int, default=25, help="vehicles per chunk")
    parser.add_argument("--workers", type=int, default=2, help="parallel workers (1: none)")
    parser.add_argument("--runner", choices=("process", "thread"), default="process")
    parser.add_argument(
        "--parallel-only", action="store_true", help="skip the one-process measurement"
    )
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
