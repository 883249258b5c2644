"""Batch inference: energy of every edge of a network for one context, and its speed.

This is the call the router makes: build the edge attributes of a network once
(:func:`evfleet.features.network_edges`), then predict per-edge kWh for any vehicle,
weather and hour in vectorised batches.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from evfleet.features.build import planned_route
from evfleet.features.network import PredictionContext, network_features, static_columns
from evfleet.models.energy_model import EnergyModel

logger = logging.getLogger(__name__)


def predict_network(
    model: EnergyModel,
    edges: pd.DataFrame,
    context: PredictionContext,
    *,
    batch_size: int = 1_000_000,
) -> pd.DataFrame:
    """Predicted ``kwh_per_km`` and ``energy_kwh`` of every edge under ``context``.

    Parameters
    ----------
    model
        A fitted energy model (e.g. :func:`load_champion` in the tasks layer).
    edges
        Output of :func:`evfleet.features.network_edges` (keeps ``u, v, key``).
    context
        Vehicle, departure time and weather shared by every edge (its ``calibration``
        factor scales the predictions).
    batch_size
        Edges per feature-and-predict batch (bounds memory).

    Returns
    -------
    pandas.DataFrame
        ``u``, ``v``, ``key``, ``length_m``, ``kwh_per_km`` and ``energy_kwh``.
    """
    static = static_columns(edges)  # context-free: computed once per network (LRU)
    parts = []
    for start in range(0, len(edges), batch_size):
        rows = slice(start, start + batch_size)
        part = {k: v[rows] if np.ndim(v) else v for k, v in static.items()}
        X = network_features(edges.iloc[rows], context, static=part)
        parts.append(model.predict_energy(X, batch_size=batch_size))
    pred = pd.concat(parts) if parts else pd.DataFrame({"kwh_per_km": [], "energy_kwh": []})
    out = edges.loc[:, ["u", "v", "key", "length_m"]].copy()
    out["kwh_per_km"] = pred["kwh_per_km"].to_numpy() * context.calibration
    out["energy_kwh"] = pred["energy_kwh"].to_numpy() * context.calibration
    return out


def route_legs(route: pd.DataFrame, context: PredictionContext) -> pd.DataFrame:
    """Edges of one planned route with their route features and planned clock times.

    The first edge starts and the last edge ends at standstill (``is_trip_start`` /
    ``is_trip_end``); :func:`planned_route` (the function the training features use)
    adds each edge's neighbours on the route, the driving time before it and its planned
    clock time (departure + expected durations of the earlier edges).
    """
    flags = np.zeros(len(route))
    start, end = flags.copy(), flags.copy()
    start[:1] = 1.0
    end[-1:] = 1.0
    legs = route.reset_index(drop=True)
    around = planned_route(legs, pd.Timestamp(context.departure).to_datetime64())
    return legs.assign(is_trip_start=start, is_trip_end=end, **around)


def route_features(route: pd.DataFrame, context: PredictionContext) -> pd.DataFrame:
    """The model inputs :func:`predict_route` predicts from (one row per route edge)."""
    return network_features(route_legs(route, context), context)


def predict_route(
    model: EnergyModel, route: pd.DataFrame, context: PredictionContext
) -> pd.DataFrame:
    """Per-edge energy of one planned route (rows of :func:`network_edges` in driving order).

    Same as :func:`predict_network` on the edges of :func:`route_legs`: standstill at
    both ends, the expected speeds each edge accelerates from and slows to, the turn onto
    the next edge, the driving time before it (the cabin and tyres warm up over the first
    minutes) and its planned clock time.
    """
    legs = route_legs(route, context)
    return predict_network(model, legs, context, batch_size=max(len(legs), 1))


def measure_throughput(model: EnergyModel, X: pd.DataFrame, *, repeats: int = 3) -> float:
    """Best-of-``repeats`` rows per second of :meth:`EnergyModel.predict` on ``X``."""
    model.predict(X.iloc[: min(len(X), 1000)])
    best = np.inf
    for _ in range(repeats):
        started = time.perf_counter()
        model.predict(X)
        best = min(best, time.perf_counter() - started)
    return float(len(X) / best)
