"""The feature catalogue: every model input, its unit and why it is known before driving.

A segment's features may only use what a router knows *before* the vehicle drives it: the
static road, the calendar, the weather forecast for that place and hour, the vehicle and
its driver, and what the vehicle did on *earlier days*. The realised speeds, stops,
durations and energy components of the segment (or of any later segment) are never
inputs; they exist only in the ``segments`` table as outcomes.

=========================== ===== ============ ==================================================
feature                     kind  unit         source; why it is leak-free
=========================== ===== ============ ==================================================
length_m                    num   m            road network; static edge attribute
grade                       num   rise/run     road network; static
elevation_change_m          num   m            end minus start node elevation; static
start_elevation_m           num   m            start node elevation; static
speed_limit_kph             num   km/h         posted limit; static
highway                     cat   -            OSM road class; static
start_control, end_control  cat   -            junction control at the start and end node, as
                                               the simulator's drivers meet it: signal or
                                               stop_sign from the map tag, else junction where
                                               3+ streets meet, else none; static ("unknown"
                                               when the network is not supplied)
is_trip_start, is_trip_end  num   0/1          first / last edge of the planned route (the vehicle
                                               starts / ends at standstill); known once the
                                               route is planned; 0 for through edges (the
                                               network-wide default)
trip_elapsed_min            num   min          expected minutes driven since departure when the
                                               edge starts: the summed *expected* travel times
                                               of the route's earlier edges (cabin and tyres
                                               warm up over the first minutes); known once the
                                               route is planned
prev_expected_speed_kph,    num   km/h         expected speed of the route's previous / next
next_expected_speed_kph                        edge (0 at the route's start / end: standstill):
                                               the speeds the car accelerates from and slows
                                               to; known once the route is planned; the edge's
                                               own expected speed for a through edge (the
                                               network-wide default)
turn_deg                    num   deg          heading change onto the route's next edge
                                               (0..180; 0 at the end and network-wide)
prev_turn_deg               num   deg          heading change from the route's previous edge
                                               onto this one (0 at the start, network-wide)
start_stop_prob             num   0..1         odds of entering the edge from standstill: 1 at
                                               the route's start, else the stop odds of the
                                               previous edge's road class at the start node's
                                               control (network-wide: the edge's own class);
                                               a static table of the map, no realised stops
end_stop_prob               num   0..1         odds of stopping at the end node: 1 at the
                                               route's end, else the stop odds of the road
                                               class at the end node's control
parked_h                    num   h            time the vehicle stood parked before the trip:
                                               departure minus the arrival of its previous trip
                                               (an earlier trip's recorded arrival), capped at
                                               24 h (fully soaked); known at departure
heading_sin, heading_cos    num   -            direction of travel from the edge geometry
start_lat, start_lon        num   deg          edge geometry; static
hour_of_day                 num   h            planned clock time of the edge (fractional):
                                               departure + expected durations of the route's
                                               earlier edges (planned_route), never realised
weekday                     num   0=Mon        calendar of the planned clock time
is_weekend                  num   0/1          calendar
season                      cat   -            calendar (meteorological season)
expected_speed_kph          num   km/h         speed limit x typical time-of-day congestion of
                                               the road class (a traffic prior, the same
                                               curve for every day); never the realised speed
expected_time_s_per_km      num   s/km         1 / expected speed
temp_c                      num   degC         forecast of that place and planned hour
headwind_kph, crosswind_kph num   km/h         forecast wind projected on the edge heading
humidity_pct                num   %            forecast of that zone and planned hour
is_raining                  num   0/1          forecast of that zone and planned hour
air_density_kg_m3           num   kg/m3        from the forecast temperature and humidity
model                       cat   -            vehicle catalogue key
mass_kg, battery_kwh        num   kg, kWh      fleet register
cda_m2, rolling_resistance  num   m2, -        vehicle catalogue
heat_pump                   num   0/1          vehicle catalogue (HVAC technology)
driver_profile              cat   -            fleet register
driving_style               cat   -            fleet register
charging_personality        cat   -            fleet register
rolling_prior_kwh_per_km    num   kWh/km       m g Crr f_road cos(theta) / 3600; f_road: pavement,
                                               wet road, tyres cold after parking (no fitting)
grade_prior_kwh_per_km      num   kWh/km       m g sin(theta) / 3600, signed (no fitting)
aero_prior_kwh_per_km       num   kWh/km       0.5 rho CdA (v_exp + headwind)^2 / 3600
aux_prior_kwh_per_km        num   kWh/km       on-road auxiliary power x expected time per km
hvac_prior_kwh_per_km       num   kWh/km       cabin model (forecast temperature, clear-sky sun
                                               of the hour, warm-up after parked_h at
                                               trip_elapsed_min) x expected time per km
inertia_prior_kwh_per_km    num   kWh/km       expected kinetic energy to reach the expected
                                               speed from the expected entry speed, minus the
                                               nominal regeneration when slowing to the
                                               expected exit speed (stop odds, turns and the
                                               route neighbours' expected speeds), per km
physics_prior_kwh_per_km    num   kWh/km       fixed-coefficient sum of the priors above
                                               (inertia excluded)
hist_kwh_per_km             num   kWh/km       the vehicle's energy / distance over all days
                                               strictly before the segment's day
hist_prior_ratio            num   -            the vehicle's energy / physics prior over earlier
                                               days (driver and vehicle condition)
hist_km                     num   km           distance the vehicle drove on earlier days
hist_days                   num   days         number of earlier days with driving
=========================== ===== ============ ==================================================

The target is the segment's energy per km (kWh/km); models are trained with the segment
length as sample weight so that errors are weighed in kWh, and their predictions are
returned both in kWh/km and in kWh (times the length).
"""

from __future__ import annotations

from typing import Final

CATEGORICAL_FEATURES: Final[tuple[str, ...]] = (
    "highway",
    "start_control",
    "end_control",
    "season",
    "model",
    "driver_profile",
    "driving_style",
    "charging_personality",
)
"""Categorical inputs (strings; unknown values at prediction time are treated as missing)."""

NUMERIC_FEATURES: Final[tuple[str, ...]] = (
    "length_m",
    "grade",
    "elevation_change_m",
    "start_elevation_m",
    "speed_limit_kph",
    "is_trip_start",
    "is_trip_end",
    "trip_elapsed_min",
    "prev_expected_speed_kph",
    "next_expected_speed_kph",
    "turn_deg",
    "prev_turn_deg",
    "start_stop_prob",
    "end_stop_prob",
    "parked_h",
    "heading_sin",
    "heading_cos",
    "start_lat",
    "start_lon",
    "hour_of_day",
    "weekday",
    "is_weekend",
    "expected_speed_kph",
    "expected_time_s_per_km",
    "temp_c",
    "headwind_kph",
    "crosswind_kph",
    "humidity_pct",
    "is_raining",
    "air_density_kg_m3",
    "mass_kg",
    "battery_kwh",
    "cda_m2",
    "rolling_resistance",
    "heat_pump",
    "rolling_prior_kwh_per_km",
    "grade_prior_kwh_per_km",
    "aero_prior_kwh_per_km",
    "aux_prior_kwh_per_km",
    "hvac_prior_kwh_per_km",
    "inertia_prior_kwh_per_km",
    "physics_prior_kwh_per_km",
    "hist_kwh_per_km",
    "hist_prior_ratio",
    "hist_km",
    "hist_days",
)
"""Numeric inputs (float64; missing values allowed and imputed/handled by the model)."""

FEATURES: Final[tuple[str, ...]] = CATEGORICAL_FEATURES + NUMERIC_FEATURES
"""All model inputs, in the order the models see them."""

HISTORY_FEATURES: Final[tuple[str, ...]] = (
    "hist_kwh_per_km",
    "hist_prior_ratio",
    "hist_km",
    "hist_days",
)
"""Features computed from the vehicle's earlier days."""

TARGET: Final = "kwh_per_km"
"""Training target: segment energy per km."""

ENERGY: Final = "energy_kwh"
"""True segment energy, kWh."""

KEYS: Final[tuple[str, ...]] = ("trip_id", "vehicle_id", "seq", "u", "v", "key", "start_time")
"""Identifiers carried through the feature table (never model inputs)."""

SPLIT_COLUMNS: Final[dict[str, str]] = {"vehicle": "split_vehicle", "time": "split_time"}
"""Split scheme -> column of the feature table holding ``train`` / ``valid`` / ``test``."""

FORBIDDEN_INPUTS: Final[frozenset[str]] = frozenset(
    {"mean_speed_kph", "max_speed_kph", "n_stops", "duration_s", "energy_kwh", TARGET}
)
"""Realised outcomes of a segment: never model inputs."""
