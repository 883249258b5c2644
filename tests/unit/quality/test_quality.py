"""Quality suites: a valid dataset scores 100, each corruption is caught by the right rule."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from evfleet.schema import TABLES
from expectations import QualityReport, validate_dataset
from expectations.report import Outcome, table_score
from expectations.suites import SUITES, Severity
from tests.fixtures.tiny_dataset import tiny_dataset

Corruption = Callable[[dict[str, pd.DataFrame]], None]


@pytest.fixture(scope="module")
def docs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("quality") / "docs"


@pytest.fixture(scope="module")
def valid_report(docs_dir: Path) -> QualityReport:
    return validate_dataset(tiny_dataset(), docs_dir=docs_dir, name="tiny")


def test_valid_dataset_scores_100_and_passes(valid_report):
    assert valid_report.score == 100.0
    assert valid_report.passed
    assert set(valid_report.table_scores) == set(TABLES)
    assert all(s == 100.0 for s in valid_report.table_scores.values())
    assert valid_report.counts() == {"passed": len(valid_report.outcomes), "failed": 0,
                                     "skipped": 0}  # fmt: skip
    assert valid_report.problems == []


def test_every_suite_has_both_severities_and_units():
    for table, rules in SUITES.items():
        severities = {r.severity for r in rules}
        assert severities == {Severity.CRITICAL, Severity.WARNING}, table
        assert all(r.to_gx().meta["severity"] in ("critical", "warning") for r in rules)


def test_data_docs_are_built(valid_report, docs_dir):
    index = docs_dir / "index.html"
    assert index.is_file()
    assert valid_report.docs_path == str(index.resolve())
    assert "charging_sessions" in index.read_text(encoding="utf-8")


def test_report_files_round_trip(valid_report, tmp_path):
    valid_report.write(tmp_path)
    frame = pd.read_parquet(tmp_path / "quality.parquet")
    assert len(frame) == len(valid_report.outcomes)
    assert {"table_name", "rule", "severity", "status", "table_score", "overall_score"} <= set(
        frame.columns
    )
    scores = pd.read_parquet(tmp_path / "quality_scores.parquet")
    assert scores.set_index("table_name").loc["overall", "score"] == 100.0
    again = QualityReport.read(tmp_path)
    assert again.score == valid_report.score
    assert again.to_frame().equals(valid_report.to_frame())
    assert json.loads((tmp_path / "report.json").read_text())["passed"] is True


def _null_key(t):
    t["fleet_info"].loc[2, "vehicle_id"] = pd.NA


def _duplicate_id(t):
    t["routes"].loc[1, "trip_id"] = "t1"


def _soc_1_5(t):
    t["routes"].loc[0, "soc_end"] = 1.5


def _negative_flat_energy(t):
    t["segments"].loc[0, "energy_kwh"] = -0.5  # seq 0 of t1 is flat (grade 0)


def _session_overlaps_trip(t):
    t["charging_sessions"].loc[0, "start_time"] = pd.Timestamp("2024-01-15 10:02")  # t3 10:00


def _unknown_vehicle(t):
    t["charging_sessions"].loc[0, "vehicle_id"] = "v9"


def _segments_do_not_sum(t):
    t["segments"].loc[5, "length_m"] *= 2


def _segment_above_motor_peak(t):
    t["segments"].loc[3, "max_power_kw"] = 400.0  # no fleet model has a 400 kW motor


def _wrong_type(t):
    t["vehicle_states"]["trips"] = t["vehicle_states"]["trips"].astype(str)


def _missing_column(t):
    t["weather"] = t["weather"].drop(columns="temp_c")


def _unknown_zone(t):
    t["weather"]["zone"] = t["weather"]["zone"].replace("inland", "mars")


CASES: list[tuple[Corruption, str, str, str]] = [
    # corruption, table validated, rule that must fail, text its report shows
    (_null_key, "fleet_info", "fleet_info.vehicle_id.not_null", "1 of 3 rows"),
    (_duplicate_id, "routes", "routes.trip_id.unique", "trip_id=t1"),
    (_soc_1_5, "routes", "routes.soc_end.range", "soc_end=1.5"),
    (_negative_flat_energy, "segments", "segments.regen_bound", "energy_kwh=-0.5"),
    (_session_overlaps_trip, "charging_sessions", "charging_sessions.trip_overlap", "trip_id=t3"),
    (_unknown_vehicle, "charging_sessions", "charging_sessions.vehicle_refs", "vehicle_id=v9"),
    (_segments_do_not_sum, "routes", "routes.segment_sums", "trip_id=t2"),
    (_segment_above_motor_peak, "segments", "segments.motor_power", "max_power_kw=400"),
    (_wrong_type, "vehicle_states", "vehicle_states.dtypes", "trips has dtype str, expected int64"),
    (_missing_column, "weather", "weather.columns", "missing columns: temp_c"),
    (_unknown_zone, "weather", "weather.zone.allowed", "zone=mars"),
]


@pytest.mark.parametrize(("corrupt", "table", "rule", "shown"), CASES,
                         ids=[c[0].__name__.strip("_") for c in CASES])  # fmt: skip
def test_corruption_is_caught_by_the_right_expectation(corrupt, table, rule, shown):
    tables = tiny_dataset()
    corrupt(tables)
    report = validate_dataset(tables, tables=[table])
    failed = {o.rule: o for o in report.critical_failures}
    assert rule in failed, [o.rule for o in report.failures()]
    assert not report.passed
    assert report.table_scores[table] < 100
    text = report.failure_message()
    assert rule in text
    assert shown in text


def test_warnings_do_not_fail_the_dataset_and_gx_is_quiet(capfd):
    tables = tiny_dataset()
    tables["routes"].loc[0, "temp_c"] = 49.0  # possible, but not in the Bay Area
    report = validate_dataset(tables, tables=["routes"])
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""  # no progress bars
    assert report.passed
    assert [o.rule for o in report.warnings] == ["routes.temp_c.plausible"]
    assert 90 < report.score < 100
    assert "routes.temp_c.plausible" in report.summary_markdown()


def test_sample_keeps_flagged_rows(monkeypatch):
    monkeypatch.setattr("expectations.runner.SAMPLE_MIN_ROWS", 10)
    tables = tiny_dataset()
    tables["weather"].loc[100, "zone"] = None
    report = validate_dataset(tables, tables=["weather"], sample_fraction=0.2, seed=1)
    assert report.rows_validated["weather"] < report.rows["weather"]
    assert "weather.zone.not_null" in {o.rule for o in report.critical_failures}
    with pytest.raises(ValueError, match="sample_fraction"):
        validate_dataset(tables, sample_fraction=0.0)


def test_table_score_weights_critical_and_failing_rows():
    def outcome(sev: str, status: str, bad: int = 0) -> Outcome:
        return Outcome("t", f"t.{sev}{bad}", "X", sev, "", status, element_count=10,
                       unexpected_count=bad)  # fmt: skip

    assert table_score([outcome("critical", "passed"), outcome("warning", "passed")]) == 100
    # critical weighs 3, warning 1: a failed warning with 2 of 10 rows bad
    score = table_score([outcome("critical", "passed"), outcome("warning", "failed", 2)])
    assert score == pytest.approx(100 * (0.75 * 3 / 4 + 0.25 * 0.8))
    assert table_score([outcome("critical", "failed", 10), outcome("warning", "passed")]) == 18.75
