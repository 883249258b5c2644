"""Quality stage tasks: validate a dataset with the GX suites, publish scores, gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from evfleet.config import StudioConfig
from evfleet.errors import DataQualityError
from evfleet.stages import quality_id
from evfleet.storage import Workspace
from expectations.report import QualityReport
from expectations.runner import validate_dataset
from tasks.common import StageResult, run_logger, stage_cache_key
from tasks.stages import build_stage


def _publish(report: QualityReport, dataset_id: str) -> None:
    rows: list[dict[str, Any]] = report.scores_frame().to_dict("records")
    create_table_artifact(
        rows,
        key=f"quality-scores-{dataset_id}",
        description=f"Quality scores of dataset {dataset_id}: overall {report.score:.1f}/100",
    )
    create_markdown_artifact(report.summary_markdown(), key=f"quality-report-{dataset_id}")


@task(
    name="validate-dataset",
    cache_key_fn=stage_cache_key("quality", lambda p: quality_id(p["config"], p["dataset"].id)),
    persist_result=True,
)
def validate_dataset_task(
    workspace: str, config: StudioConfig, dataset: StageResult
) -> StageResult:
    """Validate every table of ``dataset``; write results, score and Data Docs."""
    ws = Workspace(workspace)
    sid = quality_id(config, dataset.id)
    reports: list[QualityReport] = []

    def write(tmp: Path) -> dict[str, Any]:
        report = validate_dataset(
            dataset.path,
            sample_fraction=config.performance.quality_sample_fraction,
            chunk_rows=config.performance.quality_chunk_rows,
            docs_dir=tmp / "docs",
            name=dataset.id,
        )
        report.docs_path = str(ws.stage_dir("quality", sid) / "docs" / "index.html")
        report.write(tmp)
        reports.append(report)
        return {"dataset_id": dataset.id}

    result = build_stage(ws, "quality", sid, write)
    for report in reports:
        run_logger().info(
            "dataset %s quality %.1f/100 in %.1f s", dataset.id, report.score, report.elapsed_s
        )
        _publish(report, dataset.id)
    return result


@task(name="quality-gate")
def quality_gate_task(result: StageResult) -> float:
    """Stop the pipeline on a critical failure; report warnings and let them through."""
    report = QualityReport.read(result.path)
    logger = run_logger()
    for outcome in report.warnings:
        logger.warning("quality warning: %s", outcome.describe(max_rows=2))
    if not report.passed:
        raise DataQualityError(report.failure_message())
    return report.score
