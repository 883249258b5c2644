"""Vehicle catalogue: physical and charging parameters of the fleet's electric vehicles.

The catalogue lives in ``evfleet/data/vehicles.json``; every entry names its source
(manufacturer / EPA data, or the NREL FASTSim vehicle file for the four reference
vehicles validated in the tests). :func:`get_vehicle` returns one frozen, validated
:class:`VehicleSpec`; :data:`DEFAULT_MARKET_SHARES` is the default fleet mix.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evfleet.errors import InputDataError
from evfleet.units import HOUR_S
from evfleet.vocab import ChargerKind

logger = logging.getLogger(__name__)

MOTOR_LOAD_GRID: tuple[float, ...] = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0)
"""Fraction of peak motor power at which the efficiency curves are tabulated (FASTSim)."""

DEFAULT_MARKET_SHARES: dict[str, float] = {
    "tesla_model_3": 0.35,
    "tesla_model_y": 0.20,
    "nissan_leaf": 0.15,
    "chevrolet_bolt": 0.15,
    "ford_mustang_mach_e": 0.10,
    "volkswagen_id4": 0.05,
}
"""Default fleet mix (market shares of the six fleet models, summing to 1)."""

_SOC_GRID_POINTS = 1001


class HvacKind(StrEnum):
    """Cabin heating technology (cooling always uses the A/C compressor)."""

    HEAT_PUMP = "heat_pump"
    RESISTIVE = "resistive"


def _check(condition: bool, vehicle_id: str, problem: str) -> None:
    if not condition:
        msg = f"vehicle {vehicle_id!r}: {problem}"
        raise InputDataError(msg)


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """Physical, powertrain and charging parameters of one vehicle model.

    Attributes
    ----------
    vehicle_id
        Catalogue key, e.g. ``"tesla_model_3"``.
    name
        Human-readable model name and year.
    test_mass_kg
        Test mass (curb mass plus 136 kg EPA load), kg.
    drag_coefficient
        Aerodynamic drag coefficient Cd.
    frontal_area_m2
        Frontal area A, m².
    rolling_resistance
        Tyre rolling-resistance coefficient Crr at 25 °C.
    rotating_mass_factor
        Effective inertial mass / test mass (wheels, motor rotor, gears), >= 1.
    battery_kwh
        Usable battery energy at 25 °C, kWh.
    pack_voltage_v
        Nominal pack (open-circuit) voltage, V.
    internal_resistance_ohm
        Pack internal resistance at 25 °C, ohm.
    motor_peak_kw
        Peak motor (inverter + machine) output power, kW.
    motor_efficiency
        Motor + inverter efficiency at the loads in ``motor_load_grid``.
    motor_load_grid
        Fractions of peak power (0 ... 1) for ``motor_efficiency``.
    transmission_efficiency
        Gear / final-drive efficiency.
    max_regen_kw
        Largest electrical power recovered by regenerative braking, kW.
    aux_w
        Constant auxiliary load (electronics, pumps, fans), W.
    hvac_kind
        Cabin heating technology.
    hvac_max_kw
        Largest electrical power the HVAC system draws, kW.
    max_ac_kw
        On-board (AC) charger power, kW.
    max_dc_kw
        Peak DC fast-charging power, kW.
    dc_curve_soc, dc_curve_kw
        DC charging power accepted by the battery vs state of charge.
    source
        Where the numbers come from.
    """

    vehicle_id: str
    name: str
    test_mass_kg: float
    drag_coefficient: float
    frontal_area_m2: float
    rolling_resistance: float
    rotating_mass_factor: float
    battery_kwh: float
    pack_voltage_v: float
    internal_resistance_ohm: float
    motor_peak_kw: float
    motor_efficiency: tuple[float, ...]
    transmission_efficiency: float
    max_regen_kw: float
    aux_w: float
    hvac_kind: HvacKind
    hvac_max_kw: float
    max_ac_kw: float
    max_dc_kw: float
    dc_curve_soc: tuple[float, ...]
    dc_curve_kw: tuple[float, ...]
    source: str
    motor_load_grid: tuple[float, ...] = MOTOR_LOAD_GRID

    def __post_init__(self) -> None:
        """Validate ranges and curve shapes; raise :class:`InputDataError` naming the field."""
        vid = self.vehicle_id
        positive = (
            "test_mass_kg", "drag_coefficient", "frontal_area_m2", "rolling_resistance",
            "battery_kwh", "pack_voltage_v", "internal_resistance_ohm", "motor_peak_kw",
            "hvac_max_kw", "max_ac_kw", "max_dc_kw",
        )  # fmt: skip
        for name in positive:
            value = getattr(self, name)
            _check(bool(np.isfinite(value)) and value > 0, vid, f"{name} must be > 0, got {value}")
        _check(500 <= self.test_mass_kg <= 5000, vid, "test_mass_kg outside 500..5000")
        _check(1.0 <= self.rotating_mass_factor <= 1.2, vid, "rotating_mass_factor not in 1..1.2")
        _check(
            0.5 < self.transmission_efficiency <= 1.0,
            vid,
            "transmission_efficiency not in (0.5, 1]",
        )
        _check(0 <= self.max_regen_kw <= 2 * self.motor_peak_kw, vid, "max_regen_kw out of range")
        _check(0 <= self.aux_w <= 5000, vid, "aux_w not in 0..5000")
        kinds = [k.value for k in HvacKind]
        _check(self.hvac_kind in kinds, vid, f"hvac_kind {self.hvac_kind!r} not one of {kinds}")
        object.__setattr__(self, "hvac_kind", HvacKind(self.hvac_kind))
        self._check_curve("motor", self.motor_load_grid, self.motor_efficiency)
        eff = self.motor_efficiency
        _check(min(eff) > 0.5 and max(eff) <= 1.0, vid, "motor_efficiency must be in (0.5, 1]")
        self._check_curve("dc", self.dc_curve_soc, self.dc_curve_kw)
        _check(min(self.dc_curve_kw) >= 0, vid, "dc_curve_kw must be >= 0")
        _check(max(self.dc_curve_kw) <= self.max_dc_kw + 1e-9, vid, "dc_curve_kw above max_dc_kw")

    def _check_curve(self, label: str, grid: tuple[float, ...], values: tuple[float, ...]) -> None:
        vid = self.vehicle_id
        _check(len(grid) == len(values) >= 2, vid, f"{label} curve needs >= 2 matching points")
        g = np.asarray(grid, dtype=float)
        _check(bool(np.all(np.diff(g) > 0)), vid, f"{label} curve grid must be increasing")
        _check(g[0] == 0.0 and g[-1] == 1.0, vid, f"{label} curve grid must span 0..1")

    @property
    def cda_m2(self) -> float:
        """Drag area Cd·A, m²."""
        return self.drag_coefficient * self.frontal_area_m2

    def charge_power_kw(
        self,
        soc: ArrayLike,
        *,
        charger_kw: ArrayLike,
        kind: ChargerKind | str = ChargerKind.DC,
        efficiency: float = 1.0,
    ) -> NDArray[np.float64]:
        """Power into the battery at a state of charge from a charger, kW (vectorised).

        DC ratings are battery-side outputs: the power follows the vehicle's acceptance
        (taper curve), capped by the charger. AC ratings (wall box, on-board charger) are
        grid-side: the battery gets the smaller of the two times ``efficiency``, tapering
        linearly to zero above 97 % SOC. Either way the grid delivers battery power /
        ``efficiency``.

        Parameters
        ----------
        soc
            State(s) of charge, 0..1 (clipped).
        charger_kw
            Charger power rating(s), kW; broadcast against ``soc``.
        kind
            ``"dc"`` or ``"ac"``.
        efficiency
            Battery kWh per grid kWh of the charging path (0 < efficiency <= 1); scales
            the grid-side AC rating to battery power.

        Returns
        -------
        numpy.ndarray
            Battery-side power, kW, zero at full charge.
        """
        s = np.clip(np.asarray(soc, dtype=np.float64), 0.0, 1.0)
        limit = np.asarray(charger_kw, dtype=np.float64)
        if np.any(~np.isfinite(limit) | (limit < 0)):
            msg = "charger_kw must be finite and >= 0"
            raise InputDataError(msg)
        if not 0.0 < efficiency <= 1.0:
            msg = f"charging efficiency must be within (0, 1], got {efficiency}"
            raise InputDataError(msg)
        if ChargerKind.parse(kind) is ChargerKind.DC:
            accepted = np.interp(s, self.dc_curve_soc, self.dc_curve_kw)
            return np.minimum(accepted, limit) * (s < 1.0)
        taper = np.clip((1.0 - s) / 0.03, 0.0, 1.0)
        return np.minimum(self.max_ac_kw, limit) * efficiency * taper

    def charge_duration_s(
        self,
        soc_start: ArrayLike,
        soc_end: ArrayLike,
        *,
        charger_kw: float,
        kind: ChargerKind | str = ChargerKind.DC,
        capacity_kwh: float | None = None,
        efficiency: float = 1.0,
    ) -> NDArray[np.float64]:
        """Time to charge from ``soc_start`` to ``soc_end`` following the taper, s (vectorised).

        Parameters
        ----------
        soc_start, soc_end
            States of charge, 0..1; ``soc_end`` below ``soc_start`` gives 0.
        charger_kw
            Charger power rating, kW.
        kind
            ``"dc"`` or ``"ac"``.
        capacity_kwh
            Usable capacity to fill (default ``battery_kwh``; see
            :func:`evfleet.physics.usable_capacity_kwh` for temperature effects).
        efficiency
            Battery kWh per grid kWh (AC ratings are grid-side, see
            :meth:`charge_power_kw`).

        Returns
        -------
        numpy.ndarray
            Duration in seconds; ``inf`` where the target cannot be reached (zero power).
        """
        soc_grid, t_grid = self._charge_time_table(charger_kw, kind, capacity_kwh, efficiency)
        start = np.clip(np.asarray(soc_start, dtype=np.float64), 0.0, 1.0)
        end = np.clip(np.asarray(soc_end, dtype=np.float64), 0.0, 1.0)
        duration = np.interp(end, soc_grid, t_grid) - np.interp(start, soc_grid, t_grid)
        return np.asarray(np.maximum(duration, 0.0), dtype=np.float64)

    def soc_after_charging(
        self,
        soc_start: ArrayLike,
        duration_s: ArrayLike,
        *,
        charger_kw: float,
        kind: ChargerKind | str = ChargerKind.DC,
        capacity_kwh: float | None = None,
        efficiency: float = 1.0,
    ) -> NDArray[np.float64]:
        """State of charge after charging ``duration_s`` seconds from ``soc_start`` (vectorised).

        Inverse of :meth:`charge_duration_s`; parameters as there.
        """
        soc_grid, t_grid = self._charge_time_table(charger_kw, kind, capacity_kwh, efficiency)
        start = np.clip(np.asarray(soc_start, dtype=np.float64), 0.0, 1.0)
        t_end = np.interp(start, soc_grid, t_grid) + np.maximum(np.asarray(duration_s, float), 0)
        finite = np.isfinite(t_grid)
        result = np.interp(t_end, t_grid[finite], soc_grid[finite])
        return np.asarray(np.maximum(result, start), dtype=np.float64)

    def _charge_time_table(
        self,
        charger_kw: float,
        kind: ChargerKind | str,
        capacity_kwh: float | None,
        efficiency: float,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Cumulative charging time (s) from SOC 0 on a fine SOC grid (trapezoid in 1/P)."""
        capacity = self.battery_kwh if capacity_kwh is None else capacity_kwh
        if not capacity > 0:
            msg = f"capacity_kwh must be > 0, got {capacity}"
            raise InputDataError(msg)
        soc_grid = np.linspace(0.0, 1.0, _SOC_GRID_POINTS)
        power = self.charge_power_kw(
            soc_grid, charger_kw=charger_kw, kind=kind, efficiency=efficiency
        )
        with np.errstate(divide="ignore"):
            inv = np.where(power > 0, 1.0 / power, np.inf)
        steps = 0.5 * (inv[1:] + inv[:-1]) * np.diff(soc_grid) * capacity * HOUR_S
        return soc_grid, np.concatenate(([0.0], np.cumsum(steps)))


def _spec_from_record(record: dict[str, Any]) -> VehicleSpec:
    known = {f.name for f in fields(VehicleSpec)}
    unknown = set(record) - known
    if unknown:
        msg = f"vehicle {record.get('vehicle_id')!r}: unknown fields {sorted(unknown)}"
        raise InputDataError(msg)
    values = dict(record)
    for name in ("motor_efficiency", "dc_curve_soc", "dc_curve_kw", "motor_load_grid"):
        if name in values:
            values[name] = tuple(float(x) for x in values[name])
    return VehicleSpec(**values)


@cache
def _catalogue() -> dict[str, VehicleSpec]:
    text = resources.files("evfleet").joinpath("data/vehicles.json").read_text(encoding="utf-8")
    specs = [_spec_from_record(r) for r in json.loads(text)["vehicles"]]
    logger.debug("loaded %d vehicle specs", len(specs))
    return {s.vehicle_id: s for s in specs}


def list_vehicles() -> list[str]:
    """Return the ids of all catalogue vehicles, sorted."""
    return sorted(_catalogue())


def get_vehicle(vehicle_id: str) -> VehicleSpec:
    """Return the catalogue spec of ``vehicle_id``.

    Raises
    ------
    InputDataError
        If the id is unknown; the message lists the valid ids.
    """
    try:
        return _catalogue()[vehicle_id]
    except KeyError:
        msg = f"unknown vehicle id {vehicle_id!r}; valid ids: {', '.join(list_vehicles())}"
        raise InputDataError(msg) from None
