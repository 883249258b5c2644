"""Parameters of the deployments' flows: typed, validated, shown as forms in the Prefect UI.

A deployment's flow reads its configuration from the ``config_file`` parameter, else from
``$EVFLEET_CONFIG`` (how a container stack points every deployment at its Dask cluster),
else the built-in defaults; the form's fields then override single knobs.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from evfleet.config import PlanningMode, Runner, Strategy, StudioConfig
from flows.commands.common import check_inputs, effective_config, fleet_overrides

CONFIG_ENV = "EVFLEET_CONFIG"
"""Config file of deployment runs whose ``config_file`` parameter is empty."""
LOCK_WAIT_S = 3600.0
"""How long a deployment run waits for a busy workspace before it fails, s."""


def deployment_config(
    config_file: str | None, overrides: dict[str, Any] | None = None
) -> StudioConfig:
    """The validated config of a deployment run, its inputs checked before any work starts."""
    path = config_file or os.environ.get(CONFIG_ENV) or None
    cfg = effective_config(Path(path) if path else None, overrides)
    check_inputs(cfg)
    return cfg


class SynthesisRequest(BaseModel):
    """What to synthesise; an empty field keeps the config's value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vehicles: int | None = Field(default=None, ge=1, le=100_000, description="Fleet size.")
    days: int | None = Field(default=None, ge=1, le=366, description="Simulated days.")
    start_date: dt.date | None = Field(default=None, description="First simulated day.")
    seed: int | None = Field(default=None, ge=0, description="Seed of the fleet simulation.")
    chunk_vehicles: int | None = Field(
        default=None, ge=1, description="Vehicles per parallel chunk."
    )
    runner: Runner | None = Field(default=None, description="Task runner: local or dask.")
    dask_address: str | None = Field(
        default=None, description="Address of an existing Dask scheduler (tcp://HOST:PORT)."
    )

    def overrides(self) -> dict[str, Any]:
        """Dotted config overrides of the fields that are set."""
        return {
            **fleet_overrides(
                self.vehicles,
                self.days,
                self.start_date,
                self.seed,
                self.runner.value if self.runner else None,
                self.dask_address,
            ),
            "performance.synth_chunk_vehicles": self.chunk_vehicles,
        }


class OptimizationRequest(BaseModel):
    """What to re-plan and how; an empty field keeps the config's value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset_id: str | None = Field(
        default=None, min_length=1, description="Dataset to re-plan (default: the latest)."
    )
    strategy: Strategy | Literal["all"] | None = Field(
        default=None, description="Strategy preset, custom (the configured weights) or all four."
    )
    planning_mode: PlanningMode | None = Field(
        default=None, description="myopic, next_trip or rolling_horizon."
    )
    horizon_trips: int | None = Field(
        default=None, ge=1, le=100, description="Trips looked ahead (rolling horizon)."
    )
    strict: bool | None = Field(
        default=None, description="Fail the run when any trip cannot be planned."
    )
    runner: Runner | None = Field(default=None, description="Task runner: local or dask.")
    dask_address: str | None = Field(
        default=None, description="Address of an existing Dask scheduler (tcp://HOST:PORT)."
    )

    def overrides(self) -> dict[str, Any]:
        """Dotted config overrides of the fields that are set (strategy and planning mode
        are the stage's arguments, see :meth:`stage_arguments`)."""
        return {
            "optimization.horizon_trips": self.horizon_trips,
            "optimization.strict": self.strict,
            "performance.runner": self.runner.value if self.runner else None,
            "performance.dask_address": self.dask_address,
        }

    def stage_arguments(self) -> dict[str, str | None]:
        """Keyword arguments of :func:`flows.optimize.optimize_flow`."""
        return {
            "dataset_id": self.dataset_id,
            "strategy": str(self.strategy) if self.strategy else None,
            "planning_mode": self.planning_mode.value if self.planning_mode else None,
        }
