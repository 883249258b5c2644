"""Edge costs of a context: physics energy, congestion, TOU price, LRU cache, config weights."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from evfleet.config import ChargingConfig, config_from_dict
from evfleet.errors import ConfigError, RoutingError
from evfleet.fleet.charging import Tariff
from evfleet.routing import (
    EdgeCostModel,
    Objective,
    ObjectiveWeights,
    plan_route,
    simulate_route_energy,
)
from evfleet.routing.costs import recoverable_kwh_per_m
from evfleet.vehicles import get_vehicle
from tests.fixtures.routing import context, grid_graph


@pytest.fixture(scope="module")
def model() -> EdgeCostModel:
    return EdgeCostModel(grid_graph(6, seed=1), tariff=Tariff.from_config(ChargingConfig()))


def test_physics_energy_regenerates_downhill_and_costs_more_uphill(model: EdgeCostModel) -> None:
    w = model.weights(context())
    g = model.graph
    grade = g.grade
    assert np.all(np.isfinite(w.energy_kwh))
    assert np.all(w.time_s > 0)
    steep_down, steep_up = grade < -0.08, grade > 0.08
    assert steep_down.any()
    assert steep_up.any()
    assert (w.energy_kwh[steep_down] < 0).mean() > 0.5
    per_m = w.energy_kwh / g.length_m
    assert per_m[steep_up].min() > per_m[np.abs(grade) < 0.01].max()
    # the regenerated energy never exceeds the drivetrain share of the height drop
    dh = g.elevation_m[g.edge_v] - g.elevation_m[g.edge_u]
    assert g.reduced(w.energy_kwh, w.potential_kwh).min() >= -1e-12
    assert recoverable_kwh_per_m(get_vehicle("nissan_leaf")) > 0
    assert dh.size == g.n_edges


def test_rush_hour_is_slower_and_peak_energy_dearer(model: EdgeCostModel) -> None:
    night = model.weights(context(hour=3.0))
    rush = model.weights(context(hour=17.5))
    assert rush.time_s.sum() > night.time_s.sum()
    assert rush.drive_price_usd_per_kwh == pytest.approx(
        night.drive_price_usd_per_kwh * ChargingConfig().peak_multiplier
    )
    assert np.allclose(rush.cost_usd, rush.energy_kwh * rush.drive_price_usd_per_kwh)


def test_cold_weather_uses_more_energy(model: EdgeCostModel) -> None:
    mild = model.weights(context())
    cold = model.weights(replace(context(), temp_c=-5.0))
    assert cold.energy_kwh.sum() > mild.energy_kwh.sum()


def test_weights_are_cached_per_context_in_a_bounded_lru() -> None:
    graph = grid_graph(4, seed=2)
    m = EdgeCostModel(graph, tariff=Tariff.from_config(ChargingConfig()), cache_size=2)
    first = m.weights(context(hour=8.0))
    assert m.weights(context(hour=8.0)) is first
    assert m.cache_info().hits == 1
    for h in (9.0, 10.0, 11.0):
        m.weights(context(hour=h))
    assert m.cache_info().currsize == 2
    assert m.weights(context(hour=8.0)) is not first


def test_ml_energy_source_is_used_and_checked() -> None:
    graph = grid_graph(4, seed=2)
    tariff = Tariff.from_config(ChargingConfig())
    calls = []

    def source(ctx: object) -> np.ndarray:
        calls.append(ctx)
        return np.full(graph.n_edges, 0.01)

    w = EdgeCostModel(graph, tariff=tariff, energy_source=source).weights(context())
    assert w.source == "ml"
    assert np.all(w.energy_kwh == 0.01)
    assert len(calls) == 1
    # the model replaces only the energy: times are the physics model's expected times
    physics = EdgeCostModel(graph, tariff=tariff).weights(context())
    np.testing.assert_array_equal(w.time_s, physics.time_s)
    bad = EdgeCostModel(graph, tariff=tariff, energy_source=lambda c: np.full(3, 0.1))
    with pytest.raises(RoutingError, match="energy_kwh needs"):
        bad.weights(context())


def test_route_reevaluated_with_simulator_physics(model: EdgeCostModel) -> None:
    w = model.weights(context())
    g = model.graph
    edges = plan_route(g, w, g.node_ids[0], g.node_ids[-1], objective="time").edges
    first = simulate_route_energy(model.net, context(), edges, seed=3)
    assert first == simulate_route_energy(model.net, context(), edges, seed=3)
    # a real drive (start, stops, warm-up) costs more than the expectation, not wildly more
    planned, km = w.energy_kwh[edges].sum(), g.length_m[edges].sum() / 1000
    assert planned < first < planned + 0.05 * km
    assert simulate_route_energy(model.net, context(), edges[:0]) == 0.0


def test_objective_coefficients_follow_the_config_weights() -> None:
    opt = config_from_dict(
        {"optimization": {"alpha": 12.0, "beta": 0.5, "price_weight": 2.0}}
    ).optimization
    wts = ObjectiveWeights.from_config(opt)
    assert (opt.time_penalty_kwh_per_h, opt.energy_weight, opt.price_weight_kwh_per_usd) == (
        12.0,
        0.5,
        2.0,
    )
    assert wts.coefficients(Objective.WEIGHTED) == (0.5, 12.0 / 3600, 2.0)
    assert wts.coefficients(Objective.TIME) == (0.0, 1.0, 0.0)
    with pytest.raises(ConfigError, match="either 'alpha'"):
        config_from_dict({"optimization": {"alpha": 1.0, "time_penalty_kwh_per_h": 2.0}})
    with pytest.raises(ConfigError, match="time_penalty_kwh_per_h"):
        config_from_dict({"optimization": {"time_penalty_kwh_per_h": -1.0}})
    dumped = config_from_dict({"optimization": {"alpha": 3.0}}).to_dict()["optimization"]
    assert "alpha" not in dumped
    assert dumped["time_penalty_kwh_per_h"] == 3.0
    assert pd.Timestamp(context().departure).hour == 10
