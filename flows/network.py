"""Network stage flow: build or reuse the road network, expose it in the catalog."""

from __future__ import annotations

from prefect import flow

from evfleet.config import StudioConfig
from evfleet.storage import Workspace
from tasks.catalog import register_views_task
from tasks.common import StageResult
from tasks.network import build_network_task


@flow(name="network", log_prints=False)
def network_flow(config: StudioConfig | None = None, workspace: str | None = None) -> StageResult:
    """Build the road network of ``config.network`` in ``workspace`` (cached on its id).

    Defaults: the built-in configuration and ``$EVFLEET_WORKSPACE`` (or ./evfleet-data).
    """
    config = config or StudioConfig()
    workspace = str(Workspace(workspace).root)
    result = build_network_task(workspace, config.network)
    register_views_task(workspace, result)
    return result
