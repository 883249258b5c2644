"""Predictions from a workspace: history, calibration and per-edge energy (evfleet.serving)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evfleet.config import TrainingConfig
from evfleet.errors import WorkspaceError
from evfleet.models import EnergyModel, predict_network, vehicle_factor
from evfleet.models.training import fit_model, split_frames
from evfleet.serving import FleetHistory, network_edge_table, predict_network_energy
from evfleet.storage import Workspace
from tasks.train import build_features_task
from tests.fixtures.ml_dataset import MLDataset, write_workspace


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, ml_dataset: MLDataset) -> dict:
    root = tmp_path_factory.mktemp("serving-ws")
    dataset_id, network_id = write_workspace(root, ml_dataset)
    features = build_features_task.fn(str(root), dataset_id, TrainingConfig(seed=7))
    ws = Workspace(root)
    table = ws.read_table("features", features.id, "features")
    frames = split_frames(table)
    model = fit_model(
        "lightgbm",
        {"num_leaves": 7, "learning_rate": 0.1},
        frames["train"],
        frames["valid"],
        seed=0,
        n_jobs=1,
    )
    return {"ws": ws, "dataset": dataset_id, "network": network_id, "features": features,
            "table": table, "model": model,
            "n_vehicles": ml_dataset.fleet_info["vehicle_id"].nunique()}  # fmt: skip


def test_empty_workspace_has_no_history_and_no_calibration(tmp_path: Path) -> None:
    history = FleetHistory.load(Workspace(tmp_path))
    assert history.fleet_info is None
    assert history.daily is None
    unused = EnergyModel.__new__(EnergyModel)  # no feature stage: the model is never asked
    assert history.calibration(unused, "EV0001", pd.Timestamp(0).date()) == 1.0
    with pytest.raises(WorkspaceError, match="no completed datasets output"):
        FleetHistory.load(Workspace(tmp_path), "nope")


def test_history_reads_the_dataset_and_its_feature_stage(served: dict) -> None:
    history = FleetHistory.load(served["ws"])
    assert history.features_id == served["features"].id
    assert history.fleet_info is not None
    assert history.daily is not None
    vehicles = set(history.fleet_info["vehicle_id"].astype(str))
    assert len(vehicles) == served["n_vehicles"]
    assert set(history.daily["vehicle_id"].astype(str)) == vehicles


def test_calibration_uses_only_days_before_the_trip(served: dict) -> None:
    history, model, table = FleetHistory.load(served["ws"]), served["model"], served["table"]
    vehicle = str(table["vehicle_id"].iloc[0])
    days = sorted(table["start_time"].dt.normalize().unique())
    assert history.calibration(model, vehicle, days[0].date()) == 1.0
    expected = vehicle_factor(model, table, vehicle, days[-1])
    assert history.calibration(model, vehicle, days[-1].date()) == pytest.approx(expected)
    assert expected != pytest.approx(1.0)


def test_network_prediction_matches_the_model_on_every_edge(served: dict) -> None:
    ws, model = served["ws"], served["model"]
    vehicle = str(served["table"]["vehicle_id"].iloc[0])
    departure = served["table"]["start_time"].max().normalize() + pd.Timedelta(hours=8.5)
    result = predict_network_energy(
        model, ws, network_id=served["network"], vehicle=vehicle, departure=departure, temp_c=6.0
    )
    history = FleetHistory.load(ws)
    assert result.context.calibration == pytest.approx(
        history.calibration(model, vehicle, departure.date())
    )
    edges = network_edge_table(ws, served["network"])
    assert len(result.edges) == len(ws.read_table("network", served["network"], "edges"))
    direct = predict_network(model, edges, result.context)
    np.testing.assert_allclose(result.edges["energy_kwh"], direct["energy_kwh"])
    km = result.edges["length_m"].sum() / 1000
    assert result.mean_kwh_per_km == pytest.approx(result.edges["energy_kwh"].sum() / km)
    assert result.predict_s >= 0
