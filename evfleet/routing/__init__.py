"""Battery-aware routing: edge costs for a context, exact searches, Pareto sets, charging.

Public API (pure library code; the CLI ``evfleet route`` and the fleet-optimisation
stage call it)::

    model = EdgeCostModel(graph, tariff=Tariff.from_config(cfg.charging))
    w = model.weights(context)                      # cached per context (LRU)
    opts = RoutingOptions.from_config(cfg)
    plan = plan_route(graph, w, orig, dest, objective="energy", options=opts, soc_start=0.8)
    stations = StationSet.build(graph, spec, tariff, depart_clock_s=...)
    plan = plan_soc_route(graph, w, stations, orig, dest, objective="time", soc_start=0.2)
    front = pareto_routes(graph, w, orig, dest, options=opts)
    amounts = optimize_charging_amounts(...)        # LP on a fixed route (pulp)
"""

from evfleet.routing.charging_lp import ChargingLeg, optimize_charging_amounts
from evfleet.routing.costs import (
    EdgeCostModel,
    EdgeWeights,
    Objective,
    ObjectiveWeights,
    expected_drive,
    model_energy_source,
    physics_edge_costs,
)
from evfleet.routing.evaluate import simulate_route_energy
from evfleet.routing.pareto import pareto_routes
from evfleet.routing.plans import ChargingStop, InfeasibleRouteError, RoutePlan, RoutingOptions
from evfleet.routing.search import plan_route, plan_soc_route, plan_trip
from evfleet.routing.stations import StationSet

__all__ = [
    "ChargingLeg",
    "ChargingStop",
    "EdgeCostModel",
    "EdgeWeights",
    "InfeasibleRouteError",
    "Objective",
    "ObjectiveWeights",
    "RoutePlan",
    "RoutingOptions",
    "StationSet",
    "expected_drive",
    "model_energy_source",
    "optimize_charging_amounts",
    "pareto_routes",
    "physics_edge_costs",
    "plan_route",
    "plan_soc_route",
    "plan_trip",
    "simulate_route_energy",
]
