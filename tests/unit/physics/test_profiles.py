"""Speed profiles: exact distances, kinematic limits, stops, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evfleet.errors import InputDataError
from evfleet.physics import (
    STYLES,
    Conditions,
    DrivingStyle,
    EdgeArrays,
    JunctionControl,
    RoadClass,
    SpeedTrace,
    generate_profile,
    road_class_codes,
    simulate,
    time_of_day_congestion,
    trace_energy,
)
from evfleet.physics.profiles import TURN_MIN_DEG
from evfleet.physics.roads import TURN_SPEED_MPS
from evfleet.vehicles import get_vehicle

LIMITS_KPH = np.array([105.0, 90.0, 65.0, 55.0, 50.0, 40.0, 25.0])


def random_edges(seed: int, n: int, *, tiny: bool = False) -> EdgeArrays:
    rng = np.random.default_rng(seed)
    cls = rng.integers(0, len(RoadClass), n)
    length = rng.lognormal(np.log(120.0), 1.0, n)
    if tiny:
        length[rng.random(n) < 0.2] = rng.choice([0.0, 1e-4, 0.5], size=1)[0]
    return EdgeArrays(length, LIMITS_KPH[cls], cls, control=rng.integers(0, 4, n))


def trip_offsets(seed: int, n_edges: int, n_trips: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cuts = rng.choice(np.arange(1, n_edges), size=min(n_trips - 1, n_edges - 1), replace=False)
    return np.concatenate(([0], np.sort(cuts), [n_edges]))


def accelerations(trace: SpeedTrace) -> np.ndarray:
    return (trace.speed_mps - trace.start_speed_mps) / trace.dt_s


profile_cases = settings(max_examples=40, deadline=None)


@profile_cases
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    n_trips=st.integers(1, 20),
    style=st.sampled_from(list(DrivingStyle)),
    congestion=st.floats(0.2, 1.0),
    tiny=st.booleans(),
)
def test_profile_kinematics(
    seed: int, n: int, n_trips: int, style: DrivingStyle, congestion: float, tiny: bool
) -> None:
    edges = random_edges(seed, n, tiny=tiny)
    trips = trip_offsets(seed, n, n_trips)
    trace = generate_profile(
        edges, style=style, congestion=congestion, trip_offsets=trips, rng=seed
    )
    params = STYLES[style]
    # the trace covers every edge exactly
    np.testing.assert_allclose(trace.edge_distance_m, edges.length_m, rtol=1e-9, atol=1e-9)
    # acceleration within the style's limits, steps at most 1 s
    acc = accelerations(trace)
    assert acc.max(initial=0.0) <= params.accel_mps2 * (1 + 1e-6)
    assert acc.min(initial=0.0) >= -params.decel_mps2 * (1 + 1e-6)
    assert np.all(trace.dt_s > 0)
    assert np.all(trace.dt_s <= 1.0 + 1e-12)
    # never faster than limit x style factor x congestion, on average or at peak
    cap = edges.speed_limit_kph / 3.6 * params.cruise_factor * congestion * (1 + 1e-9)
    moving = edges.length_m > 0
    mean_speed = edges.length_m[moving] / trace.edge_duration_s[moving]
    assert np.all(mean_speed <= cap[moving])
    assert np.all(trace.edge_max_speed_mps <= cap)
    assert np.all(trace.speed_mps <= cap[trace.edge_index])
    # bookkeeping: steps per edge, durations, trips end at rest
    assert np.all(np.diff(trace.edge_index) >= 0)
    np.testing.assert_array_equal(
        np.diff(trace.edge_offsets), np.bincount(trace.edge_index, minlength=n)
    )
    np.testing.assert_allclose(trace.edge_duration_s.sum(), trace.dt_s.sum())
    np.testing.assert_allclose(trace.trip_duration_s.sum(), trace.dt_s.sum())
    trip_last_step = trace.edge_offsets[trips[1:]] - 1
    assert np.all(trace.speed_mps[trip_last_step[trip_last_step >= 0]] == 0.0)


def test_micro_edges_keep_exact_distance() -> None:
    length = np.array([1e-8, 50.0, 1e-7, 0.0, 2e-6])
    control = np.full(5, JunctionControl.STOP_SIGN)
    edges = EdgeArrays(length, np.full(5, 50.0), np.full(5, RoadClass.RESIDENTIAL), control=control)
    trace = generate_profile(edges, trip_offsets=[0, 1, 3, 5], rng=0)
    np.testing.assert_allclose(trace.edge_distance_m, length, rtol=1e-9, atol=0.0)
    with pytest.raises(InputDataError, match="at least one edge"):
        generate_profile(EdgeArrays([], [], []), rng=0)


def test_same_seed_same_trace_and_different_seed_differs() -> None:
    edges = random_edges(1, 200)
    first = generate_profile(edges, rng=np.random.default_rng(7))
    again = generate_profile(edges, rng=7)
    other = generate_profile(edges, rng=8)
    np.testing.assert_array_equal(first.speed_mps, again.speed_mps)
    np.testing.assert_array_equal(first.dt_s, again.dt_s)
    np.testing.assert_array_equal(first.edge_index, again.edge_index)
    assert first.n_steps != other.n_steps or not np.array_equal(first.speed_mps, other.speed_mps)


def test_stop_signs_stop_and_open_roads_do_not() -> None:
    n = 50
    length = np.full(n, 300.0)
    limit = np.full(n, 50.0)
    cls = np.full(n, RoadClass.RESIDENTIAL)
    stops = generate_profile(
        EdgeArrays(length, limit, cls, control=np.full(n, JunctionControl.STOP_SIGN)), rng=1
    )
    assert stops.edge_stops[:-1].all()
    assert stops.edge_stops[-1] == 0  # the trip end is not a traffic stop
    assert np.all(stops.speed_mps[stops.edge_offsets[1:] - 1] == 0.0)
    open_road = generate_profile(
        EdgeArrays(length, limit, cls, control=np.full(n, JunctionControl.NONE)), rng=1
    )
    assert open_road.edge_stops.sum() == 0
    assert np.count_nonzero(open_road.speed_mps == 0.0) == 1
    motorway = generate_profile(
        EdgeArrays(length, np.full(n, 105.0), np.full(n, RoadClass.MOTORWAY)), rng=1
    )
    assert motorway.edge_stops.sum() == 0


def test_known_turns_slow_the_car_and_straight_junctions_do_not() -> None:
    n = 40
    turn = np.where(np.arange(n) % 2 == 0, 90.0, 10.0)
    turn[-1] = 0.0
    edges = EdgeArrays(
        np.full(n, 400.0),
        np.full(n, 60.0),
        np.full(n, RoadClass.SECONDARY),
        control=np.full(n, JunctionControl.JUNCTION),
        turn_deg=turn,
    )
    for seed in (1, 2):
        trace = generate_profile(edges, rng=seed)
        end_speed = trace.speed_mps[trace.edge_offsets[1:] - 1]
        passed = trace.edge_stops == 0
        turning = passed & (turn >= TURN_MIN_DEG)
        straight = passed & (turn < TURN_MIN_DEG)
        straight[-1] = False
        np.testing.assert_allclose(end_speed[turning], TURN_SPEED_MPS)
        assert (end_speed[straight] > TURN_SPEED_MPS + 3.0).all()


def test_signals_stop_some_of_the_time_and_styles_differ() -> None:
    n = 2000
    edges = EdgeArrays(
        np.full(n, 200.0),
        np.full(n, 50.0),
        np.full(n, RoadClass.SECONDARY),
        control=np.full(n, JunctionControl.SIGNAL),
    )
    share = generate_profile(edges, rng=3).edge_stops.mean()
    assert 0.35 < share < 0.55
    eco = generate_profile(edges, style="eco", rng=3)
    aggressive = generate_profile(edges, style="aggressive", rng=3)
    assert aggressive.dt_s.sum() < eco.dt_s.sum()
    assert accelerations(aggressive).max() > accelerations(eco).max()


def test_trace_energy_per_edge_matches_whole_trace() -> None:
    edges = random_edges(4, 400)
    trace = generate_profile(edges, trip_offsets=trip_offsets(4, 400, 10), rng=4)
    spec = get_vehicle("tesla_model_3")
    grade = np.random.default_rng(4).uniform(-0.04, 0.04, edges.n_edges)
    temp = np.linspace(0.0, 30.0, edges.n_edges)
    per_edge = trace_energy(spec, trace, grade=grade, conditions=Conditions(temp_c=temp))
    whole = simulate(
        spec,
        trace.speed_mps,
        dt_s=trace.dt_s,
        grade=grade[trace.edge_index],
        conditions=Conditions(temp_c=temp[trace.edge_index]),
    )
    assert per_edge.total().energy_kwh == pytest.approx(whole.energy_kwh, rel=1e-12)
    np.testing.assert_allclose(per_edge.distance_m, edges.length_m, rtol=1e-9)
    assert 8.0 < whole.kwh_per_100km < 30.0


def test_road_class_codes_and_congestion() -> None:
    codes = road_class_codes(["motorway", "motorway_link", "primary", "residential", "track"])
    np.testing.assert_array_equal(codes, [0, 0, 2, 5, 6])
    assert RoadClass.from_highway(" Trunk_link ") is RoadClass.TRUNK
    edges = EdgeArrays([10.0, 20.0], [50.0, 30.0], ["primary", "service"])
    np.testing.assert_array_equal(edges.road_class, [RoadClass.PRIMARY, RoadClass.MINOR])
    cls = np.array([RoadClass.MOTORWAY, RoadClass.RESIDENTIAL])
    rush = time_of_day_congestion(17.5, cls)
    night = time_of_day_congestion(3.0, cls)
    assert rush[0] < rush[1] < 1.0
    assert np.all(night > 0.99)
    assert np.all(time_of_day_congestion(np.arange(0, 24, 0.25)[:, None], cls) > 0.5)
    with pytest.raises(InputDataError, match="hour must be finite"):
        time_of_day_congestion(float("nan"), cls)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"length_m": [100.0, -1.0]}, "length_m must be finite"),
        ({"length_m": [100.0, float("nan")]}, "length_m must be finite"),
        ({"speed_limit_kph": [50.0, 0.0]}, "speed_limit_kph"),
        ({"speed_limit_kph": [50.0]}, "speed_limit_kph has 1 values"),
        ({"road_class": [0, 9]}, "road_class codes"),
        ({"road_class": [0.5, 1.0]}, "road_class codes must be integers"),
        ({"road_class": [2, 300]}, "road_class codes"),
        ({"control": [0, 7]}, "control codes"),
        ({"turn_deg": [0.0, 200.0]}, "turn_deg must hold one heading change"),
        ({"turn_deg": [0.0]}, "turn_deg must hold one heading change"),
    ],
)
def test_bad_edges(change: dict[str, list[float]], message: str) -> None:
    fields = {
        "length_m": [100.0, 200.0],
        "speed_limit_kph": [50.0, 50.0],
        "road_class": [2, 2],
        **change,
    }
    with pytest.raises(InputDataError, match=message):
        EdgeArrays(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trip_offsets": [0, 3]}, "trip_offsets must start at 0"),
        ({"trip_offsets": [0, 2, 2, 4]}, "increase strictly"),
        ({"trip_offsets": [1, 4]}, "trip_offsets"),
        ({"congestion": 0.0}, "congestion factors"),
        ({"congestion": [1.0, 1.0]}, "one value per edge"),
        ({"style": "sporty"}, "unknown driving style 'sporty'"),
        ({"step_s": 0.0}, "step_s"),
    ],
)
def test_bad_profile_options(kwargs: dict[str, object], message: str) -> None:
    edges = EdgeArrays([100.0] * 4, [50.0] * 4, [3] * 4)
    with pytest.raises(InputDataError, match=message):
        generate_profile(edges, rng=0, **kwargs)  # type: ignore[arg-type]
