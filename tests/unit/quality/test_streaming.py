"""The streamed quality gate gives today's verdicts, counts, samples, scores and Data Docs.

``tests/fixtures/quality_golden.json`` was captured by running the quality gate as it was
before it streamed (every table loaded whole into pandas) on the faulty dataset of
:mod:`tests.fixtures.faulty_dataset` (``python -m tests.unit.quality.test_streaming``
rewrites it from the current code). The streamed runner must reproduce it exactly while
cutting every table into many small chunks and partitions.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from evfleet.storage import read_table, write_parquet
from expectations import validate_dataset
from expectations.report import QualityReport
from expectations.sources import ParquetSource
from tests.fixtures.faulty_dataset import GOLDEN, faulty_tables, write_faulty_dataset

_VOLATILE = ("created_at", "elapsed_s", "docs_path", "dataset")
_VOLATILE_TEXT = re.compile(
    r"\d{8}T\d{6}\.\d+Z|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
)
"""Run times and random element ids of a Data Docs page."""
SCENARIOS = ("folder_docs", "folder_sample", "in_memory")


def report_fingerprint(report: QualityReport) -> dict[str, Any]:
    """The report as JSON without what changes from run to run (times, paths)."""
    return {k: v for k, v in report.to_dict().items() if k not in _VOLATILE}


def docs_fingerprint(docs: Path) -> dict[str, str]:
    """sha256 of each Data Docs page (validation and suite pages) with times and ids blanked."""
    out = {}
    for page in sorted(docs.glob("*/*/**/*.html")) + sorted(docs.glob("expectations/*.html")):
        text = _VOLATILE_TEXT.sub("<x>", page.read_text(encoding="utf-8"))
        name = page.parent.parent.parent.name if "validations" in page.parts else page.stem
        out[f"{page.parts[len(docs.parts)]}/{name}"] = hashlib.sha256(text.encode()).hexdigest()
    return out


def run_scenario(name: str, tmp: Path) -> dict[str, Any]:
    """Validate the faulty dataset as scenario ``name``; its fingerprint."""
    folder = tmp / "data"
    if not folder.exists():
        write_faulty_dataset(folder)
    if name == "folder_docs":
        report = validate_dataset(folder, docs_dir=tmp / "docs")
        return {"report": report_fingerprint(report), "docs": docs_fingerprint(tmp / "docs")}
    if name == "folder_sample":
        report = validate_dataset(folder, sample_fraction=0.5, seed=3)
        return {"report": report_fingerprint(report)}
    report = validate_dataset(faulty_tables(), tables=["routes", "segments"])
    return {"report": report_fingerprint(report)}


def _sample_small_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("expectations.runner.SAMPLE_MIN_ROWS", 100)


CHUNK_ROWS = 200
"""Cuts segments into 5 chunks and 5 key partitions, the other large tables into 1-2."""


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_streamed_gate_matches_the_golden_report(scenario, golden, tmp_path, monkeypatch):
    _sample_small_tables(monkeypatch)
    monkeypatch.setattr("expectations.runner.CHUNK_ROWS", CHUNK_ROWS)
    got = run_scenario(scenario, tmp_path)
    want = golden[scenario]
    assert got["report"]["passed"] is want["report"]["passed"]
    assert got["report"]["table_scores"] == want["report"]["table_scores"]
    for mine, theirs in zip(got["report"]["outcomes"], want["report"]["outcomes"], strict=True):
        assert mine == theirs
    assert got == want


def capture(tmp: Path) -> None:
    """Rewrite the golden file from the current code."""
    with pytest.MonkeyPatch.context() as mp:
        _sample_small_tables(mp)
        data = {name: run_scenario(name, tmp) for name in SCENARIOS}
    GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    capture(Path(sys.argv[1]))


def test_parquet_chunks_and_partitions_cover_every_row_once(tmp_path):
    folder = write_faulty_dataset(tmp_path / "data")
    src = ParquetSource(sorted((folder / "segments").glob("*.parquet")))
    whole = read_table(folder / "segments")
    assert str(src.raw["n_stops"].dtype) == str(whole["n_stops"].dtype) == "float64"
    chunks = list(src.chunks(100))
    assert len(chunks) == 9
    assert max(len(c) for c in chunks) < 200  # 4 parts of 240 rows, batches of <= 100
    joined = pd.concat(chunks)
    pd.testing.assert_frame_equal(joined, whole)
    cols = ("trip_id", "seq", "n_stops")
    parts = [src.partition(cols, "trip_id", 3, k) for k in range(3)]
    assert sum(len(p) for p in parts) == len(whole)
    for part in parts:
        assert part.index.is_monotonic_increasing
        pd.testing.assert_frame_equal(part, whole.loc[part.index, list(cols)])
    trips = [set(p["trip_id"].dropna()) for p in parts]
    assert not trips[0] & trips[1]  # one trip, one partition
    assert not trips[1] & trips[2]
    assert not trips[0] & trips[2]
    src.close()


def test_int_column_with_nulls_in_one_part_reads_as_float_like_a_whole_read(tmp_path):
    write_parquet(pd.DataFrame({"seq": [1, 2]}), tmp_path / "t" / "part-0.parquet")
    nullable = pa.table({"seq": pa.array([3, None], pa.int64())})  # no pandas metadata
    write_parquet(nullable, tmp_path / "t" / "part-1.parquet")
    src = ParquetSource(sorted((tmp_path / "t").glob("*.parquet")))
    whole = read_table(tmp_path / "t")
    assert src.raw["seq"].dtype == whole["seq"].dtype == np.float64
    pd.testing.assert_frame_equal(pd.concat(src.chunks(1)), whole)


def test_results_do_not_depend_on_the_chunk_size():
    tables = faulty_tables()
    one = validate_dataset(tables, tables=["segments", "charging_sessions"], chunk_rows=10**6)
    small = validate_dataset(tables, tables=["segments", "charging_sessions"], chunk_rows=150)
    assert report_fingerprint(one) == report_fingerprint(small)
    with pytest.raises(ValueError, match="chunk_rows"):
        validate_dataset(tables, chunk_rows=0)
