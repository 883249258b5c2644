"""Energy predictions from a workspace: the one path ``evfleet predict`` and the router share.

A prediction needs a fitted model (the tasks layer loads the MLflow champion and hands it
over), the context of a trip (the vehicle's register row and its history before the day of
travel, from the workspace's latest dataset and feature stages, read through
:class:`~evfleet.storage.Workspace`), the vehicle's calibration factor (its days before
the trip) and the network's edges. Nothing here imports MLflow.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, replace

import pandas as pd

from evfleet.features import PredictionContext, context_for_vehicle, network_edges
from evfleet.models import EnergyModel, predict_network, vehicle_factor
from evfleet.storage import Workspace


@dataclass(frozen=True)
class FleetHistory:
    """What a dataset knows about the fleet before a trip: the register, vehicle-day
    totals and the feature stage the calibration reads (each ``None`` when absent)."""

    workspace: Workspace
    fleet_info: pd.DataFrame | None = None
    daily: pd.DataFrame | None = None
    features_id: str | None = None

    @classmethod
    def load(cls, ws: Workspace, dataset_id: str | None = None) -> FleetHistory:
        """The history of ``dataset_id`` (default: the latest dataset; empty without any).

        Raises
        ------
        WorkspaceError
            When ``dataset_id`` is given but not a completed dataset of the workspace.
        """
        if dataset_id is None and ws.latest("datasets") is None:
            return cls(ws)
        sid = ws.resolve("datasets", dataset_id)
        fleet = ws.read_table("datasets", sid, "fleet_info")
        features = [m for m in ws.list_runs("features") if m.get("dataset_id") == sid]
        if not features:
            return cls(ws, fleet)
        fid = str(features[0]["id"])
        return cls(ws, fleet, ws.read_table("features", fid, "daily_history"), fid)

    def context(
        self,
        vehicle: str,
        *,
        departure: pd.Timestamp,
        temp_c: float,
        wind_kph: float = 0.0,
        wind_from_deg: float = 0.0,
        humidity_pct: float = 70.0,
        is_raining: bool = False,
    ) -> PredictionContext:
        """Context of a trip of ``vehicle`` (a fleet vehicle id or a catalogue model)."""
        return context_for_vehicle(
            vehicle,
            departure=departure,
            temp_c=temp_c,
            fleet_info=self.fleet_info,
            daily=self.daily,
            wind_kph=wind_kph,
            wind_from_deg=wind_from_deg,
            humidity_pct=humidity_pct,
            is_raining=is_raining,
        )

    def calibration(self, model: EnergyModel, vehicle: str, day: dt.date) -> float:
        """The vehicle's calibration factor from its days before ``day`` (1 for a vehicle
        without history, or without a feature stage)."""
        if self.features_id is None:
            return 1.0
        rows = self.workspace.read_table("features", self.features_id, "features")
        rows = rows.loc[rows["vehicle_id"].astype(str) == vehicle]
        return vehicle_factor(model, rows, vehicle, pd.Timestamp(day)) if len(rows) else 1.0

    def calibrated(
        self, model: EnergyModel, vehicle: str, context: PredictionContext
    ) -> PredictionContext:
        """``context`` with the vehicle's calibration factor for its day of departure."""
        day = pd.Timestamp(context.departure).date()
        return replace(context, calibration=self.calibration(model, vehicle, day))


def network_edge_table(ws: Workspace, network_id: str) -> pd.DataFrame:
    """The model-ready edge table of a network (:func:`evfleet.features.network_edges`)."""
    return network_edges(
        ws.read_table("network", network_id, "edges"), ws.read_table("network", network_id, "nodes")
    )


@dataclass(frozen=True)
class NetworkPrediction:
    """Per-edge energy of a network under one trip context."""

    edges: pd.DataFrame
    """u, v, key, length_m, kwh_per_km and energy_kwh per edge."""
    context: PredictionContext
    """The context predicted for, calibration factor included."""
    predict_s: float
    """Wall time of the prediction itself (loading excluded), s."""

    @property
    def mean_kwh_per_km(self) -> float:
        """Energy over distance of the whole network, kWh/km."""
        km = float(self.edges["length_m"].sum()) / 1000.0
        return float(self.edges["energy_kwh"].sum()) / km if km > 0 else float("nan")


def predict_network_energy(
    model: EnergyModel,
    ws: Workspace,
    *,
    network_id: str,
    vehicle: str,
    departure: pd.Timestamp,
    temp_c: float,
    dataset_id: str | None = None,
    wind_kph: float = 0.0,
    wind_from_deg: float = 0.0,
    humidity_pct: float = 70.0,
    is_raining: bool = False,
    batch_size: int = 1_000_000,
) -> NetworkPrediction:
    """Energy of every edge of a workspace network for one trip of ``vehicle``, the
    vehicle calibrated on its history in ``dataset_id`` (default: the latest dataset)."""
    history = FleetHistory.load(ws, dataset_id)
    context = history.context(
        vehicle,
        departure=departure,
        temp_c=temp_c,
        wind_kph=wind_kph,
        wind_from_deg=wind_from_deg,
        humidity_pct=humidity_pct,
        is_raining=is_raining,
    )
    edges = network_edge_table(ws, network_id)
    context = history.calibrated(model, vehicle, context)
    started = time.perf_counter()
    pred = predict_network(model, edges, context, batch_size=batch_size)
    return NetworkPrediction(pred, context, time.perf_counter() - started)
