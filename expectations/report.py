"""Validation results, quality scores and their files (no GX import).

Score of a table (0-100)::

    100 * (0.75 * passed_weight / total_weight + 0.25 * (1 - failing_row_share))

where critical expectations weigh 3 and warnings 1, skipped expectations (their columns or
tables are missing) count as not passed, and ``failing_row_share`` is the largest share of
rows failing any one row-level expectation. A missing table scores 0. The overall score is
the mean of the six table scores. A dataset *passes* when no critical expectation failed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evfleet.storage import TABLE_FILES, atomic_write_json, write_parquet

WEIGHTS = {"critical": 3.0, "warning": 1.0}
PASS_WEIGHT = 0.75
"""Share of a table's score from expectations passed; the rest from rows not failing."""
REPORT_JSON = "report.json"
QUALITY_PARQUET = TABLE_FILES["quality"]["quality"]
SCORES_PARQUET = TABLE_FILES["quality"]["quality_scores"]
STATUSES = ("passed", "failed", "skipped")


@dataclass(frozen=True)
class Outcome:
    """Result of one expectation on one table."""

    table: str
    rule: str
    expectation: str
    severity: str
    description: str
    status: str
    column: str | None = None
    element_count: int | None = None
    unexpected_count: int | None = None
    observed: str | None = None
    message: str = ""
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """True when the expectation passed."""
        return self.status == "passed"

    @property
    def unexpected_fraction(self) -> float | None:
        """Share of rows failing a row-level expectation (None for table-level ones)."""
        if not self.element_count or self.unexpected_count is None:
            return None
        return self.unexpected_count / self.element_count

    def describe(self, *, max_rows: int = 5) -> str:
        """A few readable lines: table, expectation, counts and sample offending rows."""
        head = f"[{self.severity}] {self.table}: {self.description} ({self.rule})"
        lines = [head]
        if self.unexpected_count:
            lines.append(f"  {self.unexpected_count} of {self.element_count} rows fail")
        if self.message:
            lines.append(f"  {self.message}")
        if self.observed and not self.unexpected_count:
            lines.append(f"  observed: {self.observed}")
        lines += [f"  e.g. {_row_text(row)}" for row in self.sample[:max_rows]]
        return "\n".join(lines)


def _row_text(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.items())


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (dates/timestamps as ISO text, NaN as None)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return None if isinstance(value, float) and not math.isfinite(value) else value
    if isinstance(value, dt.date | pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return jsonable(value.item())
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def table_score(outcomes: Iterable[Outcome]) -> float:
    """Score 0-100 of one table's outcomes (see the module docstring)."""
    items = list(outcomes)
    if not items:
        return 0.0
    total = sum(WEIGHTS[o.severity] for o in items)
    passed = sum(WEIGHTS[o.severity] for o in items if o.success)
    fractions = [o.unexpected_fraction or 0.0 for o in items if not o.success]
    row_share = max(fractions, default=0.0)
    return round(100 * (PASS_WEIGHT * passed / total + (1 - PASS_WEIGHT) * (1 - row_share)), 2)


@dataclass
class QualityReport:
    """Everything a validation produced: outcomes, scores and timing."""

    dataset: str
    outcomes: list[Outcome]
    table_scores: dict[str, float]
    score: float
    rows: dict[str, int]
    rows_validated: dict[str, int]
    sample_fraction: float = 1.0
    elapsed_s: float = 0.0
    created_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    problems: list[str] = field(default_factory=list)
    docs_path: str | None = None

    @property
    def passed(self) -> bool:
        """No critical expectation failed (warnings and skips allowed)."""
        return not self.critical_failures

    def failures(self, severity: str | None = None) -> list[Outcome]:
        """Failed outcomes, optionally of one severity ("critical" or "warning")."""
        return [
            o for o in self.outcomes
            if o.status == "failed" and (severity is None or o.severity == severity)
        ]  # fmt: skip

    @property
    def critical_failures(self) -> list[Outcome]:
        """Failed critical expectations (a gate stops on any)."""
        return self.failures("critical")

    @property
    def warnings(self) -> list[Outcome]:
        """Failed warning-level expectations."""
        return self.failures("warning")

    @property
    def skipped(self) -> list[Outcome]:
        """Expectations not evaluated because their inputs are missing."""
        return [o for o in self.outcomes if o.status == "skipped"]

    def counts(self) -> dict[str, int]:
        """Number of outcomes per status."""
        return {s: sum(o.status == s for o in self.outcomes) for s in STATUSES}

    def to_frame(self) -> pd.DataFrame:
        """One row per expectation, with the table and overall scores (the ``quality`` view)."""
        rows = [
            {
                "dataset": self.dataset, "table_name": o.table, "rule": o.rule,
                "expectation": o.expectation, "severity": o.severity, "status": o.status,
                "success": o.success, "column_name": o.column, "description": o.description,
                "element_count": o.element_count, "unexpected_count": o.unexpected_count,
                "unexpected_fraction": o.unexpected_fraction, "observed": o.observed,
                "message": o.message, "sample": json.dumps(jsonable(o.sample)),
                "table_score": self.table_scores.get(o.table), "overall_score": self.score,
                "created_at": self.created_at,
            }
            for o in self.outcomes
        ]  # fmt: skip
        df = pd.DataFrame(rows)
        for col in ("element_count", "unexpected_count"):
            df[col] = df[col].astype("Int64")
        return df

    def scores_frame(self) -> pd.DataFrame:
        """One row per table plus an ``overall`` row: score and counts by status/severity."""
        rows = []
        for table, score in self.table_scores.items():
            mine = [o for o in self.outcomes if o.table == table]
            rows.append({
                "table_name": table, "score": score, "rows": self.rows.get(table, 0),
                "rows_validated": self.rows_validated.get(table, 0),
                "expectations": len(mine),
                **{s: sum(o.status == s for o in mine) for s in STATUSES},
                "critical_failed": sum(o.status == "failed" and o.severity == "critical"
                                       for o in mine),
            })  # fmt: skip
        df = pd.DataFrame(rows)
        total = {k: df[k].sum() for k in df.columns if k not in ("table_name", "score")}
        overall = pd.DataFrame([{"table_name": "overall", "score": self.score, **total}])
        return pd.concat([df, overall], ignore_index=True)

    def summary_markdown(self, *, max_failures: int = 10) -> str:
        """Markdown: verdict, score table and the first failures (for artifacts and the CLI)."""
        verdict = "PASSED" if self.passed else "FAILED (critical expectations failed)"
        c = self.counts()
        lines = [
            f"## Data quality: {self.score:.1f} / 100 — {verdict}",
            "",
            f"Dataset `{self.dataset}`: {c['passed']} passed, {c['failed']} failed, "
            f"{c['skipped']} skipped; {self.elapsed_s:.1f} s"
            + (f", sample fraction {self.sample_fraction:g}" if self.sample_fraction < 1 else ""),
            "",
            "| table | score | rows | passed | failed (critical) | skipped |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in self.scores_frame().itertuples():
            lines.append(f"| {r.table_name} | {r.score:.1f} | {r.rows} | {r.passed} | "
                         f"{r.failed} ({r.critical_failed}) | {r.skipped} |")  # fmt: skip
        if self.problems:
            lines += ["", "**Input problems**", "", *(f"- {p}" for p in self.problems)]
        failed = self.critical_failures + self.warnings
        if failed:
            lines += ["", "**Failures**", ""]
            lines += [f"- {o.describe(max_rows=2)}".replace("\n", "\n  ")
                      for o in failed[:max_failures]]  # fmt: skip
            if len(failed) > max_failures:
                lines.append(f"- ... and {len(failed) - max_failures} more")
        return "\n".join(lines) + "\n"

    def failure_message(self, *, severity: str = "critical", max_rows: int = 3) -> str:
        """Plain text listing each failure's table, expectation and sample offending rows."""
        failed = self.failures(severity)
        head = f"{len(failed)} {severity} expectation(s) failed on {self.dataset}"
        return "\n".join([head, *(o.describe(max_rows=max_rows) for o in failed)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict (what :meth:`write` stores as ``report.json``)."""
        data = asdict(self)
        data["passed"] = self.passed
        out: dict[str, Any] = jsonable(data)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QualityReport:
        """Inverse of :meth:`to_dict`."""
        fields = {k: v for k, v in data.items() if k not in ("passed", "outcomes")}
        for key in ("score", "sample_fraction", "elapsed_s"):
            fields[key] = float(fields[key])
        fields["table_scores"] = {t: float(s) for t, s in fields["table_scores"].items()}
        return cls(outcomes=[Outcome(**o) for o in data["outcomes"]], **fields)

    def write(self, folder: str | Path) -> Path:
        """Write ``report.json``, ``quality.parquet`` and ``quality_scores.parquet``."""
        folder = Path(folder)
        atomic_write_json(folder / REPORT_JSON, self.to_dict())
        write_parquet(self.to_frame(), folder / QUALITY_PARQUET)
        write_parquet(self.scores_frame(), folder / SCORES_PARQUET)
        return folder

    @classmethod
    def read(cls, folder: str | Path) -> QualityReport:
        """Load a report written by :meth:`write`."""
        path = Path(folder) / REPORT_JSON
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
