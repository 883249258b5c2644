"""The expectation suites, one per table, as version-controlled code.

Each :class:`Rule` is one Great Expectations 1.x expectation (class name + kwargs) with a
severity (``critical`` stops the pipeline, ``warning`` is reported) and a description with
units. Rules on ``check__<name>`` columns read the cross-table checks computed in pandas
(:mod:`evfleet.invariants` and :mod:`expectations.derived`): the column holds the reason on
offending rows and is null elsewhere. This module imports no GX; :func:`build_suite` does,
lazily.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from evfleet.invariants import CHECKS
from evfleet.schema import TABLES, WEATHER_ZONES
from evfleet.vocab import (
    ChargingKind,
    ChargingPersonality,
    ChargingTrigger,
    DriverProfile,
    DrivingStyle,
)
from expectations.derived import EXTRA_CHECKS, KEY_COLUMNS, known_models

if TYPE_CHECKING:
    import great_expectations as gx


class Severity(StrEnum):
    """How bad a failed expectation is."""

    CRITICAL = "critical"
    WARNING = "warning"


C, W = Severity.CRITICAL, Severity.WARNING
CHECK_PREFIX = "check__"

BAY_AREA_LAT = (36.8, 38.9)
"""Latitude band of the nine-county Bay Area, degrees."""
BAY_AREA_LON = (-123.6, -121.2)
"""Longitude band of the Bay Area, degrees."""
BAY_AREA_TEMP_C = (-10.0, 47.0)
"""Plausible Bay Area air temperatures (records: about -9 °C inland, 46.7 °C Livermore 2022)."""
MAX_GRADE = 0.35
"""Steepest plausible road grade (rise/run); San Francisco's steepest streets are ~0.32."""
ELEVATION_M = (-100.0, 1400.0)
"""Bay Area road elevations, m (Mount Hamilton road tops out near 1,300 m)."""
KWH_PER_100KM = (5.0, 60.0)
"""Plausible trip / daily consumption of a passenger EV, kWh/100 km."""
MAX_CHARGE_KW = 350.0
"""Generic ceiling of charging power (fastest public DC chargers), kW."""

UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    "fleet_info": ("vehicle_id",),
    "weather": ("date", "hour", "zone"),
    "routes": ("trip_id",),
    "segments": ("trip_id", "seq"),
    "charging_sessions": ("session_id",),
    "vehicle_states": ("vehicle_id", "date"),
}
"""Primary key of each table (also the ids shown next to offending values)."""


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite: GX class name, kwargs, severity and a description."""

    table: str
    name: str
    gx_type: str
    kwargs: Mapping[str, Any]
    severity: Severity
    description: str
    check: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Unique id ``<table>.<name>``."""
        return f"{self.table}.{self.name}"

    @property
    def columns(self) -> tuple[str, ...]:
        """Data columns the rule reads (check columns excluded)."""
        k = self.kwargs
        cols = [k[x] for x in ("column", "column_A", "column_B") if x in k]
        cols += list(k.get("column_list", ()))
        return tuple(c for c in cols if not c.startswith(CHECK_PREFIX))

    def to_gx(self) -> gx.expectations.Expectation:
        """The GX expectation, with severity and rule id in ``meta``."""
        import great_expectations.expectations as gxe

        from expectations import gx_custom

        cls = getattr(gx_custom, self.gx_type, None) or getattr(gxe, self.gx_type)
        meta = {"severity": self.severity.value, "rule": self.id, **self.meta}
        expectation: gx.expectations.Expectation = cls(
            **self.kwargs, meta=meta, description=self.description
        )
        return expectation


def _between(t: str, col: str, lo: float | None, hi: float | None, unit: str,
             sev: Severity = C, *, mostly: float = 1.0, name: str = "range",
             strict_min: bool = False) -> Rule:  # fmt: skip
    kw: dict[str, Any] = {"column": col, "min_value": lo, "max_value": hi}
    if mostly < 1:
        kw["mostly"] = mostly
    if strict_min:
        kw["strict_min"] = True
    lo_s = ("(" if strict_min else "[") + ("-inf" if lo is None else f"{lo:g}")
    hi_s = "inf" if hi is None else f"{hi:g}"
    share = f" for at least {mostly:.0%} of rows" if mostly < 1 else ""
    desc = f"{col} in {lo_s}, {hi_s}] {unit}{share}".rstrip()
    return Rule(t, f"{col}.{name}", "ExpectColumnValuesToBeBetween", kw, sev, desc)


def _in_set(t: str, col: str, values: Iterable[str], sev: Severity = C) -> Rule:
    vals = sorted(str(v) for v in values)
    desc = f"{col} is one of {', '.join(vals)}"
    return Rule(t, f"{col}.allowed", "ExpectColumnValuesToBeInSet",
                {"column": col, "value_set": vals}, sev, desc)  # fmt: skip


def _pair(t: str, a: str, b: str, sev: Severity = C) -> Rule:
    return Rule(t, f"{a}.ge.{b}", "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": a, "column_B": b, "or_equal": True}, sev, f"{a} >= {b}")  # fmt: skip


def _schema_rules(t: str) -> list[Rule]:
    cols = TABLES[t]
    min_rows, sev = (0, W) if t == "charging_sessions" else (1, C)
    rules = [
        Rule(t, "columns", "ExpectTableColumnsToMatchSet",
             {"column_set": list(cols), "exact_match": False}, C,
             f"the {len(cols)} contract columns of {t} are present"),
        Rule(t, "row_count", "ExpectTableRowCountToBeBetween", {"min_value": max(min_rows, 1)},
             sev, f"{t} has at least one row"),
    ]  # fmt: skip
    rules.append(Rule(t, "dtypes", "ExpectTableColumnDtypesToMatch", {"column_types": dict(cols)},
                      C, f"every contract column of {t} has its dtype"))  # fmt: skip
    rules += [
        Rule(t, f"{col}.not_null", "ExpectColumnValuesToNotBeNull", {"column": col}, C,
             f"{col} is never null")
        for col in KEY_COLUMNS[t]
    ]  # fmt: skip
    key = UNIQUE_KEYS[t]
    if len(key) == 1:
        rules.append(Rule(t, f"{key[0]}.unique", "ExpectColumnValuesToBeUnique",
                          {"column": key[0]}, C, f"{key[0]} is unique"))  # fmt: skip
    else:
        desc = f"({', '.join(key)}) is unique"
        rules.append(Rule(t, "key.unique", "ExpectCompoundColumnsToBeUnique",
                          {"column_list": list(key)}, C, desc))  # fmt: skip
    return rules


def _latlon(t: str, prefixes: Iterable[str]) -> list[Rule]:
    out = []
    for p in prefixes:
        out += [_between(t, f"{p}lat", *BAY_AREA_LAT, "degrees (Bay Area)", W),
                _between(t, f"{p}lon", *BAY_AREA_LON, "degrees (Bay Area)", W)]  # fmt: skip
    return out


def _temperature(t: str, col: str = "temp_c") -> list[Rule]:
    return [
        _between(t, col, -60, 60, "°C (physically possible)"),
        _between(t, col, *BAY_AREA_TEMP_C, "°C (plausible in the Bay Area)", W, name="plausible"),
    ]


def _components(t: str) -> list[Rule]:
    return [
        _between(t, "rolling_kwh", 0, None, "kWh"),
        _between(t, "aero_kwh", 0, None, "kWh (a tailwind rarely beats the car)", W),
        _between(t, "regen_kwh", None, 0, "kWh (recovered energy is negative)"),
        _between(t, "hvac_kwh", 0, None, "kWh"),
        _between(t, "aux_kwh", 0, None, "kWh"),
        _between(t, "battery_loss_kwh", 0, None, "kWh"),
    ]


def _check_rules(t: str) -> list[Rule]:
    rules = []
    for spec in (*CHECKS, *EXTRA_CHECKS):
        if spec.table != t or spec.name in _NATIVE_CHECKS:
            continue
        sev = W if spec.name in _WARNING_CHECKS else C
        rules.append(Rule(t, spec.name, "ExpectColumnValuesToBeNull",
                          {"column": CHECK_PREFIX + spec.name}, sev, spec.description,
                          check=spec.key))  # fmt: skip
    return rules


_WARNING_CHECKS = {"soc_consistency", "rate_consistency", "gaps"}
_NATIVE_CHECKS = {"soc_range"}
"""Invariants the suites express as native GX expectations instead of a check column."""


def _value_rules(t: str) -> list[Rule]:
    soc = "(fraction of battery_kwh)"
    if t == "fleet_info":
        return [
            _between(t, "battery_kwh", 0, 300, "kWh"),
            _between(t, "battery_kwh", 15, 200, "kWh (passenger EV packs)", W, name="plausible"),
            _between(t, "mass_kg", 500, 5000, "kg"),
            _between(t, "initial_soc", 0, 1, soc),
            _in_set(t, "driver_profile", DriverProfile),
            _in_set(t, "driving_style", DrivingStyle),
            _in_set(t, "charging_personality", ChargingPersonality),
            _in_set(t, "model", known_models(), W),
            *_latlon(t, ["home_"]),
        ]
    if t == "weather":
        return [
            _between(t, "hour", 0, 23, "h"),
            _in_set(t, "zone", WEATHER_ZONES),
            *_temperature(t),
            _between(t, "wind_kph", 0, 200, "km/h"),
            _between(t, "wind_kph", 0, 100, "km/h (plausible)", W, name="plausible"),
            _between(t, "wind_dir_deg", 0, 360, "degrees"),
            _between(t, "humidity_pct", 0, 100, "%"),
            _between(t, "precip_mm", 0, None, "mm/h"),
            _between(t, "precip_mm", 0, 100, "mm/h (plausible)", W, name="plausible"),
        ]
    if t == "routes":
        return [
            _pair(t, "end_time", "start_time"),
            _between(t, "distance_km", 0, None, "km"),
            _between(t, "distance_km", 0, 500, "km (one day's drive)", W, name="plausible"),
            _between(t, "duration_min", 0, 24 * 60, "min"),
            _between(t, "energy_kwh", -20, 150, "kWh (one trip)", W),
            _between(t, "kwh_per_100km", *KWH_PER_100KM, "kWh/100 km", W, mostly=0.95),
            _between(t, "soc_start", 0, 1, soc),
            _between(t, "soc_end", 0, 1, soc),
            *_temperature(t),
            *_components(t),
            *_latlon(t, ["origin_", "destination_"]),
        ]
    if t == "segments":
        return [
            _between(t, "seq", 0, None, ""),
            _between(t, "length_m", 0, None, "m", strict_min=True),
            _between(t, "length_m", 0, 100_000, "m (one edge)", W, name="plausible"),
            _between(t, "grade", -MAX_GRADE, MAX_GRADE, "rise/run"),
            _between(t, "speed_limit_kph", 0, 140, "km/h", W),
            _between(t, "mean_speed_kph", 0, 200, "km/h"),
            _between(t, "max_speed_kph", 0, 200, "km/h"),
            _pair(t, "max_speed_kph", "mean_speed_kph"),
            _between(t, "n_stops", 0, None, ""),
            _between(t, "duration_s", 0, None, "s", strict_min=True),
            _between(t, "energy_kwh", -5, 10, "kWh (one edge)", W),
            _between(t, "start_elevation_m", *ELEVATION_M, "m", W),
            _between(t, "end_elevation_m", *ELEVATION_M, "m", W),
            _between(t, "headwind_kph", -150, 150, "km/h", W),
            _between(t, "crosswind_kph", -150, 150, "km/h", W),
            *_temperature(t),
            *_components(t),
            *_latlon(t, ["start_", "end_"]),
        ]
    if t == "charging_sessions":
        return [
            _pair(t, "end_time", "start_time"),
            _in_set(t, "kind", ChargingKind),
            _in_set(t, "trigger", ChargingTrigger),
            _between(t, "soc_start", 0, 1, soc),
            _between(t, "soc_end", 0, 1, soc),
            _pair(t, "soc_end", "soc_start"),
            _between(t, "energy_kwh", 0, None, "kWh (into the battery)"),
            _pair(t, "grid_kwh", "energy_kwh"),
            _between(t, "power_kw", 0, MAX_CHARGE_KW, "kW", strict_min=True),
            _between(t, "cost_usd", 0, None, "USD"),
            _between(t, "detour_km", 0, None, "km"),
            _between(t, "detour_km", 0, 50, "km (plausible)", W, name="plausible"),
            _between(t, "wait_min", 0, None, "min"),
            *_latlon(t, [""]),
        ]
    return [  # vehicle_states
        _between(t, "distance_km", 0, None, "km"),
        _between(t, "kwh_per_100km", *KWH_PER_100KM, "kWh/100 km", W, mostly=0.95),
        _between(t, "trips", 0, None, ""),
        _between(t, "charging_sessions", 0, None, ""),
        _between(t, "soc_min", 0, 1, soc),
        _between(t, "soc_end", 0, 1, soc),
        _pair(t, "soc_end", "soc_min"),
        _between(t, "charging_kwh", 0, None, "kWh"),
        _between(t, "charging_cost_usd", 0, None, "USD"),
        _between(t, "stranded_trips", 0, None, "(trips that needed a roadside rescue)"),
    ]


def suite_rules(table: str) -> list[Rule]:
    """Every rule of ``table``'s suite: schema, values, and cross-table checks."""
    if table not in TABLES:
        msg = f"unknown table {table!r}"
        raise KeyError(msg)
    rules = [*_schema_rules(table), *_value_rules(table), *_check_rules(table)]
    ids = [r.id for r in rules]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        msg = f"duplicate rule ids in suite {table}: {sorted(dupes)}"
        raise ValueError(msg)
    return rules


SUITES: dict[str, list[Rule]] = {t: suite_rules(t) for t in TABLES}
"""Table -> its rules (the suites as data)."""


def build_suite(table: str, rules: Iterable[Rule] | None = None) -> gx.ExpectationSuite:
    """The GX ``ExpectationSuite`` of ``table`` (optionally restricted to ``rules``)."""
    import great_expectations as gx

    chosen = SUITES[table] if rules is None else rules
    return gx.ExpectationSuite(
        name=table, expectations=[r.to_gx() for r in chosen], meta={"evfleet_table": table}
    )
