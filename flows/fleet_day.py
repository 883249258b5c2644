"""Nightly fleet day: synthesise the fleet's previous day, gate its quality, optimise it with
the configured strategy, publish KPIs.

The day is the parameter ``day``, or, when it is empty (the nightly schedule), the day
before the run's scheduled time in ``timezone``: the 02:00 run of 28 Nov (Los Angeles)
simulates 27 Nov, whatever the worker's clock zone. A new day gives a new dataset id; a
rerun of the same day is a cache hit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow
from prefect.runtime import flow_run

from evfleet.config import StudioConfig
from flows.network import network_flow
from flows.optimize import optimize_with_runner
from flows.parameters import LOCK_WAIT_S, deployment_config
from flows.quality import quality_flow
from flows.runtime import deployment_session
from flows.synthesize import synthesize_with_runner
from tasks.common import StageResult
from tasks.fleet_day import publish_fleet_kpis_task


def _optimise_day(config: StudioConfig, workspace: str, dataset: StageResult) -> StageResult:
    """Re-plan the night's dataset with the configured strategy and planning mode, its vehicle
    chunks on the configured task runner (the container stack's Dask cluster)."""
    return optimize_with_runner(config, workspace, dataset_id=dataset.id)


DAY_STAGES: tuple[Callable[[StudioConfig, str, StageResult], StageResult], ...] = (
    quality_flow,
    _optimise_day,
)
"""Stages run on each night's dataset, in order, as ``stage(config, workspace, dataset)``.

A stage that fails (the quality gate on a critical issue) stops the night."""
SCHEDULE_TIMEZONE = "America/Los_Angeles"


def previous_day(scheduled: dt.datetime, timezone: str = SCHEDULE_TIMEZONE) -> dt.date:
    """The calendar day before ``scheduled`` (timezone-aware) as seen in ``timezone``."""
    return scheduled.astimezone(ZoneInfo(timezone)).date() - dt.timedelta(days=1)


@flow(name="fleet-day")
def fleet_day_flow(
    day: dt.date | None = None,
    config_file: str | None = None,
    workspace: str | None = None,
    timezone: str = SCHEDULE_TIMEZONE,
    lock_wait_s: float = LOCK_WAIT_S,
) -> dict[str, Any]:
    """Synthesise one day of the configured fleet, run the day's stages, publish its KPIs.

    Returns ``{"day": ISO date, "stages": [StageResult, ...], "kpis": [row per day]}``.
    """
    day = day or previous_day(flow_run.scheduled_start_time, timezone)
    cfg = deployment_config(config_file, {"fleet.start_date": day, "fleet.days": 1})
    with deployment_session(workspace, purpose=f"fleet day {day}", wait_s=lock_wait_s) as ws:
        network = network_flow(cfg, ws)
        dataset = synthesize_with_runner(cfg, ws, network)
        stages = [network, dataset, *(stage(cfg, ws, dataset) for stage in DAY_STAGES)]
        kpis = publish_fleet_kpis_task(dataset)
    return {"day": day.isoformat(), "stages": stages, "kpis": kpis}
