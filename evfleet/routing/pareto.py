"""Pareto sets of (time, energy) routes, and which of them a weighted sum can find."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from evfleet.errors import RoutingError
from evfleet.network import RoadGraph, _labels
from evfleet.routing.costs import EdgeWeights, Objective
from evfleet.routing.plans import RoutePlan, RoutingOptions, check_soc
from evfleet.routing.search import _plan, _run_labels
from evfleet.routing.stations import StationSet


def pareto_routes(
    graph: RoadGraph,
    w: EdgeWeights,
    orig: int,
    dest: int,
    *,
    options: RoutingOptions | None = None,
    epsilon: float | None = None,
    soc_start: float = 1.0,
) -> list[RoutePlan]:
    """Non-dominated (time, energy) routes, fastest first.

    Exact (label-setting with dominance pruning) when the network has at most
    ``pareto_exact_max_nodes`` nodes, otherwise with ε-dominance (``pareto_epsilon``:
    a label is dropped when a settled one has no more time and at most ``1 + ε`` times
    its reduced energy; the error can compound along a path). Battery bounds are not
    applied (the set spans the trade-off; energies are additive, SOC may read above 1
    where a full battery would waste regeneration); each route's ``supported`` flag says whether
    a weighted sum of time and energy can find it (lower convex hull).
    """
    opts = options or RoutingOptions()
    check_soc(soc_start)
    src, dst = (int(r) for r in graph.node_index([orig, dest]))
    if epsilon is None:
        exact = graph.n_nodes <= opts.pareto_exact_max_nodes
        epsilon = 0.0 if exact else opts.pareto_epsilon
    _, lab_i, targets, status = _run_labels(
        graph, w, StationSet.empty(graph.n_nodes), src, dst, (0.0, 1.0, 0.0),
        (0.0, -np.inf, np.inf), opts, float(epsilon), True,
    )  # fmt: skip
    if status == 2:
        msg = f"the Pareto search exceeded {opts.max_labels:,} labels; use a larger epsilon"
        raise RoutingError(msg)
    if targets.size == 0:
        msg = f"no route from node {orig} to node {dest}"
        raise RoutingError(msg)
    b0 = soc_start * w.context.battery_kwh
    plans = []
    for t in targets:
        edges, _ = _labels.label_path(lab_i, int(t))
        plans.append(
            replace(
                _plan(graph, w, orig, edges, Objective.TIME, opts, b0, bounded=False),
                objective="pareto",
            )
        )
    return _front(plans)


def _front(plans: list[RoutePlan]) -> list[RoutePlan]:
    """Non-dominated plans by (time, energy), fastest first, with ``supported`` flags."""
    plans = sorted(plans, key=lambda p: (p.time_min, p.energy_kwh))
    front: list[RoutePlan] = []
    for p in plans:
        if not front or p.energy_kwh < front[-1].energy_kwh - 1e-12:
            front.append(p)
    pts = np.array([[p.time_min, p.energy_kwh] for p in front])
    hull = _lower_hull(pts)
    return [replace(p, supported=i in hull) for i, p in enumerate(front)]


def _lower_hull(pts: NDArray[np.float64]) -> set[int]:
    """Indices of the points on the lower-left convex hull of a front sorted by time."""
    hull: list[int] = []
    for i in range(len(pts)):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = pts[hull[-2]], pts[hull[-1]]
            x3, y3 = pts[i]
            if (x2 - x1) * (y3 - y1) - (y2 - y1) * (x3 - x1) <= 0:
                hull.pop()
            else:
                break
        hull.append(i)
    return set(hull)
