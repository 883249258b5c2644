"""Training stage tasks: features, a training session, per-family tuning (MLflow-tracked).

The feature table is a workspace stage (``features/<id>/``, keyed on the dataset id and the
split seed). A training session is one parent MLflow run in the dataset's experiment (keyed
on the features and the budget); each family's tuning is a child run of it, found again by
its ``evfleet.train_key`` tag on a re-run with the same inputs, so a cached family is not
retrained. What the runs log is in :mod:`tasks.mlflow_train`; registration and the
session's closing report in :mod:`tasks.registry`. Tasks hand ids and small summaries to
each other, never DataFrames.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from prefect import task
from prefect.context import TaskRunContext

from evfleet.config import ModelFamily, PerformanceConfig, TrainingConfig
from evfleet.features import FEATURES, assign_splits, build_features, daily_history_table
from evfleet.models import tune_family
from evfleet.stages import TARGET_TRANSFORM, features_id, session_key, train_key, training_budget
from evfleet.storage import TABLE_FILES, Workspace, write_parquet
from tasks.common import IO_RETRIES, StageResult, run_logger, stage_cache_key
from tasks.mlflow_train import FamilySummary, log_family_run, start_session_run
from tasks.mlflow_utils import experiment_id, find_run, use_workspace
from tasks.stages import build_stage


def _network_table(ws: Workspace, dataset_id: str, name: str) -> pd.DataFrame | None:
    network = ws.manifest("datasets", dataset_id).get("network_id")
    if not network or not ws.is_complete("network", str(network)):
        return None
    return ws.read_table("network", str(network), name)


@task(name="resolve-dataset")
def resolve_dataset_task(workspace: str, dataset_id: str | None) -> str:
    """The given dataset id if complete, else the latest dataset of the workspace."""
    return Workspace(workspace).resolve("datasets", dataset_id)


@task(
    name="build-features",
    cache_key_fn=stage_cache_key("features", lambda p: features_id(p["dataset_id"], p["training"])),
    persist_result=True,
)
def build_features_task(workspace: str, dataset_id: str, training: TrainingConfig) -> StageResult:
    """Build (or reuse) the split feature table of a dataset."""
    ws = Workspace(workspace).ensure()
    sid = features_id(dataset_id, training)

    def write(tmp: Path) -> dict[str, Any]:
        ws.resolve("datasets", dataset_id)
        inputs = ("segments", "fleet_info", "weather")
        table = build_features(
            *(ws.read_table("datasets", dataset_id, name) for name in inputs),
            nodes=_network_table(ws, dataset_id, "nodes"),
            edges=_network_table(ws, dataset_id, "edges"),
        )
        table = assign_splits(table, seed=training.seed)
        splits = ("split_vehicle", "split_time")
        counts = {col: table[col].value_counts().to_dict() for col in splits}
        files = TABLE_FILES["features"]
        write_parquet(table, tmp / files["features"])
        write_parquet(daily_history_table(table), tmp / files["daily_history"])
        run_logger().info("features %s: %d rows, splits %s", sid, len(table), counts)
        return {"dataset_id": dataset_id, "rows": len(table), "features": list(FEATURES), **counts}

    return build_stage(ws, "features", sid, write)


def feature_table(workspace: str, features: StageResult) -> pd.DataFrame:
    """The split feature table of a features stage, read from this workspace (a
    workspace-relative look-up: a copied workspace reads its own copy)."""
    return Workspace(workspace).read_table("features", features.id, "features")


@task(name="start-training-session", retries=2, retry_delay_seconds=2)
def start_session_task(
    workspace: str,
    dataset_id: str,
    features: StageResult,
    training: TrainingConfig,
    performance: PerformanceConfig,
) -> str:
    """Id of the session's parent run: the run of an earlier identical session (finished
    or interrupted), else a new one logging the budget and the feature table's splits."""
    key = session_key(features.id, training, performance)
    previous = find_run(workspace, dataset_id, {"evfleet.session_key": key}, finished=False)
    if previous is not None:
        return str(previous.info.run_id)
    return start_session_run(
        experiment_id(workspace, dataset_id),
        dataset_id=dataset_id,
        features_id=features.id,
        session_key=key,
        budget=training_budget(training, performance),
        table=feature_table(workspace, features),
    )


def _tune_cache_key(_ctx: TaskRunContext, params: dict[str, Any]) -> str | None:
    """Prefect cache key of a family's tuning, only while its MLflow run exists."""
    key = train_key(
        params["features"].id, params["family"], params["training"], params["performance"]
    )
    tags = {"evfleet.train_key": key, MLFLOW_PARENT_RUN_ID: params["session"]}
    found = find_run(params["workspace"], params["dataset_id"], tags)
    if found is None:
        return None
    root_tag = hashlib.sha256(str(Workspace(params["workspace"]).root).encode()).hexdigest()[:12]
    return f"evfleet-train-{key}-{root_tag}"


@task(name="tune-family", cache_key_fn=_tune_cache_key, persist_result=True, **IO_RETRIES)
def tune_family_task(
    workspace: str,
    dataset_id: str,
    features: StageResult,
    session: str,
    family: ModelFamily,
    training: TrainingConfig,
    performance: PerformanceConfig,
) -> FamilySummary:
    """Tune one family in its own MLflow run under the session's run (or reuse the run of
    an identical earlier call in the same session)."""
    logger = run_logger()
    key = train_key(features.id, family, training, performance)
    experiment = experiment_id(workspace, dataset_id)
    previous = find_run(
        workspace, dataset_id, {"evfleet.train_key": key, MLFLOW_PARENT_RUN_ID: session}
    )
    if previous is not None:
        logger.info("cache hit: %s already tuned in run %s", family.value, previous.info.run_id)
        return FamilySummary.from_run(previous)
    table = feature_table(workspace, features)
    run_id, result = log_family_run(
        experiment,
        session=session,
        family=family.value,
        dataset_id=dataset_id,
        features_id=features.id,
        train_key=key,
        budget=training_budget(training, performance),
        table=table,
        tune=lambda callbacks: tune_family(
            table,
            family,
            n_trials=training.n_trials,
            timeout_s=training.timeout_s,
            seed=training.seed,
            n_jobs=performance.n_workers,
            sample_fraction=performance.training_sample_fraction,
            target_transform=TARGET_TRANSFORM,
            callbacks=callbacks,
        ),
    )
    logger.info(
        "%s: valid MAE %.2f Wh, run %s",
        family.value,
        1000 * result.metrics["valid/uncalibrated"]["seg_kwh_mae"],
        run_id,
    )
    return FamilySummary.from_run(use_workspace(workspace).get_run(run_id))
