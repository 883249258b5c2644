"""Freeways (with bridges, tunnels and interchanges) and rural arterials between cities."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import Delaunay, cKDTree

from evfleet.network.geo import LocalKm
from evfleet.network.synthetic import bay_area_facts as geo_facts
from evfleet.network.synthetic.road_builder import MPH_TO_KPH, RoadBuilder
from evfleet.network.synthetic.terrain import TerrainModel, crosses_water, limit_grade_cut

logger = logging.getLogger(__name__)

FREEWAY_STEP_KM = 0.4
FREEWAY_MAX_GRADE = 0.05
BRIDGE_MAX_GRADE = 0.04
TUNNEL_DEPTH_M = 30.0
RAMP_SPACING_KM = 2.0
RAMP_REACH_KM = 0.5
RAMP_TARGET_KM = 0.8
RAMP_LENGTH_FACTOR = 1.3
FREEWAY_JOIN_KM = 0.7
FREEWAY_END_JOIN_KM = 3.0
ARTERIAL_MAX_KM = 20.0
ARTERIAL_MAX_GRADE = 0.10

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _densify(
    waypoints: tuple[tuple[float, float], ...], proj: LocalKm, step_km: float
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    """Points every <= ``step_km`` along a polyline: lat, lon, distance (m), waypoint rows."""
    wp = np.asarray(waypoints, dtype=float)
    x, y = proj.to_xy(wp[:, 0], wp[:, 1])
    seg = np.hypot(np.diff(x), np.diff(y))
    n_sub = np.maximum(1, np.ceil(seg / step_km).astype(int))
    t = np.concatenate([np.arange(n) / n for n in n_sub] + [np.array([0.0])])
    start = np.concatenate([np.repeat(np.arange(len(seg)), n_sub), [len(seg) - 1]])
    t[-1] = 1.0
    px = x[start] + t * (x[start + 1] - x[start])
    py = y[start] + t * (y[start + 1] - y[start])
    lat, lon = proj.to_latlon(px, py)
    along_m = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(px), np.diff(py)))]) * 1000
    wp_rows = np.concatenate([[0], np.cumsum(n_sub)])
    return lat, lon, along_m, wp_rows


def _bridge_spans(
    fw: geo_facts.Freeway, wp_rows: IntArray, water: NDArray[np.bool_]
) -> list[tuple[int, int, geo_facts.Bridge]]:
    """Bridge spans as dense-row ranges, widened until both ends stand on land."""
    by_name = {b.name: b for b in geo_facts.BRIDGES}
    spans = []
    for first, last, name in fw.bridges:
        a, b = int(wp_rows[first]), int(wp_rows[last])
        while a > 0 and water[a]:
            a -= 1
        while b < len(water) - 1 and water[b]:
            b += 1
        spans.append((a, b, by_name[name]))
    return spans


def _deck_profile(along_m: FloatArray, e0: float, e1: float, deck_m: float) -> FloatArray:
    """Bridge deck: straight between the landings plus a ramped rise to the deck height."""
    s = along_m - along_m[0]
    length = s[-1]
    rise = min(deck_m, BRIDGE_MAX_GRADE * length / 2)
    ramp = rise / BRIDGE_MAX_GRADE
    bump = rise * np.minimum(1.0, np.minimum(s, length - s) / max(ramp, 1e-9))
    return np.asarray(e0 + (e1 - e0) * s / length + bump, dtype=float)


def _add_route(
    builder: RoadBuilder, fw: geo_facts.Freeway, terrain: TerrainModel, proj: LocalKm
) -> pd.DataFrame:
    lat, lon, along, wp_rows = _densify(fw.waypoints, proj, FREEWAY_STEP_KM)
    water = terrain.is_water(lat, lon)
    ground = terrain.elevation_m(lat, lon)
    spans = _bridge_spans(fw, wp_rows, water)
    on_bridge = np.zeros(len(lat) - 1, dtype=bool)
    bridge_name = np.full(len(lat) - 1, fw.route, dtype=object)
    free = ground.copy()
    for a, b, bridge in spans:
        on_bridge[a:b] = True
        bridge_name[a:b] = bridge.name
        free[a + 1 : b] = np.inf
    elev = limit_grade_cut(free, along, FREEWAY_MAX_GRADE)
    for a, b, bridge in spans:
        elev[a : b + 1] = _deck_profile(along[a : b + 1], elev[a], elev[b], bridge.deck_m)
    depth = ground - elev
    tunnel = (depth[:-1] > TUNNEL_DEPTH_M) & (depth[1:] > TUNNEL_DEPTH_M) & ~on_bridge
    ids = builder.add_nodes(lat, lon, elevation_m=elev, kind="freeway", rank=5)
    slow = on_bridge | tunnel
    builder.add_edges(
        ids[:-1],
        ids[1:],
        both_ways=True,
        highway="motorway",
        ref=fw.route,
        name=bridge_name.astype(str),
        oneway=True,
        bridge=on_bridge,
        tunnel=tunnel,
        lanes=np.where(on_bridge, 5, 4),
        speed_kph=np.where(slow, 50.0, 65.0) * MPH_TO_KPH,
    )
    node_on_bridge = np.zeros(len(lat), dtype=bool)
    node_on_bridge[:-1] |= on_bridge
    node_on_bridge[1:] |= on_bridge
    x, y = proj.to_xy(lat, lon)
    return pd.DataFrame(
        {
            "node_id": ids,
            "lat": lat,
            "lon": lon,
            "x": x,
            "y": y,
            "along_m": along,
            "route": fw.route,
            "linkable": (np.abs(depth) < 8.0) & ~node_on_bridge,
            "end": np.isin(np.arange(len(lat)), [0, len(lat) - 1]),
        }
    )


def add_freeways(
    builder: RoadBuilder, grid: pd.DataFrame, terrain: TerrainModel, proj: LocalKm
) -> IntArray:
    """Add the freeway corridors and their interchanges; return grid nodes that got ramps."""
    fwy = pd.concat(
        [_add_route(builder, fw, terrain, proj) for fw in geo_facts.FREEWAYS], ignore_index=True
    )
    ramp_nodes = _add_ramps(builder, fwy, grid)
    _join_freeways(builder, fwy)
    return ramp_nodes


def _add_ramps(builder: RoadBuilder, fwy: pd.DataFrame, grid: pd.DataFrame) -> IntArray:
    """Interchanges to the local grid every ~2 km where a city is close."""
    tree = cKDTree(grid[["x", "y"]].to_numpy())
    cand = fwy[fwy["linkable"]].copy()
    xy = cand[["x", "y"]].to_numpy()
    cand["dist"], nearest = tree.query(xy)
    dist, near = tree.query(xy, k=16, distance_upper_bound=RAMP_TARGET_KM)
    valid = np.isfinite(dist)
    near = np.where(valid, near, 0)
    major = valid & (grid["rank"].to_numpy()[near] >= 2)
    target = np.where(
        major.any(axis=1), near[np.arange(len(near)), np.argmax(major, axis=1)], nearest
    )
    cand["target"] = grid["node_id"].to_numpy()[target]
    cand["bin"] = (cand["along_m"] // (RAMP_SPACING_KM * 1000)).astype(int)
    cand.loc[cand["end"], "bin"] = -1 - cand.loc[cand["end"], "bin"]
    reach = np.where(cand["end"], FREEWAY_END_JOIN_KM, RAMP_REACH_KM)
    cand = cand[cand["dist"] <= reach]
    chosen = cand.sort_values(["route", "bin", "dist"], kind="stable").drop_duplicates(
        ["route", "bin"]
    )
    g_idx = grid.set_index("node_id").loc[chosen["target"]]
    wet = crosses_water(
        chosen["lat"].to_numpy(),
        chosen["lon"].to_numpy(),
        g_idx["lat"].to_numpy(),
        g_idx["lon"].to_numpy(),
    )
    chosen = chosen[~wet]
    long = (chosen["dist"] > RAMP_REACH_KM).to_numpy()
    builder.add_edges(
        chosen["node_id"].to_numpy(),
        chosen["target"].to_numpy(),
        both_ways=True,
        highway=np.where(long, "primary", "motorway_link"),
        oneway=~long,
        name=(chosen["route"] + np.where(long, " access road", " ramp")).to_numpy(),
        speed_kph=np.where(long, 45, 35) * MPH_TO_KPH,
        lanes=np.where(long, 2, 1),
        length_factor=RAMP_LENGTH_FACTOR,
    )
    logger.debug("added %d freeway interchanges", len(chosen))
    return chosen["target"].to_numpy()


def _join_freeways(builder: RoadBuilder, fwy: pd.DataFrame) -> None:
    """Freeway-to-freeway interchanges where corridors meet, cross or end near each other."""
    xy = fwy[["x", "y"]].to_numpy()
    tree = cKDTree(xy)
    route = fwy["route"].to_numpy()
    ok = fwy["linkable"].to_numpy() | fwy["end"].to_numpy()
    pairs = tree.query_pairs(FREEWAY_JOIN_KM, output_type="ndarray")
    pairs = pairs[(route[pairs[:, 0]] != route[pairs[:, 1]]) & ok[pairs[:, 0]] & ok[pairs[:, 1]]]
    swap = route[pairs[:, 0]] > route[pairs[:, 1]]
    pairs[swap] = pairs[swap][:, ::-1]
    cand = pd.DataFrame({"a": pairs[:, 0], "b": pairs[:, 1]})
    cand["dist"] = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    cand["key"] = route[pairs[:, 0]] + "|" + route[pairs[:, 1]]
    cand["bin"] = (fwy["along_m"].to_numpy()[pairs[:, 0]] // 3000).astype(int)
    joins = cand.sort_values(["key", "bin", "dist"], kind="stable").drop_duplicates(["key", "bin"])
    ends = np.flatnonzero(fwy["end"].to_numpy())
    dist, idx = tree.query(xy[ends], k=64, distance_upper_bound=FREEWAY_END_JOIN_KM)
    valid = np.isfinite(dist)
    idx = np.where(valid, idx, 0)
    other = valid & (route[idx] != route[ends][:, None]) & ok[idx]
    has = other.any(axis=1) & ~np.isin(ends, joins[["a", "b"]].to_numpy().ravel())
    first = np.argmax(other, axis=1)
    end_pairs = np.column_stack([ends[has], idx[has, first[has]]])
    all_pairs = np.vstack([joins[["a", "b"]].to_numpy(), end_pairs])
    ids = fwy["node_id"].to_numpy()
    builder.add_edges(
        ids[all_pairs[:, 0]],
        ids[all_pairs[:, 1]],
        both_ways=True,
        highway="motorway_link",
        oneway=True,
        name="freeway interchange",
        speed_kph=45 * MPH_TO_KPH,
        length_factor=RAMP_LENGTH_FACTOR,
    )
    logger.debug("added %d freeway-to-freeway interchanges", len(all_pairs))


def add_arterials(
    builder: RoadBuilder,
    grid: pd.DataFrame,
    terrain: TerrainModel,
    proj: LocalKm,
    *,
    spacing_km: float,
) -> None:
    """Rural primary roads between neighbouring places (Delaunay pairs on land)."""
    places = geo_facts.PLACES
    cx, cy = proj.to_xy([p.lat for p in places], [p.lon for p in places])
    tri = Delaunay(np.column_stack([cx, cy]))
    pairs = np.unique(
        np.sort(
            np.vstack(
                [tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]], tri.simplices[:, [0, 2]]]
            ),
            axis=1,
        ),
        axis=0,
    )
    length = np.hypot(cx[pairs[:, 0]] - cx[pairs[:, 1]], cy[pairs[:, 0]] - cy[pairs[:, 1]])
    lat = np.array([p.lat for p in places])
    lon = np.array([p.lon for p in places])
    dry = ~crosses_water(lat[pairs[:, 0]], lon[pairs[:, 0]], lat[pairs[:, 1]], lon[pairs[:, 1]])
    pairs = pairs[dry & (length <= ARTERIAL_MAX_KM)]
    tree = cKDTree(grid[["x", "y"]].to_numpy())
    spacing = grid["spacing"].to_numpy()
    n_roads = 0
    for a, b in pairs:
        n = int(np.ceil(np.hypot(cx[b] - cx[a], cy[b] - cy[a]) / spacing_km)) + 1
        t = np.linspace(0, 1, n)
        px, py = cx[a] + t * (cx[b] - cx[a]), cy[a] + t * (cy[b] - cy[a])
        dist, near = tree.query(np.column_stack([px, py]))
        outside = dist > 1.2 * spacing[near]
        for start, stop in _runs(outside):
            if start == 0 or stop == n:
                continue
            _add_arterial_run(
                builder,
                grid,
                terrain,
                proj,
                px[start:stop],
                py[start:stop],
                (int(near[start - 1]), int(near[stop])),
                f"{places[a].name} - {places[b].name} Road",
            )
            n_roads += 1
    logger.debug("added %d rural arterial pieces", n_roads)


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, stop) ranges where ``mask`` is True."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _add_arterial_run(
    builder: RoadBuilder,
    grid: pd.DataFrame,
    terrain: TerrainModel,
    proj: LocalKm,
    px: FloatArray,
    py: FloatArray,
    ends: tuple[int, int],
    name: str,
) -> None:
    lat, lon = proj.to_latlon(px, py)
    g_lat = grid["lat"].to_numpy()[list(ends)]
    g_lon = grid["lon"].to_numpy()[list(ends)]
    all_lat = np.concatenate([[g_lat[0]], lat, [g_lat[1]]])
    all_lon = np.concatenate([[g_lon[0]], lon, [g_lon[1]]])
    if crosses_water(all_lat[:-1], all_lon[:-1], all_lat[1:], all_lon[1:]).any():
        return
    x, y = proj.to_xy(all_lat, all_lon)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))]) * 1000
    elev = limit_grade_cut(terrain.elevation_m(all_lat, all_lon), along, ARTERIAL_MAX_GRADE)
    ids = builder.add_nodes(lat, lon, elevation_m=elev[1:-1], kind="rural", rank=3)
    chain = np.concatenate(
        [[grid["node_id"].to_numpy()[ends[0]]], ids, [grid["node_id"].to_numpy()[ends[1]]]]
    )
    builder.add_edges(
        chain[:-1],
        chain[1:],
        both_ways=True,
        highway="primary",
        name=name,
        lanes=2,
        speed_kph=45 * MPH_TO_KPH,
    )
