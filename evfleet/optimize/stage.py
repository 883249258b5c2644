"""The optimisation stage as pure functions: runs, chunks, and the combined outputs.

A *run* is one (strategy, planning mode). :func:`optimize_chunk` plans a slice of the
fleet for every run; :func:`combine` schedules shared sites per run, derives fleet KPIs and
renders the report. Rows of a vehicle never depend on the chunking.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evfleet.config import STRATEGY_PRESETS, PlanningMode, Strategy, StudioConfig, with_strategy
from evfleet.network import RoadGraph
from evfleet.optimize.fleet import (
    baseline_site_rows,
    fleet_kpis,
    plan_vehicle,
    site_peak_kw,
    site_schedule,
    stack,
)
from evfleet.optimize.inputs import VehicleTrips
from evfleet.optimize.report import render_report
from evfleet.optimize.world import Settings, World, edge_costs
from evfleet.routing.costs import EnergySource


@dataclass(frozen=True)
class Run:
    """One (strategy, planning mode) of a stage."""

    strategy: str
    planning_mode: str

    def config(self, cfg: StudioConfig) -> StudioConfig:
        """``cfg`` with this run's preset and mode applied."""
        return with_strategy(cfg, self.strategy).with_overrides(
            {"optimization.planning_mode": self.planning_mode}
        )

    @property
    def label(self) -> str:
        """``strategy/mode``."""
        return f"{self.strategy}/{self.planning_mode}"


def stage_runs(
    cfg: StudioConfig, strategy: str | None = None, planning_mode: str | None = None
) -> tuple[Run, ...]:
    """Runs of a stage: ``strategy`` ``all`` (the four presets) / one name / ``None`` (the
    configured one)."""
    mode = PlanningMode(planning_mode or cfg.optimization.planning_mode).value
    if strategy == "all":
        return tuple(Run(s.value, mode) for s in STRATEGY_PRESETS)
    return (Run(Strategy(strategy or cfg.optimization.strategy).value, mode),)


def optimize_chunk(
    cfg: StudioConfig,
    graph: RoadGraph,
    weather: pd.DataFrame,
    vehicles: list[VehicleTrips],
    start: dt.date,
    runs: tuple[Run, ...],
    *,
    energy_source: EnergySource | None = None,
) -> dict[str, pd.DataFrame]:
    """Plans, charging rows, per-vehicle KPIs and infeasible trips of every run.

    Planning uses the physics expectations, or ``energy_source`` (per-edge kWh of a
    context, e.g. the ML champion); scoring is always the physics simulator. Vehicles are
    the outer loop so that the runs of a vehicle reuse its contexts' edge weights.
    """
    costs = edge_costs(cfg, graph, energy_source)
    worlds = [World(run.config(cfg), graph, weather, start, costs=costs) for run in runs]
    settings = [Settings.from_config(run.config(cfg)) for run in runs]
    per_run: list[list[dict[str, pd.DataFrame]]] = [[] for _ in runs]
    for v in vehicles:
        for i in range(len(runs)):
            per_run[i].append(plan_vehicle(worlds[i], v, settings[i]))
    out: dict[str, list[pd.DataFrame]] = {}
    for run, parts in zip(runs, per_run, strict=True):
        for name, frame in stack(parts).items():
            tagged = frame.assign(strategy=run.strategy, planning_mode=run.planning_mode)
            out.setdefault(name, []).append(tagged)
    return {name: pd.concat(frames, ignore_index=True) for name, frames in out.items()}


def run_major(
    frame: pd.DataFrame, runs: tuple[Run, ...], vehicles: list[VehicleTrips]
) -> pd.DataFrame:
    """Rows ordered by run, then vehicle (fleet order), then as they came: the order of
    the outputs does not depend on the chunking or on which chunk finished first."""
    run_pos = {(r.strategy, r.planning_mode): i for i, r in enumerate(runs)}
    vehicle_pos = {v.vehicle_id: i for i, v in enumerate(vehicles)}
    key = pd.DataFrame(
        {
            "run": [
                run_pos[k] for k in zip(frame["strategy"], frame["planning_mode"], strict=True)
            ],
            "vehicle": frame["vehicle_id"].map(vehicle_pos).fillna(len(vehicles)).to_numpy(),
        }
    )
    order = np.lexsort((key["vehicle"].to_numpy(), key["run"].to_numpy()))
    return frame.iloc[order].reset_index(drop=True)


def combine(
    cfg: StudioConfig,
    parts: dict[str, pd.DataFrame],
    vehicles: list[VehicleTrips],
    start: dt.date,
    runs: tuple[Run, ...],
) -> dict[str, Any]:
    """Site LP per run, fleet KPIs, sites table and the HTML report.

    Returns ``plans``, ``charging_plan``, ``kpis`` (per vehicle and ``FLEET`` rows),
    ``fleet`` (fleet rows), ``sites``, ``infeasible`` and ``report_html``.
    """
    parts = {name: run_major(frame, runs, vehicles) for name, frame in parts.items()}
    base_peaks = site_peak_kw(baseline_site_rows(vehicles, start))
    charging, sites, fleet = [], [], []
    for run in runs:
        mine = parts["charging_plan"]
        mine = mine.loc[
            (mine["strategy"] == run.strategy) & (mine["planning_mode"] == run.planning_mode)
        ]
        rows, site = site_schedule(
            run.config(cfg), mine.drop(columns=["strategy", "planning_mode"])
        )
        charging.append(rows.assign(strategy=run.strategy, planning_mode=run.planning_mode))
        sites.append(site.assign(strategy=run.strategy, planning_mode=run.planning_mode))
        kpis = parts["kpis"]
        kpis = kpis.loc[
            (kpis["strategy"] == run.strategy) & (kpis["planning_mode"] == run.planning_mode)
        ]
        peaks = {
            "baseline": float(base_peaks.max()) if len(base_peaks) else 0.0,
            "optimised": float(site["peak_after_kw"].max()) if len(site) else 0.0,
        }
        fleet.append(
            fleet_kpis(kpis, peaks).assign(strategy=run.strategy, planning_mode=run.planning_mode)
        )
    fleet_df = pd.concat(fleet, ignore_index=True)
    kpis_all = pd.concat([parts["kpis"], fleet_df.assign(vehicle_id="FLEET")], ignore_index=True)
    sites_df = pd.concat(sites, ignore_index=True)
    tables = {
        "plans": parts["plans"],
        "charging_plan": run_major(pd.concat(charging, ignore_index=True), runs, vehicles),
        "kpis": run_major(kpis_all, runs, vehicles),
        "fleet": fleet_df,
        "sites": sites_df,
        "infeasible": parts["infeasible"],
    }
    # an empty part (a chunk without rows) reads back as object columns: the same data
    # must give the same column types, hence the same bytes, whatever the chunking
    out: dict[str, Any] = {name: frame.infer_objects() for name, frame in tables.items()}
    out["report_html"] = render_report(
        out["fleet"], out["sites"], out["infeasible"], title="evfleet fleet optimisation"
    )
    return out
