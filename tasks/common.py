"""Shared plumbing of the Prefect tasks: workspace access and stage-id cache keys.

Every stage task takes the workspace path and its config section, computes its
content-addressed stage id (:mod:`evfleet.stages`), and returns a :class:`StageResult`. A
stage whose output is already complete in the workspace is not rebuilt: the Prefect cache
key (below) makes the task run show as *Cached* in the UI, and the task body checks the
files themselves (:mod:`tasks.stages`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prefect import Task, get_run_logger
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import TaskRunContext
from prefect.exceptions import MissingContextError

from evfleet.errors import EvfleetError
from evfleet.storage import Workspace


@dataclass(frozen=True)
class StageResult:
    """What a stage task hands to the next one: ids and paths, never DataFrames."""

    stage: str
    id: str
    path: str
    reused: bool


def run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """Prefect's run logger inside a run, a module logger outside (``task.fn()`` in tests)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("evfleet.tasks")


def stage_cache_key(
    stage: str, id_fn: Callable[[dict[str, Any]], str]
) -> Callable[[TaskRunContext, dict[str, Any]], str | None]:
    """Build a Prefect ``cache_key_fn`` keyed on a stage id.

    The key exists only while the stage's output is complete on disk, so deleting the
    workspace folder (or a half-written one) always makes the task run again. It names
    the task too: several tasks of one stage (plan, finalize) each cache their own result.
    """

    def key_fn(ctx: TaskRunContext, params: dict[str, Any]) -> str | None:
        ws = Workspace(params["workspace"])
        sid = id_fn(params)
        if not ws.is_complete(stage, sid):
            return None
        root_tag = hashlib.sha256(str(ws.root).encode()).hexdigest()[:12]
        return f"evfleet-{stage}-{ctx.task.name}-{sid}-{root_tag}"

    return key_fn


def transient_failure(_task: Task[Any, Any], _run: TaskRun, state: State[Any]) -> bool:
    """Prefect retry condition: retry unexpected errors (network, database locks, disk),
    never a domain error (bad input, a failed quality gate): those fail the same way again.
    """
    try:
        state.result()
    except EvfleetError:
        return False
    except Exception:
        return True
    return False


IO_RETRIES: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [5, 30],
    "retry_condition_fn": transient_failure,
}
"""Retry policy of tasks that touch I/O which can fail transiently (downloads, MLflow)."""
