"""Where people live, work and go: weighted node sets of the road network.

:class:`Places` holds the network's nodes as arrays (positions 0..n-1, node ids, lat/lon)
with two weights: ``home_weight`` (residential population) and ``activity_weight`` (jobs,
shops, services). Rideshare hubs and delivery depots are picked from the activity weight
with a minimum spacing. Destinations are drawn by importance sampling: a small pool of
candidates by weight, then one of them by a distance preference, so a draw costs
O(pool) rather than O(nodes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evfleet.errors import InputDataError
from evfleet.network.geo import haversine_km
from evfleet.schema import require_columns

logger = logging.getLogger(__name__)

_POOL = 48
N_HUBS = 12
N_DEPOTS = 6
_HUB_SPACING_KM = 3.0
_DEPOT_SPACING_KM = 6.0

_HOME_COLUMNS = ("pop_weight", "population_weight", "population", "weight")
_ACTIVITY_COLUMNS = ("commercial_weight", "activity_weight", "jobs_weight", "weight")


def _weight_column(nodes: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    for name in names:
        if name in nodes.columns:
            w = nodes[name].to_numpy(dtype=float)
            return np.where(np.isfinite(w) & (w > 0), w, 0.0)
    return np.ones(len(nodes))


def _spread(order: np.ndarray, lat: np.ndarray, lon: np.ndarray, n: int, km: float) -> np.ndarray:
    """First ``n`` positions of ``order`` at least ``km`` apart (greedy)."""
    chosen: list[int] = []
    for pos in order:
        if len(chosen) == n:
            break
        if not chosen or haversine_km(lat[pos], lon[pos], lat[chosen], lon[chosen]).min() >= km:
            chosen.append(int(pos))
    return np.asarray(chosen, dtype=np.int64)


@dataclass(frozen=True)
class Places:
    """Candidate origins and destinations (positions index the arrays).

    Attributes
    ----------
    node_id, lat, lon
        Network nodes.
    home_weight, activity_weight
        Non-negative sampling weights of homes and of activity destinations.
    hubs, depots
        Positions of rideshare hubs and delivery depots.
    """

    node_id: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    home_weight: np.ndarray
    activity_weight: np.ndarray
    hubs: np.ndarray
    depots: np.ndarray

    @classmethod
    def from_nodes(cls, nodes: pd.DataFrame) -> Places:
        """Places of a nodes table (``node_id``, ``lat``, ``lon`` and optional weights)."""
        require_columns(nodes, ("node_id", "lat", "lon"), "network nodes table")
        if nodes.empty:
            msg = "network nodes table is empty"
            raise InputDataError(msg)
        lat = nodes["lat"].to_numpy(dtype=float)
        lon = nodes["lon"].to_numpy(dtype=float)
        home = _weight_column(nodes, _HOME_COLUMNS)
        activity = _weight_column(nodes, _ACTIVITY_COLUMNS)
        if home.sum() <= 0:
            home = np.ones(len(nodes))
        if activity.sum() <= 0:
            activity = np.ones(len(nodes))
        order = np.argsort(-activity, kind="stable")
        return cls(
            node_id=nodes["node_id"].to_numpy(dtype=np.int64),
            lat=lat,
            lon=lon,
            home_weight=home,
            activity_weight=activity,
            hubs=_spread(order, lat, lon, N_HUBS, _HUB_SPACING_KM),
            depots=_spread(order[len(order) // 20 :], lat, lon, N_DEPOTS, _DEPOT_SPACING_KM),
        )

    @property
    def size(self) -> int:
        """Number of nodes."""
        return int(self.node_id.size)

    def distance_km(self, a: int | np.ndarray, b: int | np.ndarray) -> np.ndarray:
        """Great-circle distance between positions, km."""
        return haversine_km(self.lat[a], self.lon[a], self.lat[b], self.lon[b])

    def sample_weighted(self, rng: np.random.Generator, weight: str, n: int) -> np.ndarray:
        """``n`` positions drawn with probability proportional to a weight."""
        w = self.home_weight if weight == "home" else self.activity_weight
        cdf = np.cumsum(w)
        return np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), w.size - 1)

    def sample_near(
        self,
        rng: np.random.Generator,
        origin: int,
        *,
        typical_km: float,
        min_km: float = 0.3,
        max_km: float = 1e9,
        weight: str = "activity",
    ) -> int:
        """A destination drawn by weight, preferring a distance near ``typical_km``.

        A pool of candidates is drawn by weight; each is scored by a log-normal kernel
        around ``typical_km`` (zero outside ``[min_km, max_km]``) and one is drawn by score.
        Falls back to the farthest candidate below ``max_km`` if none fits.
        """
        pool = self.sample_weighted(rng, weight, _POOL)
        dist = self.distance_km(origin, pool)
        score = np.exp(-0.5 * (np.log(np.maximum(dist, 0.05) / typical_km) / 0.5) ** 2)
        score = np.where((dist >= min_km) & (dist <= max_km) & (pool != origin), score, 0.0)
        if score.sum() <= 0:
            ok = np.flatnonzero((dist <= max_km) & (pool != origin))
            if ok.size == 0:
                return int(pool[0])
            return int(pool[ok[np.argmax(dist[ok])]])
        return int(
            pool[np.searchsorted(np.cumsum(score), rng.random() * score.sum(), side="right")]
        )

    def nearest_of(self, origin: int, candidates: np.ndarray) -> int:
        """The candidate position closest to ``origin``."""
        return int(candidates[np.argmin(self.distance_km(origin, candidates))])

    def extent_km(self) -> float:
        """Diagonal of the network's bounding box, km (caps trip lengths on small maps)."""
        return float(haversine_km(self.lat.min(), self.lon.min(), self.lat.max(), self.lon.max()))
