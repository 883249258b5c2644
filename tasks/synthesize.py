"""Synthesis stage tasks: plan the fleet, simulate vehicle chunks in parallel, commit.

The plan task writes ``fleet_info`` and ``weather`` into a hidden staging folder; each
chunk task simulates a slice of the fleet and writes one Parquet part per table into it;
the finalize task renames the folder into place. Results do not depend on the chunking
(each vehicle's randomness comes from its own seed), so the chunk size is not in the id.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import task

from evfleet.config import StudioConfig
from evfleet.fleet import generate_fleet, generate_weather, simulate_chunk
from evfleet.network import RoadGraph
from evfleet.schema import conform
from evfleet.stages import dataset_id
from evfleet.storage import TABLE_FILES, Workspace, read_table, write_parquet
from tasks.common import StageResult, run_logger, stage_cache_key
from tasks.stages import commit, open_staging, reuse

DATASET_FILES = TABLE_FILES["datasets"]
CHUNKED_TABLES = tuple(name for name, file in DATASET_FILES.items() if file == name)
"""Tables each chunk task writes one part of (the others the plan task writes whole)."""


@dataclass(frozen=True)
class SynthPlan:
    """What the chunk tasks need: the dataset id, its staging folder and the chunks."""

    id: str
    network_path: str
    staging: str
    chunks: tuple[tuple[int, int], ...]
    reused: StageResult | None = None


def _id_from_params(params: dict[str, Any]) -> str:
    return dataset_id(params["config"], params["network"].id)


@functools.lru_cache(maxsize=2)
def _graph(network_path: str) -> RoadGraph:
    return RoadGraph.load(network_path)


@functools.lru_cache(maxsize=2)
def _weather(staging: str) -> Any:
    return read_table(Path(staging) / DATASET_FILES["weather"])


@task(
    name="plan-dataset",
    cache_key_fn=stage_cache_key("datasets", _id_from_params),
    persist_result=True,
)
def plan_dataset_task(workspace: str, config: StudioConfig, network: StageResult) -> SynthPlan:
    """Draw the fleet and the weather; split the fleet into chunks (or reuse the dataset)."""
    ws = Workspace(workspace).ensure()
    sid = dataset_id(config, network.id)
    cached = reuse(ws, "datasets", sid)
    if cached is not None:
        return SynthPlan(sid, network.path, "", (), reused=cached)
    graph = _graph(network.path)
    fleet = conform("fleet_info", generate_fleet(config, graph))
    weather = conform("weather", generate_weather(config))
    staging = open_staging(ws, "datasets", sid)
    write_parquet(fleet, staging / DATASET_FILES["fleet_info"])
    write_parquet(weather, staging / DATASET_FILES["weather"])
    size = config.performance.synth_chunk_vehicles
    n = len(fleet)
    chunks = tuple((start, min(start + size, n)) for start in range(0, n, size))
    run_logger().info("dataset %s: %d vehicles in %d chunks", sid, n, len(chunks))
    return SynthPlan(sid, network.path, str(staging), chunks)


@task(name="simulate-chunk", task_run_name="simulate-chunk-{index}")
def simulate_chunk_task(config: StudioConfig, plan: SynthPlan, index: int) -> dict[str, int]:
    """Simulate one chunk of vehicles and write one part per table.

    Returns the row count of each table and the chunk's ``stranded_trips``.
    """
    start, stop = plan.chunks[index]
    staging = Path(plan.staging)
    graph = _graph(plan.network_path)
    fleet = read_table(staging / DATASET_FILES["fleet_info"]).iloc[start:stop]
    stations = (
        graph.stations
        if graph.stations is not None
        else read_table(Path(plan.network_path) / "stations.parquet")
    )
    tables = simulate_chunk(config, graph, stations, fleet, _weather(plan.staging))
    counts = {}
    for name in CHUNKED_TABLES:
        df = conform(name, tables[name])
        write_parquet(df, staging / DATASET_FILES[name] / f"part-{index:05d}.parquet")
        counts[name] = len(df)
    counts["stranded_trips"] = int(tables["vehicle_states"]["stranded_trips"].sum())
    return counts


@task(
    name="finalize-dataset",
    cache_key_fn=stage_cache_key("datasets", lambda p: p["plan"].id),
    persist_result=True,
)
def finalize_dataset_task(
    workspace: str, config: StudioConfig, plan: SynthPlan, counts: list[dict[str, int]]
) -> StageResult:
    """Commit the staging folder as the dataset (only after every chunk succeeded)."""
    ws = Workspace(workspace)
    if plan.reused is not None:
        return plan.reused
    rows = {name: sum(c[name] for c in counts) for name in CHUNKED_TABLES}
    meta = {
        "network_id": Path(plan.network_path).name,
        "n_vehicles": config.fleet.n_vehicles,
        "days": config.fleet.days,
        "start_date": config.fleet.start_date.isoformat(),
        "rows": rows,
        "stranded_trips": sum(c["stranded_trips"] for c in counts),
    }
    result = commit(ws, "datasets", plan.id, Path(plan.staging), meta=meta)
    run_logger().info("dataset %s: %s", plan.id, rows)
    return result
