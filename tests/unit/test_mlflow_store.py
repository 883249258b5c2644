"""The workspace's MLflow store appears whole or not at all (a killed creation is harmless)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import mlflow.store.db.utils
import pytest

from evfleet.storage import Workspace
from tasks.mlflow_utils import TRACKING_ENV, create_store


def _tables(db: Path) -> set[str]:
    with closing(sqlite3.connect(db)) as con:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv(TRACKING_ENV, raising=False)
    return Workspace(tmp_path / "ws").ensure()


def test_a_new_store_is_complete_and_an_existing_one_is_kept(ws: Workspace) -> None:
    stale = ws.root / ".mlflow.db.tmp-deadbeef"  # left by a creation that was killed
    stale.write_bytes(b"half a database")
    assert create_store(ws.root)
    assert {"experiments", "runs", "registered_models", "model_versions"} <= _tables(ws.mlflow_db)
    assert sorted(ws.root.glob(".mlflow.db.tmp-*")) == [stale]  # its own temporary file is gone
    before = ws.mlflow_db.read_bytes()
    assert not create_store(ws.root)
    assert ws.mlflow_db.read_bytes() == before


def test_a_creation_that_fails_midway_leaves_no_store(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(engine: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(mlflow.store.db.utils, "_initialize_tables", interrupted)
    with pytest.raises(KeyboardInterrupt):
        create_store(ws.root)
    assert not ws.mlflow_db.exists()
    assert not list(ws.root.glob(".mlflow.db*"))
