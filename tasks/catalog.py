"""Catalog task: point the DuckDB views at a stage output."""

from __future__ import annotations

from prefect import task

from evfleet.storage import Workspace
from tasks.common import StageResult, run_logger


@task(name="register-views")
def register_views_task(workspace: str, result: StageResult) -> list[str]:
    """Make ``evfleet sql`` see every table of ``result`` (:data:`~evfleet.storage.TABLE_FILES`).

    Not cached on purpose: re-running an older configuration points the views back at it.
    """
    views = Workspace(workspace).register_stage(result.stage, result.id)
    run_logger().info("catalog views %s -> %s %s", ", ".join(views), result.stage, result.id)
    return views
