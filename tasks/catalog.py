"""Catalog task: point the DuckDB views at a stage output."""

from __future__ import annotations

from collections.abc import Mapping

from prefect import task

from evfleet.storage import Workspace
from tasks.common import StageResult, run_logger


@task(name="register-views")
def register_views_task(
    workspace: str, result: StageResult, tables: Mapping[str, str]
) -> list[str]:
    """Make ``evfleet sql`` see ``result``'s tables (view name -> path inside its folder).

    Not cached on purpose: re-running an older configuration points the views back at it.
    """
    ws = Workspace(workspace)
    folder = ws.stage_dir(result.stage, result.id)
    ws.register(result.stage, result.id, {name: folder / rel for name, rel in tables.items()})
    run_logger().info("catalog views %s -> %s %s", ", ".join(tables), result.stage, result.id)
    return sorted(tables)
