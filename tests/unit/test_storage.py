from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from evfleet.errors import QueryError, WorkspaceError
from evfleet.storage import Workspace, read_table, stage_id, write_parquet


def _crash_script(body: str) -> str:
    """A Python program that dies with SIGKILL at the first os.replace (mid-commit)."""
    header = (
        "import os, signal\n"
        "import pandas as pd\n"
        "from evfleet.storage import Workspace, write_parquet\n"
        "os.replace = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    return header + textwrap.dedent(body)


def _run_crashing(code: str) -> None:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert proc.returncode == -9, proc.stderr.decode()


def test_parquet_write_round_trip_and_same_bytes(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    p1 = write_parquet(df, tmp_path / "t1.parquet")
    p2 = write_parquet(df, tmp_path / "t2.parquet")
    assert p1.read_bytes() == p2.read_bytes()
    pd.testing.assert_frame_equal(read_table(p1), df, check_dtype=False)


def test_killed_write_leaves_old_table_intact(tmp_path: Path) -> None:
    target = tmp_path / "edges.parquet"
    write_parquet(pd.DataFrame({"a": [1, 2]}), target)
    _run_crashing(
        _crash_script(f"write_parquet(pd.DataFrame({{'a': [9, 9, 9]}}), {str(target)!r})")
    )
    assert read_table(target)["a"].tolist() == [1, 2]
    visible = [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert visible == ["edges.parquet"]
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert all(".tmp-" in name and not name.endswith(".parquet") for name in leftovers)


def test_killed_stage_is_not_trusted(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    _run_crashing(
        _crash_script(
            f"""
ws = Workspace({str(tmp_path)!r})
with ws.stage_writer("network", "abc") as tmp:
    write_parquet(pd.DataFrame({{'a': [1]}}), tmp / "nodes.parquet")
"""
        )
    )
    assert not ws.is_complete("network", "abc")
    assert ws.latest("network") is None
    with pytest.raises(WorkspaceError, match="no network output"):
        ws.resolve("network", None)


def test_failed_stage_keeps_previous_output(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    with ws.stage_writer("network", "abc") as tmp:
        write_parquet(pd.DataFrame({"a": [1]}), tmp / "nodes.parquet")
    with pytest.raises(RuntimeError), ws.stage_writer("network", "abc") as tmp:
        write_parquet(pd.DataFrame({"a": [2]}), tmp / "nodes.parquet")
        raise RuntimeError("boom")
    folder = ws.stage_dir("network", "abc")
    assert read_table(folder / "nodes.parquet")["a"].tolist() == [1]
    assert sorted(p.name for p in folder.parent.iterdir()) == ["abc"]
    assert ws.manifest("network", "abc")["files"] == ["nodes.parquet"]


def test_stage_id_changes_when_and_only_when_inputs_change() -> None:
    base = stage_id("datasets", {"n": 5, "shares": {"a": 0.5, "b": 0.5}}, inputs=["net1"])
    assert base == stage_id("datasets", {"shares": {"b": 0.5, "a": 0.5}, "n": 5}, inputs=["net1"])
    assert base == stage_id("datasets", {"n": 5.0, "shares": {"a": 0.5, "b": 0.5}}, inputs=["net1"])
    variants = {
        stage_id("datasets", {"n": 6, "shares": {"a": 0.5, "b": 0.5}}, inputs=["net1"]),
        stage_id("datasets", {"n": 5, "shares": {"a": 0.5, "b": 0.5}}, inputs=["net2"]),
        stage_id(
            "datasets", {"n": 5, "shares": {"a": 0.5, "b": 0.5}}, inputs=["net1"], schema_version=2
        ),
        stage_id("features", {"n": 5, "shares": {"a": 0.5, "b": 0.5}}, inputs=["net1"]),
    }
    assert base not in variants
    assert len(variants) == 4


@pytest.fixture
def catalog(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path)
    with ws.stage_writer("network", "n1") as tmp:
        write_parquet(
            pd.DataFrame({"u": [1, 2, 3], "length_m": [10.0, 20.0, 30.0]}), tmp / "edges.parquet"
        )
    ws.register("network", "n1", {"edges": ws.stage_dir("network", "n1") / "edges.parquet"})
    return ws


def test_select_works(catalog: Workspace) -> None:
    df = catalog.query("select count(*) as n, sum(length_m) as total from edges")
    assert df.to_dict("records") == [{"n": 3, "total": 60.0}]
    assert catalog.registry()["stage_id"].tolist() == ["n1"]


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO _registry VALUES ('x', 'y', 'z', 'p', now())",
        "DELETE FROM _registry",
        "DROP VIEW edges",
        "CREATE TABLE t AS SELECT 1",
        "COPY (SELECT * FROM edges) TO 'out.csv'",
        "ATTACH 'other.duckdb' AS other",
        "UPDATE _registry SET stage = 'x'",
        "SET threads = 1",
        "SELECT 1; DROP VIEW edges",
    ],
)
def test_writing_statements_are_refused(catalog: Workspace, statement: str) -> None:
    before = catalog.catalog_path.read_bytes()
    with pytest.raises(QueryError, match="refused|exactly one"):
        catalog.query(statement)
    assert catalog.catalog_path.read_bytes() == before
    assert catalog.query("select count(*) n from edges")["n"].item() == 3
    assert not (Path.cwd() / "out.csv").exists()
