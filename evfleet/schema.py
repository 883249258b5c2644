"""Data contracts of the ground-truth dataset (DESIGN.md §5): columns, types and units.

The fleet simulator writes exactly these columns (in this order, with these types); the
quality suites and the feature builder read them. Types are pandas/pyarrow dtype names.
Energy components are in kWh at the battery: ``regen_kwh`` is negative (energy recovered).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from evfleet.errors import InputDataError

SCHEMA_VERSION = 2

ENERGY_COMPONENTS: tuple[str, ...] = (
    "rolling_kwh",
    "aero_kwh",
    "grade_kwh",
    "inertia_kwh",
    "regen_kwh",
    "hvac_kwh",
    "aux_kwh",
    "battery_loss_kwh",
)
"""Per-trip / per-segment energy components; they sum to ``energy_kwh``."""

_COMPONENT_COLS = dict.fromkeys(ENERGY_COMPONENTS, "float64")

TABLES: dict[str, dict[str, str]] = {
    "fleet_info": {
        "vehicle_id": "string",
        "model": "string",
        "battery_kwh": "float64",
        "mass_kg": "float64",
        "driver_profile": "string",
        "driving_style": "string",
        "charging_personality": "string",
        "has_home_charger": "bool",
        "home_node": "int64",
        "home_lat": "float64",
        "home_lon": "float64",
        "work_node": "int64",
        "initial_soc": "float64",
    },
    "weather": {
        "date": "date32[day][pyarrow]",
        "hour": "int64",
        "zone": "string",
        "temp_c": "float64",
        "wind_kph": "float64",
        "wind_dir_deg": "float64",
        "humidity_pct": "float64",
        "precip_mm": "float64",
        "is_raining": "bool",
    },
    "routes": {
        "trip_id": "string",
        "vehicle_id": "string",
        "start_time": "datetime64[us]",
        "end_time": "datetime64[us]",
        "origin_node": "int64",
        "destination_node": "int64",
        "origin_lat": "float64",
        "origin_lon": "float64",
        "destination_lat": "float64",
        "destination_lon": "float64",
        "distance_km": "float64",
        "duration_min": "float64",
        "energy_kwh": "float64",
        "kwh_per_100km": "float64",
        "soc_start": "float64",
        "soc_end": "float64",
        "purpose": "string",
        "stranded": "bool",
        "temp_c": "float64",
        **_COMPONENT_COLS,
    },
    "segments": {
        "trip_id": "string",
        "vehicle_id": "string",
        "seq": "int64",
        "u": "int64",
        "v": "int64",
        "key": "int64",
        "start_time": "datetime64[us]",
        "start_lat": "float64",
        "start_lon": "float64",
        "end_lat": "float64",
        "end_lon": "float64",
        "start_elevation_m": "float64",
        "end_elevation_m": "float64",
        "length_m": "float64",
        "grade": "float64",
        "highway": "string",
        "speed_limit_kph": "float64",
        "mean_speed_kph": "float64",
        "max_speed_kph": "float64",
        "n_stops": "int64",
        "duration_s": "float64",
        "max_power_kw": "float64",
        "energy_kwh": "float64",
        **_COMPONENT_COLS,
        "temp_c": "float64",
        "headwind_kph": "float64",
        "crosswind_kph": "float64",
    },
    "charging_sessions": {
        "session_id": "string",
        "vehicle_id": "string",
        "kind": "string",
        "station_id": "string",
        "lat": "float64",
        "lon": "float64",
        "start_time": "datetime64[us]",
        "end_time": "datetime64[us]",
        "soc_start": "float64",
        "soc_end": "float64",
        "energy_kwh": "float64",
        "grid_kwh": "float64",
        "power_kw": "float64",
        "mean_power_kw": "float64",
        "cost_usd": "float64",
        "trigger": "string",
        "detour_km": "float64",
        "wait_min": "float64",
    },
    "vehicle_states": {
        "vehicle_id": "string",
        "date": "date32[day][pyarrow]",
        "distance_km": "float64",
        "energy_kwh": "float64",
        "kwh_per_100km": "float64",
        "trips": "int64",
        "charging_sessions": "int64",
        "soc_min": "float64",
        "soc_end": "float64",
        "charging_kwh": "float64",
        "charging_cost_usd": "float64",
        "stranded_trips": "int64",
    },
}
"""Table name -> ordered column name -> dtype."""

WEATHER_ZONES = ("sf_coast", "bay_side", "inland")


def missing_columns(table: str, df: pd.DataFrame) -> list[str]:
    """Contract columns of ``table`` that ``df`` lacks."""
    return [c for c in TABLES[table] if c not in df.columns]


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise :class:`InputDataError` naming the columns of ``columns`` that ``df`` lacks.

    The one required-column check of the library: ``what`` names the table in the message
    ("<what> is missing columns: a, b").
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = f"{what} is missing columns: {', '.join(missing)}"
        raise InputDataError(msg)


def conform(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly the contract's columns, order and dtypes.

    Raises :class:`InputDataError` naming the missing columns.
    """
    if table not in TABLES:
        msg = f"unknown table {table!r}; expected one of {', '.join(TABLES)}"
        raise InputDataError(msg)
    require_columns(df, TABLES[table], f"table {table}")
    out = df.loc[:, list(TABLES[table])].copy()
    for col, dtype in TABLES[table].items():
        if str(out[col].dtype) != dtype:
            out[col] = out[col].astype(dtype)
    return out.reset_index(drop=True)
