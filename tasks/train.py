"""Training stage tasks: features, a training session, per-family tuning (MLflow-tracked).

The feature table is a workspace stage (``features/<id>/``, keyed on the dataset id and the
split seed). A training session is one parent MLflow run in the dataset's experiment (keyed
on the features and the budget); each family's tuning is a child run of it (Optuna trials
nested under the family), found again by its ``evfleet.train_key`` tag on a re-run with
the same inputs, so a cached family is not retrained. Every family run logs the rows it
was trained, tuned and tested on as MLflow dataset inputs. Registration and the session's
closing report are in :mod:`tasks.registry`. Tasks hand ids and small summaries to each
other, never DataFrames.
"""

from __future__ import annotations

import hashlib
import tempfile
import warnings
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import mlflow
import mlflow.sklearn
import numpy as np
import optuna
import pandas as pd
from mlflow.data.dataset_source_registry import resolve_dataset_source
from mlflow.data.pandas_dataset import PandasDataset
from mlflow.models import infer_signature
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from prefect import task
from prefect.context import TaskRunContext

from evfleet.config import ModelFamily, PerformanceConfig, TrainingConfig
from evfleet.features import (
    FEATURES,
    SPLIT_COLUMNS,
    assign_splits,
    build_features,
    daily_history_table,
)
from evfleet.features.catalog import TARGET
from evfleet.models import (
    FamilyResult,
    importance_png,
    measure_throughput,
    pred_vs_actual_png,
    tune_family,
)
from evfleet.storage import Workspace, read_table, source_fingerprint, stage_id, write_parquet
from tasks.common import IO_RETRIES, StageResult, reuse, run_logger, stage_cache_key
from tasks.mlflow_names import SELECTION_METRIC
from tasks.mlflow_utils import experiment_id, find_run, use_workspace

FEATURE_SOURCES: Final = ("evfleet.features", "evfleet.physics", "evfleet.fleet.network_adapter")
"""Code defining the features, their split and physics priors: editing it changes the id."""
TRAIN_VERSION: Final = 3
"""Bump when tuning or evaluation changes, so cached family runs are retrained.
3: tuning on rows before the held-out days; metrics named ``<evaluation>/<predictor>/<m>``."""
TARGET_TRANSFORM: Final = "physics_residual"
THROUGHPUT_ROWS: Final = 100_000
SCHEMA_ROWS: Final = 1000
FEATURE_FILE: Final = "features.parquet"
DAILY_FILE: Final = "daily_history.parquet"
INPUT_SPLITS: Final = (("vehicle", "train"), ("vehicle", "valid"), ("vehicle", "test"),
                       ("time", "test"))  # fmt: skip
"""Row sets logged as each family run's MLflow inputs (context: ``train``, ``valid``,
``test`` of the vehicle split; ``time_test`` for the held-out days)."""
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


def _network_table(ws: Workspace, dataset_id: str, name: str) -> pd.DataFrame | None:
    network = ws.manifest("datasets", dataset_id).get("network_id")
    if not network or not ws.is_complete("network", str(network)):
        return None
    return read_table(ws.stage_dir("network", str(network)) / f"{name}.parquet")


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
        nodes=_network_table(ws, dataset_id, "nodes"),
        edges=_network_table(ws, dataset_id, "edges"),
    )
    table = assign_splits(table, seed=training.seed)
    counts = {col: table[col].value_counts().to_dict() for col in ("split_vehicle", "split_time")}
    meta = {"dataset_id": dataset_id, "rows": len(table), "features": list(FEATURES), **counts}
    with ws.stage_writer("features", sid, meta=meta) as tmp:
        write_parquet(table, tmp / FEATURE_FILE)
        write_parquet(daily_history_table(table), tmp / DAILY_FILE)
    run_logger().info("features %s: %d rows, splits %s", sid, len(table), counts)
    return StageResult("features", sid, str(ws.stage_dir("features", sid)), reused=False)


def _budget(training: TrainingConfig, performance: PerformanceConfig) -> dict[str, Any]:
    return {
        "n_trials": training.n_trials,
        "timeout_s": training.timeout_s,
        "seed": training.seed,
        "sample_fraction": performance.training_sample_fraction,
        "target_transform": TARGET_TRANSFORM,
    }


def train_key(
    features: StageResult,
    family: ModelFamily,
    training: TrainingConfig,
    performance: PerformanceConfig,
) -> str:
    """Cache key of one family's tuning: its inputs and budget."""
    config = {"family": family.value, **_budget(training, performance)}
    return stage_id("train", config, inputs=[features.id], schema_version=TRAIN_VERSION)


def session_key(
    features: StageResult, training: TrainingConfig, performance: PerformanceConfig
) -> str:
    """Key of a training session: the feature table and the budget (families may be added
    to a session later; each family run is cached on its own :func:`train_key`)."""
    return stage_id(
        "train-session",
        _budget(training, performance),
        inputs=[features.id],
        schema_version=TRAIN_VERSION,
    )


class SplitDataset(PandasDataset):
    """The rows of one split as an MLflow dataset (profile of every row, target column
    :data:`TARGET`), its schema inferred from :data:`SCHEMA_ROWS` rows: MLflow infers a
    pandas schema row by row in Python (27 s for 116,000 rows measured here)."""

    def __init__(self, rows: pd.DataFrame, *, source: Any, name: str, digest: str) -> None:
        super().__init__(df=rows, source=source, targets=TARGET, name=name, digest=digest)

    @cached_property
    def schema(self) -> Any:
        """Column types of the split (from its first rows)."""
        return infer_signature(self.df.head(SCHEMA_ROWS)).inputs


def feature_table(workspace: str, features: StageResult) -> pd.DataFrame:
    """The split feature table of a features stage, read from this workspace (a
    workspace-relative look-up: a copied workspace reads its own copy)."""
    return read_table(Workspace(workspace).stage_dir("features", features.id) / FEATURE_FILE)


def _log_inputs(table: pd.DataFrame, features: StageResult) -> None:
    """Log the rows of each split as MLflow datasets of the active run: named by the
    feature stage id, digested by stage id and split, sourced by their workspace-relative
    path, the split as context (the runs page's Dataset column)."""
    source = Path("features", features.id, FEATURE_FILE)
    columns = [*FEATURES, TARGET]
    for scheme, split in INPUT_SPLITS:
        context = split if scheme == "vehicle" else f"{scheme}_{split}"
        rows = table.loc[table[SPLIT_COLUMNS[scheme]].to_numpy() == split, columns]
        digest = hashlib.sha256(f"{features.id}:{scheme}:{split}".encode()).hexdigest()[:10]
        with warnings.catch_warnings():  # a relative path could be several source kinds
            warnings.simplefilter("ignore", UserWarning)
            resolved = resolve_dataset_source(str(source))
        dataset = SplitDataset(rows, source=resolved, name=features.id, digest=digest)
        mlflow.log_input(
            dataset, context=context, tags={"evfleet.split": f"{SPLIT_COLUMNS[scheme]}={split}"}
        )


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
    key = session_key(features, training, performance)
    previous = find_run(workspace, dataset_id, {"evfleet.session_key": key}, finished=False)
    if previous is not None:
        return str(previous.info.run_id)
    experiment = experiment_id(workspace, dataset_id)
    table = feature_table(workspace, features)
    with mlflow.start_run(experiment_id=experiment, run_name=f"train-{dataset_id}") as run:
        mlflow.set_tags(
            {
                "evfleet.kind": "session",
                "evfleet.dataset_id": dataset_id,
                "evfleet.features_id": features.id,
                "evfleet.session_key": key,
            }
        )
        mlflow.log_params(_budget(training, performance))
        _log_inputs(table, features)
    return str(run.info.run_id)


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


def input_example(table: pd.DataFrame) -> pd.DataFrame:
    """A few feature rows as the model's MLflow input example (categories as strings)."""
    rows = table.loc[:, list(FEATURES)].dropna().head(5)
    rows = rows if len(rows) else table.loc[:, list(FEATURES)].head(5)
    return rows.astype({c: str for c in rows.columns if rows[c].dtype.kind not in "fiub"})


def _log_result(result: FamilyResult, table: pd.DataFrame, budget: dict[str, Any]) -> str:
    """Log params, metrics, plots and the model into the active run; return the model URI."""
    states = pd.Series([t.state.name for t in result.study.trials]).value_counts().to_dict()
    mlflow.log_params({**budget, **{f"best_{k}": v for k, v in result.params.items()}})
    metrics = {f"{group}/{k}": v for group, ms in result.metrics.items() for k, v in ms.items()}
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
    example = input_example(table)
    info = mlflow.sklearn.log_model(
        result.model,
        name="model",
        serialization_format="cloudpickle",
        signature=infer_signature(example, result.model.predict(example)),
        input_example=example,
        pip_requirements=list(_PIP_REQUIREMENTS),
    )
    return str(info.model_uri)


def _summary(run: Any) -> dict[str, Any]:
    """Family, run id, model URI and every metric of a family run."""
    return {
        "family": run.data.tags["evfleet.family"],
        "run_id": run.info.run_id,
        "model_uri": run.data.tags["evfleet.model_uri"],
        **run.data.metrics,
    }


def _tune_cache_key(_ctx: TaskRunContext, params: dict[str, Any]) -> str | None:
    """Prefect cache key of a family's tuning, only while its MLflow run exists."""
    key = train_key(params["features"], params["family"], params["training"], params["performance"])
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
) -> dict[str, Any]:
    """Tune one family in its own MLflow run under the session's run (or reuse the run of
    an identical earlier call in the same session)."""
    logger = run_logger()
    key = train_key(features, family, training, performance)
    experiment = experiment_id(workspace, dataset_id)
    previous = find_run(
        workspace, dataset_id, {"evfleet.train_key": key, MLFLOW_PARENT_RUN_ID: session}
    )
    if previous is not None:
        logger.info("cache hit: %s already tuned in run %s", family.value, previous.info.run_id)
        return _summary(previous)
    table = feature_table(workspace, features)
    budget = _budget(training, performance)
    tags = {
        MLFLOW_PARENT_RUN_ID: session,
        "evfleet.family": family.value,
        "evfleet.dataset_id": dataset_id,
        "evfleet.features_id": features.id,
        "evfleet.kind": "family",
    }
    with mlflow.start_run(experiment_id=experiment, run_name=family.value, tags=tags) as run:
        _log_inputs(table, features)
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
        1000 * result.metrics["valid/uncalibrated"]["seg_kwh_mae"],
        run.info.run_id,
    )
    return _summary(use_workspace(workspace).get_run(run.info.run_id))
