"""Network stage tasks: build (or reuse) a road network in the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task

from evfleet.config import NetworkConfig
from evfleet.errors import NetworkSourceError
from evfleet.network import build_network, network_summary, save_network
from evfleet.stages import network_id
from evfleet.storage import Workspace
from tasks.common import IO_RETRIES, StageResult, run_logger, stage_cache_key
from tasks.stages import build_stage


def _safe_id_from_params(params: dict[str, Any]) -> str:
    try:
        return network_id(params["network"])
    except NetworkSourceError:
        return "missing-input"


@task(
    name="build-network",
    cache_key_fn=stage_cache_key("network", _safe_id_from_params),
    persist_result=True,
    **IO_RETRIES,
)
def build_network_task(workspace: str, network: NetworkConfig) -> StageResult:
    """Build the network described by ``network`` unless the workspace already has it."""
    ws = Workspace(workspace).ensure()
    sid = network_id(network)

    def write(tmp: Path) -> dict[str, Any]:
        run_logger().info("building network %s from %s", sid, network.source.value)
        save_network(build_network(network, cache_dir=ws.root / "cache" / "osmnx"), tmp)
        return {"source": network.source.value}

    result = build_stage(ws, "network", sid, write)
    if not result.reused:
        summary = network_summary(result.path)
        run_logger().info(
            "network %s: %s nodes, %s edges, %s stations",
            sid,
            summary["n_nodes"],
            summary["n_edges"],
            summary["n_stations"],
        )
    return result
