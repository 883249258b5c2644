"""Cross-table invariants (evfleet.invariants) on the tiny hand-made dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evfleet.errors import InputDataError
from evfleet.invariants import (
    CHECKS,
    GROUP_KEYS,
    assert_invariants,
    check_all,
    energy_balance,
    run_checks,
    run_partitioned,
    segment_order_violations,
    session_trip_overlaps,
    time_order_violations,
)
from evfleet.schema import conform
from tests.fixtures.faulty_dataset import faulty_tables
from tests.fixtures.tiny_dataset import tiny_dataset


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return tiny_dataset()


def _violations(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {f"{v.table}.{v.check}": v.rows for v in check_all(tables)}


def test_valid_dataset_has_no_violations(tables):
    assert check_all(tables) == []
    assert_invariants(tables)
    assert all(r.skipped is None for r in run_checks(tables))


def test_energy_balance_closes_per_vehicle(tables):
    out = energy_balance(tables["fleet_info"], tables["routes"], tables["charging_sessions"])
    assert out.empty
    full = energy_balance(
        tables["fleet_info"].assign(battery_kwh=tables["fleet_info"]["battery_kwh"] * 2),
        tables["routes"],
        tables["charging_sessions"],
    )
    assert set(full["vehicle_id"]) == {"v1", "v2"}  # v3 never moves: balance 0 = 0


@pytest.mark.parametrize(("delta_kwh", "fails"), [(0.005, False), (0.02, True)])
def test_energy_balance_tolerance_is_10_wh(tables, delta_kwh, fails):
    sessions = tables["charging_sessions"]
    sessions.loc[sessions["session_id"] == "s2", "energy_kwh"] += delta_kwh
    found = _violations(tables)
    assert ("fleet_info.energy_balance" in found) is fails
    if fails:
        row = found["fleet_info.energy_balance"].iloc[0]
        assert row["vehicle_id"] == "v1"
        assert row["error_kwh"] == pytest.approx(delta_kwh, abs=1e-9)


def test_soc_out_of_range_and_missing(tables):
    tables["routes"].loc[0, "soc_end"] = 1.5
    tables["vehicle_states"].loc[1, "soc_min"] = np.nan
    found = _violations(tables)
    assert found["routes.soc_range"]["trip_id"].tolist() == ["t1"]
    assert found["vehicle_states.soc_range"].index.tolist() == [1]


def test_session_overlapping_trip_is_found_touching_is_not(tables):
    routes, sessions = tables["routes"], tables["charging_sessions"]
    t3_end = routes.loc[routes["trip_id"] == "t3", "end_time"].iloc[0]
    sessions.loc[0, "start_time"] = t3_end  # touching: allowed
    assert session_trip_overlaps(routes, sessions).empty
    sessions.loc[0, "start_time"] = t3_end - pd.Timedelta(seconds=1)
    out = session_trip_overlaps(routes, sessions)
    assert out[["session_id", "trip_id"]].values.tolist() == [["s1", "t3"]]
    assert out.index.tolist() == [0]


def test_session_overlapping_a_long_earlier_trip(tables):
    routes, sessions = tables["routes"], tables["charging_sessions"]
    # t3 (v2) now lasts until 13:30 and t4 starts 13:00: s1 (11:00-12:30) overlaps t3 only
    routes.loc[routes["trip_id"] == "t3", "end_time"] = pd.Timestamp("2024-01-15 13:30")
    out = session_trip_overlaps(routes, sessions)
    assert out["session_id"].tolist() == ["s1"]


def test_time_order_reversed_overlapping_and_missing(tables):
    routes = tables["routes"]
    routes.loc[1, "start_time"] = routes.loc[0, "start_time"] + pd.Timedelta(minutes=1)  # t2 in t1
    routes.loc[2, "end_time"] = routes.loc[2, "start_time"] - pd.Timedelta(minutes=1)
    routes.loc[3, "end_time"] = pd.NaT
    out = time_order_violations(routes, "trip_id").set_index("trip_id")["problem"].to_dict()
    assert out == {
        "t2": "overlaps an earlier interval of the vehicle",
        "t3": "end before start",
        "t4": "missing time",
    }


def test_segments_must_sum_to_their_trip(tables):
    seg = tables["segments"]
    seg.loc[seg["trip_id"] == "t2", "length_m"] *= 1.01
    tables["segments"] = seg[seg["trip_id"] != "t4"]
    out = _violations(tables)["routes.segment_sums"].set_index("trip_id")
    assert sorted(out.index) == ["t2", "t4"]
    assert out.loc["t4", "n_segments"] == 0
    assert out.loc["t2", "segments_energy_kwh"] == pytest.approx(out.loc["t2", "energy_kwh"])


def test_segment_refs_unknown_trip_and_wrong_vehicle(tables):
    seg = tables["segments"]
    seg.loc[0, "trip_id"] = "nope"
    seg.loc[5, "vehicle_id"] = "v2"
    out = _violations(tables)["segments.trip_refs"]
    assert out.index.tolist() == [0, 5]
    assert out.loc[5, "trip_vehicle_id"] == "v1"


def test_segment_order_ignores_storage_order(tables):
    shuffled = tables["segments"].sample(frac=1.0, random_state=3)
    assert segment_order_violations(tables["routes"], shuffled).empty
    shuffled.loc[shuffled["trip_id"].eq("t1") & shuffled["seq"].eq(2), "start_time"] -= (
        pd.Timedelta(hours=1)
    )
    out = segment_order_violations(tables["routes"], shuffled)
    assert out["problem"].tolist() == ["outside its trip"]


def test_segment_going_back_in_time(tables):
    seg = tables["segments"]
    t1 = seg["trip_id"].eq("t1")
    second_start = seg.loc[t1 & seg["seq"].eq(1), "start_time"].iloc[0]
    seg.loc[t1 & seg["seq"].eq(3), "start_time"] = second_start
    out = segment_order_violations(tables["routes"], seg)
    assert out["problem"].tolist() == ["earlier than previous seq"]


def test_unknown_vehicle_ids_and_component_sums(tables):
    tables["vehicle_states"].loc[0, "vehicle_id"] = "ghost"
    tables["routes"].loc[2, "aux_kwh"] += 0.1
    found = _violations(tables)
    assert found["vehicle_states.vehicle_refs"]["vehicle_id"].tolist() == ["ghost"]
    assert found["routes.component_sums"].index.tolist() == [2]


def test_missing_inputs_skip_checks(tables):
    del tables["charging_sessions"]
    tables["segments"] = tables["segments"].drop(columns="length_m")
    results = {r.spec.key: r for r in run_checks(tables)}
    assert results["fleet_info.energy_balance"].rows is None
    assert "charging_sessions" in (results["fleet_info.energy_balance"].skipped or "")
    assert "segments.length_m" in (results["routes.segment_sums"].skipped or "")
    assert check_all(tables) == []


def test_assert_invariants_names_the_check_and_rows(tables):
    tables["charging_sessions"].loc[1, "vehicle_id"] = "v9"
    with pytest.raises(InputDataError, match=r"charging_sessions\.vehicle_refs") as exc:
        assert_invariants(tables)
    assert "v9" in str(exc.value)


def test_check_keys_are_unique():
    keys = [c.key for c in CHECKS]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("n_parts", [1, 4])
def test_grouped_checks_per_partition_equal_the_whole_tables(n_parts):
    tables = {t: conform(t, df) for t, df in faulty_tables().items()}
    grouped = tuple(c for c in CHECKS if c.name in GROUP_KEYS)
    reads = []

    def read(table, columns, key, n, k):
        reads.append((table, columns, n))
        hashed = pd.util.hash_pandas_object(tables[table][key], index=False).to_numpy()
        return tables[table].loc[hashed % np.uint64(n) == k, list(columns)]

    streamed = run_partitioned(grouped, read, lambda names: n_parts)
    whole = run_checks(tables, grouped)
    assert [r.spec.key for r in streamed] == [r.spec.key for r in whole]
    assert [r.spec.key for r in whole if len(r.rows)] == [
        "fleet_info.energy_balance", "routes.time_order", "charging_sessions.trip_overlap",
        "routes.segment_sums", "segments.trip_refs", "segments.segment_order",
    ]  # fmt: skip

    def values(df: pd.DataFrame) -> pd.DataFrame:  # nulls alike (None, NaN, NA)
        return df.astype(object).where(df.notna(), None)

    for mine, theirs in zip(streamed, whole, strict=True):
        pd.testing.assert_frame_equal(values(mine.rows), values(theirs.rows))
    segment_reads = {frozenset(cols) for table, cols, n in reads if table == "segments"}
    assert segment_reads == {frozenset(("trip_id", "vehicle_id", "energy_kwh", "length_m", "seq",
                                        "start_time"))}  # fmt: skip
    assert all(len(cols) < 8 for _, cols, _ in reads)  # narrow projections only
