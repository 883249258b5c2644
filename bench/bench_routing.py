"""Benchmark of the battery-aware routing engine against networkx, in one run.

Run: ``.venv/bin/python bench/bench_routing.py [--pairs 200] [--nx-pairs 200] [--clock cpu]
[--workspace W | --ml-family F --ml-size S]``

On the SF extract (``EVFLEET_TEST_DATA``/osm/sf_north_filtered.osm.bz2; skipped when
absent) and the embedded default network, with 200 seeded random origin/destination
pairs, prints median and p95 latency (ms) of: networkx Dijkstra (time) and
Bellman-Ford (energy with regeneration) baselines; our time / energy / weighted queries
with Dijkstra, A* and the contraction hierarchy; exact (SF) or ε = 1 % (default) Pareto
sets; SOC-aware queries from a low SOC that need at least one charging stop; the one-off
costs of the A* landmark bounds and of the hierarchy's customisation for a new weight,
and of the hierarchy itself (once per network); and the time to build a new context's
weight arrays with the physics model and with an ML model: the ``@champion`` of
workspace ``W`` (``--workspace``), else stand-ins fitted on the seeded ML fixture with the
middle of each family's search space, or its most costly corner (``--ml-size largest``);
``--ml-family``: one family, or ``all``, a row each, the default: any family can become
the studio's champion. Ratios are networkx median / ours median, measured in the same run
(the machine is shared, absolute times are noisy). Issue 13's targets are printed next to
each row.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from evfleet.config import ModelFamily, NetworkConfig, RoutingAlgorithm, StudioConfig
from evfleet.errors import RoutingError
from evfleet.features import assign_splits, build_features, context_for_vehicle, network_edges
from evfleet.fleet.charging import Tariff
from evfleet.models import EnergyModel, fit_model, middle_params, split_frames
from evfleet.models.families import boosting_rounds
from evfleet.network import RoadGraph, build_network, save_network
from evfleet.network._hierarchy import Hierarchy
from evfleet.routing import (
    EdgeCostModel,
    EdgeWeights,
    RoutingOptions,
    StationSet,
    model_energy_source,
    pareto_routes,
    plan_route,
    plan_soc_route,
)
from evfleet.vehicles import get_vehicle

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.fixtures when run as a script
DATA = Path(os.environ.get("EVFLEET_TEST_DATA") or REPO.parent / "shared" / "data")
VEHICLE = "nissan_leaf"
DEPART = pd.Timestamp("2024-01-15 08:00")
TARGETS = {
    "SF extract": {"pareto": "<= 50", "soc": "<= 5", "energy": "<= 0.5"},
    "default": {"pareto": "<= 500", "soc": "<= 100", "context": "<= 150", "energy": "<= 5"},
}


LARGEST_PARAMS: dict[ModelFamily, dict[str, Any]] = {
    ModelFamily.LINEAR: {"alpha": 1e-4},
    ModelFamily.RANDOM_FOREST: {
        "n_estimators": 160,
        "max_depth": 16,
        "min_samples_leaf": 2,
        "max_features": 1.0,
        "max_samples": 1.0,
    },
    ModelFamily.XGBOOST: {
        "learning_rate": 0.08,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "reg_lambda": 10.0,
        "max_depth": 7,
        "min_child_weight": 0.01,
    },
    ModelFamily.LIGHTGBM: {
        "learning_rate": 0.08,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "reg_lambda": 10.0,
        "num_leaves": 64,
        "min_child_samples": 5,
    },
    ModelFamily.CATBOOST: {
        "learning_rate": 0.08,
        "depth": 6,
        "l2_leaf_reg": 20.0,
        "random_strength": 0.01,
        "bagging_temperature": 0.0,
    },
}
"""The corner of each search space with the most work per prediction (most and deepest
trees, smallest learning rate and leaves): what a tuned champion can cost at worst."""


def _ml_models(workspace: Path | None, family: str, size: str = "mid") -> dict[str, EnergyModel]:
    """Models to time the ML weights with, by row label: the ``@champion`` of ``workspace``,
    else stand-ins fitted on the seeded ML fixture as the studio fits them (one family, or
    every family with ``all``) with the middle of its search space
    (:func:`evfleet.models.middle_params`, ``mid``) or :data:`LARGEST_PARAMS` (``largest``)."""
    if workspace is not None:
        from flows.env import configure

        configure(workspace)  # offline settings, before mlflow is imported
        from tasks.mlflow_utils import load_champion

        model = load_champion(workspace)
        print(f"ML weights: @champion of {workspace} ({_ml_size(model)})")
        return {f"champion {model.family}": model}
    from tests.fixtures.ml_dataset import standalone_ml_dataset

    families = list(ModelFamily) if family == "all" else [ModelFamily(family)]
    data = standalone_ml_dataset(n_vehicles=24, days=4, seed=1)
    feats = build_features(
        data.segments, data.fleet_info, data.weather, nodes=data.nodes, edges=data.edges
    )
    frames = split_frames(assign_splits(feats, seed=1))
    models = {}
    for fam in families:
        params = middle_params(fam) if size == "mid" else LARGEST_PARAMS[fam]
        model = fit_model(fam, params, frames["train"], frames["valid"], n_jobs=2)
        models[model.family] = model
    print(
        "ML weights: stand-ins fitted on the seeded ML fixture (no --workspace) with the "
        f"{'middle' if size == 'mid' else 'largest ensembles'} of the search spaces: "
        f"{', '.join(_ml_size(m) for m in models.values())}"
    )
    return models


def _ml_size(model: EnergyModel) -> str:
    """Family and ensemble size (what a new context's cost grows with), e.g.
    ``lightgbm 96 trees / 4.1k nodes``."""
    fitted = model.pipeline[-1]
    trees = boosting_rounds(fitted) or len(getattr(fitted, "estimators_", ()))
    if not trees:
        return model.family
    compiled = model.compiled
    kind = "leaves" if hasattr(compiled, "leaf") else "nodes"  # symmetric trees: leaves
    size = getattr(compiled, "leaf" if kind == "leaves" else "feature", np.empty(0)).size
    return f"{model.family} {trees} trees / {size / 1e3:.1f}k {kind}"


def _context_ms(model: EdgeCostModel) -> list[float]:
    """Time to build the weight arrays of 7 new contexts (the LRU misses each)."""
    return [
        _timed(lambda h=h: model.weights(context_for_vehicle(
            VEHICLE, departure=DEPART + pd.Timedelta(minutes=h), temp_c=10.0 + 0.1 * h
        )))
        for h in range(1, 8)
    ]  # fmt: skip


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}
_clock = {"now": time.perf_counter}
"""The clock of every timing (``--clock``): wall time, or this thread's CPU time, which
other processes on a shared machine disturb far less."""


def _timed(fn: Callable[[], Any], reps: int = 1) -> float:
    now = _clock["now"]
    start = now()
    for _ in range(reps):
        fn()
    return (now() - start) / reps * 1e3


def _stats(ms: list[float]) -> tuple[float, float]:
    return float(np.median(ms)), float(np.percentile(ms, 95))


def _nx_graph(graph: RoadGraph, w: EdgeWeights) -> nx.DiGraph:
    g = nx.DiGraph()
    for u, v, t, e in zip(
        graph.node_ids[graph.edge_u],
        graph.node_ids[graph.edge_v],
        w.time_s,
        w.energy_kwh,
        strict=True,
    ):
        if not g.has_edge(u, v) or g[u][v]["time"] > t:
            g.add_edge(int(u), int(v), time=float(t), energy=float(e))
    return g


def _low_soc_pairs(
    graph: RoadGraph, w: EdgeWeights, opts: RoutingOptions, n: int, rng: np.random.Generator
) -> list[tuple[int, int, float]]:
    """Pairs and start SOCs (reserve + half the trip's need): each needs a charging stop."""
    cap = w.context.battery_kwh
    min_kwh = 0.02 * cap if graph.n_nodes > 5000 else 0.3
    out: list[tuple[int, int, float]] = []
    while len(out) < n:
        o, d = (int(x) for x in rng.choice(graph.node_ids, 2, replace=False))
        need = plan_route(graph, w, o, d, objective="energy", options=opts, soc_start=0.5)
        if need.energy_kwh >= min_kwh:
            out.append((o, d, opts.reserve_soc + 0.5 * need.energy_kwh / cap))
    return out


def bench_network(
    label: str, graph: RoadGraph, pairs: int, nx_pairs: int, ml: dict[str, EnergyModel]
) -> None:
    cfg = StudioConfig()
    tariff = Tariff.from_config(cfg.charging)
    model = EdgeCostModel(graph, tariff=tariff)
    spec = get_vehicle(VEHICLE)
    ctx = context_for_vehicle(VEHICLE, departure=DEPART, temp_c=12.0)
    model.weights(ctx)
    ctx_ms = _context_ms(model)
    tiny = np.array([0, 1], dtype=np.int64)
    Hierarchy.build(3, tiny, tiny + 1)  # load the compiled kernels before timing
    hierarchy_ms = _timed(lambda: graph.hierarchy)
    ml_edges = network_edges(graph.edges, graph.nodes)
    ml_ms = {}
    for name, ml_model in ml.items():
        ml_costs = EdgeCostModel(
            graph, tariff=tariff, energy_source=model_energy_source(ml_model, ml_edges)
        )
        ml_costs.weights(ctx)
        ml_ms[name] = _context_ms(ml_costs)
    w = model.weights(ctx)
    stations = StationSet.build(graph, spec, tariff, depart_clock_s=8 * 3600.0)
    rng = np.random.default_rng(13)
    od = [tuple(int(x) for x in rng.choice(graph.node_ids, 2, replace=False)) for _ in range(pairs)]
    rows: dict[str, list[float]] = {}
    oracle = _nx_graph(graph, w)
    for o, d in od[:nx_pairs]:
        rows.setdefault("networkx dijkstra time", []).append(
            _timed(lambda o=o, d=d: nx.dijkstra_path(oracle, o, d, weight="time"))
        )
        rows.setdefault("networkx bellman-ford energy", []).append(
            _timed(lambda o=o, d=d: nx.bellman_ford_path(oracle, o, d, weight="energy"))
        )
    for algo in RoutingAlgorithm:
        opts = RoutingOptions.from_config(cfg.with_overrides({"optimization.algorithm": algo}))
        for objective in ("time", "energy", "weighted"):
            plan_route(graph, w, *od[0], objective=objective, options=opts)
            rows[f"ours {objective} {algo.value}"] = [
                _timed(lambda o=o, d=d, obj=objective, op=opts: plan_route(
                    graph, w, o, d, objective=obj, options=op, soc_start=1.0
                ))
                for o, d in od
            ]  # fmt: skip
    fresh = [graph.prepare(w.time_s * (1.0 + 1e-3 * k)) for k in range(1, 4)]
    rows["A* landmarks of a new weight"] = [
        _timed(lambda p=p: graph.landmarks(p)) for p in fresh
    ]  # fmt: skip
    rows["CH customisation of a new weight"] = [
        _timed(lambda p=p: graph.customised(p)) for p in fresh
    ]  # fmt: skip
    opts = RoutingOptions.from_config(cfg.with_overrides({"optimization.algorithm": "astar"}))
    pareto_ms, sizes = [], []
    for o, d in od[: max(pairs // 4, 1)]:
        pareto_ms.append(
            _timed(lambda o=o, d=d: sizes.append(len(pareto_routes(graph, w, o, d, options=opts))))
        )
    rows["ours pareto (time, energy)"] = pareto_ms
    soc_ms, stops, failed = [], [], 0
    for o, d, soc in _low_soc_pairs(graph, w, opts, max(pairs // 2, 1), rng):
        plans: list[Any] = []
        try:
            ms = _timed(lambda o=o, d=d, soc=soc, out=plans: out.append(plan_soc_route(
                graph, w, stations, o, d, objective="time", options=opts, soc_start=soc
            )))  # fmt: skip
        except RoutingError:
            failed += 1
            continue
        soc_ms.append(ms)
        stops.append(len(plans[0].stops))
    rows["ours soc-aware time (low SOC)"] = soc_ms
    rows["CH hierarchy of the network (once)"] = [hierarchy_ms]
    rows["new context weights (physics)"] = ctx_ms
    for name, ms in ml_ms.items():
        rows[f"new context ml {name}"] = ms
    _print(label, graph, rows, sizes, stops, failed)


def _print(
    label: str,
    graph: RoadGraph,
    rows: dict[str, list[float]],
    sizes: list[int],
    stops: list[int],
    failed: int,
) -> None:
    key = "SF extract" if label.startswith("SF") else "default"
    target = TARGETS[key]
    nx_t = np.median(rows["networkx dijkstra time"])
    nx_e = np.median(rows["networkx bellman-ford energy"])
    print(f"\n== {label}: {graph.n_nodes} nodes, {graph.n_edges} edges (ms)")
    print(f"{'query':34s} {'n':>4s} {'p50':>9s} {'p95':>9s} {'nx/ours':>8s}  target p50")
    for name, ms in rows.items():
        if not ms:
            continue
        p50, p95 = _stats(ms)
        base = nx_e if "energy" in name or "soc" in name or "pareto" in name else nx_t
        ratio = "" if name.startswith(("networkx", "new", "A*", "CH")) else f"{base / p50:8.1f}"
        goal = (
            ""
            if name.startswith("networkx")
            else next((v for k, v in target.items() if k in name), "")
        )
        print(f"{name:34s} {len(ms):4d} {p50:9.3f} {p95:9.3f} {ratio:>8s}  {goal}")
    print(
        f"pareto set size: median {np.median(sizes):.0f}, max {max(sizes)}; "
        f"soc-aware stops: min {min(stops, default=0)}, median {np.median(stops or [0]):.0f}, "
        f"infeasible {failed}"
    )
    print("ratios: time rows vs networkx Dijkstra, energy/pareto/soc rows vs Bellman-Ford")
    print(
        "dijkstra rows: bidirectional (energy: one-way, battery-bounded); astar rows: landmark "
        "bounds, built once per context and objective (the landmarks row, not in the astar "
        "rows); ch rows: contraction hierarchy (ranks once per network, a customisation per "
        "context and objective: the CH rows, not in the ch rows; energy falls back to the "
        "bounded search when the battery bounds bind, e.g. regen wasted from a full battery)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200, help="OD pairs for our queries")
    parser.add_argument("--nx-pairs", type=int, default=40, help="OD pairs for networkx")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall", help="timing clock")
    parser.add_argument(
        "--workspace", type=Path, help="time the ML weights with this workspace's @champion"
    )
    parser.add_argument(
        "--ml-family",
        choices=["all", *(f.value for f in ModelFamily)],
        default="all",
        help="without --workspace: the family of the stand-in champion (default: one row each)",
    )
    parser.add_argument(
        "--ml-size",
        choices=["mid", "largest"],
        default="mid",
        help="stand-ins from the middle of the search spaces, or their most costly corner",
    )
    args = parser.parse_args()
    _clock["now"] = CLOCKS[args.clock]
    print(f"clock: {args.clock}")
    sources = {"default (embedded)": NetworkConfig()}
    sf = DATA / "osm" / "sf_north_filtered.osm.bz2"
    if sf.is_file():
        sources = {"SF extract": NetworkConfig(source="osm_file", osm_file=sf), **sources}
    else:
        print(f"skip SF extract: {sf} not found (set EVFLEET_TEST_DATA)")
    ml = _ml_models(args.workspace, args.ml_family, args.ml_size)
    with tempfile.TemporaryDirectory(prefix="evfleet-bench-routing-") as tmp:
        for label, net_cfg in sources.items():
            folder = Path(tmp) / label.split()[0].lower()
            save_network(build_network(net_cfg), folder)
            bench_network(label, RoadGraph.load(folder), args.pairs, args.nx_pairs, ml)


if __name__ == "__main__":
    main()
