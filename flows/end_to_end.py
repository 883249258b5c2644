"""End-to-end flow: every stage in order, each cached on its content-addressed id."""

from __future__ import annotations

from typing import Any

from prefect import flow

from evfleet.config import StudioConfig
from evfleet.storage import Workspace
from flows.network import network_flow
from flows.optimize import optimize_with_runner
from flows.quality import quality_flow
from flows.synthesize import synthesize_with_runner
from flows.train import train_flow


@flow(name="end-to-end")
def end_to_end_flow(
    config: StudioConfig | None = None, workspace: str | None = None
) -> dict[str, Any]:
    """Run the pipeline on ``config``: ``{"stages": [StageResult, ...], "champion": {...}}``.

    Defaults: the built-in configuration and ``$EVFLEET_WORKSPACE`` (or ./evfleet-data).
    """
    config = config or StudioConfig()
    workspace = str(Workspace(workspace).root)
    network = network_flow(config, workspace)
    dataset = synthesize_with_runner(config, workspace, network)
    quality = quality_flow(config, workspace, dataset)
    training = train_flow(config, workspace, dataset.id)
    optimisation = optimize_with_runner(config, workspace, dataset_id=dataset.id)
    return {
        "stages": [network, dataset, quality, training["features"], optimisation],
        "champion": training["champion"],
    }
