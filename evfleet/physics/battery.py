"""Battery temperature effects: Arrhenius internal resistance and usable capacity."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evfleet.vehicles import VehicleSpec

GAS_CONSTANT_J_PER_MOL_K = 8.314462618
RESISTANCE_ACTIVATION_J_PER_MOL = 25_000.0
"""Apparent activation energy of Li-ion cell resistance (literature: ~20-35 kJ/mol)."""
REFERENCE_TEMP_C = 25.0
CAPACITY_LOSS_PER_K = 0.005
"""Usable-capacity loss per kelvin below 25 °C (about 16 % at -7 °C)."""
MIN_CAPACITY_FRACTION = 0.6
_MIN_CELL_TEMP_C = -40.0


def internal_resistance_ohm(spec: VehicleSpec, temp_c: ArrayLike) -> NDArray[np.float64]:
    """Pack internal resistance at cell temperature ``temp_c`` (Arrhenius law), ohm.

    ``R(T) = R25 * exp(Ea / R * (1/T - 1/T25))``: about 3.4 x R25 at -7 °C, 0.8 x at 35 °C.
    """
    t_k = np.maximum(np.asarray(temp_c, dtype=np.float64), _MIN_CELL_TEMP_C) + 273.15
    t_ref = REFERENCE_TEMP_C + 273.15
    ratio = np.exp(
        RESISTANCE_ACTIVATION_J_PER_MOL / GAS_CONSTANT_J_PER_MOL_K * (1 / t_k - 1 / t_ref)
    )
    return np.asarray(spec.internal_resistance_ohm * ratio, dtype=np.float64)


def usable_capacity_kwh(spec: VehicleSpec, temp_c: ArrayLike) -> NDArray[np.float64]:
    """Usable battery energy at cell temperature ``temp_c``, kWh (for SOC bookkeeping).

    Full ``spec.battery_kwh`` at and above 25 °C, falling linearly below (cold cells
    deliver less of their charge), never below 60 %.
    """
    t = np.asarray(temp_c, dtype=np.float64)
    fraction = np.clip(
        1.0 - CAPACITY_LOSS_PER_K * np.maximum(REFERENCE_TEMP_C - t, 0.0),
        MIN_CAPACITY_FRACTION,
        1.0,
    )
    return np.asarray(spec.battery_kwh * fraction, dtype=np.float64)
