"""How well can *any* model predict the synthetic ground truth? Replay trips, other draws.

Usage::

    python bench/bench_noise_floor.py [--workspace DIR] [--vehicles 12] [--replicates 8]
                                      [--held-out]

The simulator draws, per edge traversal, whether the driver stops at a junction (signals
are red ~30-50 % of the time), how long the red lasts, whether a turn slows the car, and a
small cruise-speed spread. Nothing known before driving decides those draws, so they set a
floor under every prediction error. This script measures it: it re-drives the recorded
trips of some vehicles (same routes, departures, vehicle, weather and parking) with
``--replicates`` different random streams, and scores, for each replicate, the mean of the
*other* replicates as the prediction, the best a model that knows everything but the
draws can do. Metrics are those of :mod:`evfleet.models.metrics` (segment kWh and kWh/km,
trip kWh), so they compare directly with the ``test`` metrics of ``evfleet train``.

Without ``--workspace`` a small seeded week is simulated on a reduced embedded network.
With ``--held-out`` only the held-out test vehicles of the workspace's feature table
(``split_vehicle == "test"``) are replayed: the ceiling of ``evfleet train``'s ``test``
metrics, recorded in ``<workspace>/noise_floor/<dataset id>.json`` so that the model
card of the next registered version quotes it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evfleet.config import NetworkConfig, StudioConfig, load_config  # noqa: E402
from evfleet.fleet import generate_fleet, generate_weather, simulate_chunk  # noqa: E402
from evfleet.fleet.context import ChunkContext  # noqa: E402
from evfleet.fleet.trips import drive  # noqa: E402
from evfleet.models.metrics import regression_metrics  # noqa: E402
from evfleet.network import RoadGraph, build_network  # noqa: E402
from evfleet.physics import PARKED_COLD_S  # noqa: E402
from evfleet.storage import Workspace, read_table  # noqa: E402

MIN_SEGMENT_M = 1.0
"""Segments shorter than this are dropped, as in the feature table."""


def _workspace_inputs(path: str) -> tuple[StudioConfig, RoadGraph, dict[str, pd.DataFrame]]:
    ws = Workspace(path)
    dataset = ws.latest("datasets")
    if dataset is None:
        msg = f"no dataset in {path}: run `evfleet synth` first"
        raise SystemExit(msg)
    folder = ws.stage_dir("datasets", dataset)
    manifest = ws.manifest("datasets", dataset)
    cfg = load_config(None).with_overrides(
        {
            "fleet.start_date": manifest["start_date"],
            "fleet.days": manifest["days"],
            "fleet.n_vehicles": manifest["n_vehicles"],
        }
    )
    graph = RoadGraph.load(ws.stage_dir("network", manifest["network_id"]))
    tables = {
        name: read_table(folder / f"{name}.parquet" if name != "routes" else folder / name)
        for name in ("routes", "fleet_info", "weather")
    }
    print(f"dataset {dataset} ({manifest['n_vehicles']} vehicles x {manifest['days']} days)")
    return cfg, graph, tables


def _small_week() -> tuple[StudioConfig, RoadGraph, dict[str, pd.DataFrame]]:
    cfg = StudioConfig().with_overrides(
        {"fleet.n_vehicles": 12, "fleet.days": 7, "fleet.start_date": "2024-01-15"}
    )
    data = build_network(NetworkConfig(scale=0.15, seed=42))
    graph = RoadGraph(data.nodes, data.edges, crs=str(data.meta["crs"]), stations=data.stations)
    fleet = generate_fleet(cfg, graph)
    weather = generate_weather(cfg)
    tables = simulate_chunk(cfg, graph, data.stations, fleet, weather)
    print("seeded week: 12 vehicles x 7 January days, embedded network at scale 0.15")
    return cfg, graph, {"routes": tables["routes"], "fleet_info": fleet, "weather": weather}


def _held_out_vehicles(path: str) -> list[str]:
    ws = Workspace(path)
    dataset = ws.latest("datasets")
    runs = [m for m in ws.list_runs("features") if m.get("dataset_id") == dataset]
    if not runs:
        msg = f"no feature table for dataset {dataset}: run `evfleet train` first"
        raise SystemExit(msg)
    table = read_table(
        ws.stage_dir("features", runs[0]["id"]) / "features.parquet",
        columns=["vehicle_id", "split_vehicle"],
    )
    return sorted(table.loc[table["split_vehicle"] == "test", "vehicle_id"].astype(str).unique())


def replay(
    cfg: StudioConfig,
    graph: RoadGraph,
    tables: dict[str, pd.DataFrame],
    *,
    vehicles: list[str],
    replicates: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge energies (replicates x edges), edge lengths and trip ids of re-driven trips."""
    ctx = ChunkContext(cfg, graph, graph.stations, tables["weather"])
    fleet = tables["fleet_info"].set_index("vehicle_id", drop=False)
    routes = tables["routes"].sort_values(["vehicle_id", "start_time"])
    t0 = pd.Timestamp(cfg.fleet.start_date)
    energy, length, trip = [], [], []
    for vid in vehicles:
        v = ctx.vehicle(fleet.loc[vid])
        own = routes[routes["vehicle_id"] == vid]
        origin = ctx.net.positions(own["origin_node"].to_numpy())
        dest = ctx.net.positions(own["destination_node"].to_numpy())
        legs = [ctx.route(int(a), int(b)) for a, b in zip(origin, dest, strict=True)]
        depart = ((own["start_time"] - t0) / pd.Timedelta(seconds=1)).to_numpy()
        runs = [
            drive(
                ctx.net,
                ctx.weather,
                v.spec,
                style=v.style,
                routes=legs,
                depart_s=depart,
                rng=np.random.default_rng([cfg.fleet.seed, 7919, k]),
                start_date=ctx.start,
                parked_s=PARKED_COLD_S,
            )
            for k in range(replicates)
        ]
        energy.append(np.stack([r.components_kwh.sum(axis=1) for r in runs]))
        length.append(ctx.net.length_m[runs[0].edge])
        trip.append(np.repeat(own["trip_id"].to_numpy(), np.diff(runs[0].offsets)))
    return np.concatenate(energy, axis=1), np.concatenate(length), np.concatenate(trip)


def floor_metrics(energy: np.ndarray, length_m: np.ndarray, trip: np.ndarray) -> pd.DataFrame:
    """Leave-one-replicate-out metrics of the mean of the other replicates.

    The mean of ``K - 1`` draws is itself noisy: its error variance is ``K / (K - 1)``
    times that of the true expectation. ``r2_ceiling`` removes that share (the R² of a
    model that predicts the expectation exactly); ``mape_floor`` and ``wape_floor`` scale
    the errors by ``sqrt((K - 1) / K)`` (exact for Gaussian noise).
    """
    keep = length_m >= MIN_SEGMENT_M
    energy, km, trip = energy[:, keep], length_m[keep] / 1000.0, trip[keep]
    codes = pd.factorize(trip)[0]
    trips = np.stack([np.bincount(codes, weights=e) for e in energy])
    rows = []
    for k in range(energy.shape[0]):
        others = np.delete(np.arange(energy.shape[0]), k)
        for level, values, scale in (
            ("segment kWh", energy, 1.0),
            ("segment kWh/km", energy, km),
            ("trip kWh", trips, 1.0),
        ):
            truth, pred = values[k] / scale, values[others].mean(axis=0) / scale
            rows.append({"level": level, **regression_metrics(truth, pred)})
    table = pd.DataFrame(rows).groupby("level", sort=False).mean()
    k = energy.shape[0]
    table["r2_ceiling"] = 1.0 - (1.0 - table["r2"]) * (k - 1) / k
    table["mape_floor"] = table["mape"] * np.sqrt((k - 1) / k)
    table["wape_floor"] = table["wape"] * np.sqrt((k - 1) / k)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", help="use the latest dataset of this workspace")
    parser.add_argument("--vehicles", type=int, default=12, help="vehicles to replay")
    parser.add_argument("--replicates", type=int, default=16, help="random streams per trip")
    parser.add_argument(
        "--held-out", action="store_true", help="replay the held-out test vehicles only"
    )
    args = parser.parse_args()
    cfg, graph, tables = _workspace_inputs(args.workspace) if args.workspace else _small_week()
    if args.held_out and args.workspace:
        vehicles = _held_out_vehicles(args.workspace)
        print(f"held-out test vehicles: {', '.join(vehicles)}")
    else:
        vehicles = sorted(tables["routes"]["vehicle_id"].astype(str).unique())[: args.vehicles]
    started = time.perf_counter()
    energy, length, trip = replay(cfg, graph, tables, vehicles=vehicles, replicates=args.replicates)
    table = floor_metrics(energy, length, trip)
    print(
        f"replayed {len(np.unique(trip))} trips / {energy.shape[1]} segments x "
        f"{args.replicates} draws in {time.perf_counter() - started:.1f} s"
    )
    print("mean of the other draws as the prediction, and the floor it implies for a model")
    print("that predicts the expectation exactly:")
    print(table[["r2", "mape", "wape", "r2_ceiling", "mape_floor", "wape_floor"]].round(3))
    if args.held_out and args.workspace:
        print(f"recorded for the model card: {record_ceiling(args.workspace, table)}")


def record_ceiling(path: str, table: pd.DataFrame) -> Path:
    """Write the held-out ceiling where `evfleet train`'s model card reads it
    (``<workspace>/noise_floor/<dataset id>.json``, written atomically)."""
    ws = Workspace(path)
    target = ws.root / "noise_floor" / f"{ws.latest('datasets')}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(table.to_dict(orient="index"), indent=1))
    tmp.replace(target)
    return target


if __name__ == "__main__":
    main()
