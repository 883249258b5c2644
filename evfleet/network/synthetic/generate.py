"""The embedded synthetic Bay Area road network (the offline, deterministic default).

Anchored on the embedded geography (:mod:`~evfleet.network.synthetic.bay_area_facts`):
street grids around every city sized by population
(:mod:`~evfleet.network.synthetic.city_grids`), freeways along the real corridors with the
seven bay bridges and interchanges, and rural arterials between neighbouring places
(:mod:`~evfleet.network.synthetic.corridors`). Nothing is built on water; the only edges over
the bay are bridge edges. Elevations come from the
:class:`~evfleet.network.synthetic.terrain.TerrainModel` (freeways and arterials are graded
through hills; bridges get a deck profile).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from evfleet.network.geo import LocalKm, haversine_m
from evfleet.network.synthetic.city_grids import add_city_grids, layout, stitch_grids
from evfleet.network.synthetic.corridors import add_arterials, add_freeways
from evfleet.network.synthetic.road_builder import RoadBuilder
from evfleet.network.synthetic.terrain import TerrainModel

logger = logging.getLogger(__name__)

ARTERIAL_NODE_SPACING_KM = 0.4


def build_synthetic(*, scale: float = 1.0, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the raw synthetic Bay Area network.

    Parameters
    ----------
    scale
        Size knob: the number of nodes grows roughly linearly with it (city radii grow and
        blocks shrink with ``scale**0.25``); 1.0 gives about 23,000 nodes.
    seed
        Seed of every random choice (grid angles and outlines, dropped streets, stops).

    Returns
    -------
    nodes, edges
        Raw frames for :func:`evfleet.network.clean.finalize_network`: nodes with
        ``node_id, lat, lon, elevation_m, place, kind, control, pop_weight,
        commercial_weight``; edges with ``u, v, length_m, highway, name, ref, oneway,
        bridge, tunnel, lanes, speed_kph, speed_source``.
    """
    terrain = TerrainModel()
    proj = LocalKm(37.7, -122.2)
    builder = RoadBuilder()
    grid_nodes = add_city_grids(builder, layout(scale, seed, proj), terrain, proj, seed)
    stitch_grids(builder, grid_nodes)
    ramp_ends = add_freeways(builder, grid_nodes, terrain, proj)
    add_arterials(builder, grid_nodes, terrain, proj, spacing_km=ARTERIAL_NODE_SPACING_KM)
    nodes, edges = builder.nodes_frame(), builder.edges_frame()
    nodes.loc[ramp_ends, "control"] = "signal"
    missing = nodes["elevation_m"].isna().to_numpy()
    nodes.loc[missing, "elevation_m"] = terrain.elevation_m(
        nodes.loc[missing, "lat"].to_numpy(), nodes.loc[missing, "lon"].to_numpy()
    )
    _quiet_dead_ends(nodes, edges)
    lat, lon = nodes["lat"].to_numpy(), nodes["lon"].to_numpy()
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    edges["length_m"] = haversine_m(lat[u], lon[u], lat[v], lon[v]) * edges.pop("length_factor")
    edges["speed_source"] = "synthetic"
    logger.info("synthetic network: %d raw nodes, %d raw edges", len(nodes), len(edges))
    return nodes.drop(columns="rank"), edges


def _quiet_dead_ends(nodes: pd.DataFrame, edges: pd.DataFrame) -> None:
    """No stop sign or signal where fewer than three streets meet."""
    pairs = np.unique(np.sort(edges[["u", "v"]].to_numpy(), axis=1), axis=0)
    degree = np.bincount(pairs.ravel(), minlength=len(nodes))
    nodes.loc[degree < 3, "control"] = "none"
