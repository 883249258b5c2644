"""Weekly retrain: train on the workspace's latest dataset; the training flow promotes.

The training flow registers the new models and moves the champion alias only to a
challenger that beats the current champion; this flow adds the deployment's parameters
and the workspace lock. A week without a new dataset is a cache hit.
"""

from __future__ import annotations

from prefect import flow

from flows.parameters import LOCK_WAIT_S, deployment_config
from flows.runtime import deployment_session
from flows.train import TrainingResult, train_flow


@flow(name="retrain")
def retrain_flow(
    config_file: str | None = None,
    workspace: str | None = None,
    lock_wait_s: float = LOCK_WAIT_S,
) -> TrainingResult:
    """Train the configured model families on the latest dataset (see :func:`train_flow`)."""
    cfg = deployment_config(config_file)
    with deployment_session(workspace, purpose="retrain", wait_s=lock_wait_s) as ws:
        return train_flow(cfg, ws)
