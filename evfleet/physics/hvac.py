"""Cabin climate control: electrical HVAC power vs ambient temperature.

A steady-state cabin balance: the thermal load is a conductance (walls, glass and fresh-air
ventilation) times the gap between ambient and a comfort band around the set point, plus
solar gain when cooling. Heating is delivered by a heat pump (COP falling with ambient
temperature, never below 1) or a resistive PTC heater (COP 1); cooling by the A/C
compressor (COP falling with ambient temperature). Inside the comfort band HVAC idles.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evfleet.vehicles import HvacKind, VehicleSpec

CABIN_SETPOINT_C = 21.0
COMFORT_BAND_K = 3.0
"""HVAC idles while ambient is within set point ± this band."""
CABIN_CONDUCTANCE_W_PER_K = 110.0
"""Envelope conductance including ventilation air (typical compact / mid-size car)."""
SOLAR_GAIN_W = 500.0
"""Solar load added (ramping in over 3 K) when the A/C is on."""


def heat_pump_cop(temp_c: ArrayLike) -> NDArray[np.float64]:
    """Heating COP of an automotive heat pump: ~2.2 at -7 °C, 3.5 above 10 °C, 1 at -20 °C."""
    t = np.asarray(temp_c, dtype=np.float64)
    return np.asarray(np.clip(1.0 + 0.09 * (t + 20.0), 1.0, 3.5), dtype=np.float64)


def ac_cop(temp_c: ArrayLike) -> NDArray[np.float64]:
    """Cooling COP of the A/C compressor: 3.5 at 25 °C, ~2.9 at 35 °C, floor 1.5."""
    t = np.asarray(temp_c, dtype=np.float64)
    return np.asarray(np.clip(3.5 - 0.06 * (t - 25.0), 1.5, 3.5), dtype=np.float64)


def hvac_power_w(
    spec: VehicleSpec, temp_c: ArrayLike, *, setpoint_c: float = CABIN_SETPOINT_C
) -> NDArray[np.float64]:
    """Electrical HVAC power to hold the cabin at ``setpoint_c``, W (vectorised over temp_c).

    Parameters
    ----------
    spec
        Vehicle (heating technology and largest HVAC power).
    temp_c
        Ambient temperature(s), °C.
    setpoint_c
        Cabin set point, °C.

    Returns
    -------
    numpy.ndarray
        Power in W, 0 inside the comfort band, capped at ``spec.hvac_max_kw``.
    """
    t = np.asarray(temp_c, dtype=np.float64)
    heat_gap = np.maximum(setpoint_c - COMFORT_BAND_K - t, 0.0)
    cool_gap = np.maximum(t - setpoint_c - COMFORT_BAND_K, 0.0)
    heat_cop = heat_pump_cop(t) if spec.hvac_kind is HvacKind.HEAT_PUMP else np.ones_like(t)
    heating_w = CABIN_CONDUCTANCE_W_PER_K * heat_gap / heat_cop
    cooling_thermal_w = CABIN_CONDUCTANCE_W_PER_K * cool_gap + SOLAR_GAIN_W * np.minimum(
        cool_gap / 3.0, 1.0
    )
    cooling_w = cooling_thermal_w / ac_cop(t)
    return np.asarray(np.minimum(heating_w + cooling_w, spec.hvac_max_kw * 1000.0), np.float64)
