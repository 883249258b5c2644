"""On-demand deployments: a form in the Prefect UI (typed parameters) starts one stage
(synthesis or optimisation) under the workspace lock."""

from __future__ import annotations

from prefect import flow

from flows.optimize import optimize_with_runner
from flows.parameters import (
    LOCK_WAIT_S,
    OptimizationRequest,
    SynthesisRequest,
    deployment_config,
)
from flows.runtime import deployment_session
from flows.synthesize import synthesize_with_runner
from tasks.common import StageResult

DEFAULT_REQUEST = SynthesisRequest()
DEFAULT_OPTIMIZATION = OptimizationRequest()


@flow(name="synthesize-on-demand")
def synthesize_on_demand_flow(
    request: SynthesisRequest = DEFAULT_REQUEST,
    config_file: str | None = None,
    workspace: str | None = None,
    lock_wait_s: float = LOCK_WAIT_S,
) -> StageResult:
    """Synthesise (or reuse) the dataset the form asks for, on the configured network."""
    cfg = deployment_config(config_file, request.overrides())
    with deployment_session(workspace, purpose="synthesize (deployment)", wait_s=lock_wait_s) as ws:
        return synthesize_with_runner(cfg, ws)


@flow(name="optimize-on-demand")
def optimize_on_demand_flow(
    request: OptimizationRequest = DEFAULT_OPTIMIZATION,
    config_file: str | None = None,
    workspace: str | None = None,
    lock_wait_s: float = LOCK_WAIT_S,
) -> StageResult:
    """Re-plan the dataset the form names (default: the latest) and score it against the
    baseline, on the configured task runner (see :func:`flows.optimize.optimize_flow`)."""
    cfg = deployment_config(config_file, request.overrides())
    with deployment_session(workspace, purpose="optimize (deployment)", wait_s=lock_wait_s) as ws:
        return optimize_with_runner(cfg, ws, **request.stage_arguments())
