"""Benchmark of the synthesis *flow* on each task runner: threads vs a local Dask cluster.

Usage::

    python bench/bench_synth_runners.py                   # 50, 200, 1000 vehicles x 7 days
    python bench/bench_synth_runners.py --vehicles 200 --days 30 --runners local dask

Runs the real Prefect flow (plan, parallel chunks writing Parquet, commit) in a fresh
temporary workspace per measurement, on the embedded default network built once. Prints
vehicle-days/s, segments/s and the peak resident memory of this process and of its worker
processes (Dask), so both runners are compared in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path


def _tree_rss_mb(stop: threading.Event, peak: list[float]) -> None:
    import psutil

    me = psutil.Process(os.getpid())
    while not stop.wait(0.5):
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
        peak[0] = max(peak[0], total / 2**20)


def main() -> None:
    """Build the network once, then time the flow for every size and runner."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vehicles", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--runners", nargs="+", default=["local", "dask"])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="evfleet-bench-"))
    from flows import env

    env.configure(root / "base")
    from evfleet.config import StudioConfig
    from flows.network import network_flow
    from flows.runtime import prefect_api
    from flows.synthesize import synthesize_with_runner

    with prefect_api():
        network = network_flow(StudioConfig(), str(root / "base"))
        for n in args.vehicles:
            for runner in args.runners:
                ws = root / f"{runner}-{n}"
                (ws / "network").mkdir(parents=True)
                (ws / "network" / network.id).symlink_to(network.path)
                cfg = StudioConfig().with_overrides(
                    {
                        "fleet.n_vehicles": n,
                        "fleet.days": args.days,
                        "performance.runner": runner,
                        "performance.n_workers": args.workers,
                    }
                )
                stop, peak = threading.Event(), [0.0]
                watcher = threading.Thread(target=_tree_rss_mb, args=(stop, peak), daemon=True)
                watcher.start()
                started = time.perf_counter()
                result = synthesize_with_runner(cfg, str(ws), network)
                elapsed = time.perf_counter() - started
                stop.set()
                watcher.join()
                manifest = json.loads((Path(result.path) / "manifest.json").read_text())
                segments = manifest["rows"]["segments"]
                print(
                    f"{runner:>5} {n:>5} vehicles x {args.days} days: {elapsed:7.1f} s  "
                    f"{n * args.days / elapsed:7.1f} vehicle-days/s  "
                    f"{segments / elapsed:9.0f} segments/s  peak RSS (process tree) "
                    f"{peak[0]:.0f} MB",
                    flush=True,
                )
                shutil.rmtree(ws, ignore_errors=True)
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {self_peak:.0f} MB")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
