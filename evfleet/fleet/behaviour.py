"""Behaviour parameters: driver profiles and charging personalities.

These tables are the "configured ranges" of the synthetic fleet: each driver profile's
daily distance and trip-count ranges (the realism tests check the generated data against
them) and each charging personality's thresholds and targets. They are plain frozen
dataclasses so that a study can read them and tests can quote them. Driving styles live
with the speed profiles that use them (:data:`evfleet.physics.profiles.STYLES`).
"""

from __future__ import annotations

from dataclasses import dataclass

from evfleet.vocab import ChargingPersonality, DriverProfile


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """How a driver profile uses its vehicle over a day.

    Attributes
    ----------
    trips_per_day
        Inclusive range of trips on a driving day (all purposes, charging legs excluded).
    daily_km
        Range of the daily distance on a driving day, km (checked on generated data).
    weekend_drive_prob
        Probability of driving at all on a weekend day.
    weekday_drive_prob
        Probability of driving at all on a weekday.
    long_trip_prob
        Probability that a driving day contains one long out-and-back trip.
    payload_kg
        Typical load beyond the EPA test load (passengers, luggage, parcels).
    """

    trips_per_day: tuple[int, int]
    daily_km: tuple[float, float]
    weekend_drive_prob: float
    weekday_drive_prob: float
    long_trip_prob: float
    payload_kg: float


PROFILES: dict[DriverProfile, ProfileSpec] = {
    DriverProfile.COMMUTER: ProfileSpec((2, 9), (2.0, 250.0), 0.65, 0.95, 0.05, 30.0),
    DriverProfile.RIDESHARE: ProfileSpec((4, 28), (20.0, 450.0), 0.7, 0.9, 0.0, 90.0),
    DriverProfile.DELIVERY: ProfileSpec((5, 23), (15.0, 350.0), 0.3, 1.0, 0.0, 250.0),
    DriverProfile.CASUAL: ProfileSpec((2, 9), (1.0, 250.0), 0.8, 0.6, 0.06, 40.0),
}
"""Per-profile trip-count and distance ranges on driving days."""


@dataclass(frozen=True, slots=True)
class PersonalitySpec:
    """When, where and how far a driver charges.

    Attributes
    ----------
    threshold_soc
        Below this usable SOC the driver looks for a public charger (``threshold``).
    public_target_soc
        SOC a public session stops at.
    home_target_soc
        SOC an overnight home session stops at.
    plug_in_below_soc
        At home the driver plugs in overnight only below this usable SOC.
    opportunistic_prob
        Probability of using a charger close to a long dwell (``opportunistic``).
    reserve_soc
        Usable SOC the driver never plans to go below; a trip that would end lower gets
        a charging stop before it (``emergency`` when the threshold did not catch it).
    prefers_dcfc
        Probability of choosing a DC fast charger over L2 for a public session.
    shifts_to_off_peak
        Starts home sessions at the end of the TOU peak (the optimizer).
    """

    threshold_soc: float
    public_target_soc: float
    home_target_soc: float
    plug_in_below_soc: float
    opportunistic_prob: float
    reserve_soc: float
    prefers_dcfc: float
    shifts_to_off_peak: bool


PERSONALITIES: dict[ChargingPersonality, PersonalitySpec] = {
    ChargingPersonality.ANXIOUS: PersonalitySpec(0.45, 0.95, 0.95, 0.99, 0.45, 0.25, 0.5, False),
    ChargingPersonality.OPTIMIZER: PersonalitySpec(0.25, 0.80, 0.85, 0.70, 0.15, 0.12, 0.3, True),
    ChargingPersonality.CONVENIENCE: PersonalitySpec(
        0.30, 0.85, 0.90, 0.85, 0.35, 0.15, 0.6, False
    ),
    ChargingPersonality.PROCRASTINATOR: PersonalitySpec(
        0.12, 0.70, 0.80, 0.35, 0.05, 0.06, 0.8, False
    ),
}
"""Per-personality charging habits (SOC values are fractions of the usable capacity)."""


MIN_ARRIVAL_SOC = 0.015
"""Lowest SOC a driver accepts on arrival at a charger (else another charger is tried)."""

MIN_OPPORTUNISTIC_DWELL_MIN = 45.0
"""Shortest dwell for which a driver considers opportunistic charging."""

OPPORTUNISTIC_RADIUS_KM = 0.8
"""Largest distance from a dwell location to a station used opportunistically."""
