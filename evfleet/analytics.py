"""Fleet analytics: the small tables the studio's pages show, computed from dataset tables.

Pure pandas/numpy over the data contracts of :mod:`evfleet.schema` (DESIGN.md §5); the
dashboard only loads tables and draws what these functions return. Efficiencies are
distance-weighted (total kWh over total km), never means of per-trip ratios, so a short
trip cannot dominate a group.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from evfleet.errors import InputDataError
from evfleet.schema import ENERGY_COMPONENTS
from evfleet.units import M_PER_KM

TEMP_BIN_C: Final = 5.0
"""Width of the temperature bands of :func:`efficiency_by_temperature`, °C."""

EFFICIENCY_GROUPS: Final = ("model", "driver_profile", "driving_style", "charging_personality")
"""fleet_info columns that :func:`efficiency_by` can group trips by."""


def _need(df: pd.DataFrame, table: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = f"{table} lacks column(s) {', '.join(missing)}"
        raise InputDataError(msg)


def _per_100km(kwh: pd.Series | np.ndarray, km: pd.Series | np.ndarray) -> np.ndarray:
    kwh = np.asarray(kwh, dtype=np.float64)
    km = np.asarray(km, dtype=np.float64)
    return np.divide(100.0 * kwh, km, out=np.full_like(kwh, np.nan), where=km > 0)


def fleet_kpis(
    fleet_info: pd.DataFrame,
    vehicle_states: pd.DataFrame,
    routes: pd.DataFrame,
    sessions: pd.DataFrame,
) -> dict[str, float]:
    """Headline figures of a dataset: size, distance, energy, efficiency, cost, SOC.

    Keys: ``vehicles`` (the whole fleet, parked vehicles too), ``days``, ``trips``,
    ``distance_km``, ``energy_kwh``, ``kwh_per_100km``, ``charging_sessions``,
    ``charged_kwh``, ``grid_kwh``, ``charging_cost_usd``, ``cost_usd_per_100km``,
    ``usd_per_kwh``, ``soc_min``.
    """
    _need(fleet_info, "fleet_info", ("vehicle_id",))
    _need(vehicle_states, "vehicle_states", ("date", "soc_min"))
    _need(routes, "routes", ("distance_km", "energy_kwh"))
    _need(sessions, "charging_sessions", ("energy_kwh", "grid_kwh", "cost_usd"))
    distance = float(routes["distance_km"].sum())
    energy = float(routes["energy_kwh"].sum())
    grid = float(sessions["grid_kwh"].sum())
    cost = float(sessions["cost_usd"].sum())
    return {
        "vehicles": float(fleet_info["vehicle_id"].nunique()),
        "days": float(vehicle_states["date"].nunique()),
        "trips": float(len(routes)),
        "distance_km": distance,
        "energy_kwh": energy,
        "kwh_per_100km": float(_per_100km(np.array([energy]), np.array([distance]))[0]),
        "charging_sessions": float(len(sessions)),
        "charged_kwh": float(sessions["energy_kwh"].sum()),
        "grid_kwh": grid,
        "charging_cost_usd": cost,
        "cost_usd_per_100km": 100.0 * cost / distance if distance > 0 else float("nan"),
        "usd_per_kwh": cost / grid if grid > 0 else float("nan"),
        "soc_min": float(vehicle_states["soc_min"].min()) if len(vehicle_states) else float("nan"),
    }


def efficiency_by(routes: pd.DataFrame, fleet_info: pd.DataFrame, by: str) -> pd.DataFrame:
    """Distance-weighted consumption of trips grouped by a fleet_info column.

    Returns one row per group: ``vehicles``, ``trips``, ``distance_km``, ``energy_kwh``,
    ``kwh_per_100km``, sorted by ``kwh_per_100km``.
    """
    if by not in EFFICIENCY_GROUPS:
        msg = f"cannot group efficiency by {by!r}; choose one of {', '.join(EFFICIENCY_GROUPS)}"
        raise InputDataError(msg)
    _need(routes, "routes", ("vehicle_id", "distance_km", "energy_kwh"))
    _need(fleet_info, "fleet_info", ("vehicle_id", by))
    trips = routes[["vehicle_id", "distance_km", "energy_kwh"]].merge(
        fleet_info[["vehicle_id", by]], on="vehicle_id", how="inner", validate="many_to_one"
    )
    out = trips.groupby(by, observed=True).agg(
        vehicles=("vehicle_id", "nunique"),
        trips=("vehicle_id", "size"),
        distance_km=("distance_km", "sum"),
        energy_kwh=("energy_kwh", "sum"),
    )
    out["kwh_per_100km"] = _per_100km(out["energy_kwh"], out["distance_km"])
    return out.sort_values("kwh_per_100km").reset_index()


def efficiency_by_temperature(routes: pd.DataFrame, *, bin_c: float = TEMP_BIN_C) -> pd.DataFrame:
    """Consumption and its components per ambient-temperature band of ``bin_c`` degrees.

    Returns one row per band with ``temp_c_from`` (inclusive lower edge), ``trips``,
    ``distance_km``, ``kwh_per_100km`` and each energy component per 100 km
    (``<component>_per_100km``), so the HVAC share at cold temperatures is visible.
    """
    if bin_c <= 0:
        msg = f"temperature band width must be positive, got {bin_c}"
        raise InputDataError(msg)
    _need(routes, "routes", ("temp_c", "distance_km", "energy_kwh"))
    comps = [c for c in ENERGY_COMPONENTS if c in routes.columns]
    band = np.floor(routes["temp_c"].to_numpy(dtype=np.float64) / bin_c) * bin_c
    grouped = routes.assign(temp_c_from=band).groupby("temp_c_from")
    out = grouped[["distance_km", "energy_kwh", *comps]].sum()
    out.insert(0, "trips", grouped.size())
    out["kwh_per_100km"] = _per_100km(out["energy_kwh"], out["distance_km"])
    for comp in comps:
        out[f"{comp}_per_100km"] = _per_100km(out[comp], out["distance_km"])
    return out.drop(columns=comps).reset_index()


def charging_cost(sessions: pd.DataFrame) -> pd.DataFrame:
    """Sessions, energy and cost per charger kind (home, l2, dcfc) with the mean price.

    ``usd_per_kwh`` is cost over grid energy; ``share_of_cost`` sums to 1 over kinds.
    """
    _need(sessions, "charging_sessions", ("kind", "energy_kwh", "grid_kwh", "cost_usd"))
    out = sessions.groupby("kind", observed=True).agg(
        sessions=("kind", "size"),
        energy_kwh=("energy_kwh", "sum"),
        grid_kwh=("grid_kwh", "sum"),
        cost_usd=("cost_usd", "sum"),
    )
    grid = out["grid_kwh"].to_numpy(dtype=np.float64)
    cost = out["cost_usd"].to_numpy(dtype=np.float64)
    out["usd_per_kwh"] = np.divide(cost, grid, out=np.full_like(cost, np.nan), where=grid > 0)
    total = float(cost.sum())
    out["share_of_cost"] = cost / total if total > 0 else np.nan
    return out.sort_values("cost_usd", ascending=False).reset_index()


def daily_cost(vehicle_states: pd.DataFrame) -> pd.DataFrame:
    """Fleet charging cost, energy and distance per day, with cost per 100 km."""
    _need(vehicle_states, "vehicle_states", ("date", "distance_km", "charging_cost_usd"))
    cols = ["distance_km", "energy_kwh", "charging_kwh", "charging_cost_usd"]
    out = vehicle_states.groupby("date")[[c for c in cols if c in vehicle_states]].sum()
    cost = out["charging_cost_usd"].to_numpy(dtype=np.float64)
    out["cost_usd_per_100km"] = _per_100km(cost, out["distance_km"])
    return out.reset_index()


def station_usage(sessions: pd.DataFrame, stations: pd.DataFrame) -> pd.DataFrame:
    """Public stations with their sessions, delivered kWh, revenue and mean wait.

    Stations that nobody used are kept with zero counts (an operator wants to see idle
    chargers too); home sessions (no station) are left out. Sorted by sessions.
    """
    _need(sessions, "charging_sessions", ("station_id", "energy_kwh", "cost_usd", "wait_min"))
    _need(stations, "stations", ("station_id", "name", "lat", "lon", "kind", "power_kw"))
    public = sessions[sessions["station_id"].notna() & (sessions["station_id"] != "")]
    used = public.groupby("station_id").agg(
        sessions=("station_id", "size"),
        energy_kwh=("energy_kwh", "sum"),
        revenue_usd=("cost_usd", "sum"),
        mean_wait_min=("wait_min", "mean"),
    )
    base = stations[["station_id", "name", "kind", "power_kw", "lat", "lon"]]
    out = base.merge(used, left_on="station_id", right_index=True, how="left")
    out[["sessions", "energy_kwh", "revenue_usd"]] = out[
        ["sessions", "energy_kwh", "revenue_usd"]
    ].fillna(0.0)
    out["sessions"] = out["sessions"].astype("int64")
    return out.sort_values(["sessions", "energy_kwh"], ascending=False, kind="stable").reset_index(
        drop=True
    )


def edge_energy(segments: pd.DataFrame) -> pd.DataFrame:
    """Energy use per directed edge (u, v, key): traversals, kWh and kWh/km.

    The heatmap of the network: where the fleet spends its energy (``energy_kwh``) and
    where driving is expensive per km (``kwh_per_km``).
    """
    _need(segments, "segments", ("u", "v", "key", "length_m", "energy_kwh"))
    out = segments.groupby(["u", "v", "key"]).agg(
        traversals=("energy_kwh", "size"),
        length_m=("length_m", "sum"),
        energy_kwh=("energy_kwh", "sum"),
    )
    km = out["length_m"].to_numpy(dtype=np.float64) / M_PER_KM
    kwh = out["energy_kwh"].to_numpy(dtype=np.float64)
    out["kwh_per_km"] = np.divide(kwh, km, out=np.full_like(kwh, np.nan), where=km > 0)
    return out.drop(columns="length_m").reset_index()


def edge_lines(edges: pd.DataFrame, nodes: pd.DataFrame) -> pd.DataFrame:
    """Straight-line geometry of edges from their end nodes, one row per undirected pair.

    Returns ``u``, ``v``, ``highway`` and ``src_lon``, ``src_lat``, ``dst_lon``,
    ``dst_lat``: the base layer of the offline maps (the road network itself, no tiles).
    Both directions of a two-way street and parallel edges draw the same line, so only
    the first of each node pair is kept.
    """
    _need(edges, "edges", ("u", "v", "highway"))
    _need(nodes, "nodes", ("node_id", "lat", "lon"))
    lo = np.minimum(edges["u"].to_numpy(), edges["v"].to_numpy())
    hi = np.maximum(edges["u"].to_numpy(), edges["v"].to_numpy())
    first = ~pd.DataFrame({"lo": lo, "hi": hi}).duplicated().to_numpy()
    pairs = edges.loc[first, ["u", "v", "highway"]].reset_index(drop=True)
    return attach_coordinates(pairs, nodes)


def attach_coordinates(table: pd.DataFrame, nodes: pd.DataFrame) -> pd.DataFrame:
    """Add ``src_lon/src_lat`` (node ``u``) and ``dst_lon/dst_lat`` (node ``v``) columns.

    Rows whose nodes are unknown are dropped (they cannot be drawn).
    """
    _need(table, "table", ("u", "v"))
    index = pd.Index(nodes["node_id"].to_numpy())
    src = index.get_indexer(table["u"].to_numpy())
    dst = index.get_indexer(table["v"].to_numpy())
    known = (src >= 0) & (dst >= 0)
    lon = nodes["lon"].to_numpy(dtype=np.float64)
    lat = nodes["lat"].to_numpy(dtype=np.float64)
    out = table.loc[known].reset_index(drop=True)
    src, dst = src[known], dst[known]
    return out.assign(src_lon=lon[src], src_lat=lat[src], dst_lon=lon[dst], dst_lat=lat[dst])


OPT_KPIS: Final = (
    "energy_kwh", "kwh_per_100km", "distance_km", "drive_time_h", "charging_time_h",
    "waiting_h", "detour_km", "cost_usd", "cost_adjusted_usd", "public_sessions",
    "site_peak_kw", "min_soc", "stranded_trips",
)  # fmt: skip
"""Fleet KPIs of an optimisation output shown baseline vs optimised (``kpis.parquet``)."""
FLEET_ROW: Final = "FLEET"


def run_label(table: pd.DataFrame) -> pd.Series:
    """``strategy/planning_mode`` of each row of an optimisation table."""
    _need(table, "optimisation table", ("strategy", "planning_mode"))
    return table["strategy"].astype(str) + "/" + table["planning_mode"].astype(str)


def optimisation_comparison(kpis: pd.DataFrame) -> pd.DataFrame:
    """Fleet KPIs, baseline vs optimised, of every run of an optimisation output.

    One row per (run, KPI of :data:`OPT_KPIS`): ``run`` (``strategy/mode``), ``kpi``,
    ``baseline``, ``optimised``, ``change`` (optimised - baseline) and ``change_pct``
    (relative to the baseline; NaN when the baseline is 0). Both sides are the same trips
    scored on the same physics draws, so the change is the plan's effect alone.
    """
    _need(kpis, "kpis", ("vehicle_id", "side", "strategy", "planning_mode", *OPT_KPIS))
    fleet = kpis.loc[kpis["vehicle_id"].astype(str) == FLEET_ROW]
    long = fleet.assign(run=run_label(fleet)).melt(
        id_vars=["run", "side"], value_vars=list(OPT_KPIS), var_name="kpi"
    )
    wide = long.pivot_table(
        index=["run", "kpi"], columns="side", values="value", aggfunc="first", sort=False
    )
    for side in ("baseline", "optimised"):
        if side not in wide.columns:
            wide[side] = np.nan
    out = wide[["baseline", "optimised"]].reset_index()
    out.columns.name = None
    base = out["baseline"].to_numpy(dtype=np.float64)
    change = out["optimised"].to_numpy(dtype=np.float64) - base
    out["change"] = change
    out["change_pct"] = np.divide(
        100.0 * change, np.abs(base), out=np.full_like(change, np.nan), where=base != 0
    )
    order = {k: i for i, k in enumerate(OPT_KPIS)}
    runs = {r: i for i, r in enumerate(dict.fromkeys(out["run"]))}
    key = out["run"].map(runs) * len(OPT_KPIS) + out["kpi"].map(order)
    return out.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)


def _day_of(start: dt.date, seconds: pd.Series) -> pd.Series:
    stamps = pd.Timestamp(start) + pd.to_timedelta(seconds.to_numpy(dtype=np.float64), unit="s")
    return pd.Series(stamps.date, index=seconds.index)


def vehicle_days(plans: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    """The vehicle-days an optimisation re-planned: ``vehicle_id``, ``date``, ``trips``,
    ``stops`` (public charging stops on the way), sorted by vehicle and date."""
    _need(plans, "plans", ("vehicle_id", "trip_id", "depart_s", "n_stops"))
    days = plans.assign(vehicle_id=plans["vehicle_id"].astype(str),
                        date=_day_of(start, plans["depart_s"]))  # fmt: skip
    out = days.groupby(["vehicle_id", "date"]).agg(
        trips=("trip_id", "nunique"), stops=("n_stops", "sum")
    )
    return out.reset_index()


def vehicle_day_routes(
    segments: pd.DataFrame,
    plans: pd.DataFrame,
    nodes: pd.DataFrame,
    vehicle_id: str,
    day: dt.date,
    start: dt.date,
) -> pd.DataFrame:
    """Baseline and optimised routes of one vehicle-day as drawable lines.

    Baseline: the dataset's segments of the vehicle's trips that day (the synthetic
    driver's routes); optimised: the ``route_nodes`` of its plans departing that day
    (``plans`` of one run). Columns ``side``, ``trip_id``, ``u``, ``v`` and the
    coordinates of :func:`attach_coordinates`.
    """
    _need(segments, "segments", ("trip_id", "vehicle_id", "seq", "u", "v", "start_time"))
    _need(plans, "plans", ("vehicle_id", "trip_id", "depart_s", "route_nodes"))
    seg = segments.loc[(segments["vehicle_id"] == vehicle_id).to_numpy(dtype=bool)]
    seg = seg.loc[pd.to_datetime(seg["start_time"]).dt.date == day]
    seg = seg.sort_values(["start_time", "seq"], kind="stable")
    base = pd.DataFrame({"side": "baseline", "trip_id": seg["trip_id"].astype(str).to_numpy(),
                         "u": seg["u"].to_numpy(dtype=np.int64),
                         "v": seg["v"].to_numpy(dtype=np.int64)})  # fmt: skip
    mine = plans.loc[plans["vehicle_id"].astype(str) == vehicle_id]
    mine = mine.loc[_day_of(start, mine["depart_s"]) == day].sort_values("depart_s")
    routes = [np.asarray(r, dtype=np.int64) for r in mine["route_nodes"]]
    sizes = np.array([max(len(r) - 1, 0) for r in routes], dtype=np.int64)
    opt = pd.DataFrame(
        {
            "side": "optimised",
            "trip_id": np.repeat(mine["trip_id"].astype(str).to_numpy(), sizes),
            "u": np.concatenate([r[:-1] for r in routes]) if routes else np.array([], np.int64),
            "v": np.concatenate([r[1:] for r in routes]) if routes else np.array([], np.int64),
        }
    )
    return attach_coordinates(pd.concat([base, opt], ignore_index=True), nodes)


def vehicle_day_charging(
    sessions: pd.DataFrame,
    charging_plan: pd.DataFrame,
    stations: pd.DataFrame,
    nodes: pd.DataFrame,
    vehicle_id: str,
    day: dt.date,
    start: dt.date,
) -> pd.DataFrame:
    """Charging of one vehicle-day, baseline (the dataset's sessions) and optimised (the
    run's ``charging_plan``): ``side``, ``kind``, ``station_id``, ``start``, ``energy_kwh``,
    ``cost_usd``, ``lat``, ``lon``. Optimised public stops sit at their station, home or
    depot charging at its site's node."""
    common = ("vehicle_id", "kind", "station_id", "energy_kwh", "cost_usd")
    _need(sessions, "charging_sessions", (*common, "lat", "lon", "start_time"))
    _need(charging_plan, "charging_plan", (*common, "site", "start_s"))
    cols = ["side", "kind", "station_id", "start", "energy_kwh", "cost_usd", "lat", "lon"]
    ses = sessions.loc[sessions["vehicle_id"].astype(str) == vehicle_id]
    ses = ses.loc[pd.to_datetime(ses["start_time"]).dt.date == day]
    base = ses.assign(side="baseline", start=pd.to_datetime(ses["start_time"]))[cols]
    plan = charging_plan.loc[charging_plan["vehicle_id"].astype(str) == vehicle_id]
    plan = plan.loc[_day_of(start, plan["start_s"]) == day]
    at_station = stations.set_index(stations["station_id"].astype(str))[["lat", "lon"]]
    station_pos = at_station.reindex(plan["station_id"].astype(str).to_numpy())
    site = pd.to_numeric(plan["site"].astype(str), errors="coerce").to_numpy()
    at_node = nodes.set_index("node_id")[["lat", "lon"]]
    node_pos = at_node.reindex(site)
    lat = np.where(station_pos["lat"].notna(), station_pos["lat"], node_pos["lat"])
    lon = np.where(station_pos["lon"].notna(), station_pos["lon"], node_pos["lon"])
    opt = plan.assign(
        side="optimised",
        start=pd.Timestamp(start) + pd.to_timedelta(plan["start_s"].to_numpy(float), unit="s"),
        lat=lat,
        lon=lon,
    )[cols]
    out = pd.concat([base, opt], ignore_index=True)
    return out.loc[out["lat"].notna() & out["lon"].notna()].reset_index(drop=True)


def named_places(nodes: pd.DataFrame, stations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Places a user can pick a route's ends by: the network's named places (one node
    each: the busiest of the place, by ``commercial_weight`` then ``pop_weight``) and the
    charging stations by name. Columns ``name``, ``node_id``, ``lat``, ``lon``, ``kind``,
    sorted by name (names made unique)."""
    _need(nodes, "nodes", ("node_id", "lat", "lon"))
    parts = []
    if "place" in nodes.columns:
        named = nodes.loc[nodes["place"].notna() & (nodes["place"].astype(str) != "")]
        weight = np.zeros(len(named))
        for col in ("pop_weight", "commercial_weight"):
            if col in named.columns:
                weight = weight + named[col].to_numpy(dtype=np.float64)
        best = named.assign(_w=weight).sort_values("_w", ascending=False, kind="stable")
        best = best.drop_duplicates("place")
        parts.append(pd.DataFrame({"name": best["place"].astype(str),
                                   "node_id": best["node_id"], "lat": best["lat"],
                                   "lon": best["lon"], "kind": "place"}))  # fmt: skip
    if stations is not None and len(stations):
        _need(stations, "stations", ("name", "node_id", "lat", "lon", "kind"))
        parts.append(pd.DataFrame({"name": stations["name"].astype(str) + " (station)",
                                   "node_id": stations["node_id"], "lat": stations["lat"],
                                   "lon": stations["lon"],
                                   "kind": "station " + stations["kind"].astype(str)}))  # fmt: skip
    cols = ["name", "node_id", "lat", "lon", "kind"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)[cols]
    dup = out.groupby("name").cumcount()
    out["name"] = out["name"].where(dup == 0, out["name"] + " #" + (dup + 1).astype(str))
    out["node_id"] = out["node_id"].astype("int64")
    return out.sort_values("name", kind="stable").reset_index(drop=True)


def lines_near(
    lines: pd.DataFrame, lon: np.ndarray, lat: np.ndarray, *, margin: float = 0.3
) -> pd.DataFrame:
    """The lines with an end inside the bounding box of the points ``lon``/``lat``, grown by
    ``margin`` of its size on each side (at least ~1 km): the network around a route, a
    map's base layer that costs a fraction of the whole network to send and draw."""
    _need(lines, "lines", ("src_lon", "src_lat", "dst_lon", "dst_lat"))
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if not lon.size:
        return lines.iloc[:0]
    pad_lon = max(margin * float(np.ptp(lon)), 0.012)
    pad_lat = max(margin * float(np.ptp(lat)), 0.009)
    lo_lon, hi_lon = lon.min() - pad_lon, lon.max() + pad_lon
    lo_lat, hi_lat = lat.min() - pad_lat, lat.max() + pad_lat
    inside = np.zeros(len(lines), dtype=bool)
    for x, y in (("src_lon", "src_lat"), ("dst_lon", "dst_lat")):
        xs, ys = lines[x].to_numpy(dtype=np.float64), lines[y].to_numpy(dtype=np.float64)
        inside |= (xs >= lo_lon) & (xs <= hi_lon) & (ys >= lo_lat) & (ys <= hi_lat)
    return lines.loc[inside].reset_index(drop=True)
