"""Vectorised longitudinal energy model of a battery-electric vehicle.

A trace is a sequence of time steps; step ``i`` takes ``dt_s[i]`` seconds and changes speed
linearly from the previous step's end speed to ``speed_mps[i]`` (a 1 Hz drive cycle or the
phases of :mod:`evfleet.physics.profiles`). Per step the model computes

* road-load forces: inertia ``f·m·a`` (rotating-mass factor ``f``), rolling
  ``Crr(T)·m·g·cos θ``, aero ``½·ρ(T, p, RH)·Cd·A·v_rel·|v_rel|`` with the head-wind
  component, grade ``m·g·sin θ``;
* traction: positive wheel power / (transmission x motor efficiency at the current load);
  the largest motor shaft power of each segment is reported (``max_power_kw``; the
  speed profiles keep it within the powertrain's limit, :mod:`evfleet.physics.power`);
* regeneration: negative wheel power x transmission x motor efficiency, capped at the
  vehicle's regen power and faded out below walking speed; it can never exceed the
  kinetic + potential energy the road load leaves;
* HVAC and auxiliary power over the step's duration;
* battery I²R loss for the net terminal power with Arrhenius internal resistance.

The battery-side energy is split into the components ``rolling, aero, grade, inertia``
(traction energy charged to each force in proportion, so a downhill grade during
traction is negative), ``regen`` (<= 0), ``hvac``, ``aux`` and ``battery_loss``; they
sum to the total. :class:`Conditions` default to dynamometer conditions (the FASTSim
validation); ``on_road=True`` adds the losses of real roads (:mod:`evfleet.physics.onroad`).
The per-step loop is a numba kernel (``nogil``, cached) that sums components directly per
segment.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, Final

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from evfleet.errors import InputDataError
from evfleet.physics.air import STANDARD_PRESSURE_PA, air_density_kg_m3
from evfleet.physics.battery import internal_resistance_ohm
from evfleet.physics.hvac import CABIN_SETPOINT_C, hvac_power_w, on_road_hvac_power_w
from evfleet.physics.onroad import ON_ROAD_AUX_EXTRA_W, PARKED_COLD_S, on_road_crr_factor
from evfleet.physics.results import COMPONENTS, EnergyBreakdown, SegmentEnergy
from evfleet.units import J_PER_KWH, KPH_PER_MPS, W_PER_KW
from evfleet.vehicles import VehicleSpec

logger = logging.getLogger(__name__)

GRAVITY_MPS2: Final = 9.80665
MAX_ABS_GRADE: Final = 0.35
"""Steepest grade (rise/run) accepted; steeper values are treated as bad input."""
MAX_SPEED_MPS: Final = 100.0
MAX_ABS_WIND_MPS: Final = 60.0
DEFAULT_TEMP_C: Final = 20.0
REGEN_FADE_SPEED_MPS: Final = 2.4
"""Speed at which regeneration is half faded (FASTSim's fade: 5.3 mph)."""
REGEN_FADE_WIDTH_MPS: Final = 0.45
CRR_TEMP_COEFF_PER_K: Final = 0.005
"""Relative rise of tyre rolling resistance per kelvin below 25 °C."""
_CRR_REFERENCE_TEMP_C: Final = 25.0
_N_OUT: Final = len(COMPONENTS) + 3  # components, distance_m, duration_s, peak shaft W
_SCALAR: Final = 0
_PER_STEP: Final = 1
_PER_SEGMENT: Final = 2


@dataclass(frozen=True, slots=True)
class Conditions:
    """Ambient and cabin conditions.

    Each numeric field is a scalar or an array with one value per step (or per segment,
    see ``per_segment_inputs`` of :func:`simulate_segments`).

    Attributes
    ----------
    temp_c
        Ambient air temperature, °C.
    pressure_pa
        Station air pressure, Pa.
    relative_humidity
        Relative humidity, 0..1.
    battery_temp_c
        Cell temperature, °C; ``None`` means ambient (no pack conditioning).
    cabin_setpoint_c
        HVAC set point, °C.
    hvac_on
        ``False`` switches HVAC off (auxiliary load still runs).
    on_road
        ``False`` (default): dynamometer conditions as in FASTSim / EPA tests. ``True``:
        add the losses of real roads (:mod:`evfleet.physics.onroad`); the fields below
        apply only then.
    solar_w_m2
        Global horizontal irradiance, W/m² (cabin solar load and soak).
    wet_road
        Wet fraction of the road, 0 (dry) .. 1 (wet).
    trip_time_s
        Time since departure at the start of each step (or segment), s; ``None`` means a
        car long under way (cabin at its set point, warm tyres).
    parked_s
        Time parked before the trip, s (how far cabin and tyres soaked to ambient).
    """

    temp_c: ArrayLike = DEFAULT_TEMP_C
    pressure_pa: ArrayLike = STANDARD_PRESSURE_PA
    relative_humidity: ArrayLike = 0.5
    battery_temp_c: ArrayLike | None = None
    cabin_setpoint_c: float = CABIN_SETPOINT_C
    hvac_on: bool = True
    on_road: bool = False
    solar_w_m2: ArrayLike = 0.0
    wet_road: ArrayLike = 0.0
    trip_time_s: ArrayLike | None = None
    parked_s: ArrayLike = PARKED_COLD_S


_ARRAY_FIELDS: Final = (
    "temp_c", "pressure_pa", "relative_humidity", "battery_temp_c",
    "solar_w_m2", "wet_road", "trip_time_s", "parked_s",
)  # fmt: skip
"""Fields of :class:`Conditions` that may hold one value per step or segment."""


@nb.njit(cache=True, nogil=True)
def _interp_sorted(x: float, grid: NDArray[np.float64], values: NDArray[np.float64]) -> float:
    """Linear interpolation on a short increasing grid (x clipped to its range)."""
    if x <= grid[0]:
        return values[0]
    for j in range(1, grid.size):
        if x <= grid[j]:
            w = (x - grid[j - 1]) / (grid[j] - grid[j - 1])
            return values[j - 1] + w * (values[j] - values[j - 1])
    return values[-1]


@nb.njit(cache=True, nogil=True, inline="always")
def _pick(mode: int, i: int, k: int) -> int:
    """Index of step ``i`` (segment ``k``) in an input held as scalar / per step / per segment."""
    if mode == _PER_STEP:
        return i
    if mode == _PER_SEGMENT:
        return k
    return 0


@nb.njit(cache=True, nogil=True)
def _integrate(
    v_start: NDArray[np.float64],
    v_end: NDArray[np.float64],
    seg: NDArray[np.int64],
    inputs: tuple[NDArray[np.float64], ...],
    modes: NDArray[np.int64],
    params: NDArray[np.float64],
    eff_grid: NDArray[np.float64],
    eff_values: NDArray[np.float64],
    out: NDArray[np.float64],
) -> None:
    """Accumulate per-segment energies (J), distance (m), time (s), peak shaft power (W).

    ``inputs`` are dt, grade, head wind, air density, rolling factor, HVAC W and battery
    resistance, each addressed as ``modes`` says; ``params`` holds mass_kg, effective mass,
    Crr·m·g, ½·Cd·A, transmission efficiency, motor peak W, regen cap W, aux W, voltage.
    """
    mass, m_eff, crr_mg, half_cda, eta_t, p_peak, p_regen, aux_w, volt = params
    dt, grade, headwind, rho, crr_factor, hvac_w, r_ohm = inputs
    s_seg = 1 if seg.size > 1 else 0
    for i in range(v_end.size):
        k = seg[i * s_seg]
        v0 = v_start[i]
        v1 = v_end[i]
        h = dt[_pick(modes[0], i, k)]
        va = 0.5 * (v0 + v1)
        g = grade[_pick(modes[1], i, k)]
        cos_t = 1.0 / np.sqrt(1.0 + g * g)
        v_rel = va + headwind[_pick(modes[2], i, k)]
        f_roll = crr_mg * crr_factor[_pick(modes[4], i, k)] * cos_t if va > 0.0 else 0.0
        f_aero = half_cda * rho[_pick(modes[3], i, k)] * v_rel * abs(v_rel)
        f_grade = mass * GRAVITY_MPS2 * g * cos_t
        f_inertia = m_eff * (v1 - v0) / h
        p_wheel = (f_roll + f_aero + f_grade + f_inertia) * va
        p_drive = 0.0
        if p_wheel > 0.0:
            p_mech = p_wheel / eta_t
            out[k, 10] = max(out[k, 10], p_mech)
            eta_m = _interp_sorted(min(p_mech / p_peak, 1.0), eff_grid, eff_values)
            joules_per_newton = va * h / (eta_t * eta_m)
            out[k, 0] += f_roll * joules_per_newton
            out[k, 1] += f_aero * joules_per_newton
            out[k, 2] += f_grade * joules_per_newton
            out[k, 3] += f_inertia * joules_per_newton
            p_drive = p_mech / eta_m
        elif p_wheel < 0.0:
            p_mech = -p_wheel * eta_t
            eta_m = _interp_sorted(min(p_mech / p_peak, 1.0), eff_grid, eff_values)
            fade = 1.0 / (1.0 + np.exp((REGEN_FADE_SPEED_MPS - va) / REGEN_FADE_WIDTH_MPS))
            p_drive = -min(p_mech * eta_m, p_regen) * fade
            out[k, 4] += p_drive * h
        p_hvac = hvac_w[_pick(modes[5], i, k)]
        out[k, 5] += p_hvac * h
        out[k, 6] += aux_w * h
        p_terminal = p_drive + p_hvac + aux_w
        r = r_ohm[_pick(modes[6], i, k)]
        current = (volt - np.sqrt(max(volt * volt - 4.0 * r * p_terminal, 0.0))) / (2.0 * r)
        out[k, 7] += current * current * r * h
        out[k, 8] += va * h
        out[k, 9] += h


@dataclass(frozen=True, slots=True)
class _Layout:
    """Sizes against which per-step inputs are checked: steps, segments, and which applies."""

    n_steps: int
    n_segments: int
    per_segment: bool

    def mode(self, arr: NDArray[np.float64], name: str) -> int:
        expected = self.n_segments if self.per_segment else self.n_steps
        if arr.size == 1:
            return _SCALAR
        if arr.size != expected:
            unit = "segment" if self.per_segment else "step"
            msg = (
                f"{name} must be a scalar or have one value per {unit} ({expected}), got {arr.size}"
            )
            raise InputDataError(msg)
        return _PER_SEGMENT if self.per_segment else _PER_STEP


def _checked(values: ArrayLike, name: str, lo: float, hi: float) -> NDArray[np.float64]:
    """Validate finite values within ``lo..hi``; return a flat contiguous float array."""
    arr = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    if not arr.flags.writeable:  # one compiled kernel signature: writeable arrays only
        arr = arr.copy()
    if not np.all(np.isfinite(arr)):
        msg = f"{name} contains NaN or infinite values"
        raise InputDataError(msg)
    if arr.size and (arr.min() < lo or arr.max() > hi):
        msg = f"{name} must be within {lo}..{hi}, got {arr.min():.4g}..{arr.max():.4g}"
        raise InputDataError(msg)
    return arr


def _on_road_arrays(
    spec: VehicleSpec,
    conditions: Conditions,
    temp: NDArray[np.float64],
    layout: _Layout,
    period_s: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """On-road rolling-resistance factor and HVAC power (see :mod:`evfleet.physics.onroad`).

    ``period_s`` is the duration of each step or segment (for the warm-up averages).
    """
    limits = {"solar_w_m2": 1500.0, "wet_road": 1.0, "trip_time_s": 1e8, "parked_s": 1e8}
    arrays = {
        name: _checked(getattr(conditions, name), name, 0.0, hi)
        for name, hi in limits.items()
        if getattr(conditions, name) is not None
    }
    for name, arr in arrays.items():
        layout.mode(arr, name)
    timing: dict[str, Any] = {
        "trip_time_s": arrays.get("trip_time_s"),
        "duration_s": period_s,
        "parked_s": arrays["parked_s"],
    }
    crr = on_road_crr_factor(wet_road=arrays["wet_road"], **timing)
    hvac = np.zeros(1)
    if conditions.hvac_on:
        sun, setpoint = arrays["solar_w_m2"], conditions.cabin_setpoint_c
        hvac = on_road_hvac_power_w(spec, temp, solar_w_m2=sun, setpoint_c=setpoint, **timing)
    return crr, hvac


def _condition_arrays(
    spec: VehicleSpec, conditions: Conditions, layout: _Layout, period_s: NDArray[np.float64]
) -> list[tuple[NDArray[np.float64], int]]:
    """Air density, rolling factor, HVAC power and battery resistance with their modes."""
    temp = _checked(conditions.temp_c, "temp_c", -60.0, 60.0)
    pressure = _checked(conditions.pressure_pa, "pressure_pa", 5e4, 1.1e5)
    humidity = _checked(conditions.relative_humidity, "relative_humidity", 0.0, 1.0)
    cell_temp = temp
    if conditions.battery_temp_c is not None:
        cell_temp = _checked(conditions.battery_temp_c, "battery_temp_c", -40.0, 70.0)
    modes = {
        name: layout.mode(arr, name)
        for name, arr in (
            ("temp_c", temp),
            ("pressure_pa", pressure),
            ("relative_humidity", humidity),
            ("battery_temp_c", cell_temp),
        )
    }
    rho = air_density_kg_m3(temp, pressure_pa=pressure, relative_humidity=humidity)
    rho_mode = max(modes["temp_c"], modes["pressure_pa"], modes["relative_humidity"])
    temp_mode = modes["temp_c"]
    crr_factor = 1.0 + CRR_TEMP_COEFF_PER_K * (_CRR_REFERENCE_TEMP_C - temp)
    if conditions.on_road:
        road_crr, hvac_w = _on_road_arrays(spec, conditions, temp, layout, period_s)
        crr_factor = crr_factor * road_crr
        crr = (crr_factor, layout.mode(crr_factor, "rolling factor"))
        hvac = (hvac_w, layout.mode(hvac_w, "hvac power"))
    elif conditions.hvac_on:
        crr = (crr_factor, temp_mode)
        hvac = (hvac_power_w(spec, temp, setpoint_c=conditions.cabin_setpoint_c), temp_mode)
    else:
        crr, hvac = (crr_factor, temp_mode), (np.zeros(1), _SCALAR)
    r_ohm = internal_resistance_ohm(spec, cell_temp)
    pairs = [(rho, rho_mode), crr, hvac, (r_ohm, modes["battery_temp_c"])]
    return [(np.ascontiguousarray(a, dtype=np.float64), m) for a, m in pairs]


def _vehicle_params(spec: VehicleSpec, *, on_road: bool) -> NDArray[np.float64]:
    return np.array(
        [
            spec.test_mass_kg,
            spec.test_mass_kg * spec.rotating_mass_factor,
            spec.rolling_resistance * spec.test_mass_kg * GRAVITY_MPS2,
            0.5 * spec.cda_m2,
            spec.transmission_efficiency,
            spec.motor_peak_kw * W_PER_KW,
            spec.max_regen_kw * W_PER_KW,
            spec.aux_w + (ON_ROAD_AUX_EXTRA_W if on_road else 0.0),
            spec.pack_voltage_v,
        ],
        dtype=np.float64,
    )


def _run(
    spec: VehicleSpec,
    v_start: NDArray[np.float64],
    v_end: NDArray[np.float64],
    *,
    dt_s: ArrayLike,
    grade: ArrayLike,
    headwind_mps: ArrayLike,
    conditions: Conditions,
    segment_index: NDArray[np.int64],
    layout: _Layout,
) -> SegmentEnergy:
    dt = _checked(dt_s, "dt_s", 0.0, np.inf)
    if dt.size and dt.min() <= 0:
        msg = "dt_s must be > 0 for every step"
        raise InputDataError(msg)
    dt_mode = _Layout(layout.n_steps, layout.n_segments, per_segment=False).mode(dt, "dt_s")
    g = _checked(grade, "grade", -MAX_ABS_GRADE, MAX_ABS_GRADE)
    wind = _checked(headwind_mps, "headwind_mps", -MAX_ABS_WIND_MPS, MAX_ABS_WIND_MPS)
    period = dt
    if layout.per_segment and conditions.on_road and conditions.trip_time_s is not None:
        period = np.asarray(
            np.bincount(
                segment_index, weights=np.broadcast_to(dt, v_end.shape), minlength=layout.n_segments
            ),
            dtype=np.float64,
        )
    pairs = [
        (dt, dt_mode),
        (g, layout.mode(g, "grade")),
        (wind, layout.mode(wind, "headwind_mps")),
        *_condition_arrays(spec, conditions, layout, period),
    ]
    out = np.zeros((layout.n_segments, _N_OUT), dtype=np.float64)
    logger.debug(
        "energy model: %s, %d steps, %d segments", spec.vehicle_id, v_end.size, layout.n_segments
    )
    _integrate(
        v_start,
        v_end,
        segment_index,
        tuple(a for a, _ in pairs),
        np.array([m for _, m in pairs], dtype=np.int64),
        _vehicle_params(spec, on_road=conditions.on_road),
        np.asarray(spec.motor_load_grid, dtype=np.float64),
        np.asarray(spec.motor_efficiency, dtype=np.float64),
        out,
    )
    return SegmentEnergy(
        components_kwh=out[:, : len(COMPONENTS)] / J_PER_KWH,
        distance_m=out[:, len(COMPONENTS)],
        duration_s=out[:, len(COMPONENTS) + 1],
        max_power_kw=out[:, len(COMPONENTS) + 2] / W_PER_KW,
    )


def _segment_ids(
    segment_index: ArrayLike | None, n: int, n_segments: int | None
) -> tuple[NDArray[np.int64], int]:
    if segment_index is None:
        return np.zeros(1, dtype=np.int64), 1
    seg = np.ascontiguousarray(segment_index, dtype=np.int64).reshape(-1)
    if seg.size != n:
        msg = f"segment_index must have one entry per step ({n}), got {seg.size}"
        raise InputDataError(msg)
    count = n_segments if n_segments is not None else (int(seg.max()) + 1 if n else 0)
    if n and (seg.min() < 0 or seg.max() >= count):
        msg = f"segment_index values must lie in 0..{count - 1}"
        raise InputDataError(msg)
    return seg, count


def simulate_segments(
    spec: VehicleSpec,
    speed_mps: ArrayLike,
    *,
    segment_index: ArrayLike | None,
    n_segments: int | None = None,
    dt_s: ArrayLike = 1.0,
    grade: ArrayLike = 0.0,
    headwind_mps: ArrayLike = 0.0,
    conditions: Conditions | None = None,
    per_segment_inputs: bool = False,
    initial_speed_mps: float = 0.0,
) -> SegmentEnergy:
    """Integrate the energy model over a trace and sum per segment.

    Parameters
    ----------
    spec
        Vehicle.
    speed_mps
        Speed at the end of each step, m/s (>= 0).
    segment_index
        Segment (e.g. edge traversal) of each step, 0-based; ``None`` sums all steps into
        one segment. Steps of a segment need not be contiguous.
    n_segments
        Number of segments (default ``max(segment_index) + 1``); empty segments get zeros.
    dt_s
        Step durations, s: scalar or one per step.
    grade
        Road grade (rise/run), within ±0.35.
    headwind_mps
        Wind component against the direction of travel, m/s (negative = tail wind).
    conditions
        Ambient and cabin conditions (default :class:`Conditions`).
    per_segment_inputs
        ``False``: array-valued ``grade``, ``headwind_mps`` and condition fields hold one
        value per step; ``True``: one value per segment (cheaper, no per-step arrays).
        Scalars always apply to every step.
    initial_speed_mps
        Speed at the start of the first step.

    Returns
    -------
    SegmentEnergy
        Per-segment component energies, distance and duration.

    Raises
    ------
    InputDataError
        On NaN, negative or out-of-range inputs and mismatched lengths.
    """
    v_end = _checked(speed_mps, "speed_mps", 0.0, MAX_SPEED_MPS)
    n = v_end.size
    if not 0.0 <= initial_speed_mps <= MAX_SPEED_MPS:
        msg = f"initial_speed_mps must be within 0..{MAX_SPEED_MPS}, got {initial_speed_mps}"
        raise InputDataError(msg)
    v_start = np.empty_like(v_end)
    if n:
        v_start[0] = initial_speed_mps
        v_start[1:] = v_end[:-1]
    seg, count = _segment_ids(segment_index, n, n_segments)
    if per_segment_inputs and segment_index is None:
        msg = "per_segment_inputs=True needs a segment_index"
        raise InputDataError(msg)
    return _run(
        spec,
        v_start,
        v_end,
        dt_s=dt_s,
        grade=grade,
        headwind_mps=headwind_mps,
        conditions=conditions or Conditions(),
        segment_index=seg,
        layout=_Layout(n, count, per_segment=per_segment_inputs),
    )


def simulate(
    spec: VehicleSpec,
    speed_mps: ArrayLike,
    *,
    dt_s: ArrayLike = 1.0,
    grade: ArrayLike = 0.0,
    headwind_mps: ArrayLike = 0.0,
    conditions: Conditions | None = None,
    initial_speed_mps: float = 0.0,
) -> EnergyBreakdown:
    """Total battery energy and its components over a trace.

    Same inputs as :func:`simulate_segments` without segments (arrays are per step).
    """
    return simulate_segments(
        spec,
        speed_mps,
        segment_index=None,
        dt_s=dt_s,
        grade=grade,
        headwind_mps=headwind_mps,
        conditions=conditions,
        initial_speed_mps=initial_speed_mps,
    ).total()


def steady_state_kwh_per_100km(
    spec: VehicleSpec,
    speed_kph: ArrayLike,
    *,
    grade: ArrayLike = 0.0,
    headwind_mps: ArrayLike = 0.0,
    conditions: Conditions | None = None,
) -> NDArray[np.float64]:
    """Battery-side consumption at constant speed, kWh/100 km (broadcast over the inputs).

    ``speed_kph``, ``grade``, ``headwind_mps`` and the numeric fields of ``conditions`` are
    broadcast against each other, so e.g. a speed row against a column of temperatures
    gives a 2-D table. Negative values mean net recovery (steep downhill).
    """
    cond = conditions or Conditions()
    speed = _checked(speed_kph, "speed_kph", 0.0, MAX_SPEED_MPS * KPH_PER_MPS)
    if speed.size and speed.min() <= 0:
        msg = "speed_kph must be > 0 for steady-state consumption"
        raise InputDataError(msg)
    numeric: dict[str, ArrayLike] = {
        name: getattr(cond, name) for name in _ARRAY_FIELDS if getattr(cond, name) is not None
    }
    raw = [speed_kph, grade, headwind_mps, *numeric.values()]
    try:
        arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in raw))
    except ValueError as exc:
        msg = f"steady-state inputs cannot be broadcast together: {exc}"
        raise InputDataError(msg) from None
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    v = flat[0] / KPH_PER_MPS
    replaced: dict[str, Any] = dict(zip(numeric, flat[3:], strict=True))
    flat_cond = dataclasses.replace(cond, **replaced)
    result = _run(
        spec,
        v,
        v,
        dt_s=1.0,
        grade=flat[1],
        headwind_mps=flat[2],
        conditions=flat_cond,
        segment_index=np.arange(v.size, dtype=np.int64),
        layout=_Layout(v.size, v.size, per_segment=False),
    )
    return np.asarray((result.energy_kwh / result.distance_m * 1e5).reshape(shape), np.float64)
