"""Terrain model: smooth elevation at any lat/lon from the embedded peaks and ridges.

Elevation on land is ``shore + inland rise + hills``: about 2 m at the shore, a gentle rise
of up to ~25 m inland (valley floors), and hills as Gaussian bumps (peaks) or Gaussian
cross-sections along ridge crests (the East Bay hills, the Santa Cruz Mountains). Hills are
combined with a p-norm (a smooth maximum), so neighbouring peaks keep their heights instead
of stacking. Water is 0 m. Hills fade out within a few hundred metres of the shore so that
the shoreline stays at ~0-5 m.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evfleet.network.geo import (
    LocalKm,
    distance_to_polygon_edges_km,
    points_in_polygon,
    segments_cross_polygon,
)
from evfleet.network.synthetic import bay_area_facts as geo_facts

SHORE_M = 2.0
INLAND_RISE_M = 25.0
INLAND_SCALE_KM = 6.0
SHORE_TAPER_KM = 0.4
HILL_NORM_P = 4.0

FloatArray = NDArray[np.float64]


class TerrainModel:
    """Elevation in metres at any lat/lon of the Bay Area (flat ~27 m far from it)."""

    def __init__(self) -> None:
        self.proj = LocalKm(37.7, -122.2)
        peaks = geo_facts.PEAKS
        self._peak_xy = np.column_stack(
            self.proj.to_xy([p.lat for p in peaks], [p.lon for p in peaks])
        )
        self._peak_h = np.array([p.elevation_m for p in peaks])
        self._peak_r = np.array([p.radius_km for p in peaks])
        self._ridges = []
        for width_km, crest in geo_facts.RIDGES:
            arr = np.asarray(crest, dtype=float)
            x, y = self.proj.to_xy(arr[:, 0], arr[:, 1])
            self._ridges.append((width_km, np.column_stack([x, y]), arr[:, 2]))
        heights = np.concatenate([self._peak_h, *[r[2] for r in self._ridges]])
        self.max_elevation_m = float(
            SHORE_M + INLAND_RISE_M + np.sum(heights**HILL_NORM_P) ** (1 / HILL_NORM_P)
        )
        """Upper bound of :meth:`elevation_m` (the lower bound is 0 m)."""

    def is_water(self, lat: ArrayLike, lon: ArrayLike) -> NDArray[np.bool_]:
        """True where a point lies in the bay, the Pacific or the Carquinez Strait."""
        lat_a, lon_a = np.asarray(lat, dtype=float).ravel(), np.asarray(lon, dtype=float).ravel()
        water = np.zeros(lat_a.shape, dtype=bool)
        for _, poly in geo_facts.WATER_BODIES:
            water |= points_in_polygon(lat_a, lon_a, poly)
        return water

    def shore_distance_km(self, lat: ArrayLike, lon: ArrayLike) -> FloatArray:
        """Distance in km to the nearest shoreline."""
        lat_a, lon_a = np.asarray(lat, dtype=float).ravel(), np.asarray(lon, dtype=float).ravel()
        dists = [
            distance_to_polygon_edges_km(lat_a, lon_a, poly, self.proj)
            for _, poly in geo_facts.WATER_BODIES
        ]
        return np.asarray(np.minimum.reduce(dists), dtype=float)

    def hills_m(self, lat: ArrayLike, lon: ArrayLike) -> FloatArray:
        """Hill height in metres above the valley floor (peaks and ridges, smooth maximum)."""
        x, y = self.proj.to_xy(
            np.asarray(lat, dtype=float).ravel(), np.asarray(lon, dtype=float).ravel()
        )
        d2 = (x[:, None] - self._peak_xy[None, :, 0]) ** 2 + (
            y[:, None] - self._peak_xy[None, :, 1]
        ) ** 2
        contrib = self._peak_h[None, :] * np.exp(-d2 / self._peak_r[None, :] ** 2)
        acc = np.sum(contrib**HILL_NORM_P, axis=1)
        for width_km, xy, crest_h in self._ridges:
            a, b = xy[:-1], xy[1:]
            dx, dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
            qx, qy = x[:, None] - a[None, :, 0], y[:, None] - a[None, :, 1]
            t = np.clip((qx * dx + qy * dy) / (dx * dx + dy * dy), 0, 1)
            dist2 = (qx - t * dx) ** 2 + (qy - t * dy) ** 2
            h = crest_h[:-1][None, :] + t * (crest_h[1:] - crest_h[:-1])[None, :]
            acc += np.sum((h * np.exp(-dist2 / width_km**2)) ** HILL_NORM_P, axis=1)
        return np.asarray(acc ** (1 / HILL_NORM_P), dtype=float)

    def elevation_m(self, lat: ArrayLike, lon: ArrayLike) -> FloatArray:
        """Ground elevation in metres (0 on water)."""
        lat_a, lon_a = np.asarray(lat, dtype=float).ravel(), np.asarray(lon, dtype=float).ravel()
        d = self.shore_distance_km(lat_a, lon_a)
        taper = np.clip(d / SHORE_TAPER_KM, 0, 1)
        taper = taper * taper * (3 - 2 * taper)
        rise = INLAND_RISE_M * (1 - np.exp(-d / INLAND_SCALE_KM))
        elev = SHORE_M + rise + taper * self.hills_m(lat_a, lon_a)
        return np.where(self.is_water(lat_a, lon_a), 0.0, elev)


def crosses_water(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.bool_]:
    """True where a straight segment touches any embedded water body."""
    out = np.zeros(np.size(lat1), dtype=bool)
    for _, poly in geo_facts.WATER_BODIES:
        out |= segments_cross_polygon(lat1, lon1, lat2, lon2, poly)
    return out


def limit_grade_cut(elevation_m: ArrayLike, along_m: ArrayLike, max_grade: float) -> FloatArray:
    """Largest profile below ``elevation_m`` whose grade never exceeds ``max_grade``.

    This is how a freeway cuts through hills (cuttings and tunnels): the lower envelope
    ``min_j e_j + g |s_i - s_j|``, computed in two vectorised passes. ``inf`` entries do not
    constrain the profile (used for bridge spans that get their own deck profile).
    """
    e = np.asarray(elevation_m, dtype=float)
    s = np.asarray(along_m, dtype=float)
    fwd = np.minimum.accumulate(e - max_grade * s) + max_grade * s
    bwd = (np.minimum.accumulate((e + max_grade * s)[::-1]))[::-1] - max_grade * s
    return np.asarray(np.minimum(fwd, bwd), dtype=float)
