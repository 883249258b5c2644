"""Optimise a fleet: baseline vs re-planned trips on the same physics, KPIs, site LP.

:func:`optimize_vehicles` plans a chunk of vehicles (any subset gives the same rows per
vehicle); :func:`site_schedule` re-times the home sessions of vehicles that share a site
under ``charging.site_power_cap_kw`` with ``charging.demand_charge_usd_per_kw``;
:func:`kpi_table` puts baseline and optimised KPIs per vehicle and for the fleet side by
side. Both sides are scored with common random numbers (:mod:`evfleet.optimize.scoring`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import numpy as np
import pandas as pd

from evfleet.config import StudioConfig
from evfleet.fleet.charging import Tariff
from evfleet.network import RoadGraph
from evfleet.optimize.inputs import PUBLIC_KINDS, VehicleTrips, seconds_since
from evfleet.optimize.lp import schedule_site
from evfleet.optimize.planner import VehiclePlanner
from evfleet.optimize.scoring import score_legs
from evfleet.optimize.world import Settings, World
from evfleet.routing import EdgeCostModel

KPI_KEYS: Final = (
    "energy_kwh", "kwh_per_100km", "distance_km", "drive_time_h", "charging_time_h",
    "waiting_h", "detour_km", "cost_usd", "public_sessions", "site_peak_kw", "min_soc",
    "stranded_trips", "soc_end", "cost_adjusted_usd", "planning_error_pct",
)  # fmt: skip
INFEASIBLE_COLS: Final = ("vehicle_id", "trip_id", "reason")
SITE_SLOT_H: Final = 0.25


def end_credit_usd(world: World, v: VehicleTrips, soc_end: float, efficiency: float) -> float:
    """What refilling the battery from ``soc_end`` to its initial SOC costs at the off-peak
    home price (negative: energy left over), so sides that end fuller compare fairly."""
    kwh = (v.initial_soc - soc_end) * v.spec.battery_kwh
    return float(kwh / efficiency * world.tariff.base_price("home"))


def baseline_kpis(world: World, v: VehicleTrips, s: Settings) -> dict[str, float]:
    """KPIs of the trips as the synthetic driver did them, legs re-scored with CRN."""
    bl = v.baseline
    parked = float(v.depart_s[0]) if v.n_trips else 0.0
    sc = score_legs(
        world.net, world.weather, v.spec, style=v.style, start_date=world.start,
        legs=bl.edges, depart_s=bl.depart_s, trip_key=bl.trip_key, seed=s.seed,
        vehicle=v.index, parked_s=parked,
    )  # fmt: skip
    ses = v.sessions
    dur_h = (
        seconds_since(world.start, ses["end_time"]) - seconds_since(world.start, ses["start_time"])
    ) / 3600
    return _kpis(
        energy=float(sc.energy_kwh.sum()), distance=float(sc.distance_km.sum()),
        drive_h=float(sc.duration_s.sum() / 3600), charging_h=float(np.sum(dur_h)),
        waiting_h=float(ses["wait_min"].sum() / 60), detour=float(ses["detour_km"].sum()),
        cost=float(ses["cost_usd"].sum()),
        public=int(ses["kind"].astype(str).isin(PUBLIC_KINDS).sum()),
        min_soc=bl.soc_min, stranded=bl.stranded_trips, soc_end=bl.soc_end, planned=np.nan,
        end_credit=end_credit_usd(world, v, bl.soc_end, s.efficiency),
    )  # fmt: skip


def _kpis(**k: Any) -> dict[str, float]:
    dist = k["distance"]
    return {
        "energy_kwh": k["energy"],
        "kwh_per_100km": 100 * k["energy"] / dist if dist > 0 else 0.0,
        "distance_km": dist,
        "drive_time_h": k["drive_h"],
        "charging_time_h": k["charging_h"],
        "waiting_h": k["waiting_h"],
        "detour_km": k["detour"],
        "cost_usd": k["cost"],
        "public_sessions": float(k["public"]),
        "site_peak_kw": 0.0,
        "min_soc": k["min_soc"],
        "stranded_trips": float(k["stranded"]),
        "soc_end": k["soc_end"],
        "cost_adjusted_usd": k["cost"] + k["end_credit"],
        "planning_error_pct": k["planned"],
    }


def optimised_kpis(
    world: World, plan: dict[str, pd.DataFrame], v: VehicleTrips, s: Settings
) -> dict[str, float]:
    """KPIs of the re-planned trips of one vehicle (``trips``, ``charging``, ``infeasible``)."""
    trips, charging = plan["trips"], plan["charging"]
    soc_end = float(trips["soc_end"].iloc[-1]) if len(trips) else v.initial_soc
    planned, energy = trips["planned_energy_kwh"].sum(), trips["energy_kwh"].sum()
    dur_h = (charging["end_s"] - charging["start_s"]).sum() / 3600
    return _kpis(
        energy=float(energy), distance=float(trips["distance_km"].sum()),
        drive_h=float(trips["drive_time_h"].sum()), charging_h=float(dur_h),
        waiting_h=float(charging["wait_min"].sum() / 60), detour=float(trips["detour_km"].sum()),
        cost=float(charging["cost_usd"].sum()),
        public=int(charging["kind"].isin(PUBLIC_KINDS).sum()),
        min_soc=float(trips["soc_min"].min()) if len(trips) else v.initial_soc,
        stranded=len(plan["infeasible"]), soc_end=soc_end,
        planned=float(100 * (planned - energy) / energy) if energy > 0 else 0.0,
        end_credit=end_credit_usd(world, v, soc_end, s.efficiency),
    )  # fmt: skip


_TRIP_COLS = (
    "vehicle_id",
    "trip_id",
    "trip_index",
    "objective",
    "depart_s",
    "arrive_s",
    "distance_km",
    "drive_time_h",
    "planned_energy_kwh",
    "energy_kwh",
    "soc_start",
    "soc_end",
    "soc_min",
    "stops",
    "n_stops",
    "detour_km",
    "route_nodes",
)
_CHARGE_COLS = (
    "vehicle_id",
    "trip_id",
    "kind",
    "station_id",
    "site",
    "start_s",
    "end_s",
    "energy_kwh",
    "grid_kwh",
    "power_kw",
    "cost_usd",
    "wait_min",
    "window_start_s",
    "window_end_s",
)


def plan_vehicle(world: World, v: VehicleTrips, s: Settings) -> dict[str, pd.DataFrame]:
    """One vehicle's plans, charging rows, KPIs (both sides) and infeasible trips."""
    out = VehiclePlanner(world, v, s).run()
    t = pd.DataFrame(out.trips, columns=list(_TRIP_COLS))
    c = pd.DataFrame(out.charging, columns=list(_CHARGE_COLS))
    base = baseline_kpis(world, v, s)
    opt = optimised_kpis(world, {"trips": t, "charging": c, "infeasible": out.infeasible}, v, s)
    kpis = [{"vehicle_id": v.vehicle_id, "side": "baseline", **base},
            {"vehicle_id": v.vehicle_id, "side": "optimised", **opt}]  # fmt: skip
    return {
        "plans": t,
        "charging_plan": c,
        "kpis": pd.DataFrame(kpis),
        "infeasible": pd.DataFrame(out.infeasible, columns=list(INFEASIBLE_COLS)),
    }


def stack(parts: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Concatenate per-vehicle outputs (empty tables keep their columns)."""
    empty = {"plans": _TRIP_COLS, "charging_plan": _CHARGE_COLS, "kpis": ("vehicle_id", "side",
             *KPI_KEYS), "infeasible": INFEASIBLE_COLS}  # fmt: skip
    out = {}
    for name, cols in empty.items():
        frames = [p[name] for p in parts if len(p[name])]
        out[name] = (
            pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(cols))
        )
    return out


def optimize_vehicles(
    cfg: StudioConfig,
    graph: RoadGraph,
    weather: pd.DataFrame,
    vehicles: list[VehicleTrips],
    start: dt.date,
    *,
    costs: EdgeCostModel | None = None,
) -> dict[str, pd.DataFrame]:
    """Plans, charging rows, per-vehicle KPIs (both sides) and infeasible trips of a chunk
    (``costs``: an edge-cost model to share, e.g. across runs; default physics)."""
    world = World(cfg, graph, weather, start, costs=costs)
    settings = Settings.from_config(cfg)
    return stack([plan_vehicle(world, v, settings) for v in vehicles])


def _grid(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Starts of the demand intervals (``SITE_SLOT_H``) covering ``[min start, max end)``."""
    slot_s = SITE_SLOT_H * 3600
    t0 = np.floor(start.min() / slot_s) * slot_s
    return np.asarray(t0 + slot_s * np.arange(int(np.ceil((end.max() - t0) / slot_s)) + 1))


def _fraction(start: np.ndarray, end: np.ndarray, slot0: np.ndarray) -> np.ndarray:
    """Share of each interval (columns) inside each ``[start, end)`` (rows)."""
    slot_s = SITE_SLOT_H * 3600
    inside = np.minimum(slot0 + slot_s, end[:, None]) - np.maximum(slot0, start[:, None])
    return np.asarray(np.clip(inside, 0.0, None) / slot_s)


def site_schedule(cfg: StudioConfig, charging: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Re-time home sessions per site under the shared cap; rows and per-site peaks.

    Each home session keeps its energy and happens within the parking window it was planned
    in. Power is metered as utilities meter demand: the average over ``SITE_SLOT_H``
    intervals; the cap and the demand charge apply to that.
    """
    ch = cfg.charging
    tariff = Tariff.from_config(ch)
    home = charging.loc[charging["kind"] == "home"]
    sites, out = [], [charging.loc[charging["kind"] != "home"]]
    for site, rows in home.groupby("site", sort=True):
        groups = rows.groupby(["vehicle_id", "trip_id"], sort=True)
        keys = list(groups.groups)
        win = groups[["window_start_s", "window_end_s"]].first().to_numpy()
        slot0 = _grid(win[:, 0], win[:, 1])
        frac = _fraction(rows["start_s"].to_numpy(float), rows["end_s"].to_numpy(float), slot0)
        before = np.zeros((len(keys), slot0.size))
        np.add.at(before, groups.ngroup().to_numpy(), rows[["power_kw"]].to_numpy(float) * frac)
        sched = schedule_site(
            groups["energy_kwh"].sum().to_numpy() - 1e-9, _fraction(win[:, 0], win[:, 1], slot0),
            groups["power_kw"].max().to_numpy(), tariff.price("home", slot0 + SITE_SLOT_H * 1800),
            slot_h=SITE_SLOT_H, efficiency=ch.efficiency, cap_kw=ch.site_power_cap_kw or None,
            demand_usd_per_kw=ch.demand_charge_usd_per_kw, before_kw=before, site=str(site),
        )  # fmt: skip
        sites.append(
            {
                "site": str(site),
                "vehicles": len({k[0] for k in keys}),
                "peak_before_kw": sched.peak_before_kw,
                "peak_after_kw": sched.peak_after_kw,
            }
        )
        out.append(_site_rows(keys, sched.power_kw, slot0, tariff, ch.efficiency, str(site), win))
    res = pd.concat(out, ignore_index=True).sort_values(["vehicle_id", "start_s"], kind="stable")
    return res.reset_index(drop=True), pd.DataFrame(
        sites, columns=["site", "vehicles", "peak_before_kw", "peak_after_kw"]
    )


def _site_rows(
    keys: list[tuple[str, str]],
    power: np.ndarray,
    slot0: np.ndarray,
    tariff: Tariff,
    eff: float,
    site: str,
    win: np.ndarray,
) -> pd.DataFrame:
    v_i, t_i = np.nonzero(power > 1e-9)
    avg_kw = power[v_i, t_i]
    start = np.maximum(slot0[t_i], win[v_i, 0])
    end = np.minimum(slot0[t_i] + SITE_SLOT_H * 3600, win[v_i, 1])
    grid = avg_kw * SITE_SLOT_H
    return pd.DataFrame(
        {
            "vehicle_id": [keys[i][0] for i in v_i],
            "trip_id": [keys[i][1] for i in v_i],
            "kind": "home",
            "station_id": [f"HOME-{keys[i][0]}" for i in v_i],
            "site": site,
            "start_s": start,
            "end_s": end,
            "energy_kwh": grid * eff,
            "grid_kwh": grid,
            "power_kw": grid / np.maximum((end - start) / 3600, 1e-12),
            "cost_usd": tariff.price("home", 0.5 * (start + end)) * grid,
            "wait_min": 0.0,
            "window_start_s": win[v_i, 0],
            "window_end_s": win[v_i, 1],
        }
    )


def site_peak_kw(rows: pd.DataFrame) -> pd.Series:
    """Peak demand per site of sessions (``site``, ``start_s``, ``end_s``, ``power_kw``):
    the highest ``SITE_SLOT_H`` average of their total power, kW."""
    peaks = {}
    for site, r in rows.groupby("site", sort=True):
        start, end = r["start_s"].to_numpy(float), r["end_s"].to_numpy(float)
        frac = _fraction(start, end, _grid(start, end))
        peaks[str(site)] = float((r[["power_kw"]].to_numpy(float) * frac).sum(axis=0).max())
    return pd.Series(peaks, dtype=float)


def baseline_site_rows(vehicles: list[VehicleTrips], start: dt.date) -> pd.DataFrame:
    """The dataset's home sessions as site rows (site = the vehicle's home node)."""
    parts = []
    for v in vehicles:
        home = v.sessions.loc[v.sessions["kind"].astype(str) == "home"]
        parts.append(
            pd.DataFrame(
                {
                    "site": str(v.home_node),
                    "start_s": seconds_since(start, home["start_time"]),
                    "end_s": seconds_since(start, home["end_time"]),
                    "power_kw": home["power_kw"].to_numpy(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def fleet_kpis(kpis: pd.DataFrame, peaks: dict[str, float]) -> pd.DataFrame:
    """Fleet totals per side (sums; kWh/100 km re-derived; minimum SOC; site peak given)."""
    sums = [k for k in KPI_KEYS if k not in ("kwh_per_100km", "min_soc", "soc_end",
                                               "site_peak_kw", "planning_error_pct")]  # fmt: skip
    g = kpis.groupby("side", sort=False)
    out = g[sums].sum()
    out["kwh_per_100km"] = (
        100 * out["energy_kwh"] / out["distance_km"].where(out["distance_km"] > 0)
    )
    out["min_soc"] = g["min_soc"].min()
    out["soc_end"] = g["soc_end"].mean()
    known = kpis["planning_error_pct"].notna()
    energy = kpis["energy_kwh"].where(known).groupby(kpis["side"]).sum(min_count=1)
    planned = (
        ((kpis["planning_error_pct"] / 100 + 1) * kpis["energy_kwh"])
        .groupby(kpis["side"])
        .sum(min_count=1)
    )
    out["planning_error_pct"] = 100 * (planned - energy) / energy
    out["site_peak_kw"] = [peaks.get(str(side), 0.0) for side in out.index]
    return out[list(KPI_KEYS)].reset_index()
