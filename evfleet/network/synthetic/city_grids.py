"""City street grids of the synthetic network, sized by population.

Each place gets a (rotated, rectangular-block) grid inside an irregular outline whose
radius grows with the square root of its population. Blocks are small in the core and
twice as long in the suburbs (only every other street continues). Grid lines form a
hierarchy: about every 1.6 km a primary arterial, every 0.8-0.9 km a secondary, every
0.5-0.6 km a tertiary street, residential streets between. Downtown streets of large cities
alternate one-way directions. Where outlines overlap, a weighted Voronoi rule (distance over radius)
decides which city owns the land, and a city never reaches across water (every grid node
sees its centre over land); boundary nodes of neighbouring cities are then stitched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from evfleet.network.geo import LocalKm
from evfleet.network.synthetic import bay_area_facts as geo_facts
from evfleet.network.synthetic.road_builder import LINE_CLASSES, MPH_TO_KPH, RoadBuilder
from evfleet.network.synthetic.terrain import TerrainModel, crosses_water

logger = logging.getLogger(__name__)

RADIUS_KM_PER_SQRT_KPOP = 0.4
MIN_RADIUS_KM = 1.5
POI_RADIUS_KM = 1.0
POI_PRIORITY = 0.1
MAX_RADIUS_KM = 9.0
CORE_SHARE = 0.4
DOWNTOWN_SHARE = 0.25
DOWNTOWN_MIN_POPULATION = 100_000
DENSE_POPULATION = 500_000
BLOCK_KM_DENSE = 0.14
BLOCK_KM = 0.18
DROP_RESIDENTIAL_SHARE = 0.04
STOP_SHARE = 0.45
LINE_SPEED_MPH = np.array([25.0, 25.0, 30.0, 35.0])
"""Posted speed by grid line rank (residential, tertiary, secondary, primary)."""
LINE_LANES = np.array([1, 1, 2, 2])
POI_COMMERCIAL = {"airport": 60_000.0, "logistics": 30_000.0}

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class CityGrid:
    """Layout of one place's street grid in local km coordinates."""

    place: geo_facts.Place
    cx: float
    cy: float
    radius_km: float
    sx: float
    sy: float
    angle: float
    phases: tuple[float, float]

    def noisy_radius(self, phi: FloatArray) -> FloatArray:
        """Radius of the irregular outline at polar angle ``phi``."""
        p1, p2 = self.phases
        wobble = 1 + 0.12 * np.sin(3 * phi + p1) + 0.08 * np.sin(5 * phi + p2)
        return np.asarray(self.radius_km * wobble, dtype=float)

    def score(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Weighted Voronoi score: below 1 inside the outline, lowest owner wins.

        Airports and the port win everything inside their outline and nothing outside.
        """
        dx, dy = x - self.cx, y - self.cy
        rel = np.hypot(dx, dy) / self.noisy_radius(np.arctan2(dy, dx))
        if self.place.kind == "city":
            return np.asarray(rel)
        return np.asarray(np.where(rel <= 1, POI_PRIORITY * rel, rel + 1 / POI_PRIORITY))


def layout(scale: float, seed: int, proj: LocalKm) -> list[CityGrid]:
    """Grid geometry of every place (angles and outlines drawn from the seed).

    ``scale`` grows city radii with ``scale**0.25`` and shrinks blocks with ``scale**-0.25``,
    so the node count is roughly proportional to it while the street hierarchy keeps its
    proportions.
    """
    rng = np.random.default_rng([seed, 1])
    grids = []
    for place in geo_facts.PLACES:
        cx, cy = proj.to_xy(place.lat, place.lon)
        if place.kind == "city":
            radius = RADIUS_KM_PER_SQRT_KPOP * np.sqrt(place.population / 1000)
            radius = float(np.clip(radius, MIN_RADIUS_KM, MAX_RADIUS_KM))
            block = BLOCK_KM_DENSE if place.population >= DENSE_POPULATION else BLOCK_KM
        else:
            radius, block = POI_RADIUS_KM, BLOCK_KM * 1.5
        radius *= scale**0.25
        block /= scale**0.25
        aspect = rng.uniform(1.0, 1.35)
        angle = 0.0 if place.name == "San Francisco" else np.radians(rng.uniform(-25, 25))
        phases = (float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0, 2 * np.pi)))
        grids.append(
            CityGrid(
                place,
                float(cx),
                float(cy),
                float(radius),
                block * aspect,
                block / aspect,
                float(angle),
                phases,
            )
        )
    return grids


def line_rank(k: IntArray, spacing_km: float) -> IntArray:
    """0 residential, 1 tertiary, 2 secondary, 3 primary for grid line index ``k``."""
    primary = max(9, round(1.6 / spacing_km))
    secondary = max(5, round(0.8 / spacing_km))
    tertiary = max(3, round(0.6 / spacing_km))
    k = np.abs(k)
    return np.where(
        k % primary == 0, 3, np.where(k % secondary == 0, 2, np.where(k % tertiary == 0, 1, 0))
    )


def add_city_grids(
    builder: RoadBuilder, grids: list[CityGrid], terrain: TerrainModel, proj: LocalKm, seed: int
) -> pd.DataFrame:
    """Add every place's grid; return its nodes (node_id, lat, lon, x, y, rank, city, spacing)."""
    rng = np.random.default_rng([seed, 2])
    frames = []
    for c, g in enumerate(grids):
        n = int(np.ceil(1.25 * g.radius_km / min(g.sx, g.sy)))
        i, j = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1), indexing="ij")
        lx, ly = i * g.sx, j * g.sy
        ca, sa = np.cos(g.angle), np.sin(g.angle)
        x, y = g.cx + lx * ca - ly * sa, g.cy + lx * sa + ly * ca
        r_rel = np.hypot(lx, ly) / g.radius_km
        inside = np.hypot(lx, ly) <= g.noisy_radius(np.arctan2(ly, lx))
        scores = np.stack([other.score(x, y) for other in grids])
        inside &= np.argmin(scores, axis=0) == c
        coarse_gap = (r_rel > CORE_SHARE) & ((i % 2 != 0) | (j % 2 != 0))
        lat, lon = proj.to_latlon(x, y)
        keep = inside & ~coarse_gap
        keep[keep] = ~terrain.is_water(lat[keep], lon[keep])
        centre = np.full(int(keep.sum()), g.place.lat), np.full(int(keep.sum()), g.place.lon)
        keep[keep] = ~crosses_water(*centre, lat[keep], lon[keep])
        if keep.any():
            layout_arrays = GridArrays(i, j, keep, coarse_gap, r_rel, lat, lon)
            ids, frame = _grid_nodes(builder, g, c, layout_arrays, x[keep], y[keep], rng)
            _grid_edges(builder, g, layout_arrays, ids, rng)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class GridArrays:
    """Per grid position (2-D, index ``[i, j]``) arrays of one city's candidate grid."""

    i: IntArray
    j: IntArray
    keep: NDArray[np.bool_]
    coarse_gap: NDArray[np.bool_]
    """Suburban positions skipped so that blocks there are twice as long."""
    r_rel: FloatArray
    lat: FloatArray
    lon: FloatArray


def _grid_nodes(
    builder: RoadBuilder,
    g: CityGrid,
    city: int,
    arr: GridArrays,
    x: FloatArray,
    y: FloatArray,
    rng: np.random.Generator,
) -> tuple[IntArray, pd.DataFrame]:
    """Intersections: control, population and commercial weights; returns ids and a frame."""
    keep = arr.keep
    r_rel = arr.r_rel[keep]
    col_rank, row_rank = line_rank(arr.i[keep], g.sx), line_rank(arr.j[keep], g.sy)
    best = np.maximum(col_rank, row_rank)
    signal = (np.minimum(col_rank, row_rank) >= 1) & (best >= 2)
    stop = ~signal & (rng.random(len(r_rel)) < STOP_SHARE)
    cell = np.where(r_rel > CORE_SHARE, 4.0, 1.0)
    homes = np.exp(-((r_rel / 0.7) ** 2)) * cell
    shops = (np.exp(-((r_rel / DOWNTOWN_SHARE) ** 2)) + 0.3 * (best >= 2)) * cell
    trade = g.place.population + POI_COMMERCIAL.get(g.place.kind, 0.0)
    lat, lon = arr.lat[keep], arr.lon[keep]
    ids = builder.add_nodes(
        lat,
        lon,
        place=g.place.name,
        kind=g.place.kind,
        control=np.where(signal, "signal", np.where(stop, "stop", "none")),
        pop_weight=homes / homes.sum() * g.place.population,
        commercial_weight=shops / shops.sum() * trade,
        rank=best,
    )
    frame = pd.DataFrame(
        {
            "node_id": ids,
            "lat": lat,
            "lon": lon,
            "x": x,
            "y": y,
            "rank": best,
            "city": city,
            "spacing": min(g.sx, g.sy),
        }
    )
    return ids, frame


def _grid_edges(
    builder: RoadBuilder, g: CityGrid, arr: GridArrays, ids: IntArray, rng: np.random.Generator
) -> None:
    """Streets between neighbouring kept positions: one step apart, or two across a gap."""
    id_grid = np.full(arr.i.shape, -1, dtype=np.int64)
    id_grid[arr.keep] = ids
    downtown = np.zeros(arr.i.shape, dtype=bool)
    if g.place.population >= DOWNTOWN_MIN_POPULATION:
        downtown = arr.keep & (arr.r_rel <= DOWNTOWN_SHARE)
    for axis, line_idx, spacing in ((0, arr.j, g.sy), (1, arr.i, g.sx)):
        for step in (1, 2):
            a, b, _ = _shifted(id_grid, axis, step)
            ok = (a >= 0) & (b >= 0)
            if step == 2:
                ok &= _shifted(arr.coarse_gap, axis, step)[2]
            dt_a, dt_b, _ = _shifted(downtown, axis, step)
            lat_a, lat_b, _ = _shifted(arr.lat, axis, step)
            lon_a, lon_b, _ = _shifted(arr.lon, axis, step)
            dry = ~crosses_water(lat_a[ok], lon_a[ok], lat_b[ok], lon_b[ok])
            cols = (
                a[ok][dry],
                b[ok][dry],
                _shifted(line_idx, axis, step)[0][ok][dry],
                (dt_a & dt_b)[ok][dry],
            )
            _line_edges(builder, g.place.name, spacing, cols, axis, rng)


def _shifted(arr: NDArray, axis: int, step: int) -> tuple[NDArray, NDArray, NDArray]:
    """(start, end, middle) views of neighbours ``step`` apart along ``axis``."""
    if axis == 0:
        return arr[:-step, :], arr[step:, :], arr[step // 2 : arr.shape[0] - step + step // 2, :]
    return arr[:, :-step], arr[:, step:], arr[:, step // 2 : arr.shape[1] - step + step // 2]


def _line_edges(
    builder: RoadBuilder,
    place: str,
    spacing: float,
    cols: tuple[NDArray, ...],
    axis: int,
    rng: np.random.Generator,
) -> None:
    """Edges along grid lines: rows (axis 0, 'Street') or columns (axis 1, 'Avenue')."""
    a, b, line, downtown = cols
    rank = line_rank(line, spacing)
    highway = np.asarray(LINE_CLASSES)[rank]
    word = np.where(rank == 3, "Boulevard", "Street" if axis == 0 else "Avenue")
    name = np.char.add(np.char.add(f"{place} ", word), np.char.mod(" %+d", line))
    attrs = {
        "highway": highway,
        "name": name,
        "speed_kph": LINE_SPEED_MPH[rank] * MPH_TO_KPH,
        "lanes": LINE_LANES[rank],
    }
    drop = (rank == 0) & ~downtown & (rng.random(len(a)) < DROP_RESIDENTIAL_SHARE)
    oneway = downtown & (rank <= 1) & (line % 2 == 1)
    two = ~oneway & ~drop
    builder.add_edges(a[two], b[two], both_ways=True, **{k: v[two] for k, v in attrs.items()})
    ow = oneway & ~drop
    forward = (line[ow] % 4) == 1
    builder.add_edges(
        np.where(forward, a[ow], b[ow]),
        np.where(forward, b[ow], a[ow]),
        oneway=True,
        **{k: v[ow] for k, v in attrs.items()},
    )


def stitch_grids(builder: RoadBuilder, grid: pd.DataFrame) -> None:
    """Connect boundary nodes of neighbouring city grids with two-way streets."""
    xy = grid[["x", "y"]].to_numpy()
    tree = cKDTree(xy)
    dist, idx = tree.query(xy, k=12, distance_upper_bound=3.2 * grid["spacing"].max())
    city = grid["city"].to_numpy()
    valid = np.isfinite(dist)
    idx = np.where(valid, idx, 0)
    spacing = grid["spacing"].to_numpy()
    other = valid & (city[idx] != city[:, None]) & (dist <= 2.5 * spacing[:, None])
    src = np.flatnonzero(other.any(axis=1))
    dst = idx[src, np.argmax(other, axis=1)[src]]
    pairs = np.unique(np.sort(np.column_stack([src, dst]), axis=1), axis=0)
    if len(pairs) == 0:
        return
    lat, lon = grid["lat"].to_numpy(), grid["lon"].to_numpy()
    a, b = pairs[:, 0], pairs[:, 1]
    dry = ~crosses_water(lat[a], lon[a], lat[b], lon[b])
    a, b = a[dry], b[dry]
    rank = np.minimum(np.minimum(grid["rank"].to_numpy()[a], grid["rank"].to_numpy()[b]), 2)
    ids = grid["node_id"].to_numpy()
    builder.add_edges(
        ids[a],
        ids[b],
        both_ways=True,
        highway=np.asarray(LINE_CLASSES)[rank],
        speed_kph=LINE_SPEED_MPH[rank] * MPH_TO_KPH,
        name="Connector Street",
    )
    logger.debug("stitched %d pairs of neighbouring grid nodes", len(a))
