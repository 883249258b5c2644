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

from evfleet.units import W_PER_KW
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
    return np.asarray(np.minimum(heating_w + cooling_w, spec.hvac_max_kw * W_PER_KW), np.float64)


# --- On-road cabin model (used when ``Conditions.on_road``) ----------------------------
# A dynamometer test (FASTSim, EPA UDDS/HWFET) runs with the climate control idle. On the
# road the cabin is a heat balance: conductance x (set point - ambient) minus the heat of
# the occupants and the sun, held within a narrow band by automatic climate control, with
# the blower always ventilating; and every trip starts with the cabin at the temperature
# it soaked to while parked, so the first minutes need much more heating or cooling.
ON_ROAD_BAND_K = 1.0
"""Automatic climate control holds the cabin within about ±1 K of its set point."""
OCCUPANT_GAIN_W = 120.0
"""Sensible heat of 1.5 seated occupants (~80 W each; ASHRAE Fundamentals, ch. 18)."""
SOLAR_APERTURE_M2 = 1.0
"""Glazing area x solar heat-gain coefficient: ~2.5-3 m² of glass x ~0.35-0.4; about 1 kW
of solar load in full sun (Rugh et al., NREL/CP-540-41174, 2007)."""
BLOWER_W = 120.0
"""Cabin blower ventilating at low-medium speed (blower motors draw ~50-350 W)."""
CABIN_HEAT_CAPACITY_J_PER_K = 100_000.0
"""Effective heat capacity of cabin air and interior surfaces that follow the air within
minutes (~3.6 kJ/K of air plus ~70 kg of trim, seats and glass; Kambly & Bradley, J. Power
Sources 259 (2014) 117-124, model the cabin with a lumped mass of this order)."""
CABIN_WARMUP_TAU_S = 300.0
"""Time constant of the approach to the set point after departure (5 min)."""
CABIN_PARKED_TAU_S = 1_200.0
"""Time constant with which a parked cabin drifts to its soak temperature (20 min)."""
SOAK_K_PER_W_M2 = 0.0125
"""Parked cabin excess over ambient per W/m² of sun: ~25 K in full sun (NREL soak tests,
Rugh et al. 2007), halved for the share of cars parked in shade or garages."""


def cabin_start_c(
    temp_c: ArrayLike,
    *,
    solar_w_m2: ArrayLike = 0.0,
    parked_s: ArrayLike,
    setpoint_c: float = CABIN_SETPOINT_C,
) -> NDArray[np.float64]:
    """Cabin temperature at departure after ``parked_s`` seconds parked, °C.

    The cabin left at the set point drifts first-order to its soak temperature (ambient
    plus the solar excess).
    """
    soak = np.asarray(temp_c, np.float64) + SOAK_K_PER_W_M2 * np.asarray(solar_w_m2, np.float64)
    kept = np.exp(-np.asarray(parked_s, np.float64) / CABIN_PARKED_TAU_S)
    return np.asarray(soak + (setpoint_c - soak) * kept, dtype=np.float64)


def window_mean_decay(
    start_s: ArrayLike, duration_s: ArrayLike, tau_s: float
) -> NDArray[np.float64]:
    """Mean of ``exp(-t / tau_s)`` over ``start_s <= t <= start_s + duration_s``."""
    t0 = np.asarray(start_s, np.float64)
    d = np.asarray(duration_s, np.float64)
    x = d / tau_s
    safe = np.where(x > 1e-9, x, 1.0)
    shape = np.where(x > 1e-9, -np.expm1(-safe) / safe, 1.0)
    return np.asarray(np.exp(-t0 / tau_s) * shape, dtype=np.float64)


def on_road_hvac_power_w(
    spec: VehicleSpec,
    temp_c: ArrayLike,
    *,
    solar_w_m2: ArrayLike = 0.0,
    setpoint_c: float = CABIN_SETPOINT_C,
    trip_time_s: ArrayLike | None = None,
    duration_s: ArrayLike = 0.0,
    parked_s: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Mean electrical HVAC power on the road, W, over ``trip_time_s .. + duration_s``.

    Thermal load (heating positive) ``UA·(set point - ambient) - occupants - sun``, zero
    within ±``ON_ROAD_BAND_K``; plus, when ``trip_time_s`` is given, the warm-up / cool-
    down of a cabin that departs at :func:`cabin_start_c` and approaches the set point as
    ``exp(-t / CABIN_WARMUP_TAU_S)``: extra thermal power ``(C/tau - UA)·ΔT·exp(-t/tau)``
    (heat stored in the cabin minus the envelope loss it saves while still off target).
    Heating goes through the heat pump or PTC heater, cooling through the A/C; the thermal
    part is capped at ``spec.hvac_max_kw``; the blower always runs.
    """
    t = np.asarray(temp_c, dtype=np.float64)
    sun = np.asarray(solar_w_m2, dtype=np.float64)
    ua = CABIN_CONDUCTANCE_W_PER_K
    balance = ua * (setpoint_c - t) - OCCUPANT_GAIN_W - SOLAR_APERTURE_M2 * sun
    load = np.sign(balance) * np.maximum(np.abs(balance) - ua * ON_ROAD_BAND_K, 0.0)
    if trip_time_s is not None:
        start = cabin_start_c(t, solar_w_m2=sun, parked_s=parked_s, setpoint_c=setpoint_c)
        gap = setpoint_c - start
        rate = CABIN_HEAT_CAPACITY_J_PER_K / CABIN_WARMUP_TAU_S - ua
        load = load + rate * gap * window_mean_decay(trip_time_s, duration_s, CABIN_WARMUP_TAU_S)
    heat_cop = heat_pump_cop(t) if spec.hvac_kind is HvacKind.HEAT_PUMP else np.ones_like(t)
    electric = np.maximum(load, 0.0) / heat_cop + np.maximum(-load, 0.0) / ac_cop(t)
    return np.asarray(np.minimum(electric, spec.hvac_max_kw * W_PER_KW) + BLOWER_W, np.float64)
