"""Training flow: features -> session -> tune each family -> register -> close -> report."""

from __future__ import annotations

from typing import TypedDict

from prefect import flow

from evfleet.config import StudioConfig
from evfleet.storage import Workspace
from tasks.common import StageResult
from tasks.mlflow_train import ChampionSummary, FamilySummary
from tasks.registry import comparison_artifact_task, finish_session_task, register_champion_task
from tasks.train import (
    build_features_task,
    resolve_dataset_task,
    start_session_task,
    tune_family_task,
)


class TrainingResult(TypedDict):
    """What a training flow hands back."""

    champion: ChampionSummary
    families: list[FamilySummary]
    features: StageResult
    session: str
    """MLflow run id of the session's parent run."""


@flow(name="train")
def train_flow(
    config: StudioConfig | None = None,
    workspace: str | None = None,
    dataset_id: str | None = None,
) -> TrainingResult:
    """Train ``config.training.models`` on a dataset; register the best as champion if it
    beats the current one on the same held-out rows, else as challenger.

    Each step is cached on its inputs: the feature table on the dataset id and split seed,
    the session (MLflow parent run) on the features and the budget, each family's tuning
    (a child run) on the feature id and the budget. Defaults: the built-in configuration,
    ``$EVFLEET_WORKSPACE`` (or ./evfleet-data) and the latest dataset. Returns the
    registered family (its version, alias and the reason for it), every family's run
    summary, the feature stage and the session's run id (:class:`TrainingResult`).
    """
    config = config or StudioConfig()
    workspace = str(Workspace(workspace).root)
    dataset = resolve_dataset_task(workspace, dataset_id)
    features = build_features_task(workspace, dataset, config.training)
    session = start_session_task(workspace, dataset, features, config.training, config.performance)
    summaries = [
        tune_family_task(
            workspace, dataset, features, session, family, config.training, config.performance
        )
        for family in config.training.models
    ]
    champion = register_champion_task(
        workspace, dataset, features, summaries, config.training.selection_tolerance
    )
    finish_session_task(workspace, session, summaries, champion)
    comparison_artifact_task(summaries, champion)
    return TrainingResult(champion=champion, families=summaries, features=features, session=session)
