"""Registering a model version prints nothing (MLflow's own notices stay out of the CLI)."""

from __future__ import annotations

import importlib
from pathlib import Path

import mlflow
import pytest

from tasks.mlflow_names import REGISTERED_MODEL
from tasks.mlflow_train import FamilySummary
from tasks.mlflow_utils import use_workspace
from tasks.registry import _register

NOTICES = ("Created version", "Successfully registered model", "already exists")


def test_registration_prints_no_mlflow_notices(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    client = use_workspace(tmp_path)
    experiment = client.create_experiment("e", artifact_location=(tmp_path / "a").as_uri())
    models = []
    for _ in range(2):
        with mlflow.start_run(experiment_id=experiment) as run:
            logged = mlflow.initialize_logged_model(name="model")
        models.append(FamilySummary("linear", run.info.run_id, logged.model_uri))
    # MLflow turns its event stream back on by itself (autologging, model loading): the
    # registration path must be quiet even then.
    importlib.import_module("mlflow.utils.logging_utils").enable_logging()
    capfd.readouterr()

    first = _register(client, models[0], {"evfleet.family": "linear"})
    second = _register(client, models[1], {"evfleet.family": "lightgbm"})
    again = _register(client, models[0], {"evfleet.family": "linear"})

    out, err = capfd.readouterr()
    for notice in NOTICES:
        assert notice not in out + err
    assert [str(v.version) for v in (first, second, again)] == ["1", "2", "1"]
    stored = client.get_model_version(REGISTERED_MODEL, "2")
    assert stored.run_id == models[1].run_id
    assert stored.source == models[1].model_uri
    assert stored.tags == {"evfleet.family": "lightgbm"}
