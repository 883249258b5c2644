"""What a route search returns: plans, charging stops, options, and the infeasibility error."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from evfleet.config import RoutingAlgorithm, StudioConfig
from evfleet.errors import InputDataError, RoutingError
from evfleet.routing.costs import ObjectiveWeights

DEFAULT_MAX_LABELS: Final = 5_000_000


class InfeasibleRouteError(RoutingError):
    """No route keeps the battery above the reserve (the message says what is missing)."""


@dataclass(frozen=True)
class RoutingOptions:
    """Search settings (from the ``optimization`` and ``charging`` config sections)."""

    algorithm: RoutingAlgorithm = RoutingAlgorithm.DIJKSTRA
    weights: ObjectiveWeights = field(default_factory=ObjectiveWeights)
    reserve_soc: float = 0.15
    max_charge_soc: float = 0.9
    charge_step_soc: float = 0.05
    pareto_epsilon: float = 0.01
    pareto_exact_max_nodes: int = 10_000
    charging_efficiency: float = 0.9
    peak_hours: tuple[int, int] = (16, 21)
    peak_multiplier: float = 1.8
    max_labels: int = DEFAULT_MAX_LABELS

    @classmethod
    def from_config(cls, cfg: StudioConfig) -> RoutingOptions:
        """Options of a studio config."""
        opt, ch = cfg.optimization, cfg.charging
        return cls(
            algorithm=opt.algorithm,
            weights=ObjectiveWeights.from_config(opt),
            reserve_soc=opt.reserve_soc,
            max_charge_soc=opt.max_charge_soc,
            charge_step_soc=opt.charge_step_soc,
            pareto_epsilon=opt.pareto_epsilon,
            pareto_exact_max_nodes=opt.pareto_exact_max_nodes,
            charging_efficiency=ch.efficiency,
            peak_hours=ch.peak_hours,
            peak_multiplier=ch.peak_multiplier,
        )


@dataclass(frozen=True)
class ChargingStop:
    """One planned charging stop."""

    station_id: str
    kind: str
    node: int
    power_kw: float
    arrival_soc: float
    departure_soc: float
    energy_kwh: float
    minutes: float
    wait_min: float
    cost_usd: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in vars(self).items()}


@dataclass(frozen=True)
class RoutePlan:
    """A planned route with its totals (time includes charging and expected waits)."""

    objective: str
    nodes: NDArray[np.int64]
    edges: NDArray[np.int64]
    distance_km: float
    time_min: float
    energy_kwh: float
    cost_usd: float
    soc_start: float
    soc_end: float
    objective_value: float
    stops: tuple[ChargingStop, ...] = ()
    soc_min: float = math.nan
    supported: bool | None = None
    physics_energy_kwh: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the keys of ``evfleet route --json``."""
        out: dict[str, Any] = {
            "objective": self.objective,
            "distance_km": round(self.distance_km, 6),
            "time_min": round(self.time_min, 6),
            "energy_kwh": round(self.energy_kwh, 6),
            "cost_usd": round(self.cost_usd, 6),
            "soc_start": round(self.soc_start, 6),
            "soc_end": round(self.soc_end, 6),
            "soc_min": round(self.soc_min, 6),
            "objective_value": round(self.objective_value, 6),
            "stops": [s.to_dict() for s in self.stops],
            "nodes": [int(n) for n in self.nodes],
        }
        if self.physics_energy_kwh is not None:
            out["physics_energy_kwh"] = round(self.physics_energy_kwh, 6)
        if self.supported is not None:
            out["supported"] = self.supported
        return out


def check_soc(soc: float) -> None:
    """Raise :class:`InputDataError` unless ``soc`` is a finite value in [0, 1]."""
    if not (math.isfinite(soc) and 0.0 <= soc <= 1.0):
        msg = f"SOC must be within [0, 1], got {soc}"
        raise InputDataError(msg)
