"""Read the workspace's MLflow tracking store (``mlflow.db``) for the Model Training page.

The store is opened read-only with sqlite directly: importing MLflow costs several
seconds, which would break the page's 2 s first-render budget, and reading needs none of
it. Only MLflow's long-stable core tables are used (runs, tags, latest_metrics,
experiments, model_versions, registered_model_aliases); every evfleet-specific name comes
from :mod:`app.metrics`.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from pathlib import Path
from typing import Any

import pandas as pd

from app import metrics as names


def _connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)


def family_runs(db: Path) -> pd.DataFrame:
    """One row per family run: ids, family, dataset, status, artifact folder and metrics.

    Metric columns are the keys of :data:`app.metrics.METRICS` (NaN when not logged).
    """
    sql = """
        SELECT r.run_uuid AS run_id, r.name AS run_name, r.status, r.start_time,
               r.artifact_uri, r.experiment_id, e.name AS experiment,
               fam.value AS family, ds.value AS dataset_id
        FROM runs r
        JOIN experiments e ON e.experiment_id = r.experiment_id
        JOIN tags kind ON kind.run_uuid = r.run_uuid AND kind.key = ? AND kind.value = ?
        LEFT JOIN tags fam ON fam.run_uuid = r.run_uuid AND fam.key = ?
        LEFT JOIN tags ds ON ds.run_uuid = r.run_uuid AND ds.key = ?
        WHERE r.lifecycle_stage = 'active' AND e.name LIKE ?
        ORDER BY r.start_time DESC
    """
    params = (
        names.TAG_KIND,
        names.KIND_FAMILY,
        names.TAG_FAMILY,
        names.TAG_DATASET,
        f"{names.EXPERIMENT_PREFIX}%",
    )
    with _connect(db) as con:
        runs = pd.read_sql_query(sql, con, params=params)
        keys = list(names.METRICS)
        marks = ",".join("?" * len(keys))
        values = pd.read_sql_query(
            f"SELECT run_uuid AS run_id, key, value FROM latest_metrics WHERE key IN ({marks})",
            con,
            params=keys,
        )
    wide = values.pivot_table(index="run_id", columns="key", values="value", aggfunc="last")
    runs = runs.merge(wide, left_on="run_id", right_index=True, how="left")
    for key in keys:
        if key not in runs:
            runs[key] = float("nan")
    runs["start_time"] = pd.to_datetime(runs["start_time"], unit="ms", utc=True)
    return runs


def trials(db: Path, parent_ids: list[str]) -> pd.DataFrame:
    """Optuna trial runs nested under the given family runs: parent, trial number, value."""
    if not parent_ids:
        return pd.DataFrame(columns=["parent_id", "trial", "value"])
    marks = ",".join("?" * len(parent_ids))
    sql = f"""
        SELECT p.value AS parent_id, CAST(t.value AS INTEGER) AS trial, m.value AS value
        FROM tags p
        JOIN tags t ON t.run_uuid = p.run_uuid AND t.key = ?
        JOIN latest_metrics m ON m.run_uuid = p.run_uuid AND m.key = ?
        WHERE p.key = ? AND p.value IN ({marks})
        ORDER BY parent_id, trial
    """
    params = [names.TRIAL_NUMBER_TAG, names.SELECTION_METRIC, names.TAG_PARENT, *parent_ids]
    with _connect(db) as con:
        return pd.read_sql_query(sql, con, params=params)


def aliases(db: Path) -> dict[str, dict[str, Any]]:
    """Alias (champion, challenger) -> registered version, its run id and description."""
    sql = """
        SELECT a.alias, a.version, v.run_id, v.description
        FROM registered_model_aliases a
        JOIN model_versions v ON v.name = a.name AND v.version = a.version
        WHERE a.name = ?
    """
    with _connect(db) as con:
        rows = con.execute(sql, (names.REGISTERED_MODEL,)).fetchall()
    return {
        alias: {"version": int(version), "run_id": run_id, "description": description or ""}
        for alias, version, run_id, description in rows
        if alias in names.ALIASES
    }


def artifact_file(artifact_uri: str, relative: str, *, workspace_root: Path) -> Path | None:
    """Local path of a run artifact, also when the workspace was moved since training.

    Artifact URIs are ``file://`` URIs; when the recorded folder no longer exists, the part
    after ``mlartifacts/`` is looked up under this workspace's ``mlartifacts``.
    """
    parsed = urllib.parse.urlparse(artifact_uri)
    if parsed.scheme not in ("", "file"):
        return None
    recorded = Path(urllib.parse.unquote(parsed.path)) / relative
    if recorded.is_file():
        return recorded
    parts = recorded.parts
    if "mlartifacts" in parts:
        moved = workspace_root.joinpath("mlartifacts", *parts[parts.index("mlartifacts") + 1 :])
        if moved.is_file():
            return moved
    return None
