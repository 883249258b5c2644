"""The embedded synthetic Bay Area network generator (the offline default source).

One of the network package's two jobs (the other: loading, cleaning and routing any
network). Modules, in build order:

- :mod:`.bay_area_facts`: the embedded facts (cities, bridges, freeway corridors, peaks,
  water polygons) everything is anchored on;
- :mod:`.terrain`: a smooth elevation model of those facts (also fills elevations of OSM
  networks that lack a DEM);
- :mod:`.road_builder`: accumulates node and edge columns;
- :mod:`.city_grids`: street grids around every city, sized by population;
- :mod:`.corridors`: freeways with bridges and interchanges, rural arterials;
- :mod:`.generate`: :func:`build_synthetic`, which runs the above in order.
"""

from __future__ import annotations

from evfleet.network.synthetic.generate import build_synthetic
from evfleet.network.synthetic.terrain import TerrainModel

__all__ = ["TerrainModel", "build_synthetic"]
