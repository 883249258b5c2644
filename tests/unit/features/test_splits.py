"""Time split by date: the held-out days never have a day type training lacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evfleet.features.splits import (
    UNUSED,
    day_type,
    describe_splits,
    held_out_block,
    split_by_time,
)


def _trips(first_day: str, n_days: int, trips_per_day: int = 2) -> tuple[pd.Series, pd.Series]:
    """Two-segment trips, ``trips_per_day`` per day; the last trip of a day ends after
    midnight (it belongs to the day it starts)."""
    days = pd.date_range(first_day, periods=n_days, freq="D")
    trip, start = [], []
    for d, day in enumerate(days):
        for k in range(trips_per_day):
            departure = day + pd.Timedelta(hours=8 + 15.9 * k / max(trips_per_day - 1, 1))
            trip += [f"t{d}-{k}"] * 2
            start += [departure, departure + pd.Timedelta(minutes=10)]
    return pd.Series(trip), pd.Series(pd.DatetimeIndex(start))


def _labels_by_day(first_day: str, n_days: int) -> dict[str, set[str]]:
    trip, start = _trips(first_day, n_days)
    labels = split_by_time(trip, start)
    day = start.groupby(trip.to_numpy()).transform("min").dt.strftime("%a").to_numpy()
    out: dict[str, set[str]] = {}
    for name, d in zip(labels, day, strict=True):
        out.setdefault(name, set()).add(d)
    return out


def test_a_monday_week_holds_out_weekdays_and_leaves_the_weekend_after_them_out() -> None:
    # Monday..Sunday: a Saturday/Sunday block would test a day type training never saw
    assert _labels_by_day("2024-01-15", 7) == {
        "train": {"Mon", "Tue", "Wed"},
        "valid": {"Thu"},
        "test": {"Fri"},
        UNUSED: {"Sat", "Sun"},
    }


def test_a_saturday_week_uses_every_day_and_trains_on_both_day_types() -> None:
    labels = _labels_by_day("2024-01-13", 7)
    assert labels == {
        "train": {"Sat", "Sun", "Mon", "Tue", "Wed"},
        "valid": {"Thu"},
        "test": {"Fri"},
    }


def test_a_weekend_is_held_out_when_training_has_one() -> None:
    # Saturday..the next Sunday: the last weekend can be held out, the first one is in training
    labels = _labels_by_day("2024-01-13", 9)
    assert labels["valid"] == {"Sat"}
    assert labels["test"] == {"Sun"}
    assert {"Sat", "Sun"} <= labels["train"]


def test_held_out_day_types_are_always_seen_in_training() -> None:
    for first in pd.date_range("2024-01-08", periods=7, freq="D"):
        for n_days in range(3, 16):
            days = pd.date_range(first, periods=n_days, freq="D").to_numpy()
            found = held_out_block(days)
            if found is None:
                continue
            start, end = found
            types = day_type(days)
            assert set(types[start:end]) <= set(types[:start])
            assert end - start == 2
            assert start >= 1


@pytest.mark.parametrize(("first_day", "n_days"), [("2024-01-19", 3), ("2024-01-15", 2)])
def test_no_qualifying_block_keeps_every_row_in_training(
    first_day: str, n_days: int, caplog: pytest.LogCaptureFixture
) -> None:
    # Friday, Saturday, Sunday: the weekend block has only a Friday before it
    trip, start = _trips(first_day, n_days)
    labels = split_by_time(trip, start)
    assert set(labels) == {"train"}
    assert "time split skipped" in caplog.text


def test_day_types() -> None:
    days = pd.date_range("2024-01-12", periods=4, freq="D")  # Fri..Mon
    np.testing.assert_array_equal(day_type(days), ["weekday", "weekend", "weekend", "weekday"])


def test_the_split_rule_names_the_held_out_days() -> None:
    trip, start = _trips("2024-01-15", 7)
    table = pd.DataFrame(
        {
            "trip_id": trip,
            "start_time": start,
            "vehicle_id": np.resize(["a", "b", "c", "d", "e"], len(trip)),
            "split_vehicle": np.resize(["train", "train", "train", "valid", "test"], len(trip)),
            "split_time": split_by_time(trip, start),
        }
    )
    text = describe_splits(table)
    assert "1 of 5 vehicles" in text
    assert "tuning Thu 2024-01-18, test Fri 2024-01-19" in text
    assert "unused: Sat 2024-01-20, Sun 2024-01-21" in text
