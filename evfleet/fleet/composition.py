"""Fleet composition: which vehicles, who drives them, where they live and work.

Models, driver profiles, charging personalities, driving styles and home-charger access
are assigned by the configured shares with largest-remainder counts (so a small fleet
still matches its mix as closely as possible), then shuffled with the fleet seed. Homes
are residential nodes drawn by population weight; the ``work_node`` is the commuter's
workplace, the rideshare driver's home hub, the delivery driver's depot, or a casual
driver's favourite destination. ``mass_kg`` is the model's test mass plus the profile's
typical payload (passengers, parcels); the simulator drives with it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evfleet.errors import InputDataError
from evfleet.fleet.behaviour import PROFILES
from evfleet.fleet.places import Places
from evfleet.schema import conform
from evfleet.vehicles import get_vehicle
from evfleet.vocab import DriverProfile

if TYPE_CHECKING:
    from evfleet.config import StudioConfig
    from evfleet.network import RoadGraph

logger = logging.getLogger(__name__)

_FLEET_STREAM = 0xF1EE7
_VEHICLE_PREFIX = "EV"
_COMMUTE_MEDIAN_KM = 14.0


def vehicle_id(index: int) -> str:
    """Identifier of the vehicle with fleet position ``index``."""
    return f"{_VEHICLE_PREFIX}{index:06d}"


def vehicle_index(vid: str) -> int:
    """Fleet position encoded in a vehicle id (inverse of :func:`vehicle_id`)."""
    try:
        return int(str(vid).removeprefix(_VEHICLE_PREFIX))
    except ValueError:
        msg = f"vehicle_id {vid!r} is not of the form {_VEHICLE_PREFIX}NNNNNN"
        raise InputDataError(msg) from None


def allocate(shares: dict[Any, float], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` labels matching ``shares`` by largest remainder, in random order.

    Parameters
    ----------
    shares
        Label -> share (summing to 1).
    n
        Number of labels to draw.
    rng
        Generator for the shuffle.
    """
    labels = list(shares)
    exact = np.array([shares[k] for k in labels], dtype=float) * n
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    out = np.repeat(np.arange(len(labels)), counts)
    return np.asarray(labels, dtype=object)[rng.permutation(out)]


def _work_place(rng: np.random.Generator, places: Places, profile: str, home: int) -> int:
    if profile == DriverProfile.COMMUTER.value:
        km = float(np.clip(rng.lognormal(np.log(_COMMUTE_MEDIAN_KM), 0.6), 2.0, 60.0))
        return places.sample_near(rng, home, typical_km=km, min_km=1.0)
    if profile == DriverProfile.RIDESHARE.value:
        return places.nearest_of(home, places.hubs)
    if profile == DriverProfile.DELIVERY.value:
        return places.nearest_of(home, places.depots)
    return places.sample_near(rng, home, typical_km=5.0)


def fleet_from_places(cfg: StudioConfig, places: Places) -> pd.DataFrame:
    """The ``fleet_info`` table for a set of places (see :func:`generate_fleet`)."""
    fleet = cfg.fleet
    n = fleet.n_vehicles
    specs = {model: get_vehicle(model) for model in fleet.market_shares}
    rng = np.random.default_rng([fleet.seed, _FLEET_STREAM])
    models = allocate(fleet.market_shares, n, rng)
    profiles = allocate({p.value: s for p, s in fleet.driver_profiles.items()}, n, rng)
    personalities = allocate({p.value: s for p, s in fleet.charging_personalities.items()}, n, rng)
    styles = allocate({s.value: v for s, v in fleet.driving_styles.items()}, n, rng)
    avail = cfg.charging.home_availability
    has_home = allocate({True: avail, False: 1.0 - avail}, n, rng).astype(bool)
    homes = places.sample_weighted(rng, "home", n)
    work = np.array([_work_place(rng, places, profiles[i], homes[i]) for i in range(n)])
    frame = pd.DataFrame(
        {
            "vehicle_id": [vehicle_id(i) for i in range(n)],
            "model": models,
            "battery_kwh": [specs[m].battery_kwh for m in models],
            "mass_kg": [
                specs[m].test_mass_kg + PROFILES[DriverProfile(p)].payload_kg
                for m, p in zip(models, profiles, strict=True)
            ],
            "driver_profile": profiles,
            "driving_style": styles,
            "charging_personality": personalities,
            "has_home_charger": has_home,
            "home_node": places.node_id[homes],
            "home_lat": places.lat[homes],
            "home_lon": places.lon[homes],
            "work_node": places.node_id[work],
            "initial_soc": np.round(rng.uniform(0.55, 0.95, n), 4),
        }
    )
    return conform("fleet_info", frame)


def generate_fleet(cfg: StudioConfig, graph: RoadGraph) -> pd.DataFrame:
    """Draw the fleet: one row per vehicle, deterministic from ``cfg.fleet.seed``.

    Parameters
    ----------
    cfg
        Studio configuration (``fleet`` shares and size, ``charging.home_availability``).
    graph
        The road network (:class:`evfleet.network.RoadGraph`); homes and work places
        are nodes of it.

    Returns
    -------
    pandas.DataFrame
        The ``fleet_info`` table.
    """
    table = fleet_from_places(cfg, Places.from_nodes(graph.nodes_frame()))
    logger.info(
        "fleet: %d vehicles, %s", len(table), table["driver_profile"].value_counts().to_dict()
    )
    return table
