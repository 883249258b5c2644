"""``evfleet optimize`` on a tiny synthesised dataset, under one Prefect test harness."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from evfleet.storage import read_table
from tasks.mlflow_utils import use_workspace
from tasks.optimize import EXPERIMENT
from tests.fixtures.cli import run_cli
from tests.fixtures.fake_champion import FakeChampion

pytestmark = pytest.mark.integration

TINY = {
    "network": {"scale": 0.1, "seed": 3},
    "fleet": {"n_vehicles": 4, "days": 2, "seed": 5, "start_date": "2024-01-15"},
    "performance": {"synth_chunk_vehicles": 2},
}
KEYS = (
    "energy_kwh", "kwh_per_100km", "cost_usd", "drive_time_h", "charging_time_h", "detour_km",
    "public_sessions", "site_peak_kw", "min_soc", "stranded_trips",
)  # fmt: skip


def test_optimize_all_strategies_then_reuse(
    prefect_harness: None, tmp_path: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(TINY))
    base = ["-c", str(cfg), "-w", str(workspace)]
    assert run_cli(["synth", *base], capsys)[0] == 0
    code, out, err = run_cli(["optimize", *base, "--strategy", "all", "--json"], capsys)
    assert code == 0, err
    payload = json.loads(out)
    assert len(payload["runs"]) == 4
    for run in payload["runs"]:
        for side in ("baseline", "optimised"):
            assert set(KEYS) <= set(run[side])
        assert run["optimised"]["stranded_trips"] == 0
    folder = next(workspace.glob("optimization/*/report.html")).parent
    for name in ("plans", "charging_plan", "kpis"):
        assert len(read_table(folder / f"{name}.parquet")) > 0
    assert "<svg" in (folder / "report.html").read_text(encoding="utf-8")
    client = use_workspace(workspace)
    exp = client.get_experiment_by_name(EXPERIMENT)
    assert len(client.search_runs([exp.experiment_id])) == 4

    code, out, err = run_cli(["optimize", *base, "--strategy", "all", "--compare"], capsys)
    assert code == 0, err
    assert "baseline" in out
    assert len(client.search_runs([exp.experiment_id])) == 4  # reused: no new runs
    code, out, _ = run_cli(
        ["sql", "--json", "-w", str(workspace), "select count(*) n from opt_kpis"], capsys
    )
    assert code == 0
    assert json.loads(out)[0]["n"] > 8
    code, _, err = run_cli(["optimize", *base, "--strategy", "fastest"], capsys)
    assert code == 2
    assert "--strategy must be one of" in err


def test_ml_planning_names_the_model_version_and_reports_the_planning_error(
    prefect_harness: None,
    tmp_path: Path,
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tasks.optimize

    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(TINY))
    base = ["-c", str(cfg), "-w", str(workspace)]
    assert run_cli(["synth", *base], capsys)[0] == 0
    code, _, err = run_cli(["optimize", *base, "--energy-model", "ml"], capsys)
    assert code != 0
    assert "run `evfleet train` first" in err  # no champion yet: one line, before any output
    import tasks.mlflow_utils

    version = SimpleNamespace(version=7)
    for module in (tasks.optimize, tasks.mlflow_utils):
        monkeypatch.setattr(module, "champion_version", lambda ws: version)
    loaded: list[str] = []
    monkeypatch.setattr(
        tasks.optimize, "_load_model", lambda uri: loaded.append(uri) or FakeChampion()
    )
    tasks.optimize._ml_source.cache_clear()
    code, out, err = run_cli(["optimize", *base, "--energy-model", "ml", "--json"], capsys)
    assert code == 0, err
    ml = json.loads(out)
    assert ml["energy_model"] == "ml:evfleet-segment-energy/7"
    assert loaded == ["models:/evfleet-segment-energy/7"]
    code, out, err = run_cli(["optimize", *base, "--json"], capsys)
    assert code == 0, err
    physics = json.loads(out)
    assert physics["energy_model"] == "physics"
    assert len(list(workspace.glob("optimization/*/report.html"))) == 2  # two stage ids
    # planned by the model, scored by physics: same trips, a different planning error
    assert ml["optimised"]["stranded_trips"] == 0
    assert ml["baseline"] == physics["baseline"]
    assert ml["optimised"]["planning_error_pct"] != pytest.approx(
        physics["optimised"]["planning_error_pct"]
    )
    code, _, err = run_cli(["optimize", *base, "--energy-model", "magic"], capsys)
    assert code == 2
    assert "--energy-model must be one of" in err
