"""Model card of a registered energy model, and the promotion rule.

The card is the description MLflow shows on a registered model version: what the model
was trained on, how it was evaluated, how it compares with the physics prior alone (the
prediction without learning) on the same held-out rows, and how fast it predicts.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Final

import pandas as pd

from evfleet.features.catalog import FEATURES
from evfleet.units import WH_PER_KWH

HELD_OUT: Final = (("test", "held-out vehicles"), ("time_test", "held-out last days"))
PREDICTOR_LABELS: Final = (
    ("calibrated", "model, calibrated per vehicle (deployed)"),
    ("uncalibrated", "model alone"),
    ("physics_prior", "physics prior only (no learning)"),
    ("train_mean", "training mean kWh/km"),
)
CARD_METRICS: Final = (
    ("seg_kwh_per_km_r2", "segment R² kWh/km", "{:.3f}"),
    ("seg_kwh_r2", "segment R² kWh", "{:.3f}"),
    ("seg_kwh_mae", "segment MAE Wh", "{:.2f}"),
    ("trip_kwh_mape", "trip MAPE %", "{:.2f}"),
    ("trip_kwh_wape", "trip WAPE %", "{:.2f}"),
)
PROMOTION_METRIC: Final = "test/calibrated/seg_kwh_mae"
"""Held-out-vehicle segment-energy MAE (kWh) on which a new model must beat the champion."""


def feature_set_hash(dtypes: pd.Series) -> str:
    """Short hash of the model's input columns and their dtypes (in model order)."""
    text = ";".join(f"{name}:{dtypes[name]}" for name in FEATURES)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def beats(candidate: float, incumbent: float) -> bool:
    """Whether a candidate's error (lower is better) beats the incumbent's strictly.

    A ``nan`` incumbent (it cannot be evaluated on the new rows) is beaten by any finite
    candidate; a ``nan`` candidate beats nothing.
    """
    if math.isnan(candidate):
        return False
    return math.isnan(incumbent) or candidate < incumbent


def _cell(metrics: Mapping[str, float], key: str, fmt: str, scale: float) -> str:
    value = metrics.get(key, float("nan"))
    return "–" if not math.isfinite(value) else fmt.format(value * scale)


def metrics_table(metrics: Mapping[str, float]) -> str:
    """Markdown table of the held-out metrics of every predictor (flat metric names)."""
    head = "| rows | predictor | " + " | ".join(label for _, label, _ in CARD_METRICS) + " |"
    lines = [head, "|" + "---|" * (2 + len(CARD_METRICS))]
    for evaluation, rows in HELD_OUT:
        if f"{evaluation}/calibrated/seg_kwh_mae" not in metrics:
            continue
        for predictor, label in PREDICTOR_LABELS:
            cells = [
                _cell(
                    metrics,
                    f"{evaluation}/{predictor}/{key}",
                    fmt,
                    WH_PER_KWH if key == "seg_kwh_mae" else 1.0,
                )
                for key, _, fmt in CARD_METRICS
            ]
            lines.append(f"| {rows} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def model_card(
    *,
    family: str,
    dataset_id: str,
    features_id: str,
    feature_hash: str,
    split_rule: str,
    metrics: Mapping[str, float],
    noise_ceiling: str | None,
    promotion: str,
) -> str:
    """Markdown description of a registered model version.

    ``metrics`` holds the family run's flat metric names
    (``<evaluation>/<predictor>/<metric>``, plus ``predict_rows_per_s``).
    """
    speed = metrics.get("predict_rows_per_s", float("nan"))
    speed_text = f"{speed / 1e6:.2f} M rows/s" if math.isfinite(speed) else "not measured"
    return "\n".join(
        [
            f"# Segment energy model: {family}",
            "",
            "Predicts energy per km (kWh/km) of a road segment from what is known before "
            "driving it (route, vehicle, driver, planned time, weather forecast, the "
            "vehicle's earlier days); the regressor learns the residual over the physics "
            "prior feature.",
            "",
            f"- **Dataset**: `{dataset_id}`; feature table `{features_id}` "
            f"({len(FEATURES)} features, feature-set hash `{feature_hash}`)",
            f"- **Split rule**: {split_rule}",
            f"- **Inference speed**: {speed_text} (batch prediction, compiled trees)",
            f"- **Noise ceiling**: {noise_ceiling or 'not measured for this dataset'}",
            f"- **Promotion**: {promotion}",
            "",
            "## Held-out metrics",
            "",
            "The physics prior and the training mean are scored on the same rows: what "
            "learning adds is the gap to them.",
            "",
            metrics_table(metrics),
        ]
    )
