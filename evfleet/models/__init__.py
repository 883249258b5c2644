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
from evfleet.models.card import PROMOTION_METRIC, beats, feature_set_hash, model_card
from evfleet.models.energy_model import TARGET_TRANSFORMS, EnergyModel
from evfleet.models.families import FAMILIES, get_family, middle_params
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
from evfleet.models.plots import family_comparison_png, importance_png, pred_vs_actual_png
from evfleet.models.training import (
    EVALUATIONS,
    PREDICTORS,
    FamilyResult,
    fit_model,
    refit_model,
    score_held_out_vehicles,
    split_frames,
    tune_family,
)

__all__ = [
    "EVALUATIONS",
    "FAMILIES",
    "PREDICTORS",
    "PROMOTION_METRIC",
    "TARGET_TRANSFORMS",
    "EnergyModel",
    "FamilyResult",
    "beats",
    "calibrated_kwh_per_km",
    "calibration_factors",
    "evaluate",
    "family_comparison_png",
    "feature_set_hash",
    "fit_model",
    "get_family",
    "importance_png",
    "measure_throughput",
    "middle_params",
    "model_card",
    "permutation_importance",
    "pred_vs_actual_png",
    "predict_network",
    "predict_route",
    "refit_model",
    "regression_metrics",
    "route_features",
    "score_held_out_vehicles",
    "select_champion",
    "split_frames",
    "tune_family",
    "vehicle_factor",
]
