"""MLflow glue of training: what a session run and a family run log, and their summaries.

A session is one parent run in the dataset's experiment logging the budget and the rows of
every split as MLflow dataset inputs; each family's tuning is a child run (its Optuna
trials nested under it) logging parameters, metrics, plots and the model. Tasks pass
:class:`FamilySummary` / :class:`ChampionSummary` between them, never runs or DataFrames.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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

from evfleet.features import FEATURES, SPLIT_COLUMNS
from evfleet.features.catalog import TARGET
from evfleet.models import FamilyResult, importance_png, measure_throughput, pred_vs_actual_png
from evfleet.storage import TABLE_FILES
from tasks.mlflow_names import SELECTION_METRIC

THROUGHPUT_ROWS: Final = 100_000
SCHEMA_ROWS: Final = 1000
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


@dataclass(frozen=True)
class FamilySummary:
    """One family's tuning run: its family, MLflow run id, model URI and every metric
    (``<evaluation>/<predictor>/<metric>``, ``predict_rows_per_s``, ``tuning_s``, ...)."""

    family: str
    run_id: str
    model_uri: str
    metrics: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_run(cls, run: Any) -> FamilySummary:
        """The summary of a finished family run."""
        return cls(
            family=str(run.data.tags["evfleet.family"]),
            run_id=str(run.info.run_id),
            model_uri=str(run.data.tags["evfleet.model_uri"]),
            metrics={k: float(v) for k, v in run.data.metrics.items()},
        )

    def metric(self, name: str) -> float:
        """One metric (nan when the run did not log it)."""
        return float(self.metrics.get(name, math.nan))

    def record(self) -> dict[str, float | str]:
        """Family, run id and metrics as one flat record (the form
        :func:`~evfleet.models.select_champion` and the plots take)."""
        return {"family": self.family, "run_id": self.run_id, **self.metrics}


@dataclass(frozen=True)
class ChampionSummary:
    """The family a session registered: its version, the alias it earned and why."""

    summary: FamilySummary
    version: str
    model_name: str
    alias: str
    promotion: str

    @property
    def family(self) -> str:
        return self.summary.family

    @property
    def run_id(self) -> str:
        return self.summary.run_id

    def metric(self, name: str) -> float:
        """One metric of the registered family's run (nan when not logged)."""
        return self.summary.metric(name)


def start_session_run(
    experiment: str,
    *,
    dataset_id: str,
    features_id: str,
    session_key: str,
    budget: Mapping[str, Any],
    table: pd.DataFrame,
) -> str:
    """Open and close a session's parent run (budget, tags, split inputs); its run id."""
    with mlflow.start_run(experiment_id=experiment, run_name=f"train-{dataset_id}") as run:
        mlflow.set_tags(
            {
                "evfleet.kind": "session",
                "evfleet.dataset_id": dataset_id,
                "evfleet.features_id": features_id,
                "evfleet.session_key": session_key,
            }
        )
        mlflow.log_params(dict(budget))
        log_inputs(table, features_id)
    return str(run.info.run_id)


def log_family_run(
    experiment: str,
    *,
    session: str,
    family: str,
    dataset_id: str,
    features_id: str,
    train_key: str,
    budget: Mapping[str, Any],
    table: pd.DataFrame,
    tune: Callable[[list[Callable[..., None]]], FamilyResult],
) -> tuple[str, FamilyResult]:
    """Run ``tune`` (given the Optuna callbacks that log each trial as a nested run)
    inside a family run under ``session``; log its result. Returns the run id and result."""
    tags = {
        MLFLOW_PARENT_RUN_ID: session,
        "evfleet.family": family,
        "evfleet.dataset_id": dataset_id,
        "evfleet.features_id": features_id,
        "evfleet.kind": "family",
    }
    with mlflow.start_run(experiment_id=experiment, run_name=family, tags=tags) as run:
        log_inputs(table, features_id)
        result = tune([_trial_logger(experiment, family)])
        model_uri = _log_result(result, table, dict(budget))
        mlflow.set_tags({"evfleet.model_uri": model_uri, "evfleet.train_key": train_key})
    return str(run.info.run_id), result


def log_inputs(table: pd.DataFrame, features_id: str) -> None:
    """Log the rows of each split as MLflow datasets of the active run: named by the
    feature stage id, digested by stage id and split, sourced by their workspace-relative
    path, the split as context (the runs page's Dataset column)."""
    source = Path("features", features_id, TABLE_FILES["features"]["features"])
    columns = [*FEATURES, TARGET]
    for scheme, split in INPUT_SPLITS:
        context = split if scheme == "vehicle" else f"{scheme}_{split}"
        rows = table.loc[table[SPLIT_COLUMNS[scheme]].to_numpy() == split, columns]
        digest = hashlib.sha256(f"{features_id}:{scheme}:{split}".encode()).hexdigest()[:10]
        with warnings.catch_warnings():  # a relative path could be several source kinds
            warnings.simplefilter("ignore", UserWarning)
            resolved = resolve_dataset_source(str(source))
        dataset = SplitDataset(rows, source=resolved, name=features_id, digest=digest)
        mlflow.log_input(
            dataset, context=context, tags={"evfleet.split": f"{SPLIT_COLUMNS[scheme]}={split}"}
        )


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
