"""Charging amounts on a fixed route (pulp): brute force on tiny cases, vs the label search."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from evfleet.config import RoutingAlgorithm
from evfleet.errors import InputDataError, RoutingError
from evfleet.routing import (
    ChargingLeg,
    RoutingOptions,
    StationSet,
    optimize_charging_amounts,
    plan_route,
    plan_soc_route,
)
from evfleet.routing.charging_lp import evaluate_charging_amounts
from evfleet.vehicles import get_vehicle
from tests.fixtures.routing import grid_graph, toy_weights

CAP = 10.0
GRID = np.linspace(0.0, CAP, 6)  # breakpoints every 2 kWh


def _leg(
    sid: str, seconds_per_kwh: list[float], price: float, wait: float, e: float
) -> ChargingLeg:
    table = np.concatenate([[0.0], np.cumsum(np.diff(GRID) * np.asarray(seconds_per_kwh))])
    return ChargingLeg(sid, GRID, table, price, wait, e)


LEGS = [
    _leg("a", [60, 60, 80, 120, 300], 0.5, 120.0, 4.0),
    _leg("b", [40, 40, 50, 90, 400], 0.7, 60.0, 6.0),
    _leg("c", [90, 90, 90, 150, 250], 0.3, 0.0, 2.0),
]


def _brute(legs: list[ChargingLeg], start: float, first: float, reserve: float, objective: str):  # type: ignore[no-untyped-def]
    steps = np.arange(0.0, CAP + 1e-9, 1.0)
    best = None
    for amounts in itertools.product(steps, repeat=len(legs)):
        b, ok = start - first, True
        for leg, x in zip(legs, amounts, strict=True):
            if b < reserve - 1e-9 or b + x > CAP + 1e-9:
                ok = False
                break
            b = b + x - leg.energy_to_next_kwh
        if not ok or b < reserve - 1e-9:
            continue
        plan = evaluate_charging_amounts(
            legs, list(amounts), start_kwh=start, energy_to_first_kwh=first
        )
        value = plan.time_s if objective == "time" else plan.cost_usd
        best = value if best is None else min(best, value)
    return best


@pytest.mark.parametrize("objective", ["time", "cost"])
@pytest.mark.parametrize(
    ("start", "first", "reserve"), [(5.0, 2.0, 1.0), (3.0, 1.0, 0.0), (8.0, 4.0, 2.0)]
)
def test_lp_matches_brute_force(objective: str, start: float, first: float, reserve: float) -> None:
    expected = _brute(LEGS, start, first, reserve, objective)
    plan = optimize_charging_amounts(
        LEGS, start_kwh=start, energy_to_first_kwh=first, reserve_kwh=reserve,
        max_kwh=CAP, objective=objective,
    )  # fmt: skip
    got = plan.time_s if objective == "time" else plan.cost_usd
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-6)
    b = start - first
    for leg, x, a in zip(LEGS, plan.charge_kwh, plan.arrive_kwh, strict=True):
        assert a == pytest.approx(b)
        assert a >= reserve - 1e-7
        assert a + x <= CAP + 1e-7
        b = a + x - leg.energy_to_next_kwh
    assert b >= reserve - 1e-7


def test_lp_reports_infeasible_routes_and_bad_input() -> None:
    with pytest.raises(RoutingError, match="no charging amounts"):
        optimize_charging_amounts(
            [_leg("a", [60] * 5, 0.5, 0.0, 12.0)], start_kwh=5.0, energy_to_first_kwh=1.0,
            reserve_kwh=1.0, max_kwh=CAP,
        )  # fmt: skip
    with pytest.raises(InputDataError, match="objective"):
        optimize_charging_amounts(
            LEGS, start_kwh=5, energy_to_first_kwh=1, reserve_kwh=0, max_kwh=CAP, objective="x"
        )
    with pytest.raises(InputDataError, match="increasing"):
        ChargingLeg("z", GRID[::-1], GRID, 0.1, 0.0, 1.0)


def test_lp_never_worse_than_the_label_search_on_its_stops() -> None:
    graph = grid_graph(7, seed=5, spacing_m=1500.0)
    w = toy_weights(graph, battery_kwh=3.0)
    spec = get_vehicle("nissan_leaf")
    from evfleet.config import ChargingConfig
    from evfleet.fleet.charging import Tariff

    stations = StationSet.build(
        graph, spec, Tariff.from_config(ChargingConfig()), depart_clock_s=3e4
    )
    opts = RoutingOptions(reserve_soc=0.1, algorithm=RoutingAlgorithm.ASTAR)
    o, d = int(graph.node_ids[0]), int(graph.node_ids[-1])
    need = plan_route(graph, w, o, d, objective="energy", options=opts, soc_start=1.0).energy_kwh
    cap = w.context.battery_kwh
    soc = 0.1 + 0.5 * need / cap
    plan = plan_soc_route(graph, w, stations, o, d, objective="time", options=opts, soc_start=soc)
    assert plan.stops
    # legs of the route between its stops
    stop_rows = [int(graph.node_index([s.node])[0]) for s in plan.stops]
    pos = [int(np.flatnonzero(graph.edge_u[plan.edges] == r)[0]) for r in stop_rows]
    cuts = [0, *pos, len(plan.edges)]
    legs_e = [float(w.energy_kwh[plan.edges[a:b]].sum()) for a, b in itertools.pairwise(cuts)]
    grid = np.linspace(0.0, 1.0, stations.time_table_s.shape[1]) * cap
    legs = []
    for k, stop in enumerate(plan.stops):
        st = int(np.flatnonzero(stations.station_id == stop.station_id)[0])
        legs.append(
            ChargingLeg(
                stop.station_id, grid[:91:5], stations.time_table_s[st][:91:5],
                float(stations.price_usd_per_kwh[st]), float(stations.wait_s[st]), legs_e[k + 1],
            )
        )  # fmt: skip
    label = evaluate_charging_amounts(
        legs, [s.energy_kwh for s in plan.stops], start_kwh=soc * cap, energy_to_first_kwh=legs_e[0]
    )
    lp = optimize_charging_amounts(
        legs, start_kwh=soc * cap, energy_to_first_kwh=legs_e[0], reserve_kwh=0.1 * cap,
        max_kwh=0.9 * cap, objective="time",
    )  # fmt: skip
    assert lp.time_s <= label.time_s + 1e-6
