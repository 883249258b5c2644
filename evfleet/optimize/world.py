"""What the planner works with: settings from the config, and the world every vehicle shares.

:class:`World` holds the network, weather, tariff, the edge-cost model and the stations;
its planning contexts are quantised (time-of-day block, weekday or weekend, rounded
weather, mass and parking time) so that trips share edge weights.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from evfleet.config import PlanningMode, SocObjective, StudioConfig
from evfleet.features.network import PredictionContext
from evfleet.fleet.charging import Tariff
from evfleet.fleet.road_arrays import NetArrays
from evfleet.fleet.weather import WeatherLookup
from evfleet.network import RoadGraph
from evfleet.optimize.inputs import VehicleTrips
from evfleet.routing import EdgeCostModel, ObjectiveWeights, RoutingOptions, StationSet
from evfleet.routing.costs import EnergySource
from evfleet.units import DAY_S, HOUR_S

PLANNING_MARGIN_SOC: Final = 0.03
"""SOC kept above the reserve when planning (planned vs driven energy)."""
MAX_LABELS: Final = 300_000
"""Label budget of a SOC-aware search here; beyond it a trip is composed from plain legs
with one or two stops (:meth:`evfleet.optimize.planner.VehiclePlanner._via_station`,
``_two_stops``), and only then searched with the engine's full budget."""
CONTEXT_CACHE_SIZE: Final = 64
"""Planning contexts whose edge weights a chunk keeps (a few MB each)."""
DAY_BLOCKS_H: Final = np.array([0, 6, 7, 9, 12, 16, 19, 22])
"""Start hours of the time-of-day blocks of planning contexts (rush hours kept apart)."""
CONTEXT_STEPS: Final = {
    "temp_c": 2.0, "wind_kph": 5.0, "wind_dir_deg": 45.0, "humidity_pct": 10.0, "mass_kg": 50.0,
}  # fmt: skip
"""Rounding of planning-context values (planned energies change by well under 1 %)."""
PARKED_BUCKETS_H: Final = np.array([0.5, 2.0, 8.0, 24.0])
"""Parking time of a planning context: the first bucket at or above the real one."""
CANONICAL_WEEKDAY: Final = dt.date(2024, 1, 8)
CANONICAL_WEEKEND: Final = dt.date(2024, 1, 13)
"""Dates standing for any weekday / weekend day in planning contexts (a Monday, a Saturday)."""
WEEKEND_DAY: Final = 5


@dataclass(frozen=True)
class Settings:
    """What the planner needs from the ``optimization`` and ``charging`` sections."""

    mode: PlanningMode
    objective: SocObjective
    weights: ObjectiveWeights
    reserve_soc: float
    max_charge_soc: float
    gamma: float
    horizon_trips: int
    horizon_hours: float
    efficiency: float
    home_power_kw: float
    strict: bool
    seed: int

    @classmethod
    def from_config(cls, cfg: StudioConfig) -> Settings:
        """Settings of a (strategy-applied) config."""
        opt, ch = cfg.optimization, cfg.charging
        return cls(
            mode=opt.planning_mode,
            objective=opt.soc_objective,
            weights=ObjectiveWeights.from_config(opt),
            reserve_soc=opt.reserve_soc,
            max_charge_soc=opt.max_charge_soc,
            gamma=opt.gamma,
            horizon_trips=opt.horizon_trips,
            horizon_hours=opt.horizon_hours,
            efficiency=ch.efficiency,
            home_power_kw=ch.home_power_kw,
            strict=opt.strict,
            seed=cfg.fleet.seed,
        )


def edge_costs(
    cfg: StudioConfig, graph: RoadGraph, energy_source: EnergySource | None = None
) -> EdgeCostModel:
    """The planner's edge-cost model: physics expectations, or ``energy_source`` (e.g. the ML
    champion's per-edge kWh); one per chunk, shared by its runs (the weights of a context do
    not depend on the strategy)."""
    return EdgeCostModel(
        graph,
        tariff=Tariff.from_config(cfg.charging),
        energy_source=energy_source,
        cache_size=CONTEXT_CACHE_SIZE,
    )


class World:
    """What every vehicle shares: network, weather, tariff, edge costs, stations."""

    def __init__(
        self,
        cfg: StudioConfig,
        graph: RoadGraph,
        weather: pd.DataFrame,
        start: dt.date,
        *,
        costs: EdgeCostModel | None = None,
    ) -> None:
        self.graph = graph
        self.net = NetArrays.of(graph)
        self.start = start
        self.weather = WeatherLookup(weather, start)
        self.tariff = Tariff.from_config(cfg.charging)
        self.costs = costs or edge_costs(cfg, graph)
        base = RoutingOptions.from_config(cfg)
        base = dataclasses.replace(base, max_labels=MAX_LABELS)
        self.options = dataclasses.replace(
            base, reserve_soc=min(base.reserve_soc + PLANNING_MARGIN_SOC, 1.0)
        )
        self.reserve_options = base
        self._stations: dict[str, StationSet] = {}

    def stations(self, v: VehicleTrips) -> StationSet:
        """Public stations for the vehicle's model (waits at a midday clock)."""
        if v.model not in self._stations:
            self._stations[v.model] = StationSet.build(
                self.graph, v.spec, self.tariff, depart_clock_s=12 * HOUR_S
            )
        return self._stations[v.model]

    def context(self, v: VehicleTrips, t_s: float, node: int, parked_s: float) -> PredictionContext:
        """Planning context of a departure, quantised so that trips share edge weights.

        The weather is the hour's at the origin's zone; the context keeps the time-of-day
        block (:data:`DAY_BLOCKS_H`), weekday or weekend, and rounds the weather, the mass
        and the parking time (:data:`CONTEXT_STEPS`). Planning uses it; the physics
        scoring drives every trip under its exact conditions.
        """
        zone = self.net.node_zone[self.net.positions(np.array([node]))]
        t = np.array([t_s])
        day = int(t_s // DAY_S)
        weekend = (self.start + dt.timedelta(days=day)).weekday() >= WEEKEND_DAY
        hour = (t_s % DAY_S) / HOUR_S
        block = DAY_BLOCKS_H[np.searchsorted(DAY_BLOCKS_H, hour, side="right") - 1]
        canonical = CANONICAL_WEEKEND if weekend else CANONICAL_WEEKDAY
        steps = CONTEXT_STEPS

        def get(name: str, step: float) -> float:
            return float(np.round(self.weather.get(name, t, zone)[0] / step) * step)

        return PredictionContext(
            model=v.model,
            mass_kg=float(np.round(v.spec.test_mass_kg / steps["mass_kg"]) * steps["mass_kg"]),
            battery_kwh=v.spec.battery_kwh,
            departure=pd.Timestamp(canonical) + pd.Timedelta(hours=float(block)),
            temp_c=get("temp_c", steps["temp_c"]),
            driving_style=v.style,
            wind_kph=get("wind_kph", steps["wind_kph"]),
            wind_from_deg=get("wind_dir_deg", steps["wind_dir_deg"]) % 360.0,
            humidity_pct=get("humidity_pct", steps["humidity_pct"]),
            is_raining=bool(self.weather.get("precip_mm", t, zone)[0] > 0),
            parked_h=float(PARKED_BUCKETS_H[np.searchsorted(PARKED_BUCKETS_H, parked_s / HOUR_S)
                                            .clip(max=len(PARKED_BUCKETS_H) - 1)]),
        )  # fmt: skip
