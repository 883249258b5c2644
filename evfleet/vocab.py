"""Fixed vocabularies of the dataset and the config, one :class:`~enum.StrEnum` each.

Members are ``str``: they compare equal to their values (``ChargingKind.DCFC == "dcfc"``),
so tables keep the same strings and callers holding plain strings keep working. The schema,
the simulator, the features, the quality suites and the config all take their allowed
values from here.
"""

from __future__ import annotations

from enum import StrEnum

from evfleet.errors import InputDataError


class DriverProfile(StrEnum):
    """How a vehicle is used during the day."""

    COMMUTER = "commuter"
    RIDESHARE = "rideshare"
    DELIVERY = "delivery"
    CASUAL = "casual"


class ChargingPersonality(StrEnum):
    """When and where a driver chooses to charge."""

    ANXIOUS = "anxious"
    OPTIMIZER = "optimizer"
    CONVENIENCE = "convenience"
    PROCRASTINATOR = "procrastinator"


class DrivingStyle(StrEnum):
    """Acceleration limits and cruise speed relative to the limit."""

    ECO = "eco"
    NORMAL = "normal"
    AGGRESSIVE = "aggressive"


class ChargerKind(StrEnum):
    """AC (on-board charger, flat power) or DC (off-board, power tapers with SOC)."""

    AC = "ac"
    DC = "dc"

    @classmethod
    def parse(cls, kind: ChargerKind | str) -> ChargerKind:
        """The member named by ``kind``; :class:`InputDataError` listing the valid ones."""
        try:
            return cls(kind)
        except ValueError:
            msg = f"unknown charger kind {kind!r}; valid: {', '.join(k.value for k in cls)}"
            raise InputDataError(msg) from None


class ChargingKind(StrEnum):
    """Where a charging session happens (``charging_sessions.kind``)."""

    HOME = "home"
    L2 = "l2"
    """Public AC level-2 station."""
    DCFC = "dcfc"
    """Public DC fast charger."""
    ROADSIDE = "roadside"
    """A mobile DC charger called to a stranded vehicle (no station reachable)."""

    @property
    def charger(self) -> ChargerKind:
        """DC for fast chargers and roadside units (battery-side rating), else AC."""
        return ChargerKind.DC if self in DC_CHARGING_KINDS else ChargerKind.AC


DC_CHARGING_KINDS: frozenset[ChargingKind] = frozenset({ChargingKind.DCFC, ChargingKind.ROADSIDE})
"""Kinds whose rating is a battery-side DC output (the others are grid-side AC)."""


class ChargingTrigger(StrEnum):
    """Why a charging session started (``charging_sessions.trigger``)."""

    THRESHOLD = "threshold"
    """SOC fell below the driver's comfort threshold."""
    EMERGENCY = "emergency"
    """The next trip would end below the reserve SOC (or not be reachable at all)."""
    OPPORTUNISTIC = "opportunistic"
    """A top-up with time to spare: at a stop near a charger, or at home for the day."""
    OVERNIGHT = "overnight"
    """A home session spanning the night."""
    STRANDED = "stranded"
    """Roadside rescue: no charger within reach of the next trip."""


class TripPurpose(StrEnum):
    """Why a trip is driven (``routes.purpose``)."""

    COMMUTE = "commute"
    ERRAND = "errand"
    LEISURE = "leisure"
    LONG_TRIP = "long_trip"
    HOME = "home"
    """Back home at the end of a tour."""
    DELIVERY = "delivery"
    RIDE = "ride"
    """A rideshare passenger on board."""
    REPOSITION = "reposition"
    """A rideshare driver moving to the next pickup."""
    CHARGING = "charging"
    """A leg to (and from) a public charger."""
