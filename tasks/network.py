"""Network stage tasks: build (or reuse) a road network in the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task

from evfleet.config import NetworkConfig, NetworkSource
from evfleet.errors import NetworkSourceError
from evfleet.network import (
    NETWORK_SCHEMA_VERSION,
    build_network,
    network_summary,
    save_network,
)
from evfleet.storage import Workspace, file_fingerprint, stage_id
from tasks.common import IO_RETRIES, StageResult, reuse, run_logger, stage_cache_key

NETWORK_TABLES = {t: f"{t}.parquet" for t in ("nodes", "edges", "stations")}
"""Catalog view name -> file inside the network folder."""


def network_id(cfg: NetworkConfig) -> str:
    """Stage id of a network: its config section plus the bytes of its input files."""
    section = cfg.model_dump(mode="json")
    extra: dict[str, Any] = {}
    if cfg.source is NetworkSource.OSM_FILE and cfg.osm_file is not None:
        path = Path(cfg.osm_file)
        if not path.is_file():
            msg = f"OSM file not found: {path}"
            raise NetworkSourceError(msg)
        extra["osm_sha256"] = file_fingerprint(path)
        section["osm_file"] = path.name
    else:
        section.pop("osm_file", None)
    if cfg.source is not NetworkSource.EMBEDDED:
        section.pop("scale", None)
    dems = []
    for dem in cfg.dem_files:
        if not Path(dem).is_file():
            msg = f"DEM file not found: {dem}"
            raise NetworkSourceError(msg)
        dems.append(file_fingerprint(dem))
    section["dem_files"] = dems
    return stage_id("network", section, schema_version=NETWORK_SCHEMA_VERSION, extra=extra)


def _id_from_params(params: dict[str, Any]) -> str:
    return network_id(params["network"])


def _safe_id_from_params(params: dict[str, Any]) -> str:
    try:
        return _id_from_params(params)
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
    cached = reuse(ws, "network", sid)
    if cached is not None:
        return cached
    logger = run_logger()
    logger.info("building network %s from %s", sid, network.source.value)
    data = build_network(network, cache_dir=ws.root / "cache" / "osmnx")
    with ws.stage_writer("network", sid, meta={"source": network.source.value}) as tmp:
        save_network(data, tmp)
    folder = ws.stage_dir("network", sid)
    summary = network_summary(folder)
    logger.info(
        "network %s: %s nodes, %s edges, %s stations",
        sid,
        summary["n_nodes"],
        summary["n_edges"],
        summary["n_stations"],
    )
    return StageResult("network", sid, str(folder), reused=False)
