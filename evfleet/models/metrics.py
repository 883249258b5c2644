"""Accuracy metrics at segment and trip level, and model-agnostic feature importance.

Segment metrics are computed on kWh/km and on kWh; trip metrics compare the sum of a
trip's predicted segment energies with the trip's true energy. MAPE ignores rows whose
true value is below 5 % of the mean absolute true value (near-zero energies, e.g. gentle
descents, would make the ratio meaningless); SMAPE uses every row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import pandas as pd

from evfleet.features.catalog import ENERGY, TARGET
from evfleet.units import M_PER_KM

MAPE_FLOOR_SHARE: Final = 0.05


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, R², MAPE (%), SMAPE (%) and WAPE (%) of ``y_pred`` against ``y_true``.

    WAPE is the total absolute error over the total absolute truth (a MAPE weighted by
    size, robust to near-zero truths).
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    err = y_pred - y_true
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    floor = MAPE_FLOOR_SHARE * float(np.mean(np.abs(y_true)))
    big = np.abs(y_true) >= floor
    denom = np.abs(y_true) + np.abs(y_pred)
    smape = np.divide(2 * np.abs(err), denom, out=np.zeros_like(err), where=denom > 0)
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "r2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan"),
        "mape": float(100 * np.mean(np.abs(err[big] / y_true[big]))) if big.any() else float("nan"),
        "smape": float(100 * np.mean(smape)),
        "wape": float(100 * np.sum(np.abs(err)) / max(float(np.sum(np.abs(y_true))), 1e-12)),
    }


def evaluate(table: pd.DataFrame, kwh_per_km_pred: np.ndarray) -> dict[str, float]:
    """Segment (kWh/km and kWh) and trip (kWh) metrics of predictions for ``table`` rows.

    ``table`` needs ``trip_id``, ``length_m``, ``energy_kwh`` and ``kwh_per_km``. Keys are
    ``seg_kwh_per_km_<m>``, ``seg_kwh_<m>`` and ``trip_kwh_<m>`` for each metric ``m``.
    """
    km = table["length_m"].to_numpy(dtype=np.float64) / M_PER_KM
    pred_kwh = np.asarray(kwh_per_km_pred, dtype=np.float64) * km
    trips = (
        pd.DataFrame(
            {
                "trip": table["trip_id"].to_numpy(),
                "true": table[ENERGY].to_numpy(),
                "pred": pred_kwh,
            }
        )
        .groupby("trip", sort=False)[["true", "pred"]]
        .sum()
    )
    out: dict[str, float] = {}
    for prefix, truth, pred in (
        ("seg_kwh_per_km", table[TARGET].to_numpy(dtype=np.float64), kwh_per_km_pred),
        ("seg_kwh", table[ENERGY].to_numpy(dtype=np.float64), pred_kwh),
        ("trip_kwh", trips["true"].to_numpy(), trips["pred"].to_numpy()),
    ):
        out |= {f"{prefix}_{k}": v for k, v in regression_metrics(truth, pred).items()}
    out["n_segments"] = float(len(table))
    out["n_trips"] = float(len(trips))
    return out


def permutation_importance(
    predict: Callable[[pd.DataFrame], np.ndarray],
    X: pd.DataFrame,
    energy_kwh: np.ndarray,
    *,
    seed: int = 0,
) -> pd.Series:
    """Increase of the segment-energy MAE (kWh) when each column is shuffled.

    Model-agnostic and computed on held-out rows, so the families are comparable.
    Returns a series indexed by column name, largest first.
    """
    rng = np.random.default_rng(seed)
    km = X["length_m"].to_numpy(dtype=np.float64) / M_PER_KM

    def mae(frame: pd.DataFrame) -> float:
        return float(np.mean(np.abs(predict(frame) * km - energy_kwh)))

    base = mae(X)
    scores = {}
    for col in X.columns:
        shuffled = X.copy()
        shuffled[col] = X[col].to_numpy()[rng.permutation(len(X))]
        if isinstance(X[col].dtype, pd.CategoricalDtype):
            shuffled[col] = pd.Categorical(shuffled[col], categories=X[col].cat.categories)
        scores[col] = mae(shuffled) - base
    return pd.Series(scores, name="mae_increase_kwh").sort_values(ascending=False)


def select_champion(
    candidates: list[dict[str, float | str]],
    *,
    metric: str,
    speed: str,
    tolerance: float,
) -> dict[str, float | str]:
    """The candidate with the lowest ``metric``, the fastest among near-ties.

    Candidates whose ``metric`` is within ``tolerance`` (a share) of the lowest are
    equivalent: validation MAEs that close differ by sampling noise, while the router
    evaluates the champion on millions of edges, so the highest ``speed`` wins among them
    (then the lower ``metric``). ``tolerance=0`` selects strictly by ``metric``.
    """
    if not candidates:
        msg = "no candidate to select a champion from"
        raise ValueError(msg)
    best = min(float(c[metric]) for c in candidates)
    near = [c for c in candidates if float(c[metric]) <= best * (1.0 + tolerance) + 1e-15]
    return max(near, key=lambda c: (float(c[speed]), -float(c[metric])))
