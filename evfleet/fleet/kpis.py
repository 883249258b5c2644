"""Fleet KPIs of a dataset: what an operator reads the morning after (per day, per charger kind).

Computed from the contract tables alone (``vehicle_states`` and ``charging_sessions``), so
they describe any dataset, simulated or loaded. Every column names its unit.
"""

from __future__ import annotations

import pandas as pd

DAY_KPI_COLUMNS = (
    "date",
    "vehicles",
    "trips",
    "distance_km",
    "energy_kwh",
    "kwh_per_100km",
    "charging_sessions",
    "charging_kwh",
    "charging_cost_usd",
    "cost_usd_per_100km",
    "soc_min",
    "stranded_trips",
)
"""Columns of :func:`day_kpis`, in order."""
CHARGING_KPI_COLUMNS = ("kind", "sessions", "energy_kwh", "grid_kwh", "cost_usd", "usd_per_kwh")
"""Columns of :func:`charging_kpis`, in order."""


def _per_100km(numerator: pd.Series, distance_km: pd.Series) -> pd.Series:
    """``100 * numerator / distance``; NaN on days without driving (no division by zero)."""
    return 100.0 * numerator / distance_km.where(distance_km > 0)


def day_kpis(vehicle_states: pd.DataFrame) -> pd.DataFrame:
    """One row per simulated day: fleet totals, rates and the lowest state of charge."""
    grouped = vehicle_states.groupby("date", sort=True)
    out = grouped.agg(
        vehicles=("vehicle_id", "nunique"),
        trips=("trips", "sum"),
        distance_km=("distance_km", "sum"),
        energy_kwh=("energy_kwh", "sum"),
        charging_sessions=("charging_sessions", "sum"),
        charging_kwh=("charging_kwh", "sum"),
        charging_cost_usd=("charging_cost_usd", "sum"),
        soc_min=("soc_min", "min"),
        stranded_trips=("stranded_trips", "sum"),
    ).reset_index()
    out["kwh_per_100km"] = _per_100km(out["energy_kwh"], out["distance_km"])
    out["cost_usd_per_100km"] = _per_100km(out["charging_cost_usd"], out["distance_km"])
    return out.loc[:, list(DAY_KPI_COLUMNS)]


def charging_kpis(charging_sessions: pd.DataFrame) -> pd.DataFrame:
    """One row per charger kind (home, l2, dcfc, roadside) that was used: energy and price."""
    out = (
        charging_sessions.groupby("kind", sort=True)
        .agg(
            sessions=("session_id", "count"),
            energy_kwh=("energy_kwh", "sum"),
            grid_kwh=("grid_kwh", "sum"),
            cost_usd=("cost_usd", "sum"),
        )
        .reset_index()
    )
    out["usd_per_kwh"] = out["cost_usd"] / out["grid_kwh"].where(out["grid_kwh"] > 0)
    return out.loc[:, list(CHARGING_KPI_COLUMNS)]
