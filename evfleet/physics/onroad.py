"""On-road losses that a dynamometer test leaves out (used when ``Conditions.on_road``).

The energy model reproduces NREL FASTSim on the EPA dyno cycles: warm tyres on smooth
rollers or a test track, 250 W of auxiliaries, climate control idle. Cars on real roads use
more: EPA's label divides dyno results by 0.7 to cover real driving, weather and
accessories, and battery-side on-road consumption of the fleet's models is about
14-19 kWh/100 km. The physical causes modelled here, all switched on by
``Conditions(on_road=True)``:

* rolling resistance of real pavement and real tyre pressures (x1.12 x 1.05), on wet
  roads (+15 %), and of tyres starting a trip cold (+20 %, fading over ~10 min of driving);
* the auxiliary load of a car in use (lights, screens, computers, DC/DC losses: +100 W);
* the cabin heat balance with sun and occupants, the always-on blower and the warm-up /
  cool-down at the start of each trip (:func:`evfleet.physics.hvac.on_road_hvac_power_w`);
* the sun: clear-sky irradiance from latitude, day of year and the local clock with
  daylight saving time (:func:`solar_irradiance_at`), dimmed when it rains.
"""

from __future__ import annotations

import datetime as dt
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evfleet.physics.hvac import window_mean_decay
from evfleet.units import HOUR_S

ROAD_SURFACE_CRR_FACTOR: Final = 1.12
"""Real pavement (macrotexture, unevenness) versus the smooth test track of a coast-down:
pavement texture moves rolling resistance by up to ±30 % (Sandberg (ed.), MIRIAM SP1
report, 2011); ordinary worn asphalt and concrete sit about 10-15 % above a smooth track."""
TYRE_PRESSURE_CRR_FACTOR: Final = 1.05
"""Tyres in use run ~10 % below placard pressure on average, a quarter of cars >= 25 %
below (NHTSA Tire Pressure Special Study, 2001); rolling resistance ~ pressure^-0.4."""
WET_ROAD_CRR_RISE: Final = 0.15
"""Extra rolling resistance on a wet road (water displacement; Ejsmont et al., J. Civil
Eng. Archit. 9 (2015) 1302-1310: +10-30 % depending on water depth)."""
COLD_TYRE_CRR_RISE: Final = 0.20
"""Extra rolling resistance of a tyre at ambient temperature; it falls as the tyre warms
(SAE J1269 / ISO 28580 require a 30 min warm-up because rolling resistance drops ~20 %)."""
TYRE_WARMUP_TAU_S: Final = 600.0
"""Time constant of tyre warm-up while driving (10 min)."""
TYRE_PARKED_TAU_S: Final = 1_800.0
"""Time constant with which a parked tyre cools back to ambient (30 min)."""
ON_ROAD_AUX_EXTRA_W: Final = 100.0
"""Auxiliary load of a car in use on top of the 250 W dyno value: LED lights (~40-60 W),
infotainment and driver-assist computers, DC/DC converter losses."""
PARKED_COLD_S: Final = 86_400.0
"""A parking time after which cabin and tyres are fully soaked to ambient."""

SOLAR_CONSTANT_W_M2: Final = 1_098.0
"""Haurwitz (1945) clear-sky model: ``1098·cos z·exp(-0.057 / cos z)`` W/m²."""
BAY_AREA_LATITUDE_DEG: Final = 37.7
BAY_AREA_TIMEZONE: Final = "America/Los_Angeles"
SOLAR_NOON_STANDARD_H: Final = 12.17
"""Standard-time clock of solar noon in the Bay Area (122.4° W: 12:10 PST, 13:10 PDT);
the equation of time (±16 min) is left out."""
RAIN_SUN_FACTOR: Final = 0.25
"""Irradiance under the overcast of a rain hour relative to clear sky (Kasten & Czeplak,
Solar Energy 24 (1980): ``1 - 0.75·N^3.4`` at full cloud cover)."""


def solar_irradiance_w_m2(
    hour: ArrayLike,
    *,
    raining: ArrayLike = False,
    day_of_year: ArrayLike | None = None,
    latitude_deg: float = BAY_AREA_LATITUDE_DEG,
) -> NDArray[np.float64]:
    """Global horizontal irradiance, W/m²: clear sky at the hour, dimmed in rain.

    ``hour`` is the local *standard-time* clock (no daylight saving; see
    :func:`solar_irradiance_at` for wall-clock times). ``day_of_year`` (1..366) sets the
    solar declination (Cooper 1969); ``None`` uses the equinox, the annual-mean sun path.
    """
    h = np.asarray(hour, dtype=np.float64)
    decl = 0.0
    if day_of_year is not None:
        doy = np.asarray(day_of_year, dtype=np.float64)
        decl = np.radians(23.44) * np.sin(2.0 * np.pi * (284.0 + doy) / 365.0)
    lat = np.radians(latitude_deg)
    hour_angle = np.radians(15.0 * (h - SOLAR_NOON_STANDARD_H))
    cos_z = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    up = np.maximum(cos_z, 1e-3)
    clear = np.where(cos_z > 0.0, SOLAR_CONSTANT_W_M2 * up * np.exp(-0.057 / up), 0.0)
    return np.asarray(clear * np.where(raining, RAIN_SUN_FACTOR, 1.0), dtype=np.float64)


def standard_time(
    local_time: ArrayLike, *, timezone: str = BAY_AREA_TIMEZONE
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Standard-time hour and day of year of local wall-clock times.

    ``local_time`` holds naive wall-clock datetimes (``datetime64``) in ``timezone``; in
    daylight saving time the clock runs one hour ahead of the sun. The offset is looked up
    once per distinct date (at noon, far from the 02:00 switch), so arrays stay vectorised.
    """
    t = np.asarray(local_time, dtype="datetime64[us]")
    days = t.astype("datetime64[D]")
    unique, inverse = np.unique(days, return_inverse=True)
    zone = ZoneInfo(timezone)
    noon = [dt.datetime.combine(d.item(), dt.time(12), tzinfo=zone) for d in unique.ravel()]
    dst_h = np.array([(n.dst() or dt.timedelta(0)).total_seconds() / HOUR_S for n in noon])
    doy = np.array([n.timetuple().tm_yday for n in noon], dtype=np.int64)
    inverse = inverse.reshape(t.shape)
    clock_h = (t - days) / np.timedelta64(1, "h")
    return np.asarray(clock_h - dst_h[inverse], dtype=np.float64), doy[inverse]


def solar_irradiance_at(
    local_time: ArrayLike,
    *,
    raining: ArrayLike = False,
    latitude_deg: float = BAY_AREA_LATITUDE_DEG,
) -> NDArray[np.float64]:
    """Clear-sky irradiance at local wall-clock times (date and daylight saving time)."""
    hour, day_of_year = standard_time(local_time)
    return solar_irradiance_w_m2(
        hour, raining=raining, day_of_year=day_of_year, latitude_deg=latitude_deg
    )


def on_road_crr_factor(
    *,
    wet_road: ArrayLike = 0.0,
    trip_time_s: ArrayLike | None = None,
    duration_s: ArrayLike = 0.0,
    parked_s: ArrayLike = PARKED_COLD_S,
) -> NDArray[np.float64]:
    """Rolling-resistance factor of a real road over a dyno test (times the Crr(T) factor).

    ``wet_road`` is the wet fraction (0 dry .. 1 wet). With ``trip_time_s`` (time since
    departure at the start of the step or segment, lasting ``duration_s``), tyres that
    cooled while parked for ``parked_s`` start with extra resistance fading as
    ``exp(-t / TYRE_WARMUP_TAU_S)``; ``None`` means warm tyres.
    """
    wet = 1.0 + WET_ROAD_CRR_RISE * np.asarray(wet_road, dtype=np.float64)
    factor = ROAD_SURFACE_CRR_FACTOR * TYRE_PRESSURE_CRR_FACTOR * wet
    if trip_time_s is not None:
        cold = -np.expm1(-np.asarray(parked_s, dtype=np.float64) / TYRE_PARKED_TAU_S)
        warmup = window_mean_decay(trip_time_s, duration_s, TYRE_WARMUP_TAU_S)
        factor = factor * (1.0 + COLD_TYRE_CRR_RISE * cold * warmup)
    return np.asarray(factor, dtype=np.float64)
