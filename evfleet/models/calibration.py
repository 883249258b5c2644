"""Per-vehicle calibration from the vehicle's own earlier days (online bias correction).

A model trained on other vehicles misses what is particular to one car and its driver
(tyres, a heavier load than the register says, a lead foot the style label does not
capture). Once the vehicle has driven, its recorded energy tells: the calibration factor
of a vehicle on day ``d`` is its actual energy over its predicted energy on all its days
*before* ``d``, shrunk towards 1 by :data:`CALIBRATION_PRIOR_KM` km of driving at the
predicted rate (a vehicle with a few hundred metres of history is barely corrected).
Predictions for day ``d`` are multiplied by it. Only earlier days are read, so the
correction is leak-free in the same way as the ``hist_*`` features; a vehicle's first
day keeps factor 1.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from evfleet.features.catalog import ENERGY
from evfleet.models.energy_model import EnergyModel
from evfleet.units import M_PER_KM

CALIBRATION_PRIOR_KM: Final = 10.0
"""Pseudo-distance (km) at the predicted rate that shrinks a factor towards 1."""


def _shrunk_ratio(
    actual_kwh: np.ndarray, predicted_kwh: np.ndarray, km: np.ndarray, prior_km: float
) -> np.ndarray:
    """Actual over predicted energy with ``prior_km`` pseudo-km at the predicted rate on
    both sides (1 without driving)."""
    rate = np.divide(predicted_kwh, km, out=np.zeros(km.shape), where=km > 0)
    pseudo = prior_km * np.maximum(rate, 0.0)
    denominator = predicted_kwh + pseudo
    ratio = np.divide(
        actual_kwh + pseudo, denominator, out=np.ones(km.shape), where=denominator > 1e-9
    )
    return np.where(km > 0, ratio, 1.0)


def calibration_factors(
    predicted_kwh: np.ndarray, table: pd.DataFrame, *, prior_km: float = CALIBRATION_PRIOR_KM
) -> pd.DataFrame:
    """Factor of every vehicle-day of ``table`` from the vehicle's earlier days.

    Parameters
    ----------
    predicted_kwh
        Predicted energy of each row of ``table``, kWh.
    table
        Rows with ``vehicle_id``, ``start_time``, ``length_m`` and ``energy_kwh``.
    prior_km
        Shrinkage towards 1, km of driving at the predicted rate.

    Returns
    -------
    pandas.DataFrame
        ``vehicle_id``, ``day`` and ``factor`` (1 on a vehicle's first day).
    """
    daily = (
        pd.DataFrame(
            {
                "vehicle_id": table["vehicle_id"].to_numpy(),
                "day": table["start_time"].dt.normalize().to_numpy(),
                "actual": table[ENERGY].to_numpy(dtype=np.float64),
                "predicted": np.asarray(predicted_kwh, dtype=np.float64),
                "km": table["length_m"].to_numpy(dtype=np.float64) / M_PER_KM,
            }
        )
        .groupby(["vehicle_id", "day"], sort=True)
        .sum()
        .reset_index()
    )
    by_vehicle = daily.groupby("vehicle_id", sort=False)
    before = {
        c: (by_vehicle[c].cumsum() - daily[c]).to_numpy() for c in ("actual", "predicted", "km")
    }
    factor = _shrunk_ratio(before["actual"], before["predicted"], before["km"], prior_km)
    return daily.loc[:, ["vehicle_id", "day"]].assign(factor=factor)


def calibrated_kwh_per_km(
    kwh_per_km: np.ndarray,
    table: pd.DataFrame,
    *,
    history: pd.DataFrame | None = None,
    history_kwh_per_km: np.ndarray | None = None,
) -> np.ndarray:
    """Predicted kWh/km of ``table`` rows, each times its vehicle-day factor.

    ``history`` (default ``table``) and its predictions ``history_kwh_per_km`` (default
    ``kwh_per_km``) are the rows the factors are learnt from: every row of the same
    vehicles, earlier days included; only days before each row's day count.
    """
    if history is None:
        history, history_kwh_per_km = table, kwh_per_km
    elif history_kwh_per_km is None:
        msg = "history_kwh_per_km is required with history"
        raise ValueError(msg)
    km = history["length_m"].to_numpy(dtype=np.float64) / M_PER_KM
    factors = calibration_factors(np.asarray(history_kwh_per_km) * km, history)
    keys = pd.DataFrame(
        {"vehicle_id": table["vehicle_id"].to_numpy(), "day": table["start_time"].dt.normalize()}
    )
    factor = keys.merge(factors, on=["vehicle_id", "day"], how="left")["factor"].fillna(1.0)
    return np.asarray(np.asarray(kwh_per_km) * factor.to_numpy(), dtype=np.float64)


def vehicle_factor(
    model: EnergyModel,
    table: pd.DataFrame,
    vehicle_id: str,
    day: pd.Timestamp,
    *,
    prior_km: float = CALIBRATION_PRIOR_KM,
) -> float:
    """Calibration factor of one vehicle for a trip on ``day`` (1 without earlier days)."""
    own = table.loc[
        (table["vehicle_id"].astype(str) == vehicle_id).to_numpy()
        & (table["start_time"].dt.normalize() < pd.Timestamp(day).normalize()).to_numpy()
    ]
    if own.empty:
        return 1.0
    km = own["length_m"].to_numpy(dtype=np.float64) / M_PER_KM
    sums = [own[ENERGY].sum(), float(np.sum(model.predict(own) * km)), km.sum()]
    actual, predicted, total_km = (np.array([x], dtype=np.float64) for x in sums)
    return float(_shrunk_ratio(actual, predicted, total_km, prior_km)[0])
