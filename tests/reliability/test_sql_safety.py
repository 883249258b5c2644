"""``evfleet sql`` and :meth:`Workspace.query` cannot touch any file but the registered views.

Two layers are tested separately: the statement check (one SELECT, or EXPLAIN of one), and
the DuckDB sandbox itself (external access off, configuration locked, views as Arrow
datasets), by running hostile statements on the sandbox connection directly.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from evfleet.catalog import CATALOG_FILE, sandbox
from evfleet.errors import QueryError
from evfleet.storage import Workspace
from tests.fixtures.cli import run_cli
from tests.reliability.conftest import DATASET_ID, tree_hash

FLEET = f"datasets/{DATASET_ID}/fleet_info.parquet"

# Statements a user might try; {ws} is the workspace, {fleet} a dataset file inside it.
REFUSED_BY_CHECK = [
    "COPY (SELECT 1) TO '{ws}/out.csv'",
    "COPY (SELECT 9 AS x) TO '{fleet}' (USE_TMP_FILE false)",
    "EXPLAIN ANALYZE COPY (SELECT 9 AS x) TO '{fleet}'",
    "EXPLAIN COPY (SELECT 9 AS x) TO '{fleet}'",
    "ATTACH '{ws}/other.duckdb' AS other",
    "ATTACH ':memory:' AS m",
    "DETACH memory",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET allowed_directories = ['/']",
    "RESET lock_configuration",
    "PRAGMA enable_profiling",
    "CALL pragma_version()",
    "CREATE TABLE t AS SELECT 1",
    "CREATE OR REPLACE VIEW routes AS SELECT 1",
    "INSERT INTO _registry VALUES ('x', 'y', 'z', 'p', now())",
    "DELETE FROM _registry",
    "UPDATE _registry SET stage = 'x'",
    "DROP VIEW routes",
    "EXPORT DATABASE '{ws}/dump'",
    "IMPORT DATABASE '{ws}/dump'",
    "CHECKPOINT",
    "SELECT 1; COPY (SELECT 1) TO '{ws}/out.csv'",
    "/* hidden */ EXPLAIN ANALYZE COPY (SELECT 1) TO '{ws}/out.csv'",
]
DENIED_BY_SANDBOX = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd', sep = ':')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM glob('{ws}/*')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM read_json('/etc/passwd')",
    "SELECT * FROM parquet_metadata('{fleet}')",
    "SELECT * FROM read_parquet('{fleet}')",
    "SELECT * FROM '{fleet}'",
    "SELECT * FROM read_csv('file:///etc/passwd')",
    "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')",
    "SELECT * FROM duckdb_secrets()",
    "SELECT getenv('HOME')",
    "EXPLAIN ANALYZE SELECT * FROM read_text('/etc/passwd')",
]
# Run on the sandbox connection itself, past the statement check.
SANDBOX_ONLY = [
    "COPY (SELECT 9 AS x) TO '{fleet}' (USE_TMP_FILE false)",
    "COPY (SELECT 9 AS x) TO '{fleet}'",
    "COPY (SELECT 1) TO '{ws}/out.csv'",
    "ATTACH '{ws}/catalog.duckdb' AS cat",
    "ATTACH '{ws}/new.duckdb' AS new",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET allowed_paths = ['/etc/passwd']",
    "RESET lock_configuration",
    "PRAGMA enable_profiling = 'json'",
    "EXPORT DATABASE '{ws}/dump'",
    "CREATE SECRET s (TYPE s3)",
    *DENIED_BY_SANDBOX,
]


def _fill(sql: str, ws: Path) -> str:
    return sql.replace("{ws}", str(ws)).replace("{fleet}", str(ws / FLEET))


@pytest.fixture
def guarded(ready_ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workspace; the test runs in an empty folder and checks nothing appeared in it."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return ready_ws


def _unchanged(ws: Path, before: str) -> None:
    assert tree_hash(ws) == before
    assert not any(Path.cwd().iterdir()), list(Path.cwd().iterdir())
    assert not Path("/tmp/evfleet-sql-probe").exists()


def test_views_answer(guarded: Path) -> None:
    ws = Workspace(guarded)
    n = ws.query("SELECT count(*) AS n FROM routes")["n"].item()
    assert n == 5
    assert ws.query("EXPLAIN SELECT * FROM segments").shape[0] >= 1
    assert ws.query("EXPLAIN ANALYZE SELECT count(*) FROM segments").shape[0] >= 1
    assert set(ws.query("SELECT view_name FROM _registry")["view_name"]) >= {"routes", "edges"}


@pytest.mark.parametrize("statement", REFUSED_BY_CHECK)
def test_writing_statements_are_refused_before_running(guarded: Path, statement: str) -> None:
    before = tree_hash(guarded)
    with pytest.raises(QueryError, match="refused|exactly one"):
        Workspace(guarded).query(_fill(statement, guarded))
    _unchanged(guarded, before)


@pytest.mark.parametrize("statement", DENIED_BY_SANDBOX)
def test_file_access_is_denied_by_duckdb(guarded: Path, statement: str) -> None:
    before = tree_hash(guarded)
    with pytest.raises(QueryError, match="query failed"):
        Workspace(guarded).query(_fill(statement, guarded))
    _unchanged(guarded, before)


@pytest.mark.parametrize("statement", SANDBOX_ONLY)
def test_sandbox_alone_blocks_reads_writes_and_settings(guarded: Path, statement: str) -> None:
    """Even a statement that slipped past the check cannot act: DuckDB refuses it."""
    before = tree_hash(guarded)
    with sandbox(guarded) as (con, _), pytest.raises(duckdb.Error):
        con.execute(_fill(statement, guarded)).fetchall()
    _unchanged(guarded, before)


def test_cli_reads_nothing_outside(guarded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_hash(guarded)
    code, out, err = run_cli(["sql", "SELECT * FROM read_text('/etc/passwd')", "-w", str(guarded)],
                             capsys)  # fmt: skip
    assert code == 1
    assert "root:" not in out + err
    assert "disabled by configuration" in err
    _unchanged(guarded, before)


def _tamper(ws: Path, view: str, path: str) -> None:
    """Point a registry entry somewhere else, as a hostile copied catalog could."""
    with duckdb.connect(str(ws / CATALOG_FILE)) as con:
        con.execute("UPDATE _registry SET path = ? WHERE view_name = ?", [path, view])


@pytest.mark.parametrize(
    "path", ["../../../../etc/passwd", "/etc/passwd", f"datasets/{DATASET_ID}/../../../outside"]
)
def test_tampered_catalog_cannot_reach_outside(guarded: Path, path: str) -> None:
    _tamper(guarded, "weather", path)
    ws = Workspace(guarded)
    with pytest.raises(QueryError, match="view weather: its files .* are missing"):
        ws.query("SELECT * FROM weather")
    assert ws.query("SELECT count(*) AS n FROM routes")["n"].item() == 5


def test_symlink_out_of_a_stage_is_not_followed(guarded: Path) -> None:
    secret = guarded.parent / "secret.parquet"
    Workspace(guarded).query("SELECT 1")  # the sandbox works before the trap is laid
    import shutil

    shutil.copy(guarded / FLEET, secret)
    target = guarded / FLEET
    target.unlink()
    os.symlink(secret, target)
    with pytest.raises(QueryError, match="fleet_info"):
        Workspace(guarded).query("SELECT * FROM fleet_info")
