"""The live route query shared by ``evfleet route`` and the studio's planner."""

from __future__ import annotations

import pandas as pd
import pytest

from evfleet.config import StudioConfig
from evfleet.features.network import context_for_vehicle
from evfleet.fleet.charging import Tariff
from evfleet.network import RoadGraph
from evfleet.route_planner import route_lines, route_plans, routes_table, stops_table
from evfleet.routing import EdgeCostModel, RoutingOptions
from tests.fixtures.studio_workspace import CRS, _network


@pytest.fixture(scope="module")
def graph() -> RoadGraph:
    net = _network()
    return RoadGraph(net["nodes"], net["edges"], crs=CRS, stations=net["stations"])


def test_plan_and_pareto_front_are_scored_and_drawable(graph: RoadGraph) -> None:
    cfg = StudioConfig()
    tariff = Tariff.from_config(cfg.charging)
    model = EdgeCostModel(graph, tariff=tariff)
    ctx = context_for_vehicle("nissan_leaf", departure=pd.Timestamp("2024-01-15 08:00"),
                              temp_c=10.0)  # fmt: skip
    kw = {"options": RoutingOptions.from_config(cfg), "objective": "time", "soc_start": 0.9,
          "tariff": tariff}  # fmt: skip
    [plan] = route_plans(graph, model, ctx, 100, 104, pareto=False, **kw)
    front = route_plans(graph, model, ctx, 100, 104, pareto=True, **kw)
    assert plan.nodes[0] == 100
    assert plan.nodes[-1] == 104
    assert plan.physics_energy_kwh is not None
    assert plan.physics_energy_kwh > 0
    assert len(front) >= 1
    times = [p.time_min for p in front]
    assert times == sorted(times), "fastest first"
    assert min(times) == pytest.approx(plan.time_min, rel=1e-6), "least time is on the front"
    table = routes_table([plan, *front])
    assert len(table) == 1 + len(front)
    assert table["physics_energy_kwh"].notna().all()
    lines = route_lines([plan, *front], graph)
    assert len(lines) == sum(len(p.nodes) - 1 for p in [plan, *front])
    first = lines[lines["route"] == 0]
    assert first["u"].iloc[0] == 100
    assert first["v"].iloc[-1] == 104
    assert stops_table([plan], graph).empty, "a full battery needs no stop on 5.6 km"
