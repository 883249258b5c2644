"""Benchmark batch energy inference: edges per second per model family (and the champion).

Usage::

    python bench/bench_predict.py [--edges 1000000] [--threads 2] [--workspace DIR]

Each family is fitted once with representative hyperparameters on the seeded ML fixture
(or on the workspace's latest feature table with ``--workspace``), then predicts the
features of ``--edges`` network edges under one context. Two rates are printed: the model
alone (``EnergyModel.predict`` on a ready feature frame) and the router's full call
(``predict_network``: network-wide feature building + prediction). With ``--workspace``
the registered champion is measured too.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numba
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.fixtures when run as a script

from evfleet.config import ModelFamily  # noqa: E402
from evfleet.features import (  # noqa: E402
    PredictionContext,
    assign_splits,
    build_features,
    network_edges,
    network_features,
)
from evfleet.models import (  # noqa: E402
    EnergyModel,
    fit_model,
    middle_params,
    predict_network,
    split_frames,
)
from evfleet.storage import Workspace, read_table  # noqa: E402


def _rate(fn: Any, n: int, repeats: int = 3) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return n / best


def _inputs(workspace: Path | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A split feature table and network edges (fixture, or the workspace's latest)."""
    if workspace is not None:
        ws = Workspace(workspace)
        feats = read_table(
            ws.stage_dir("features", ws.resolve("features", None)) / "features.parquet"
        )
        net = ws.stage_dir("network", ws.resolve("network", None))
        return feats, network_edges(
            read_table(net / "edges.parquet"), read_table(net / "nodes.parquet")
        )
    from tests.fixtures.ml_dataset import standalone_ml_dataset

    data = standalone_ml_dataset(n_vehicles=24, days=4, seed=1)
    feats = build_features(
        data.segments, data.fleet_info, data.weather, nodes=data.nodes, edges=data.edges
    )
    return assign_splits(feats, seed=1), network_edges(data.edges, data.nodes)


def _row(name: str, model: EnergyModel, edges: pd.DataFrame, context: PredictionContext) -> str:
    X = network_features(edges, context)
    model_rate = _rate(lambda: model.predict(X), len(X))
    full_rate = _rate(lambda: predict_network(model, edges, context), len(edges))
    return f"{name:<22} {model_rate / 1e6:>10.2f} {full_rate / 1e6:>14.2f}"


def main(argv: list[str] | None = None) -> None:
    """Fit each family once and print its inference throughput."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workspace", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    numba.set_num_threads(args.threads)
    table, base_edges = _inputs(args.workspace)
    reps = -(-args.edges // len(base_edges))
    edges = pd.concat([base_edges] * reps, ignore_index=True).iloc[: args.edges]
    context = PredictionContext(
        model="tesla_model_3",
        mass_kg=1980,
        battery_kwh=75,
        departure=pd.Timestamp("2024-01-16 08:30"),
        temp_c=6.0,
        wind_kph=12,
        wind_from_deg=280,
    )
    frames = split_frames(table)
    print(f"{len(edges):,} edges, {args.threads} threads; million edges/s")
    print(f"{'model':<22} {'model only':>10} {'features+model':>14}")
    for family in ModelFamily:  # each at the middle of its search space (a typical size)
        params = middle_params(family)
        model = fit_model(family, params, frames["train"], frames["valid"], n_jobs=args.threads)
        print(_row(family.value, model, edges, context), flush=True)
    if args.workspace is not None:
        from tasks.mlflow_utils import load_champion

        champion = load_champion(args.workspace)
        print(_row(f"champion ({champion.family})", champion, edges, context))


if __name__ == "__main__":
    main()
