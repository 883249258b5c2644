"""Cross-table invariants of a fleet dataset (DESIGN.md §5), as pure vectorised pandas.

Every check returns the *offending rows* as a DataFrame indexed by the row labels of the
table it blames (an empty frame when the invariant holds), with the key columns and the
evidence (expected vs observed values). :func:`check_all` runs every check whose inputs are
present and :func:`assert_invariants` raises :class:`InputDataError` with a readable
summary; the fleet simulator calls it after generation, the quality suites turn the same
results into expectations.

Large datasets (the quality gate) never hold a table whole: checks that relate rows through
an id (:data:`GROUP_KEYS`) run per hash partition of that id with :func:`run_partitioned`,
every table partitioned alike so that all rows of one vehicle (or trip) meet in one
partition, and their offending rows are merged exactly; every other check reads one row at a
time (plus its vehicle's ``fleet_info`` row) and runs on any chunk of its table.

Energy bookkeeping rule (the simulator follows it)
--------------------------------------------------
* ``soc`` is stored energy divided by ``fleet_info.battery_kwh``, the usable capacity at the
  25 °C reference. No other capacity ever converts kWh into SOC: a cold battery's smaller
  usable capacity may limit how far SOC can go, and its extra losses are energy
  (``battery_loss_kwh``), but the kWh <-> SOC factor stays ``battery_kwh``.
* ``routes.energy_kwh`` is the net energy drawn from the battery by a trip (all components,
  regen negative); ``charging_sessions.energy_kwh`` is the energy put *into* the battery
  (``grid_kwh`` minus charger losses).
* Per vehicle::

      sum(charging_sessions.energy_kwh) - sum(routes.energy_kwh)
          == (soc_final - initial_soc) * battery_kwh

  where ``soc_final`` is the ``soc_end`` of the vehicle's last event (trip or session,
  latest ``end_time``) or ``initial_soc`` when it has none, within
  ``max(0.01 kWh, 1e-6 * (charged + consumed))``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evfleet.errors import InputDataError
from evfleet.schema import ENERGY_COMPONENTS
from evfleet.units import M_PER_KM

logger = logging.getLogger(__name__)

BALANCE_ABS_TOL_KWH = 0.01
"""Absolute tolerance of the per-vehicle energy balance, kWh."""
SUM_ABS_TOL_KWH = 1e-3
"""Tolerance of segment energies summing to their trip's energy, kWh (plus 1e-6 relative)."""
SUM_ABS_TOL_KM = 1e-3
"""Tolerance of segment lengths summing to their trip's distance, km (plus 1e-6 relative)."""
COMPONENT_ABS_TOL_KWH = 1e-6
"""Tolerance of energy components summing to ``energy_kwh``, kWh (plus 1e-6 relative)."""
REL_TOL = 1e-6

Tables = Mapping[str, pd.DataFrame]


@dataclass(frozen=True)
class CheckSpec:
    """One invariant: its name, the table whose rows it blames and the columns it reads."""

    name: str
    table: str
    description: str
    needs: Mapping[str, tuple[str, ...]]

    @property
    def key(self) -> str:
        """Unique id ``<table>.<name>``."""
        return f"{self.table}.{self.name}"

    def missing_inputs(self, tables: Tables) -> list[str]:
        """Inputs (``table`` or ``table.column``) that ``tables`` lacks."""
        missing: list[str] = []
        for table, cols in self.needs.items():
            if table not in tables:
                missing.append(table)
                continue
            missing += [f"{table}.{c}" for c in cols if c not in tables[table].columns]
        return missing


@dataclass(frozen=True)
class Violation:
    """An invariant that does not hold: which check, which table, and the offending rows."""

    check: str
    table: str
    description: str
    rows: pd.DataFrame

    @property
    def n_rows(self) -> int:
        """Number of offending rows."""
        return len(self.rows)

    def summary(self, *, max_rows: int = 3) -> str:
        """One readable paragraph: the rule, the count and a few offending rows."""
        head = self.rows.head(max_rows).to_string(max_colwidth=40)
        return f"{self.table}.{self.check}: {self.description} ({self.n_rows} rows)\n{head}"


_TIMES = ("vehicle_id", "start_time", "end_time")
_ENERGY = (*ENERGY_COMPONENTS, "energy_kwh")

CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "energy_balance", "fleet_info",
        "per vehicle, charged - consumed kWh equals (final SOC - initial SOC) x battery_kwh",
        {
            "fleet_info": ("vehicle_id", "battery_kwh", "initial_soc"),
            "routes": (*_TIMES, "energy_kwh", "soc_end"),
            "charging_sessions": (*_TIMES, "energy_kwh", "soc_end"),
        },
    ),
    CheckSpec("soc_range", "fleet_info", "initial_soc in [0, 1]", {"fleet_info": ("initial_soc",)}),
    CheckSpec("soc_range", "routes", "soc_start, soc_end in [0, 1]",
              {"routes": ("soc_start", "soc_end")}),
    CheckSpec("soc_range", "charging_sessions", "soc_start, soc_end in [0, 1]",
              {"charging_sessions": ("soc_start", "soc_end")}),
    CheckSpec("soc_range", "vehicle_states", "soc_min, soc_end in [0, 1]",
              {"vehicle_states": ("soc_min", "soc_end")}),
    CheckSpec("time_order", "routes",
              "start_time <= end_time and trips of a vehicle do not overlap",
              {"routes": ("trip_id", *_TIMES)}),
    CheckSpec("time_order", "charging_sessions",
              "start_time <= end_time and sessions of a vehicle do not overlap",
              {"charging_sessions": ("session_id", *_TIMES)}),
    CheckSpec("trip_overlap", "charging_sessions",
              "a charging session never overlaps a trip of the same vehicle",
              {"charging_sessions": ("session_id", *_TIMES), "routes": ("trip_id", *_TIMES)}),
    CheckSpec("segment_sums", "routes",
              "a trip's segments exist and sum to its energy_kwh and distance_km",
              {"routes": ("trip_id", "energy_kwh", "distance_km"),
               "segments": ("trip_id", "energy_kwh", "length_m")}),
    CheckSpec("trip_refs", "segments",
              "every segment's trip_id exists in routes with the same vehicle_id",
              {"routes": ("trip_id", "vehicle_id"), "segments": ("trip_id", "vehicle_id")}),
    CheckSpec("segment_order", "segments",
              "segment start_time within its trip and non-decreasing with seq",
              {"routes": ("trip_id", "start_time", "end_time"),
               "segments": ("trip_id", "seq", "start_time")}),
    *(
        CheckSpec("vehicle_refs", t, "every vehicle_id exists in fleet_info",
                  {"fleet_info": ("vehicle_id",), t: ("vehicle_id",)})
        for t in ("routes", "segments", "charging_sessions", "vehicle_states")
    ),
    *(
        CheckSpec("component_sums", t, "energy components sum to energy_kwh", {t: _ENERGY})
        for t in ("routes", "segments")
    ),
)  # fmt: skip
"""Every invariant :func:`check_all` runs."""


GROUP_KEYS: Mapping[str, str] = {
    "energy_balance": "vehicle_id",
    "time_order": "vehicle_id",
    "trip_overlap": "vehicle_id",
    "segment_sums": "trip_id",
    "trip_refs": "trip_id",
    "segment_order": "trip_id",
}
"""Check name -> the id that relates its rows; the check runs per hash partition of that id.

Checks not listed are row-local: each row is judged alone (with its vehicle's ``fleet_info``
row, the one table every streamed check may read whole: one row per vehicle).
"""
LOOKUP_TABLE = "fleet_info"

PartitionReader = Callable[[str, tuple[str, ...], str, int, int], pd.DataFrame]
"""``(table, columns, key, n, k)`` -> ``columns`` of the rows of ``table`` whose ``key``
hashes to partition ``k`` of ``n``, in table order, indexed by their row positions."""


def _tol(scale: pd.Series | np.ndarray, abs_tol: float) -> np.ndarray:
    return np.maximum(abs_tol, REL_TOL * np.abs(np.asarray(scale, dtype=float)))


def _micros(s: pd.Series) -> np.ndarray:
    """Datetimes as int64 microseconds (NaT becomes the int64 minimum)."""
    return s.to_numpy(dtype="datetime64[us]").view(np.int64)


_NAT = np.iinfo(np.int64).min
_KEYS = ("trip_id", "session_id", "vehicle_id", "date")


def _factorize_together(*columns: pd.Series) -> tuple[list[np.ndarray], pd.Index]:
    joined = pd.concat([c.reset_index(drop=True) for c in columns], ignore_index=True)
    codes, uniques = pd.factorize(joined)
    bounds = np.cumsum([0, *(len(c) for c in columns)])
    return [codes[lo:hi] for lo, hi in itertools.pairwise(bounds)], pd.Index(uniques)


def shared_codes(*columns: pd.Series) -> tuple[list[np.ndarray], int]:
    """Integer codes of several id columns in one shared code space (NA is -1), and its size.

    Factorising together is far faster than ``isin``/``map`` on string ids and lets the
    checks join tables with numpy indexing. Columns that already share one categorical dtype
    (see :class:`EncodedIds`) reuse its codes for free.
    """
    first = columns[0].dtype
    if isinstance(first, pd.CategoricalDtype) and all(c.dtype is first for c in columns):
        return [c.cat.codes.to_numpy(dtype=np.int64) for c in columns], len(first.categories)
    codes, uniques = _factorize_together(*columns)
    return codes, len(uniques)


def lookup(codes: np.ndarray, key_codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """``values`` of the key row with each code (NaN where the code has no key row)."""
    by_code = np.full(size + 1, np.nan)
    ok = key_codes >= 0
    by_code[key_codes[ok]] = np.asarray(values, dtype=float)[ok]
    return by_code[np.where(codes >= 0, codes, size)]


def _last_soc(codes: np.ndarray, start: np.ndarray, end: np.ndarray, soc: np.ndarray,
              size: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Per code: soc of the latest-ending event, and whether the code has any event."""
    valid = (codes >= 0) & (end != _NAT)
    c, s, e, v = codes[valid], start[valid], end[valid], soc[valid]
    order = np.lexsort((s, e, c))
    c, v = c[order], v[order]
    last = np.flatnonzero(np.append(c[1:] != c[:-1], True)) if len(c) else np.array([], int)
    final = np.full(size, np.nan)
    final[c[last]] = v[last]
    has = np.zeros(size, dtype=bool)
    has[c[last]] = True
    return final, has


def energy_balance(
    fleet_info: pd.DataFrame, routes: pd.DataFrame, charging_sessions: pd.DataFrame
) -> pd.DataFrame:
    """Vehicles whose battery energy balance does not close (see the module docstring)."""
    (fc, rc, sc), size = shared_codes(
        fleet_info["vehicle_id"], routes["vehicle_id"], charging_sessions["vehicle_id"]
    )

    def per_vehicle(codes: np.ndarray, values: pd.Series) -> np.ndarray:
        ok = codes >= 0
        return np.bincount(codes[ok], weights=values.to_numpy(dtype=float)[ok], minlength=size)

    consumed = per_vehicle(rc, routes["energy_kwh"])
    charged = per_vehicle(sc, charging_sessions["energy_kwh"])
    final, has = _last_soc(
        np.concatenate([rc, sc]),
        np.concatenate([_micros(routes["start_time"]), _micros(charging_sessions["start_time"])]),
        np.concatenate([_micros(routes["end_time"]), _micros(charging_sessions["end_time"])]),
        np.concatenate([routes["soc_end"].to_numpy(dtype=float),
                        charging_sessions["soc_end"].to_numpy(dtype=float)]),
        size,
    )  # fmt: skip
    known = fc >= 0
    code = np.where(known, fc, 0)
    initial = fleet_info["initial_soc"].to_numpy(dtype=float)
    out = fleet_info[["vehicle_id", "battery_kwh", "initial_soc"]].assign(
        final_soc=np.where(known & has[code], final[code], initial),
        charged_kwh=np.where(known, charged[code], 0.0),
        consumed_kwh=np.where(known, consumed[code], 0.0),
    )
    out["soc_change_kwh"] = (out["final_soc"] - out["initial_soc"]) * out["battery_kwh"]
    out["error_kwh"] = out["charged_kwh"] - out["consumed_kwh"] - out["soc_change_kwh"]
    tol = _tol(out["charged_kwh"] + out["consumed_kwh"], BALANCE_ABS_TOL_KWH)
    bad = ~(np.abs(out["error_kwh"].to_numpy(dtype=float)) <= tol)
    return out[bad]


def soc_out_of_range(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Rows where any of ``columns`` is outside [0, 1] or missing (with their key columns)."""
    values = df.loc[:, list(columns)]
    bad = ~(values.ge(0) & values.le(1)).all(axis=1).to_numpy(dtype=bool)
    keys = [c for c in _KEYS if c in df.columns and c not in columns]
    return df.loc[bad, [*keys, *columns]]


def _group_cummax(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running maximum of ``values`` within runs of equal ``groups`` (sorted by group)."""
    return pd.Series(values).groupby(groups, sort=False).cummax().to_numpy()


def time_order_violations(df: pd.DataFrame, id_col: str) -> pd.DataFrame:
    """Rows with a missing or reversed interval, or overlapping an earlier one of the vehicle.

    Intervals may touch (``end == next start``); the later of two overlapping rows is blamed.
    """
    start, end = _micros(df["start_time"]), _micros(df["end_time"])
    missing = (start == _NAT) | (end == _NAT)
    (vehicle,), _ = shared_codes(df["vehicle_id"])
    pos = np.flatnonzero(~missing & (vehicle >= 0))
    pos = pos[np.lexsort((start[pos], vehicle[pos]))]
    v, prev = vehicle[pos], _group_cummax(vehicle[pos], end[pos])
    earlier = np.concatenate([[_NAT], prev[:-1]])
    same = np.concatenate([[False], v[1:] == v[:-1]])
    overlap = np.zeros(len(df), dtype=bool)
    overlap[pos[same & (start[pos] < earlier)]] = True
    reversed_ = ~missing & (end < start)
    bad = missing | reversed_ | overlap
    out = df.loc[bad, [id_col, "vehicle_id", "start_time", "end_time"]]
    problem = np.select(
        [missing[bad], reversed_[bad]],
        ["missing time", "end before start"],
        "overlaps an earlier interval of the vehicle",
    )
    return out.assign(problem=problem)


def session_trip_overlaps(routes: pd.DataFrame, charging_sessions: pd.DataFrame) -> pd.DataFrame:
    """Charging sessions that overlap (not merely touch) a trip of the same vehicle."""
    (rc, sc), _ = shared_codes(routes["vehicle_id"], charging_sessions["vehicle_id"])
    r_start, r_end = _micros(routes["start_time"]), _micros(routes["end_time"])
    s_start = _micros(charging_sessions["start_time"])
    s_end = _micros(charging_sessions["end_time"])
    rp = np.flatnonzero((rc >= 0) & (r_start != _NAT) & (r_end != _NAT))
    rp = rp[np.lexsort((r_start[rp], rc[rp]))]
    trips = pd.DataFrame({"v": rc[rp], "trip_start": r_start[rp], "trip_row": rp,
                          "trip_end_max": _group_cummax(rc[rp], r_end[rp])})  # fmt: skip
    sp = np.flatnonzero((sc >= 0) & (s_start != _NAT) & (s_end != _NAT))
    sess = pd.DataFrame({"v": sc[sp], "end": s_end[sp], "start": s_start[sp], "row": sp})
    merged = pd.merge_asof(
        sess.sort_values("end", kind="stable"), trips.sort_values("trip_start", kind="stable"),
        left_on="end", right_on="trip_start", by="v", allow_exact_matches=False,
        direction="backward",
    )  # fmt: skip
    hit = merged[merged["trip_end_max"].notna() & (merged["trip_end_max"] > merged["start"])]
    rows = hit["row"].to_numpy(dtype=np.int64)
    trip = routes.iloc[hit["trip_row"].to_numpy(dtype=np.int64)]
    out = charging_sessions.iloc[rows][["session_id", "vehicle_id", "start_time", "end_time"]]
    return out.assign(
        trip_id=trip["trip_id"].to_numpy(),
        trip_start=trip["start_time"].to_numpy(),
        trip_end=trip["end_time"].to_numpy(),
    ).sort_index()


class _SegmentIndex:
    """Position in ``routes`` of each segment's trip (-1 if unknown), computed once."""

    def __init__(self, routes: pd.DataFrame, segments: pd.DataFrame) -> None:
        (route_codes, seg_codes), size = shared_codes(routes["trip_id"], segments["trip_id"])
        pos_of_code = np.full(size + 1, -1, dtype=np.int64)
        ok = route_codes >= 0
        pos_of_code[route_codes[ok]] = np.flatnonzero(ok)
        self.trip_pos = np.where(seg_codes >= 0, pos_of_code[seg_codes], -1)
        self.seg_codes = seg_codes


def segment_sum_mismatches(
    routes: pd.DataFrame, segments: pd.DataFrame, *, index: _SegmentIndex | None = None
) -> pd.DataFrame:
    """Trips without segments or whose segments do not sum to energy_kwh / distance_km."""
    idx = index or _SegmentIndex(routes, segments)
    known = idx.trip_pos >= 0
    pos, n = idx.trip_pos[known], len(routes)
    seg_energy = segments["energy_kwh"].to_numpy(dtype=float)[known]
    seg_km = segments["length_m"].to_numpy(dtype=float)[known] / M_PER_KM
    out = routes[["trip_id", "energy_kwh", "distance_km"]].assign(
        segments_energy_kwh=np.bincount(pos, weights=seg_energy, minlength=n),
        segments_distance_km=np.bincount(pos, weights=seg_km, minlength=n),
        n_segments=np.bincount(pos, minlength=n),
    )
    energy_err = np.abs(out["energy_kwh"] - out["segments_energy_kwh"])
    km_err = np.abs(out["distance_km"] - out["segments_distance_km"])
    ok = (
        (out["n_segments"] > 0)
        & (energy_err <= _tol(out["energy_kwh"], SUM_ABS_TOL_KWH))
        & (km_err <= _tol(out["distance_km"], SUM_ABS_TOL_KM))
    )
    return out[~ok.to_numpy(dtype=bool)]


def segment_trip_mismatches(
    routes: pd.DataFrame, segments: pd.DataFrame, *, index: _SegmentIndex | None = None
) -> pd.DataFrame:
    """Segments whose trip_id is not in routes or whose vehicle_id differs from the trip's."""
    idx = index or _SegmentIndex(routes, segments)
    (rv, sv), _ = shared_codes(routes["vehicle_id"], segments["vehicle_id"])
    known = idx.trip_pos >= 0
    same = np.zeros(len(segments), dtype=bool)
    same[known] = (sv[known] == rv[idx.trip_pos[known]]) & (sv[known] >= 0)
    out = segments.loc[~same, ["trip_id", "vehicle_id"]]
    expected = np.full(int((~same).sum()), None, dtype=object)
    bad_known = known[~same]
    expected[bad_known] = (
        routes["vehicle_id"].iloc[idx.trip_pos[~same][bad_known]].to_numpy(dtype=object)
    )
    return out.assign(trip_vehicle_id=expected)


def segment_order_violations(
    routes: pd.DataFrame, segments: pd.DataFrame, *, index: _SegmentIndex | None = None
) -> pd.DataFrame:
    """Segments starting outside their trip's [start, end] or earlier than the previous seq."""
    idx = index or _SegmentIndex(routes, segments)
    start = _micros(segments["start_time"])
    known = idx.trip_pos >= 0
    trip_start = np.full(len(segments), _NAT)
    trip_end = np.full(len(segments), _NAT)
    trip_start[known] = _micros(routes["start_time"])[idx.trip_pos[known]]
    trip_end[known] = _micros(routes["end_time"])[idx.trip_pos[known]]
    outside = known & ((start == _NAT) | (start < trip_start) | (start > trip_end))
    seq, codes = segments["seq"].to_numpy(dtype=np.int64), idx.seg_codes
    step = (codes[1:] > codes[:-1]) | ((codes[1:] == codes[:-1]) & (seq[1:] >= seq[:-1]))
    order = np.arange(len(codes)) if step.all() else np.lexsort((seq, codes))
    sorted_codes = codes[order]
    same_trip = (sorted_codes[1:] == sorted_codes[:-1]) & (sorted_codes[1:] >= 0)
    back = np.zeros(len(segments), dtype=bool)
    back[order[1:]] = same_trip & (start[order][1:] < start[order][:-1])
    bad = outside | back
    out = segments.loc[bad, ["trip_id", "seq", "start_time"]]
    return out.assign(
        trip_start=pd.to_datetime(trip_start[bad], unit="us"),
        trip_end=pd.to_datetime(trip_end[bad], unit="us"),
        problem=np.where(outside[bad], "outside its trip", "earlier than previous seq"),
    )


def unknown_vehicle_ids(fleet_info: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``df`` whose vehicle_id is missing or not in fleet_info."""
    (fc, dc), size = shared_codes(fleet_info["vehicle_id"], df["vehicle_id"])
    in_fleet = np.zeros(size + 1, dtype=bool)
    in_fleet[fc[fc >= 0]] = True
    known = in_fleet[np.where(dc >= 0, dc, size)]
    return df.loc[~known, ["vehicle_id"]]


def component_sum_mismatches(df: pd.DataFrame) -> pd.DataFrame:
    """Rows whose energy components do not sum to energy_kwh."""
    total = df.loc[:, list(ENERGY_COMPONENTS)].sum(axis=1, skipna=False)
    err = np.abs(total - df["energy_kwh"]).to_numpy(dtype=float)
    ok = err <= _tol(df["energy_kwh"], COMPONENT_ABS_TOL_KWH)
    return df.loc[~ok, ["energy_kwh"]].assign(components_kwh=total[~ok])


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: offending rows, or why it was skipped (``rows`` is None)."""

    spec: CheckSpec
    rows: pd.DataFrame | None
    skipped: str | None = None


def _runner(spec: CheckSpec, t: Tables, seg: Callable[[], _SegmentIndex]) -> pd.DataFrame:
    name, table = spec.name, spec.table
    if name == "energy_balance":
        return energy_balance(t["fleet_info"], t["routes"], t["charging_sessions"])
    if name == "soc_range":
        return soc_out_of_range(t[table], tuple(spec.needs[table]))
    if name == "time_order":
        return time_order_violations(t[table], spec.needs[table][0])
    if name == "trip_overlap":
        return session_trip_overlaps(t["routes"], t["charging_sessions"])
    if name == "segment_sums":
        return segment_sum_mismatches(t["routes"], t["segments"], index=seg())
    if name == "trip_refs":
        return segment_trip_mismatches(t["routes"], t["segments"], index=seg())
    if name == "segment_order":
        return segment_order_violations(t["routes"], t["segments"], index=seg())
    if name == "vehicle_refs":
        return unknown_vehicle_ids(t["fleet_info"], t[table])
    if name == "component_sums":
        return component_sum_mismatches(t[table])
    msg = f"no runner for check {spec.key}"
    raise KeyError(msg)


class EncodedIds:
    """Tables whose id columns share one categorical dtype per id (vehicle_id, trip_id).

    Every check joins on ids; hashing string ids once for all tables (instead of once per
    check) and then working on categorical codes makes :func:`run_checks` several times
    faster on large data. :meth:`decode` turns result columns back into plain strings.
    """

    _IDS = ("vehicle_id", "trip_id")

    def __init__(self, tables: Tables) -> None:
        self.tables = dict(tables)
        for id_col in self._IDS:
            names = [t for t, df in tables.items() if id_col in df.columns]
            if not names:
                continue
            codes, uniques = _factorize_together(*(tables[t][id_col] for t in names))
            dtype = pd.CategoricalDtype(uniques)
            for name, c in zip(names, codes, strict=True):
                coded = pd.Categorical.from_codes(c, dtype=dtype)
                self.tables[name] = self.tables[name].assign(**{id_col: coded})

    @staticmethod
    def decode(rows: pd.DataFrame) -> pd.DataFrame:
        """``rows`` with categorical id columns as plain strings again."""
        cats = [c for c in rows.columns if isinstance(rows[c].dtype, pd.CategoricalDtype)]
        return rows.astype(dict.fromkeys(cats, "string")) if cats else rows


def run_checks(
    tables: Tables | EncodedIds, checks: tuple[CheckSpec, ...] = CHECKS
) -> list[CheckResult]:
    """Run ``checks`` on ``tables``; checks whose inputs are missing are skipped (not errors)."""
    encoded = tables if isinstance(tables, EncodedIds) else EncodedIds(tables)
    coded = encoded.tables
    cache: dict[str, _SegmentIndex] = {}

    def seg() -> _SegmentIndex:
        if "idx" not in cache:
            cache["idx"] = _SegmentIndex(coded["routes"], coded["segments"])
        return cache["idx"]

    results = []
    for spec in checks:
        missing = spec.missing_inputs(coded)
        if missing:
            logger.debug("check %s skipped: missing %s", spec.key, ", ".join(missing))
            results.append(CheckResult(spec, None, f"missing {', '.join(missing)}"))
        else:
            results.append(CheckResult(spec, encoded.decode(_runner(spec, coded, seg))))
    return results


def merge_rows(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Offending rows found piece by piece, as one frame in table order (labels are unique)."""
    frames = list(parts)
    found = [f for f in frames if len(f)]
    if not found:
        return frames[0]
    merged = pd.concat(found) if len(found) > 1 else found[0]
    return merged if merged.index.is_monotonic_increasing else merged.sort_index(kind="stable")


def run_partitioned(
    checks: Iterable[CheckSpec], read: PartitionReader, n_parts: Callable[[list[str]], int]
) -> list[CheckResult]:
    """Run grouped ``checks`` (:data:`GROUP_KEYS`) partition by partition, merged exactly.

    Every table a check needs is read through ``read`` with the check's id as the partition
    key and only the columns the checks of that key need, so memory follows the partition
    size; ``n_parts(tables)`` says into how many partitions the tables of one key go.
    Results equal :func:`run_checks` on the whole tables: the checks of one id never look
    beyond the rows of that id, and merged rows keep the whole tables' row labels.
    """
    specs = list(checks)
    found: dict[str, list[pd.DataFrame]] = {s.key: [] for s in specs}
    for key in dict.fromkeys(GROUP_KEYS[s.name] for s in specs):
        group = tuple(s for s in specs if GROUP_KEYS[s.name] == key)
        needs: dict[str, list[str]] = {}
        for spec in group:
            for table, cols in spec.needs.items():
                needs.setdefault(table, [])
                needs[table] += [c for c in cols if c not in needs[table]]
        n = n_parts(list(needs))
        for k in range(n):
            tables = {t: read(t, tuple(cols), key, n, k) for t, cols in needs.items()}
            for result in run_checks(tables, group):
                if result.rows is not None:
                    found[result.spec.key].append(result.rows)
    return [CheckResult(s, merge_rows(found[s.key])) for s in specs]


def check_all(tables: Tables) -> list[Violation]:
    """Every invariant of :data:`CHECKS` that fails on ``tables`` (checks lacking inputs skip)."""
    return [
        Violation(r.spec.name, r.spec.table, r.spec.description, r.rows)
        for r in run_checks(tables)
        if r.rows is not None and len(r.rows)
    ]


def assert_invariants(tables: Tables, *, max_rows: int = 3) -> None:
    """Raise :class:`InputDataError` listing every violated invariant with sample rows."""
    violations = check_all(tables)
    if violations:
        body = "\n\n".join(v.summary(max_rows=max_rows) for v in violations)
        msg = f"{len(violations)} dataset invariant(s) violated:\n\n{body}"
        raise InputDataError(msg)
