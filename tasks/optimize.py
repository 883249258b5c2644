"""Optimisation stage tasks: plan the chunks, re-plan vehicles in parallel, combine, publish.

Like synthesis: the plan task resolves the dataset and network and opens a staging folder;
each chunk task re-plans a slice of the fleet for every (strategy, planning mode) and
writes one part per table; the finalize task runs the shared-site LP, the fleet KPIs and
the report and renames the folder into place. The publish task writes the Prefect
artifacts and one MLflow run per (strategy, planning mode) in ``evfleet-optimization``.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import mlflow
import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from evfleet.config import StudioConfig
from evfleet.errors import ConfigError, OptimizationError
from evfleet.features import network_edges
from evfleet.network import RoadGraph
from evfleet.optimize import vehicle_trips
from evfleet.optimize.fleet import KPI_KEYS
from evfleet.optimize.stage import Run, combine, optimize_chunk, stage_runs
from evfleet.routing import model_energy_source
from evfleet.routing.costs import EnergySource
from evfleet.stages import optimization_id
from evfleet.storage import Workspace, atomic_write_text, read_table, stage_table, write_parquet
from tasks.common import IO_RETRIES, StageResult, run_logger, stage_cache_key
from tasks.mlflow_names import REGISTERED_MODEL
from tasks.mlflow_utils import champion_version, ensure_experiment, use_workspace
from tasks.stages import commit, open_staging, reuse

ENERGY_MODELS: Final = ("physics", "ml")
"""Edge energies the planner can use: the physics expectation, or the MLflow champion."""
EXPERIMENT: Final = "evfleet-optimization"
PARTS: Final = ("plans", "charging_plan", "kpis", "infeasible")
DATASET_INPUTS: Final = ("fleet_info", "weather", "routes", "segments", "charging_sessions")


@dataclass(frozen=True)
class OptPlan:
    """What the chunk tasks need: the stage id, its staging folder, runs and chunks."""

    id: str
    dataset_path: str
    network_path: str
    staging: str
    start_date: str
    runs: tuple[Run, ...]
    chunks: tuple[tuple[int, int], ...]
    reused: StageResult | None = None
    workspace: str = ""
    energy: str = "physics"
    """``physics`` or ``ml:<registered model>/<version>`` (the champion when planned)."""


@functools.lru_cache(maxsize=2)
def _graph(network_path: str) -> RoadGraph:
    return RoadGraph.load(network_path)


@functools.lru_cache(maxsize=2)
def _tables(dataset_path: str) -> dict[str, pd.DataFrame]:
    folder = Path(dataset_path)
    out = {}
    for name in DATASET_INPUTS:
        out[name] = read_table(stage_table(folder, "datasets", name))
    return out


def _vehicles(plan: OptPlan, start: int, stop: int) -> list[Any]:
    tables = dict(_tables(plan.dataset_path))
    fleet = tables["fleet_info"].iloc[start:stop]
    ids = set(fleet["vehicle_id"].astype(str))
    for name in ("routes", "segments", "charging_sessions"):
        tables[name] = tables[name].loc[tables[name]["vehicle_id"].astype(str).isin(ids)]
    tables["fleet_info"] = fleet
    return vehicle_trips(tables, _graph(plan.network_path).edges, _date(plan.start_date))


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _energy(workspace: str, energy_model: str | None) -> str:
    """``physics``, or ``ml:<registered model>/<version>`` of the current champion."""
    model = energy_model or "physics"
    if model not in ENERGY_MODELS:
        msg = f"energy model must be one of {', '.join(ENERGY_MODELS)}, got {model!r}"
        raise ConfigError(msg)
    if model == "physics":
        return model
    return f"ml:{REGISTERED_MODEL}/{champion_version(workspace).version}"


_ML_LOCK: Final = threading.Lock()


def _load_model(uri: str) -> Any:
    """The registered model version at ``uri`` (``models:/<name>/<version>``)."""
    return mlflow.sklearn.load_model(uri)


@functools.lru_cache(maxsize=1)
def _ml_source(workspace: str, energy: str, network_path: str) -> EnergySource:
    """Per-edge kWh of the registered model version named by ``energy`` (loaded once per
    worker process; :func:`evfleet.models.predict_network` per planning context)."""
    use_workspace(workspace)
    model = _load_model(f"models:/{energy.removeprefix('ml:')}")
    folder = Path(network_path)
    edges = network_edges(
        read_table(folder / "edges.parquet"), read_table(folder / "nodes.parquet")
    )
    return model_energy_source(model, edges)


@task(name="plan-optimization", persist_result=True)
def plan_optimization_task(
    workspace: str,
    config: StudioConfig,
    dataset_id: str | None,
    strategy: str | None = None,
    planning_mode: str | None = None,
    energy_model: str | None = None,
) -> OptPlan:
    """Resolve the dataset, its network and the planner's energy model (``physics`` or
    ``ml``: the champion's version); open a staging folder split into chunks."""
    ws = Workspace(workspace).ensure()
    dataset_id = ws.resolve("datasets", dataset_id)
    meta = ws.manifest("datasets", dataset_id)
    network_id = ws.resolve("network", str(meta.get("network_id")))
    runs = stage_runs(config, strategy, planning_mode)
    energy = _energy(workspace, energy_model)
    sid = optimization_id(config, dataset_id, network_id, [r.label for r in runs], energy)
    paths = (str(ws.stage_dir("datasets", dataset_id)), str(ws.stage_dir("network", network_id)))
    start = str(meta.get("start_date", config.fleet.start_date.isoformat()))
    cached = reuse(ws, "optimization", sid)
    if cached is not None:
        return OptPlan(sid, *paths, "", start, runs, (), cached, workspace, energy)
    n = len(_tables(paths[0])["fleet_info"])
    size = config.performance.synth_chunk_vehicles
    chunks = tuple((a, min(a + size, n)) for a in range(0, n, size))
    staging = open_staging(ws, "optimization", sid)
    run_logger().info("optimisation %s: %d vehicles, %d chunks, runs %s, planned with %s", sid, n,
                      len(chunks), ", ".join(r.label for r in runs), energy)  # fmt: skip
    return OptPlan(sid, *paths, str(staging), start, runs, chunks, None, workspace, energy)


@task(name="optimize-chunk", task_run_name="optimize-chunk-{index}")
def optimize_chunk_task(config: StudioConfig, plan: OptPlan, index: int) -> int:
    """Re-plan one chunk of vehicles for every run; write one part per table; trip count."""
    start, stop = plan.chunks[index]
    vehicles = _vehicles(plan, start, stop)
    graph = _graph(plan.network_path)
    weather = _tables(plan.dataset_path)["weather"]
    source = None
    if plan.energy != "physics":
        with _ML_LOCK:  # chunk tasks on threads load the model once
            source = _ml_source(plan.workspace, plan.energy, plan.network_path)
    parts = optimize_chunk(
        config, graph, weather, vehicles, _date(plan.start_date), plan.runs, energy_source=source
    )
    for name in PARTS:
        write_parquet(
            parts[name], Path(plan.staging) / "parts" / name / f"part-{index:05d}.parquet"
        )
    return len(parts["plans"])


@task(
    name="finalize-optimization",
    cache_key_fn=stage_cache_key("optimization", lambda p: p["plan"].id),
    persist_result=True,
)
def finalize_optimization_task(workspace: str, config: StudioConfig, plan: OptPlan) -> StageResult:
    """Site LP, fleet KPIs and report; commit the folder (strict mode fails on infeasible
    trips, naming the vehicle and trip, and keeps any earlier output)."""
    ws = Workspace(workspace)
    if plan.reused is not None:
        return plan.reused
    staging = Path(plan.staging)
    try:
        parts = {name: read_table(staging / "parts" / name) for name in PARTS}
        infeasible = parts["infeasible"]
        if config.optimization.strict and len(infeasible):
            first = infeasible.iloc[0]
            msg = (
                f"{len(infeasible)} infeasible trip(s) (strict mode); first: vehicle "
                f"{first['vehicle_id']} trip {first['trip_id']} ({first['strategy']}/"
                f"{first['planning_mode']}): {first['reason']}"
            )
            raise OptimizationError(msg)
        vehicles = _vehicles(plan, 0, len(_tables(plan.dataset_path)["fleet_info"]))
        out = combine(config, parts, vehicles, _date(plan.start_date), plan.runs)
        shutil.rmtree(staging / "parts")
        for name in ("plans", "charging_plan", "kpis", "sites", "infeasible"):
            write_parquet(out[name].reset_index(drop=True), staging / f"{name}.parquet")
        atomic_write_text(staging / "report.html", out["report_html"])
        meta = {
            "dataset_id": Path(plan.dataset_path).name,
            "network_id": Path(plan.network_path).name,
            "energy_source": plan.energy,
            "runs": [r.label for r in plan.runs],
            "infeasible_trips": len(infeasible),
        }
    except BaseException:
        ws.abort_stage(staging)
        raise
    result = commit(ws, "optimization", plan.id, staging, meta=meta)
    run_logger().info("optimisation %s written to %s", plan.id, result.path)
    return result


def comparison(folder: str | Path) -> pd.DataFrame:
    """Fleet KPIs of an optimisation folder: one row per strategy, planning mode and side."""
    kpis = read_table(stage_table(folder, "optimization", "kpis"))
    fleet = kpis.loc[kpis["vehicle_id"] == "FLEET"]
    return fleet[["strategy", "planning_mode", "side", *KPI_KEYS]].reset_index(drop=True)


def _markdown(table: pd.DataFrame, result: StageResult) -> str:
    keys = (
        "energy_kwh", "kwh_per_100km", "cost_usd", "cost_adjusted_usd", "drive_time_h",
        "charging_time_h", "public_sessions", "site_peak_kw", "min_soc", "stranded_trips",
    )  # fmt: skip
    lines = [f"# Fleet optimisation `{result.id}`", "",
             "| strategy | mode | side | " + " | ".join(keys) + " |",
             "|---|---|---|" + "---|" * len(keys)]  # fmt: skip
    for row in table.itertuples():
        vals = " | ".join(f"{getattr(row, k):,.3f}" for k in keys)
        lines.append(f"| {row.strategy} | {row.planning_mode} | {row.side} | {vals} |")
    return "\n".join(lines)


@task(name="publish-optimization", **IO_RETRIES)
def publish_optimization_task(workspace: str, result: StageResult) -> list[str]:
    """Prefect markdown + table artifacts; one MLflow run per run label (found again by tag)."""
    table = comparison(result.path)
    energy = str(Workspace(workspace).manifest("optimization", result.id).get("energy_source"))
    create_table_artifact(
        table.round(4).to_dict("records"), key=f"optimization-kpis-{result.id}",
        description=f"Fleet KPIs, baseline vs optimised, optimisation {result.id}",
    )  # fmt: skip
    create_markdown_artifact(_markdown(table, result), key=f"optimization-report-{result.id}")
    experiment = ensure_experiment(
        workspace, EXPERIMENT, folder="optimization",
        description=(
            "Fleet optimisation: one run per (strategy, planning mode) of an optimisation "
            "stage output; metrics `baseline/<kpi>` and `optimised/<kpi>` are fleet KPIs "
            "scored by the same physics with common random numbers."
        ),
        tags={"evfleet.purpose": "fleet-optimization"}, primary_metric="optimised/cost_usd",
    )  # fmt: skip
    runs = []
    for (strategy, mode), rows in table.groupby(["strategy", "planning_mode"], sort=False):
        tags = {"evfleet.optimization_id": result.id, "evfleet.run": f"{strategy}/{mode}"}
        query = " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())
        existing = use_workspace(workspace).search_runs([experiment], query, max_results=1)
        if existing:
            runs.append(existing[0].info.run_id)
            continue
        with mlflow.start_run(
            experiment_id=experiment, run_name=f"{strategy}-{mode}", tags=tags
        ) as run:
            mlflow.log_params(
                {"strategy": strategy, "planning_mode": mode, "optimization_id": result.id,
                 "energy_model": energy}
            )  # fmt: skip
            for side, row in rows.set_index("side").iterrows():
                mlflow.log_metrics(
                    {f"{side}/{k}": float(row[k]) for k in KPI_KEYS if pd.notna(row[k])}
                )
            mlflow.log_artifact(str(Path(result.path) / "report.html"))
            runs.append(run.info.run_id)
    run_logger().info("optimisation %s: MLflow runs %s", result.id, ", ".join(runs))
    return runs
