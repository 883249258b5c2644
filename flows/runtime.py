"""Run-time choices of the flows: task runner, a Prefect API that workers can reach, and
the session a CLI command runs its flows in.

Flows run against ``PREFECT_API_URL`` when it is set. Otherwise Prefect would start a
private ephemeral server in *each* process, which worker processes (Dask) cannot share:
:func:`prefect_api` starts one local server for the whole run and exports its URL so
that every worker process reports to it. :func:`flow_session` wraps it for the CLI: one
writer per workspace (the lock also keeps two Prefect servers from migrating the
workspace's Prefect DB at once), and SIGTERM stops the temporary server like Ctrl-C does.
:func:`deployment_session` is the same writer lock for flows started by a deployment (their
worker already talks to a Prefect server).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from evfleet.config import PerformanceConfig, Runner
from evfleet.errors import OrchestrationError
from evfleet.storage import Workspace
from flows import env
from flows.signals import sigterm_as_exit

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
                # The scheduler always serves HTTP (metrics); a free port, not 8787, so that
                # another cluster on this machine does not make it fail.
                "dashboard_address": ":0",
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


@contextlib.contextmanager
def flow_session(workspace: str | Path, *, purpose: str, wait_s: float = 0.0) -> Iterator[str]:
    """Everything a CLI command needs around its flows; yields the Prefect API URL.

    In order: the workspace lock is taken (waiting up to ``wait_s``; staging folders left
    by killed runs are swept), SIGTERM becomes a clean exit, and a Prefect API is ensured.
    Libraries' INFO chatter imported by the flows is quieted unless the CLI runs with -v.
    """
    with (
        Workspace(workspace).lock(purpose, wait_s=wait_s),
        sigterm_as_exit(),
        prefect_api() as url,
    ):
        env.quiet_libraries()
        yield url


@contextlib.contextmanager
def deployment_session(workspace: str | None, *, purpose: str, wait_s: float) -> Iterator[str]:
    """The workspace lock for a deployment's flow run; yields the resolved workspace path.

    A scheduled run that finds the workspace busy (a CLI run, another deployment) waits up
    to ``wait_s`` seconds, then fails naming the holder, exactly like ``evfleet ... --wait``.
    ``workspace`` defaults to ``$EVFLEET_WORKSPACE`` (or ./evfleet-data). Libraries' INFO
    chatter (Optuna trials, MLflow notices) stays out of the run's output, as in a quiet CLI
    run; the numbers are in MLflow and the Prefect logs.
    """
    ws = Workspace(workspace)
    with ws.lock(purpose, wait_s=wait_s):
        env.set_verbose(False)
        yield str(ws.root)
