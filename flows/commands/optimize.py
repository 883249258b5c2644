"""``evfleet optimize``: re-plan the fleet's trips and compare with the baseline."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import typer
from rich.table import Table

from evfleet.config import PlanningMode, Runner, Strategy
from evfleet.errors import ConfigError
from evfleet.storage import Workspace
from flows.commands.common import (
    ConfigOpt,
    WaitOpt,
    WorkspaceOpt,
    check_dask_address,
    console,
    effective_config,
    workspace_path,
)

TABLE_KPIS = (
    ("energy_kwh", "kWh"), ("kwh_per_100km", "kWh/100km"), ("distance_km", "km"),
    ("drive_time_h", "drive h"), ("charging_time_h", "charge h"), ("waiting_h", "wait h"),
    ("detour_km", "detour km"), ("cost_usd", "USD"), ("cost_adjusted_usd", "USD adj"),
    ("public_sessions", "public"), ("site_peak_kw", "site kW"), ("min_soc", "min SOC"),
    ("stranded_trips", "stranded"), ("planning_error_pct", "plan err %"),
)  # fmt: skip


def _check_choice(value: str | None, allowed: list[str], flag: str) -> None:
    if value is not None and value not in allowed:
        msg = f"{flag} must be one of {', '.join(allowed)}, got {value!r}"
        raise ConfigError(msg)


def _payload(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """JSON: ``baseline``/``optimised`` of one run, or ``runs`` of many (each with both)."""
    runs: dict[str, dict[str, Any]] = {}
    for row in rows:
        label = f"{row['strategy']}/{row['planning_mode']}"
        kpis = {k: _plain(row[k]) for k, _ in TABLE_KPIS}
        runs.setdefault(label, {"strategy": row["strategy"], "planning_mode": row["planning_mode"]})
        runs[label][row["side"]] = kpis
    if len(runs) == 1:
        return next(iter(runs.values()))
    return {"runs": list(runs.values()), **next(iter(runs.values()))}


def optimize(
    strategy: Annotated[
        str | None,
        typer.Option(
            help="energy_first|cost_conscious|time_critical|balanced|custom|all "
            "(default: optimization.strategy)."
        ),
    ] = None,
    planning_mode: Annotated[
        str | None, typer.Option("--planning-mode", help="myopic|next_trip|rolling_horizon.")
    ] = None,
    energy_model: Annotated[
        str,
        typer.Option(
            "--energy-model",
            help="Edge energies the planner uses: physics | ml (the MLflow champion); plans "
            "are scored by the physics simulator either way.",
        ),
    ] = "physics",
    compare: Annotated[
        bool, typer.Option("--compare", help="Print the baseline vs optimised table.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the KPIs as JSON.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail when any trip cannot be planned.")
    ] = False,
    dataset: Annotated[str | None, typer.Option(help="Dataset id (default: the latest).")] = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    wait: WaitOpt = 0.0,
) -> None:
    """Re-plan every trip of a dataset and score baseline vs optimised on the same physics.

    Outputs go to optimization/<id>/ (plans, charging_plan, kpis, report.html), the views
    opt_plans / opt_kpis, Prefect artifacts and MLflow runs in evfleet-optimization.

    Examples:

      evfleet optimize --strategy balanced --planning-mode rolling_horizon --compare

      evfleet optimize --strategy all --json

      evfleet optimize --energy-model ml --compare   # planning error of the ML champion
    """
    _check_choice(strategy, [s.value for s in Strategy] + ["all"], "--strategy")
    _check_choice(planning_mode, [m.value for m in PlanningMode], "--planning-mode")
    _check_choice(energy_model, ["physics", "ml"], "--energy-model")
    root = workspace_path(workspace)
    cfg = effective_config(config, {"optimization.strict": True if strict else None})
    if cfg.performance.runner is Runner.DASK and cfg.performance.dask_address:
        check_dask_address(cfg.performance.dask_address)  # in seconds, before Prefect starts
    ws = Workspace(root)
    sid = ws.resolve("datasets", dataset)
    if energy_model == "ml":  # fail before Prefect starts when no model is registered
        from tasks.mlflow_utils import champion_version

        champion_version(root)
    from flows.optimize import optimize_with_runner
    from flows.runtime import flow_session
    from tasks.optimize import comparison

    with (
        flow_session(root, purpose="evfleet optimize", wait_s=wait),
        console.status(f"optimising dataset {sid} ..."),
    ):
        result = optimize_with_runner(
            cfg, str(root), dataset_id=sid, strategy=strategy, planning_mode=planning_mode,
            energy_model=energy_model,
        )  # fmt: skip
    rows = comparison(result.path).to_dict("records")
    planned_with = str(ws.manifest("optimization", result.id).get("energy_source"))
    if as_json:
        typer.echo(json.dumps({**_payload(rows), "energy_model": planned_with}, allow_nan=False))
        return
    if compare or strategy == "all":
        _print(rows)
    console.print(
        f"optimization/{result.id} (planned with {planned_with}, scored by physics): "
        f"report {result.path}/report.html"
    )


def _plain(value: Any) -> float | None:
    """A JSON number (``None`` for a KPI that does not apply, e.g. the baseline's planning
    error)."""
    number = float(value)
    return None if math.isnan(number) else number


def _cell(value: Any) -> str:
    """A table cell: ``-`` where the KPI does not apply (the baseline's planning error)."""
    number = _plain(value)
    return "-" if number is None else f"{number:,.2f}"


def _print(rows: list[dict[str, Any]]) -> None:
    """KPIs down, baseline and each run's optimised plan across (same trips, same draws)."""
    base = next(r for r in rows if r["side"] == "baseline")
    runs = [r for r in rows if r["side"] == "optimised"]
    table = Table(
        title="fleet KPIs: baseline vs optimised (same trips, same physics draws; plan err %: "
        "planned vs physics-scored energy)"
    )
    table.add_column("KPI")
    table.add_column("baseline", justify="right")
    for r in runs:
        table.add_column(f"{r['strategy']}\n{r['planning_mode']}", justify="right")
    for key, head in TABLE_KPIS:
        table.add_row(head, *(_cell(r[key]) for r in (base, *runs)))
    console.print(table)
