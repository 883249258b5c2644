"""The MLflow names the studio relies on, in one place.

Experiment, registered-model, tag, metric and artifact names written by
``tasks/mlflow_train.py`` and ``tasks/mlflow_utils.py``. When training renames one, change it
here only; the Model Training page reads every name through this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tasks import mlflow_names

EXPERIMENT_PREFIX: Final = mlflow_names.EXPERIMENT_PREFIX
REGISTERED_MODEL: Final = mlflow_names.REGISTERED_MODEL
ALIASES: Final = (mlflow_names.CHAMPION_ALIAS, mlflow_names.CHALLENGER_ALIAS)
TAG_KIND: Final = "evfleet.kind"
KIND_FAMILY: Final = "family"
TAG_FAMILY: Final = "evfleet.family"
TAG_DATASET: Final = "evfleet.dataset_id"
TAG_PARENT: Final = "mlflow.parentRunId"
TRIAL_NUMBER_TAG: Final = "optuna.trial"
SELECTION_METRIC: Final = mlflow_names.SELECTION_METRIC
IMPORTANCE_ARTIFACT: Final = "plots/feature_importance.csv"
PRED_VS_ACTUAL_ARTIFACT: Final = "plots/pred_vs_actual.png"


@dataclass(frozen=True)
class Metric:
    """How a logged metric is shown: label, scale factor and whether lower is better."""

    label: str
    scale: float = 1.0
    lower_is_better: bool = True


METRICS: Final = {
    SELECTION_METRIC: Metric("validation MAE (Wh/segment)", 1000.0),
    "test/calibrated/seg_kwh_mae": Metric("test MAE (Wh/segment)", 1000.0),
    "test/calibrated/seg_kwh_per_km_r2": Metric("test R² kWh/km", lower_is_better=False),
    "test/calibrated/seg_kwh_r2": Metric("test R² kWh", lower_is_better=False),
    "test/calibrated/trip_kwh_mape": Metric("test trip MAPE %"),
    "test/calibrated/trip_kwh_wape": Metric("test trip WAPE %"),
    "test/physics_prior/trip_kwh_mape": Metric("physics-prior baseline trip MAPE %"),
    "time_test/calibrated/seg_kwh_r2": Metric("last-days R² kWh", lower_is_better=False),
    "time_test/calibrated/trip_kwh_mape": Metric("last-days trip MAPE %"),
    "predict_rows_per_s": Metric("inference (M rows/s)", 1e-6, lower_is_better=False),
    "tuning_s": Metric("tuning time (s)"),
}
"""Metrics of a family run shown in the comparison, in display order."""

NOISE_FLOOR: Final = {
    "test/calibrated/seg_kwh_r2": ("segment kWh", "r2_ceiling"),
    "test/calibrated/seg_kwh_per_km_r2": ("segment kWh/km", "r2_ceiling"),
    "test/calibrated/trip_kwh_mape": ("trip kWh", "mape_floor"),
    "test/calibrated/trip_kwh_wape": ("trip kWh", "wape_floor"),
}
"""Metric -> (level, column) of the noise-floor table of ``bench/bench_noise_floor.py``:
the best any model can score on the same held-out vehicles."""
