"""MLflow plumbing: the workspace's tracking store, experiments, champion loading.

Tracking and registry live in ``<workspace>/mlflow.db`` (sqlite) with artifacts under
``<workspace>/mlartifacts/<dataset id>/``; one experiment per purpose (energy models of a
dataset: ``evfleet-energy-<dataset id>``), each tagged with the experiment kind MLflow 3's
UI reads (so it opens on *Training runs*) and a description; one registered model
(:data:`REGISTERED_MODEL`) whose alias :data:`CHAMPION_ALIAS` points at the best version
and :data:`CHALLENGER_ALIAS` at a newer one that did not beat it.

MLflow stores artifact locations as absolute paths. :func:`use_workspace` rewrites those
of a workspace that was copied or moved (everything before ``/mlartifacts`` is the old
root), so a copy reads and writes its own artifacts, never the original's.

A shared tracking server (the container stack's) replaces the sqlite store when
``$EVFLEET_MLFLOW_TRACKING_URI`` names it; artifacts still go to the workspace.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any, Final

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_EXPERIMENT_PRIMARY_METRIC_NAME, MLFLOW_RUN_NOTE

from evfleet.errors import WorkspaceError
from evfleet.models import EnergyModel
from evfleet.storage import Workspace
from tasks.mlflow_names import (
    CHAMPION_ALIAS,
    EXPERIMENT_PREFIX,
    REGISTERED_MODEL,
)

logger = logging.getLogger(__name__)

TRACKING_ENV: Final = "EVFLEET_MLFLOW_TRACKING_URI"
EXPERIMENT_KIND_TAG: Final = "mlflow.experimentKind"
"""Experiment tag MLflow 3's UI reads to choose the GenAI or the model-training view."""
TRAINING_KIND: Final = "custom_model_development"
"""Its value for a model-training experiment (the UI opens on *Training runs*)."""
ARTIFACTS_DIR: Final = "mlartifacts"
_PATH_COLUMNS: Final = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("model_versions", "source"),
    ("model_versions", "storage_location"),
    ("logged_models", "artifact_location"),
)
"""Columns of MLflow's sqlite schema that hold artifact locations."""
_OLD_ROOT = re.compile(rf"^(?P<scheme>file://)?(?P<root>/.*?)/{ARTIFACTS_DIR}(?=/|$)")


def tracking_uri(workspace: str | Path) -> str:
    """``$EVFLEET_MLFLOW_TRACKING_URI`` if set, else the workspace's sqlite tracking URI."""
    return os.environ.get(TRACKING_ENV) or f"sqlite:///{Workspace(workspace).mlflow_db}"


def create_store(workspace: str | Path) -> bool:
    """Create the workspace's sqlite store if it has none; True when this call created it.

    MLflow builds a new store with ~50 schema migrations. They run on a temporary file that
    is then linked into place in one step, so a run killed meanwhile leaves no
    half-migrated ``mlflow.db`` (on which every later run would fail: "table ... already
    exists"); a concurrent creator's store wins and this one is discarded.
    """
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    ws = Workspace(workspace)
    final = ws.mlflow_db
    if final.exists():
        return False
    tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        store = SqlAlchemyStore(f"sqlite:///{tmp}", ws.mlflow_artifacts.as_uri())
        store.engine.dispose()
        try:
            os.link(tmp, final)
        except FileExistsError:
            return False
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("created the MLflow store %s", final)
    return True


def relocate_store(workspace: str | Path) -> int:
    """Point the artifact locations of a copied or moved workspace's store at its own
    ``mlartifacts/`` (in place, one transaction). Returns the number of rows rewritten
    (0 for a workspace that has not moved, or has no store yet)."""
    ws = Workspace(workspace)
    if not ws.mlflow_db.exists():
        return 0
    root = str(ws.root)
    changed = 0
    with closing(sqlite3.connect(ws.mlflow_db, timeout=60)) as db, db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table, column in _PATH_COLUMNS:
            if table not in tables:
                continue
            rows = db.execute(f"SELECT rowid, {column} FROM {table}").fetchall()
            for rowid, value in rows:
                moved = _relocated(value, root)
                if moved is None and table == "experiments" and _is_local_outside(value):
                    # MLflow puts its Default experiment under the current directory
                    moved = (ws.mlflow_artifacts / str(rowid)).as_uri()
                if moved is not None:
                    db.execute(
                        f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                        (moved, rowid),
                    )
                    changed += 1
    if changed:
        logger.info("workspace moved: %d MLflow artifact locations now under %s", changed, root)
    return changed


def _relocated(value: str | None, root: str) -> str | None:
    """``value`` with its workspace root replaced by ``root``, or None if already there."""
    found = _OLD_ROOT.match(value or "")
    if found is None or found["root"] == root:
        return None
    return f"{found['scheme'] or ''}{root}{value[found.end('root') :]}"  # type: ignore[index]


def _is_local_outside(value: str | None) -> bool:
    """A local path (or file URI) outside any workspace's artifacts folder."""
    path = (value or "").removeprefix("file://")
    return path.startswith("/") and _OLD_ROOT.match(path) is None


def use_workspace(workspace: str | Path) -> MlflowClient:
    """Point MLflow (tracking and registry) at the workspace's store and return a client.

    A copied or moved workspace has its artifact locations rewritten first
    (:func:`relocate_store`).
    """
    ws = Workspace(workspace).ensure()
    ws.mlflow_artifacts.mkdir(parents=True, exist_ok=True)
    if not os.environ.get(TRACKING_ENV):
        create_store(ws.root)
    relocate_store(ws.root)
    uri = tracking_uri(ws.root)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def ensure_experiment(
    workspace: str | Path,
    name: str,
    *,
    folder: str,
    description: str,
    tags: dict[str, str] | None = None,
    primary_metric: str | None = None,
) -> str:
    """Id of the training experiment ``name`` (artifacts in ``mlartifacts/<folder>``),
    created if needed; its kind tag, description and ``tags`` are (re)set every call."""
    client = use_workspace(workspace)
    found = client.get_experiment_by_name(name)
    if found is None:
        location = (Workspace(workspace).mlflow_artifacts / folder).as_uri()
        experiment = str(client.create_experiment(name, artifact_location=location))
    else:
        experiment = str(found.experiment_id)
    wanted = {EXPERIMENT_KIND_TAG: TRAINING_KIND, MLFLOW_RUN_NOTE: description, **(tags or {})}
    if primary_metric:
        wanted[MLFLOW_EXPERIMENT_PRIMARY_METRIC_NAME] = primary_metric
    current = {} if found is None else found.tags
    for key, value in wanted.items():
        if current.get(key) != value:
            client.set_experiment_tag(experiment, key, value)
    return experiment


def experiment_id(workspace: str | Path, dataset_id: str) -> str:
    """Id of the dataset's energy-model experiment, created (artifacts in the workspace)
    and described if needed."""
    return ensure_experiment(
        workspace,
        f"{EXPERIMENT_PREFIX}{dataset_id}",
        folder=dataset_id,
        description=(
            f"Per-segment energy models (kWh/km) of dataset `{dataset_id}`: one parent run "
            "per training session, a child run per model family (Optuna trials nested "
            "under it), each logging its train/valid/test inputs. Metrics are named "
            "`<valid|test|time_test>/<calibrated|uncalibrated|physics_prior|train_mean>/"
            "<metric>`: `test` = held-out vehicles, `time_test` = held-out last days; "
            "`physics_prior` is the physics prior feature alone (no learning)."
        ),
        tags={"evfleet.dataset_id": dataset_id, "evfleet.purpose": "energy-models"},
    )


def find_run(
    workspace: str | Path, dataset_id: str, tags: dict[str, str], *, finished: bool = True
) -> Any | None:
    """The newest run of the dataset's experiment carrying all ``tags`` (only finished
    runs unless ``finished=False``), if any."""
    client = use_workspace(workspace)
    found = client.get_experiment_by_name(f"{EXPERIMENT_PREFIX}{dataset_id}")
    if found is None:
        return None
    query = " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())
    runs = client.search_runs(
        [found.experiment_id],
        f"{query} and attributes.status = 'FINISHED'" if finished else query,
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0] if runs else None


def champion_version(workspace: str | Path, alias: str = CHAMPION_ALIAS) -> Any:
    """The registered model version holding ``alias`` (the champion by default).

    Raises
    ------
    WorkspaceError
        When no version holds the alias (no model registered yet).
    """
    client = use_workspace(workspace)
    try:
        return client.get_model_version_by_alias(REGISTERED_MODEL, alias)
    except MlflowException:
        msg = (
            f"no {alias} model in workspace {Workspace(workspace).root}; run `evfleet train` first"
        )
        raise WorkspaceError(msg) from None


def load_champion(workspace: str | Path, alias: str = CHAMPION_ALIAS) -> EnergyModel:
    """Load the :class:`~evfleet.models.EnergyModel` holding ``alias`` (the champion)."""
    version = champion_version(workspace, alias)
    model = mlflow.sklearn.load_model(f"models:/{REGISTERED_MODEL}@{alias}")
    if not isinstance(model, EnergyModel):
        msg = f"registered model version {version.version} is not an evfleet EnergyModel"
        raise WorkspaceError(msg)
    logger.info("loaded %s v%s (%s)", alias, version.version, model.family)
    return model


def register_version(
    client: MlflowClient, model_uri: str, *, run_id: str, tags: dict[str, str]
) -> ModelVersion:
    """A new version of :data:`REGISTERED_MODEL` from a logged model (``models:/<id>``).

    Goes through the client, not ``mlflow.register_model``: that one prints
    "Successfully registered model" and "Created version" to stderr whatever the log
    level (MLflow turns its event stream back on after ``disable_logging()``).
    """
    try:
        client.create_registered_model(REGISTERED_MODEL)
    except MlflowException as exc:
        if exc.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
            raise
    model_id = model_uri.removeprefix("models:/") if model_uri.startswith("models:/") else None
    return client.create_model_version(
        REGISTERED_MODEL, source=model_uri, run_id=run_id, tags=tags, model_id=model_id
    )
