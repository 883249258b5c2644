"""Charging LPs of the optimiser (pulp + CBC): one vehicle's horizon, and a shared site.

**Horizon LP** (:func:`plan_horizon`): over the next trips ``j = 0..H-1`` decide the
battery kWh ``x[j, s]`` to add at home in each TOU slot ``s`` of the parking window
before trip ``j`` and the kWh ``p[j]`` to add at a public stop on trip ``j`` (binary
``u[j]`` pays the stop's wait and detour)::

    b[j] = b0 + sum_{i<=j, s} x[i, s] + sum_{i<j} (p[i] - E[i])
    b[j] - E[j] / 2 >= R,   b[j] - E[j] + p[j] >= R,   b[j] <= B,  b[j] - E[j]/2 + p[j] <= B
    0 <= x[j, s] <= rate * hours[j, s],   0 <= p[j] <= B * u[j]
    min sum_j gamma^j (price_home[j, s] x[j, s] + price_pub[j] p[j] + fixed[j] u[j])

(the stop is at mid-trip; prices are per battery kWh in objective units).

**Site LP** (:func:`schedule_site`): vehicles sharing a site charge ``e[v]`` battery kWh in
their parking windows; per time slot the site's total power stays under its cap, and the
cost is TOU energy plus a demand charge on the peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp
from numpy.typing import NDArray

from evfleet.errors import OptimizationError

_SOLVER_MSG = False


def _solve(prob: pulp.LpProblem) -> str:
    status = prob.solve(pulp.PULP_CBC_CMD(msg=_SOLVER_MSG))
    return str(pulp.LpStatus[status])


@dataclass(frozen=True)
class HorizonInput:
    """One vehicle's horizon: energies, home slots, public prices (battery-kWh units)."""

    energy_kwh: NDArray[np.float64]
    slot_window: NDArray[np.int64]
    slot_max_kwh: NDArray[np.float64]
    slot_price: NDArray[np.float64]
    public_price: NDArray[np.float64]
    public_fixed: NDArray[np.float64]
    start_kwh: float
    reserve_kwh: float
    max_kwh: float
    gamma: float


@dataclass(frozen=True)
class HorizonPlan:
    """Home kWh per slot, public kWh per trip, and the objective value."""

    home_kwh: NDArray[np.float64]
    public_kwh: NDArray[np.float64]
    objective: float


def plan_horizon(h: HorizonInput) -> HorizonPlan:
    """Solve the horizon LP; raise :class:`OptimizationError` when it is infeasible.

    When the battery covers every trip of the horizon without charging, charging nothing
    is optimal (every price is positive) and no solver is called.
    """
    n, m = h.energy_kwh.size, h.slot_max_kwh.size
    before = h.start_kwh - np.concatenate([[0.0], np.cumsum(h.energy_kwh)[:-1]])
    if h.start_kwh <= h.max_kwh and np.all(before - h.energy_kwh >= h.reserve_kwh):
        return HorizonPlan(np.zeros(m), np.zeros(n), 0.0)
    prob = pulp.LpProblem("horizon", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{s}", 0, float(h.slot_max_kwh[s])) for s in range(m)]
    p = [pulp.LpVariable(f"p{j}", 0, h.max_kwh) for j in range(n)]
    u = [pulp.LpVariable(f"u{j}", cat="Binary") for j in range(n)]
    disc = h.gamma ** np.arange(n)
    terms = [disc[h.slot_window[s]] * float(h.slot_price[s]) * x[s] for s in range(m)]
    b: pulp.LpAffineExpression = pulp.LpAffineExpression(h.start_kwh)
    for j in range(n):
        b = b + pulp.lpSum(x[s] for s in range(m) if h.slot_window[s] == j)
        e = float(h.energy_kwh[j])
        prob += b <= h.max_kwh
        prob += b - e / 2 >= h.reserve_kwh
        prob += b - e + p[j] >= h.reserve_kwh
        prob += b - e / 2 + p[j] <= h.max_kwh
        prob += p[j] <= h.max_kwh * u[j]
        terms.append(disc[j] * (float(h.public_price[j]) * p[j] + float(h.public_fixed[j]) * u[j]))
        b = b + p[j] - e
    prob += pulp.lpSum(terms)
    status = _solve(prob)
    if status != "Optimal":
        msg = f"the horizon charging LP is {status.lower()}: no charging plan keeps the reserve"
        raise OptimizationError(msg)
    home = np.array([max(float(v.value() or 0.0), 0.0) for v in x])
    public = np.array([max(float(v.value() or 0.0), 0.0) for v in p]) * np.array(
        [round(float(v.value() or 0.0)) for v in u]
    )
    return HorizonPlan(home, public, float(pulp.value(prob.objective) or 0.0))


@dataclass(frozen=True)
class SiteSchedule:
    """Power per (vehicle, slot), kW; the site peak before and after; the LP cost."""

    power_kw: NDArray[np.float64]
    peak_before_kw: float
    peak_after_kw: float
    cost_usd: float


def schedule_site(
    need_kwh: NDArray[np.float64],
    available: NDArray[np.float64],
    max_kw: NDArray[np.float64],
    price_usd_per_kwh: NDArray[np.float64],
    *,
    slot_h: float,
    efficiency: float,
    cap_kw: float | None,
    demand_usd_per_kw: float,
    before_kw: NDArray[np.float64],
    site: str,
) -> SiteSchedule:
    """Least-cost charging of a site's vehicles under a shared power cap.

    ``need_kwh[v]`` battery kWh vehicle ``v`` must receive; in slot ``t`` its average power
    is at most ``max_kw[v] * available[v, t]`` (the share of the slot it is parked there;
    grid side); ``price_usd_per_kwh[t]`` per grid kWh; ``before_kw`` the unscheduled plan's
    average power per slot (its peak is reported as *before*).
    """
    n_v, n_t = available.shape
    prob = pulp.LpProblem("site", pulp.LpMinimize)
    y = {
        (v, t): pulp.LpVariable(f"y{v}_{t}", 0, float(max_kw[v] * available[v, t]))
        for v in range(n_v)
        for t in range(n_t)
        if available[v, t] > 0
    }
    peak = pulp.LpVariable("peak", 0, cap_kw)
    for t in range(n_t):
        load = pulp.lpSum(y[v, t] for v in range(n_v) if (v, t) in y)
        prob += load <= peak
    for v in range(n_v):
        prob += pulp.lpSum(
            y[v, t] for t in range(n_t) if (v, t) in y
        ) * slot_h * efficiency >= float(need_kwh[v])
    prob += (
        pulp.lpSum(float(price_usd_per_kwh[t]) * slot_h * var for (_, t), var in y.items())
        + demand_usd_per_kw * peak
    )
    status = _solve(prob)
    if status != "Optimal":
        cap = "no cap" if cap_kw is None else f"cap {cap_kw:g} kW"
        msg = (
            f"site {site}: its vehicles cannot all charge what their next departures need "
            f"within their parking windows under the {cap} (LP {status.lower()})"
        )
        raise OptimizationError(msg)
    power = np.zeros((n_v, n_t))
    for (v, t), var in y.items():
        power[v, t] = max(float(var.value() or 0.0), 0.0)
    return SiteSchedule(
        power_kw=power,
        peak_before_kw=float(before_kw.sum(axis=0).max(initial=0.0)),
        peak_after_kw=float(power.sum(axis=0).max(initial=0.0)),
        cost_usd=float(pulp.value(prob.objective) or 0.0),
    )
