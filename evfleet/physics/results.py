"""Results of the energy model: battery-side energy components per trace or per segment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from evfleet.errors import InputDataError
from evfleet.units import M_PER_KM

COMPONENTS: Final = ("rolling", "aero", "grade", "inertia", "regen", "hvac", "aux", "battery_loss")
"""Names of the battery-side energy components, in column order; they sum to the total."""


@dataclass(frozen=True, slots=True)
class EnergyBreakdown:
    """Battery-side energy of one trace (or the sum over segments).

    Attributes
    ----------
    distance_m
        Distance driven, m.
    duration_s
        Time covered, s.
    components_kwh
        Energy per component (see :data:`COMPONENTS`), kWh; ``regen`` is <= 0.
    """

    distance_m: float
    duration_s: float
    components_kwh: Mapping[str, float]

    @property
    def energy_kwh(self) -> float:
        """Net energy drawn from the battery, kWh (sum of the components)."""
        return float(sum(self.components_kwh.values()))

    @property
    def kwh_per_100km(self) -> float:
        """Consumption per distance, kWh/100 km (``nan`` for zero distance)."""
        if self.distance_m <= 0:
            return float("nan")
        return self.energy_kwh / self.distance_m * 1e5

    def as_dict(self) -> dict[str, object]:
        """JSON-ready summary: distance_km, duration_s, energy_kwh, kwh_per_100km, components."""
        return {
            "distance_km": self.distance_m / M_PER_KM,
            "duration_s": self.duration_s,
            "energy_kwh": self.energy_kwh,
            "kwh_per_100km": self.kwh_per_100km,
            "components": dict(self.components_kwh),
        }


@dataclass(frozen=True, slots=True)
class SegmentEnergy:
    """Energy summed per segment (e.g. per edge traversal) of a trace.

    Attributes
    ----------
    components_kwh
        Array ``(n_segments, len(COMPONENTS))`` of battery-side energies, kWh.
    distance_m, duration_s
        Distance and time per segment.
    max_power_kw
        Largest motor shaft (traction) power within each segment, kW (0 without traction).
    """

    components_kwh: NDArray[np.float64]
    distance_m: NDArray[np.float64]
    duration_s: NDArray[np.float64]
    max_power_kw: NDArray[np.float64]

    @property
    def energy_kwh(self) -> NDArray[np.float64]:
        """Net battery energy per segment, kWh."""
        return np.asarray(self.components_kwh.sum(axis=1), dtype=np.float64)

    def component_kwh(self, name: str) -> NDArray[np.float64]:
        """Energy of one component per segment, kWh."""
        if name not in COMPONENTS:
            msg = f"unknown energy component {name!r}; valid: {', '.join(COMPONENTS)}"
            raise InputDataError(msg)
        return self.components_kwh[:, COMPONENTS.index(name)]

    def as_columns(self) -> dict[str, NDArray[np.float64]]:
        """Columns ``distance_m, duration_s, energy_kwh, <component>_kwh`` for a table."""
        columns = {
            "distance_m": self.distance_m,
            "duration_s": self.duration_s,
            "energy_kwh": self.energy_kwh,
        }
        columns.update({f"{c}_kwh": self.components_kwh[:, j] for j, c in enumerate(COMPONENTS)})
        return columns

    def total(self) -> EnergyBreakdown:
        """Sum over all segments."""
        sums = self.components_kwh.sum(axis=0)
        return EnergyBreakdown(
            distance_m=float(self.distance_m.sum()),
            duration_s=float(self.duration_s.sum()),
            components_kwh={c: float(sums[j]) for j, c in enumerate(COMPONENTS)},
        )
