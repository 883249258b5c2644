"""Hourly Bay Area weather per climate zone: one seeded weather truth per dataset.

Three zones (:data:`evfleet.schema.WEATHER_ZONES`) capture the Bay Area microclimates:

- ``sf_coast``: San Francisco, the Peninsula coast and southern Marin: mild all year,
  cool foggy summers, strong afternoon sea breeze, humid;
- ``bay_side``: the bay plains (East Bay flats, Peninsula, South Bay): warmer summers;
- ``inland``: the valleys east of the hills (Walnut Creek, Concord, Tri-Valley): hot dry
  summers, cold winter nights.

Daily highs and lows follow monthly climate normals (interpolated by day of year) plus a
regional synoptic anomaly (AR(1), shared by the zones) and a small zone anomaly. Rain is a
wet/dry Markov chain with wet winters and dry summers; a storm hits all zones on the same
day. Each hour gets a diurnal temperature cycle (minimum near 06:00, maximum near 15:00),
a sea-breeze wind cycle, relative humidity from a dew point, and rain hours.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evfleet.errors import ConfigError, InputDataError
from evfleet.schema import TABLES, WEATHER_ZONES, conform, require_columns
from evfleet.units import HOUR_S

if TYPE_CHECKING:
    from evfleet.config import StudioConfig

logger = logging.getLogger(__name__)

_WEATHER_STREAM = 0x5EA7
"""Extra seed word of the weather generator (independent of the vehicles' streams)."""

# Monthly climate normals (Jan..Dec), degC: daily maximum and minimum.
_TMAX_C = np.array(
    [
        [14.5, 15.5, 16.5, 17.0, 17.5, 18.5, 18.5, 19.5, 21.0, 20.5, 17.5, 14.5],
        [15.0, 17.0, 19.0, 21.0, 23.0, 25.5, 26.5, 26.5, 26.5, 24.0, 19.0, 15.0],
        [13.5, 16.5, 19.5, 23.0, 27.0, 31.0, 33.5, 33.0, 30.5, 25.0, 18.0, 13.5],
    ]
)
_TMIN_C = np.array(
    [
        [8.0, 9.0, 9.5, 10.0, 11.0, 12.0, 12.5, 13.0, 13.0, 12.0, 10.0, 8.0],
        [5.0, 6.5, 7.5, 8.5, 10.5, 12.5, 14.0, 14.0, 13.0, 10.5, 7.0, 5.0],
        [3.0, 4.0, 5.5, 7.0, 9.5, 12.0, 13.5, 13.5, 12.0, 9.0, 5.0, 3.0],
    ]
)
# Monthly mean dew point, degC (coast humid, inland dry in summer).
_DEWPOINT_C = np.array(
    [
        [6.0, 7.0, 7.5, 8.0, 9.5, 11.0, 12.0, 12.5, 12.0, 10.5, 8.0, 6.0],
        [4.5, 5.5, 6.0, 6.5, 8.5, 10.0, 11.5, 12.0, 11.0, 9.0, 6.0, 4.5],
        [3.0, 4.0, 4.5, 5.0, 6.5, 8.0, 9.5, 10.0, 9.0, 7.0, 4.5, 3.0],
    ]
)
# Regional probability of a wet day and mean rain of a wet day (mm), Jan..Dec.
_P_WET = np.array([0.35, 0.33, 0.30, 0.18, 0.08, 0.03, 0.01, 0.01, 0.03, 0.10, 0.22, 0.32])
_WET_DAY_MM = np.array([12.0, 12.0, 10.0, 8.0, 6.0, 4.0, 2.0, 2.0, 5.0, 9.0, 11.0, 12.0])
_P_WET_PERSIST = 0.35
"""Extra probability that a wet day follows a wet day (storms last several days)."""

_ZONE_RAIN_FACTOR = np.array([1.0, 0.85, 0.75])
_ZONE_WIND_KPH = np.array([18.0, 13.0, 10.0])
_ZONE_SUMMER_WIND_KPH = np.array([10.0, 7.0, 6.0])
_ZONE_WIND_DIR_DEG = np.array([280.0, 285.0, 255.0])
_STORM_WIND_DIR_DEG = 200.0
_HOUR_TMIN = 6.0
_HOUR_TMAX = 15.0

# Zone boundaries (degrees): coast = SF and Marin west of the bay, or the Pacific side;
# inland = east of a line through the East Bay hills (37.95 N, -122.22) - (37.60 N, -121.95).
_COAST_MIN_LAT = 37.60
_COAST_MAX_LON = -122.38
_PACIFIC_MAX_LON = -122.45
_HILLS_LAT0, _HILLS_LON0, _HILLS_SLOPE = 37.95, -122.22, -0.771
_INLAND_MIN_LAT = 37.55


def zone_index(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Climate zone index (position in :data:`WEATHER_ZONES`) of each coordinate.

    Parameters
    ----------
    lat, lon
        Coordinates in degrees (arrays of equal shape).

    Returns
    -------
    numpy.ndarray
        ``int8`` array: 0 ``sf_coast``, 1 ``bay_side``, 2 ``inland``.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    coast = ((lat > _COAST_MIN_LAT) & (lon < _COAST_MAX_LON)) | (lon < _PACIFIC_MAX_LON)
    hills_lon = _HILLS_LON0 + (lat - _HILLS_LAT0) * _HILLS_SLOPE
    inland = (lon > hills_lon) & (lat > _INLAND_MIN_LAT)
    out = np.ones(lat.shape, dtype=np.int8)
    out[inland] = 2
    out[coast] = 0
    return out


def zone_names(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Climate zone name of each coordinate (see :func:`zone_index`)."""
    return np.asarray(WEATHER_ZONES, dtype=object)[zone_index(lat, lon)]


def _normals(table: np.ndarray, dates: pd.DatetimeIndex) -> np.ndarray:
    """Monthly normals interpolated to each date: array (n_dates, n_zones)."""
    doy = dates.dayofyear.to_numpy(dtype=float)
    mid = (np.arange(12) + 0.5) * 365.25 / 12.0
    xp = np.concatenate([[mid[-1] - 365.25], mid, [mid[0] + 365.25]])
    cols = [np.interp(doy, xp, np.concatenate([[z[-1]], z, [z[0]]])) for z in table]
    return np.stack(cols, axis=1)


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """Stationary AR(1) series of length ``n`` with marginal standard deviation ``sd``."""
    eps = rng.normal(0.0, sd * np.sqrt(1.0 - phi**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sd)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + eps[i]
    return out


def _wet_days(rng: np.random.Generator, p_wet: np.ndarray) -> np.ndarray:
    """Wet/dry Markov chain whose stationary wet probability is ``p_wet`` (per day)."""
    p11 = np.minimum(0.9, p_wet + _P_WET_PERSIST)
    p01 = p_wet * (1.0 - p11) / np.maximum(1e-9, 1.0 - p_wet)
    u = rng.random(p_wet.size)
    wet = np.zeros(p_wet.size, dtype=bool)
    wet[0] = u[0] < p_wet[0]
    for i in range(1, p_wet.size):
        wet[i] = u[i] < (p11[i] if wet[i - 1] else p01[i])
    return wet


def _daily(rng: np.random.Generator, dates: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Daily fields (n_days, n_zones): tmax, tmin, dewpoint, rain_mm, wind."""
    n, nz = len(dates), len(WEATHER_ZONES)
    month = dates.month.to_numpy() - 1
    synoptic = _ar1(rng, n, 0.7, 2.0)[:, None]
    local = np.stack([_ar1(rng, n, 0.5, 0.8) for _ in range(nz)], axis=1)
    wet = _wet_days(rng, _P_WET[month])
    rain_mm = np.where(
        wet[:, None] & (rng.random((n, nz)) > 0.1),
        rng.gamma(1.5, _WET_DAY_MM[month] / 1.5)[:, None]
        * _ZONE_RAIN_FACTOR
        * rng.lognormal(0.0, 0.25, (n, nz)),
        0.0,
    )
    cloud = np.where(rain_mm > 0, 1.0, 0.0)
    # Inland valleys swing more with the weather pattern than the coast.
    swing = np.array([0.6, 1.0, 1.4])
    tmax = _normals(_TMAX_C, dates) + synoptic * swing + local - 3.0 * cloud
    tmin = _normals(_TMIN_C, dates) + 0.6 * synoptic * swing + 0.7 * local + 1.0 * cloud
    tmin = np.minimum(tmin, tmax - 1.5)
    dew = _normals(_DEWPOINT_C, dates) + rng.normal(0.0, 1.5, (n, nz))
    summer = np.cos(2 * np.pi * (dates.dayofyear.to_numpy() - 200) / 365.25)[:, None]
    wind = (
        (_ZONE_WIND_KPH + _ZONE_SUMMER_WIND_KPH * np.clip(summer, 0, None))
        * (1.0 + 0.6 * cloud)
        * rng.lognormal(0.0, 0.25, (n, nz))
    )
    return {"tmax": tmax, "tmin": tmin, "dew": dew, "rain_mm": rain_mm, "wind": wind}


def _diurnal_fraction(hour: np.ndarray) -> np.ndarray:
    """Position between the daily minimum (0) and maximum (1) for hours in [6, 30)."""
    rise = 0.5 - 0.5 * np.cos(np.pi * (hour - _HOUR_TMIN) / (_HOUR_TMAX - _HOUR_TMIN))
    fall = 0.5 + 0.5 * np.cos(np.pi * (hour - _HOUR_TMAX) / (24.0 + _HOUR_TMIN - _HOUR_TMAX))
    return np.where(hour <= _HOUR_TMAX, rise, fall)


def _hourly_temp(tmax: np.ndarray, tmin: np.ndarray) -> np.ndarray:
    """Hourly temperature (n_days, 24, n_zones) from daily extremes of days -1..n.

    Before 06:00 the night cools from the previous day's maximum to today's minimum; after
    15:00 it cools towards the next day's minimum, so midnight is continuous.
    """
    hours = np.arange(24, dtype=float)[None, :, None]
    prev_max, cur_max = tmax[:-2, None, :], tmax[1:-1, None, :]
    cur_min, next_min = tmin[1:-1, None, :], tmin[2:, None, :]
    morning = cur_min + (prev_max - cur_min) * _diurnal_fraction(hours + 24.0)
    day = cur_min + (cur_max - cur_min) * _diurnal_fraction(hours)
    evening = next_min + (cur_max - next_min) * _diurnal_fraction(hours)
    return np.where(hours < _HOUR_TMIN, morning, np.where(hours <= _HOUR_TMAX, day, evening))


def _rain_hours(rng: np.random.Generator, rain_mm: np.ndarray) -> np.ndarray:
    """Spread each wet day's rain over a contiguous block of hours: (n_days, 24, n_zones)."""
    n, nz = rain_mm.shape
    start = np.asarray(rng.integers(0, 18, n))
    length = np.asarray(rng.integers(4, 15, n))
    hours = np.arange(24)[None, :]
    block = (hours >= start[:, None]) & (hours < (start + length)[:, None])
    weights = rng.gamma(2.0, 1.0, (n, 24, nz)) * block[:, :, None]
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    return np.round(weights * rain_mm[:, None, :], 1)


def _humidity(temp_c: np.ndarray, dew_c: np.ndarray) -> np.ndarray:
    """Relative humidity (%) from temperature and dew point (Magnus formula)."""
    dew_c = np.minimum(dew_c, temp_c)

    def magnus(t: np.ndarray) -> np.ndarray:
        return np.exp(17.625 * t / (243.04 + t))

    return np.clip(100.0 * magnus(dew_c) / magnus(temp_c), 15.0, 100.0)


def _period_dates(start: dt.date, days: int) -> pd.DatetimeIndex:
    if days < 1:
        msg = f"fleet.days must be at least 1, got {days}"
        raise ConfigError(msg)
    return pd.date_range(pd.Timestamp(start) - pd.Timedelta(days=1), periods=days + 2, freq="D")


def simulate_weather(start: dt.date, days: int, seed: int) -> pd.DataFrame:
    """Hourly weather of the three zones for ``days`` days from ``start``.

    Parameters
    ----------
    start
        First day of the period (local time).
    days
        Number of days.
    seed
        Seed of the weather generator; the same seed gives the same table.

    Returns
    -------
    pandas.DataFrame
        The ``weather`` table (:data:`evfleet.schema.TABLES`), sorted by date, hour, zone.
    """
    rng = np.random.default_rng([seed, _WEATHER_STREAM])
    dates = _period_dates(start, days)
    daily = _daily(rng, dates)
    temp = _hourly_temp(daily["tmax"], daily["tmin"]) + rng.normal(0, 0.3, (days, 24, 3))
    rain = _rain_hours(rng, daily["rain_mm"][1:-1])
    wet_hour = rain > 0
    dew = np.where(wet_hour, temp - 0.5, daily["dew"][1:-1, None, :])
    hours = np.arange(24, dtype=float)[None, :, None]
    breeze = 0.55 + 0.9 * np.exp(-0.5 * ((hours - 16.0) / 3.5) ** 2)
    wind = daily["wind"][1:-1, None, :] * breeze * rng.lognormal(0, 0.15, (days, 24, 3))
    storm_day = (daily["rain_mm"][1:-1] > 0)[:, None, :]
    base_dir = np.where(storm_day, _STORM_WIND_DIR_DEG, _ZONE_WIND_DIR_DEG)
    wind_dir = (base_dir + rng.normal(0, 20, (days, 24, 3))) % 360.0
    day_idx, hour_idx, zone_idx = np.meshgrid(
        np.arange(days), np.arange(24), np.arange(3), indexing="ij"
    )
    period = dates[1:-1]
    frame = pd.DataFrame(
        {
            "date": pd.Series(period.date[day_idx.ravel()]).astype("date32[day][pyarrow]"),
            "hour": hour_idx.ravel().astype("int64"),
            "zone": np.asarray(WEATHER_ZONES, dtype=object)[zone_idx.ravel()],
            "temp_c": np.round(temp.ravel(), 2),
            "wind_kph": np.round(wind.ravel(), 2),
            "wind_dir_deg": np.round(wind_dir.ravel(), 1),
            "humidity_pct": np.round(_humidity(temp, dew).ravel(), 1),
            "precip_mm": rain.ravel(),
            "is_raining": rain.ravel() > 0,
        }
    )
    return conform("weather", frame[list(TABLES["weather"])])


def generate_weather(cfg: StudioConfig) -> pd.DataFrame:
    """Weather table of the configured period, seeded by the fleet seed.

    The three zones are fixed Bay Area climate zones, so the network plays no part.

    Parameters
    ----------
    cfg
        Studio configuration (``fleet.start_date``, ``fleet.days``, ``fleet.seed``).

    Returns
    -------
    pandas.DataFrame
        Hourly rows per zone (``days * 24 * 3`` rows).
    """
    fleet = cfg.fleet
    table = simulate_weather(fleet.start_date, fleet.days, fleet.seed)
    logger.info("weather: %d days x 3 zones, mean %.1f degC", fleet.days, table["temp_c"].mean())
    return table


class WeatherLookup:
    """Fast hour x zone lookup of a ``weather`` table for the simulator.

    Parameters
    ----------
    weather
        The ``weather`` table of the period starting at ``start``.
    start
        Midnight of the first day; times are seconds since then.
    """

    def __init__(self, weather: pd.DataFrame, start: dt.date) -> None:
        require_columns(weather, TABLES["weather"], "weather table")
        days = (pd.to_datetime(weather["date"].astype(str)) - pd.Timestamp(start)).dt.days
        hour = days.to_numpy() * 24 + weather["hour"].to_numpy()
        zone = pd.Categorical(weather["zone"], categories=list(WEATHER_ZONES)).codes
        if hour.min() < 0 or (zone < 0).any():
            msg = "weather table does not start at fleet.start_date or has unknown zones"
            raise InputDataError(msg)
        self.n_hours = int(hour.max()) + 1
        shape = (self.n_hours, len(WEATHER_ZONES))
        self._fields: dict[str, np.ndarray] = {}
        for col in ("temp_c", "wind_kph", "wind_dir_deg", "humidity_pct", "precip_mm"):
            grid = np.full(shape, np.nan)
            grid[hour, zone] = weather[col].to_numpy(dtype=float)
            self._fields[col] = grid
        if np.isnan(self._fields["temp_c"]).any():
            msg = "weather table has gaps: every hour of every zone needs a row"
            raise InputDataError(msg)

    def extremes(self, field: str) -> tuple[float, float]:
        """Smallest and largest value of ``field`` over the whole period and every zone."""
        grid = self._fields[field]
        return float(np.nanmin(grid)), float(np.nanmax(grid))

    def hour_index(self, t_s: np.ndarray) -> np.ndarray:
        """Row of each time (seconds since the start), clipped to the table's hours."""
        idx = np.floor(np.asarray(t_s, dtype=float) / HOUR_S).astype(np.int64)
        return np.clip(idx, 0, self.n_hours - 1)

    def get(self, field: str, t_s: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """Value of ``field`` at each (time, zone index)."""
        return self._fields[field][self.hour_index(t_s), np.asarray(zone, dtype=np.int64)]
