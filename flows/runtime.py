"""Run-time choices of the flows: task runner and a Prefect API that workers can reach.

Flows run against ``PREFECT_API_URL`` when it is set. Otherwise Prefect would start a
private ephemeral server in *each* process, which worker processes (Dask) cannot share:
:func:`prefect_api` starts one local server for the whole run and exports its URL so
that every worker process reports to it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from evfleet.config import PerformanceConfig, Runner
from evfleet.errors import OrchestrationError

logger = logging.getLogger(__name__)


def task_runner(perf: PerformanceConfig) -> TaskRunner[Any]:
    """The task runner for fan-out stages: threads locally, or Dask (local or remote)."""
    if perf.runner is Runner.DASK:
        from prefect_dask import DaskTaskRunner

        if perf.dask_address:
            return DaskTaskRunner(address=perf.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": perf.n_workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    return ThreadPoolTaskRunner(max_workers=perf.n_workers)


@contextlib.contextmanager
def prefect_api(*, timeout_s: int | None = None) -> Iterator[str]:
    """Ensure a Prefect API shared by this process and its workers for the block's duration.

    Yields the API URL. The start-up timeout defaults to
    ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS`` (90 s).
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configured = PREFECT_API_URL.value()
    if configured:
        previous = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = configured
        try:
            yield configured
        finally:
            if previous is None:
                os.environ.pop("PREFECT_API_URL", None)
        return

    if timeout_s is None:
        timeout_s = int(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90"))
    server = SubprocessASGIServer()
    try:
        server.start(timeout=timeout_s)
    except RuntimeError as exc:
        msg = (
            f"could not start a local Prefect server within {timeout_s} s ({exc}); raise "
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or start one with "
            "`evfleet ui prefect` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
        raise OrchestrationError(msg) from None
    os.environ["PREFECT_API_URL"] = server.api_url
    logger.info("local Prefect API at %s", server.api_url)
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=10)
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()
