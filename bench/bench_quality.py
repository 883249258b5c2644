"""Benchmark the quality gate: peak RSS and wall time as the dataset grows (7, 14, 30 days).

Usage::

    python bench/bench_quality.py [DATASET_DIR] [--days 7 14 30] [--chunk-rows N] [--docs]
    python bench/bench_quality.py --fleet        # synthesise 1,000 vehicles x 30 days first
    python bench/bench_quality.py --vehicles 100 # synthesise 100 vehicles x 30 days first

The dataset (default: the latest of ``EVFLEET_WORKSPACE``) is cut into its first 7, 14, ...
days (trips, sessions, states and weather before the cut, the cut trips' segments, the whole
fleet), each cut is validated in a fresh process, and the process's peak RSS and wall time are
printed next to the targets (1,000 vehicles x 30 days: <= 1.5 GB, <= 60 s on 2 cores). The
baseline measured in the same run is what the gate did before it streamed: load every table
whole into pandas (its floor; validation came on top of it).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_RSS_MB = 1536.0
TARGET_WALL_S = 60.0
_EVENTS = ("routes", "charging_sessions")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cut_dataset(source: Path, days: int, out: Path) -> Path:
    """Write the first ``days`` days of ``source`` (a consistent prefix) to ``out``."""
    import duckdb

    from expectations.sources import table_files

    def scan(table: str) -> str:
        found = table_files(source, table)
        if found is None:
            msg = f"table {table} not found in {source}"
            raise SystemExit(msg)
        return "read_parquet([" + ", ".join(f"'{p}'" for p in found[1]) + "])"

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    start = con.sql(f"SELECT min(start_time)::DATE FROM {scan('routes')}").fetchall()[0]
    if start[0] is None:
        msg = f"no trips in {source}"
        raise SystemExit(msg)
    cut = f"DATE '{start[0]}' + INTERVAL {int(days)} DAY"
    queries = {
        "fleet_info": f"SELECT * FROM {scan('fleet_info')}",
        "weather": f"SELECT * FROM {scan('weather')} WHERE date < {cut}",
        "vehicle_states": f"SELECT * FROM {scan('vehicle_states')} WHERE date < {cut}",
        **{t: f"SELECT * FROM {scan(t)} WHERE start_time < {cut}" for t in _EVENTS},
        "segments": f"SELECT s.* FROM {scan('segments')} s SEMI JOIN "
        f"(SELECT trip_id FROM {scan('routes')} WHERE start_time < {cut}) r USING (trip_id)",
    }
    for table, sql in queries.items():
        con.execute(f"COPY ({sql}) TO '{out / table}.parquet' (FORMAT parquet)")
    return out


def load_whole(folder: Path) -> dict[str, int]:
    """Load every table whole and normalise it, as the gate did before it streamed."""
    import pandas as pd

    from evfleet.schema import TABLES
    from evfleet.storage import read_table
    from expectations.loading import prepare_dataset
    from expectations.sources import table_files

    raw = {}
    for table in TABLES:
        found = table_files(folder, table)
        if found is not None:
            frames = [read_table(f) for f in found[1]]
            raw[table] = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return {t: src.n_rows for t, src in prepare_dataset(raw).sources.items()}


def child(folder: Path, *, chunk_rows: int | None, docs: bool, whole: bool) -> dict[str, Any]:
    """Validate ``folder`` (or, with ``whole``, only load it whole); figures as a dict."""
    import great_expectations  # noqa: F401  (import cost is not the gate's)

    from expectations import validate_dataset

    start, cpu = time.perf_counter(), time.process_time()
    if whole:
        figures: dict[str, Any] = {"rows": load_whole(folder)}
    else:
        with tempfile.TemporaryDirectory(prefix="evfleet-bench-docs-") as tmp:
            docs_dir = Path(tmp) if docs else None
            report = validate_dataset(folder, docs_dir=docs_dir, chunk_rows=chunk_rows)
        figures = {"rows": report.rows, "score": report.score, "passed": report.passed}
    return {**figures, "wall_s": time.perf_counter() - start,
            "cpu_s": time.process_time() - cpu, "peak_rss_mb": _peak_rss_mb()}  # fmt: skip


def _measure(folder: Path, args: argparse.Namespace, *, whole: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, __file__, str(folder), "--child"]
    if whole:
        cmd.append("--whole")
    if args.chunk_rows:
        cmd += ["--chunk-rows", str(args.chunk_rows)]
    if args.docs:
        cmd.append("--docs")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        msg = f"benchmark child failed:\n{done.stderr[-3000:]}"
        raise SystemExit(msg)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _synthesise(vehicles: int, days: int) -> Path:
    workspace = Path(tempfile.mkdtemp(prefix="evfleet-bench-quality-ws-"))
    print(f"synthesising {vehicles} vehicles x {days} days into {workspace} ...", flush=True)
    cmd = [sys.executable, "-m", "flows.cli", "synth", "--workspace", str(workspace),
           "--vehicles", str(vehicles), "--days", str(days)]  # fmt: skip
    subprocess.run(cmd, check=True, cwd=ROOT)
    return _latest_dataset(workspace)


def _latest_dataset(workspace: Path | None = None) -> Path:
    from evfleet.storage import Workspace

    ws = Workspace(workspace)
    latest = ws.latest("datasets")
    if latest is None:
        msg = f"no dataset in workspace {ws.root}; pass a folder, --vehicles N or --fleet"
        raise SystemExit(msg)
    return ws.stage_dir("datasets", latest)


def _line(label: str, f: dict[str, Any], base: dict[str, Any] | None) -> str:
    segs = f["rows"].get("segments", 0)
    ratio = f" ({f['peak_rss_mb'] / base['peak_rss_mb']:.2f}x baseline RSS)" if base else ""
    return (f"{label:<22} segments={segs:>10,}  peak RSS {f['peak_rss_mb']:7.0f} MB{ratio}  "
            f"wall {f['wall_s']:6.1f} s  cpu {f['cpu_s']:6.1f} s")  # fmt: skip


def main() -> None:
    """Parse arguments, cut the dataset, measure each cut in a fresh process, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="dataset folder (<table>.parquet or parts)")
    parser.add_argument("--days", type=int, nargs="+", default=[7, 14, 30])
    parser.add_argument("--chunk-rows", type=int, default=None)
    parser.add_argument("--docs", action="store_true", help="also build Data Docs")
    parser.add_argument("--vehicles", type=int, default=None, help="synthesise this fleet first")
    parser.add_argument("--fleet", action="store_true", help="synthesise 1,000 vehicles x 30 d")
    parser.add_argument("--no-baseline", action="store_true", help="skip the whole-load baseline")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--whole", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        figures = child(Path(args.path), chunk_rows=args.chunk_rows, docs=args.docs,
                        whole=args.whole)  # fmt: skip
        print(json.dumps(figures))
        return
    if args.path:
        source = Path(args.path)
    elif args.fleet or args.vehicles:
        source = _synthesise(1000 if args.fleet else args.vehicles, max(args.days))
    else:
        source = _latest_dataset()
    print(f"dataset: {source}")
    print(f"targets at 1,000 vehicles x 30 days: peak RSS <= {TARGET_RSS_MB:.0f} MB, "
          f"wall <= {TARGET_WALL_S:.0f} s")  # fmt: skip
    for days in sorted(args.days):
        with tempfile.TemporaryDirectory(prefix="evfleet-bench-quality-") as scratch:
            folder = cut_dataset(source, days, Path(scratch) / f"days-{days}")
            base = None if args.no_baseline else _measure(folder, args, whole=True)
            if base:
                print(_line(f"{days:>2} d  load whole", base, None), flush=True)
            got = _measure(folder, args)
        print(_line(f"{days:>2} d  quality gate", got, base)
              + f"  score {got['score']:.1f} passed={got['passed']}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
