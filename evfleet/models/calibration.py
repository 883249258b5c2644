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

CALIBRATION_PRIOR_KM: Final = 10.0
"""Pseudo-distance (km) at the predicted rate that shrinks a factor towards 1."""


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
                "km": table["length_m"].to_numpy(dtype=np.float64) / 1000.0,
            }
        )
        .groupby(["vehicle_id", "day"], sort=True)
        .sum()
        .reset_index()
    )
    by_vehicle = daily.groupby("vehicle_id", sort=False)
    before = {c: by_vehicle[c].cumsum() - daily[c] for c in ("actual", "predicted", "km")}
    rate = np.divide(
        before["predicted"],
        before["km"],
        out=np.zeros(len(daily)),
        where=before["km"].to_numpy() > 0,
    )
    pseudo = prior_km * np.maximum(rate, 0.0)
    denominator = before["predicted"].to_numpy() + pseudo
    factor = np.divide(
        before["actual"].to_numpy() + pseudo,
        denominator,
        out=np.ones(len(daily)),
        where=denominator > 1e-9,
    )
    factor = np.where(before["km"].to_numpy() > 0, factor, 1.0)
    return daily.loc[:, ["vehicle_id", "day"]].assign(factor=factor)


def calibrated_kwh_per_km(
    model: EnergyModel, table: pd.DataFrame, *, history: pd.DataFrame | None = None
) -> np.ndarray:
    """``model``'s kWh/km for ``table`` rows, each times its vehicle-day factor.

    ``history`` (default ``table``) holds the rows the factors are learnt from: every
    row of the same vehicles, earlier days included; only days before each row's day
    count.
    """
    history = table if history is None else history
    km = history["length_m"].to_numpy(dtype=np.float64) / 1000.0
    factors = calibration_factors(model.predict(history) * km, history)
    keys = pd.DataFrame(
        {"vehicle_id": table["vehicle_id"].to_numpy(), "day": table["start_time"].dt.normalize()}
    )
    factor = keys.merge(factors, on=["vehicle_id", "day"], how="left")["factor"].fillna(1.0)
    return np.asarray(model.predict(table) * factor.to_numpy(), dtype=np.float64)


def vehicle_factor(
    model: EnergyModel, table: pd.DataFrame, vehicle_id: str, day: pd.Timestamp
) -> float:
    """Calibration factor of one vehicle for a trip on ``day`` (1 without earlier days)."""
    own = table.loc[
        (table["vehicle_id"].astype(str) == vehicle_id).to_numpy()
        & (table["start_time"].dt.normalize() < pd.Timestamp(day).normalize()).to_numpy()
    ]
    if own.empty:
        return 1.0
    probe = own.iloc[[-1]].assign(start_time=pd.Timestamp(day).normalize(), energy_kwh=0.0)
    rows = pd.concat([own, probe], ignore_index=True)
    km = rows["length_m"].to_numpy(dtype=np.float64) / 1000.0
    factors = calibration_factors(model.predict(rows) * km, rows)
    return float(factors["factor"].iloc[-1])
