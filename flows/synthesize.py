"""Synthesis flow: the ground-truth dataset, vehicle chunks mapped over the task runner."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from prefect import flow
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.futures import as_completed

from evfleet.config import StudioConfig
from evfleet.storage import Workspace
from flows.network import network_flow
from flows.runtime import task_runner
from tasks.catalog import register_views_task
from tasks.common import StageResult
from tasks.synthesize import (
    finalize_dataset_task,
    plan_dataset_task,
    simulate_chunk_task,
)


@flow(name="synthesize")
def synthesize_flow(
    config: StudioConfig | None = None,
    workspace: str | None = None,
    network: StageResult | None = None,
) -> StageResult:
    """Generate (or reuse) the six-table dataset of ``config`` on its network.

    Vehicle chunks run in parallel on the flow's task runner (threads, or Dask with
    ``performance.runner: dask``; see :func:`synthesize_with_runner`).
    """
    config = config or StudioConfig()
    workspace = str(Workspace(workspace).root)
    network = network or network_flow(config, workspace)
    plan = plan_dataset_task(workspace, config, network)
    futures = [simulate_chunk_task.submit(config, plan, i) for i in range(len(plan.chunks))]
    counts = []
    if futures:
        progress = cast(
            UUID, create_progress_artifact(0.0, description="vehicle chunks simulated (%)")
        )
        for done, future in enumerate(as_completed(futures), start=1):
            counts.append(future.result())
            update_progress_artifact(progress, 100.0 * done / len(futures))
    dataset = finalize_dataset_task(workspace, config, plan, counts)
    register_views_task(workspace, dataset)
    return dataset


def synthesize_with_runner(
    config: StudioConfig, workspace: str, network: StageResult | None = None
) -> StageResult:
    """Run :func:`synthesize_flow` on the task runner chosen by ``config.performance``."""
    runner: Any = task_runner(config.performance)
    return synthesize_flow.with_options(task_runner=runner)(config, workspace, network)
