"""Quality flow: validate the dataset, expose the results, gate the pipeline."""

from __future__ import annotations

from prefect import flow

from evfleet.config import StudioConfig
from evfleet.storage import Workspace
from flows.synthesize import synthesize_with_runner
from tasks.catalog import register_views_task
from tasks.common import StageResult
from tasks.quality import quality_gate_task, validate_dataset_task


@flow(name="quality")
def quality_flow(
    config: StudioConfig | None = None,
    workspace: str | None = None,
    dataset: StageResult | None = None,
) -> StageResult:
    """Validate ``dataset`` (default: the dataset of ``config``) and fail on critical issues."""
    config = config or StudioConfig()
    workspace = str(Workspace(workspace).root)
    dataset = dataset or synthesize_with_runner(config, workspace)
    result = validate_dataset_task(workspace, config, dataset)
    register_views_task(workspace, result)
    quality_gate_task(result)
    return result
