"""The workspace's DuckDB catalog and the sandbox that runs user SQL over it.

``catalog.duckdb`` holds one view per table of the chosen stage outputs and a ``_registry``
table saying which output each view points at. Three properties matter:

* **Portable.** Views and the registry store paths *relative to the workspace*
  (``datasets/<id>/routes.parquet``), so a copied or moved workspace reads only its own
  files. Opened directly with the DuckDB CLI, run it from the workspace folder (or
  ``SET file_search_path`` to it).
* **Atomic, never locked for long.** A registration writes a complete new catalog file
  next to the old one and renames it into place, under a short writer lock: every view of
  a stage switches at once, a killed registration leaves the old catalog intact, and
  readers (``evfleet sql`` during a run) never wait for writers or block them.
* **Confined queries.** :func:`run_query` never hands the catalog file to the query: it
  reads the registry, opens an in-memory DuckDB with external access disabled and its
  configuration locked, and exposes each view as an Arrow dataset over exactly the
  registered files. DuckDB itself then cannot read, write, attach, install or load
  anything; a statement check (one SELECT, or EXPLAIN of one) refuses the rest up front.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb
import pandas as pd
import pyarrow.dataset as pads

from evfleet.errors import QueryError, WorkspaceError

logger = logging.getLogger(__name__)

CATALOG_FILE = "catalog.duckdb"
_WRITER_LOCK = ".catalog.lock"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXPLAIN_RE = re.compile(r"^\s*EXPLAIN\s+(?:ANALYZE\s+)?", re.IGNORECASE)
_REGISTRY_COLUMNS = ["view_name", "stage", "stage_id", "path", "registered_at"]
_SANDBOX_CONFIG = {
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "python_enable_replacements": False,
    "python_scan_all_frames": False,
}


@dataclass(frozen=True)
class CatalogEntry:
    """One view: which stage output it shows and its Parquet path relative to the workspace.

    ``path`` is a file (``network/<id>/edges.parquet``) or a pattern over a folder of parts
    (``datasets/<id>/segments/*.parquet``), always with forward slashes.
    """

    view_name: str
    stage: str
    stage_id: str
    path: str
    registered_at: dt.datetime


def relative_pattern(root: Path, stage: str, sid: str, target: str | Path) -> str:
    """Workspace-relative pattern of a Parquet file or part folder of a stage output."""
    p = Path(target)
    absolute = p if p.is_absolute() else root / p
    if absolute.is_dir():
        absolute = absolute / "*.parquet"
    stage_dir = root / stage / sid
    try:
        rel = absolute.relative_to(stage_dir)
    except ValueError:
        msg = f"catalog views must point inside {stage}/{sid} of the workspace, got {target}"
        raise WorkspaceError(msg) from None
    if ".." in rel.parts:
        msg = f"catalog path escapes its stage folder: {target}"
        raise WorkspaceError(msg)
    return str(PurePosixPath(stage, sid, *rel.parts))


def _portable(stage: str, sid: str, stored: str) -> str:
    """A registry path as workspace-relative, also for catalogs written with absolute paths.

    Older catalogs stored absolute paths; the part after ``/<stage>/<id>/`` is kept, so a
    moved workspace reads its own copy and never the original.
    """
    posix = stored.replace("\\", "/")
    if not posix.startswith("/"):
        return posix
    marker = f"/{stage}/{sid}/"
    if marker not in posix:
        return posix  # outside any stage output: never read (see _entry_files)
    return f"{stage}/{sid}/" + posix.rsplit(marker, 1)[1]


def read_entries(root: Path) -> dict[str, CatalogEntry]:
    """The registry of the workspace's catalog (empty when there is none yet)."""
    path = root / CATALOG_FILE
    if not path.is_file():
        return {}
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            tables = con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            if ("_registry",) not in tables:
                return {}
            rows = con.execute(
                "SELECT view_name, stage, stage_id, path, registered_at FROM _registry"
            ).fetchall()
    except duckdb.Error as exc:
        msg = f"cannot read the catalog {path}: {str(exc).splitlines()[0]}"
        raise WorkspaceError(msg) from None
    return {
        name: CatalogEntry(name, stage, sid, _portable(stage, sid, stored), at)
        for name, stage, sid, stored, at in rows
    }


@contextlib.contextmanager
def _writer_lock(root: Path) -> Iterator[None]:
    """Serialise catalog writers of one workspace (held for milliseconds)."""
    with (root / _WRITER_LOCK).open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_catalog(root: Path, entries: Mapping[str, CatalogEntry]) -> None:
    """Write a complete catalog next to the old one, then rename it into place."""
    final = root / CATALOG_FILE
    tmp = root / f".{CATALOG_FILE}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        with duckdb.connect(str(tmp)) as con:
            # Views are bound when created; relative paths resolve against the workspace.
            con.execute("SET file_search_path = ?", [str(root)])
            con.execute("BEGIN TRANSACTION")
            con.execute(
                "CREATE TABLE _registry (view_name VARCHAR PRIMARY KEY, stage VARCHAR, "
                "stage_id VARCHAR, path VARCHAR, registered_at TIMESTAMP)"
            )
            for e in sorted(entries.values(), key=lambda e: e.view_name):
                quoted = e.path.replace("'", "''")
                con.execute(f"CREATE VIEW {e.view_name} AS SELECT * FROM read_parquet('{quoted}')")
                con.execute(
                    "INSERT INTO _registry VALUES (?, ?, ?, ?, ?)",
                    [e.view_name, e.stage, e.stage_id, e.path, e.registered_at],
                )
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        # A WAL left by a killed writer of the old file must not be replayed onto the new one.
        final.with_name(final.name + ".wal").unlink(missing_ok=True)
        os.replace(tmp, final)
        dir_fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except duckdb.Error as exc:
        msg = f"cannot register catalog views: {str(exc).splitlines()[0]}"
        raise WorkspaceError(msg) from None
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)


def register_views(root: Path, stage: str, sid: str, tables: Mapping[str, str | Path]) -> None:
    """Point views at a stage output's Parquet files; all of them switch in one rename."""
    bad = [name for name in tables if not _NAME_RE.match(name)]
    if bad:
        msg = f"invalid table name {bad[0]!r}"
        raise WorkspaceError(msg)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    new = {
        name: CatalogEntry(name, stage, sid, relative_pattern(root, stage, sid, target), now)
        for name, target in tables.items()
    }
    with _writer_lock(root):
        for stale in root.glob(f".{CATALOG_FILE}.tmp-*"):  # left by a killed writer
            stale.unlink(missing_ok=True)
        _write_catalog(root, {**read_entries(root), **new})


def rewrite_portable(root: Path) -> bool:
    """Rewrite a catalog written with absolute paths (older workspaces); True if it did."""
    path = root / CATALOG_FILE
    if not path.is_file():
        return False
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            stored = [r[0] for r in con.execute("SELECT path FROM _registry").fetchall()]
    except duckdb.CatalogException:
        return False
    except duckdb.Error as exc:
        msg = f"cannot read the catalog {path}: {str(exc).splitlines()[0]}"
        raise WorkspaceError(msg) from None
    if not any(p.startswith("/") for p in stored):
        return False
    with _writer_lock(root):
        _write_catalog(root, read_entries(root))
    return True


def registry_frame(entries: Mapping[str, CatalogEntry]) -> pd.DataFrame:
    """The registry as a table, sorted by view name."""
    rows = [
        (e.view_name, e.stage, e.stage_id, e.path, e.registered_at)
        for e in sorted(entries.values(), key=lambda e: e.view_name)
    ]
    return pd.DataFrame(rows, columns=_REGISTRY_COLUMNS)


def check_read_only(sql: str) -> None:
    """Raise :class:`QueryError` unless ``sql`` is one SELECT, or one EXPLAIN of a SELECT."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        msg = f"query does not parse: {str(exc).splitlines()[0]}"
        raise QueryError(msg) from None
    if len(statements) != 1:
        msg = f"expected exactly one statement, got {len(statements)}"
        raise QueryError(msg)
    kind = statements[0].type.name
    if kind == "EXPLAIN":
        # EXPLAIN ANALYZE executes its statement: only a SELECT may be explained.
        inner = _EXPLAIN_RE.sub("", statements[0].query, count=1)
        try:
            inner_kinds = [s.type.name for s in duckdb.extract_statements(inner)]
        except duckdb.Error:
            inner_kinds = []
        if inner_kinds == ["SELECT"]:
            return
        kind = "EXPLAIN of a non-SELECT"
    elif kind == "SELECT":
        return
    msg = (
        f"refused: {kind} statements are not allowed; evfleet sql is read-only "
        "(SELECT, or EXPLAIN of a SELECT)"
    )
    raise QueryError(msg)


def _entry_files(root: Path, entry: CatalogEntry) -> list[str]:
    """The Parquet files behind a view; each must lie inside its stage output."""
    stage_dir = (root / entry.stage / entry.stage_id).resolve()
    rel = PurePosixPath(entry.path)
    if rel.is_absolute() or ".." in rel.parts:
        return []
    target = root / Path(*rel.parts)
    files = sorted(target.parent.glob(target.name)) if "*" in rel.name else [target]
    resolved = [f.resolve() for f in files if f.is_file()]
    return [str(f) for f in resolved if f.is_relative_to(stage_dir)]


@contextlib.contextmanager
def sandbox(
    root: Path, *, mentioned_in: str | None = None
) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, str]]]:
    """An in-memory DuckDB that sees the catalog's views and no file system at all.

    With ``mentioned_in``, only views whose names occur in that SQL text are exposed
    (opening every Arrow dataset costs more than most queries). Yields the connection and
    ``{view: problem}`` for views whose files are missing.
    """
    entries = read_entries(root)
    exposed = entries
    if mentioned_in is not None:
        words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", mentioned_in)}
        exposed = {name: e for name, e in entries.items() if name.lower() in words}
    con = duckdb.connect(":memory:", config=dict(_SANDBOX_CONFIG))
    broken: dict[str, str] = {}
    try:
        for name, entry in sorted(exposed.items()):
            files = _entry_files(root, entry)
            if not files:
                broken[name] = f"its files {entry.path} are missing from the workspace"
                continue
            con.register(name, pads.dataset(files, format="parquet"))
        con.register("_registry", registry_frame(entries))
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield con, broken
    finally:
        con.close()


def run_query(root: Path, sql: str) -> pd.DataFrame:
    """Run one read-only statement over the catalog's views (see the module docstring)."""
    if not (root / CATALOG_FILE).is_file():
        msg = f"no catalog in workspace {root}; run a stage first (e.g. evfleet run)"
        raise QueryError(msg)
    check_read_only(sql)
    with sandbox(root, mentioned_in=sql) as (con, broken):
        try:
            return con.execute(sql).df()
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            hint = next((f"; view {v}: {why}" for v, why in broken.items() if v in sql), "")
            msg = f"query failed: {first}{hint}"
            raise QueryError(msg) from None
