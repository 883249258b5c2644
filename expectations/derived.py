"""Row-level physical checks beyond DESIGN.md §5, vectorised in pandas (no GX here).

They complement :mod:`evfleet.invariants` and are run together by :func:`run_all_checks`;
the suites read their results from ``check__<name>`` columns. Limits come from the vehicle
catalogue (:mod:`evfleet.vehicles`) when a model is known, else from generic ceilings.

Adding a check is one :class:`CheckSpec` in :data:`EXTRA_CHECKS` (the table it blames, the
columns it reads in ``needs``) plus its vectorised function in :func:`_run_extra`; the suite
rule follows (critical unless named in ``suites._WARNING_CHECKS``). The quality gate streams
it without more code: a check reading one row plus that vehicle's ``fleet_info`` row runs on
each chunk of its table. A check relating several rows through an id belongs in
:mod:`evfleet.invariants` instead (``CHECKS`` and ``_runner``) with that id in
:data:`evfleet.invariants.GROUP_KEYS`; it then runs per hash partition of the id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache

import numpy as np
import pandas as pd

from evfleet import invariants
from evfleet.invariants import (
    BALANCE_ABS_TOL_KWH,
    CheckResult,
    CheckSpec,
    EncodedIds,
    Tables,
    lookup,
    shared_codes,
)
from evfleet.schema import TABLES
from evfleet.vocab import DC_CHARGING_KINDS

logger = logging.getLogger(__name__)

GRAVITY = 9.81
ROTATING_MASS_FACTOR = 1.1
"""Upper bound of effective / test mass (wheels, rotor), used for the kinetic-energy bound."""
REGEN_TOL_KWH = 0.002
POWER_TOL = 0.01
"""Relative slack on power limits (rounding)."""
ENERGY_TOL = (0.02, 0.05)
"""Relative and absolute (kWh) slack of energy <= power x duration."""
AC_CHARGER_MAX_KW = 22.0
"""Fastest AC charger (three-phase 32 A); US Level 2 stops at 19.2 kW."""
DC_CHARGER_MAX_KW = 350.0
"""Fastest public DC charger, kW; also the bound for unknown vehicle models."""
FALLBACK_MASS_KG = 3500.0

KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "fleet_info": ("vehicle_id",),
    "weather": ("date", "hour", "zone"),
    "routes": ("trip_id", "vehicle_id", "start_time", "end_time"),
    "segments": ("trip_id", "vehicle_id", "seq", "start_time"),
    "charging_sessions": ("session_id", "vehicle_id", "start_time", "end_time"),
    "vehicle_states": ("vehicle_id", "date"),
}
"""Identifying columns of each table: each gets its own not-null expectation."""
OPTIONAL_COLUMNS = {
    "charging_sessions": ("station_id",),
    "vehicle_states": ("kwh_per_100km",),
}
"""Contract columns that may be null: home sessions have no station; a day without driving
has no kWh/100 km (a null rate on a day with distance fails ``rate_consistency``)."""
SOFT_COLUMNS: dict[str, tuple[str, ...]] = {
    "weather": ("wind_kph", "wind_dir_deg", "humidity_pct", "precip_mm"),
    "routes": ("purpose", "temp_c"),
    "segments": ("highway", "temp_c", "headwind_kph", "crosswind_kph", "speed_limit_kph"),
    "charging_sessions": ("detour_km", "wait_min", "cost_usd", "lat", "lon"),
}
"""Columns whose nulls are measurement gaps (a warning), not a broken record."""


def hard_columns(table: str) -> tuple[str, ...]:
    """Non-key contract columns whose nulls are critical."""
    skip = {*KEY_COLUMNS[table], *OPTIONAL_COLUMNS.get(table, ()), *SOFT_COLUMNS.get(table, ())}
    return tuple(c for c in TABLES[table] if c not in skip)


EXTRA_CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("regen_bound", "segments",
              "energy recovered on a segment <= kinetic energy at max speed + potential energy "
              "lost (no net gain on a flat road)",
              {"segments": ("vehicle_id", "energy_kwh", "grade", "length_m", "max_speed_kph"),
               "fleet_info": ("vehicle_id", "mass_kg")}),
    CheckSpec("motor_power", "segments",
              "max_power_kw <= the vehicle's motor peak (catalogue motor_peak_kw)",
              {"segments": ("vehicle_id", "max_power_kw"),
               "fleet_info": ("vehicle_id", "model")}),
    CheckSpec("power_limit", "charging_sessions",
              "mean_power_kw <= the vehicle's AC/DC limit and the charger's (AC 22 kW, DC 350 kW)",
              {"charging_sessions": ("vehicle_id", "kind", "mean_power_kw"),
               "fleet_info": ("vehicle_id", "model")}),
    CheckSpec("energy_vs_power", "charging_sessions",
              "energy_kwh <= power_kw x session duration",
              {"charging_sessions": ("start_time", "end_time", "energy_kwh", "power_kw")}),
    CheckSpec("soc_consistency", "routes",
              "(soc_start - soc_end) x battery_kwh equals energy_kwh",
              {"routes": ("vehicle_id", "soc_start", "soc_end", "energy_kwh"),
               "fleet_info": ("vehicle_id", "battery_kwh")}),
    CheckSpec("soc_consistency", "charging_sessions",
              "(soc_end - soc_start) x battery_kwh equals energy_kwh",
              {"charging_sessions": ("vehicle_id", "soc_start", "soc_end", "energy_kwh"),
               "fleet_info": ("vehicle_id", "battery_kwh")}),
    CheckSpec("rate_consistency", "routes", "kwh_per_100km equals energy_kwh / distance_km x 100",
              {"routes": ("energy_kwh", "distance_km", "kwh_per_100km")}),
    CheckSpec("rate_consistency", "vehicle_states",
              "kwh_per_100km equals energy_kwh / distance_km x 100",
              {"vehicle_states": ("energy_kwh", "distance_km", "kwh_per_100km")}),
    *(CheckSpec("complete", t, "no nulls in the record's measured values", {t: ()})
      for t in TABLES),
    *(CheckSpec("gaps", t, f"no gaps in {', '.join(SOFT_COLUMNS[t])}", {t: ()})
      for t in SOFT_COLUMNS),
)  # fmt: skip
"""Checks run by the quality suites in addition to :data:`evfleet.invariants.CHECKS`."""
ALL_CHECKS: tuple[CheckSpec, ...] = (*invariants.CHECKS, *EXTRA_CHECKS)
"""Every check the quality suites read, in the order they run."""


@cache
def _catalogue_limits() -> pd.DataFrame:
    """Model -> max_ac_kw, max_dc_kw from the vehicle catalogue (empty if unavailable)."""
    try:
        from evfleet.vehicles import get_vehicle, list_vehicles
    except ImportError:
        logger.warning("vehicle catalogue unavailable; using generic power limits")
        return pd.DataFrame(columns=["max_ac_kw", "max_dc_kw"], dtype=float)
    specs = [get_vehicle(v) for v in list_vehicles()]
    return pd.DataFrame(
        {"max_ac_kw": [s.max_ac_kw for s in specs], "max_dc_kw": [s.max_dc_kw for s in specs]},
        index=pd.Index([s.vehicle_id for s in specs], name="model"),
    )


def known_models() -> list[str]:
    """Vehicle models of the catalogue (the allowed set of ``fleet_info.model``)."""
    return sorted(_catalogue_limits().index)


def _vehicle_attr(fleet: pd.DataFrame, vehicle_id: pd.Series, col: str) -> np.ndarray:
    """``fleet[col]`` (numeric) of each vehicle_id, NaN when the vehicle is unknown."""
    (fc, vc), size = shared_codes(fleet["vehicle_id"], vehicle_id)
    return lookup(vc, fc, fleet[col].to_numpy(dtype=float, na_value=np.nan), size)


def _vehicle_limits(fleet: pd.DataFrame, vehicle_id: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Catalogue (max AC kW, max DC kW) of each vehicle's model; NaN for unknown models."""
    limits = _catalogue_limits()
    model_ac = fleet["model"].map(limits["max_ac_kw"]).to_numpy(dtype=float, na_value=np.nan)
    model_dc = fleet["model"].map(limits["max_dc_kw"]).to_numpy(dtype=float, na_value=np.nan)
    (fc, vc), size = shared_codes(fleet["vehicle_id"], vehicle_id)
    return lookup(vc, fc, model_ac, size), lookup(vc, fc, model_dc, size)


def regen_bound_violations(segments: pd.DataFrame, fleet_info: pd.DataFrame) -> pd.DataFrame:
    """Segments recovering more than their kinetic + potential energy allows."""
    mass_kg = _vehicle_attr(fleet_info, segments["vehicle_id"], "mass_kg")
    mass_kg = np.where(np.isnan(mass_kg), FALLBACK_MASS_KG, mass_kg)
    v = segments["max_speed_kph"].to_numpy(dtype=float) / 3.6
    drop_m = np.maximum(0.0, -segments["grade"].to_numpy(dtype=float))
    drop_m *= segments["length_m"].to_numpy(dtype=float)
    available_kwh = mass_kg * (ROTATING_MASS_FACTOR * 0.5 * v**2 + GRAVITY * drop_m) / 3.6e6
    energy = segments["energy_kwh"].to_numpy(dtype=float)
    bad = energy < -(available_kwh + REGEN_TOL_KWH)
    out = segments.loc[bad, ["trip_id", "seq", "grade", "max_speed_kph", "energy_kwh"]]
    return out.assign(min_possible_kwh=-available_kwh[bad])


def power_limit_violations(sessions: pd.DataFrame, fleet_info: pd.DataFrame) -> pd.DataFrame:
    """Sessions charging faster than the vehicle (catalogue) or the charger allows."""
    ac, dc = _vehicle_limits(fleet_info, sessions["vehicle_id"])
    is_dc = sessions["kind"].isin(DC_CHARGING_KINDS).to_numpy(dtype=bool, na_value=False)
    charger = np.where(is_dc, DC_CHARGER_MAX_KW, AC_CHARGER_MAX_KW)
    vehicle = np.where(is_dc, dc, ac)
    limit = np.fmin(charger, vehicle)
    power = sessions["mean_power_kw"].to_numpy(dtype=float)
    bad = ~(power <= limit * (1 + POWER_TOL))
    out = sessions.loc[bad, ["session_id", "vehicle_id", "kind", "mean_power_kw"]]
    return out.assign(limit_kw=limit[bad])


def motor_power_violations(segments: pd.DataFrame, fleet_info: pd.DataFrame) -> pd.DataFrame:
    """Segments whose peak traction power exceeds the vehicle's motor peak.

    Vehicles of a model outside the catalogue are not bounded (the ``model`` rule warns).
    Self-contained on purpose (one join, one comparison): in SQL it is
    ``segments JOIN fleet_info USING (vehicle_id) JOIN <catalogue> USING (model)
    WHERE NOT max_power_kw <= motor_peak_kw * (1 + POWER_TOL)``.
    """
    from evfleet.vehicles import get_vehicle, list_vehicles

    peak_by_model = pd.Series({m: get_vehicle(m).motor_peak_kw for m in list_vehicles()})
    model_peak = fleet_info["model"].map(peak_by_model).to_numpy(dtype=float, na_value=np.nan)
    (fc, vc), size = shared_codes(fleet_info["vehicle_id"], segments["vehicle_id"])
    peak = lookup(vc, fc, model_peak, size)
    peak = np.where(np.isnan(peak), np.inf, peak)
    power = segments["max_power_kw"].to_numpy(dtype=float)
    bad = ~(power <= peak * (1 + POWER_TOL))
    out = segments.loc[bad, ["trip_id", "seq", "vehicle_id", "max_power_kw"]]
    return out.assign(motor_peak_kw=peak[bad])


def energy_power_violations(sessions: pd.DataFrame) -> pd.DataFrame:
    """Sessions delivering more energy than power_kw over their duration allows."""
    hours = (sessions["end_time"] - sessions["start_time"]).dt.total_seconds() / 3600
    cap = sessions["power_kw"] * hours
    rel, abs_ = ENERGY_TOL
    bad = (sessions["energy_kwh"] > cap * (1 + rel) + abs_).to_numpy(dtype=bool, na_value=False)
    out = sessions.loc[bad, ["session_id", "energy_kwh", "power_kw"]]
    return out.assign(max_kwh=cap[bad])


def soc_energy_mismatches(df: pd.DataFrame, fleet_info: pd.DataFrame, sign: float) -> pd.DataFrame:
    """Rows where ``sign * (soc_end - soc_start) * battery_kwh`` differs from energy_kwh."""
    cap = _vehicle_attr(fleet_info, df["vehicle_id"], "battery_kwh")
    implied = sign * (df["soc_end"] - df["soc_start"]).to_numpy(dtype=float) * cap
    energy = df["energy_kwh"].to_numpy(dtype=float)
    tol = np.maximum(BALANCE_ABS_TOL_KWH, invariants.REL_TOL * np.abs(energy))
    bad = np.abs(implied - energy) > tol
    keys = [c for c in ("trip_id", "session_id", "vehicle_id") if c in df.columns]
    return df.loc[bad, [*keys, "soc_start", "soc_end", "energy_kwh"]].assign(
        soc_implied_kwh=implied[bad]
    )


def rate_mismatches(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with distance > 0 whose kwh_per_100km is not energy_kwh / distance_km x 100."""
    dist = df["distance_km"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = df["energy_kwh"].to_numpy(dtype=float) / dist * 100
    given = df["kwh_per_100km"].to_numpy(dtype=float)
    bad = (dist > 0) & ~(np.abs(given - rate) <= np.maximum(1e-3, 1e-6 * np.abs(rate)))
    return df.loc[bad, ["energy_kwh", "distance_km", "kwh_per_100km"]].assign(expected=rate[bad])


def null_rows(
    df: pd.DataFrame, columns: tuple[str, ...], keys: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Rows with a null in any of ``columns`` (those present); ``problem`` names them."""
    cols = [c for c in columns if c in df.columns]
    nulls = {c: df[c].isna().to_numpy(dtype=bool) for c in cols}
    bad = np.zeros(len(df), dtype=bool)
    for mask in nulls.values():
        bad |= mask
    names = np.full(int(bad.sum()), "", dtype=object)
    for c, mask in nulls.items():
        hit = mask[bad]
        names[hit] = names[hit] + np.where(names[hit] == "", "", ", ") + c
    shown = [c for c in keys if c in df.columns]
    return df.loc[bad, shown].assign(problem="null " + names.astype(str))


def _run_extra(spec: CheckSpec, t: Tables) -> pd.DataFrame:
    table = t[spec.table]
    if spec.name == "complete":
        return null_rows(table, hard_columns(spec.table), KEY_COLUMNS[spec.table])
    if spec.name == "gaps":
        return null_rows(table, SOFT_COLUMNS[spec.table], KEY_COLUMNS[spec.table])
    if spec.name == "regen_bound":
        return regen_bound_violations(table, t["fleet_info"])
    if spec.name == "power_limit":
        return power_limit_violations(table, t["fleet_info"])
    if spec.name == "motor_power":
        return motor_power_violations(table, t["fleet_info"])
    if spec.name == "energy_vs_power":
        return energy_power_violations(table)
    if spec.name == "soc_consistency":
        sign = -1.0 if spec.table == "routes" else 1.0
        return soc_energy_mismatches(table, t["fleet_info"], sign)
    return rate_mismatches(table)


def run_all_checks(tables: Tables, checks: Iterable[CheckSpec] | None = None) -> list[CheckResult]:
    """Invariants of :mod:`evfleet.invariants` plus :data:`EXTRA_CHECKS` (or only ``checks``).

    Checks whose inputs ``tables`` lack are skipped, not errors.
    """
    chosen = list(ALL_CHECKS if checks is None else checks)
    encoded = EncodedIds(tables)
    results = invariants.run_checks(encoded, tuple(c for c in chosen if c in invariants.CHECKS))
    for spec in (c for c in chosen if c in EXTRA_CHECKS):
        missing = spec.missing_inputs(tables)
        if missing:
            results.append(CheckResult(spec, None, f"missing {', '.join(missing)}"))
        else:
            rows = encoded.decode(_run_extra(spec, encoded.tables))
            results.append(CheckResult(spec, rows))
    return results
