"""Throughput of the physics hot paths: speed-profile generation and the energy model.

Run: ``python bench/bench_physics.py [--edges 1000000] [--repeat 3]``

Profiles: edges/s and steps/s of :func:`evfleet.physics.generate_profile` on a city-like
mix of edges (one call, many trips). Energy: steps/s of :func:`trace_energy` (per-edge
sums, per-edge grade and temperature) on that trace, on one core and on all cores via a
thread pool (the numba kernel releases the GIL; the trace is split at edge boundaries).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from evfleet.physics import (
    Conditions,
    EdgeArrays,
    SegmentEnergy,
    SpeedTrace,
    generate_profile,
    simulate_segments,
    trace_energy,
)
from evfleet.vehicles import VehicleSpec, get_vehicle

LIMITS_KPH = np.array([105.0, 90.0, 65.0, 55.0, 50.0, 40.0, 30.0])
CLASS_SHARES = np.array([0.05, 0.05, 0.15, 0.15, 0.15, 0.35, 0.10])


def city_edges(n: int, seed: int) -> tuple[EdgeArrays, np.ndarray]:
    """Edges like a Bay Area street network (median ~110 m) and ~40-edge trips."""
    rng = np.random.default_rng(seed)
    cls = rng.choice(len(LIMITS_KPH), size=n, p=CLASS_SHARES)
    length = rng.lognormal(np.log(110.0), 0.8, n) * np.where(cls <= 1, 5.0, 1.0)
    edges = EdgeArrays(length, LIMITS_KPH[cls], cls, control=rng.integers(0, 4, n))
    trips = np.unique(np.concatenate(([0], np.arange(0, n, 40), [n])))
    return edges, trips


def best_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def energy_parallel(
    spec: VehicleSpec, trace: SpeedTrace, grade: np.ndarray, temp: np.ndarray, workers: int
) -> list[SegmentEnergy]:
    """Per-edge energy computed in ``workers`` threads over contiguous blocks of edges."""
    bounds = np.linspace(0, trace.n_edges, workers + 1).astype(int)

    def block(k: int) -> SegmentEnergy:
        e0, e1 = bounds[k], bounds[k + 1]
        s0, s1 = trace.edge_offsets[e0], trace.edge_offsets[e1]
        return simulate_segments(
            spec,
            trace.speed_mps[s0:s1],
            segment_index=trace.edge_index[s0:s1] - e0,
            n_segments=e1 - e0,
            dt_s=trace.dt_s[s0:s1],
            grade=grade[e0:e1],
            conditions=Conditions(temp_c=temp[e0:e1]),
            per_segment_inputs=True,
            initial_speed_mps=float(trace.speed_mps[s0 - 1]) if s0 else 0.0,
        )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(block, range(workers)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    edges, trips = city_edges(args.edges, seed=1)
    warm_edges, warm_trips = city_edges(100, seed=2)
    generate_profile(warm_edges, trip_offsets=warm_trips, rng=0)  # JIT / cache load

    def profile() -> SpeedTrace:
        return generate_profile(edges, trip_offsets=trips, congestion=0.9, rng=42)

    t_profile = best_time(profile, args.repeat)
    trace = profile()
    steps = trace.n_steps
    print(
        f"trace: {args.edges:,} edges, {trips.size - 1:,} trips, {steps:,} steps, "
        f"{edges.length_m.sum() / 1000:,.0f} km, {trace.dt_s.sum() / 3600:,.0f} h"
    )
    print(
        f"profiles  1 core : {args.edges / t_profile / 1e6:6.2f} M edges/s "
        f"{steps / t_profile / 1e6:6.1f} M steps/s"
    )

    spec = get_vehicle("tesla_model_3")
    rng = np.random.default_rng(3)
    grade = rng.uniform(-0.06, 0.06, args.edges)
    temp = rng.uniform(0.0, 30.0, args.edges)
    trace_energy(spec, generate_profile(warm_edges, rng=0))  # JIT / cache load

    def energy_one() -> SegmentEnergy:
        return trace_energy(spec, trace, grade=grade, conditions=Conditions(temp_c=temp))

    t_one = best_time(energy_one, args.repeat)
    print(
        f"energy    1 core : {steps / t_one / 1e6:6.1f} M steps/s "
        f"({args.edges / t_one / 1e6:.2f} M edges/s)"
    )
    t_all = best_time(lambda: energy_parallel(spec, trace, grade, temp, cores), args.repeat)
    print(
        f"energy {cores:2d} cores : {steps / t_all / 1e6:6.1f} M steps/s "
        f"({args.edges / t_all / 1e6:.2f} M edges/s, threads, nogil kernel)"
    )
    split = np.concatenate([p.energy_kwh for p in energy_parallel(spec, trace, grade, temp, cores)])
    whole = energy_one().energy_kwh
    print(f"parallel result matches single-threaded: {np.allclose(split, whole, rtol=1e-9)}")
    kwh = whole.sum()
    print(f"fleet check: {kwh:,.0f} kWh = {kwh / edges.length_m.sum() * 1e5:.1f} kWh/100 km")


if __name__ == "__main__":
    main()
