"""The training flow end to end: features, tuning, MLflow runs, champion, cache, CLI predict."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from evfleet.config import StudioConfig
from evfleet.errors import WorkspaceError
from evfleet.features import FEATURES
from evfleet.storage import Workspace, read_table
from flows.commands.train import predict
from tests.fixtures.ml_dataset import make_ml_dataset, write_workspace

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def trained(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> dict:
    from flows.train import train_flow

    ws = tmp_path_factory.mktemp("train-ws")
    dataset_id, network_id = write_workspace(
        ws, make_ml_dataset(n_vehicles=8, days=3, trips_per_day=2)
    )
    cfg = StudioConfig().with_overrides(
        {
            "training.models": ["linear", "lightgbm"],
            "training.n_trials": 1,
            "training.timeout_s": 30,
        }
    )
    first = train_flow(cfg, str(ws), dataset_id)
    second = train_flow(cfg, str(ws), dataset_id)
    return {"ws": ws, "cfg": cfg, "first": first, "second": second, "network_id": network_id}


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
    assert {f["family"] for f in families} == {"linear", "lightgbm"}
    assert champion["valid_seg_kwh_mae"] == min(f["valid_seg_kwh_mae"] for f in families)
    version = champion_version(ws)
    assert str(version.version) == champion["version"]
    client = use_workspace(ws)
    assert CHAMPION_ALIAS in client.get_registered_model(REGISTERED_MODEL).aliases
    model = load_champion(ws)
    assert model.family == champion["family"]
    features = read_table(next((Path(ws) / "features").glob("*/features.parquet")))
    logged = mlflow.sklearn.load_model(champion["model_uri"])
    np.testing.assert_array_equal(model.predict(features), logged.predict(features))
    as_str = features[list(FEATURES)].astype(
        {c: str for c in FEATURES if features[c].dtype.kind not in "fiub"}
    )
    pyfunc = mlflow.pyfunc.load_model(f"models:/{REGISTERED_MODEL}@{CHAMPION_ALIAS}")
    np.testing.assert_allclose(np.asarray(pyfunc.predict(as_str)), model.predict(features))


def test_runs_log_trials_plots_and_a_cached_rerun_trains_nothing(trained: dict) -> None:
    from tasks.mlflow_utils import use_workspace

    client = use_workspace(trained["ws"])
    experiment = client.get_experiment_by_name("evfleet-energy-mlfixture-data")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    trials = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 2
    assert len(trials) == 2
    artifacts = {a.path for a in client.list_artifacts(parents[0].info.run_id, "plots")}
    assert {"plots/feature_importance.png", "plots/pred_vs_actual.png"} <= artifacts
    assert "test_trip_kwh_mape" in parents[0].data.metrics
    first = {f["family"]: f["run_id"] for f in trained["first"]["families"]}
    second = {f["family"]: f["run_id"] for f in trained["second"]["families"]}
    assert first == second
    assert trained["second"]["champion"]["version"] == trained["first"]["champion"]["version"]


def test_cli_predict_writes_per_edge_energy(trained: dict, tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(predict)
    out = tmp_path / "edges.parquet"
    args = [
        "--workspace",
        str(trained["ws"]),
        "--vehicle",
        "EV0001",
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
