"""Training flow: features -> tune each family -> register the champion -> report."""

from __future__ import annotations

from typing import Any

from prefect import flow

from evfleet.config import StudioConfig
from evfleet.storage import Workspace
from tasks.train import (
    build_features_task,
    comparison_artifact_task,
    register_champion_task,
    resolve_dataset_task,
    tune_family_task,
)


@flow(name="train")
def train_flow(
    config: StudioConfig | None = None,
    workspace: str | None = None,
    dataset_id: str | None = None,
) -> dict[str, Any]:
    """Train ``config.training.models`` on a dataset and register the best as champion.

    Each step is cached on its inputs: the feature table on the dataset id and split seed,
    each family's tuning on the feature id and the training budget. Defaults: the built-in
    configuration, ``$EVFLEET_WORKSPACE`` (or ./evfleet-data) and the latest dataset.
    Returns ``{"champion": summary, "families": [summary, ...], "features": StageResult}``
    where a summary holds the family, MLflow run id, model URI and key metrics (the champion
    also its version).
    """
    config = config or StudioConfig()
    workspace = str(Workspace(workspace).root)
    dataset = resolve_dataset_task(workspace, dataset_id)
    features = build_features_task(workspace, dataset, config.training)
    summaries = [
        tune_family_task(workspace, dataset, features, family, config.training, config.performance)
        for family in config.training.models
    ]
    champion = register_champion_task(
        workspace, dataset, summaries, config.training.selection_tolerance
    )
    comparison_artifact_task(summaries, champion)
    return {"champion": champion, "families": summaries, "features": features}
