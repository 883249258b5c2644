"""Re-evaluate a planned route with the simulator's trip physics (planned vs physics).

The planner's edge energies are expectations (physics at the expected speed, or an ML
prediction). :func:`simulate_route_energy` drives the route the way the fleet simulator
does: one speed profile over the whole route (standstill at both ends, the route's own
turns, stops at junctions, rush-hour congestion at the departure hour) and the on-road
energy model over it, with a fixed seed so the answer is reproducible.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evfleet.features.build import fractional_hour
from evfleet.features.network import PredictionContext
from evfleet.fleet.road_arrays import NetArrays
from evfleet.physics import (
    Conditions,
    EdgeArrays,
    generate_profile,
    solar_irradiance_w_m2,
    trace_energy,
    trip_congestion,
    trip_turns_deg,
)
from evfleet.units import HOUR_S
from evfleet.vehicles import get_vehicle


def simulate_route_energy(
    net: NetArrays, ctx: PredictionContext, edges: NDArray[np.int64], *, seed: int = 0
) -> float:
    """Battery energy (kWh) of driving ``edges`` under ``ctx`` with the simulator's physics."""
    if len(edges) == 0:
        return 0.0
    spec = dataclasses.replace(get_vehicle(ctx.model), test_mass_kg=ctx.mass_kg)
    dep = pd.Timestamp(ctx.departure)
    hour = fractional_hour(dep)
    offsets = np.array([0, len(edges)], dtype=np.int64)
    arrays = EdgeArrays(
        length_m=net.length_m[edges],
        speed_limit_kph=net.speed_kph[edges],
        road_class=net.road_class[edges],
        control=net.control[edges],
        turn_deg=trip_turns_deg(net.bearing_deg[edges], offsets),
    )
    # the simulator's congestion and turn rules (a period starting at the departure's day)
    factor = trip_congestion(
        net.travel_time_s[edges], net.road_class[edges], offsets, [hour * HOUR_S], dep.weekday()
    )
    trace = generate_profile(arrays, style=ctx.driving_style, congestion=factor, rng=seed)
    start_s = np.cumsum(trace.edge_duration_s) - trace.edge_duration_s
    angle = np.radians(ctx.wind_from_deg - net.bearing_deg[edges])
    energy = trace_energy(
        spec,
        trace,
        grade=net.grade[edges],
        headwind_mps=np.clip(ctx.wind_kph / 3.6 * np.cos(angle), -59.0, 59.0),
        conditions=Conditions(
            temp_c=ctx.temp_c,
            relative_humidity=min(max(ctx.humidity_pct / 100.0, 0.0), 1.0),
            on_road=True,
            solar_w_m2=solar_irradiance_w_m2(hour + start_s / HOUR_S, raining=ctx.is_raining),
            wet_road=float(ctx.is_raining),
            trip_time_s=start_s,
            parked_s=ctx.parked_h * HOUR_S,
        ),
    )
    return float(energy.components_kwh.sum())
