"""A copied or moved workspace works on its own files and never touches the original."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from evfleet.catalog import CATALOG_FILE, read_entries
from evfleet.storage import Workspace, write_parquet
from tests.reliability.conftest import DATASET_ID, tree_hash

FLEET = Path("datasets") / DATASET_ID / "fleet_info.parquet"


def _vehicle_ids(root: Path) -> list[str]:
    df = Workspace(root).query("SELECT vehicle_id FROM fleet_info ORDER BY 1")
    return df["vehicle_id"].tolist()


def test_catalog_stores_only_relative_paths(ready_ws: Path) -> None:
    assert str(ready_ws) not in (ready_ws / CATALOG_FILE).read_bytes().decode("latin-1")
    paths = [e.path for e in read_entries(ready_ws).values()]
    assert all(not p.startswith("/") for p in paths)
    assert f"datasets/{DATASET_ID}/segments/*.parquet" in paths


def test_copy_reads_its_own_files(ready_ws: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(ready_ws, copy)
    write_parquet(pd.DataFrame({"vehicle_id": ["changed"]}), ready_ws / FLEET)
    assert _vehicle_ids(copy) == ["v1", "v2", "v3"]
    assert _vehicle_ids(ready_ws) == ["changed"]


def test_moved_workspace_works_and_leaves_nothing_behind(ready_ws: Path, tmp_path: Path) -> None:
    moved = tmp_path / "mounted" / "ws"
    moved.parent.mkdir()
    shutil.move(ready_ws, moved)
    assert _vehicle_ids(moved) == ["v1", "v2", "v3"]
    Workspace(moved).register(
        "datasets", DATASET_ID, {"weather": moved / FLEET.parent / "weather.parquet"}
    )
    assert not ready_ws.exists()


def test_duckdb_cli_users_open_it_from_the_workspace(
    ready_ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(ready_ws, copy)
    monkeypatch.chdir(copy)
    with duckdb.connect(CATALOG_FILE, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM routes").fetchone() == (5,)


def _absolute_catalog(root: Path, original: Path) -> None:
    """A catalog as older versions wrote it: absolute paths into ``original``."""
    entries = read_entries(root)
    (root / CATALOG_FILE).unlink()
    with duckdb.connect(str(root / CATALOG_FILE)) as con:
        con.execute("CREATE TABLE _registry (view_name VARCHAR PRIMARY KEY, stage VARCHAR, "
                    "stage_id VARCHAR, path VARCHAR, registered_at TIMESTAMP)")  # fmt: skip
        for e in entries.values():
            absolute = str(original / e.path)
            con.execute("INSERT INTO _registry VALUES (?, ?, ?, ?, now())",
                        [e.view_name, e.stage, e.stage_id, absolute])  # fmt: skip


def test_old_absolute_catalog_is_read_and_rewritten_relative(
    ready_ws: Path, tmp_path: Path
) -> None:
    _absolute_catalog(ready_ws, ready_ws)
    copy = tmp_path / "copy"
    shutil.copytree(ready_ws, copy)
    shutil.rmtree(ready_ws / "datasets")
    before_original = tree_hash(ready_ws)
    assert _vehicle_ids(copy) == ["v1", "v2", "v3"]
    with Workspace(copy).lock("test"):
        pass
    assert all(not e.path.startswith("/") for e in read_entries(copy).values())
    assert _vehicle_ids(copy) == ["v1", "v2", "v3"]
    assert tree_hash(ready_ws) == before_original
