"""Power-limited driving: what the motor and battery let a driver do at each speed.

A driver's wish (the style's acceleration, a cruise speed near the limit) is cut back to
what the powertrain delivers: the motor shaft power is at most the motor's peak, and at
most what the battery can supply at its coldest internal resistance (terminal voltage
not sagging below :data:`MIN_TERMINAL_VOLTAGE_FRACTION` of open circuit) after HVAC and
auxiliaries took their share. The wheel needs ``(F_road(v) + m_eff·a)·v``; the road load
is bounded from above by the worst conditions of the period (coldest air, strongest
wind as a head wind, wet road, cold tyres), so the limit holds for every step the energy
model later integrates: at any speed up to the edge's cruise speed ``v_top``, a constant
acceleration ``a <= (P_wheel / v_top - F_road(v_top)) / m_eff`` never asks for more than
the peak (wheel power rises with speed at a fixed acceleration). Cruise speeds are
capped where the car could no longer accelerate by :data:`RESERVE_ACCEL_MPS2` (steep
climbs, weak cars). Braking is unaffected: friction brakes take what regeneration cannot
(the energy model caps regeneration at ``max_regen_kw``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evfleet.errors import InputDataError
from evfleet.physics.air import air_density_kg_m3
from evfleet.physics.battery import internal_resistance_ohm
from evfleet.physics.model import CRR_TEMP_COEFF_PER_K, GRAVITY_MPS2, MAX_ABS_GRADE
from evfleet.physics.onroad import (
    COLD_TYRE_CRR_RISE,
    ON_ROAD_AUX_EXTRA_W,
    ROAD_SURFACE_CRR_FACTOR,
    TYRE_PRESSURE_CRR_FACTOR,
    WET_ROAD_CRR_RISE,
)
from evfleet.units import W_PER_KW
from evfleet.vehicles import VehicleSpec

MIN_TERMINAL_VOLTAGE_FRACTION: Final = 0.75
"""The battery management caps discharge current so that the pack voltage stays above 75 %
of open circuit: ``P_max = f·(1 - f)·V²/R`` at ``f = 0.75``."""
RESERVE_ACCEL_MPS2: Final = 0.2
"""Acceleration a car keeps in reserve at its cruise speed (it must still reach it)."""
_CRR_REFERENCE_TEMP_C: Final = 25.0
_BISECTION_STEPS: Final = 40


@dataclass(frozen=True, slots=True)
class RoadLoadBound:
    """Worst road-load conditions of a period (upper bounds for the power limit).

    Attributes
    ----------
    min_temp_c
        Coldest air of the period, °C (densest air, stiffest tyres, weakest battery).
    max_wind_mps
        Strongest wind, m/s, taken as a head wind everywhere.
    on_road
        Include the on-road rolling losses (pavement, tyre pressure, wet road, cold tyres).
    """

    min_temp_c: float = 20.0
    max_wind_mps: float = 0.0
    on_road: bool = True

    def __post_init__(self) -> None:
        """Reject non-finite or out-of-range bounds."""
        if not (np.isfinite(self.min_temp_c) and -60.0 <= self.min_temp_c <= 60.0):
            msg = f"min_temp_c must be within -60..60 °C, got {self.min_temp_c}"
            raise InputDataError(msg)
        if not (np.isfinite(self.max_wind_mps) and 0.0 <= self.max_wind_mps <= 60.0):
            msg = f"max_wind_mps must be within 0..60 m/s, got {self.max_wind_mps}"
            raise InputDataError(msg)


def battery_power_limit_w(spec: VehicleSpec, temp_c: ArrayLike) -> NDArray[np.float64]:
    """Largest terminal power the battery delivers at cell temperature ``temp_c``, W."""
    f = MIN_TERMINAL_VOLTAGE_FRACTION
    r_ohm = internal_resistance_ohm(spec, temp_c)
    return np.asarray(f * (1.0 - f) * spec.pack_voltage_v**2 / r_ohm, dtype=np.float64)


def max_shaft_power_w(spec: VehicleSpec, bound: RoadLoadBound) -> float:
    """Motor shaft power available for traction, W: motor peak, or what the battery leaves.

    The battery serves HVAC at full power and the auxiliaries first; the motor turns the
    rest into shaft power at its full-load efficiency.
    """
    aux_w = spec.aux_w + (ON_ROAD_AUX_EXTRA_W if bound.on_road else 0.0)
    battery_w = float(battery_power_limit_w(spec, bound.min_temp_c))
    left_w = max(battery_w - spec.hvac_max_kw * W_PER_KW - aux_w, 0.0)
    return min(spec.motor_peak_kw * W_PER_KW, left_w * spec.motor_efficiency[-1])


def _road_load_terms(
    spec: VehicleSpec, bound: RoadLoadBound, grade: NDArray[np.float64]
) -> tuple[NDArray[np.float64], float]:
    """Upper bound of the road load as ``F(v) = fixed + aero·(v + wind)²``, N.

    ``fixed`` (rolling + grade) is per edge; ``aero`` is ½·ρ·Cd·A at the coldest, dry air.
    """
    crr = 1.0 + CRR_TEMP_COEFF_PER_K * (_CRR_REFERENCE_TEMP_C - bound.min_temp_c)
    if bound.on_road:
        road = ROAD_SURFACE_CRR_FACTOR * TYRE_PRESSURE_CRR_FACTOR
        crr *= road * (1.0 + WET_ROAD_CRR_RISE) * (1.0 + COLD_TYRE_CRR_RISE)
    rho = float(air_density_kg_m3(bound.min_temp_c, relative_humidity=0.0))
    cos_t = 1.0 / np.sqrt(1.0 + grade * grade)
    mg = spec.test_mass_kg * GRAVITY_MPS2
    fixed = (spec.rolling_resistance * crr + grade) * mg * cos_t
    return np.asarray(fixed, dtype=np.float64), 0.5 * spec.cda_m2 * rho


def power_limited(
    spec: VehicleSpec,
    *,
    grade: ArrayLike,
    cruise_mps: ArrayLike,
    accel_mps2: float,
    bound: RoadLoadBound,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Cruise speed and acceleration per edge that the powertrain can deliver.

    Parameters
    ----------
    spec
        The vehicle (motor peak, battery, mass, drag, tyres).
    grade
        Road grade per edge (rise/run), within ±0.35.
    cruise_mps
        The driver's wished cruise speed per edge, m/s (> 0).
    accel_mps2
        The style's acceleration, m/s².
    bound
        Worst road-load conditions of the period.

    Returns
    -------
    tuple of numpy.ndarray
        Cruise speed (<= the wish) and constant acceleration (<= the style's, >= the
        reserve) per edge; driving them never needs more than the available shaft power.
    """
    g = np.asarray(grade, dtype=np.float64).reshape(-1)
    wish = np.asarray(cruise_mps, dtype=np.float64).reshape(-1)
    if np.any(np.abs(g) > MAX_ABS_GRADE) or np.any(~np.isfinite(wish) | (wish <= 0)):
        msg = f"power_limited needs |grade| <= {MAX_ABS_GRADE} and cruise speeds > 0"
        raise InputDataError(msg)
    wheel_w = max_shaft_power_w(spec, bound) * spec.transmission_efficiency
    m_eff = spec.test_mass_kg * spec.rotating_mass_factor
    fixed, aero = _road_load_terms(spec, bound, g)
    wind = bound.max_wind_mps

    def spare_accel(v: NDArray[np.float64], rows: slice | NDArray[np.intp]) -> NDArray[np.float64]:
        return np.asarray((wheel_w / v - fixed[rows] - aero * (v + wind) ** 2) / m_eff)

    cruise = wish.copy()
    short = np.flatnonzero(spare_accel(wish, slice(None)) < RESERVE_ACCEL_MPS2)
    if short.size:  # largest speed that keeps the reserve (the spare falls with speed)
        lo, hi = np.full(short.size, 0.1), wish[short]
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            good = spare_accel(mid, short) >= RESERVE_ACCEL_MPS2
            lo, hi = np.where(good, mid, lo), np.where(good, hi, mid)
        cruise[short] = lo
    accel = np.clip(spare_accel(cruise, slice(None)), RESERVE_ACCEL_MPS2, accel_mps2)
    return cruise, np.minimum(accel, accel_mps2)
