"""Offline maps: pydeck decks whose base layer is the road network itself (no tiles).

``map_provider=None`` tells pydeck and Streamlit to draw no base map, so nothing is
fetched from a tile server or CDN; the network's edges, drawn as thin grey lines, give
the map its geography. Layers take DataFrames with ``src_lon/src_lat/dst_lon/dst_lat``
(see :func:`evfleet.analytics.edge_lines`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

ROAD_GREY: Final = [130, 130, 140, 120]
MAJOR_ROADS: Final = ("motorway", "trunk", "primary", "motorway_link", "trunk_link")
STATION_COLOURS: Final = {"dcfc": [214, 39, 40, 220], "l2": [31, 119, 180, 220]}
OTHER_STATION: Final = (90, 90, 90, 200)
HEAT_LOW: Final = np.array([255, 237, 160])
HEAT_HIGH: Final = np.array([189, 0, 38])
COORD_DECIMALS: Final = 5
MAP_WIDTH_PX: Final = 900
MAP_HEIGHT_PX: Final = 620
PIXELS: Final = pdk.types.String("pixels")
SHORT: Final = {"src_lon": "x0", "src_lat": "y0", "dst_lon": "x1", "dst_lat": "y1"}
"""~1 m: enough for a map, and it keeps the JSON sent to the browser small."""


def view_of(
    lines: pd.DataFrame, *, width_px: int = MAP_WIDTH_PX, height_px: int = MAP_HEIGHT_PX
) -> pdk.ViewState:
    """A view that fits the lines' bounding box into a map of about this size (Web Mercator:
    a zoom-z world is ``512 * 2**z`` pixels wide; north-south degrees stretch by 1/cos)."""
    lon = np.concatenate([lines["src_lon"].to_numpy(), lines["dst_lon"].to_numpy()])
    lat = np.concatenate([lines["src_lat"].to_numpy(), lines["dst_lat"].to_numpy()])
    if not len(lon):
        return pdk.ViewState(longitude=-122.3, latitude=37.7, zoom=8)
    centre_lon = float(lon.min() + lon.max()) / 2
    centre_lat = float(lat.min() + lat.max()) / 2
    lon_span = max(float(np.ptp(lon)), 1e-4)
    lat_span = max(float(np.ptp(lat)), 1e-4) / np.cos(np.radians(centre_lat))
    zoom = min(
        np.log2(width_px * 360.0 / (512.0 * lon_span)),
        np.log2(height_px * 360.0 / (512.0 * lat_span)),
    )
    return pdk.ViewState(
        longitude=centre_lon, latitude=centre_lat, zoom=float(np.clip(zoom - 0.15, 3, 16))
    )


def _slim(lines: pd.DataFrame, extra: Sequence[str] = ()) -> pd.DataFrame:
    cols = list(SHORT)
    slim = lines[[*cols, *extra]].round(dict.fromkeys(cols, COORD_DECIMALS))
    return slim.rename(columns=SHORT)


def road_layer(lines: pd.DataFrame) -> pdk.Layer:
    """The network as the base layer: major roads slightly wider than streets."""
    data = _slim(lines).assign(
        w=np.where(lines["highway"].isin(MAJOR_ROADS).to_numpy(), 2.0, 1.0)
    )
    return pdk.Layer(
        "LineLayer",
        data=data,
        id="roads",
        get_source_position=["x0", "y0"],
        get_target_position=["x1", "y1"],
        get_color=ROAD_GREY,
        get_width="w",
        width_units=PIXELS,
        pickable=False,
    )


def station_layer(stations: pd.DataFrame, *, size_col: str | None = None) -> pdk.Layer:
    """Charging stations as dots (red DC fast, blue L2), optionally sized by a column."""
    palette = pd.DataFrame.from_dict(STATION_COLOURS, orient="index", columns=list("rgba"))
    data = stations.join(palette, on="kind").fillna(dict(zip("rgba", OTHER_STATION, strict=True)))
    if size_col is not None:
        values = data[size_col].to_numpy(dtype=np.float64)
        top = float(np.nanmax(values)) if len(values) and np.nanmax(values) > 0 else 1.0
        data["radius"] = 3.0 + 12.0 * np.sqrt(np.nan_to_num(values) / top)
    else:
        data["radius"] = 4.0
    return pdk.Layer(
        "ScatterplotLayer",
        data=data,
        id="stations",
        get_position=["lon", "lat"],
        get_fill_color="[r, g, b, a]",
        get_radius="radius",
        radius_units=PIXELS,
        pickable=True,
    )


def heat_layer(lines: pd.DataFrame, value_col: str) -> pdk.Layer:
    """Edges coloured from pale yellow to dark red by ``value_col`` (5-95 % stretched)."""
    values = lines[value_col].to_numpy(dtype=np.float64)
    lo, hi = (np.nanpercentile(values, [5, 95]) if len(values) else (0.0, 1.0))
    share = np.clip((values - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
    rgb = (HEAT_LOW + share[:, None] * (HEAT_HIGH - HEAT_LOW)).round().astype(int)
    data = _slim(lines, [value_col]).assign(
        r=rgb[:, 0], g=rgb[:, 1], b=rgb[:, 2], w=1.5 + 3.0 * share
    )
    return pdk.Layer(
        "LineLayer",
        data=data,
        id=f"heat-{value_col}",
        get_source_position=["x0", "y0"],
        get_target_position=["x1", "y1"],
        get_color="[r, g, b, 230]",
        get_width="w",
        width_units=PIXELS,
        pickable=True,
    )


def route_layer(
    lines: pd.DataFrame,
    colour: Sequence[int],
    *,
    layer_id: str,
    width_px: float = 5.0,
    extra: Sequence[str] = (),
) -> pdk.Layer:
    """Route edges drawn over the network in one colour (``extra`` columns for tooltips)."""
    return pdk.Layer(
        "LineLayer",
        data=_slim(lines, extra),
        id=layer_id,
        get_source_position=["x0", "y0"],
        get_target_position=["x1", "y1"],
        get_color=list(colour),
        get_width=width_px,
        width_units=PIXELS,
        pickable=bool(extra),
    )


def point_layer(
    points: pd.DataFrame,
    colour: Sequence[int],
    *,
    layer_id: str,
    radius_px: float = 8.0,
    pickable: bool = True,
) -> pdk.Layer:
    """Points (``lat``/``lon`` columns) as dots of one colour with a white rim."""
    return pdk.Layer(
        "ScatterplotLayer",
        data=points,
        id=layer_id,
        get_position=["lon", "lat"],
        get_fill_color=list(colour),
        get_line_color=[255, 255, 255, 255],
        stroked=True,
        line_width_min_pixels=1.5,
        get_radius=radius_px,
        radius_units=PIXELS,
        pickable=pickable,
    )


def points_view(points: pd.DataFrame) -> pdk.ViewState:
    """A view that fits ``lat``/``lon`` points (as :func:`view_of` does for lines)."""
    as_lines = pd.DataFrame({"src_lon": points["lon"], "src_lat": points["lat"],
                             "dst_lon": points["lon"], "dst_lat": points["lat"]})  # fmt: skip
    return view_of(as_lines)


class OfflineDeck(pdk.Deck):
    """A deck with no base map whose JSON is compact and built once.

    pydeck indents its JSON (several MB and about a second for a 40k-edge network);
    Streamlit asks for it on every render. Cached decks (``st.cache_resource``) pay once.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(map_provider=None, **kwargs)
        self._compact_json: str | None = None

    def to_json(self) -> str:
        if self._compact_json is None:
            for layer in self.layers:
                if isinstance(layer.data, pd.DataFrame):
                    layer.data = layer.data.to_dict(orient="records")
            self._compact_json = json.dumps(self, default=default_serialize, separators=(",", ":"))
        return self._compact_json


def deck(
    layers: Sequence[pdk.Layer], view: pdk.ViewState, *, tooltip: dict[str, Any] | None = None
) -> pdk.Deck:
    """A deck with no base map (offline): the given layers only."""
    return OfflineDeck(layers=list(layers), initial_view_state=view, tooltip=tooltip or False)
