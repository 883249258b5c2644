"""Physics of battery-electric vehicles: energy model, drive cycles and speed profiles.

Typical use by the fleet simulator::

    trace = generate_profile(edges, style="normal", congestion=factors,
                             trip_offsets=offsets, rng=rng)
    per_edge = trace_energy(spec, trace, grade=edge_grade,
                            conditions=Conditions(temp_c=t, on_road=True, trip_time_s=...))
"""

from evfleet.physics.air import air_density_kg_m3, headwind_mps
from evfleet.physics.battery import internal_resistance_ohm, usable_capacity_kwh
from evfleet.physics.cycles import DriveCycle, cycle_energy, read_cycle
from evfleet.physics.hvac import hvac_power_w
from evfleet.physics.model import (
    Conditions,
    simulate,
    simulate_segments,
    steady_state_kwh_per_100km,
)
from evfleet.physics.onroad import PARKED_COLD_S, solar_irradiance_at, solar_irradiance_w_m2
from evfleet.physics.power import RoadLoadBound, max_shaft_power_w, power_limited
from evfleet.physics.profiles import (
    STYLES,
    DrivingStyle,
    EdgeArrays,
    SpeedTrace,
    StyleParams,
    generate_profile,
    trace_energy,
)
from evfleet.physics.results import COMPONENTS, EnergyBreakdown, SegmentEnergy
from evfleet.physics.roads import (
    JunctionControl,
    RoadClass,
    congestion_factor,
    road_class_codes,
    time_of_day_congestion,
    trip_congestion,
    trip_turns_deg,
)

__all__ = [
    "COMPONENTS",
    "PARKED_COLD_S",
    "STYLES",
    "Conditions",
    "DriveCycle",
    "DrivingStyle",
    "EdgeArrays",
    "EnergyBreakdown",
    "JunctionControl",
    "RoadClass",
    "RoadLoadBound",
    "SegmentEnergy",
    "SpeedTrace",
    "StyleParams",
    "air_density_kg_m3",
    "congestion_factor",
    "cycle_energy",
    "generate_profile",
    "headwind_mps",
    "hvac_power_w",
    "internal_resistance_ohm",
    "max_shaft_power_w",
    "power_limited",
    "read_cycle",
    "road_class_codes",
    "simulate",
    "simulate_segments",
    "solar_irradiance_at",
    "solar_irradiance_w_m2",
    "steady_state_kwh_per_100km",
    "time_of_day_congestion",
    "trace_energy",
    "trip_congestion",
    "trip_turns_deg",
    "usable_capacity_kwh",
]
