"""Routing on the real SF extract: physics weights, exact regen energy vs Bellman-Ford, stops."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from evfleet.config import ChargingConfig, NetworkConfig, RoutingAlgorithm
from evfleet.features import context_for_vehicle
from evfleet.fleet.charging import Tariff
from evfleet.network import RoadGraph, build_network, save_network
from evfleet.routing import (
    EdgeCostModel,
    InfeasibleRouteError,
    RoutingOptions,
    StationSet,
    plan_route,
    plan_soc_route,
)
from evfleet.vehicles import get_vehicle

pytestmark = [pytest.mark.slow, pytest.mark.data]


@pytest.fixture(scope="module")
def sf(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> RoadGraph:
    cfg = NetworkConfig(
        source="osm_file", osm_file=shared_data / "osm" / "sf_north_filtered.osm.bz2"
    )
    folder = tmp_path_factory.mktemp("sf")
    save_network(build_network(cfg), folder)
    return RoadGraph.load(folder)


def test_sf_energy_routes_are_exact_and_soc_routes_stop(sf: RoadGraph) -> None:
    tariff = Tariff.from_config(ChargingConfig())
    ctx = context_for_vehicle(
        "nissan_leaf", departure=pd.Timestamp("2024-01-15 08:00"), temp_c=12.0
    )
    w = EdgeCostModel(sf, tariff=tariff).weights(ctx)
    assert (w.energy_kwh < 0).any()
    oracle = nx.DiGraph()
    for k in np.argsort(-w.energy_kwh):  # parallel edges: keep the cheapest
        oracle.add_edge(
            int(sf.node_ids[sf.edge_u[k]]), int(sf.node_ids[sf.edge_v[k]]), e=w.energy_kwh[k]
        )
    opts = RoutingOptions(algorithm=RoutingAlgorithm.ASTAR, reserve_soc=0.1)
    stations = StationSet.build(sf, get_vehicle(ctx.model), tariff, depart_clock_s=8 * 3600.0)
    rng = np.random.default_rng(7)
    stopped = 0
    unreachable: list[str] = []
    for o, d in rng.choice(sf.node_ids, (30, 2)):
        plan = plan_route(sf, w, o, d, objective="energy", options=opts, soc_start=0.5)
        expected = nx.bellman_ford_path_length(oracle, int(o), int(d), weight="e")
        assert plan.energy_kwh == pytest.approx(expected, abs=1e-9)
        if plan.energy_kwh > 0.2:
            soc = 0.1 + 0.5 * plan.energy_kwh / ctx.battery_kwh
            try:
                low = plan_soc_route(
                    sf, w, stations, o, d, objective="time", options=opts, soc_start=soc
                )
            except InfeasibleRouteError as exc:  # a station must be within half the trip
                unreachable.append(str(exc))
                continue
            assert low.stops
            assert low.soc_min >= 0.1 - 1e-9
            stopped += 1
    assert stopped >= 3
    assert all("no charging station is reachable" in m for m in unreachable)
