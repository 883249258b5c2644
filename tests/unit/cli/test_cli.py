from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer

from evfleet.storage import Workspace, write_parquet
from flows.cli import app
from tests.fixtures.cli import run_cli


def _all_command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(cmd: Any, prefix: list[str]) -> None:
        paths.append(prefix)
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*prefix, name])

    walk(root, [])
    return paths


@pytest.mark.parametrize("path", _all_command_paths(), ids=lambda p: " ".join(p) or "evfleet")
def test_every_command_has_help(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli([*path, "--help"], capsys)
    assert code == 0
    assert "Usage" in out


def test_leaf_commands_show_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for path in _all_command_paths():
        cmd = typer.main.get_command(app)
        for part in path:
            cmd = cmd.commands[part]  # type: ignore[attr-defined]
        if not hasattr(cmd, "commands"):
            assert "xample" in (cmd.help or ""), f"{' '.join(path)} --help has no example"


def test_config_show_output_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["config", "show"], capsys)
    assert code == 0
    path = tmp_path / "c.yaml"
    path.write_text(out)
    assert run_cli(["config", "validate", str(path)], capsys)[0] == 0


def test_config_validate_reports_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("fleet:\n  n_vehicles: 0\n  colour: red\n")
    code, _, err = run_cli(["config", "validate", str(path)], capsys)
    assert code == 2
    assert "fleet.n_vehicles" in err
    assert "fleet.colour: unknown key" in err
    assert "Traceback" not in err


def test_sql_formats_and_refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = Workspace(tmp_path)
    path = write_parquet(pd.DataFrame({"x": [1, 2]}), ws.stage_dir("network", "n1") / "t.parquet")
    ws.register("network", "n1", {"things": path})
    code, out, _ = run_cli(
        ["sql", "--json", "select sum(x) s from things", "-w", str(tmp_path)], capsys
    )
    assert code == 0
    assert json.loads(out) == [{"s": 3}]
    code, out, _ = run_cli(
        ["sql", "--csv", "select x from things order by x", "-w", str(tmp_path)], capsys
    )
    assert out.splitlines() == ["x", "1", "2"]
    code, _, err = run_cli(["sql", "drop view things", "-w", str(tmp_path)], capsys)
    assert code == 1
    assert "read-only" in err


def test_errors_are_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["network", "info", "-w", str(tmp_path)], capsys)
    assert code == 1
    assert "no network output" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("path", _all_command_paths(), ids=lambda p: " ".join(p) or "evfleet")
def test_help_is_plain_text(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli([*path, "--help"], capsys)
    assert code == 0
    assert "``" not in out
    assert ":func:" not in out


def test_empty_config_is_valid_and_said_to_mean_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    code, out, _ = run_cli(["config", "validate", str(path)], capsys)
    assert code == 0
    assert "every setting takes its default" in out
    path.write_text("fleet:\n  days: 3\n")
    code, out, _ = run_cli(["config", "validate", str(path)], capsys)
    assert code == 0
    assert "default" not in out
