"""``evfleet route``: JSON keys, Pareto list, GeoJSON/PNG outputs and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evfleet.storage import Workspace
from tests.fixtures.cli import run_cli
from tests.fixtures.fake_champion import FakeChampion
from tests.fixtures.routing import grid_graph

KEYS = {
    "objective", "distance_km", "time_min", "energy_kwh", "cost_usd", "soc_start", "soc_end",
    "stops", "nodes", "physics_energy_kwh",
}  # fmt: skip


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("route-ws")
    graph = grid_graph(7, seed=5, spacing_m=1500.0)
    workspace = Workspace(root)
    staging = workspace.begin_stage("network", "grid")
    graph.nodes.to_parquet(staging / "nodes.parquet")
    graph.edges.to_parquet(staging / "edges.parquet")
    assert graph.stations is not None
    graph.stations.to_parquet(staging / "stations.parquet")
    (staging / "meta.json").write_text(json.dumps({"crs": graph.crs}))
    workspace.commit_stage("network", "grid", staging)
    return root


def _route(ws: Path, *extra: str) -> list[str]:
    return ["route", "--from", "100", "--to", "580", "--vehicle", "nissan_leaf", "-w", str(ws),
            "--depart", "2024-01-15T10:00", *extra]  # fmt: skip


def test_route_json_has_the_documented_keys(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(_route(ws, "--json", "--objective", "time", "--soc", "0.9"), capsys)
    assert code == 0, err
    answer = json.loads(out)
    assert set(answer) >= KEYS
    assert answer["objective"] == "time"
    assert answer["nodes"][0] == 100
    assert answer["nodes"][-1] == 580
    assert answer["soc_start"] == pytest.approx(0.9)
    again = json.loads(
        run_cli(_route(ws, "--json", "--objective", "time", "--soc", "0.9"), capsys)[1]
    )
    assert again == answer


def test_low_soc_route_lists_its_stops(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    full = json.loads(run_cli(_route(ws, "--json", "--objective", "energy"), capsys)[1])
    low = 0.15 + 0.5 * (full["soc_start"] - full["soc_end"])
    code, out, err = run_cli(_route(ws, "--json", "--objective", "time", "--soc", f"{low}"), capsys)
    assert code == 0, err
    answer = json.loads(out)
    assert answer["stops"]
    stop = answer["stops"][0]
    for key in ("station_id", "kind", "arrival_soc", "departure_soc", "energy_kwh", "minutes",
                "cost_usd"):  # fmt: skip
        assert key in stop
    assert answer["soc_min"] >= 0.15 - 1e-9


def test_pareto_json_is_a_list_and_files_are_written(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gj, png = tmp_path / "r.geojson", tmp_path / "r.png"
    code, out, err = run_cli(
        _route(ws, "--pareto", "--json", "--geojson", str(gj), "--plot", str(png)), capsys
    )
    assert code == 0, err
    routes = json.loads(out)
    assert isinstance(routes, list)
    assert routes
    assert all(set(r) >= KEYS for r in routes)
    assert json.loads(gj.read_text())["type"] == "FeatureCollection"
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("objective", ["time", "energy", "weighted"])
def test_every_algorithm_gives_the_same_optimum(
    ws: Path, capsys: pytest.CaptureFixture[str], objective: str
) -> None:
    """``--algorithm`` is live: Dijkstra, A* and the contraction hierarchy agree on the
    optimum (the objective's value; among equal-cost routes any may be returned)."""
    answers = {}
    for algorithm in ("dijkstra", "astar", "ch"):
        args = _route(ws, "--json", "--objective", objective, "--algorithm", algorithm)
        code, out, err = run_cli(args, capsys)
        assert code == 0, err
        answers[algorithm] = json.loads(out)
    for answer in answers.values():
        assert answer["objective_value"] == pytest.approx(
            answers["dijkstra"]["objective_value"], rel=1e-9
        )
        assert answer["nodes"][-1] == 580


def test_route_table_output(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(_route(ws, "--algorithm", "astar"), capsys)
    assert code == 0
    assert "physics kWh" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vehicle", "no_such_car"], "unknown vehicle"),
        (["--from", "95.0,-122.4"], "coordinates out of range"),
        (["--from", "40.0,-100.0"], "km from the network"),
        (["--from", "abc"], "must be LAT,LON or a node id"),
        (["--to", "999999"], "unknown node id"),
        (["--soc", "1.5"], "--soc must be within"),
        (["--soc", "0.15"], "infeasible"),
        (["--objective", "fastest"], "optimization.soc_objective"),
        (["--energy-model", "magic"], "--energy-model"),
        (["--depart", "yesterday-ish"], "--depart"),
    ],
)
def test_bad_input_is_one_line_error(
    ws: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run_cli([*_route(ws), *args], capsys)
    assert code != 0
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3


def test_ml_energy_model_is_the_champion(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tasks.mlflow_utils

    monkeypatch.setattr(tasks.mlflow_utils, "load_champion", lambda root: FakeChampion())
    code, out, err = run_cli(_route(ws, "--json", "--energy-model", "ml", "--soc", "0.9"), capsys)
    assert code == 0, err
    ml = json.loads(out)
    physics = json.loads(run_cli(_route(ws, "--json", "--soc", "0.9"), capsys)[1])
    assert ml["energy_kwh"] != pytest.approx(physics["energy_kwh"])
    assert ml["physics_energy_kwh"] > 0
