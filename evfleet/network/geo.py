"""Vectorised geometry helpers: distances, bearings, projections, polygon tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer

from evfleet.units import M_PER_KM

EARTH_RADIUS_M = 6_371_008.8
EARTH_RADIUS_KM = EARTH_RADIUS_M / M_PER_KM
_SEGMENT_CHUNK = 200_000

FloatArray = NDArray[np.float64]


def _central_angle(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> FloatArray:
    """Angle (radians) between points given in degrees, by the haversine formula."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * np.arcsin(np.sqrt(np.clip(a, 0, 1))), dtype=float)


def haversine_m(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> FloatArray:
    """Great-circle distance in metres between points given in degrees (broadcasting)."""
    return EARTH_RADIUS_M * _central_angle(lat1, lon1, lat2, lon2)


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> FloatArray:
    """Great-circle distance in km between points given in degrees (broadcasting)."""
    return EARTH_RADIUS_KM * _central_angle(lat1, lon1, lat2, lon2)


def bearing_deg(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> FloatArray:
    """Initial compass bearing in degrees [0, 360) from point 1 to point 2."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    y = np.sin(dlmb) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dlmb)
    return np.asarray(np.degrees(np.arctan2(y, x)) % 360.0, dtype=float)


def heading_change_deg(from_deg: ArrayLike, to_deg: ArrayLike) -> FloatArray:
    """Absolute change of heading between two compass headings, degrees (0..180)."""
    delta = (np.asarray(to_deg, np.float64) - np.asarray(from_deg, np.float64) + 180.0) % 360.0
    return np.asarray(np.abs(delta - 180.0), dtype=np.float64)


def utm_crs(lat: float, lon: float) -> str:
    """EPSG code (``"EPSG:326zz"`` / ``"EPSG:327zz"``) of the UTM zone containing a point."""
    zone = int((lon + 180) // 6) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def project(lat: ArrayLike, lon: ArrayLike, crs: str) -> tuple[FloatArray, FloatArray]:
    """Project lat/lon degrees to ``crs`` (metres), returning ``(x_m, y_m)``."""
    tr = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_user_input(crs), always_xy=True)
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


class LocalKm:
    """Equirectangular projection to kilometres around a reference point (for synthesis)."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0, self.lon0 = lat0, lon0
        self.ky = np.pi * EARTH_RADIUS_M / 180.0 / M_PER_KM
        self.kx = self.ky * np.cos(np.radians(lat0))

    def to_xy(self, lat: ArrayLike, lon: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Degrees -> (x_km, y_km)."""
        x = (np.asarray(lon, dtype=float) - self.lon0) * self.kx
        y = (np.asarray(lat, dtype=float) - self.lat0) * self.ky
        return x, y

    def to_latlon(self, x_km: ArrayLike, y_km: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """(x_km, y_km) -> (lat, lon) degrees."""
        lat = np.asarray(y_km, dtype=float) / self.ky + self.lat0
        lon = np.asarray(x_km, dtype=float) / self.kx + self.lon0
        return lat, lon


def points_in_polygon(
    lat: ArrayLike, lon: ArrayLike, polygon: Sequence[tuple[float, float]]
) -> NDArray[np.bool_]:
    """True where a point lies inside a (lat, lon) polygon (implicitly closed; even-odd rule)."""
    py = np.asarray(lat, dtype=float).ravel()
    px = np.asarray(lon, dtype=float).ravel()
    a, b = _polygon_segments(polygon)
    inside = np.zeros(len(px), dtype=bool)
    n_chunk = max(1, _SEGMENT_CHUNK // len(a))
    for start in range(0, len(px), n_chunk):
        x, y = px[start : start + n_chunk, None], py[start : start + n_chunk, None]
        ay, ax, by, bx = a[None, :, 0], a[None, :, 1], b[None, :, 0], b[None, :, 1]
        straddle = (ay > y) != (by > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = ax + (y - ay) * (bx - ax) / (by - ay)
        inside[start : start + n_chunk] = (
            np.count_nonzero(straddle & (x < x_cross), axis=1) % 2
        ) == 1
    return inside


def _polygon_segments(polygon: Sequence[tuple[float, float]]) -> tuple[FloatArray, FloatArray]:
    poly = np.asarray(polygon, dtype=float)
    return poly, np.roll(poly, -1, axis=0)


def _cross(ax: FloatArray, ay: FloatArray, bx: FloatArray, by: FloatArray) -> FloatArray:
    return np.asarray(ax * by - ay * bx, dtype=float)


def segments_cross_polygon(
    lat1: ArrayLike,
    lon1: ArrayLike,
    lat2: ArrayLike,
    lon2: ArrayLike,
    polygon: Sequence[tuple[float, float]],
) -> NDArray[np.bool_]:
    """True where a segment enters a polygon: an endpoint inside or an edge crossing.

    Works in degree space, which is exact for the straight-line test at these scales.
    """
    y1, x1 = np.asarray(lat1, dtype=float), np.asarray(lon1, dtype=float)
    y2, x2 = np.asarray(lat2, dtype=float), np.asarray(lon2, dtype=float)
    hit = points_in_polygon(y1, x1, polygon) | points_in_polygon(y2, x2, polygon)
    a, b = _polygon_segments(polygon)
    n_chunk = max(1, _SEGMENT_CHUNK // len(a))
    for start in range(0, len(y1), n_chunk):
        sl = slice(start, start + n_chunk)
        px, py = x1[sl, None], y1[sl, None]
        rx, ry = (x2[sl] - x1[sl])[:, None], (y2[sl] - y1[sl])[:, None]
        qx, qy = a[None, :, 1], a[None, :, 0]
        sx, sy = (b[:, 1] - a[:, 1])[None, :], (b[:, 0] - a[:, 0])[None, :]
        denom = _cross(rx, ry, sx, sy)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = _cross(qx - px, qy - py, sx, sy) / denom
            u = _cross(qx - px, qy - py, rx, ry) / denom
        inter = (denom != 0) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
        hit[sl] |= inter.any(axis=1)
    return hit


def distance_to_polygon_edges_km(
    lat: ArrayLike, lon: ArrayLike, polygon: Sequence[tuple[float, float]], proj: LocalKm
) -> FloatArray:
    """Distance in km from each point to the nearest edge of a polygon."""
    px, py = proj.to_xy(lat, lon)
    px, py = px.ravel(), py.ravel()
    a, b = _polygon_segments(polygon)
    ax, ay = proj.to_xy(a[:, 0], a[:, 1])
    bx, by = proj.to_xy(b[:, 0], b[:, 1])
    dx, dy = bx - ax, by - ay
    seg_len2 = np.maximum(dx * dx + dy * dy, 1e-12)
    out = np.empty(len(px))
    n_chunk = max(1, _SEGMENT_CHUNK // len(ax))
    for start in range(0, len(px), n_chunk):
        sl = slice(start, start + n_chunk)
        qx, qy = px[sl, None] - ax[None, :], py[sl, None] - ay[None, :]
        t = np.clip((qx * dx + qy * dy) / seg_len2, 0, 1)
        ex, ey = qx - t * dx, qy - t * dy
        out[sl] = np.sqrt((ex * ex + ey * ey).min(axis=1))
    return out
