"""Diagnostic figures written as PNG files (matplotlib Agg) for the caller to log."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from evfleet.features.catalog import ENERGY, TARGET
from evfleet.units import M_PER_KM, WH_PER_KWH

TOP_FEATURES = 25


def _save(fig: Figure, path: str | Path) -> Path:
    """Lay out, write as PNG and close a figure."""
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def importance_png(importances: pd.Series, path: str | Path, *, title: str) -> Path:
    """Horizontal bar chart of the largest permutation importances (MAE increase, Wh)."""
    top = importances.head(TOP_FEATURES).iloc[::-1] * WH_PER_KWH
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(top) + 1.2))
    ax.barh(top.index.astype(str), top.to_numpy(), color="#3b7dd8")
    ax.set_xlabel("increase of segment-energy MAE when shuffled (Wh)")
    ax.set_title(title)
    return _save(fig, path)


def pred_vs_actual_png(predictions: pd.DataFrame, path: str | Path, *, title: str) -> Path:
    """Predicted vs true kWh/km per segment and kWh per trip (held-out rows).

    ``predictions`` needs ``trip_id``, ``length_m``, ``energy_kwh``, ``kwh_per_km`` and
    ``pred_kwh_per_km``.
    """
    km = predictions["length_m"].to_numpy() / M_PER_KM
    trips = (
        predictions.assign(pred_kwh=predictions["pred_kwh_per_km"].to_numpy() * km)
        .groupby("trip_id")[[ENERGY, "pred_kwh"]]
        .sum()
    )
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    panels = (
        (
            axes[0],
            predictions[TARGET].to_numpy(),
            predictions["pred_kwh_per_km"].to_numpy(),
            "segment kWh/km",
        ),
        (axes[1], trips[ENERGY].to_numpy(), trips["pred_kwh"].to_numpy(), "trip kWh"),
    )
    for ax, truth, pred, label in panels:
        lo = float(min(truth.min(), pred.min()))
        hi = float(max(truth.max(), pred.max()))
        if len(truth) > 5000:
            ax.hexbin(truth, pred, gridsize=60, bins="log", cmap="viridis", mincnt=1)
        else:
            ax.scatter(truth, pred, s=6, alpha=0.5, color="#3b7dd8")
        ax.plot([lo, hi], [lo, hi], color="#d62728", lw=1)
        ax.set_xlabel(f"true {label}")
        ax.set_ylabel(f"predicted {label}")
        ax.set_title(f"{label} (n={len(truth)})")
        ax.set_aspect("equal", adjustable="datalim")
    fig.suptitle(title)
    return _save(fig, path)


COMPARE_PANELS = (
    ("trip_kwh_mape", "trip MAPE %"),
    ("seg_kwh_per_km_r2", "segment R² (kWh/km)"),
)
COMPARE_EVALUATIONS = (("test", "held-out vehicles"), ("time_test", "held-out last days"))


def family_comparison_png(
    summaries: list[dict[str, float | str]], path: str | Path, *, title: str
) -> Path:
    """Grouped bars of every family's held-out metrics, with the physics prior alone (no
    learning, same rows) as a dashed line: what each family adds over physics.

    ``summaries`` hold ``family`` and flat metric names ``<evaluation>/<predictor>/<m>``.
    """
    families = [str(s["family"]) for s in summaries]
    fig, axes = plt.subplots(1, len(COMPARE_PANELS), figsize=(5.5 * len(COMPARE_PANELS), 4.5))
    width = 0.8 / len(COMPARE_EVALUATIONS)
    colors = ("#3b7dd8", "#f28e2b")
    for ax, (metric, label) in zip(axes, COMPARE_PANELS, strict=True):
        for k, (evaluation, name) in enumerate(COMPARE_EVALUATIONS):
            values = [float(s.get(f"{evaluation}/calibrated/{metric}", "nan")) for s in summaries]
            offset = (k - 0.5 * (len(COMPARE_EVALUATIONS) - 1)) * width
            xs = [i + offset for i in range(len(families))]
            ax.bar(xs, values, width, color=colors[k], label=name)
            prior = float(summaries[0].get(f"{evaluation}/physics_prior/{metric}", "nan"))
            if math.isfinite(prior):  # the same rows for every family: one line
                ax.axhline(prior, color=colors[k], ls="--", lw=1.2, label=f"physics prior, {name}")
        ax.set_xticks(range(len(families)), families, rotation=20)
        ax.set_title(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)
