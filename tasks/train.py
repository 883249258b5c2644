"""Training stage tasks: features, per-family tuning (MLflow-tracked), champion registration.

The feature table is a workspace stage (``features/<id>/``, keyed on the dataset id and the
split seed). Each family's tuning is one MLflow run (Optuna trials as nested runs) in the
dataset's experiment, found again by its ``evfleet.train_key`` tag on a re-run with the
same inputs, so a cached family is not retrained. Tasks hand ids and small summaries to
each other, never DataFrames.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any, Final

import mlflow
import mlflow.sklearn
import numpy as np
import optuna
import pandas as pd
from mlflow.models import infer_signature
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import TaskRunContext

from evfleet.config import ModelFamily, PerformanceConfig, TrainingConfig
from evfleet.errors import InputDataError
from evfleet.features import (
    FEATURES,
    assign_splits,
    build_features,
    daily_history_table,
)
from evfleet.models import (
    FamilyResult,
    importance_png,
    measure_throughput,
    pred_vs_actual_png,
    select_champion,
    tune_family,
)
from evfleet.storage import Workspace, read_table, source_fingerprint, stage_id, write_parquet
from tasks.common import IO_RETRIES, StageResult, reuse, run_logger, stage_cache_key
from tasks.mlflow_utils import (
    CHAMPION_ALIAS,
    REGISTERED_MODEL,
    experiment_id,
    find_run,
    use_workspace,
)

FEATURE_SOURCES: Final = ("evfleet.features", "evfleet.physics")
"""Code that defines the features (and their physics priors): editing it changes the id."""
TRAIN_VERSION: Final = 2
"""Bump when tuning or evaluation changes, so cached family runs are retrained."""
TARGET_TRANSFORM: Final = "physics_residual"
THROUGHPUT_ROWS: Final = 100_000
FEATURE_FILE: Final = "features.parquet"
DAILY_FILE: Final = "daily_history.parquet"
SELECTION_METRIC: Final = "valid_seg_kwh_mae"
_PIP_REQUIREMENTS: Final = (
    "scikit-learn",
    "xgboost-cpu",
    "lightgbm",
    "catboost",
    "pandas",
    "numpy",
)


def features_id(dataset_id: str, training: TrainingConfig) -> str:
    """Stage id of the feature table of a dataset (splits depend on the training seed)
    and of the feature code."""
    return stage_id(
        "features",
        {"split_seed": training.seed},
        inputs=[dataset_id],
        extra={"code": source_fingerprint(*FEATURE_SOURCES)},
    )


def _dataset_table(ws: Workspace, dataset_id: str, name: str) -> pd.DataFrame:
    folder = ws.stage_dir("datasets", dataset_id)
    path = folder / f"{name}.parquet"
    return read_table(path if path.exists() else folder / name)


def _network_nodes(ws: Workspace, dataset_id: str) -> pd.DataFrame | None:
    network = ws.manifest("datasets", dataset_id).get("network_id")
    if not network or not ws.is_complete("network", str(network)):
        return None
    return read_table(ws.stage_dir("network", str(network)) / "nodes.parquet")


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
    cached = reuse(ws, "features", sid)
    if cached is not None:
        return cached
    ws.resolve("datasets", dataset_id)
    table = build_features(
        _dataset_table(ws, dataset_id, "segments"),
        _dataset_table(ws, dataset_id, "fleet_info"),
        _dataset_table(ws, dataset_id, "weather"),
        nodes=_network_nodes(ws, dataset_id),
    )
    table = assign_splits(table, seed=training.seed)
    counts = {col: table[col].value_counts().to_dict() for col in ("split_vehicle", "split_time")}
    meta = {"dataset_id": dataset_id, "rows": len(table), "features": list(FEATURES), **counts}
    with ws.stage_writer("features", sid, meta=meta) as tmp:
        write_parquet(table, tmp / FEATURE_FILE)
        write_parquet(daily_history_table(table), tmp / DAILY_FILE)
    run_logger().info("features %s: %d rows, splits %s", sid, len(table), counts)
    return StageResult("features", sid, str(ws.stage_dir("features", sid)), reused=False)


def train_key(
    features: StageResult,
    family: ModelFamily,
    training: TrainingConfig,
    performance: PerformanceConfig,
) -> str:
    """Cache key of one family's tuning: its inputs and budget."""
    config = {
        "family": family.value,
        "n_trials": training.n_trials,
        "timeout_s": training.timeout_s,
        "seed": training.seed,
        "sample_fraction": performance.training_sample_fraction,
        "target_transform": TARGET_TRANSFORM,
    }
    return stage_id("train", config, inputs=[features.id], schema_version=TRAIN_VERSION)


def _trial_logger(experiment: str, family: str) -> Any:
    def log(_study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        with mlflow.start_run(
            experiment_id=experiment, run_name=f"{family}-trial-{trial.number:03d}", nested=True
        ):
            mlflow.set_tags(
                {
                    "evfleet.family": family,
                    "optuna.trial": str(trial.number),
                    "optuna.state": trial.state.name,
                }
            )
            mlflow.log_params(trial.params)
            if trial.value is not None:
                mlflow.log_metric(SELECTION_METRIC, trial.value)
            if trial.duration is not None:
                mlflow.log_metric("duration_s", trial.duration.total_seconds())

    return log


def _input_example(table: pd.DataFrame) -> pd.DataFrame:
    rows = table.loc[:, list(FEATURES)].dropna().head(5)
    rows = rows if len(rows) else table.loc[:, list(FEATURES)].head(5)
    return rows.astype({c: str for c in rows.columns if rows[c].dtype.kind not in "fiub"})


def _log_result(result: FamilyResult, table: pd.DataFrame, budget: dict[str, Any]) -> str:
    """Log params, metrics, plots and the model into the active run; return the model URI."""
    states = pd.Series([t.state.name for t in result.study.trials]).value_counts().to_dict()
    mlflow.log_params({**budget, **{f"best_{k}": v for k, v in result.params.items()}})
    metrics = {f"{split}_{k}": v for split, ms in result.metrics.items() for k, v in ms.items()}
    metrics |= {f"trials_{s.lower()}": float(n) for s, n in states.items()}
    sample = table.loc[:, list(FEATURES)].sample(n=THROUGHPUT_ROWS, replace=True, random_state=0)
    metrics["predict_rows_per_s"] = measure_throughput(result.model, sample)
    metrics["tuning_s"] = result.tuning_s
    mlflow.log_metrics({k: float(v) for k, v in metrics.items() if np.isfinite(v)})
    with tempfile.TemporaryDirectory() as tmp:
        title = f"{result.family}: held-out vehicles"
        importance_png(result.importances, Path(tmp) / "feature_importance.png", title=title)
        pred_vs_actual_png(result.test_predictions, Path(tmp) / "pred_vs_actual.png", title=title)
        result.importances.to_csv(Path(tmp) / "feature_importance.csv")
        mlflow.log_artifacts(tmp, "plots")
    example = _input_example(table)
    info = mlflow.sklearn.log_model(
        result.model,
        name="model",
        serialization_format="cloudpickle",
        signature=infer_signature(example, result.model.predict(example)),
        input_example=example,
        pip_requirements=list(_PIP_REQUIREMENTS),
    )
    return str(info.model_uri)


SUMMARY_METRICS: Final = (
    SELECTION_METRIC,
    "test_seg_kwh_mae",
    "test_seg_kwh_per_km_r2",
    "test_seg_kwh_r2",
    "test_trip_kwh_mape",
    "test_trip_kwh_wape",
    "baseline_test_trip_kwh_mape",
    "time_test_seg_kwh_r2",
    "time_test_trip_kwh_mape",
    "time_test_trip_kwh_wape",
    "predict_rows_per_s",
    "trials_complete",
    "trials_pruned",
    "tuning_s",
)
"""Metrics carried from each family's run into the comparison."""


def _summary(run: Any) -> dict[str, Any]:
    m = run.data.metrics
    return {
        "family": run.data.tags["evfleet.family"],
        "run_id": run.info.run_id,
        "model_uri": run.data.tags["evfleet.model_uri"],
        **{k: m.get(k, float("nan")) for k in SUMMARY_METRICS},
    }


def _tune_cache_key(_ctx: TaskRunContext, params: dict[str, Any]) -> str | None:
    """Prefect cache key of a family's tuning, only while its MLflow run exists."""
    key = train_key(params["features"], params["family"], params["training"], params["performance"])
    found = find_run(params["workspace"], params["dataset_id"], {"evfleet.train_key": key})
    if found is None:
        return None
    root_tag = hashlib.sha256(str(Workspace(params["workspace"]).root).encode()).hexdigest()[:12]
    return f"evfleet-train-{key}-{root_tag}"


@task(name="tune-family", cache_key_fn=_tune_cache_key, persist_result=True, **IO_RETRIES)
def tune_family_task(
    workspace: str,
    dataset_id: str,
    features: StageResult,
    family: ModelFamily,
    training: TrainingConfig,
    performance: PerformanceConfig,
) -> dict[str, Any]:
    """Tune one family in its own MLflow run (or reuse the run of an identical earlier call)."""
    logger = run_logger()
    key = train_key(features, family, training, performance)
    experiment = experiment_id(workspace, dataset_id)
    previous = find_run(workspace, dataset_id, {"evfleet.train_key": key})
    if previous is not None:
        logger.info("cache hit: %s already tuned in run %s", family.value, previous.info.run_id)
        return _summary(previous)
    table = read_table(Path(features.path) / FEATURE_FILE)
    budget = {
        "n_trials": training.n_trials,
        "timeout_s": training.timeout_s,
        "seed": training.seed,
        "sample_fraction": performance.training_sample_fraction,
        "target_transform": TARGET_TRANSFORM,
    }
    with mlflow.start_run(experiment_id=experiment, run_name=family.value) as run:
        mlflow.set_tags(
            {
                "evfleet.family": family.value,
                "evfleet.dataset_id": dataset_id,
                "evfleet.features_id": features.id,
                "evfleet.kind": "family",
            }
        )
        result = tune_family(
            table,
            family,
            n_trials=training.n_trials,
            timeout_s=training.timeout_s,
            seed=training.seed,
            n_jobs=performance.n_workers,
            sample_fraction=performance.training_sample_fraction,
            target_transform=TARGET_TRANSFORM,
            callbacks=[_trial_logger(experiment, family.value)],
        )
        model_uri = _log_result(result, table, budget)
        mlflow.set_tags({"evfleet.model_uri": model_uri, "evfleet.train_key": key})
    logger.info(
        "%s: valid MAE %.2f Wh, run %s",
        family.value,
        1000 * result.metrics["valid"]["seg_kwh_mae"],
        run.info.run_id,
    )
    return _summary(use_workspace(workspace).get_run(run.info.run_id))


@task(name="register-champion", **IO_RETRIES)
def register_champion_task(
    workspace: str, dataset_id: str, summaries: list[dict[str, Any]], tolerance: float = 0.0
) -> dict[str, Any]:
    """Register the family with the lowest validation MAE (the fastest among families
    within ``tolerance`` of it) and give it the champion alias."""
    if not summaries:
        msg = "no model family was trained; set training.models"
        raise InputDataError(msg)
    best = select_champion(
        summaries, metric=SELECTION_METRIC, speed="predict_rows_per_s", tolerance=tolerance
    )
    client = use_workspace(workspace)
    existing = client.search_model_versions(
        f"name='{REGISTERED_MODEL}' and run_id='{best['run_id']}'"
    )
    if existing:
        version = existing[0]
    else:
        version = mlflow.register_model(
            best["model_uri"],
            REGISTERED_MODEL,
            tags={
                "evfleet.dataset_id": dataset_id,
                "evfleet.family": best["family"],
                "evfleet.run_id": best["run_id"],
            },
        )
    client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION_ALIAS, str(version.version))
    run_logger().info("champion: %s v%s", best["family"], version.version)
    return {**best, "version": str(version.version), "model_name": REGISTERED_MODEL}


@task(name="training-report")
def comparison_artifact_task(summaries: list[dict[str, Any]], champion: dict[str, Any]) -> None:
    """Publish the family comparison as a Prefect table and the champion as markdown."""
    rows = [
        {
            "family": s["family"] + (" (champion)" if s["run_id"] == champion["run_id"] else ""),
            "valid MAE (Wh)": round(1000 * s[SELECTION_METRIC], 2),
            "test R2 kWh/km": round(s["test_seg_kwh_per_km_r2"], 4),
            "test R2 kWh": round(s["test_seg_kwh_r2"], 4),
            "test trip MAPE %": round(s["test_trip_kwh_mape"], 2),
            "time-split trip MAPE %": round(s["time_test_trip_kwh_mape"], 2),
            "rows/s": int(s["predict_rows_per_s"]),
        }
        for s in sorted(summaries, key=lambda s: s[SELECTION_METRIC])
    ]
    create_table_artifact(rows, key="energy-model-comparison", description="Model families")
    create_markdown_artifact(
        f"# Energy model champion\n\n**{champion['family']}** registered as "
        f"`{champion['model_name']}` v{champion['version']} (alias `{CHAMPION_ALIAS}`): "
        f"validation MAE {1000 * champion[SELECTION_METRIC]:.2f} Wh per segment, held-out "
        f"vehicles trip MAPE {champion['test_trip_kwh_mape']:.2f} %, segment R2 (kWh/km) "
        f"{champion['test_seg_kwh_per_km_r2']:.3f}.",
        key="energy-model-champion",
    )
