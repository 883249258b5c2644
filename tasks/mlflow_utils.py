"""MLflow plumbing: the workspace's tracking store, experiments, champion loading.

Tracking and registry live in ``<workspace>/mlflow.db`` (sqlite) with artifacts under
``<workspace>/mlartifacts/<dataset id>/``; one experiment per dataset, one registered model
(:data:`REGISTERED_MODEL`) whose alias :data:`CHAMPION_ALIAS` points at the best version.
A shared tracking server (the container stack's) replaces the sqlite store when
``$EVFLEET_MLFLOW_TRACKING_URI`` names it; artifacts still go to the workspace.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Final

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from evfleet.errors import WorkspaceError
from evfleet.models import EnergyModel
from evfleet.storage import Workspace

logger = logging.getLogger(__name__)

REGISTERED_MODEL: Final = "evfleet-segment-energy"
CHAMPION_ALIAS: Final = "champion"
EXPERIMENT_PREFIX: Final = "evfleet-energy-"
TRACKING_ENV: Final = "EVFLEET_MLFLOW_TRACKING_URI"


def tracking_uri(workspace: str | Path) -> str:
    """``$EVFLEET_MLFLOW_TRACKING_URI`` if set, else the workspace's sqlite tracking URI."""
    return os.environ.get(TRACKING_ENV) or f"sqlite:///{Workspace(workspace).mlflow_db}"


def use_workspace(workspace: str | Path) -> MlflowClient:
    """Point MLflow (tracking and registry) at the workspace's store and return a client."""
    ws = Workspace(workspace).ensure()
    ws.mlflow_artifacts.mkdir(parents=True, exist_ok=True)
    uri = tracking_uri(ws.root)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(workspace: str | Path, dataset_id: str) -> str:
    """Id of the dataset's experiment, created (with artifacts in the workspace) if needed."""
    client = use_workspace(workspace)
    name = f"{EXPERIMENT_PREFIX}{dataset_id}"
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = (Workspace(workspace).mlflow_artifacts / dataset_id).as_uri()
    return str(client.create_experiment(name, artifact_location=location))


def find_run(workspace: str | Path, dataset_id: str, tags: dict[str, str]) -> Any | None:
    """The newest finished run of the dataset's experiment carrying all ``tags``, if any."""
    client = use_workspace(workspace)
    found = client.get_experiment_by_name(f"{EXPERIMENT_PREFIX}{dataset_id}")
    if found is None:
        return None
    query = " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())
    runs = client.search_runs(
        [found.experiment_id],
        f"{query} and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0] if runs else None


def champion_version(workspace: str | Path) -> Any:
    """The registered model version holding the champion alias.

    Raises
    ------
    WorkspaceError
        When no model has been registered in the workspace yet.
    """
    client = use_workspace(workspace)
    try:
        return client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS)
    except MlflowException:
        msg = (
            f"no champion model in workspace {Workspace(workspace).root}; run `evfleet train` first"
        )
        raise WorkspaceError(msg) from None


def load_champion(workspace: str | Path) -> EnergyModel:
    """Load the champion :class:`~evfleet.models.EnergyModel` of a workspace."""
    version = champion_version(workspace)
    model = mlflow.sklearn.load_model(f"models:/{REGISTERED_MODEL}@{CHAMPION_ALIAS}")
    if not isinstance(model, EnergyModel):
        msg = f"registered model version {version.version} is not an evfleet EnergyModel"
        raise WorkspaceError(msg)
    logger.info("loaded champion v%s (%s)", version.version, model.family)
    return model
