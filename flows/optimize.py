"""Optimisation flow: re-plan the fleet's trips per strategy and planning mode, compare."""

from __future__ import annotations

from typing import Any

from prefect import flow

from evfleet.config import StudioConfig
from evfleet.storage import Workspace
from flows.runtime import task_runner
from tasks.catalog import register_views_task
from tasks.common import StageResult
from tasks.optimize import (
    finalize_optimization_task,
    optimize_chunk_task,
    plan_optimization_task,
    publish_optimization_task,
)


@flow(name="optimize")
def optimize_flow(
    config: StudioConfig | None = None,
    workspace: str | None = None,
    dataset_id: str | None = None,
    strategy: str | None = None,
    planning_mode: str | None = None,
    energy_model: str | None = None,
) -> StageResult:
    """Re-plan a dataset's trips (default: the latest dataset) and score baseline vs
    optimised on the same physics.

    ``strategy``: one of energy_first, cost_conscious, time_critical, balanced, or ``all``
    (default: ``optimization.strategy``; ``custom`` = the configured weights); ``planning_mode``:
    myopic, next_trip or rolling_horizon (default: ``optimization.planning_mode``);
    ``energy_model``: the edge energies the planner uses, ``physics`` (default) or ``ml``
    (the MLflow champion; the plans are still scored by the physics simulator).
    Vehicle chunks run on the flow's task runner (see :func:`optimize_with_runner`).
    """
    config = config or StudioConfig()
    workspace = str(Workspace(workspace).root)
    plan = plan_optimization_task(
        workspace, config, dataset_id, strategy, planning_mode, energy_model
    )
    futures = [optimize_chunk_task.submit(config, plan, i) for i in range(len(plan.chunks))]
    for future in futures:
        future.result()
    result = finalize_optimization_task(workspace, config, plan)
    register_views_task(workspace, result)
    publish_optimization_task(workspace, result)
    return result


def optimize_with_runner(config: StudioConfig, workspace: str, **kwargs: Any) -> StageResult:
    """Run :func:`optimize_flow` on the task runner chosen by ``config.performance``."""
    runner: Any = task_runner(config.performance)
    return optimize_flow.with_options(task_runner=runner)(config, workspace, **kwargs)
