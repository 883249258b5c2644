"""Synthetic fleet: composition, weather, trips with physics, charging, daily states.

The public entry points are :func:`generate_fleet` (the ``fleet_info`` table),
:func:`generate_weather` (the hourly ``weather`` table per climate zone) and
:func:`simulate_chunk` (``routes``, ``segments``, ``charging_sessions`` and
``vehicle_states`` of any subset of the fleet, independent of how the fleet is chunked).
"""

from __future__ import annotations

from evfleet.fleet.composition import generate_fleet
from evfleet.fleet.simulate import simulate_chunk
from evfleet.fleet.weather import generate_weather

__all__ = ["generate_fleet", "generate_weather", "simulate_chunk"]
