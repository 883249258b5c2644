"""One vehicle through its period: trips in order, SOC carried, charging decided.

The walk drives the planned trips in order. Before each trip it checks the battery at the
current place and temperature (usable SOC = share of the energy the cold-limited battery
can still deliver); after each arrival it decides whether to charge during the dwell.

- **Home** (with a home charger): plug in when the usable SOC is below the personality's
  plug-in level and the dwell is long enough; optimizers start at the end of the TOU peak.
  Sessions spanning the night are ``overnight``, others ``opportunistic``.
- **Dwell** elsewhere: below the threshold, or by chance (``opportunistic``), use a
  charger near the dwell place: drive there, charge until the next departure, continue
  from the station.
- **En route**: a trip that would start below the threshold (``threshold``) or end below
  the personality's reserve (``emergency``) first drives to a station chosen by detour,
  price and power, charges, then continues. Later trips shift if the stop makes the
  vehicle late; a shifted trip is re-profiled at its real time.

Every detour is driven (its own ``charging`` route row) and costs energy and time;
``detour_km`` = station leg + continuation - the direct trip.

**No free energy.** A vehicle never starts a trip (or a leg to a station) that would end
below its usable floor (the SOC the cold-limited battery cannot deliver, at departure and
at arrival). When no en-route stop is reachable it charges before departure: at home on
its own charger, elsewhere from a mobile roadside charger (kind ``roadside``, trigger
``stranded``: a call-out wait, a slow DC top-up, a call-out fee); the trip then counts as
``stranded``. A trip still out of reach after that (longer than a full battery) is not
driven. SOC is never clamped. Trips must end within the period (their segments need the
period's weather); a session may run past its end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from evfleet.fleet.behaviour import (
    MIN_ARRIVAL_SOC,
    MIN_OPPORTUNISTIC_DWELL_MIN,
    OPPORTUNISTIC_RADIUS_KM,
    PersonalitySpec,
)
from evfleet.fleet.charging import (
    ROADSIDE_CALLOUT_USD,
    ROADSIDE_POWER_KW,
    ROADSIDE_RESPONSE_S,
    Session,
    charge,
    nearest_stations,
    rank_stations,
)
from evfleet.physics import PARKED_COLD_S, usable_capacity_kwh
from evfleet.units import DAY_S, HOUR_S, M_PER_KM, MINUTE_S
from evfleet.vocab import ChargingKind, ChargingTrigger, TripPurpose

if TYPE_CHECKING:
    from evfleet.fleet.context import ChunkContext, VehicleInputs
    from evfleet.fleet.planning import Plan
    from evfleet.fleet.trips import Driven

logger = logging.getLogger(__name__)

GAP_S = 60.0
PLUG_IN_S = 120.0
MIN_HOME_DWELL_S = HOUR_S
MAX_STOPS_PER_TRIP = 3
_CANDIDATES = 3
MAX_PUBLIC_TARGET_SOC = 0.98
_EN_ROUTE_L2_MAX_S = 2.5 * HOUR_S
_LAST_NIGHT_S = 10 * HOUR_S
NIGHT_S = 3 * HOUR_S
"""A home session is ``overnight`` when the car stays plugged in through 03:00."""
RESCUE_RESERVE_SOC = 0.1
"""Usable SOC a rescued vehicle (charged before departure) keeps at the destination."""
_RESCUE_MAX_S = 12 * HOUR_S


@dataclass(frozen=True)
class TripRecord:
    """A driven trip: where its edges are (batch, index) and the battery before and after."""

    batch: Driven
    k: int
    origin: int
    destination: int
    purpose: TripPurpose
    start_s: float
    end_s: float
    distance_km: float
    energy_kwh: float
    soc_start: float
    soc_end: float
    stranded: bool = False


@dataclass
class WalkResult:
    """Trips and sessions of one vehicle in time order."""

    trips: list[TripRecord] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)


class VehicleWalk:
    """Simulates one vehicle (see the module docstring).

    Parameters
    ----------
    ctx
        Chunk-wide context (network, router, weather, stations, tariff).
    vehicle
        The vehicle and its generator.
    plan
        Its planned trips.
    """

    def __init__(self, ctx: ChunkContext, vehicle: VehicleInputs, plan: Plan) -> None:
        self.ctx, self.v, self.plan = ctx, vehicle, plan
        self.p: PersonalitySpec = vehicle.personality
        self.soc = vehicle.initial_soc
        self.t_free = 0.0
        self.t_arrive: float | None = None
        """Arrival of the last recorded trip (``None`` before the first: fully soaked)."""
        self.pos = vehicle.home
        self.out = WalkResult()
        self._pending: tuple[int, float, float] | None = None
        self._planned: Driven | None = None
        self._stranded = False
        """A roadside rescue happened since the last recorded trip."""

    # -- battery ---------------------------------------------------------------------
    def _floor(self, t_s: float, pos: int | None = None) -> float:
        """Lowest SOC the battery can reach at a place (default: here) and time."""
        temp = self.ctx.temp_at(self.pos if pos is None else pos, t_s)
        cap = float(usable_capacity_kwh(self.v.spec, temp))
        return 1.0 - cap / self.v.spec.battery_kwh

    def _usable(self, soc: float, floor: float) -> float:
        return (soc - floor) / max(1.0 - floor, 1e-9)

    # -- main loop -------------------------------------------------------------------
    def run(self) -> WalkResult:
        """Drive every planned trip; return the trips and sessions."""
        plan = self.plan
        if len(plan):
            routes = [
                self.ctx.route(o, d) for o, d in zip(plan.origin, plan.destination, strict=True)
            ]
            self._planned = self.ctx.drive(self.v, routes, np.asarray(plan.depart_s))
        i, stops, rescued = 0, 0, False
        while i < len(plan):
            if self.pos == plan.destination[i]:  # a charging stop ended at the destination
                self._resolve_pending(0.0)
                i += 1
                continue
            dep = max(plan.depart_s[i], self.t_free + GAP_S)
            batch, k = self._trip_batch(i, dep)
            if batch.end_s(k) > self.ctx.period_end_s:
                break  # the dataset ends at midnight of the last day
            triggers = self._stop_needed(batch, k, i, dep) if stops < MAX_STOPS_PER_TRIP else []
            if any(self._en_route_stop(trigger, i, dep) for trigger in triggers):
                stops += 1
                continue
            needed = self._needed_soc(batch, k, dep)
            if self.soc < needed:
                if not rescued and self._charge_before(needed, dep):
                    rescued = True
                    continue
                logger.warning(
                    "vehicle %s cannot drive trip %d even when charged (needs SOC %.2f); "
                    "the trip is not driven",
                    self.v.vehicle_id,
                    i,
                    needed,
                )
                i, stops, rescued = i + 1, 0, False
                continue
            self._record(batch, k, plan.purpose[i])
            i, stops, rescued = i + 1, 0, False
            self._after_arrival(i)
        return self.out

    def _needed_soc(self, batch: Driven, k: int, dep: float) -> float:
        """Lowest SOC at departure that ends trip ``k`` of ``batch`` above the usable floor.

        The floor is the higher of the cold-limited floors at departure and at arrival.
        """
        lo, hi = batch.offsets[k], batch.offsets[k + 1]
        energy = float(batch.components_kwh[lo:hi].sum())
        dest = int(self.ctx.net.v_pos[batch.edge[hi - 1]])
        floor = max(self._floor(dep), self._floor(batch.end_s(k), dest))
        return floor + energy / self.v.spec.battery_kwh

    def _charge_before(self, needed: float, dep: float) -> bool:
        """Charge where the vehicle stands until it can make the trip (delaying it).

        At home on the home charger; anywhere else a mobile roadside charger is called
        (the trip that follows is ``stranded``). Returns whether a session happened.
        """
        floor = self._floor(dep)
        target = min(1.0, needed + RESCUE_RESERVE_SOC * (1.0 - floor))
        if self.pos == self.v.home and self.v.has_home_charger:
            start = max(dep, self.t_free) + PLUG_IN_S
            if self._session(
                None, start, start + _RESCUE_MAX_S, target=target, trigger=ChargingTrigger.EMERGENCY
            ):
                return True
        start = max(dep, self.t_free) + ROADSIDE_RESPONSE_S
        ok = self._session(
            -1,
            start,
            start + _RESCUE_MAX_S,
            target=target,
            trigger=ChargingTrigger.STRANDED,
            wait_min=ROADSIDE_RESPONSE_S / MINUTE_S,
        )
        self._stranded = self._stranded or ok
        return ok

    def _parked_s(self, dep: float) -> float:
        """Time parked since the last arrival, s (cabin and tyres soak towards ambient)."""
        return PARKED_COLD_S if self.t_arrive is None else max(dep - self.t_arrive, 0.0)

    def _planned_parked_s(self, i: int) -> float:
        """Parking time the planned batch assumed before trip ``i``."""
        if i == 0 or self._planned is None:
            return PARKED_COLD_S
        return max(float(self.plan.depart_s[i]) - self._planned.end_s(i - 1), 0.0)

    def _trip_batch(self, i: int, dep: float) -> tuple[Driven, int]:
        """Trip ``i`` as planned, or re-driven from here when anything changed.

        The planned batch is reused only when the vehicle is where, when and as long
        parked as the plan assumed; after a charging stop or a delay the trip is driven
        again with the real parking time (a cabin parked for minutes is not cold).
        """
        plan = self.plan
        if (
            self._planned is not None
            and self.pos == plan.origin[i]
            and dep == plan.depart_s[i]
            and abs(self._parked_s(dep) - self._planned_parked_s(i)) < 1e-6
        ):
            return self._planned, i
        route = self.ctx.route(self.pos, plan.destination[i])
        return self.ctx.drive(self.v, [route], np.array([dep]), self._parked_s(dep)), 0

    def _record(self, batch: Driven, k: int, purpose: TripPurpose) -> None:
        lo, hi = batch.offsets[k], batch.offsets[k + 1]
        energy = float(batch.components_kwh[lo:hi].sum())
        distance_km = float(self.ctx.net.length_m[batch.edge[lo:hi]].sum()) / M_PER_KM
        soc_end = self.soc - energy / self.v.spec.battery_kwh
        start, end = float(batch.start_s[lo]), batch.end_s(k)
        dest = int(self.ctx.net.v_pos[batch.edge[hi - 1]])
        record = TripRecord(
            batch, k, self.pos, dest, purpose, start, end, distance_km, energy, self.soc, soc_end,
            stranded=self._stranded,
        )  # fmt: skip
        self._stranded = False
        self.out.trips.append(record)
        if purpose != TripPurpose.CHARGING:
            self._resolve_pending(distance_km)
        self.soc, self.t_free, self.t_arrive, self.pos = soc_end, end, end, dest

    def _resolve_pending(self, continuation_km: float) -> None:
        """Set the detour of the last stop: station leg + continuation - direct trip."""
        if self._pending is None:
            return
        idx, leg_km, direct_km = self._pending
        detour = max(0.0, leg_km + continuation_km - direct_km)
        self.out.sessions[idx] = replace(self.out.sessions[idx], detour_km=detour)
        self._pending = None

    # -- decisions -------------------------------------------------------------------
    def _stop_needed(self, batch: Driven, k: int, i: int, dep: float) -> list[ChargingTrigger]:
        """Triggers of a charging stop before a trip, in the order to try them."""
        lo, hi = batch.offsets[k], batch.offsets[k + 1]
        energy = float(batch.components_kwh[lo:hi].sum())
        floor = self._floor(dep)
        usable = self._usable(self.soc, floor)
        after = self._usable(self.soc - energy / self.v.spec.battery_kwh, floor)
        home_next = self.v.has_home_charger and self.plan.destination[i] == self.v.home
        reserve = min(self.p.reserve_soc, 0.08) if home_next else self.p.reserve_soc
        triggers = []
        if usable < self.p.threshold_soc and not (home_next and after >= reserve):
            triggers.append(ChargingTrigger.THRESHOLD)
        if after < reserve:
            triggers.append(ChargingTrigger.EMERGENCY)
        return triggers

    def _after_arrival(self, i: int) -> None:
        """Charge during the dwell before trip ``i`` (or the last night)."""
        has_next = i < len(self.plan)
        next_dep = self.plan.depart_s[i] if has_next else self.ctx.period_end_s + _LAST_NIGHT_S
        if self.pos == self.v.home and self.v.has_home_charger:
            self._home_session(next_dep)
        elif has_next and next_dep - self.t_free >= MIN_OPPORTUNISTIC_DWELL_MIN * MINUTE_S:
            self._dwell_stop(i, next_dep)

    def _home_session(self, next_dep: float) -> None:
        if next_dep - self.t_free < MIN_HOME_DWELL_S:
            return
        floor = self._floor(self.t_free)
        if self._usable(self.soc, floor) >= self.p.plug_in_below_soc:
            return
        start = self.t_free + PLUG_IN_S
        if self.p.shifts_to_off_peak:
            off_peak = self.ctx.tariff.off_peak_from(start)
            if off_peak + HOUR_S <= next_dep:
                start = off_peak
        overnight = np.floor((next_dep - NIGHT_S) / DAY_S) >= np.ceil((start - NIGHT_S) / DAY_S)
        self._session(
            None,
            start,
            next_dep - 300.0,
            target=self.p.home_target_soc,
            trigger=ChargingTrigger.OVERNIGHT if overnight else ChargingTrigger.OPPORTUNISTIC,
        )

    def _dwell_stop(self, i: int, next_dep: float) -> None:
        floor = self._floor(self.t_free)
        usable = self._usable(self.soc, floor)
        if usable < self.p.threshold_soc:
            trigger = ChargingTrigger.THRESHOLD
        elif (
            usable < self.p.public_target_soc - 0.1
            and self.v.rng.random() < self.p.opportunistic_prob
        ):
            trigger = ChargingTrigger.OPPORTUNISTIC
        else:
            return
        ctx = self.ctx
        near = nearest_stations(
            ctx.stations, *ctx.latlon(self.pos), radius_km=OPPORTUNISTIC_RADIUS_KM
        )
        if near.size == 0:
            return
        s = int(near[0])
        leg = self._drive_to_station(s, self.t_free + GAP_S)
        if leg is None:
            return
        batch, leg_km = leg
        arrive = batch.end_s(0)
        if next_dep - arrive < 1800.0:
            return
        self._record(batch, 0, TripPurpose.CHARGING)
        ok = self._session(
            s, arrive + GAP_S, next_dep - GAP_S, target=self.p.public_target_soc, trigger=trigger
        )
        self._set_pending(ok, leg_km, i)

    def _en_route_stop(self, trigger: ChargingTrigger, i: int, dep: float) -> bool:
        ctx, plan = self.ctx, self.plan
        origin, dest = ctx.latlon(self.pos), ctx.latlon(plan.destination[i])
        need_kwh = self.v.spec.battery_kwh * max(0.2, self.p.public_target_soc - self.soc)
        emergency = trigger == ChargingTrigger.EMERGENCY
        want_dc = emergency or self.v.rng.random() < self.p.prefers_dcfc
        budget = ctx.max_detour_km * (3.0 if emergency else 1.0)

        def rank(dcfc: bool) -> np.ndarray:
            return rank_stations(
                ctx.stations, origin, dest, energy_kwh=need_kwh, spec=self.v.spec,
                tariff=ctx.tariff, want_dcfc=dcfc, max_detour_km=budget,
            )  # fmt: skip

        cands = rank(want_dc)
        if cands.size == 0:
            cands = rank(not want_dc)
        cands = cands[:_CANDIDATES]
        if emergency:  # whatever happens, reach the nearest chargers
            nearest = nearest_stations(ctx.stations, *origin, radius_km=np.inf)[:_CANDIDATES]
            cands = np.concatenate([cands, nearest[~np.isin(nearest, cands)]])
        for s in cands:
            leg = self._drive_to_station(int(s), dep)
            if leg is not None:
                return self._charge_en_route(int(s), leg, trigger, i)
        return False

    # -- helpers ---------------------------------------------------------------------
    def _drive_to_station(self, s: int, dep: float) -> tuple[Driven, float] | None:
        """Drive the leg to station ``s`` if the battery can make it (not recorded yet)."""
        node = int(self.ctx.station_pos[s])
        if node == self.pos:
            return None
        route = self.ctx.route(self.pos, node)
        batch = self.ctx.drive(self.v, [route], np.array([dep]), self._parked_s(dep))
        late = batch.end_s(0) > self.ctx.period_end_s
        if late or self.soc < self._needed_soc(batch, 0, dep) + MIN_ARRIVAL_SOC:
            return None
        return batch, float(self.ctx.net.length_m[batch.edge].sum()) / M_PER_KM

    def _charge_en_route(
        self, s: int, leg: tuple[Driven, float], trigger: ChargingTrigger, i: int
    ) -> bool:
        batch, leg_km = leg
        self._record(batch, 0, TripPurpose.CHARGING)
        ctx = self.ctx
        kind = ChargingKind.DCFC if ctx.stations.is_dcfc[s] else ChargingKind.L2
        wait_s = ctx.queue_wait_s(self.v.rng, kind, self.t_free)
        start = self.t_free + wait_s
        latest = start + (_EN_ROUTE_L2_MAX_S if kind == ChargingKind.L2 else 4 * HOUR_S)
        target = min(MAX_PUBLIC_TARGET_SOC, max(self.p.public_target_soc, self.soc + 0.3))
        ok = self._session(
            s,
            start,
            latest,
            target=target,
            trigger=trigger,
            wait_min=wait_s / MINUTE_S,
        )
        self._set_pending(ok, leg_km, i)
        return True

    def _set_pending(self, ok: bool, leg_km: float, i: int) -> None:
        if ok:
            self._pending = (len(self.out.sessions) - 1, leg_km, self.plan_km(i))

    def plan_km(self, i: int) -> float:
        """Routed length of planned trip ``i``, km."""
        if self._planned is None:
            return 0.0
        lo, hi = self._planned.offsets[i], self._planned.offsets[i + 1]
        return float(self.ctx.net.length_m[self._planned.edge[lo:hi]].sum()) / M_PER_KM

    def _session(
        self,
        station: int | None,
        start: float,
        latest: float,
        *,
        target: float,
        trigger: ChargingTrigger,
        wait_min: float = 0.0,
    ) -> bool:
        """Charge at public station ``station`` (``None``: home charger, -1: roadside)."""
        ctx = self.ctx
        fee = 0.0
        if station is None:
            kind, place, factor = ChargingKind.HOME, ctx.home_place(self.v), 1.0
            power = self.v.home_power_kw
        elif station < 0:
            kind, place, factor = ChargingKind.ROADSIDE, ("ROADSIDE", *ctx.latlon(self.pos)), 1.0
            power, fee = ROADSIDE_POWER_KW, ROADSIDE_CALLOUT_USD
        else:
            st = ctx.stations
            kind = ChargingKind.DCFC if st.is_dcfc[station] else ChargingKind.L2
            place, power = ctx.station_place(station), float(st.power_kw[station])
            factor = float(st.price_factor[station])
        session = charge(
            self.v.spec,
            kind=kind,
            charger_kw=power,
            soc_start=self.soc,
            target_soc=target,
            start_s=start,
            latest_end_s=latest,
            tariff=ctx.tariff,
            efficiency=ctx.efficiency,
            place=place,
            trigger=trigger,
            station_factor=factor,
            wait_min=wait_min,
        )
        if session is None:
            return False
        if fee:
            session = replace(session, cost_usd=session.cost_usd + fee)
        self.out.sessions.append(session)
        self.soc, self.t_free = session.soc_end, session.end_s
        return True
