"""A vehicle's historical efficiency, computed strictly from its earlier days.

For a segment driven on day ``d`` the history features aggregate the vehicle's segments of
all days ``< d`` (an expanding sum shifted by one day). Nothing of day ``d`` itself or
later enters, so changing any data from midnight of ``d`` on leaves them unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evfleet.features.catalog import HISTORY_FEATURES
from evfleet.units import M_PER_KM


def daily_totals(
    vehicle_id: pd.Series,
    start_time: pd.Series,
    energy_kwh: pd.Series,
    length_m: pd.Series,
    prior_kwh: pd.Series,
) -> pd.DataFrame:
    """Energy, distance and physics-prior energy per vehicle and calendar day.

    Returns a frame with columns ``vehicle_id``, ``day`` (midnight timestamp),
    ``energy_kwh``, ``km`` and ``prior_kwh``, sorted by vehicle and day.
    """
    frame = pd.DataFrame(
        {
            "vehicle_id": vehicle_id.to_numpy(),
            "day": start_time.dt.normalize().to_numpy(),
            "energy_kwh": energy_kwh.to_numpy(dtype=np.float64),
            "km": length_m.to_numpy(dtype=np.float64) / M_PER_KM,
            "prior_kwh": prior_kwh.to_numpy(dtype=np.float64),
        }
    )
    out = frame.groupby(["vehicle_id", "day"], as_index=False, sort=True).sum()
    return out.reset_index(drop=True)


def _ratios(
    energy: np.ndarray, km: np.ndarray, prior: np.ndarray, days: np.ndarray
) -> dict[str, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        per_km = np.where(km > 0, energy / km, np.nan)
        ratio = np.where(prior > 0, energy / prior, np.nan)
    return {
        "hist_kwh_per_km": per_km,
        "hist_prior_ratio": ratio,
        "hist_km": km,
        "hist_days": days.astype(np.float64),
    }


def history_by_day(daily: pd.DataFrame) -> pd.DataFrame:
    """History features for each (vehicle, day) of ``daily`` from the days before it.

    Parameters
    ----------
    daily
        Output of :func:`daily_totals`.

    Returns
    -------
    pandas.DataFrame
        ``vehicle_id``, ``day`` and :data:`HISTORY_FEATURES`; NaN ratios on a vehicle's
        first day (no history yet).
    """
    grouped = daily.groupby("vehicle_id", sort=False)
    before = {
        col: (grouped[col].cumsum() - daily[col]).to_numpy()
        for col in ("energy_kwh", "km", "prior_kwh")
    }
    days = grouped.cumcount().to_numpy()
    feats = _ratios(before["energy_kwh"], before["km"], before["prior_kwh"], days)
    return pd.DataFrame({"vehicle_id": daily["vehicle_id"], "day": daily["day"], **feats})


def history_as_of(daily: pd.DataFrame, vehicle_id: str, day: pd.Timestamp) -> dict[str, float]:
    """History features of one vehicle for a trip on ``day`` (days strictly before it).

    All values are NaN (ratios) or 0 (distance, days) when the vehicle has no earlier day.
    """
    rows = daily[(daily["vehicle_id"] == vehicle_id) & (daily["day"] < day.normalize())]
    feats = _ratios(
        np.asarray([rows["energy_kwh"].sum()]),
        np.asarray([rows["km"].sum()]),
        np.asarray([rows["prior_kwh"].sum()]),
        np.asarray([len(rows)]),
    )
    return {name: float(feats[name][0]) for name in HISTORY_FEATURES}
