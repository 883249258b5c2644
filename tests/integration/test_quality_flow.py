"""The quality gate inside a flow: critical failures stop it, warnings pass through."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evfleet.errors import DataQualityError
from evfleet.storage import Workspace, write_parquet
from expectations.report import QualityReport
from flows.quality import quality_flow
from tasks.common import StageResult
from tests.fixtures.tiny_dataset import tiny_dataset

pytestmark = pytest.mark.integration


def _stage(ws: Workspace, sid: str, tables: dict[str, pd.DataFrame]) -> StageResult:
    with ws.stage_writer("datasets", sid) as tmp:
        for name, df in tables.items():
            write_parquet(df, tmp / f"{name}.parquet")
    return StageResult("datasets", sid, str(ws.stage_dir("datasets", sid)), reused=False)


def test_valid_dataset_passes_and_warnings_go_through(
    prefect_harness: None, workspace: Path
) -> None:
    ws = Workspace(workspace)
    tables = tiny_dataset()
    # A warning-level problem: a rate that does not match energy / distance.
    tables["vehicle_states"].loc[0, "kwh_per_100km"] += 5.0
    result = quality_flow(dataset=_stage(ws, "good", tables), workspace=str(workspace))
    report = QualityReport.read(result.path)
    assert report.passed
    assert report.warnings
    assert (Path(result.path) / "docs" / "index.html").is_file()
    assert ws.query("select count(*) n from quality_scores")["n"].item() >= 6


def test_critical_failure_stops_the_flow_with_the_offending_rows(
    prefect_harness: None, workspace: Path
) -> None:
    ws = Workspace(workspace)
    tables = tiny_dataset()
    tables["routes"].loc[0, "soc_end"] = 1.5
    with pytest.raises(DataQualityError) as info:
        quality_flow(dataset=_stage(ws, "bad", tables), workspace=str(workspace))
    message = str(info.value)
    assert "routes" in message
    assert "soc_end" in message
    assert "1.5" in message
