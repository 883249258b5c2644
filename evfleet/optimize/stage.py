"""The optimisation stage as pure functions: runs, chunks, and the combined outputs.

A *run* is one (strategy, planning mode). :func:`optimize_chunk` plans a slice of the
fleet for every run; :func:`combine` schedules shared sites per run, derives fleet KPIs and
renders the report. Rows of a vehicle never depend on the chunking.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evfleet.config import STRATEGY_PRESETS, PlanningMode, Strategy, StudioConfig, with_strategy
from evfleet.network import RoadGraph
from evfleet.optimize.fleet import (
    baseline_site_rows,
    fleet_kpis,
    optimize_vehicles,
    site_peak_kw,
    site_schedule,
)
from evfleet.optimize.inputs import VehicleTrips
from evfleet.optimize.report import render_report


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
) -> dict[str, pd.DataFrame]:
    """Plans, charging rows, per-vehicle KPIs and infeasible trips of every run."""
    out: dict[str, list[pd.DataFrame]] = {}
    for run in runs:
        res = optimize_vehicles(run.config(cfg), graph, weather, vehicles, start)
        for name, frame in res.items():
            tagged = frame.assign(strategy=run.strategy, planning_mode=run.planning_mode)
            out.setdefault(name, []).append(tagged)
    return {name: pd.concat(parts, ignore_index=True) for name, parts in out.items()}


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
    infeasible = parts["infeasible"]
    return {
        "plans": parts["plans"],
        "charging_plan": pd.concat(charging, ignore_index=True),
        "kpis": kpis_all,
        "fleet": fleet_df,
        "sites": sites_df,
        "infeasible": infeasible,
        "report_html": render_report(
            fleet_df, sites_df, infeasible, title="evfleet fleet optimisation"
        ),
    }
