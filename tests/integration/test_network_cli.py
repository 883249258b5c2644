"""`evfleet network build|info|plot` through the CLI, including bad input."""

from __future__ import annotations

import bz2
import json
from pathlib import Path

import pytest

from flows.cli import main
from tests.fixtures.cli import run_cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Path:
    ws = tmp_path_factory.mktemp("net-ws")
    code = 0
    try:
        main(["network", "build", "-w", str(ws), "--scale", "0.1", "--seed", "7"])
    except SystemExit as exc:
        code = int(exc.code or 0)
    assert code == 0
    return ws


def _snapshot(ws: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(ws)): p.read_bytes() for p in (ws / "network").rglob("*") if p.is_file()
    }


def test_info_json_and_plot(
    built: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(["network", "info", "--json", "-w", str(built)], capsys)
    assert code == 0, err
    info = json.loads(out)
    for key in (
        "id",
        "source",
        "n_nodes",
        "n_edges",
        "n_stations",
        "bbox",
        "grade_p50",
        "grade_p99",
    ):
        assert key in info
    west, south, east, north = info["bbox"]
    assert west < east
    assert south < north
    assert info["source"] == "embedded"
    png = tmp_path / "net.png"
    code, _, err = run_cli(["network", "plot", "-w", str(built), "--out", str(png)], capsys)
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _bad_inputs(tmp: Path) -> dict[str, tuple[list[str], str]]:
    empty = tmp / "empty.osm"
    empty.write_bytes(b"")
    truncated = tmp / "cut.osm.bz2"
    truncated.write_bytes(bz2.compress(b"<?xml version='1.0'?><osm>" + b"<node/>" * 2000)[:200])
    not_osm = tmp / "notes.osm"
    not_osm.write_text("these are not the roads you are looking for")
    return {
        "missing file": (["--osm-file", str(tmp / "nope.osm")], "not found"),
        "empty file": (["--osm-file", str(empty)], "empty"),
        "truncated bz2": (["--osm-file", str(truncated)], "bz2"),
        "not OSM XML": (["--osm-file", str(not_osm)], "OSM"),
        "download while offline": (["--bbox", "-150.0,10.0,-149.9,10.1"], "--osm-file"),
        "two sources": (["--osm-file", str(not_osm), "--place", "Oakland"], "one network source"),
    }


def test_bad_inputs_fail_in_one_line_and_keep_the_old_network(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(built)
    for case, (args, needle) in _bad_inputs(tmp_path).items():
        code, _, err = run_cli(["network", "build", "-w", str(built), *args], capsys)
        assert code != 0, case
        assert "Traceback" not in err, case
        assert needle.lower() in err.lower(), (case, err)
        assert _snapshot(built) == before, case
