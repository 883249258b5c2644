"""Fleet-day KPIs: computed from a dataset's tables and published as Prefect artifacts."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from evfleet.fleet.kpis import charging_kpis, day_kpis
from evfleet.storage import read_table, stage_table
from tasks.common import StageResult, run_logger

KPI_ARTIFACT_KEY = "fleet-day-kpis"
"""One key for every night, so the Prefect UI shows the KPIs' history under one artifact."""


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: dates as ISO text, floats rounded, NaN as ``None``."""
    rows: list[dict[str, Any]] = df.to_dict("records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float):
                row[key] = None if math.isnan(value) else round(value, 3)
            elif hasattr(value, "isoformat"):
                row[key] = value.isoformat()
    return rows


def _markdown(dataset_id: str, days: list[dict[str, Any]], kinds: list[dict[str, Any]]) -> str:
    def table(rows: list[dict[str, Any]]) -> list[str]:
        if not rows:
            return ["(none)"]
        head = list(rows[0])
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows]
        return lines

    return "\n".join(
        [
            f"# Fleet day: dataset `{dataset_id}`",
            "",
            "## Per day",
            *table(days),
            "",
            "## Charging by kind",
            *table(kinds),
        ]
    )


@task(name="publish-fleet-kpis")
def publish_fleet_kpis_task(dataset: StageResult) -> list[dict[str, Any]]:
    """Publish the dataset's day and charging KPIs (table + markdown artifacts); return days."""
    states, sessions = (
        read_table(stage_table(dataset.path, "datasets", name))
        for name in ("vehicle_states", "charging_sessions")
    )
    days = _records(day_kpis(states))
    kinds = _records(charging_kpis(sessions))
    create_table_artifact(
        days,
        key=KPI_ARTIFACT_KEY,
        description=f"Fleet KPIs per day of dataset {dataset.id}",
    )
    create_markdown_artifact(
        _markdown(dataset.id, days, kinds),
        key=f"{KPI_ARTIFACT_KEY}-report",
        description=f"Fleet KPIs of dataset {dataset.id}",
    )
    for day in days:
        run_logger().info(
            "%s: %s vehicles, %.1f km, %.2f kWh/100 km, %.2f USD charging",
            day["date"],
            day["vehicles"],
            day["distance_km"],
            day["kwh_per_100km"] or math.nan,
            day["charging_cost_usd"],
        )
    return days
