"""The training flow end to end: features, tuning, MLflow runs, champion, cache, CLI predict."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from evfleet.config import StudioConfig
from evfleet.errors import WorkspaceError
from evfleet.features import FEATURES
from evfleet.models import PROMOTION_METRIC
from evfleet.storage import Workspace, read_table
from flows.commands.train import predict
from tasks.mlflow_names import SELECTION_METRIC
from tests.fixtures.ml_dataset import MLDataset, write_workspace

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def trained(
    prefect_harness: None, ml_dataset: MLDataset, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    from flows.train import train_flow

    ws = tmp_path_factory.mktemp("train-ws")
    dataset_id, network_id = write_workspace(ws, ml_dataset)
    cfg = StudioConfig().with_overrides(
        {
            "training.models": ["linear", "lightgbm"],
            "training.n_trials": 1,
            "training.timeout_s": 30,
        }
    )
    first = train_flow(cfg, str(ws), dataset_id)
    second = train_flow(cfg, str(ws), dataset_id)
    # a second session (another seed) of a family much worse than the champion
    worse = cfg.with_overrides({"training.models": ["linear"], "training.seed": 1})
    third = train_flow(worse, str(ws), dataset_id)
    return {
        "ws": ws,
        "cfg": cfg,
        "first": first,
        "second": second,
        "third": third,
        "network_id": network_id,
        "vehicle_id": str(ml_dataset.fleet_info["vehicle_id"].iloc[1]),
    }


def test_champion_is_registered_with_alias_and_round_trips(trained: dict) -> None:
    from tasks.mlflow_utils import (
        CHAMPION_ALIAS,
        REGISTERED_MODEL,
        champion_version,
        load_champion,
        use_workspace,
    )

    ws, champion = trained["ws"], trained["first"]["champion"]
    families = trained["first"]["families"]
    assert {f.family for f in families} == {"linear", "lightgbm"}
    assert champion.metric(SELECTION_METRIC) == min(f.metric(SELECTION_METRIC) for f in families)
    version = champion_version(ws)
    assert str(version.version) == champion.version
    client = use_workspace(ws)
    assert CHAMPION_ALIAS in client.get_registered_model(REGISTERED_MODEL).aliases
    model = load_champion(ws)
    assert model.family == champion.family
    features = read_table(next((Path(ws) / "features").glob("*/features.parquet")))
    logged = mlflow.sklearn.load_model(champion.summary.model_uri)
    np.testing.assert_array_equal(model.predict(features), logged.predict(features))
    as_str = features[list(FEATURES)].astype(
        {c: str for c in FEATURES if features[c].dtype.kind not in "fiub"}
    )
    pyfunc = mlflow.pyfunc.load_model(f"models:/{REGISTERED_MODEL}@{CHAMPION_ALIAS}")
    np.testing.assert_allclose(np.asarray(pyfunc.predict(as_str)), model.predict(features))


def test_runs_log_trials_plots_and_a_cached_rerun_trains_nothing(trained: dict) -> None:
    from tasks.mlflow_utils import use_workspace

    client = use_workspace(trained["ws"])
    session = trained["first"]["session"]
    runs = _runs(client)
    kinds = {r.info.run_id: r.data.tags.get("evfleet.kind") for r in runs}
    parent = {r.info.run_id: r.data.tags.get("mlflow.parentRunId") for r in runs}
    families = [r for r in runs if parent[r.info.run_id] == session]
    assert sorted(r.data.tags["evfleet.family"] for r in families) == ["lightgbm", "linear"]
    trials = [r for r in runs if parent[r.info.run_id] in {f.info.run_id for f in families}]
    assert len(trials) == 2
    assert kinds[session] == "session"
    assert parent[session] is None
    family = families[0]
    artifacts = {a.path for a in client.list_artifacts(family.info.run_id, "plots")}
    assert {"plots/feature_importance.png", "plots/pred_vs_actual.png"} <= artifacts
    assert {"plots/compare_families.png"} == {
        a.path for a in client.list_artifacts(session, "plots")
    }
    # one metric namespace for every family, baselines included
    names = [set(r.data.metrics) for r in families]
    assert names[0] == names[1]
    for evaluation in ("test", "time_test"):
        for predictor in ("calibrated", "uncalibrated", "physics_prior", "train_mean"):
            assert f"{evaluation}/{predictor}/trip_kwh_mape" in names[0]
    assert all(SELECTION_METRIC in t.data.metrics for t in trials)
    roles = {r.data.tags["evfleet.family"]: r.data.tags["evfleet.role"] for r in families}
    assert roles[trained["first"]["champion"].family] == "champion"
    assert sorted(roles.values()) == ["candidate", "champion"]
    assert client.get_run(session).info.status == "FINISHED"
    first = {f.family: f.run_id for f in trained["first"]["families"]}
    second = {f.family: f.run_id for f in trained["second"]["families"]}
    assert first == second
    assert trained["second"]["session"] == session
    assert trained["second"]["champion"].version == trained["first"]["champion"].version
    assert trained["second"]["champion"].alias == "champion"


def _runs(client: Any) -> list[Any]:
    experiment = client.get_experiment_by_name("evfleet-energy-mlfixture-data")
    return client.search_runs([experiment.experiment_id], max_results=1000)


def test_the_experiment_opens_on_training_runs_with_a_description(trained: dict) -> None:
    from tasks.mlflow_utils import use_workspace

    experiment = use_workspace(trained["ws"]).get_experiment_by_name(
        "evfleet-energy-mlfixture-data"
    )
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert "held-out vehicles" in experiment.tags["mlflow.note.content"]
    assert experiment.tags["evfleet.dataset_id"] == "mlfixture-data"


def test_family_runs_log_their_train_valid_test_inputs(trained: dict) -> None:
    from tasks.mlflow_utils import use_workspace

    client = use_workspace(trained["ws"])
    features = trained["first"]["features"]
    table = read_table(Path(features.path) / "features.parquet")
    for summary in trained["first"]["families"]:
        inputs = client.get_run(summary.run_id).inputs.dataset_inputs
        by_context = {
            next(t.value for t in i.tags if t.key == "mlflow.data.context"): i.dataset
            for i in inputs
        }
        assert set(by_context) == {"train", "valid", "test", "time_test"}
        for context, dataset in by_context.items():
            scheme, split = ("time", "test") if context == "time_test" else ("vehicle", context)
            assert dataset.name == features.id
            assert json.loads(dataset.source) == {"uri": f"features/{features.id}/features.parquet"}
            rows = int((table[f"split_{scheme}"] == split).sum())
            assert json.loads(dataset.profile)["num_rows"] == rows > 0
        assert len({d.digest for d in by_context.values()}) == 4


def test_registered_versions_carry_signature_example_card_and_tags(trained: dict) -> None:
    from tasks.mlflow_utils import REGISTERED_MODEL, champion_version, use_workspace

    client = use_workspace(trained["ws"])
    version = champion_version(trained["ws"])
    info = mlflow.models.get_model_info(f"models:/{REGISTERED_MODEL}/{version.version}")
    inputs = {c.name for c in info.signature.inputs.inputs}
    assert inputs == set(FEATURES)
    assert info.signature.outputs is not None
    assert info.saved_input_example_info is not None
    assert version.tags["evfleet.dataset_id"] == "mlfixture-data"
    assert len(version.tags["evfleet.feature_set_hash"]) == 16
    card = version.description
    for words in ("mlfixture-data", "held-out vehicles", "physics prior only", "Split rule",
                  "Inference speed", "Noise ceiling", "Promotion"):  # fmt: skip
        assert words in card
    registered = client.get_registered_model(REGISTERED_MODEL)
    assert registered.tags["evfleet.dataset_id"] == "mlfixture-data"


def test_a_worse_model_becomes_challenger_and_the_champion_stays(trained: dict) -> None:
    from tasks.mlflow_utils import REGISTERED_MODEL, use_workspace

    first, third = trained["first"]["champion"], trained["third"]["champion"]
    assert third.family == "linear"
    assert trained["third"]["session"] != trained["first"]["session"]
    assert third.metric(PROMOTION_METRIC) > first.metric(
        PROMOTION_METRIC
    )  # the premise: it is worse
    assert third.alias == "challenger"
    assert third.version != first.version
    client = use_workspace(trained["ws"])
    aliases = client.get_registered_model(REGISTERED_MODEL).aliases
    assert {k: str(v) for k, v in aliases.items()} == {
        "champion": first.version,
        "challenger": third.version,
    }
    assert f"does not beat v{first.version}" in third.promotion


def test_time_split_day_types_are_seen_in_training(trained: dict) -> None:
    features = trained["first"]["features"]
    table = read_table(Path(features.path) / "features.parquet")
    kind = np.where(table["start_time"].dt.dayofweek >= 5, "weekend", "weekday")
    train = set(kind[table["split_time"] == "train"])
    assert set(kind[table["split_time"].isin(["valid", "test"])]) <= train
    assert (table["split_time"] == "test").any()


def test_a_copied_workspace_uses_its_own_artifacts_and_never_the_original(
    trained: dict, tmp_path: Path
) -> None:
    from tasks.mlflow_utils import load_champion, use_workspace

    original = Path(trained["ws"])
    copy = tmp_path / "copied-ws"
    shutil.copytree(original, copy)
    before = _tree_digest(original)
    parked = original.with_name(original.name + "-parked")
    original.rename(parked)  # the original is gone while the copy is used
    try:
        model = load_champion(copy)
        assert model.family == trained["first"]["champion"].family
        client = use_workspace(copy)
        run = client.get_run(trained["first"]["champion"].run_id)
        assert run.info.artifact_uri.startswith(copy.as_uri())
        assert client.list_artifacts(run.info.run_id, "plots")
        with sqlite3.connect(copy / "mlflow.db") as db:
            dump = "\n".join(db.iterdump())
            locations = db.execute("SELECT artifact_location FROM experiments").fetchall()
        assert str(original) + "/" not in dump
        assert all(loc.startswith(f"{copy.as_uri()}/mlartifacts/") for (loc,) in locations)
    finally:
        parked.rename(original)
    assert _tree_digest(original) == before


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_cli_predict_writes_per_edge_energy(trained: dict, tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(predict)
    out = tmp_path / "edges.parquet"
    args = [
        "--workspace",
        str(trained["ws"]),
        "--vehicle",
        trained["vehicle_id"],
        "--hour",
        "8.5",
        "--temp-c",
        "6",
        "--wind-kph",
        "12",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    edges = pd.read_parquet(out)
    network = Workspace(trained["ws"]).stage_dir("network", trained["network_id"])
    assert len(edges) == len(read_table(network / "edges.parquet"))
    assert {"u", "v", "key", "kwh_per_km", "energy_kwh"} <= set(edges.columns)
    assert np.isfinite(edges["energy_kwh"]).all()


def test_missing_dataset_is_a_clear_error(prefect_harness: None, tmp_path: Path) -> None:
    from flows.train import train_flow

    with pytest.raises(WorkspaceError, match="no datasets output"):
        train_flow(StudioConfig(), str(tmp_path))
