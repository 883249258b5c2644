"""Benchmark data-quality validation: print load, check and GX times for a dataset folder.

Usage::

    python bench/bench_quality.py [DATASET_DIR] [--sample-fraction F] [--docs]
    python bench/bench_quality.py --synthetic-copies 60000   # ~1M segment rows

Without a folder it validates the workspace's latest dataset (``EVFLEET_WORKSPACE``), or,
when there is none, a synthetic dataset made of ``--synthetic-copies`` renamed copies of the
tiny test dataset (every copy internally consistent).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.fixtures when run as a script

from evfleet.storage import Workspace, write_parquet  # noqa: E402
from expectations import load_user_dataset, validate_dataset  # noqa: E402
from expectations.derived import run_all_checks  # noqa: E402

_ID_COLUMNS = ("vehicle_id", "trip_id", "session_id", "station_id")


def synthetic_dataset(copies: int) -> dict[str, pd.DataFrame]:
    """``copies`` renamed copies of the tiny dataset (weather shared, ids suffixed)."""
    from tests.fixtures.tiny_dataset import tiny_dataset

    tiny = tiny_dataset()
    out = {"weather": tiny["weather"]}
    for name, df in tiny.items():
        if name == "weather":
            continue
        rows = np.tile(np.arange(len(df)), copies)
        copy = np.repeat(np.arange(copies), len(df)).astype(str)
        big = df.iloc[rows].reset_index(drop=True)
        suffix = pd.Series(copy, dtype="string").radd("-")
        for col in _ID_COLUMNS:
            if col in big.columns:
                big[col] = big[col] + suffix
        out[name] = big
    return out


def _dataset_dir(args: argparse.Namespace) -> Path:
    if args.path is not None:
        return Path(args.path)
    ws = Workspace()
    latest = ws.latest("datasets")
    if latest is not None and args.synthetic_copies is None:
        return ws.stage_dir("datasets", latest)
    copies = args.synthetic_copies or 200
    folder = Path(tempfile.mkdtemp(prefix="evfleet-bench-quality-"))
    start = time.perf_counter()
    for name, df in synthetic_dataset(copies).items():
        write_parquet(df, folder / f"{name}.parquet")
    print(f"synthetic dataset: {copies} copies in {time.perf_counter() - start:.1f} s -> {folder}")
    return folder


def main() -> None:
    """Parse arguments, validate, print timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="dataset folder (<table>.parquet|csv)")
    parser.add_argument("--sample-fraction", type=float, default=1.0)
    parser.add_argument("--synthetic-copies", type=int, default=None)
    parser.add_argument("--docs", action="store_true", help="also build Data Docs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    folder = _dataset_dir(args)

    start = time.perf_counter()
    import great_expectations  # noqa: F401  (import cost reported separately)

    gx_import = time.perf_counter() - start
    start = time.perf_counter()
    dataset = load_user_dataset(folder)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    run_all_checks({t: dataset.usable(t) for t in dataset.tables})
    checks_s = time.perf_counter() - start
    docs = Path(tempfile.mkdtemp(prefix="evfleet-bench-docs-")) if args.docs else None
    start, cpu = time.perf_counter(), time.process_time()
    report = validate_dataset(dataset, sample_fraction=args.sample_fraction, docs_dir=docs)
    total_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu

    rows = ", ".join(f"{t}={n:,}" for t, n in report.rows.items())
    print(f"dataset: {folder}\nrows: {rows}")
    print(f"great_expectations import: {gx_import:6.2f} s")
    print(f"load + normalise:          {load_s:6.2f} s")
    print(f"pandas checks:             {checks_s:6.2f} s")
    print(f"validate_dataset:          {total_s:6.2f} s wall, {cpu_s:.2f} s CPU (checks + GX"
          f"{' + Data Docs' if docs else ''}, sample {args.sample_fraction:g})")  # fmt: skip
    print(f"score {report.score:.1f}/100, passed={report.passed}, {report.counts()}")


if __name__ == "__main__":
    main()
