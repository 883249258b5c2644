"""Re-plan one vehicle's trips: routes by the objective, charging by the planning mode.

Modes (each decides home charging while parked and public stops on the way):

* ``myopic``: each trip alone. At home it plugs in only when the next trip needs more
  than the battery holds, and charges at once (no TOU awareness) up to
  ``max_charge_soc``; on the road it stops only when this trip needs it (SOC-aware route).
* ``next_trip``: arrive with enough energy for the next known trip plus the reserve
  (unless it can charge at home before it): at home it charges exactly that in the
  cheapest TOU slots of the parking window; on the road it adds a public stop at the
  station that is cheapest by the objective when the arrival would fall short.
* ``rolling_horizon``: the horizon LP (:func:`evfleet.optimize.lp.plan_horizon`) over
  ``horizon_trips`` / ``horizon_hours`` with discount ``gamma`` decides home kWh per
  TOU slot and public kWh per trip; only the decisions before and on the current trip
  are applied, then it re-plans after the trip (receding horizon).

Every trip is then driven with the simulator's physics under common random numbers
(:mod:`evfleet.optimize.scoring`); the battery is carried with the physics energy. The
planner keeps ``PLANNING_MARGIN_SOC`` above the reserve for the gap between planned and
driven energy.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from evfleet.config import PlanningMode
from evfleet.errors import EvfleetError, OptimizationError, RoutingError
from evfleet.features.network import PredictionContext
from evfleet.optimize.inputs import VehicleTrips
from evfleet.optimize.lp import HorizonInput, plan_horizon
from evfleet.optimize.scoring import score_legs
from evfleet.optimize.world import PLANNING_MARGIN_SOC, Settings, World
from evfleet.routing import (
    ChargingStop,
    InfeasibleRouteError,
    RoutePlan,
    StationSet,
    plan_route,
    plan_trip,
)
from evfleet.routing.plans import DEFAULT_MAX_LABELS
from evfleet.units import HOUR_S
from evfleet.vehicles import ChargerKind

VIA_CANDIDATES: Final = 4
"""Stations (least straight-line detour first) tried for an added public stop."""
PLANNED_DETOUR_KWH: Final = 0.4
"""Energy the horizon LP expects a public stop's detour to cost."""
PLANNED_DETOUR_S: Final = 300.0
"""Time the horizon LP expects a public stop's detour to cost."""
ARRIVAL_BUFFER_SOC: Final = 0.10
"""SOC kept above the reserve on arrival away from a home charger, so that a station stays
within reach of the next departure."""
FIRST_STOP_CANDIDATES: Final = 8
"""Stations tried as the first of two stops when one stop cannot make a trip."""
TOL_KWH: Final = 1e-6


@dataclass
class VehiclePlan:
    """Per-trip plan rows, charging rows and infeasible trips of one vehicle."""

    trips: list[dict[str, Any]] = field(default_factory=list)
    charging: list[dict[str, Any]] = field(default_factory=list)
    infeasible: list[dict[str, str]] = field(default_factory=list)


class VehiclePlanner:
    """Plan and drive one vehicle's trips under a planning mode."""

    def __init__(self, world: World, v: VehicleTrips, s: Settings) -> None:
        self.world, self.v, self.s = world, v, s
        self.cap = v.spec.battery_kwh
        self.reserve = (s.reserve_soc + PLANNING_MARGIN_SOC) * self.cap
        self.max_b = s.max_charge_soc * self.cap
        self.floor = min(self.reserve + ARRIVAL_BUFFER_SOC * self.cap, self.max_b)
        self.rate_kw = min(s.home_power_kw, v.spec.max_ac_kw) * s.efficiency
        self._energy: dict[int, float] = {}
        self.out = VehiclePlan()

    # -- planned energies and windows ---------------------------------------------------
    def planned_energy(self, k: int) -> float:
        """Planned battery energy of trip ``k`` on its objective route (cached)."""
        if k not in self._energy:
            v, world = self.v, self.world
            ctx = self.trip_context(k)
            w = world.costs.weights(ctx)
            try:
                plan = plan_route(
                    world.graph, w, int(v.origin[k]), int(v.destination[k]),
                    objective=self.s.objective, options=dataclasses.replace(
                        world.options, reserve_soc=0.0), soc_start=1.0,
                )  # fmt: skip
                self._energy[k] = plan.energy_kwh
            except EvfleetError:
                self._energy[k] = float(self.cap)
        return self._energy[k]

    def trip_context(self, k: int) -> PredictionContext:
        """Planning context of trip ``k`` (the dataset's dwell before it as parking time), the
        same whenever the trip is planned, so its edge weights are computed once."""
        v = self.v
        parked = v.depart_s[k] - (v.arrive_s[k - 1] if k else 0.0)
        return self.world.context(v, float(v.depart_s[k]), int(v.origin[k]), max(parked, 0.0))

    def _slots(self, a: float, d: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """TOU slot edges ``[a, ..., d]`` of a parking window and the price per battery kWh."""
        edges = np.concatenate([[a], self.world.tariff.boundaries(a, d), [d]])
        mid = 0.5 * (edges[:-1] + edges[1:])
        price = self.world.tariff.price("home", mid) / self.s.efficiency
        return edges, np.asarray(price, dtype=float)

    # -- decisions --------------------------------------------------------------------
    def _need_after(self, k: int) -> float:
        """Battery to arrive with after trip ``k``: reserve, plus the next trip unless home."""
        nxt = k + 1
        if nxt < self.v.n_trips and not self.v.home_window(nxt):
            return min(self.floor + self.planned_energy(nxt), self.max_b)
        return self.reserve if self.v.home_window(nxt) else self.floor

    def _decide(
        self, k: int, b: float, a: float, d: float
    ) -> tuple[list[tuple[float, float, float]], float]:
        """Home charging ``(start, end, kWh)`` before trip ``k`` and the kWh to arrive with."""
        home = self.v.home_window(k) and d > a
        mode = self.s.mode
        if mode is PlanningMode.ROLLING_HORIZON:
            try:
                return self._horizon(k, b, a, d)
            except OptimizationError:
                mode = PlanningMode.NEXT_TRIP  # no LP plan keeps the reserve: plan this trip
        need_trip = self.reserve + self.planned_energy(k)
        if mode is PlanningMode.MYOPIC:
            sessions = []
            if home and b < need_trip:
                kwh = min(self.max_b - b, self.rate_kw * (d - a) / HOUR_S)
                sessions = [(a, a + kwh / self.rate_kw * HOUR_S, kwh)] if kwh > TOL_KWH else []
            return sessions, self.floor
        need_end = self._need_after(k)
        sessions = []
        if home:
            target = min(need_trip + need_end - self.reserve, self.max_b)
            sessions = self._cheapest(b, target, a, d)
        return sessions, need_end

    def _cheapest(
        self, b: float, target: float, a: float, d: float
    ) -> list[tuple[float, float, float]]:
        """Fill the cheapest TOU slots of ``[a, d)`` until the battery reaches ``target``."""
        missing = target - b
        if missing <= TOL_KWH:
            return []
        edges, price = self._slots(a, d)
        out = []
        for s in np.lexsort((edges[:-1], price)):
            if missing <= TOL_KWH:
                break
            kwh = min(missing, self.rate_kw * (edges[s + 1] - edges[s]) / HOUR_S)
            if kwh > TOL_KWH:
                out.append((float(edges[s]), float(edges[s] + kwh / self.rate_kw * HOUR_S), kwh))
                missing -= kwh
        return sorted(out)

    def _horizon(
        self, k: int, b: float, a: float, d: float
    ) -> tuple[list[tuple[float, float, float]], float]:
        v, s = self.v, self.s
        last = k
        while (
            last + 1 < v.n_trips
            and last + 1 - k < s.horizon_trips
            and v.depart_s[last + 1] - v.depart_s[k] <= s.horizon_hours * HOUR_S
        ):
            last += 1
        js = np.arange(k, last + 1)
        energy = np.array([self.planned_energy(int(j)) for j in js])
        win, edges_all, prices, maxk = [], [], [], []
        for i, j in enumerate(js):
            start = a if j == k else v.arrive_s[j - 1]
            end = d if j == k else v.depart_s[j]
            if not (v.home_window(int(j)) and end > start):
                continue
            edges, price = self._slots(start, end)
            win += [i] * price.size
            edges_all += list(itertools.pairwise(edges))
            prices += list(price)
            maxk += list(self.rate_kw * np.diff(edges) / HOUR_S)
        a_e, a_t, a_c = s.weights.coefficients(s.objective)
        clock = v.depart_s[js]
        pub_kw = float(min(v.spec.max_dc_kw, 150.0))
        pub_price = self.world.tariff.price("dcfc", clock + 0.5 * HOUR_S) / s.efficiency
        loss = 1.0 / s.efficiency - 1.0
        home_obj = a_c * np.asarray(prices) + a_e * loss + 1e-6
        pub_obj = a_c * pub_price + a_e * loss + a_t * HOUR_S / pub_kw + 1e-6
        fixed = np.full(js.size, a_e * PLANNED_DETOUR_KWH + a_t * PLANNED_DETOUR_S + 1e-3)
        plan = plan_horizon(
            HorizonInput(
                energy_kwh=energy,
                slot_window=np.asarray(win, dtype=np.int64),
                slot_max_kwh=np.asarray(maxk, dtype=float),
                slot_price=home_obj,
                public_price=np.asarray(pub_obj, dtype=float),
                public_fixed=fixed,
                start_kwh=b,
                reserve_kwh=min(self.floor, b),
                max_kwh=self.max_b,
                gamma=s.gamma,
            )
        )
        sessions = [
            (float(t0), float(t0 + kwh / self.rate_kw * HOUR_S), float(kwh))
            for (t0, _), w, kwh in zip(edges_all, win, plan.home_kwh, strict=True)
            if w == 0 and kwh > TOL_KWH
        ]
        home_now = sum(x for *_, x in sessions)
        end = b + home_now - energy[0] + plan.public_kwh[0]
        return sessions, max(end, self.floor) if plan.public_kwh[0] > TOL_KWH else self.floor

    # -- routing ----------------------------------------------------------------------
    def _route(
        self, k: int, b: float, need_end: float, ctx: PredictionContext
    ) -> tuple[RoutePlan, RoutePlan]:
        """The trip's plan (with an added stop when it would arrive short) and its base plan."""
        world, v = self.world, self.v
        w = world.costs.weights(ctx)
        stations = world.stations(v)
        o, dst = int(v.origin[k]), int(v.destination[k])
        try:
            try:
                base = plan_trip(
                    world.graph, w, stations, o, dst, objective=self.s.objective,
                    options=world.options, soc_start=min(b / self.cap, 1.0),
                )  # fmt: skip
            except InfeasibleRouteError:
                # arrived inside the planning margin: plan this trip against the true reserve
                base = plan_trip(
                    world.graph, w, stations, o, dst, objective=self.s.objective,
                    options=world.reserve_options, soc_start=min(b / self.cap, 1.0),
                )  # fmt: skip
        except RoutingError:
            # e.g. the SOC-aware search hit its label budget: compose the trip from plain legs
            # (one stop by station enumeration, else two), then the engine's full budget
            via = self._via_station(k, b, need_end, ctx) or self._two_stops(k, b, need_end, ctx)
            if via is None:
                full = dataclasses.replace(world.reserve_options, max_labels=DEFAULT_MAX_LABELS)
                via = plan_trip(
                    world.graph, w, stations, o, dst, objective=self.s.objective,
                    options=full, soc_start=min(b / self.cap, 1.0),
                )  # fmt: skip
            return via, self._direct(k, w, via)
        if base.soc_end * self.cap >= need_end - TOL_KWH:
            return base, base
        via = self._via_station(k, b, need_end, ctx)
        return (via if via is not None else base), base

    def _direct(self, k: int, w: Any, fallback: RoutePlan) -> RoutePlan:
        """The trip's route by the objective ignoring the battery (the detour reference)."""
        world, v = self.world, self.v
        free = dataclasses.replace(world.options, reserve_soc=0.0)
        try:
            return plan_route(
                world.graph, w, int(v.origin[k]), int(v.destination[k]),
                objective=self.s.objective, options=free, soc_start=1.0,
            )  # fmt: skip
        except RoutingError:
            return fallback

    def _via_station(
        self,
        k: int,
        b: float,
        need_end: float,
        ctx: PredictionContext,
        *,
        origin: int | None = None,
        t_s: float | None = None,
    ) -> RoutePlan | None:
        """Trip ``k`` (from ``origin`` at ``t_s`` when given) with one stop at the best of the
        :data:`VIA_CANDIDATES` stations of least straight-line detour, or ``None``."""
        world, v, graph = self.world, self.v, self.world.graph
        w = world.costs.weights(ctx)
        st = world.stations(v)
        if len(st) == 0:
            return None
        o_id = int(v.origin[k]) if origin is None else origin
        o, dst = graph.node_index([o_id, int(v.destination[k])])
        sx, sy = graph.x_m[st.node_row], graph.y_m[st.node_row]
        detour = np.hypot(sx - graph.x_m[o], sy - graph.y_m[o]) + np.hypot(
            sx - graph.x_m[dst], sy - graph.y_m[dst]
        )
        coef = self.s.weights.coefficients(self.s.objective)
        clock = float(v.depart_s[k]) if t_s is None else t_s
        best: tuple[float, float, RoutePlan] | None = None
        for i in np.argsort(detour, kind="stable")[:VIA_CANDIDATES]:
            plan = self._via(int(i), k, b, need_end, w, st, o_id, clock)
            if plan is None:
                continue
            score = (
                coef[0] * plan.energy_kwh + coef[1] * plan.time_min * 60 + coef[2] * plan.cost_usd
            )
            key = (score, plan.time_min)
            if best is None or key < best[:2]:
                best = (*key, plan)
        return None if best is None else best[2]

    def _two_stops(
        self, k: int, b: float, need_end: float, ctx: PredictionContext
    ) -> RoutePlan | None:
        """Trip ``k`` with two stops: drive to a station the battery reaches (nearest the
        destination first, among :data:`FIRST_STOP_CANDIDATES` closer to it than the
        origin), fill up, then finish with one stop (:meth:`_via_station`); ``None`` if no
        such composition keeps the reserve."""
        world, v, graph = self.world, self.v, self.world.graph
        w = world.costs.weights(ctx)
        st = world.stations(v)
        if len(st) == 0:
            return None
        o, dst = graph.node_index([int(v.origin[k]), int(v.destination[k])])
        sx, sy = graph.x_m[st.node_row], graph.y_m[st.node_row]
        to_dest = np.hypot(sx - graph.x_m[dst], sy - graph.y_m[dst])
        ahead = to_dest < np.hypot(graph.x_m[o] - graph.x_m[dst], graph.y_m[o] - graph.y_m[dst])
        order = np.flatnonzero(ahead)[np.argsort(to_dest[ahead], kind="stable")]
        for i in order[:FIRST_STOP_CANDIDATES]:
            node = int(graph.node_ids[st.node_row[i]])
            leg1 = self._leg(w, int(v.origin[k]), node, min(b / self.cap, 1.0))
            if leg1 is None or self.max_b - leg1.soc_end * self.cap <= TOL_KWH:
                continue
            t_arrive = float(v.depart_s[k]) + leg1.time_min * 60
            stop = self._stop(int(i), st, leg1.soc_end * self.cap, self.max_b, t_arrive)
            rest = self._via_station(
                k, self.max_b, need_end, ctx, origin=node, t_s=t_arrive + stop.minutes * 60
            )
            if rest is not None:
                return _join(leg1, stop, rest, b / self.cap)
        return None

    def _leg(self, w: Any, o: int, d: int, soc: float) -> RoutePlan | None:
        """A leg without charging: above the planning reserve if it can, else above the
        true reserve (a battery already inside the planning margin), else ``None``."""
        world = self.world
        for options in (world.options, world.reserve_options):
            try:
                return plan_route(
                    world.graph, w, o, d, objective=self.s.objective, options=options,
                    soc_start=soc,
                )  # fmt: skip
            except EvfleetError:
                continue
        return None

    def _via(
        self,
        i: int,
        k: int,
        b: float,
        need_end: float,
        w: Any,
        st: StationSet,
        o: int,
        t_s: float,
    ) -> RoutePlan | None:
        """From node ``o`` at ``t_s`` to trip ``k``'s destination via station ``i``."""
        graph, v, s = self.world.graph, self.v, self.s
        node = int(graph.node_ids[st.node_row[i]])
        dst = int(v.destination[k])
        leg1 = self._leg(w, o, node, min(b / self.cap, 1.0))
        leg2 = self._leg(w, node, dst, s.max_charge_soc)
        if leg1 is None or leg2 is None:
            return None
        arrive = leg1.soc_end * self.cap
        # a stop pays its wait and detour once: the rule-based modes fill up to the maximum,
        # the horizon LP's amount is its own decision
        fill = self.s.mode is not PlanningMode.ROLLING_HORIZON
        target = self.max_b if fill else min(self.max_b, need_end + leg2.energy_kwh)
        if target - arrive <= TOL_KWH:
            return None
        stop = self._stop(i, st, arrive, target, t_s + leg1.time_min * 60)
        # leg 2 was planned from max_charge_soc: shift its SOCs to the charged target
        shift = s.max_charge_soc - target / self.cap
        rest = dataclasses.replace(
            leg2, soc_start=target / self.cap, soc_end=leg2.soc_end - shift,
            soc_min=leg2.soc_min - shift,
        )  # fmt: skip
        return _join(leg1, stop, rest, b / self.cap)

    def _stop(
        self, i: int, st: StationSet, arrive: float, target: float, t_arrive: float
    ) -> ChargingStop:
        """Charging at station ``i`` from ``arrive`` to ``target`` battery kWh."""
        world, v = self.world, self.v
        kind = ChargerKind.DC if st.kind[i] == "dcfc" else ChargerKind.AC
        charge_s = float(
            v.spec.charge_duration_s(
                arrive / self.cap, target / self.cap, charger_kw=float(st.power_kw[i]), kind=kind
            )
        )
        peak = bool(world.tariff.is_peak(t_arrive))
        price = float(st.price_usd_per_kwh[i]) * (world.tariff.peak_multiplier if peak else 1.0)
        kwh = target - arrive
        return ChargingStop(
            station_id=str(st.station_id[i]), kind=str(st.kind[i]),
            node=int(world.graph.node_ids[st.node_row[i]]), power_kw=float(st.power_kw[i]),
            arrival_soc=arrive / self.cap, departure_soc=target / self.cap, energy_kwh=kwh,
            minutes=(charge_s + float(st.wait_s[i])) / 60, wait_min=float(st.wait_s[i]) / 60,
            cost_usd=price * kwh / self.s.efficiency,
        )  # fmt: skip

    # -- the walk -----------------------------------------------------------------------
    def run(self) -> VehiclePlan:
        """Plan, drive and record every trip in order."""
        v = self.v
        b = v.initial_soc * self.cap
        parked_from = 0.0
        for k in range(v.n_trips):
            a, d = parked_from, float(v.depart_s[k])
            sessions, need_end = self._decide(k, b, a, min(max(a, d), d))
            for t0, t1, kwh in sessions:
                self._home(k, (t0, t1), kwh, (a, d))
                b += kwh
            ctx = self.trip_context(k)
            try:
                plan, base = self._route(k, b, need_end, ctx)
            except EvfleetError as exc:
                if self.s.strict:  # the search's reason, said once
                    why = str(exc) if str(exc).startswith("infeasible") else f"infeasible: {exc}"
                    msg = f"vehicle {v.vehicle_id} trip {v.trip_id[k]}: {why}"
                    raise OptimizationError(msg) from None
                self.out.infeasible.append(
                    {"vehicle_id": v.vehicle_id, "trip_id": str(v.trip_id[k]), "reason": str(exc)}
                )
                continue
            b, arrive = self._drive(k, plan, base, b, d, a)
            parked_from = arrive
        return self.out

    def _drive(
        self, k: int, plan: RoutePlan, base: RoutePlan, b: float, d: float, a: float
    ) -> tuple[float, float]:
        v, world = self.v, self.world
        scored = score_legs(
            world.net, world.weather, v.spec, style=v.style, start_date=world.start,
            legs=[plan.edges], depart_s=np.array([d]), trip_key=np.array([k]),
            seed=self.s.seed, vehicle=v.index, parked_s=max(d - a, 0.0),
        )  # fmt: skip
        energy, drive_s = float(scored.energy_kwh[0]), float(scored.duration_s[0])
        added = sum(st.energy_kwh for st in plan.stops)
        stop_s = 60.0 * sum(st.minutes for st in plan.stops)
        b_end = b - energy + added
        ratio = energy / plan.energy_kwh if plan.energy_kwh > TOL_KWH else 1.0
        # the battery at each stop: the driven share of the planned use since the last one
        lows, left = [b, b_end], b
        for st in plan.stops:
            lows.append(left - (left - st.arrival_soc * self.cap) * ratio)
            left = st.departure_soc * self.cap
        arrive = d + drive_s + stop_s
        t = d
        for st in plan.stops:
            self.out.charging.append({
                "vehicle_id": v.vehicle_id, "trip_id": str(v.trip_id[k]), "kind": st.kind,
                "station_id": st.station_id, "site": "", "start_s": t, "end_s": t + st.minutes * 60,
                "energy_kwh": st.energy_kwh, "grid_kwh": st.energy_kwh / self.s.efficiency,
                "power_kw": st.power_kw, "cost_usd": st.cost_usd, "wait_min": st.wait_min,
                "window_start_s": t, "window_end_s": t + st.minutes * 60,
            })  # fmt: skip
            t += st.minutes * 60
        self.out.trips.append({
            "vehicle_id": v.vehicle_id, "trip_id": str(v.trip_id[k]), "trip_index": k,
            "objective": plan.objective, "depart_s": d, "arrive_s": arrive,
            "distance_km": float(scored.distance_km[0]), "drive_time_h": drive_s / HOUR_S,
            "planned_energy_kwh": plan.energy_kwh, "energy_kwh": energy,
            "soc_start": b / self.cap, "soc_end": b_end / self.cap,
            "soc_min": min(lows) / self.cap,
            "stops": json.dumps([st.to_dict() for st in plan.stops]),
            "n_stops": len(plan.stops), "detour_km": max(plan.distance_km - base.distance_km, 0.0)
            if plan.stops else 0.0, "route_nodes": [int(n) for n in plan.nodes],
        })  # fmt: skip
        return b_end, arrive

    def _home(
        self, k: int, span: tuple[float, float], kwh: float, window: tuple[float, float]
    ) -> None:
        v = self.v
        t0, t1 = span
        mid = 0.5 * (t0 + t1)
        grid = kwh / self.s.efficiency
        self.out.charging.append({
            "vehicle_id": v.vehicle_id, "trip_id": str(v.trip_id[k]), "kind": "home",
            "station_id": f"HOME-{v.vehicle_id}", "site": str(v.home_node), "start_s": t0,
            "end_s": t1, "energy_kwh": kwh, "grid_kwh": grid,
            "power_kw": self.rate_kw / self.s.efficiency,
            "cost_usd": float(self.world.tariff.price("home", mid)) * grid, "wait_min": 0.0,
            "window_start_s": window[0], "window_end_s": window[1],
        })  # fmt: skip


def _join(first: RoutePlan, stop: ChargingStop, rest: RoutePlan, soc_start: float) -> RoutePlan:
    """``first`` (a leg without stops) to a station, ``stop`` there, then ``rest`` (which
    starts at the stop's departure SOC and may hold stops of its own)."""
    return RoutePlan(
        objective=first.objective,
        nodes=np.concatenate([first.nodes, rest.nodes[1:]]),
        edges=np.concatenate([first.edges, rest.edges]),
        distance_km=first.distance_km + rest.distance_km,
        time_min=first.time_min + stop.minutes + rest.time_min,
        energy_kwh=first.energy_kwh + rest.energy_kwh,
        cost_usd=stop.cost_usd + sum(s.cost_usd for s in rest.stops),
        soc_start=soc_start,
        soc_end=rest.soc_end,
        objective_value=math.nan,
        stops=(stop, *rest.stops),
        soc_min=min(first.soc_min, stop.arrival_soc, rest.soc_min),
    )
