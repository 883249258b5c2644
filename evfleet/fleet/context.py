"""Chunk-wide simulation context and per-vehicle inputs.

:class:`ChunkContext` bundles what every vehicle of a chunk shares: the network arrays and
a route cache, the weather lookup, the stations, the tariff and the period. Routes are
fetched per origin in batches (one search from an origin to all its destinations) and
cached, so repeated origin-destination pairs (home <-> work) are routed once per chunk.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evfleet.errors import InputDataError
from evfleet.fleet.behaviour import PERSONALITIES, PersonalitySpec
from evfleet.fleet.charging import StationArrays, Tariff
from evfleet.fleet.composition import vehicle_index
from evfleet.fleet.places import Places
from evfleet.fleet.road_arrays import NetArrays, Router
from evfleet.fleet.trips import Driven, drive
from evfleet.fleet.weather import WeatherLookup
from evfleet.physics import PARKED_COLD_S
from evfleet.units import DAY_S, HOUR_S
from evfleet.vehicles import VehicleSpec, get_vehicle
from evfleet.vocab import ChargingKind, ChargingPersonality, DrivingStyle

if TYPE_CHECKING:
    from evfleet.config import StudioConfig

logger = logging.getLogger(__name__)

_BUSY_HOURS = (7, 20)
# (probability of a queue in busy hours, off hours, mean wait minutes) per public kind
_QUEUE = {ChargingKind.DCFC: (0.22, 0.05, 9.0), ChargingKind.L2: (0.10, 0.03, 15.0)}
_MAX_WAIT_MIN = 45.0


@dataclass(frozen=True)
class VehicleInputs:
    """One vehicle's attributes, places (positions) and its own random generator."""

    vehicle_id: str
    spec: VehicleSpec
    profile: str
    style: str
    personality: PersonalitySpec
    has_home_charger: bool
    home: int
    work: int
    initial_soc: float
    home_power_kw: float
    rng: np.random.Generator


def open_stations(stations: pd.DataFrame, share: float, *, seed: int) -> pd.DataFrame:
    """The stations open in the study: a seeded draw of ``share`` of them (at least one).

    The draw depends only on the seed and the table, so every chunk sees the same stations.
    """
    if share >= 1.0:
        return stations
    draws = np.random.default_rng([seed, 7919]).random(len(stations))
    keep = draws < share
    keep[int(np.argmin(draws))] = True
    return stations.loc[keep]


class ChunkContext:
    """Shared state of a chunk simulation.

    Parameters
    ----------
    cfg
        Studio configuration.
    graph
        The road network.
    stations
        Stations table (``station_id, node_id, lat, lon, kind, power_kw, ports``).
    weather
        The ``weather`` table of the period.
    """

    def __init__(
        self, cfg: StudioConfig, graph: Any, stations: pd.DataFrame, weather: pd.DataFrame
    ) -> None:
        self.cfg = cfg
        self.start: dt.date = cfg.fleet.start_date
        self.days = cfg.fleet.days
        self.period_end_s = self.days * DAY_S
        self.net = NetArrays.of(graph)
        self.router = Router(graph, self.net)
        self.places = Places.from_nodes(self.net.nodes)
        self.weather = WeatherLookup(weather, self.start)
        if stations is None or stations.empty:
            msg = "the network has no charging stations; public charging needs at least one"
            raise InputDataError(msg)
        self.stations = StationArrays.from_frame(
            open_stations(stations, cfg.charging.public_station_share, seed=cfg.fleet.seed),
            l2_max_kw=cfg.charging.l2_power_kw,
            dcfc_max_kw=cfg.charging.dcfc_power_kw,
        )
        self.station_pos = self.net.positions(self.stations.node)
        self.tariff = Tariff.from_config(cfg.charging)
        self.efficiency = cfg.charging.efficiency
        self.max_detour_km = cfg.charging.max_detour_km

    # -- vehicles ----------------------------------------------------------------------
    def vehicle(self, row: pd.Series) -> VehicleInputs:
        """Inputs of one ``fleet_info`` row, with its generator ``[seed, index]``."""
        index = vehicle_index(row["vehicle_id"])
        home, work = self.net.positions(np.array([row["home_node"], row["work_node"]]))
        return VehicleInputs(
            vehicle_id=str(row["vehicle_id"]),
            spec=replace(get_vehicle(str(row["model"])), test_mass_kg=float(row["mass_kg"])),
            profile=str(row["driver_profile"]),
            style=DrivingStyle(str(row["driving_style"])).value,
            personality=PERSONALITIES[ChargingPersonality(str(row["charging_personality"]))],
            has_home_charger=bool(row["has_home_charger"]),
            home=int(home),
            work=int(work),
            initial_soc=float(row["initial_soc"]),
            home_power_kw=self.cfg.charging.home_power_kw,
            rng=np.random.default_rng([self.cfg.fleet.seed, index]),
        )

    # -- routing and driving -----------------------------------------------------------
    def prefetch(self, origins: list[int], destinations: list[int]) -> None:
        """Route many origin-destination pairs at once (one search per origin)."""
        self.router.prefetch(origins, destinations)

    def route(self, origin: int, destination: int) -> np.ndarray:
        """Edge indices of the fastest path between two node positions."""
        return self.router.route(origin, destination)

    def drive(
        self,
        v: VehicleInputs,
        routes: list[np.ndarray],
        depart_s: np.ndarray,
        parked_s: float = PARKED_COLD_S,
    ) -> Driven:
        """Profile and energy of routed trips of ``v`` (parked ``parked_s`` before the first)."""
        return drive(
            self.net,
            self.weather,
            v.spec,
            style=v.style,
            routes=routes,
            depart_s=depart_s,
            rng=v.rng,
            start_date=self.start,
            parked_s=parked_s,
        )

    # -- places ------------------------------------------------------------------------
    def latlon(self, pos: int) -> tuple[float, float]:
        """Coordinates of a node position."""
        return float(self.net.lat[pos]), float(self.net.lon[pos])

    def temp_at(self, pos: int, t_s: float) -> float:
        """Air temperature at a node position and time."""
        zone = self.net.node_zone[pos : pos + 1]
        return float(self.weather.get("temp_c", np.array([t_s]), zone)[0])

    def home_place(self, v: VehicleInputs) -> tuple[str, float, float]:
        """Station id and coordinates of a vehicle's home charger."""
        return (f"HOME-{v.vehicle_id}", *self.latlon(v.home))

    def station_place(self, s: int) -> tuple[str, float, float]:
        """Station id and coordinates of public station ``s``."""
        st = self.stations
        return str(st.station_id[s]), float(st.lat[s]), float(st.lon[s])

    def queue_wait_s(self, rng: np.random.Generator, kind: ChargingKind, t_s: float) -> float:
        """Time waiting for a free port at a public station."""
        busy_p, off_p, mean_min = _QUEUE[kind]
        hour = (t_s % DAY_S) / HOUR_S
        p = busy_p if _BUSY_HOURS[0] <= hour < _BUSY_HOURS[1] else off_p
        draw, wait = rng.random(), rng.exponential(mean_min)
        return 60.0 * min(wait, _MAX_WAIT_MIN) if draw < p else 0.0


def expected_queue_wait_s(kind: ChargingKind | str, t_s: float) -> float:
    """Mean of :meth:`ChunkContext.queue_wait_s` (the wait a planner should expect), s."""
    busy_p, off_p, mean_min = _QUEUE[ChargingKind(kind)]
    hour = (t_s % DAY_S) / HOUR_S
    p = busy_p if _BUSY_HOURS[0] <= hour < _BUSY_HOURS[1] else off_p
    return 60.0 * p * mean_min * -np.expm1(-_MAX_WAIT_MIN / mean_min)
