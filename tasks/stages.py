"""The one way a task writes a stage output: reuse it, or stage, write and commit it.

A stage output written by one task goes through :func:`build_stage`. A stage written by
several tasks (a plan task, parallel chunk tasks, a finalize task: synthesis and
optimisation) uses its parts: :func:`reuse`, :func:`open_staging`, :func:`commit`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from evfleet.storage import Workspace
from tasks.common import StageResult, run_logger


def reuse(ws: Workspace, stage: str, sid: str) -> StageResult | None:
    """The existing result if the stage output is complete, else ``None``."""
    if ws.is_complete(stage, sid):
        run_logger().info("cache hit: %s %s already in %s", stage, sid, ws.root)
        return StageResult(stage, sid, str(ws.stage_dir(stage, sid)), reused=True)
    return None


def open_staging(ws: Workspace, stage: str, sid: str) -> Path:
    """A fresh hidden staging folder for ``sid`` (stale ones of killed runs removed first)."""
    ws.sweep_staging(stage, sid)
    return ws.begin_stage(stage, sid)


def commit(
    ws: Workspace, stage: str, sid: str, staging: Path, *, meta: Mapping[str, Any]
) -> StageResult:
    """Rename a filled staging folder into place (removed instead if that fails)."""
    try:
        folder = ws.commit_stage(stage, sid, staging, meta=meta)
    finally:
        if staging.exists():
            ws.abort_stage(staging)
    return StageResult(stage, sid, str(folder), reused=False)


def build_stage(
    workspace: str | Workspace,
    stage: str,
    sid: str,
    write: Callable[[Path], Mapping[str, Any]],
) -> StageResult:
    """Reuse the complete output ``sid`` of ``stage``, or build it: ``write`` fills a
    staging folder and returns the manifest's extra fields; the folder then becomes the
    stage's output. If ``write`` fails, nothing is left behind and an earlier output
    with the same id stays as it was."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    ws.ensure()
    cached = reuse(ws, stage, sid)
    if cached is not None:
        return cached
    staging = ws.begin_stage(stage, sid)
    try:
        meta = write(staging)
    except BaseException:
        ws.abort_stage(staging)
        raise
    return commit(ws, stage, sid, staging, meta=meta)
