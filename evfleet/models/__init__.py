"""Per-segment energy models: five families tuned with Optuna, metrics, batch inference.

Public API::

    result = tune_family(table, "lightgbm", n_trials=20, timeout_s=120, seed=42)
    result.model.predict_energy(X)              # kWh/km and kWh per row
    predict_network(model, edges, context)      # per-edge kWh for one context
    predict_route(model, route_edges, context)  # one planned route (standstill at its ends)

Pure library: no MLflow or Prefect here (the tasks layer logs and registers).
"""

from __future__ import annotations

from evfleet.models.calibration import calibrated_kwh_per_km, calibration_factors, vehicle_factor
from evfleet.models.energy_model import TARGET_TRANSFORMS, EnergyModel
from evfleet.models.families import FAMILIES, get_family
from evfleet.models.inference import (
    measure_throughput,
    predict_network,
    predict_route,
    route_features,
)
from evfleet.models.metrics import (
    evaluate,
    permutation_importance,
    regression_metrics,
    select_champion,
)
from evfleet.models.plots import importance_png, pred_vs_actual_png
from evfleet.models.training import (
    FamilyResult,
    fit_model,
    refit_model,
    split_frames,
    tune_family,
)

__all__ = [
    "FAMILIES",
    "TARGET_TRANSFORMS",
    "EnergyModel",
    "FamilyResult",
    "calibrated_kwh_per_km",
    "calibration_factors",
    "evaluate",
    "fit_model",
    "get_family",
    "importance_png",
    "measure_throughput",
    "permutation_importance",
    "pred_vs_actual_png",
    "predict_network",
    "predict_route",
    "refit_model",
    "regression_metrics",
    "route_features",
    "select_champion",
    "split_frames",
    "tune_family",
    "vehicle_factor",
]
