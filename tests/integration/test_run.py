"""The end-to-end CLI run on a tiny configuration, under one Prefect test harness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.fixtures.cli import run_cli

pytestmark = pytest.mark.integration

TINY = {
    "network": {"scale": 0.1, "seed": 3},
    "fleet": {"n_vehicles": 4, "days": 2, "seed": 5, "start_date": "2024-01-15"},  # weekdays
    "performance": {"synth_chunk_vehicles": 2},
    "training": {"models": ["linear", "lightgbm"], "n_trials": 2, "timeout_s": 20},
}


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def test_run_builds_then_reuses_everything(
    prefect_harness: None, tiny_config: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["run", "-c", str(tiny_config), "-w", str(workspace)], capsys)
    assert code == 0, err
    assert out.count("built") >= 5
    assert "Energy model:" in out
    assert "physics prior alone" in out
    for notice in ("Created version", "Successfully registered model"):  # MLflow's own prints
        assert notice not in out + err
    stages = {p.parent.parent.name for p in workspace.glob("*/*/manifest.json")}
    assert {"network", "datasets", "quality", "features", "optimization"} <= stages

    code, out, err = run_cli(["run", "-c", str(tiny_config), "-w", str(workspace)], capsys)
    assert code == 0, err
    assert "built" not in out
    assert out.count("reused") >= 5

    code, out, _ = run_cli(
        ["sql", "--json", "-w", str(workspace), "select count(*) n from edges"], capsys
    )
    assert code == 0
    assert json.loads(out)[0]["n"] > 100
    code, out, _ = run_cli(
        ["sql", "--json", "-w", str(workspace), "select count(distinct vehicle_id) n from routes"],
        capsys,
    )
    assert json.loads(out)[0]["n"] == 4
