"""Workspace storage: folder layout, content-addressed stage ids, atomic writes, catalog.

Layout (DESIGN.md §4)::

    <workspace>/network/<id>/...        datasets/<id>/<table>.parquet
    <workspace>/quality/<id>/...        features/<id>/...
    <workspace>/optimization/<id>/...   mlflow.db + mlartifacts/
    <workspace>/catalog.duckdb          one view per table of the chosen run
    <workspace>/.evfleet.lock           held by the one pipeline run writing to it

A stage writes into a hidden temporary folder next to its final folder and renames it into
place only after every file is written and ``manifest.json`` (written last) is fsynced, so a
killed run never leaves a folder that a later run trusts. Stage ids hash the stage's config
section, the ids of its inputs and a schema version: the same inputs give the same id.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evfleet import catalog
from evfleet.errors import WorkspaceBusyError, WorkspaceError

logger = logging.getLogger(__name__)

DEFAULT_WORKSPACE = "./evfleet-data"
WORKSPACE_ENV = "EVFLEET_WORKSPACE"
MANIFEST = "manifest.json"
STAGES = ("network", "datasets", "quality", "features", "optimization")
TABLE_FILES: Mapping[str, Mapping[str, str]] = {
    "network": {t: f"{t}.parquet" for t in ("nodes", "edges", "stations")},
    "datasets": {
        **{t: f"{t}.parquet" for t in ("fleet_info", "weather")},
        **{t: t for t in ("routes", "segments", "charging_sessions", "vehicle_states")},
    },
    "quality": {"quality": "quality.parquet", "quality_scores": "quality_scores.parquet"},
    "features": {"features": "features.parquet", "daily_history": "daily_history.parquet"},
    "optimization": {
        t: f"{t}.parquet" for t in ("plans", "charging_plan", "kpis", "sites", "infeasible")
    },
}
"""Stage -> table name -> its file, or its folder of Parquet parts (tables written in
parallel chunks), inside the stage's folder."""
CATALOG_STAGES = ("network", "datasets", "quality", "optimization")
"""Stages whose tables ``evfleet sql`` sees as views (features are an internal table)."""
CATALOG_VIEWS: Mapping[str, Mapping[str, str]] = {
    "optimization": {"opt_plans": "plans", "opt_charging": "charging_plan", "opt_kpis": "kpis"},
}
"""Stage -> catalog view -> table, where the views are not simply the tables' names (the
optimiser's views carry a prefix so they never shadow a dataset table)."""
LOCK_FILE = ".evfleet.lock"
_ID_LEN = 16


def _canonical(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, list | tuple):
        return [_canonical(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    return obj


def stage_id(
    stage: str,
    config: Mapping[str, Any],
    *,
    inputs: Sequence[str] = (),
    schema_version: int = 1,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Content-addressed id of a stage output.

    The id changes when, and only when, the stage name, its config section, the ids of its
    inputs, the schema version or the ``extra`` fingerprint (e.g. a file's hash) change.
    """
    payload = {
        "stage": stage,
        "config": _canonical(config),
        "inputs": list(inputs),
        "schema_version": schema_version,
        "extra": _canonical(extra or {}),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:_ID_LEN]


def file_fingerprint(path: str | Path, *, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (used to key stages on input files)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def source_fingerprint(*modules: str) -> str:
    """SHA-256 of the source code of modules or whole packages (dotted names), short form.

    A stage id that includes it changes whenever that code changes (a quality suite, a
    feature definition), so no hand-bumped version number can be forgotten. Files are
    hashed in a stable order with their path relative to the package; byte-identical
    sources give the same fingerprint on any machine.

    Raises
    ------
    WorkspaceError
        If a module cannot be found.
    """
    digest = hashlib.sha256()
    for name in sorted(set(modules)):
        spec = importlib.util.find_spec(name)
        if spec is None or (spec.origin is None and not spec.submodule_search_locations):
            msg = f"cannot fingerprint the source of {name!r}: module not found"
            raise WorkspaceError(msg)
        if spec.submodule_search_locations:
            roots = [Path(p) for p in spec.submodule_search_locations]
            files = sorted((f.relative_to(r).as_posix(), f) for r in roots for f in r.rglob("*.py"))
        else:
            origin = Path(str(spec.origin))
            files = [(origin.name, origin)]
        for rel, path in files:
            digest.update(f"{name}/{rel}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:_ID_LEN]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write text atomically (UTF-8)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    """Write JSON atomically, keys sorted so equal objects give equal bytes."""
    return atomic_write_text(path, json.dumps(_canonical(obj), indent=2, sort_keys=True) + "\n")


def write_parquet(df: pd.DataFrame | pa.Table, path: str | Path) -> Path:
    """Write a table to Parquet atomically; equal tables give equal bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        pq.write_table(table, tmp, compression="zstd")
        _fsync_file(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return path


def read_table(path: str | Path, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a Parquet file or a folder of Parquet parts into pandas."""
    path = Path(path)
    if path.is_dir():
        parts = sorted(path.glob("*.parquet"))
        if not parts:
            msg = f"table folder {path} holds no Parquet parts"
            raise WorkspaceError(msg)
        frames = [pq.read_table(p, columns=columns).to_pandas() for p in parts]
        return pd.concat(frames, ignore_index=True)
    if not path.is_file():
        msg = f"table not found: {path}"
        raise WorkspaceError(msg)
    return pq.read_table(path, columns=columns).to_pandas()


def table_file(folder: str | Path, name: str) -> Path:
    """Where table ``name`` lives inside ``folder``: one Parquet file (``<stem>.parquet``)
    or a folder of Parquet parts (``<stem>/``), whichever is there; ``name`` (the form the
    studio writes) when neither is, yet."""
    path = Path(folder) / name
    if path.exists():
        return path
    stem = name.removesuffix(".parquet")
    other = path.with_name(f"{stem}.parquet" if stem == name else stem)
    return other if other.exists() else path


def stage_table(folder: str | Path, stage: str, table: str) -> Path:
    """Path of table ``table`` inside ``folder``, an output of ``stage``: a Parquet file
    or a folder of parts (:data:`TABLE_FILES`, :func:`table_file`).

    Raises
    ------
    WorkspaceError
        When the stage has no table of that name.
    """
    files = TABLE_FILES.get(stage, {})
    if table not in files:
        msg = f"{stage} outputs have no table {table!r}; expected one of {', '.join(files)}"
        raise WorkspaceError(msg)
    return table_file(folder, files[table])


class Workspace:
    """The studio's data folder: stage outputs, MLflow store and DuckDB catalog."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root or os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE).resolve()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def mlflow_db(self) -> Path:
        return self.root / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.root / "mlartifacts"

    def ensure(self) -> Workspace:
        """Create the workspace folder if needed (raises if it is not writable)."""
        if self.root.exists() and not self.root.is_dir():
            msg = f"workspace {self.root} is a file, not a folder; pass a folder to --workspace"
            raise WorkspaceError(msg)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"cannot create workspace {self.root}: {exc.strerror}"
            raise WorkspaceError(msg) from None
        if not os.access(self.root, os.W_OK):
            msg = f"workspace {self.root} is not writable"
            raise WorkspaceError(msg)
        return self

    def stage_dir(self, stage: str, sid: str) -> Path:
        """Final folder of a stage output (may not exist yet)."""
        if stage not in STAGES:
            msg = f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}"
            raise WorkspaceError(msg)
        return self.root / stage / sid

    def table_path(self, stage: str, sid: str, table: str) -> Path:
        """Path of one table of a stage output (see :func:`stage_table`)."""
        return stage_table(self.stage_dir(stage, sid), stage, table)

    def read_table(
        self, stage: str, sid: str, table: str, *, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """One table of a stage output (one file or all its parts) as pandas."""
        return read_table(self.table_path(stage, sid, table), columns=columns)

    def is_complete(self, stage: str, sid: str) -> bool:
        """True when the stage output exists and its manifest was written (a trusted output)."""
        return (self.stage_dir(stage, sid) / MANIFEST).is_file()

    def manifest(self, stage: str, sid: str) -> dict[str, Any]:
        """The manifest of a completed stage output."""
        path = self.stage_dir(stage, sid) / MANIFEST
        if not path.is_file():
            msg = f"no completed {stage} output with id {sid} in {self.root}"
            raise WorkspaceError(msg)
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def list_runs(self, stage: str) -> list[dict[str, Any]]:
        """Manifests of completed outputs of a stage, newest first."""
        folder = self.root / stage
        if not folder.is_dir():
            return []
        runs = [
            json.loads((d / MANIFEST).read_text(encoding="utf-8"))
            for d in folder.iterdir()
            if d.is_dir() and not d.name.startswith(".") and (d / MANIFEST).is_file()
        ]
        return sorted(runs, key=lambda m: m.get("created_at", ""), reverse=True)

    def latest(self, stage: str) -> str | None:
        """Id of the most recent completed output of a stage, if any."""
        runs = self.list_runs(stage)
        return str(runs[0]["id"]) if runs else None

    def resolve(self, stage: str, sid: str | None) -> str:
        """``sid`` if given and complete, else the latest; a clear error if there is none."""
        if sid is None:
            sid = self.latest(stage)
            if sid is None:
                msg = f"no {stage} output in workspace {self.root}; run the {stage} stage first"
                raise WorkspaceError(msg)
            return sid
        if not self.is_complete(stage, sid):
            msg = f"no completed {stage} output with id {sid} in {self.root}"
            raise WorkspaceError(msg)
        return sid

    def begin_stage(self, stage: str, sid: str) -> Path:
        """Create and return a hidden staging folder for a stage output.

        Parallel workers may write into it; :meth:`commit_stage` makes it the stage's folder.
        Hidden staging folders are never listed, resolved or trusted.
        """
        final = self.stage_dir(stage, sid)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".{sid}.tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        return tmp

    def commit_stage(
        self, stage: str, sid: str, staging: Path, *, meta: Mapping[str, Any] | None = None
    ) -> Path:
        """Write the manifest into ``staging`` and atomically rename it into place."""
        final = self.stage_dir(stage, sid)
        files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
        manifest = {
            "stage": stage,
            "id": sid,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            "files": files,
            **dict(meta or {}),
        }
        atomic_write_json(staging / MANIFEST, manifest)
        _fsync_dir(staging)
        if final.exists():
            trash = final.parent / f".{sid}.old-{uuid.uuid4().hex[:8]}"
            os.replace(final, trash)
            os.replace(staging, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(staging, final)
        _fsync_dir(final.parent)
        return final

    def sweep_staging(self, stage: str, sid: str) -> int:
        """Remove staging folders of ``sid`` left by killed runs; returns how many.

        Do not call it while another process is building the same id.
        """
        folder = self.root / stage
        stale = list(folder.glob(f".{sid}.tmp-*")) + list(folder.glob(f".{sid}.old-*"))
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        return len(stale)

    @staticmethod
    def abort_stage(staging: Path) -> None:
        """Remove a staging folder (after a failure)."""
        shutil.rmtree(staging, ignore_errors=True)

    @contextlib.contextmanager
    def stage_writer(
        self, stage: str, sid: str, *, meta: Mapping[str, Any] | None = None
    ) -> Iterator[Path]:
        """Yield a staging folder; on success it atomically becomes the stage's folder.

        On an exception the staging folder is removed and any earlier output with the same
        id stays as it was.
        """
        staging = self.begin_stage(stage, sid)
        try:
            yield staging
            self.commit_stage(stage, sid, staging, meta=meta)
        finally:
            if staging.exists():
                self.abort_stage(staging)

    # ------------------------------------------------------------------ catalog
    def register_stage(self, stage: str, sid: str) -> list[str]:
        """Point the catalog's views at every table of a stage output; returns their names."""
        if stage not in CATALOG_STAGES:
            msg = f"{stage} outputs have no catalog views"
            raise WorkspaceError(msg)
        names = CATALOG_VIEWS.get(stage) or {name: name for name in TABLE_FILES[stage]}
        views = {view: self.table_path(stage, sid, table) for view, table in names.items()}
        self.register(stage, sid, views)
        return sorted(views)

    def register(self, stage: str, sid: str, tables: Mapping[str, str | Path]) -> None:
        """Point the catalog's views ``<table>`` at a stage output's Parquet files.

        ``tables`` maps view names to a Parquet file or a folder of Parquet parts inside the
        stage's folder. All views of one call switch together (one atomic catalog rename);
        the catalog stores workspace-relative paths (see :mod:`evfleet.catalog`).
        """
        self.ensure()
        catalog.register_views(self.root, stage, sid, tables)
        logger.info("registered %s/%s views: %s", stage, sid, ", ".join(tables))

    def registry(self) -> pd.DataFrame:
        """Which stage output each catalog view points at (paths relative to the workspace)."""
        return catalog.registry_frame(catalog.read_entries(self.root))

    def query(self, sql: str) -> pd.DataFrame:
        """Run one read-only statement over the catalog and return its result.

        Only a SELECT (or EXPLAIN of one) is accepted, and it runs in a sandbox that can
        read the registered stage outputs and nothing else, nor write anything (see
        :func:`evfleet.catalog.run_query`). Never blocks, nor is blocked by, a running stage.
        """
        return catalog.run_query(self.root, sql)

    # ------------------------------------------------------------------ lock
    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_FILE

    @contextlib.contextmanager
    def lock(self, purpose: str, *, wait_s: float = 0.0, poll_s: float = 0.5) -> Iterator[None]:
        """Hold the workspace for one writer (a pipeline run) for the block's duration.

        A second writer waits up to ``wait_s`` seconds, then fails with a
        :class:`WorkspaceBusyError` naming the holder. The lock is an OS file lock, so it
        is released when its process dies, even by SIGKILL. On entry, staging folders that
        killed runs left behind are removed (no other writer can be using them), and a
        catalog written by older versions with absolute paths is rewritten portable.
        """
        self.ensure()
        fh = self.lock_path.open("a+", encoding="utf-8")
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise WorkspaceBusyError(self._busy_message(wait_s)) from None
                    time.sleep(poll_s)
            since = dt.datetime.now().astimezone().isoformat(timespec="seconds")
            holder = {"pid": os.getpid(), "purpose": purpose, "since": since}
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps(holder))
            fh.flush()
            self.sweep_all_staging()
            if catalog.rewrite_portable(self.root):
                logger.info("catalog of %s rewritten with workspace-relative paths", self.root)
            try:
                yield
            finally:
                self.sweep_all_staging()
                fh.seek(0)
                fh.truncate()
                fh.flush()
                fcntl.flock(fh, fcntl.LOCK_UN)
        finally:
            fh.close()

    def _busy_message(self, wait_s: float) -> str:
        try:
            holder = json.loads(self.lock_path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            holder = {}
        who = (
            f"{holder.get('purpose', 'another evfleet command')} (pid {holder.get('pid', '?')}, "
            f"since {holder.get('since', '?')})"
            if holder
            else "another evfleet command"
        )
        waited = f" after waiting {wait_s:g} s" if wait_s > 0 else ""
        return (
            f"workspace {self.root} is busy{waited}: {who} is writing to it; wait for it to "
            "finish (or pass --wait SECONDS), or use another --workspace"
        )

    def sweep_all_staging(self) -> int:
        """Remove every hidden staging/trash folder of every stage; returns how many.

        A stage folder left empty by that goes too: a run that failed before its first output
        leaves the workspace as it found it. Only safe while holding :meth:`lock` (no writer
        can be filling one).
        """
        removed = 0
        for stage in STAGES:
            folder = self.root / stage
            if not folder.is_dir():
                continue
            leftovers = [*folder.glob(".*.tmp-*"), *folder.glob(".*.old-*")]
            for path in leftovers:
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
            if leftovers and not any(folder.iterdir()):
                with contextlib.suppress(OSError):  # not empty after all: keep it
                    folder.rmdir()
        if removed:
            logger.info("removed %d staging folder(s) left by interrupted runs", removed)
        return removed
