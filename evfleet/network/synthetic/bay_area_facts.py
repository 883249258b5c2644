"""Embedded Bay Area geography: the facts the synthetic network is anchored on.

Approximate public facts (about +-0.01 degree), good for a synthetic network, not for
navigation: city centres with 2020 census populations, airports and the port; the seven
bay bridges; the main freeway corridors as ordered waypoints; peaks and ridges for the
terrain model; and coarse water polygons (San Francisco + San Pablo Bay, the Pacific
coast, the Carquinez Strait). Coordinates are WGS84 ``(lat, lon)``.

A few points differ slightly from the raw facts so that the coarse water polygon and the
land agree (e.g. Oakland airport sits on bay fill that the polygon counts as water).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    """A city centre or a point of interest."""

    name: str
    lat: float
    lon: float
    population: int
    kind: str
    """'city', 'airport' or 'logistics'."""


@dataclass(frozen=True)
class Freeway:
    """A freeway corridor: ordered waypoints and the bridge spans along it."""

    route: str
    waypoints: tuple[tuple[float, float], ...]
    bridges: tuple[tuple[int, int, str], ...] = ()
    """(first waypoint index, last waypoint index, bridge name)."""


@dataclass(frozen=True)
class Bridge:
    """A bay bridge: endpoints, route, deck height used for its elevation profile."""

    name: str
    route: str
    a: tuple[float, float]
    b: tuple[float, float]
    length_km: float
    deck_m: float


@dataclass(frozen=True)
class Peak:
    """A hill modelled as a smooth bump of ``elevation_m`` and radius ``radius_km``."""

    name: str
    lat: float
    lon: float
    elevation_m: float
    radius_km: float


PLACES: tuple[Place, ...] = (
    Place("San Francisco", 37.7749, -122.4194, 873_965, "city"),
    Place("Oakland", 37.8044, -122.2712, 440_646, "city"),
    Place("San Jose", 37.3382, -121.8863, 1_013_240, "city"),
    Place("Berkeley", 37.8715, -122.2730, 124_321, "city"),
    Place("Fremont", 37.5485, -121.9886, 230_504, "city"),
    Place("Hayward", 37.6688, -122.0808, 162_954, "city"),
    Place("Sunnyvale", 37.3688, -122.0363, 155_805, "city"),
    Place("Santa Clara", 37.3541, -121.9552, 127_647, "city"),
    Place("Concord", 37.9780, -122.0311, 125_410, "city"),
    Place("Vallejo", 38.1041, -122.2566, 126_090, "city"),
    Place("Richmond", 37.9358, -122.3477, 116_448, "city"),
    Place("San Mateo", 37.5630, -122.3255, 105_661, "city"),
    Place("Daly City", 37.6879, -122.4702, 104_901, "city"),
    Place("San Leandro", 37.7249, -122.1561, 91_008, "city"),
    Place("Redwood City", 37.4852, -122.2364, 84_292, "city"),
    Place("Mountain View", 37.3861, -122.0839, 82_376, "city"),
    Place("Milpitas", 37.4323, -121.8996, 80_273, "city"),
    Place("Pleasanton", 37.6624, -121.8747, 79_871, "city"),
    Place("Alameda", 37.7652, -122.2416, 78_280, "city"),
    Place("Dublin", 37.7022, -121.9358, 72_589, "city"),
    Place("Union City", 37.5934, -122.0439, 70_143, "city"),
    Place("Walnut Creek", 37.9101, -122.0652, 70_127, "city"),
    Place("Palo Alto", 37.4419, -122.1430, 68_572, "city"),
    Place("South San Francisco", 37.6547, -122.4077, 66_105, "city"),
    Place("San Rafael", 37.9735, -122.5311, 61_271, "city"),
    Place("Cupertino", 37.3230, -122.0322, 60_381, "city"),
    Place("San Bruno", 37.6305, -122.4111, 43_908, "city"),
    Place("Menlo Park", 37.4530, -122.1817, 33_780, "city"),
    Place("Burlingame", 37.5779, -122.3481, 31_386, "city"),
    Place("Emeryville", 37.8313, -122.2852, 12_905, "city"),
    Place("Sausalito", 37.8591, -122.4853, 7_269, "city"),
    Place("SFO airport", 37.6213, -122.3850, 0, "airport"),
    Place("OAK airport", 37.7180, -122.2120, 0, "airport"),
    Place("SJC airport", 37.3639, -121.9289, 0, "airport"),
    Place("Port of Oakland", 37.7955, -122.2790, 0, "logistics"),
)

BRIDGES: tuple[Bridge, ...] = (
    Bridge("Golden Gate Bridge", "US-101", (37.8078, -122.4750), (37.8324, -122.4795), 2.7, 67),
    Bridge(
        "San Francisco-Oakland Bay Bridge",
        "I-80",
        (37.7885, -122.3900),
        (37.8255, -122.2990),
        7.2,
        58,
    ),
    Bridge(
        "San Mateo-Hayward Bridge", "SR-92", (37.5830, -122.2620), (37.6160, -122.1420), 11.3, 41
    ),
    Bridge("Dumbarton Bridge", "SR-84", (37.4850, -122.1350), (37.5050, -122.0750), 8.0, 26),
    Bridge(
        "Richmond-San Rafael Bridge", "I-580", (37.9297, -122.4079), (37.9450, -122.4930), 8.9, 56
    ),
    Bridge("Carquinez Bridge", "I-80", (38.0560, -122.2270), (38.0650, -122.2260), 1.1, 45),
    Bridge("Benicia-Martinez Bridge", "I-680", (38.0300, -122.1200), (38.0480, -122.1280), 2.3, 43),
)

FREEWAYS: tuple[Freeway, ...] = (
    Freeway(
        "US-101",
        (
            (37.9700, -122.5200),
            (37.8700, -122.5100),
            (37.8324, -122.4795),
            (37.8078, -122.4750),
            (37.7990, -122.4400),
            (37.7750, -122.4190),
            (37.7680, -122.4050),
            (37.7060, -122.3940),
            (37.6250, -122.3980),
            (37.5880, -122.3380),
            (37.5630, -122.3050),
            (37.4930, -122.2250),
            (37.4520, -122.1550),
            (37.4100, -122.0800),
            (37.3950, -122.0250),
            (37.3700, -121.9300),
            (37.3450, -121.8700),
        ),
        ((2, 3, "Golden Gate Bridge"),),
    ),
    Freeway(
        "I-280",
        (
            (37.7760, -122.3950),
            (37.7000, -122.4700),
            (37.6300, -122.4400),
            (37.5400, -122.3450),
            (37.4400, -122.2400),
            (37.3700, -122.1200),
            (37.3250, -122.0300),
            (37.3180, -121.9350),
            (37.3350, -121.8800),
        ),
    ),
    Freeway(
        "I-880",
        (
            (37.8000, -122.2900),
            (37.7500, -122.2000),
            (37.7100, -122.1650),
            (37.6550, -122.1100),
            (37.5950, -122.0600),
            (37.5350, -121.9900),
            (37.4300, -121.9200),
            (37.3700, -121.9250),
        ),
    ),
    Freeway(
        "I-80",
        (
            (37.7885, -122.3900),
            (37.8098, -122.3650),
            (37.8255, -122.2990),
            (37.8350, -122.2950),
            (37.8700, -122.3050),
            (37.9100, -122.3100),
            (37.9950, -122.2950),
            (38.0560, -122.2270),
            (38.0650, -122.2260),
            (38.1050, -122.2250),
        ),
        ((0, 2, "San Francisco-Oakland Bay Bridge"), (7, 8, "Carquinez Bridge")),
    ),
    Freeway(
        "I-580",
        (
            (37.9500, -122.5000),
            (37.9450, -122.4930),
            (37.9297, -122.4079),
            (37.9350, -122.3500),
            (37.8900, -122.3050),
            (37.8270, -122.2950),
            (37.8150, -122.2500),
            (37.7900, -122.2050),
            (37.7000, -122.0850),
            (37.7050, -121.9300),
            (37.7000, -121.8000),
        ),
        ((1, 2, "Richmond-San Rafael Bridge"),),
    ),
    Freeway(
        "I-680",
        (
            (38.0480, -122.1280),
            (38.0300, -122.1200),
            (37.9300, -122.0600),
            (37.7800, -121.9800),
            (37.7050, -121.9250),
            (37.6600, -121.9000),
            (37.5300, -121.9200),
            (37.3600, -121.8500),
        ),
        ((0, 1, "Benicia-Martinez Bridge"),),
    ),
    Freeway(
        "SR-24",
        ((37.8300, -122.2650), (37.8560, -122.2100), (37.8800, -122.1800), (37.9050, -122.0650)),
    ),
    Freeway(
        "SR-92",
        (
            (37.5300, -122.3450),
            (37.5600, -122.2900),
            (37.5830, -122.2620),
            (37.6160, -122.1420),
            (37.6300, -122.1000),
        ),
        ((2, 3, "San Mateo-Hayward Bridge"),),
    ),
    Freeway(
        "SR-84",
        ((37.4800, -122.1750), (37.4850, -122.1350), (37.5050, -122.0750), (37.5400, -122.0200)),
        ((1, 2, "Dumbarton Bridge"),),
    ),
)

PEAKS: tuple[Peak, ...] = (
    Peak("Twin Peaks", 37.7544, -122.4477, 282, 1.0),
    Peak("Mount Davidson", 37.7381, -122.4537, 283, 0.8),
    Peak("Mount Sutro", 37.7583, -122.4579, 277, 0.8),
    Peak("Nob Hill", 37.7930, -122.4161, 114, 0.5),
    Peak("Russian Hill", 37.8011, -122.4194, 89, 0.45),
    Peak("Telegraph Hill", 37.8024, -122.4058, 85, 0.3),
    Peak("Bernal Heights", 37.7436, -122.4144, 132, 0.45),
    Peak("Potrero Hill", 37.7577, -122.3985, 90, 0.55),
    Peak("Yerba Buena Island", 37.8098, -122.3650, 105, 0.4),
    Peak("San Bruno Mountain", 37.6928, -122.4350, 402, 1.5),
    Peak("Montara Mountain", 37.5560, -122.4820, 580, 3.0),
    Peak("Mount Tamalpais", 37.9235, -122.5965, 784, 3.0),
    Peak("Grizzly Peak (Berkeley Hills)", 37.8820, -122.2330, 536, 1.6),
    Peak("Oakland Hills (Skyline)", 37.8100, -122.1850, 450, 1.6),
    Peak("Mount Diablo", 37.8816, -121.9142, 1173, 5.0),
    Peak("Mission Peak", 37.5127, -121.8804, 767, 2.0),
    Peak("Mount Hamilton", 37.3414, -121.6429, 1283, 6.0),
    Peak("Black Mountain (Santa Cruz Mtns)", 37.3194, -122.1466, 850, 3.0),
)

RIDGES: tuple[tuple[float, tuple[tuple[float, float, float], ...]], ...] = (
    # East Bay hills along the Hayward fault: (lat, lon, crest elevation_m); width in km
    (
        1.6,
        (
            (37.9350, -122.2750, 250),
            (37.8820, -122.2330, 536),
            (37.8400, -122.2050, 480),
            (37.8100, -122.1850, 450),
            (37.7600, -122.1400, 350),
            (37.7000, -122.0550, 300),
            (37.6200, -121.9750, 330),
            (37.5650, -121.9250, 200),
            (37.5127, -121.8804, 700),
        ),
    ),
    # Santa Cruz Mountains crest down the Peninsula
    (
        2.5,
        (
            (37.6100, -122.4600, 300),
            (37.5560, -122.4820, 580),
            (37.4500, -122.3300, 600),
            (37.3800, -122.2200, 650),
            (37.3194, -122.1466, 850),
        ),
    ),
)

BAY_WATER: tuple[tuple[float, float], ...] = (
    (37.8150, -122.4780),
    (37.8080, -122.4400),
    (37.8100, -122.4050),
    (37.7900, -122.3870),
    (37.7550, -122.3840),
    (37.7200, -122.3750),
    (37.7000, -122.3800),
    (37.6700, -122.3880),
    (37.6350, -122.3750),
    (37.6000, -122.3500),
    (37.5750, -122.3000),
    (37.5400, -122.2500),
    (37.5000, -122.1900),
    (37.4700, -122.1300),
    (37.4450, -122.0800),
    (37.4300, -122.0300),
    (37.4500, -121.9800),
    (37.4900, -122.0100),
    (37.5300, -122.0800),
    (37.5800, -122.1200),
    (37.6300, -122.1500),
    (37.6900, -122.2000),
    (37.7300, -122.2300),
    (37.7700, -122.3000),
    (37.8000, -122.3200),
    (37.8300, -122.3150),
    (37.8700, -122.3200),
    (37.9000, -122.3300),
    (37.9200, -122.3900),
    (37.9800, -122.4000),
    (38.0300, -122.3500),
    (38.0500, -122.3000),
    (38.0800, -122.3500),
    (38.0500, -122.4500),
    (37.9800, -122.4900),
    (37.9300, -122.4700),
    (37.8700, -122.4800),
    (37.8300, -122.4780),
)
"""San Francisco Bay + San Pablo Bay (closed implicitly). Roads cross it only on bridges."""

PACIFIC: tuple[tuple[float, float], ...] = (
    (38.2000, -123.2000),
    (38.0000, -122.8000),
    (37.9000, -122.6800),
    (37.8600, -122.5800),
    (37.8300, -122.5350),
    (37.8290, -122.4800),
    (37.8120, -122.4790),
    (37.7950, -122.4840),
    (37.7870, -122.5070),
    (37.7700, -122.5110),
    (37.7350, -122.5080),
    (37.7000, -122.5000),
    (37.6400, -122.4950),
    (37.5800, -122.5200),
    (37.5000, -122.4800),
    (37.4000, -122.4200),
    (37.1000, -122.3000),
    (37.1000, -123.2000),
)
"""The Pacific Ocean and the Golden Gate strait west of the bay polygon."""

CARQUINEZ: tuple[tuple[float, float], ...] = (
    (38.0500, -122.3000),
    (38.0580, -122.2600),
    (38.0580, -122.2270),
    (38.0490, -122.1900),
    (38.0400, -122.1500),
    (38.0320, -122.1220),
    (38.0300, -122.0900),
    (38.0450, -122.0900),
    (38.0460, -122.1250),
    (38.0550, -122.1500),
    (38.0620, -122.1900),
    (38.0640, -122.2270),
    (38.0750, -122.2700),
    (38.0800, -122.3400),
)
"""The Carquinez Strait between San Pablo Bay and Suisun Bay."""

WATER_BODIES: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = (
    ("bay", BAY_WATER),
    ("pacific", PACIFIC),
    ("carquinez", CARQUINEZ),
)
