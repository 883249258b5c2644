"""Group-aware splits: held-out vehicles and held-out last days, never random rows.

Both schemes keep every trip whole (a trip belongs to the day it starts), so no trip has
segments on both sides of a split. Labels are ``train``, ``valid`` and ``test`` (and
``unused`` for time-split days after the held-out block).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from evfleet.errors import InputDataError
from evfleet.features.catalog import SPLIT_COLUMNS

logger = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
UNUSED = "unused"
"""Time-split label of days after the held-out block (in no split)."""
WEEKEND_FROM = 5
"""First weekend day (``dayofweek``: 0 = Monday)."""
_MIN_VEHICLES = 3


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


def day_type(days: np.ndarray | pd.DatetimeIndex) -> np.ndarray:
    """``"weekend"`` (Saturday, Sunday) or ``"weekday"`` of each day (the ``is_weekend``
    feature's rule): traffic and trip purposes differ between the two."""
    weekday = pd.DatetimeIndex(days).dayofweek.to_numpy()
    return np.where(weekday >= WEEKEND_FROM, "weekend", "weekday")


def held_out_block(
    days: np.ndarray, *, valid_days: int = 1, test_days: int = 1
) -> tuple[int, int] | None:
    """Positions ``(valid_from, test_end)`` in sorted ``days`` of the held-out block.

    The block is ``valid_days`` then ``test_days`` consecutive days, chosen by date: the
    latest whose day types (weekday / weekend) all occur among the earlier (training)
    days, so no held-out day is of a type training never saw. Days after the block are
    left out of the time split. ``None`` when no block qualifies (too few days, or every
    candidate needs a day type training lacks).
    """
    types = day_type(days)
    block = valid_days + test_days
    for end in range(len(days), block, -1):  # end > block: at least one training day
        start = end - block
        if set(types[start:end]) <= set(types[:start]):
            return start, end
    return None


def _trip_day(trip_id: pd.Series, start_time: pd.Series) -> pd.Series:
    """The day each row's trip starts on (a trip belongs to the day it starts)."""
    return start_time.groupby(trip_id.to_numpy()).transform("min").dt.normalize()


def split_by_time(
    trip_id: pd.Series, start_time: pd.Series, *, valid_days: int = 1, test_days: int = 1
) -> np.ndarray:
    """Label rows by the start day of their trip: train, then a held-out valid/test block.

    :func:`held_out_block` picks the block (``valid_days`` then ``test_days``, the latest
    whose day types training has); earlier days are ``train``, later days ``unused``
    (they are after the held-out days, so training on them would peek at the future).
    When no block qualifies every row is ``train`` (the time evaluation is then skipped)
    and a warning is logged.
    """
    trip_day = _trip_day(trip_id, start_time)
    days = np.sort(trip_day.unique())
    labels = np.full(len(trip_id), "train", dtype=object)
    found = held_out_block(days, valid_days=valid_days, test_days=test_days)
    if found is None:
        logger.warning(
            "time split skipped: %d day(s) of data (%s); need a held-out block of %d day(s) "
            "after at least one training day, of day types training also has",
            len(days),
            ", ".join(sorted(set(day_type(days)))) or "none",
            valid_days + test_days,
        )
        return labels
    start, end = found
    day = trip_day.to_numpy()
    labels[day >= days[start]] = "valid"
    labels[day >= days[end - test_days]] = "test"
    if end < len(days):
        labels[day >= days[end]] = UNUSED
        logger.info("time split: %d day(s) after the held-out block left out", len(days) - end)
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


def describe_splits(table: pd.DataFrame) -> str:
    """One sentence on how the rows of a split feature table were divided (model cards)."""
    vehicles = table.groupby(SPLIT_COLUMNS["vehicle"])["vehicle_id"].nunique()
    text = (
        f"held-out vehicles: {vehicles.get('test', 0)} of {int(vehicles.sum())} vehicles "
        f"(seeded shuffle; {vehicles.get('valid', 0)} more for tuning), the deployed model "
        "is refit on the training and tuning vehicles"
    )
    day = _trip_day(table["trip_id"], table["start_time"])
    labels = table[SPLIT_COLUMNS["time"]].to_numpy()
    if not (labels == "test").any():
        return text + "; no time split (too few days, or no day type to hold out)"

    def days(label: str) -> str:
        picked = pd.DatetimeIndex(np.sort(day[labels == label].unique()))
        return ", ".join(d.strftime("%a %Y-%m-%d") for d in picked) or "none"

    unused = f"; after the block and unused: {days(UNUSED)}" if (labels == UNUSED).any() else ""
    return (
        f"{text}; held-out days: tuning {days('valid')}, test {days('test')} (the latest "
        f"block whose day types training has), training {days('train')}{unused}; "
        "hyperparameters are tuned on days before the block"
    )
