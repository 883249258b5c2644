"""Leak-free features for per-segment energy models (see :mod:`evfleet.features.catalog`).

Public API::

    table = build_features(segments, fleet_info, weather, nodes=nodes)   # training rows
    table = assign_splits(table, seed=42)              # split_vehicle / split_time labels
    edges = network_edges(edges_df, nodes_df)          # once per network
    X = network_features(edges, context)               # one context over every edge
"""

from __future__ import annotations

from evfleet.features.build import vehicle_attributes
from evfleet.features.catalog import (
    CATEGORICAL_FEATURES,
    ENERGY,
    FEATURES,
    FORBIDDEN_INPUTS,
    HISTORY_FEATURES,
    KEYS,
    NUMERIC_FEATURES,
    SPLIT_COLUMNS,
    TARGET,
)
from evfleet.features.network import (
    PredictionContext,
    context_for_vehicle,
    network_edges,
    network_features,
)
from evfleet.features.segments import build_features, daily_history_table
from evfleet.features.splits import (
    SPLITS,
    assign_splits,
    sample_trips,
    split_by_time,
    split_by_vehicle,
)

__all__ = [
    "CATEGORICAL_FEATURES",
    "ENERGY",
    "FEATURES",
    "FORBIDDEN_INPUTS",
    "HISTORY_FEATURES",
    "KEYS",
    "NUMERIC_FEATURES",
    "SPLITS",
    "SPLIT_COLUMNS",
    "TARGET",
    "PredictionContext",
    "assign_splits",
    "build_features",
    "context_for_vehicle",
    "daily_history_table",
    "network_edges",
    "network_features",
    "sample_trips",
    "split_by_time",
    "split_by_vehicle",
    "vehicle_attributes",
]
