"""How much to charge at each station of a fixed route: a small (mixed-integer) LP with pulp.

Given the stations along a route and the energy driven between them, choose the kWh
added at each so that the battery stays within ``[reserve, max]`` everywhere and the
total charging time (taper and expected queue) or cost (station TOU price per grid kWh)
is least. Charging time is the piecewise-linear cumulative-time curve ``T(b)`` of the
station (built from the vehicle's taper): a stop from ``a`` to ``d`` takes
``T(d) - T(a)``. Both battery levels are written in the incremental form of a
piecewise-linear function (one binary per breakpoint keeps the segments filled in
order, which the non-convex ``-T(a)`` term needs); the cost objective is a plain LP.
CBC (bundled with pulp) solves it.

Model (stops ``i = 1..n``, ``a_1 = b0 - E_0``)::

    d_i = a_i + x_i,   a_{i+1} = d_i - E_i,   x_i <= M y_i
    d_i - D_i >= reserve,  a_i >= reserve,  d_i <= b_max,  x_i >= 0
    time: min sum T_i(d_i) - T_i(a_i) + wait_i y_i     cost: min sum price_i x_i / eff

``E_i`` is the energy of the leg after stop ``i`` and ``D_i >= E_i`` its deepest
drawdown (a leg may dip lower before regenerating on a final descent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pulp
from numpy.typing import NDArray

from evfleet.errors import InputDataError, RoutingError

TOL_KWH: Final = 1e-7


@dataclass(frozen=True)
class ChargingLeg:
    """A station on the route and the drive from it to the next station (or the end).

    Attributes
    ----------
    station_id
        Station identifier.
    time_grid_kwh, time_table_s
        Breakpoints of the cumulative charging time ``T(b)`` (battery kWh -> s).
    price_usd_per_kwh
        Price per grid kWh at the expected charging time.
    wait_s
        Expected queue before charging, s (paid only when the stop is used).
    energy_to_next_kwh
        Battery energy of the drive to the next station or the destination.
    drawdown_kwh
        Deepest drop below the departure battery on that drive (default: the energy).
    """

    station_id: str
    time_grid_kwh: NDArray[np.float64]
    time_table_s: NDArray[np.float64]
    price_usd_per_kwh: float
    wait_s: float
    energy_to_next_kwh: float
    drawdown_kwh: float | None = None
    _grid: NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        grid = np.asarray(self.time_grid_kwh, dtype=float)
        table = np.asarray(self.time_table_s, dtype=float)
        if grid.shape != table.shape or grid.size < 2 or np.any(np.diff(grid) <= 0):
            msg = f"station {self.station_id}: the taper table needs >= 2 increasing points"
            raise InputDataError(msg)
        if not np.all(np.isfinite(table)) or np.any(np.diff(table) < 0):
            msg = f"station {self.station_id}: charging times must be finite and increasing"
            raise InputDataError(msg)
        object.__setattr__(self, "_grid", grid)

    @property
    def drawdown(self) -> float:
        """Deepest drawdown of the leg, kWh."""
        return max(self.drawdown_kwh or 0.0, self.energy_to_next_kwh)

    def charge_time_s(self, arrive_kwh: float, depart_kwh: float) -> float:
        """``T(depart) - T(arrive)`` on the piecewise-linear curve, s."""
        t = np.interp([arrive_kwh, depart_kwh], self._grid, self.time_table_s)
        return float(max(t[1] - t[0], 0.0))


@dataclass(frozen=True)
class ChargingPlan:
    """kWh to add at each station, and the plan's totals."""

    charge_kwh: tuple[float, ...]
    arrive_kwh: tuple[float, ...]
    time_s: float
    cost_usd: float


def _pwl(
    prob: pulp.LpProblem, name: str, grid: NDArray[np.float64], values: NDArray[np.float64]
) -> tuple[pulp.LpAffineExpression, pulp.LpAffineExpression]:
    """Incremental form of a piecewise-linear function: returns ``(b, T(b))``."""
    widths = np.diff(grid)
    slopes = np.diff(values) / widths
    deltas = [pulp.LpVariable(f"{name}_d{k}", 0, float(w)) for k, w in enumerate(widths)]
    fills = [pulp.LpVariable(f"{name}_z{k}", cat="Binary") for k in range(len(widths) - 1)]
    for k, z in enumerate(fills):
        prob += deltas[k] >= float(widths[k]) * z
        prob += deltas[k + 1] <= float(widths[k + 1]) * z
    b = float(grid[0]) + pulp.lpSum(deltas)
    t = float(values[0]) + pulp.lpSum(float(s) * d for s, d in zip(slopes, deltas, strict=True))
    return b, t


def _total(
    legs: list[ChargingLeg], arrive: list[float], charge: list[float], efficiency: float
) -> tuple[float, float]:
    time = sum(
        leg.charge_time_s(a, a + x) + (leg.wait_s if x > TOL_KWH else 0.0)
        for leg, a, x in zip(legs, arrive, charge, strict=True)
    )
    cost = sum(leg.price_usd_per_kwh * x / efficiency for leg, x in zip(legs, charge, strict=True))
    return time, cost


def optimize_charging_amounts(
    legs: list[ChargingLeg],
    *,
    start_kwh: float,
    energy_to_first_kwh: float,
    reserve_kwh: float,
    max_kwh: float,
    objective: str = "time",
    efficiency: float = 0.9,
) -> ChargingPlan:
    """Least-time (or least-cost) kWh per station on a fixed route.

    Raises :class:`RoutingError` when no amounts keep the battery within bounds.
    """
    if objective not in ("time", "cost"):
        msg = f"objective must be 'time' or 'cost', got {objective!r}"
        raise InputDataError(msg)
    if not legs:
        msg = "the route has no station to charge at"
        raise InputDataError(msg)
    prob = pulp.LpProblem("charging_amounts", pulp.LpMinimize)
    arrive_expr: list[pulp.LpAffineExpression] = []
    charge_vars, terms = [], []
    a: pulp.LpAffineExpression = pulp.LpAffineExpression(start_kwh - energy_to_first_kwh)
    for i, leg in enumerate(legs):
        x = pulp.LpVariable(f"x{i}", 0, max(max_kwh - reserve_kwh, 0.0))
        used = pulp.LpVariable(f"y{i}", cat="Binary")
        prob += x <= max_kwh * used
        prob += a >= reserve_kwh
        d = a + x
        prob += d <= max_kwh
        prob += d - leg.drawdown >= reserve_kwh
        if objective == "time":
            b_a, t_a = _pwl(prob, f"a{i}", leg._grid, leg.time_table_s)
            b_d, t_d = _pwl(prob, f"d{i}", leg._grid, leg.time_table_s)
            prob += b_a == a
            prob += b_d == d
            terms.append(t_d - t_a + leg.wait_s * used)
        else:
            terms.append(leg.price_usd_per_kwh / efficiency * x)
        arrive_expr.append(a)
        charge_vars.append(x)
        a = d - leg.energy_to_next_kwh
    prob += a >= reserve_kwh
    prob += pulp.lpSum(terms)
    status = prob.solve(pulp.PULP_CBC_CMD(msg=False))
    if pulp.LpStatus[status] != "Optimal":
        msg = (
            "no charging amounts keep the battery between the reserve and the maximum on "
            f"this route (solver status: {pulp.LpStatus[status]})"
        )
        raise RoutingError(msg)
    charge = [max(float(x.value() or 0.0), 0.0) for x in charge_vars]
    arrive = [float(pulp.value(e)) for e in arrive_expr]
    time, cost = _total(legs, arrive, charge, efficiency)
    return ChargingPlan(tuple(charge), tuple(arrive), time, cost)


def evaluate_charging_amounts(
    legs: list[ChargingLeg],
    charge_kwh: list[float],
    *,
    start_kwh: float,
    energy_to_first_kwh: float,
    efficiency: float = 0.9,
) -> ChargingPlan:
    """Totals of given amounts on the same model (for comparisons with other planners)."""
    arrive, b = [], start_kwh - energy_to_first_kwh
    for leg, x in zip(legs, charge_kwh, strict=True):
        arrive.append(b)
        b = b + x - leg.energy_to_next_kwh
    time, cost = _total(legs, arrive, list(charge_kwh), efficiency)
    return ChargingPlan(tuple(charge_kwh), tuple(arrive), time, cost)
