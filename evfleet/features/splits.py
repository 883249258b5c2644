"""Group-aware splits: held-out vehicles and held-out last days, never random rows.

Both schemes keep every trip whole (a trip belongs to the day it starts), so no trip has
segments on both sides of a split. Labels are ``train``, ``valid`` and ``test``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from evfleet.errors import InputDataError
from evfleet.features.catalog import SPLIT_COLUMNS

logger = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
_MIN_VEHICLES = 3
_MIN_DAYS = 3


def split_by_vehicle(
    vehicle_id: pd.Series,
    *,
    valid_fraction: float = 0.15,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> np.ndarray:
    """Label rows by vehicle: a seeded shuffle of vehicles puts whole vehicles in each split.

    Raises
    ------
    InputDataError
        With fewer than three vehicles (each split needs at least one).
    """
    vehicles = np.sort(pd.unique(vehicle_id.astype(str)))
    n = len(vehicles)
    if n < _MIN_VEHICLES:
        msg = f"a vehicle split needs at least {_MIN_VEHICLES} vehicles, the dataset has {n}"
        raise InputDataError(msg)
    order = np.random.default_rng(seed).permutation(vehicles)
    n_test = min(max(1, round(n * test_fraction)), n - 2)
    n_valid = min(max(1, round(n * valid_fraction)), n - n_test - 1)
    label = dict.fromkeys(order[:n_test], "test")
    label |= dict.fromkeys(order[n_test : n_test + n_valid], "valid")
    label |= dict.fromkeys(order[n_test + n_valid :], "train")
    return vehicle_id.astype(str).map(label).to_numpy(dtype=object)


def split_by_time(
    trip_id: pd.Series, start_time: pd.Series, *, valid_days: int = 1, test_days: int = 1
) -> np.ndarray:
    """Label rows by the start day of their trip: the last days are valid, then test.

    The last ``test_days`` days are ``test``, the ``valid_days`` before them ``valid`` and
    all earlier days ``train``. With fewer than three days every row is ``train`` (the
    time evaluation is then skipped) and a warning is logged.
    """
    trip_day = start_time.groupby(trip_id.to_numpy()).transform("min").dt.normalize()
    days = np.sort(trip_day.unique())
    labels = np.full(len(trip_id), "train", dtype=object)
    if len(days) < max(_MIN_DAYS, valid_days + test_days + 1):
        logger.warning("time split skipped: %d day(s) of data, need %d", len(days), _MIN_DAYS)
        return labels
    test_from = days[-test_days]
    valid_from = days[-test_days - valid_days]
    day = trip_day.to_numpy()
    labels[day >= valid_from] = "valid"
    labels[day >= test_from] = "test"
    return labels


def assign_splits(features: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Return ``features`` with the :data:`SPLIT_COLUMNS` label columns added."""
    out = features.copy()
    out[SPLIT_COLUMNS["vehicle"]] = split_by_vehicle(out["vehicle_id"], seed=seed)
    out[SPLIT_COLUMNS["time"]] = split_by_time(out["trip_id"], out["start_time"])
    return out


def sample_trips(trip_id: pd.Series, fraction: float, *, seed: int = 0) -> np.ndarray:
    """Boolean mask keeping a seeded ``fraction`` of whole trips (1.0 keeps every row)."""
    if not 0 < fraction <= 1:
        msg = f"sample fraction must be in (0, 1], got {fraction}"
        raise InputDataError(msg)
    if fraction == 1:
        return np.ones(len(trip_id), dtype=bool)
    trips = np.sort(pd.unique(trip_id.astype(str)))
    rng = np.random.default_rng(seed)
    keep = set(rng.choice(trips, size=max(1, round(len(trips) * fraction)), replace=False))
    return trip_id.astype(str).isin(keep).to_numpy()
