"""Ambient air: density from temperature, pressure and humidity; head-wind component."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evfleet.errors import InputDataError

STANDARD_PRESSURE_PA = 101_325.0
_R_DRY_J_PER_KG_K = 287.058
_R_VAPOUR_J_PER_KG_K = 461.495
_KELVIN = 273.15


def saturation_vapour_pressure_pa(temp_c: ArrayLike) -> NDArray[np.float64]:
    """Saturation vapour pressure over water (Magnus-Tetens formula), Pa."""
    t = np.asarray(temp_c, dtype=np.float64)
    return np.asarray(610.78 * np.exp(17.27 * t / (t + 237.3)), dtype=np.float64)


def air_density_kg_m3(
    temp_c: ArrayLike,
    *,
    pressure_pa: ArrayLike = STANDARD_PRESSURE_PA,
    relative_humidity: ArrayLike = 0.5,
) -> NDArray[np.float64]:
    """Density of moist air, kg/m³ (ideal-gas mixture of dry air and water vapour).

    Parameters
    ----------
    temp_c
        Air temperature, °C (-60 ... 60).
    pressure_pa
        Total (station) pressure, Pa.
    relative_humidity
        Relative humidity as a fraction, 0 ... 1.

    Returns
    -------
    numpy.ndarray
        Density broadcast over the inputs; about 1.19 kg/m³ at 22 °C, sea level, 50 % RH.
    """
    t = np.asarray(temp_c, dtype=np.float64)
    p = np.asarray(pressure_pa, dtype=np.float64)
    rh = np.asarray(relative_humidity, dtype=np.float64)
    if np.any(~np.isfinite(t) | (t < -60) | (t > 60)):
        msg = "temp_c must be finite and within -60..60 °C"
        raise InputDataError(msg)
    if np.any(~np.isfinite(p) | (p < 50_000) | (p > 110_000)):
        msg = "pressure_pa must be within 50,000..110,000 Pa"
        raise InputDataError(msg)
    if np.any(~np.isfinite(rh) | (rh < 0) | (rh > 1)):
        msg = "relative_humidity must be a fraction within 0..1"
        raise InputDataError(msg)
    p_vapour = rh * saturation_vapour_pressure_pa(t)
    t_k = t + _KELVIN
    rho = (p - p_vapour) / (_R_DRY_J_PER_KG_K * t_k) + p_vapour / (_R_VAPOUR_J_PER_KG_K * t_k)
    return np.asarray(rho, dtype=np.float64)


def headwind_mps(
    heading_deg: ArrayLike, *, wind_speed_mps: ArrayLike, wind_from_deg: ArrayLike
) -> NDArray[np.float64]:
    """Component of the wind against the direction of travel, m/s (negative = tail wind).

    Parameters
    ----------
    heading_deg
        Direction of travel, degrees clockwise from north.
    wind_speed_mps
        Wind speed, m/s (>= 0).
    wind_from_deg
        Direction the wind blows *from* (meteorological convention), degrees from north.
    """
    speed = np.asarray(wind_speed_mps, dtype=np.float64)
    if np.any(~np.isfinite(speed) | (speed < 0)):
        msg = "wind_speed_mps must be finite and >= 0"
        raise InputDataError(msg)
    angle = np.radians(np.asarray(wind_from_deg, float) - np.asarray(heading_deg, float))
    return np.asarray(speed * np.cos(angle), dtype=np.float64)
