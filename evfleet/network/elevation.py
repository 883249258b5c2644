"""Node elevations from DEM rasters (through osmnx's raster support) or the terrain model."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree

from evfleet.errors import NetworkSourceError
from evfleet.network.geo import LocalKm
from evfleet.network.synthetic import TerrainModel

logger = logging.getLogger(__name__)

SPIKE_MIN_M = 6.0
SPIKE_GRADE = 0.15
SEAM_BLEND_M = 400.0


def check_dem_files(paths: Sequence[Path]) -> list[tuple[float, float, float, float]]:
    """Validate DEM files up front; return their bounds (west, south, east, north)."""
    return [_check_dem(Path(p)) for p in paths]


def _check_dem(path: Path) -> tuple[float, float, float, float]:
    """Bounds (west, south, east, north) of a lat/lon DEM, or a one-line error."""
    import rasterio
    from rasterio.errors import RasterioError

    if not path.is_file():
        msg = f"DEM file not found: {path}"
        raise NetworkSourceError(msg)
    try:
        with rasterio.open(path) as raster:
            crs, bounds = raster.crs, raster.bounds
    except RasterioError:
        msg = f"DEM file is not a readable raster: {path}"
        raise NetworkSourceError(msg) from None
    if crs is None or crs.to_epsg() != 4326:
        msg = f"DEM {path.name} must be in EPSG:4326 lat/lon (it is {crs}); reproject with gdalwarp"
        raise NetworkSourceError(msg)
    return bounds.left, bounds.bottom, bounds.right, bounds.top


def _clean_raster(src: Path, dst: Path) -> None:
    """Copy a DEM with buildings and pits removed (opening then closing 5x5, median 3x3).

    Surface models include buildings and holes: the opening removes objects narrower than
    ~5 pixels (150 m at 1 arc-second, a city block), the closing fills pits as narrow, and
    the median smooths what is left. Nodata stays nodata.
    """
    import rasterio

    with rasterio.open(src) as raster:
        band = raster.read(1).astype(np.float64)
        profile = raster.profile
        nodata = raster.nodata
    valid = np.isfinite(band) if nodata is None else (band != nodata) & np.isfinite(band)
    if not valid.any():
        msg = f"DEM {src.name} holds no valid elevations"
        raise NetworkSourceError(msg)
    nearest = ndimage.distance_transform_edt(~valid, return_distances=False, return_indices=True)
    filled = band[tuple(nearest)]
    opened = ndimage.grey_opening(filled, size=5)
    cleaned = ndimage.median_filter(ndimage.grey_closing(opened, size=5), size=3)
    out_nodata = -32768.0 if nodata is None else float(nodata)
    profile.update(dtype="float32", nodata=out_nodata, count=1)
    with rasterio.open(dst, "w", **profile) as out:
        out.write(np.where(valid, cleaned, out_nodata).astype(np.float32), 1)


def dem_elevations(lat: np.ndarray, lon: np.ndarray, dem_files: Sequence[Path]) -> np.ndarray:
    """Elevation in metres from the first DEM covering each point (NaN where none does).

    Each DEM is cleaned (:func:`_clean_raster`) into a temporary file and sampled with
    ``osmnx.elevation.add_node_elevations_raster``. Raises :class:`NetworkSourceError` for a
    missing / unreadable DEM, or when the DEMs do not cover any of the points.
    """
    import osmnx as ox

    boxes = check_dem_files(dem_files)
    graph = nx.MultiDiGraph(crs="epsg:4326")
    graph.add_nodes_from(
        (i, {"x": x, "y": y}) for i, (x, y) in enumerate(zip(lon, lat, strict=True))
    )
    elevation = np.full(len(lat), np.nan)
    with tempfile.TemporaryDirectory(prefix="evfleet-dem-") as tmp:
        for k, (path, (west, south, east, north)) in enumerate(zip(dem_files, boxes, strict=True)):
            if lon.max() < west or lon.min() > east or lat.max() < south or lat.min() > north:
                continue
            cleaned = Path(tmp) / f"dem-{k}.tif"
            _clean_raster(Path(path), cleaned)
            ox.elevation.add_node_elevations_raster(graph, cleaned, cpus=1)
            values = np.array([graph.nodes[i]["elevation"] for i in range(len(lat))], dtype=float)
            elevation = np.where(np.isnan(elevation), values, elevation)
    covered = int(np.count_nonzero(np.isfinite(elevation)))
    if covered == 0:
        box = [round(float(v), 4) for v in (lon.min(), lat.min(), lon.max(), lat.max())]
        names = ", ".join(Path(p).name for p in dem_files)
        msg = f"DEM {names} does not overlap the network (network bbox {box})"
        raise NetworkSourceError(msg)
    logger.info("DEM elevations for %d of %d nodes", covered, len(lat))
    return elevation


def despike(
    elevation_m: np.ndarray,
    rows_u: np.ndarray,
    rows_v: np.ndarray,
    length_m: np.ndarray,
    *,
    mask: np.ndarray,
    passes: int = 2,
) -> tuple[np.ndarray, int]:
    """Flatten isolated spikes and pits (left-over buildings, DEM holes) on the road graph.

    A masked node is a spike when it lies above all its masked neighbours (or below all of
    them) by more than ``max(SPIKE_MIN_M, SPIKE_GRADE * median distance to them)``; it gets
    the neighbours' median. Vectorised with grouped statistics over the neighbour pairs;
    returns the elevations and how many nodes were replaced.
    """
    elev = np.asarray(elevation_m, dtype=float).copy()
    pairs = pd.DataFrame(
        {
            "node": np.concatenate([rows_u, rows_v]),
            "nbr": np.concatenate([rows_v, rows_u]),
            "dist": np.concatenate([length_m, length_m]),
        }
    )
    pairs = pairs[pairs["node"] != pairs["nbr"]].drop_duplicates(["node", "nbr"])
    pairs = pairs[mask[pairs["node"].to_numpy()] & mask[pairs["nbr"].to_numpy()]]
    replaced = np.zeros(len(elev), dtype=bool)
    for _ in range(passes):
        grouped = pairs.assign(e=elev[pairs["nbr"].to_numpy()]).groupby("node")
        stats = grouped.agg(
            lo=("e", "min"), hi=("e", "max"), med=("e", "median"), dist=("dist", "median")
        )
        rows = stats.index.to_numpy()
        limit = np.maximum(SPIKE_MIN_M, SPIKE_GRADE * stats["dist"].to_numpy())
        here = elev[rows]
        spike = (here - stats["hi"].to_numpy() > limit) | (stats["lo"].to_numpy() - here > limit)
        elev[rows[spike]] = stats["med"].to_numpy()[spike]
        replaced[rows[spike]] = True
    return elev, int(replaced.sum())


def _blend_seam(base: np.ndarray, dem: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """DEM where covered; elsewhere ``base`` shifted by the nearest covered node's offset.

    The offset ``dem - base`` fades out over :data:`SEAM_BLEND_M`, so the seam between DEM
    and model elevations does not create a step (and absurd grades) at the DEM's edge.
    """
    covered = np.isfinite(dem)
    if covered.all():
        return dem
    proj = LocalKm(float(np.mean(lat)), float(np.mean(lon)))
    x, y = proj.to_xy(lat, lon)
    tree = cKDTree(np.column_stack([x[covered], y[covered]]))
    dist_km, nearest = tree.query(np.column_stack([x[~covered], y[~covered]]))
    offset = (dem[covered] - base[covered])[nearest]
    out = dem.copy()
    out[~covered] = base[~covered] + offset * np.exp(-((dist_km * 1000 / SEAM_BLEND_M) ** 2))
    return out


def add_elevations(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    dem_files: Sequence[Path] = (),
    terrain: TerrainModel | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fill ``elevation_m`` from DEMs where they cover, else the source's or the terrain's.

    Nodes without an elevation get the terrain model's. DEM elevations are despiked on the
    road graph (:func:`despike`) and blended into the rest (:func:`_blend_seam`). Returns the
    nodes and statistics: the elevation source (``"terrain"``, ``"synthetic"`` for the
    embedded network, ``"dem+terrain"``, ...), the DEM coverage share and the number of
    despiked nodes.
    """
    nodes = nodes.copy()
    lat, lon = nodes["lat"].to_numpy(), nodes["lon"].to_numpy()
    base = nodes["elevation_m"].to_numpy(dtype=float, copy=True)
    had_values = bool(np.isfinite(base).all())
    missing = ~np.isfinite(base)
    if missing.any():
        base[missing] = (terrain or TerrainModel()).elevation_m(lat[missing], lon[missing])
    coverage, n_despiked = 0.0, 0
    if dem_files:
        dem = dem_elevations(lat, lon, dem_files)
        covered = np.isfinite(dem)
        coverage = float(covered.mean())
        ids = nodes["node_id"].to_numpy()
        order = np.argsort(ids, kind="stable")
        rows_u = order[np.searchsorted(ids, edges["u"].to_numpy(), sorter=order)]
        rows_v = order[np.searchsorted(ids, edges["v"].to_numpy(), sorter=order)]
        dem, n_despiked = despike(
            np.where(covered, dem, base),
            rows_u,
            rows_v,
            edges["length_m"].to_numpy(dtype=float),
            mask=covered,
        )
        base = _blend_seam(base, np.where(covered, dem, np.nan), lat, lon)
    nodes["elevation_m"] = base
    model = "synthetic" if had_values else "terrain"
    source = model if not dem_files else ("dem" if coverage == 1.0 else f"dem+{model}")
    return nodes, {
        "elevation_source": source,
        "dem_coverage": round(coverage, 5),
        "n_dem_despiked": n_despiked,
    }
