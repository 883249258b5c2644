"""User datasets: Parquet and CSV folders are loaded, normalised and validated."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evfleet.errors import InputDataError
from evfleet.schema import TABLES
from evfleet.storage import write_parquet
from expectations import load_user_dataset, validate_dataset
from expectations.loading import prepare_dataset
from tests.fixtures.tiny_dataset import tiny_dataset


@pytest.fixture(scope="module")
def tiny() -> dict[str, pd.DataFrame]:
    return tiny_dataset()


def _write_csv(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_parquet_folder_with_parts_loads_exactly(tiny, tmp_path):
    for name, df in tiny.items():
        if name == "segments":  # a folder of parts, as the simulator writes large tables
            write_parquet(df.iloc[:7], tmp_path / "segments" / "part-0.parquet")
            write_parquet(df.iloc[7:], tmp_path / "segments" / "part-1.parquet")
        else:
            write_parquet(df, tmp_path / f"{name}.parquet")
    ds = load_user_dataset(tmp_path)
    assert ds.problems() == []
    for name, df in tiny.items():
        pd.testing.assert_frame_equal(ds.tables[name], df)
    report = validate_dataset(tmp_path, tables=["segments"])
    assert report.passed
    assert report.score == 100.0
    assert report.dataset == str(tmp_path)


def test_csv_dataset_scores_100(tiny, tmp_path):
    folder = _write_csv(tiny, tmp_path / "csv")
    ds = load_user_dataset(folder)
    for name in tiny:
        assert dict(ds.tables[name].dtypes.astype(str)) == TABLES[name], name
    report = validate_dataset(folder)
    assert report.passed, report.failure_message()
    assert report.score == 100.0


def test_csv_with_bad_values_missing_table_and_column(tiny, tmp_path):
    tables = dict(tiny)
    tables["routes"] = tiny["routes"].astype({"energy_kwh": "string"})
    tables["routes"].loc[0, "energy_kwh"] = "lots"
    tables["fleet_info"] = tiny["fleet_info"].drop(columns=["mass_kg"])
    del tables["vehicle_states"]
    folder = _write_csv(tables, tmp_path / "bad")
    ds = load_user_dataset(folder)
    assert ds.missing_tables == ["vehicle_states"]
    assert ds.missing_columns == {"fleet_info": ["mass_kg"]}
    assert ds.bad_types == {"routes": {"energy_kwh": "text (unparseable)"}}
    report = validate_dataset(ds, tables=["fleet_info", "routes", "vehicle_states"])
    failed = {o.rule: o for o in report.critical_failures}
    assert {"fleet_info.columns", "routes.dtypes", "vehicle_states.present"} <= set(failed)
    assert failed["fleet_info.columns"].message == "missing columns: mass_kg"
    assert failed["routes.dtypes"].message == "energy_kwh has dtype string, expected float64"
    skipped = {o.rule: o.message for o in report.skipped}
    assert skipped["fleet_info.mass_kg.range"] == "skipped: missing column mass_kg"
    assert skipped["routes.energy_kwh.range"] == "skipped: column energy_kwh has the wrong dtype"
    assert "missing routes.energy_kwh" in skipped["routes.segment_sums"]
    assert report.table_scores["vehicle_states"] == 0.0
    assert 0 < report.table_scores["routes"] < 100
    text = "\n".join(report.problems)
    assert "missing table vehicle_states" in text
    assert "fleet_info: missing columns mass_kg" in text


def test_lossless_normalisation_of_in_memory_tables(tiny):
    routes = tiny["routes"].astype({"trip_id": "object", "start_time": "datetime64[ns]"})
    fleet = tiny["fleet_info"].astype({"home_node": "int32", "battery_kwh": "float32"})
    ds = prepare_dataset({"routes": routes, "fleet_info": fleet})
    assert ds.bad_types == {}
    assert str(ds.tables["routes"]["trip_id"].dtype) == "string"
    assert str(ds.tables["routes"]["start_time"].dtype) == "datetime64[us]"
    assert str(ds.tables["fleet_info"]["home_node"].dtype) == "int64"
    lossy = tiny["fleet_info"].assign(home_node=tiny["fleet_info"]["home_node"] + 0.5)
    assert prepare_dataset({"fleet_info": lossy}).bad_types == {
        "fleet_info": {"home_node": "float64"}
    }


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(InputDataError, match="not found"):
        load_user_dataset(tmp_path / "nope")
    (tmp_path / "readme.txt").write_text("hello")
    with pytest.raises(InputDataError, match=r"no tables found .*fleet_info\.parquet\|csv"):
        load_user_dataset(tmp_path)
