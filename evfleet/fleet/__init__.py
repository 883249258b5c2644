"""Synthetic fleet: composition, weather, trips with physics, charging, daily states.

The public entry points are :func:`generate_fleet` (the ``fleet_info`` table),
:func:`generate_weather` (the hourly ``weather`` table per climate zone) and
:func:`simulate_chunk` (``routes``, ``segments``, ``charging_sessions`` and
``vehicle_states`` of any subset of the fleet, independent of how the fleet is chunked).
"""

from __future__ import annotations

from typing import Final

from evfleet.fleet.composition import generate_fleet
from evfleet.fleet.simulate import simulate_chunk
from evfleet.fleet.weather import generate_weather

SIMULATOR_VERSION: Final = 3
"""Bumped whenever the simulator's output for the same config changes (it keys datasets).

2: a trip re-driven after a charging stop or a delay starts with the cabin and tyres of
its real parking time instead of fully soaked ones; drivers slow for the turns their
route makes (heading change >= 45 degrees at a junction) instead of at random."""

__all__ = ["SIMULATOR_VERSION", "generate_fleet", "generate_weather", "simulate_chunk"]
