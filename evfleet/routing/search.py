"""Route searches on edge weights: single objective, and SOC-aware with charging stops.

* :func:`plan_route` — least time / energy / cost / weighted objective (Dijkstra, A* or
  the contraction hierarchy on potential-reduced weights, so regeneration keeps the
  search exact). The energy objective respects the battery bounds exactly: a full
  battery wastes regeneration and the SOC never drops below the reserve (one label per
  node, the most charge); the hierarchy answers it when the bounds do not bind on its
  least-energy path (then that path is optimal under them too), else the bounded search.
* :func:`plan_soc_route` — search over (node, charge) labels with charging actions at
  station nodes (several stations per node; taper, queue and TOU price per stop).
* :func:`plan_trip` — the first without charging when the battery allows, else the second.

The label tables and backward bounds here also serve :mod:`evfleet.routing.pareto`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from evfleet.config import RoutingAlgorithm
from evfleet.errors import RoutingError
from evfleet.features.build import fractional_hour
from evfleet.network import RoadGraph, _hierarchy, _kernels, _labels, _pairs
from evfleet.network.graph import PreparedWeight
from evfleet.routing.costs import EdgeWeights, Objective
from evfleet.routing.plans import (
    ChargingStop,
    InfeasibleRouteError,
    RoutePlan,
    RoutingOptions,
    check_soc,
)
from evfleet.routing.stations import StationSet
from evfleet.units import HOUR_S

TIE_BREAK_PER_S: Final = 1e-9
"""Objective units per second added when an objective ignores time, so that among
plans of equal energy (or cost) the search returns the one with the least charging."""
_DEFAULT_OPTIONS: Final = RoutingOptions()
_NO_POTENTIAL: Final = np.empty(0)
_NO_LANDMARKS: Final = (np.empty((0, 0)), np.empty((0, 0)))


def _battery(w: EdgeWeights, soc_start: float, opts: RoutingOptions) -> tuple[float, float, float]:
    check_soc(soc_start)
    cap = w.context.battery_kwh
    return soc_start * cap, opts.reserve_soc * cap, cap


def _plan(
    graph: RoadGraph,
    w: EdgeWeights,
    src_id: int,
    edges: NDArray[np.int64],
    objective: Objective,
    opts: RoutingOptions,
    b0: float,
    stops: tuple[ChargingStop, ...] = (),
    soc_min: float | None = None,
    *,
    bounded: bool = True,
    totals: NDArray[np.float64] | None = None,
) -> RoutePlan:
    """The plan of a path: totals from :func:`_pairs.path_totals` (given or computed).

    Without stops a full battery wastes regeneration (unless not ``bounded``); with
    stops the energies add up and ``soc_min`` comes from the labels.
    """
    cap = w.context.battery_kwh
    if totals is None:
        b_max = cap if bounded and not stops else np.inf
        totals = _pairs.path_totals(edges, w.time_s, w.energy_kwh, graph.length_m, b0, b_max)
    drive_s, length_m, energy, b_end, b_low = totals.tolist()
    charged = 0.0
    stop_s = 0.0
    stop_usd = 0.0
    if stops:
        for s in stops:
            charged += s.energy_kwh
            stop_s += 60.0 * s.minutes
            stop_usd += s.cost_usd
        b_end = b0 - energy + charged
    else:
        soc_min = b_low / cap
    time_s = drive_s + stop_s
    cost = w.drive_price_usd_per_kwh * (energy - charged) + stop_usd
    a_e, a_t, a_c = opts.weights.coefficients(objective)
    nodes = np.empty(len(edges) + 1, dtype=np.int64)
    nodes[0] = src_id
    nodes[1:] = graph.head_ids[edges]
    return RoutePlan(
        objective=objective.value,
        nodes=nodes,
        edges=edges,
        distance_km=length_m / 1000.0,
        time_min=time_s / 60.0,
        energy_kwh=energy,
        cost_usd=cost,
        soc_start=b0 / cap,
        soc_end=b_end / cap,
        objective_value=a_e * energy + a_t * time_s + a_c * cost,
        stops=stops,
        soc_min=float(soc_min if soc_min is not None else min(b0, b_end) / cap),
    )


def plan_route(
    graph: RoadGraph,
    w: EdgeWeights,
    orig: int,
    dest: int,
    *,
    objective: Objective | str = Objective.ENERGY,
    options: RoutingOptions | None = None,
    soc_start: float = 1.0,
) -> RoutePlan:
    """Least-objective route between two node ids without charging.

    The energy objective is exact under the battery bounds (the SOC never drops below
    the reserve, regeneration is lost when full); other objectives minimise the
    additive objective (bidirectional Dijkstra, A* or the contraction hierarchy) and raise
    :class:`InfeasibleRouteError` when the result would drop below the reserve (use
    :func:`plan_soc_route`). One compiled call searches, walks the path and sums it.
    """
    opts = options or _DEFAULT_OPTIONS
    if objective.__class__ is not Objective:
        objective = Objective(objective)
    b0, b_min, cap = _battery(w, soc_start, opts)
    src, dst = graph.node_row(orig), graph.node_row(dest)
    by_energy = objective is Objective.ENERGY
    a_e, a_t, _ = (1.0, 0.0, 0.0) if by_energy else w.kernel_coefficients(objective, opts.weights)
    prepared = w.prepared(graph, a_e, a_t)
    battery = (b0, b_min, cap)
    if opts.algorithm is RoutingAlgorithm.CH:
        found, edges, totals, clean = _hierarchy.route_pair(
            graph.hierarchy.arrays,
            graph.customised(prepared),
            src,
            dst,
            battery,
            (w.time_s, w.energy_kwh, graph.length_m),
            graph.pair_work(),
        )
        if found and by_energy and not clean:
            # the battery bounds bind on the least-energy path: search under them
            found, edges, totals = _search_pair(graph, w, prepared, src, dst, battery, by_energy)
    else:
        found, edges, totals = _search_pair(
            graph, w, prepared, src, dst, battery, by_energy,
            astar=opts.algorithm is RoutingAlgorithm.ASTAR,
        )  # fmt: skip
    if not found:
        if by_energy:
            raise _diagnose(graph, w, src, dst, b0, b_min, cap, StationSet.empty(graph.n_nodes))
        msg = f"no route from node {orig} to node {dest}"
        raise RoutingError(msg)
    plan = _plan(graph, w, orig, edges, objective, opts, b0, totals=totals)
    if plan.soc_min < opts.reserve_soc - 1e-12:
        msg = (
            f"the {objective.value}-optimal route drops to SOC {plan.soc_min:.3f}, below the "
            f"reserve {opts.reserve_soc:.3f}: plan it with charging stops (plan_soc_route)"
        )
        raise InfeasibleRouteError(msg)
    return plan


def _search_pair(
    graph: RoadGraph,
    w: EdgeWeights,
    prepared: PreparedWeight,
    src: int,
    dst: int,
    battery: tuple[float, float, float],
    by_energy: bool,
    *,
    astar: bool = False,
) -> tuple[bool, NDArray[np.int64], NDArray[np.float64]]:
    """One pair on the road graph (:func:`evfleet.network._pairs.route_pair`): the energy
    objective under the battery bounds, others bidirectional, or A* with landmarks."""
    rev_indptr, rev_tails, rev_edge = graph.reverse_csr
    return _pairs.route_pair(
        graph.indptr,
        graph.indices,
        graph.slot_edge,
        w.slot_energy_kwh(graph) if by_energy else prepared.slot_cost,
        (rev_indptr, rev_tails, rev_edge, prepared.rev_slot_cost),
        (graph.edge_u, graph.edge_v),
        w.potential_kwh if by_energy else _NO_POTENTIAL,
        graph.x_m,
        graph.y_m,
        prepared.hk if astar else 0.0,
        graph.landmarks(prepared) if astar else _NO_LANDMARKS,
        src,
        dst,
        battery,
        by_energy,
        (w.time_s, w.energy_kwh, graph.length_m),
        graph.pair_work(),
    )


def plan_soc_route(
    graph: RoadGraph,
    w: EdgeWeights,
    stations: StationSet,
    orig: int,
    dest: int,
    *,
    objective: Objective | str = Objective.TIME,
    options: RoutingOptions | None = None,
    soc_start: float,
) -> RoutePlan:
    """Least-objective route with charging stops where the battery needs them.

    Labels carry (node, charge); at a station node a label may charge to any multiple of
    ``charge_step_soc`` up to ``max_charge_soc`` at each station there. Time includes
    the expected queue and the tapered charging time; cost the TOU station price. The
    SOC never drops below the reserve and no node repeats on the route.
    """
    opts = options or RoutingOptions()
    objective = Objective(objective)
    b0, b_min, cap = _battery(w, soc_start, opts)
    src, dst = (int(r) for r in graph.node_index([orig, dest]))
    a_e, a_t, a_c = w.kernel_coefficients(objective, opts.weights)
    a_t = a_t or TIE_BREAK_PER_S
    lab_f, lab_i, targets, status = _run_labels(
        graph, w, stations, src, dst, (a_e, a_t, a_c), (b0, b_min, cap), opts, 0.0, False
    )
    if status == 2:
        msg = f"the SOC-aware search exceeded {opts.max_labels:,} labels"
        raise RoutingError(msg)
    if targets.size == 0:
        raise _diagnose(graph, w, src, dst, b0, b_min, cap, stations)
    edges, stop_labels = _labels.label_path(lab_i, int(targets[0]))
    stops = tuple(_stop(graph, stations, lab_f, lab_i, int(k), cap) for k in stop_labels)
    soc_min = _soc_min_with_stops(lab_f, lab_i, int(targets[0]), cap)
    return _plan(graph, w, orig, edges, objective, opts, b0, stops, soc_min)


def _run_labels(
    graph: RoadGraph,
    w: EdgeWeights,
    stations: StationSet,
    src: int,
    dst: int,
    coef: tuple[float, float, float],
    battery: tuple[float, float, float],
    opts: RoutingOptions,
    eps: float,
    all_targets: bool,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], int]:
    cap = battery[2]
    bounds = _bounds(graph, w, stations, dst, pareto=all_targets)
    astar = opts.algorithm is not RoutingAlgorithm.DIJKSTRA
    reach = np.isfinite(bounds.time_to_go)
    h = np.full(graph.n_nodes, np.inf)
    h[reach] = (coef[0] * bounds.energy_to_go[reach] + coef[1] * bounds.time_to_go[reach]) * astar
    peak_a, peak_b = opts.peak_hours
    charging = np.array(
        [
            opts.charge_step_soc * cap if math.isfinite(cap) else 1.0,
            opts.max_charge_soc * cap if math.isfinite(cap) else 0.0,
            opts.charging_efficiency,
            fractional_hour(w.context.departure) * HOUR_S,
            peak_a * HOUR_S,
            peak_b * HOUR_S,
            opts.peak_multiplier,
        ]
    )
    return _labels.label_search(
        graph.indptr,
        graph.indices,
        graph.slot_edge,
        w.slot_energy_kwh(graph),
        w.time_s[graph.slot_edge],
        w.potential_kwh,
        h,
        bounds.energy_to_go,
        src,
        dst,
        np.array([*coef, w.drive_price_usd_per_kwh]),
        np.array(battery, dtype=float),
        stations.indptr,
        stations.price_usd_per_kwh,
        stations.wait_s,
        stations.time_table_s,
        charging,
        bounds.need_any,
        bounds.charge_need,
        eps,
        all_targets,
        opts.max_labels,
    )


@dataclass(frozen=True)
class _Bounds:
    """Per-node bounds from backward searches (``inf``: the target is unreachable).

    ``time_to_go`` / ``energy_to_go``: least time and least reduced energy to the target
    (exact, consistent A* bounds); ``need_any``: a lower bound of the battery needed to
    reach the target or a station (the least energy to any, at least 0), so dropping
    labels below it is safe; ``charge_need``: the drawdown of the fastest and of the
    least-energy path to the target (charging beyond that only adds time and cost).
    """

    time_to_go: NDArray[np.float64]
    energy_to_go: NDArray[np.float64]
    need_any: NDArray[np.float64]
    charge_need: NDArray[np.float64]


def _bounds(
    graph: RoadGraph, w: EdgeWeights, stations: StationSet, dst: int, *, pareto: bool
) -> _Bounds:
    target = np.array([dst], dtype=np.int64)
    energy, reduced, phi = w.energy_kwh, w.reduced_energy_kwh, w.potential_kwh
    fast, _, time_to_go = graph.need_to_reach(target, w.time_s, energy)
    frugal, _, energy_to_go = graph.need_to_reach(target, reduced, energy)
    if pareto:
        n = graph.n_nodes
        return _Bounds(time_to_go, energy_to_go, np.zeros(n), np.full(n, np.inf))
    sources = np.unique(np.concatenate([target, stations.node_row]))
    _, least, _ = graph.need_to_reach(sources, reduced, energy, init=phi[sources])
    return _Bounds(time_to_go, energy_to_go, np.maximum(least, 0.0), np.maximum(fast, frugal))


def _stop(
    graph: RoadGraph,
    stations: StationSet,
    lab_f: NDArray[np.float64],
    lab_i: NDArray[np.int64],
    k: int,
    cap: float,
) -> ChargingStop:
    st = int(lab_i[k, _labels.I_STATION])
    return ChargingStop(
        station_id=str(stations.station_id[st]),
        kind=str(stations.kind[st]),
        node=int(graph.node_ids[stations.node_row[st]]),
        power_kw=float(stations.power_kw[st]),
        arrival_soc=float(lab_f[k, _labels.F_ARRIVE_B] / cap),
        departure_soc=float(lab_f[k, _labels.F_B] / cap),
        energy_kwh=float(lab_f[k, _labels.F_STOP_KWH]),
        minutes=float(lab_f[k, _labels.F_STOP_S] / 60.0),
        wait_min=float(stations.wait_s[st] / 60.0),
        cost_usd=float(lab_f[k, _labels.F_STOP_USD]),
    )


def _soc_min_with_stops(
    lab_f: NDArray[np.float64],
    lab_i: NDArray[np.int64],
    last: int,
    cap: float,
) -> float:
    """Lowest SOC along a label path (the battery of every label on it)."""
    lowest = math.inf
    k = last
    while k >= 0:
        lowest = min(lowest, float(lab_f[k, _labels.F_ARRIVE_B]), float(lab_f[k, _labels.F_B]))
        k = int(lab_i[k, _labels.I_PRED])
    return lowest / cap


def _diagnose(
    graph: RoadGraph,
    w: EdgeWeights,
    src: int,
    dst: int,
    b0: float,
    b_min: float,
    cap: float,
    stations: StationSet,
) -> RoutingError:
    """The error that says why no route keeps the battery above the reserve."""
    ids = graph.node_ids
    free, _ = _kernels.battery_route(
        graph.indptr, graph.indices, graph.slot_edge, w.slot_energy_kwh(graph),
        w.potential_kwh, graph.x_m, graph.y_m, 0.0, src, dst, 0.0, -np.inf, np.inf,
    )  # fmt: skip
    if not np.isfinite(free[dst]):
        return RoutingError(f"no route from node {ids[src]} to node {ids[dst]}")
    need = -float(free[dst])
    soc_needed = (need + b_min) / cap
    base = (
        f"infeasible: the trip needs at least {need:.2f} kWh, i.e. a start SOC of "
        f"{soc_needed:.3f} to keep the reserve SOC {b_min / cap:.3f}, but it starts at "
        f"SOC {b0 / cap:.3f}"
    )
    if len(stations) == 0:
        return InfeasibleRouteError(f"{base}, and no charging station is available")
    reach, _ = _kernels.battery_route(
        graph.indptr, graph.indices, graph.slot_edge, w.slot_energy_kwh(graph),
        w.potential_kwh, graph.x_m, graph.y_m, 0.0, src, -1, b0, b_min, cap,
    )  # fmt: skip
    if not np.isfinite(reach[stations.node_row]).any():
        return InfeasibleRouteError(
            f"{base}, and no charging station is reachable above the reserve"
        )
    return InfeasibleRouteError(
        f"{base}; stations are reachable but no charging plan (up to the configured "
        "max_charge_soc) reaches the destination above the reserve"
    )


def plan_trip(
    graph: RoadGraph,
    w: EdgeWeights,
    stations: StationSet,
    orig: int,
    dest: int,
    *,
    objective: Objective | str,
    options: RoutingOptions | None = None,
    soc_start: float,
) -> RoutePlan:
    """The best route without charging if the battery allows it, else with stops.

    The answer without stops is kept only when the SOC-aware search cannot beat it:
    the first search is exact for its objective under the battery bounds (energy) or
    at least feasible (others); when it is infeasible the SOC-aware search plans stops.
    """
    try:
        return plan_route(
            graph, w, orig, dest, objective=objective, options=options, soc_start=soc_start
        )
    except InfeasibleRouteError:
        return plan_soc_route(
            graph, w, stations, orig, dest, objective=objective, options=options,
            soc_start=soc_start,
        )  # fmt: skip
