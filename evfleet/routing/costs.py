"""Edge costs of a road network for one trip context: time, energy, price, objectives.

:class:`EdgeCostModel` turns a :class:`~evfleet.features.PredictionContext` (vehicle,
departure date-time, weather, driving style) into :class:`EdgeWeights`, arrays over all
edges computed with array operations only and kept in a bounded LRU
(:func:`functools.lru_cache`) keyed on the hashable part of the context.

Catalogue of the per-edge quantities:

============  =====  ==========================================================
name          unit   definition
============  =====  ==========================================================
time_s        s      length / expected speed + expected stop time; expected speed
                     = speed limit x rush-hour congestion of the road class at the
                     departure hour (:func:`evfleet.features.build.expected_speed_kph`,
                     the simulator's curve) x the style's cruise factor x mean spread;
                     stop time = P(stop at the edge end) x (mean dwell + the time
                     lost braking and accelerating)
energy_kwh    kWh    physics: the simulator's on-road energy model
                     (:func:`evfleet.physics.steady_state_kwh_per_100km` with
                     on-road conditions: temperature, humidity, sun, wet road, cabin
                     and tyre warm-up) at the expected speed, grade and head wind,
                     plus P(stop) x the kinetic energy a stop loses and the
                     auxiliary load while waiting; ml: the champion model's
                     prediction. Negative on descents (regeneration)
cost_usd      USD    energy_kwh x the depot (home) TOU price at departure
potential     kWh    per node; makes ``energy - phi[v] + phi[u] >= 0`` on every edge
============  =====  ==========================================================
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evfleet.config import OptimizationConfig, SocObjective
from evfleet.errors import RoutingError
from evfleet.features.build import expected_speed_kph, fractional_hour
from evfleet.features.network import PredictionContext
from evfleet.fleet.charging import Tariff
from evfleet.fleet.road_arrays import NetArrays
from evfleet.models import EnergyModel, predict_network
from evfleet.network import RoadGraph
from evfleet.network.graph import PreparedWeight
from evfleet.physics import (
    STYLES,
    Conditions,
    DrivingStyle,
    solar_irradiance_w_m2,
    steady_state_kwh_per_100km,
)
from evfleet.physics.model import GRAVITY_MPS2
from evfleet.physics.onroad import ON_ROAD_AUX_EXTRA_W
from evfleet.physics.roads import DWELL_RANGE_S, STOP_PROBABILITY
from evfleet.units import HOUR_S, J_PER_KWH, KPH_PER_MPS
from evfleet.vehicles import VehicleSpec, get_vehicle

Objective = SocObjective
"""Route objectives: energy, time, cost, weighted (the config's enum)."""

MAX_HEADWIND_MPS: Final = 59.0
DEFAULT_CACHE_SIZE: Final = 16
EnergySource = Callable[[PredictionContext], NDArray[np.float64]]


@dataclass(frozen=True)
class ObjectiveWeights:
    """Weights of the ``weighted`` objective (see :class:`evfleet.config.OptimizationConfig`).

    ``J [kWh] = energy_weight * kWh + time_penalty_kwh_per_h * h
    + price_weight_kwh_per_usd * USD``.
    """

    energy_weight: float = 1.0
    time_penalty_kwh_per_h: float = 1.0
    price_weight_kwh_per_usd: float = 1.0

    @classmethod
    def from_config(cls, opt: OptimizationConfig) -> ObjectiveWeights:
        """The weights of an ``optimization`` config section."""
        return cls(opt.energy_weight, opt.time_penalty_kwh_per_h, opt.price_weight_kwh_per_usd)

    def coefficients(self, objective: Objective) -> tuple[float, float, float]:
        """``(per kWh of driving energy, per s, per USD)`` of an objective."""
        if objective == Objective.ENERGY:
            return 1.0, 0.0, 0.0
        if objective == Objective.TIME:
            return 0.0, 1.0, 0.0
        if objective == Objective.COST:
            return 0.0, 0.0, 1.0
        Objective(objective)  # a ValueError for an unknown objective
        return (
            self.energy_weight,
            self.time_penalty_kwh_per_h / HOUR_S,
            self.price_weight_kwh_per_usd,
        )


@dataclass(frozen=True)
class EdgeWeights:
    """Per-edge time, energy and price of one context, and the node potential.

    Attributes
    ----------
    time_s, energy_kwh
        Expected time and battery energy per edge (index = edge index).
    potential_kwh
        Node potential of ``energy_kwh`` (reduced energies are >= 0).
    drive_price_usd_per_kwh
        Price of the battery energy used while driving (depot TOU price at departure).
    context
        The context the weights are for.
    source
        ``"physics"`` or ``"ml"``.
    """

    time_s: NDArray[np.float64]
    energy_kwh: NDArray[np.float64]
    potential_kwh: NDArray[np.float64]
    drive_price_usd_per_kwh: float
    context: PredictionContext
    source: str
    reduced_energy_kwh: NDArray[np.float64]
    _prepared: dict[tuple[float, float], PreparedWeight] = field(
        default_factory=dict, repr=False, compare=False
    )
    _slot_energy: list[NDArray[np.float64]] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def from_arrays(
        cls,
        graph: RoadGraph,
        *,
        time_s: NDArray[np.float64],
        energy_kwh: NDArray[np.float64],
        context: PredictionContext,
        drive_price_usd_per_kwh: float,
        source: str,
        recoverable_per_m: float | None = None,
    ) -> EdgeWeights:
        """Weights from given per-edge arrays (checked; the potential is computed here)."""
        time_s = np.asarray(time_s, dtype=np.float64)
        energy = np.asarray(energy_kwh, dtype=np.float64)
        for name, arr in (("time_s", time_s), ("energy_kwh", energy)):
            if arr.shape != (graph.n_edges,) or not np.all(np.isfinite(arr)):
                msg = f"{name} needs {graph.n_edges} finite values, got shape {arr.shape}"
                raise RoutingError(msg)
        if np.any(time_s < 0):
            msg = "edge times must be >= 0"
            raise RoutingError(msg)
        phi = graph.potential(energy, per_m=recoverable_per_m)
        return cls(
            time_s=time_s,
            energy_kwh=energy,
            potential_kwh=phi,
            drive_price_usd_per_kwh=float(drive_price_usd_per_kwh),
            context=context,
            source=source,
            reduced_energy_kwh=np.maximum(graph.reduced(energy, phi), 0.0),
        )

    @property
    def cost_usd(self) -> NDArray[np.float64]:
        """Price of each edge's energy, USD (negative where it regenerates)."""
        return np.asarray(self.energy_kwh * self.drive_price_usd_per_kwh, dtype=np.float64)

    def kernel_coefficients(
        self, objective: Objective, weights: ObjectiveWeights
    ) -> tuple[float, float, float]:
        """``(a_energy, a_time, a_cost)`` with the driving cost folded into ``a_energy``."""
        a_e, a_t, a_c = weights.coefficients(objective)
        return a_e + a_c * self.drive_price_usd_per_kwh, a_t, a_c

    def slot_energy_kwh(self, graph: RoadGraph) -> NDArray[np.float64]:
        """``energy_kwh`` per CSR slot of ``graph`` (gathered once, for the searches)."""
        if not self._slot_energy:
            self._slot_energy.append(self.energy_kwh[graph.slot_edge])
        return self._slot_energy[0]

    def prepared(self, graph: RoadGraph, a_energy: float, a_time: float) -> PreparedWeight:
        """Non-negative search weight ``a_energy * reduced energy + a_time * time`` (cached)."""
        key = (a_energy, a_time)
        if key not in self._prepared:
            cost = a_energy * self.reduced_energy_kwh + a_time * self.time_s
            self._prepared[key] = graph.prepare(cost)
        return self._prepared[key]


@dataclass(frozen=True)
class _ContextKey:
    """The hashable part of a context (NaN history values as None), for the LRU."""

    values: tuple[object, ...]
    context: PredictionContext = field(compare=False, hash=False)

    @classmethod
    def of(cls, ctx: PredictionContext) -> _ContextKey:
        plain = tuple(getattr(ctx, f.name) for f in dataclasses.fields(ctx) if f.name != "history")
        hist = tuple(
            (k, None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in sorted(ctx.history.items())
        )
        return cls((*plain, hist), ctx)


class EdgeCostModel:
    """Edge weights of one road network for any context, cached per context.

    Parameters
    ----------
    graph
        The routing core.
    tariff
        TOU prices (:meth:`evfleet.fleet.charging.Tariff.from_config`).
    energy_source
        ``None``: the physics model; else a function returning per-edge kWh for a
        context (e.g. the champion model's :func:`evfleet.models.predict_network`).
    cache_size
        Contexts kept in the LRU.
    """

    def __init__(
        self,
        graph: RoadGraph,
        *,
        tariff: Tariff,
        energy_source: EnergySource | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.graph = graph
        self.tariff = tariff
        self.energy_source = energy_source
        self.net = NetArrays.of(graph)
        self._highway = pd.Categorical.from_codes(graph.highway_code, graph.highway_classes)
        self._cached = functools.lru_cache(maxsize=cache_size)(self._compute)

    def weights(self, context: PredictionContext) -> EdgeWeights:
        """Edge weights of ``context`` (computed once per distinct context)."""
        return self._cached(_ContextKey.of(context))

    def cache_info(self) -> functools._CacheInfo:
        """Hits, misses and size of the context cache."""
        return self._cached.cache_info()

    def _compute(self, key: _ContextKey) -> EdgeWeights:
        ctx = key.context
        spec = dataclasses.replace(get_vehicle(ctx.model), test_mass_kg=ctx.mass_kg)
        if self.energy_source is None:
            time_s, energy = physics_edge_costs(self.net, self._highway, spec, ctx)
            source = "physics"
        else:  # the model gives the energy: only the expected times are needed
            time_s = expected_drive(self.net, self._highway, ctx).time_s
            energy, source = self.energy_source(ctx), "ml"
        depart_clock = fractional_hour(pd.Timestamp(ctx.departure)) * HOUR_S
        return EdgeWeights.from_arrays(
            self.graph,
            time_s=time_s,
            energy_kwh=energy,
            context=ctx,
            drive_price_usd_per_kwh=float(self.tariff.price("home", depart_clock)),
            source=source,
            recoverable_per_m=recoverable_kwh_per_m(spec),
        )


def model_energy_source(model: EnergyModel, edges: pd.DataFrame) -> EnergySource:
    """Per-edge kWh of a fitted energy model (e.g. the MLflow champion) for any context.

    ``edges`` is :func:`evfleet.features.network_edges` of the routed network (built
    once); each call is :func:`evfleet.models.predict_network`, the ``evfleet predict``
    path, including the context's calibration factor.
    """

    def source(ctx: PredictionContext) -> NDArray[np.float64]:
        return np.asarray(predict_network(model, edges, ctx)["energy_kwh"], dtype=np.float64)

    return source


def drivetrain_efficiency(spec: VehicleSpec) -> float:
    """Best battery-to-wheel efficiency of the drivetrain (motor peak x transmission)."""
    return float(max(spec.motor_efficiency) * spec.transmission_efficiency)


def recoverable_kwh_per_m(spec: VehicleSpec) -> float:
    """Upper bound of the energy regenerated per metre of descent, kWh/m.

    Regeneration returns at most the drivetrain efficiency of ``m g dh``; every other
    term (rolling, aero, auxiliaries) only costs energy, so ``energy >= k * dh`` on
    every edge and ``k * elevation`` is a valid potential (checked on use).
    """
    return spec.test_mass_kg * GRAVITY_MPS2 * drivetrain_efficiency(spec) / J_PER_KWH


@dataclass(frozen=True)
class ExpectedDrive:
    """How an edge is expected to be driven under a context (the simulator's rules)."""

    hour: float
    """Departure clock, fractional hours."""
    speed_kph: NDArray[np.float64]
    """Expected cruise speed per edge (congestion and driving style)."""
    p_stop: NDArray[np.float64]
    """Odds of stopping at the edge's end node."""
    dwell_s: NDArray[np.float64]
    """Mean wait when stopping there."""
    time_s: NDArray[np.float64]
    """Expected travel time per edge, stops included."""


def expected_drive(
    net: NetArrays, highway: pd.Categorical, ctx: PredictionContext
) -> ExpectedDrive:
    """Expected speed, stops and time of every edge under ``ctx`` (no energy)."""
    dep = pd.Timestamp(ctx.departure)
    hour = fractional_hour(dep)
    style = STYLES[DrivingStyle(ctx.driving_style)]
    speed_kph = expected_speed_kph(net.speed_kph, highway, hour, dep.weekday() >= 5)
    speed_kph = speed_kph * style.cruise_factor * (1.0 - 0.5 * style.speed_spread)
    v = speed_kph / KPH_PER_MPS
    p_stop = STOP_PROBABILITY[net.road_class, net.control]
    dwell_s = DWELL_RANGE_S[net.control].mean(axis=1)
    lost_s = v / (2.0 * style.accel_mps2) + v / (2.0 * style.decel_mps2)
    time_s = net.length_m / v + p_stop * (dwell_s + lost_s)
    return ExpectedDrive(
        hour=hour,
        speed_kph=np.asarray(speed_kph, dtype=np.float64),
        p_stop=np.asarray(p_stop, dtype=np.float64),
        dwell_s=np.asarray(dwell_s, dtype=np.float64),
        time_s=np.asarray(time_s, dtype=np.float64),
    )


def physics_edge_costs(
    net: NetArrays, highway: pd.Categorical, spec: VehicleSpec, ctx: PredictionContext
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Expected time (s) and battery energy (kWh) of every edge under ``ctx``."""
    drive = expected_drive(net, highway, ctx)
    hour, speed_kph, p_stop, dwell_s = drive.hour, drive.speed_kph, drive.p_stop, drive.dwell_s
    v = speed_kph / KPH_PER_MPS
    angle = np.radians(ctx.wind_from_deg - net.bearing_deg)
    headwind = np.clip(ctx.wind_kph / 3.6 * np.cos(angle), -MAX_HEADWIND_MPS, MAX_HEADWIND_MPS)
    conditions = Conditions(
        temp_c=ctx.temp_c,
        relative_humidity=min(max(ctx.humidity_pct / 100.0, 0.0), 1.0),
        on_road=True,
        solar_w_m2=float(solar_irradiance_w_m2(hour, raining=ctx.is_raining)),
        wet_road=float(ctx.is_raining),
        trip_time_s=ctx.trip_elapsed_min * 60.0,
        parked_s=ctx.parked_h * HOUR_S,
    )
    per_100km = steady_state_kwh_per_100km(
        spec, speed_kph, grade=net.grade, headwind_mps=headwind, conditions=conditions
    )
    eff = drivetrain_efficiency(spec)
    kinetic_kwh = 0.5 * spec.test_mass_kg * spec.rotating_mass_factor * v**2 / J_PER_KWH
    aux_kw = (spec.aux_w + ON_ROAD_AUX_EXTRA_W) / 1000.0
    stop_kwh = p_stop * (kinetic_kwh * (1.0 / eff - eff) + aux_kw * dwell_s / HOUR_S)
    energy = per_100km * net.length_m / 1e5 + stop_kwh
    return drive.time_s, np.asarray(energy, dtype=np.float64)
