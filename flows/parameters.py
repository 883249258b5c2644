"""Parameters of the deployments' flows: typed, validated, shown as forms in the Prefect UI.

A deployment's flow reads its configuration from the ``config_file`` parameter, else from
``$EVFLEET_CONFIG`` (how a container stack points every deployment at its Dask cluster),
else the built-in defaults; the form's fields then override single knobs.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evfleet.config import Runner, StudioConfig
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
