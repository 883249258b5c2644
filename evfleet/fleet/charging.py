"""Charging sessions: time-of-use tariffs, station choice and session physics.

A session charges a vehicle from ``soc_start`` towards a target SOC between a start time
and the latest time the driver can wait. AC ratings (home wall box, L2 and the on-board
charger) are grid-side: the battery gets the smaller of charger and on-board charger
times ``efficiency``. DC ratings are battery-side outputs, limited by the vehicle's
acceptance curve (taper above ~80 %); both through
:meth:`evfleet.vehicles.VehicleSpec.soc_after_charging`. The grid delivers
``energy_kwh / efficiency``; the cost integrates the time-of-use price over the session,
splitting the energy exactly at the tariff boundaries. A session records the charger's
rating (``power_kw``) and the battery-side mean power it achieved (``mean_power_kw``).

Times are seconds since midnight of the first simulated day (local time).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from evfleet.network.geo import haversine_km
from evfleet.units import DAY_S, HOUR_S, MINUTE_S
from evfleet.vocab import ChargingKind, ChargingTrigger

if TYPE_CHECKING:
    import pandas as pd

    from evfleet.config import ChargingConfig
    from evfleet.vehicles import VehicleSpec

logger = logging.getLogger(__name__)

VALUE_OF_TIME_USD_PER_H = 20.0
"""Driver's value of time used to trade detour and charging time against price."""
ROADSIDE_POWER_KW = 20.0
"""Battery-side output of a mobile roadside DC charger (van-mounted units: 15-25 kW)."""
ROADSIDE_RESPONSE_S = 75 * MINUTE_S
"""Time from the call until roadside assistance arrives (US average ~60-90 min)."""
ROADSIDE_CALLOUT_USD = 150.0
"""Call-out fee of a roadside charging / towing service without a membership."""
ROADSIDE_USD_PER_KWH = 0.9
"""Price of the energy a mobile charger delivers, USD per grid kWh (diesel-generator or
battery-van supply, about twice a DC fast charger)."""


@dataclass(frozen=True, slots=True)
class Tariff:
    """Time-of-use prices of home, L2 and DC fast charging (USD per grid kWh).

    Public prices are the base price times ``public_multiplier``; every price is multiplied
    by ``peak_multiplier`` during the daily peak hours ``[peak_start_h, peak_end_h)``.
    """

    home_usd_per_kwh: float
    l2_usd_per_kwh: float
    dcfc_usd_per_kwh: float
    public_multiplier: float
    peak_multiplier: float
    peak_start_h: int
    peak_end_h: int

    @classmethod
    def from_config(cls, charging: ChargingConfig) -> Tariff:
        """Tariff of a :class:`~evfleet.config.ChargingConfig`."""
        start, end = charging.peak_hours
        return cls(
            home_usd_per_kwh=charging.home_price_usd_per_kwh,
            l2_usd_per_kwh=charging.l2_price_usd_per_kwh,
            dcfc_usd_per_kwh=charging.dcfc_price_usd_per_kwh,
            public_multiplier=charging.public_multiplier,
            peak_multiplier=charging.peak_multiplier,
            peak_start_h=int(start),
            peak_end_h=int(end),
        )

    def base_price(self, kind: ChargingKind | str) -> float:
        """Off-peak price of ``kind`` (home, l2, dcfc, roadside), USD per grid kWh."""
        if kind == ChargingKind.HOME:
            return self.home_usd_per_kwh
        if kind == ChargingKind.ROADSIDE:
            return ROADSIDE_USD_PER_KWH
        base = self.l2_usd_per_kwh if kind == ChargingKind.L2 else self.dcfc_usd_per_kwh
        return base * self.public_multiplier

    def is_peak(self, t_s: np.ndarray | float) -> np.ndarray:
        """Whether each time falls in the peak hours."""
        hour = np.floor(np.mod(np.asarray(t_s, dtype=float), DAY_S) / HOUR_S)
        return np.asarray((hour >= self.peak_start_h) & (hour < self.peak_end_h))

    def price(
        self, kind: ChargingKind | str, t_s: np.ndarray | float, *, station_factor: float = 1.0
    ) -> np.ndarray:
        """Price of ``kind`` at each time, USD per grid kWh.

        ``station_factor`` scales a public station's price relative to the typical price of
        its kind (stations differ; the tariff sets the level).
        """
        factor = np.where(self.is_peak(t_s), self.peak_multiplier, 1.0)
        return np.asarray(self.base_price(kind) * station_factor * factor)

    def off_peak_from(self, t_s: float) -> float:
        """Earliest time at or after ``t_s`` outside the peak."""
        if not bool(self.is_peak(t_s)):
            return t_s
        day = np.floor(t_s / DAY_S) * DAY_S
        return float(day + self.peak_end_h * HOUR_S)

    def boundaries(self, start_s: float, end_s: float) -> np.ndarray:
        """Times strictly inside ``(start_s, end_s)`` at which the price changes."""
        first_day = np.floor(start_s / DAY_S)
        days = np.arange(first_day, np.floor(end_s / DAY_S) + 1) * DAY_S
        edges = np.concatenate([days + self.peak_start_h * HOUR_S, days + self.peak_end_h * HOUR_S])
        edges = np.sort(edges)
        return edges[(edges > start_s) & (edges < end_s)]


@dataclass(frozen=True, slots=True)
class Session:
    """One charging session (times in seconds since the period start)."""

    kind: ChargingKind
    station_id: str
    lat: float
    lon: float
    start_s: float
    end_s: float
    soc_start: float
    soc_end: float
    energy_kwh: float
    grid_kwh: float
    power_kw: float
    mean_power_kw: float
    cost_usd: float
    trigger: ChargingTrigger
    detour_km: float = 0.0
    wait_min: float = 0.0


def charge(
    spec: VehicleSpec,
    *,
    kind: ChargingKind | str,
    charger_kw: float,
    soc_start: float,
    target_soc: float,
    start_s: float,
    latest_end_s: float,
    tariff: Tariff,
    efficiency: float,
    place: tuple[str, float, float],
    trigger: ChargingTrigger | str,
    station_factor: float = 1.0,
    wait_min: float = 0.0,
) -> Session | None:
    """Charge towards ``target_soc`` from ``start_s``, stopping at ``latest_end_s``.

    Parameters
    ----------
    spec
        The vehicle (charging curve, on-board charger, capacity).
    kind
        A :class:`ChargingKind` (or its value); an unknown kind is a ``ValueError``.
    charger_kw
        Charger power rating, kW (grid-side for AC, battery-side output for DC).
    soc_start, target_soc
        SOC at the start and the SOC the driver wants (fractions of ``battery_kwh``).
    start_s, latest_end_s
        Plug-in time and the time the vehicle must leave.
    tariff, efficiency
        Prices and battery-kWh-per-grid-kWh.
    place
        ``(station_id, lat, lon)``.
    trigger, wait_min
        Recorded on the session (the walk sets ``detour_km`` once the stop is driven).
    station_factor
        Price of the station relative to its kind's typical price.

    Returns
    -------
    Session or None
        ``None`` when nothing can be charged (already at target or no time).
    """
    kind, trigger = ChargingKind(kind), ChargingTrigger(trigger)
    ckind = kind.charger
    target = min(1.0, target_soc)
    if target <= soc_start + 1e-4 or latest_end_s <= start_s:
        return None
    rate: dict[str, Any] = {"charger_kw": charger_kw, "kind": ckind, "efficiency": efficiency}
    needed_s = float(spec.charge_duration_s(soc_start, target, **rate))
    duration_s = min(needed_s, latest_end_s - start_s)
    if duration_s < 60.0:
        return None
    soc_end = (
        target
        if duration_s >= needed_s
        else float(spec.soc_after_charging(soc_start, duration_s, **rate))
    )
    energy_kwh = (soc_end - soc_start) * spec.battery_kwh
    end_s = start_s + duration_s
    cost = _session_cost(
        spec, kind, rate, (soc_start, soc_end), (start_s, end_s), tariff, station_factor
    )
    station_id, lat, lon = place
    return Session(
        kind=kind,
        station_id=station_id,
        lat=lat,
        lon=lon,
        start_s=start_s,
        end_s=end_s,
        soc_start=soc_start,
        soc_end=soc_end,
        energy_kwh=energy_kwh,
        grid_kwh=energy_kwh / efficiency,
        power_kw=charger_kw,
        mean_power_kw=energy_kwh / (duration_s / HOUR_S),
        cost_usd=cost / efficiency,
        trigger=trigger,
        wait_min=wait_min,
    )


def _session_cost(
    spec: VehicleSpec,
    kind: ChargingKind,
    rate: dict[str, Any],
    socs: tuple[float, float],
    times: tuple[float, float],
    tariff: Tariff,
    station_factor: float,
) -> float:
    """Cost of the battery energy at the TOU price (divide by efficiency for grid cost).

    The session is cut at every tariff boundary; the SOC at each cut follows the charging
    curve, so each piece of energy is priced at its own hour.
    """
    (soc_start, soc_end), (start_s, end_s) = socs, times
    cuts = tariff.boundaries(start_s, end_s)
    at_cuts = spec.soc_after_charging(soc_start, cuts - start_s, **rate)
    soc_path = np.concatenate([[soc_start], np.minimum(at_cuts, soc_end), [soc_end]])
    starts = np.concatenate([[start_s], cuts])
    energy = np.diff(soc_path) * spec.battery_kwh
    return float(np.sum(energy * tariff.price(kind, starts, station_factor=station_factor)))


@dataclass(frozen=True, slots=True)
class StationArrays:
    """Column arrays of the stations table for fast candidate search."""

    station_id: np.ndarray
    node: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    is_dcfc: np.ndarray
    power_kw: np.ndarray
    ports: np.ndarray
    price_factor: np.ndarray

    @classmethod
    def from_frame(
        cls,
        stations: pd.DataFrame,
        *,
        l2_max_kw: float = np.inf,
        dcfc_max_kw: float = np.inf,
    ) -> StationArrays:
        """Arrays of a stations table (station_id, node_id, lat, lon, kind, power_kw, ports).

        ``price_factor`` is each station's ``price_usd_per_kwh`` over the median of its kind
        (1 when the table has no prices). Stations rated above ``l2_max_kw`` /
        ``dcfc_max_kw`` (the study's ``charging.l2_power_kw`` / ``dcfc_power_kw``) are
        derated to it: their rating is what the session records.
        """
        ports = stations["ports"] if "ports" in stations.columns else np.ones(len(stations))
        is_dcfc = (stations["kind"].astype(str) == ChargingKind.DCFC).to_numpy()
        rated = stations["power_kw"].to_numpy(dtype=float)
        return cls(
            station_id=stations["station_id"].astype(str).to_numpy(),
            node=stations["node_id"].to_numpy(dtype=np.int64),
            lat=stations["lat"].to_numpy(dtype=float),
            lon=stations["lon"].to_numpy(dtype=float),
            is_dcfc=is_dcfc,
            power_kw=np.minimum(rated, np.where(is_dcfc, dcfc_max_kw, l2_max_kw)),
            ports=np.asarray(ports, dtype=float),
            price_factor=_price_factor(stations, is_dcfc),
        )


def _price_factor(stations: pd.DataFrame, is_dcfc: np.ndarray) -> np.ndarray:
    if "price_usd_per_kwh" not in stations.columns:
        return np.ones(len(stations))
    price = stations["price_usd_per_kwh"].to_numpy(dtype=float)
    factor = np.ones(len(stations))
    for mask in (is_dcfc, ~is_dcfc):
        valid = mask & np.isfinite(price) & (price > 0)
        if valid.any():
            factor[valid] = price[valid] / np.median(price[valid])
    return factor


def rank_stations(
    stations: StationArrays,
    origin: tuple[float, float],
    destination: tuple[float, float],
    *,
    energy_kwh: float,
    spec: VehicleSpec,
    tariff: Tariff,
    want_dcfc: bool,
    max_detour_km: float,
    circuity: float = 1.3,
) -> np.ndarray:
    """Candidate stations of one kind for an en-route stop, best first.

    The detour A->S->B minus A->B is estimated from great-circle distances times a
    circuity factor; candidates beyond ``max_detour_km`` are dropped. The score trades the
    station's energy price against the value of the detour and charging time (at the
    smaller of the station's and the vehicle's power).

    Returns
    -------
    numpy.ndarray
        Indices into ``stations`` (possibly empty).
    """
    (alat, alon), (blat, blon) = origin, destination
    detour = circuity * (
        haversine_km(alat, alon, stations.lat, stations.lon)
        + haversine_km(stations.lat, stations.lon, blat, blon)
        - haversine_km(alat, alon, blat, blon)
    )
    idx = np.flatnonzero((detour <= max_detour_km) & (stations.is_dcfc == want_dcfc))
    if idx.size == 0:
        return idx
    vehicle_kw = spec.max_dc_kw * 0.7 if want_dcfc else spec.max_ac_kw
    power = np.minimum(stations.power_kw[idx], vehicle_kw)
    price = (
        tariff.base_price(ChargingKind.DCFC if want_dcfc else ChargingKind.L2)
        * stations.price_factor[idx]
    )
    hours = detour[idx] / 40.0 + energy_kwh / np.maximum(power, 1.0)
    score = price * energy_kwh + VALUE_OF_TIME_USD_PER_H * hours - 0.01 * stations.ports[idx]
    return idx[np.argsort(score, kind="stable")]


def nearest_stations(
    stations: StationArrays, lat: float, lon: float, *, radius_km: float
) -> np.ndarray:
    """Indices of stations within ``radius_km`` of a point, nearest first."""
    dist = haversine_km(lat, lon, stations.lat, stations.lon)
    idx = np.flatnonzero(dist <= radius_km)
    return idx[np.argsort(dist[idx], kind="stable")]
