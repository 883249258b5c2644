"""Fleet optimisation: re-plan a dataset's trips and charging, score both on the same physics.

Pure library code (the ``optimize`` task and flow call it)::

    vehicles = vehicle_trips(tables, graph.edges, start)          # trips + baseline
    out = optimize_vehicles(with_strategy(cfg, "balanced"), graph, weather, vehicles, start)
    charging, sites = site_schedule(cfg, out["charging_plan"])    # shared site caps
"""

from evfleet.optimize.fleet import KPI_KEYS, optimize_vehicles, site_schedule
from evfleet.optimize.inputs import VehicleTrips, vehicle_trips
from evfleet.optimize.lp import HorizonInput, plan_horizon, schedule_site
from evfleet.optimize.planner import VehiclePlanner
from evfleet.optimize.scoring import crn_draws, score_legs
from evfleet.optimize.world import Settings, World

__all__ = [
    "KPI_KEYS",
    "HorizonInput",
    "Settings",
    "VehiclePlanner",
    "VehicleTrips",
    "World",
    "crn_draws",
    "optimize_vehicles",
    "plan_horizon",
    "schedule_site",
    "score_legs",
    "site_schedule",
    "vehicle_trips",
]
