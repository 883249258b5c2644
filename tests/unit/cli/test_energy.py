"""``evfleet energy``: cycle report, JSON output, sweep PNG and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evfleet.errors import InputDataError
from evfleet.physics import COMPONENTS
from flows.commands import energy

runner = CliRunner()


@pytest.fixture
def cycle_csv(tmp_path: Path) -> Path:
    rows = [f"{t},{min(t, 12.0) if t < 60 else max(0.0, 12.0 - 2 * (t - 60))},0" for t in range(70)]
    path = tmp_path / "mini.csv"
    path.write_text("time_s,speed_mps,grade\n" + "\n".join(rows) + "\n")
    return path


def test_cycle_json(cycle_csv: Path) -> None:
    result = runner.invoke(
        energy.app, ["cycle", "--vehicle", "nissan_leaf", "--cycle", str(cycle_csv), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["vehicle"] == "nissan_leaf"
    assert set(data["components"]) == set(COMPONENTS)
    assert data["energy_kwh"] == pytest.approx(sum(data["components"].values()))
    assert data["kwh_per_100km"] == pytest.approx(data["energy_kwh"] / data["distance_km"] * 100)
    assert 0.5 < data["distance_km"] < 0.8


def test_cycle_table_and_temperature(cycle_csv: Path) -> None:
    args = ["cycle", "--vehicle", "tesla_model_y", "--cycle", str(cycle_csv)]
    mild = runner.invoke(energy.app, args)
    assert mild.exit_code == 0, mild.output
    assert "kWh/100 km" in mild.stdout
    assert "battery_loss" in mild.stdout
    cold = runner.invoke(energy.app, [*args, "--temp-c", "-7", "--json"])
    warm = runner.invoke(energy.app, [*args, "--json"])
    assert json.loads(cold.stdout)["energy_kwh"] > json.loads(warm.stdout)["energy_kwh"]


def test_fastsim_cycle_through_cli(shared_data: Path) -> None:
    result = runner.invoke(
        energy.app,
        [
            "cycle",
            "--vehicle",
            "tesla_model_3_rwd_2022",
            "--cycle",
            str(shared_data / "cycles" / "hwfet.csv"),
            "--temp-c",
            "22",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kwh_per_100km"] == pytest.approx(9.98, rel=0.08)


@pytest.mark.parametrize(
    ("vehicle", "content", "message"),
    [
        ("no_such_car", "time_s,speed_mps\n0,0\n1,1\n", "valid ids: chevrolet_bolt"),
        ("nissan_leaf", "time_s,velocity\n0,0\n1,1\n", "missing column"),
        ("nissan_leaf", "time_s,speed_mps\n0,0\n1,-3\n", "negative speed_mps"),
        ("nissan_leaf", "time_s,speed_mps\n0,0\n1,nan\n", "non-numeric"),
        ("nissan_leaf", "time_s,speed_mps\n1,0\n0,1\n", "not strictly increasing"),
        ("nissan_leaf", "time_s,speed_mps,grade\n0,0,0\n1,1,0.9\n", "grade"),
    ],
)
def test_cycle_bad_input(tmp_path: Path, vehicle: str, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = runner.invoke(energy.app, ["cycle", "--vehicle", vehicle, "--cycle", str(path)])
    assert result.exit_code != 0
    assert isinstance(result.exception, InputDataError)
    assert message in str(result.exception)
    assert result.stdout == ""


def test_sweep_writes_png(tmp_path: Path) -> None:
    out = tmp_path / "plots" / "leaf.png"
    result = runner.invoke(energy.app, ["sweep", "--vehicle", "nissan_leaf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 20_000
    assert [p.name for p in out.parent.iterdir()] == ["leaf.png"]


def test_sweep_unknown_vehicle_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    result = runner.invoke(energy.app, ["sweep", "--vehicle", "delorean", "--out", str(out)])
    assert result.exit_code != 0
    assert "unknown vehicle id 'delorean'" in str(result.exception)
    assert list(tmp_path.iterdir()) == []
