"""Bad input of every kind: one clear line on stderr, a non-zero exit, an unchanged workspace.

Each case runs the real CLI in-process on a fresh copy of a complete workspace and hashes
the workspace before and after. Every case fails before Prefect starts, so the whole table
runs in seconds.
"""

from __future__ import annotations

import bz2
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.cli import run_cli
from tests.reliability.conftest import ISLAND_NODE, ROUTE_NETWORK_ID, tree_hash

GOOD_XML = b"<?xml version='1.0'?><osm version='0.6'><node id='1' lat='37.7' lon='-122.4'/></osm>"


def _write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _dem_in_web_mercator(path: Path) -> None:
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=4,
        width=4,
        count=1,
        dtype="int16",
        crs="EPSG:3857",
        transform=from_origin(-13_627_000, 4_548_000, 30, 30),
    ) as dst:
        dst.write(np.full((1, 4, 4), 12, dtype=np.int16))


@pytest.fixture(scope="session")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Broken input files, by name."""
    d = tmp_path_factory.mktemp("bad-input")
    files = {
        # config files
        "binary.yaml": _write(d, "binary.yaml", b"\xff\xfe\x00\x81binary\x00"),
        "bad_date.yaml": _write(d, "bad_date.yaml", "fleet:\n  start_date: 2024-02-30\n"),
        "unknown_key.yaml": _write(d, "unknown_key.yaml", "fleet:\n  colour: red\n"),
        "zero_vehicles.yaml": _write(d, "zero_vehicles.yaml", "fleet:\n  n_vehicles: 0\n"),
        "shares.yaml": _write(
            d, "shares.yaml", "fleet:\n  driving_styles: {eco: 0.5, normal: 0.6, aggressive: 0}\n"
        ),
        "list.yaml": _write(d, "list.yaml", "- fleet\n- network\n"),
        "syntax.yaml": _write(d, "syntax.yaml", "fleet: {n_vehicles: [1, 2\n"),
        "model.yaml": _write(d, "model.yaml", "fleet:\n  market_shares: {delorean: 1.0}\n"),
        "negative.yaml": _write(
            d, "negative.yaml", "fleet:\n  driving_styles: {eco: -0.5, normal: 1.5}\n"
        ),
        "bbox.yaml": _write(
            d, "bbox.yaml", "network:\n  source: bbox\n  bbox: [-122, 37, -123, 38]\n"
        ),
        "no_osm.yaml": _write(d, "no_osm.yaml", "network:\n  source: osm_file\n"),
        "enum.yaml": _write(d, "enum.yaml", "optimization:\n  algorithm: teleport\n"),
        "peak.yaml": _write(d, "peak.yaml", "charging:\n  peak_hours: [22, 5]\n"),
        "osm_gone.yaml": _write(
            d, "osm_gone.yaml", f"network:\n  source: osm_file\n  osm_file: {d}/gone.osm\n"
        ),
        "horizon_zero.yaml": _write(d, "horizon_zero.yaml", "optimization:\n  horizon_trips: 0\n"),
        "horizon_hours.yaml": _write(
            d, "horizon_hours.yaml", "optimization:\n  horizon_hours: -6\n"
        ),
        "dask.yaml": _write(
            d, "dask.yaml", "performance:\n  runner: dask\n  dask_address: tcp://127.0.0.1:1\n"
        ),
        # OSM files
        "empty.osm": _write(d, "empty.osm", b""),
        "blank.osm": _write(d, "blank.osm", b"   \n\n"),
        "map.osm.pbf": _write(d, "map.osm.pbf", b"\x00\x00\x00\x0dOSMHeader"),
        "truncated.osm.bz2": _write(d, "truncated.osm.bz2", bz2.compress(GOOD_XML * 50)[:40]),
        "not_bz2.osm.bz2": _write(d, "not_bz2.osm.bz2", GOOD_XML),
        "page.osm": _write(d, "page.osm", "<!doctype html><html><body>Not found</body></html>"),
        "csv.osm": _write(d, "csv.osm", "id,lat,lon\n1,37.7,-122.4\n"),
        # DEM rasters
        "text.tif": _write(d, "text.tif", "this is not a raster\n"),
        "empty.tif": _write(d, "empty.tif", b""),
        # drive cycles
        "no_speed.csv": _write(d, "no_speed.csv", "time_s,velocity\n0,0\n1,2\n"),
        "empty.csv": _write(d, "empty.csv", ""),
        "words.csv": _write(d, "words.csv", "time_s,speed_mps\n0,fast\n1,faster\n"),
        "binary.csv": _write(d, "binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00"),
        # user datasets for `quality check`
        "empty_dataset": d / "empty_dataset",
        "garbage_parquet": d / "garbage_parquet",
        "binary_csv_dataset": d / "binary_csv_dataset",
        "a_file": _write(d, "a_file", "not a folder\n"),
    }
    files["empty_dataset"].mkdir()
    _write(files["garbage_parquet"], "fleet_info.parquet", b"PAR1 not really parquet")
    _write(files["binary_csv_dataset"], "fleet_info.csv", b"\x00\xff\xfe\x00garbage\x00")
    _dem_in_web_mercator(d / "mercator.tif")
    files["mercator.tif"] = d / "mercator.tif"
    files["folder.yaml"] = d / "folder.yaml"
    files["folder.yaml"].mkdir()
    return files


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


ROUTE = ["route", "--from", "100", "--to", "140", "--vehicle", "nissan_leaf", "--depart",
         "2024-01-15T10:00", "--network", ROUTE_NETWORK_ID, "-w", "{ws}"]  # fmt: skip
OPT = ["optimize", "-w", "{ws}"]

# (id, arguments, expected exit code, text the one-line error must contain).
# {ws} is the workspace, {name} a file of the `bad` fixture, {busy} a port in use.
CASES: list[tuple[str, list[str], int, str]] = [
    # --- configuration files (validate, and the commands that would run them)
    ("cfg-binary", ["config", "validate", "{binary.yaml}"], 2, "not UTF-8"),
    ("cfg-bad-date", ["config", "validate", "{bad_date.yaml}"], 2, "day is out of range"),
    ("cfg-unknown-key", ["config", "validate", "{unknown_key.yaml}"], 2, "fleet.colour"),
    ("cfg-zero-vehicles", ["config", "validate", "{zero_vehicles.yaml}"], 2, "n_vehicles"),
    ("cfg-shares", ["config", "validate", "{shares.yaml}"], 2, "must sum to 1"),
    ("cfg-top-list", ["config", "validate", "{list.yaml}"], 2, "must be a mapping"),
    ("cfg-syntax", ["config", "validate", "{syntax.yaml}"], 2, "not valid YAML"),
    ("cfg-unknown-model", ["config", "validate", "{model.yaml}"], 2, "delorean"),
    ("cfg-negative-share", ["config", "validate", "{negative.yaml}"], 2, "non-negative"),
    ("cfg-bbox", ["config", "validate", "{bbox.yaml}"], 2, "bbox"),
    ("cfg-osm-source", ["config", "validate", "{no_osm.yaml}"], 2, "osm_file"),
    ("cfg-enum", ["config", "validate", "{enum.yaml}"], 2, "algorithm"),
    ("cfg-peak-hours", ["config", "validate", "{peak.yaml}"], 2, "peak_hours"),
    ("cfg-missing", ["config", "validate", "{binary.yaml}.gone"], 2, "not found"),
    ("cfg-is-folder", ["config", "validate", "{folder.yaml}"], 2, "not found"),
    ("run-binary-config", ["run", "-c", "{binary.yaml}", "-w", "{ws}"], 2, "not UTF-8"),
    ("synth-bad-date", ["synth", "-c", "{bad_date.yaml}", "-w", "{ws}"], 2, "out of range"),
    ("run-osm-in-config-gone", ["run", "-c", "{osm_gone.yaml}", "-w", "{ws}"], 1, "not found"),
    # --- command-line values
    ("run-zero-vehicles", ["run", "--vehicles", "0", "-w", "{ws}"], 2, "n_vehicles"),
    ("synth-too-many-days", ["synth", "--days", "400", "-w", "{ws}"], 2, "fleet.days"),
    ("run-bad-start-date", ["run", "--start-date", "2024-13-01", "-w", "{ws}"], 2, "start-date"),
    ("synth-bad-runner", ["synth", "--runner", "spark", "-w", "{ws}"], 2, "runner"),
    ("run-unknown-option", ["run", "--colour", "red", "-w", "{ws}"], 2, "No such option"),
    # --- workspace
    ("ws-is-file-run", ["run", "-w", "{a_file}"], 1, "is a file"),
    ("ws-is-file-sql", ["sql", "select 1", "-w", "{a_file}"], 1, "is a file"),
    ("network-unknown-id", ["network", "info", "--id", "nope", "-w", "{ws}"], 1, "no completed"),
    (
        "quality-unknown-dataset",
        ["quality", "run", "--dataset", "nope", "-w", "{ws}"],
        1,
        "no completed",
    ),
    # --- Dask
    (
        "synth-dask-nothing",
        ["synth", "--runner", "dask", "--dask-address", "tcp://127.0.0.1:1", "-w", "{ws}"],
        1,
        "no Dask scheduler",
    ),
    (
        "synth-dask-bad-address",
        ["synth", "--runner", "dask", "--dask-address", "tcp://nohost", "-w", "{ws}"],
        2,
        "HOST:PORT",
    ),
    ("run-dask-in-config", ["run", "-c", "{dask.yaml}", "-w", "{ws}"], 1, "no Dask scheduler"),
    # --- OSM files
    (
        "osm-missing",
        ["network", "build", "--osm-file", "{empty.osm}.gone", "-w", "{ws}"],
        1,
        "not found",
    ),
    ("osm-empty", ["network", "build", "--osm-file", "{empty.osm}", "-w", "{ws}"], 1, "empty"),
    ("osm-blank", ["network", "build", "--osm-file", "{blank.osm}", "-w", "{ws}"], 1, "empty"),
    ("osm-pbf", ["network", "build", "--osm-file", "{map.osm.pbf}", "-w", "{ws}"], 1, "PBF"),
    (
        "osm-truncated-bz2",
        ["network", "build", "--osm-file", "{truncated.osm.bz2}", "-w", "{ws}"],
        1,
        "truncated",
    ),
    (
        "osm-not-bz2",
        ["network", "build", "--osm-file", "{not_bz2.osm.bz2}", "-w", "{ws}"],
        1,
        "archive",
    ),
    ("osm-html", ["run", "--osm-file", "{page.osm}", "-w", "{ws}"], 1, "no <osm> root"),
    ("osm-csv", ["network", "build", "--osm-file", "{csv.osm}", "-w", "{ws}"], 1, "no <osm> root"),
    (
        "osm-two-sources",
        ["network", "build", "--osm-file", "{page.osm}", "--place", "Berkeley", "-w", "{ws}"],
        2,
        "choose one network source",
    ),
    # --- DEM rasters
    (
        "dem-missing",
        ["network", "build", "--dem", "{text.tif}.gone", "-w", "{ws}"],
        1,
        "DEM file not found",
    ),
    ("dem-text", ["network", "build", "--dem", "{text.tif}", "-w", "{ws}"], 1, "not a readable"),
    ("dem-empty", ["network", "build", "--dem", "{empty.tif}", "-w", "{ws}"], 1, "not a readable"),
    (
        "dem-wrong-crs",
        ["network", "build", "--dem", "{mercator.tif}", "-w", "{ws}"],
        1,
        "EPSG:4326",
    ),
    # --- drive cycles
    (
        "cycle-missing",
        ["energy", "cycle", "--vehicle", "nissan_leaf", "--cycle", "{empty.csv}.gone"],
        1,
        "gone",
    ),
    (
        "cycle-no-speed",
        ["energy", "cycle", "--vehicle", "nissan_leaf", "--cycle", "{no_speed.csv}"],
        1,
        "speed_mps",
    ),
    (
        "cycle-empty",
        ["energy", "cycle", "--vehicle", "nissan_leaf", "--cycle", "{empty.csv}"],
        1,
        "empty.csv",
    ),
    (
        "cycle-words",
        ["energy", "cycle", "--vehicle", "nissan_leaf", "--cycle", "{words.csv}"],
        1,
        "words.csv",
    ),
    (
        "cycle-binary",
        ["energy", "cycle", "--vehicle", "nissan_leaf", "--cycle", "{binary.csv}"],
        1,
        "binary.csv",
    ),
    (
        "cycle-unknown-vehicle",
        ["energy", "cycle", "--vehicle", "delorean", "--cycle", "{no_speed.csv}"],
        1,
        "delorean",
    ),
    # --- user datasets for `quality check`
    ("qc-missing-folder", ["quality", "check", "--path", "{a_file}.gone"], 1, "not found"),
    ("qc-a-file", ["quality", "check", "--path", "{a_file}"], 1, "not found"),
    ("qc-empty-folder", ["quality", "check", "--path", "{empty_dataset}"], 1, "no tables found"),
    (
        "qc-fraction-zero",
        ["quality", "check", "--path", "{empty_dataset}", "--sample-fraction", "0"],
        2,
        "sample-fraction",
    ),
    (
        "qc-fraction-big",
        ["quality", "check", "--path", "{empty_dataset}", "--sample-fraction", "1.5"],
        2,
        "sample-fraction",
    ),
    (
        "qc-garbage-parquet",
        ["quality", "check", "--path", "{garbage_parquet}"],
        1,
        "cannot read table fleet_info",
    ),
    ("qc-binary-csv", ["quality", "check", "--path", "{binary_csv_dataset}"], 1, "fleet_info"),
    # --- SQL
    ("sql-write", ["sql", "drop view routes", "-w", "{ws}"], 1, "read-only"),
    ("sql-two-statements", ["sql", "select 1; select 2", "-w", "{ws}"], 1, "exactly one"),
    ("sql-parse", ["sql", "selec 1", "-w", "{ws}"], 1, "does not parse"),
    ("sql-unknown-table", ["sql", "select * from trains", "-w", "{ws}"], 1, "trains"),
    (
        "sql-etc-passwd",
        ["sql", "select * from read_csv('/etc/passwd')", "-w", "{ws}"],
        1,
        "disabled",
    ),
    (
        "sql-explain-analyze-copy",
        ["sql", "explain analyze copy (select 1) to 'x.csv'", "-w", "{ws}"],
        1,
        "refused",
    ),
    ("sql-no-catalog", ["sql", "select 1", "-w", "{empty_dataset}"], 1, "no catalog"),
    # --- route requests (on the grid network; no route is written anywhere)
    ("route-unknown-vehicle", [*ROUTE, "--vehicle", "delorean"], 1, "unknown vehicle 'delorean'"),
    ("route-unknown-fleet-id", [*ROUTE, "--vehicle", "EV9999"], 1, "unknown vehicle 'EV9999'"),
    ("route-lat-out-of-range", [*ROUTE, "--from", "95.0,-122.4"], 1, "coordinates out of range"),
    ("route-far-coordinates", [*ROUTE, "--from", "10.0,10.0"], 1, "km from the network"),
    ("route-not-coordinates", [*ROUTE, "--from", "37.78;-122.45"], 1, "LAT,LON or a node id"),
    ("route-soc-above-one", [*ROUTE, "--soc", "1.5"], 1, "--soc must be within [0, 1]"),
    ("route-soc-negative", [*ROUTE, "--soc", "-0.1"], 1, "--soc must be within [0, 1]"),
    ("route-soc-nan", [*ROUTE, "--soc", "nan"], 1, "--soc must be within [0, 1]"),
    (
        "route-unreachable",
        [*ROUTE, "--to", str(ISLAND_NODE)],
        1,
        f"no route from node 100 to node {ISLAND_NODE}",
    ),
    ("route-unknown-node", [*ROUTE, "--to", "999"], 1, "unknown node id 999"),
    ("route-bad-depart", [*ROUTE, "--depart", "2024-99-01"], 1, "--depart must be an ISO"),
    ("route-bad-objective", [*ROUTE, "--objective", "fastest"], 2, "optimization.soc_objective"),
    ("route-bad-energy-model", [*ROUTE, "--energy-model", "magic"], 1, "--energy-model"),
    ("route-unknown-network", [*ROUTE, "--network", "nope"], 1, "no completed network output"),
    # --- optimisation settings (all refused before Prefect starts)
    ("opt-unknown-strategy", [*OPT, "--strategy", "fastest"], 2, "--strategy must be one of"),
    ("opt-bad-planning-mode", [*OPT, "--planning-mode", "psychic"], 2, "--planning-mode must be"),
    ("opt-horizon-zero", [*OPT, "-c", "{horizon_zero.yaml}"], 2, "optimization.horizon_trips"),
    ("opt-horizon-negative", [*OPT, "-c", "{horizon_hours.yaml}"], 2, "optimization.horizon_hours"),
    ("opt-missing-dataset", [*OPT, "--dataset", "nope"], 1, "no completed datasets output"),
    ("opt-negative-wait", [*OPT, "--wait", "-1"], 2, "--wait"),
    ("opt-dask-nothing", [*OPT, "-c", "{dask.yaml}"], 1, "no Dask scheduler"),
    # --- UIs
    ("ui-port-range", ["ui", "mlflow", "--port", "99999", "-w", "{ws}"], 2, "between 1 and 65535"),
    ("ui-port-text", ["ui", "prefect", "--port", "http", "-w", "{ws}"], 2, "--port"),
    ("ui-port-busy", ["ui", "mlflow", "--port", "{busy}", "-w", "{ws}"], 1, "cannot listen"),
    (
        "ui-bad-host",
        ["ui", "prefect", "--host", "no.such.host.invalid", "-w", "{ws}"],
        2,
        "not an address",
    ),
]


def _fill(arg: str, ws: Path, bad: dict[str, Path], busy: int) -> str:
    arg = arg.replace("{ws}", str(ws)).replace("{busy}", str(busy))
    for name, path in bad.items():
        arg = arg.replace("{" + name + "}", str(path))
    assert "{" not in arg or "select" in arg, f"unfilled placeholder in {arg}"
    return arg


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("args", "code", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_one_line_and_changes_nothing(
    args: list[str],
    code: int,
    text: str,
    ready_ws: Path,
    bad: dict[str, Path],
    busy_port: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = tree_hash(ready_ws)
    got, out, err = run_cli([_fill(a, ready_ws, bad, busy_port) for a in args], capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert got == code, f"exit {got}, stderr: {err}"
    assert len(lines) == 1, f"expected one error line, got: {err}"
    assert lines[0].startswith("error: ")
    assert text in lines[0]
    assert "Traceback" not in out + err
    assert tree_hash(ready_ws) == before


STRICT_SETTINGS = """\
optimization:
  reserve_soc: 0.95
  max_charge_soc: 0.96
"""
"""A reserve no trip can keep: every plan is infeasible, and --strict must say so."""


def _without_run_history(root: Path) -> str:
    """Tree hash of the workspace minus the Prefect database (a failed run is recorded
    there, as it should be); stage outputs, catalog and MLflow store included."""
    import shutil

    copy = root.parent / f"{root.name}-outputs"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("prefect"))
    try:
        return tree_hash(copy)
    finally:
        shutil.rmtree(copy)


@pytest.mark.slow
def test_an_infeasible_strict_plan_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    """The one optimisation-settings case found only by planning: a real (tiny) dataset."""
    from tests.reliability._runs import TINY_CONFIG, kill_group, start_cli

    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_CONFIG, encoding="utf-8")
    strict = tmp_path / "strict.yaml"
    strict.write_text(TINY_CONFIG + STRICT_SETTINGS, encoding="utf-8")
    root = tmp_path / "ws"
    for args, log in ((["synth", "-c", str(config)], "synth"),
                      (["optimize", "--strict", "-c", str(strict)], "optimize")):  # fmt: skip
        if log == "optimize":
            before = _without_run_history(root)
        proc = start_cli(*args, "-w", str(root), log=tmp_path / f"{log}.log")
        try:
            code = proc.wait(timeout=900)
        finally:
            kill_group(proc)
    output = (tmp_path / "optimize.log").read_text(encoding="utf-8")
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 1, output
    assert len(lines) == 1, output
    assert lines[0].startswith("error: vehicle ")
    assert lines[0].count("infeasible") == 1, lines[0]
    assert "reserve SOC 0.950" in lines[0]
    assert "Traceback" not in output
    assert _without_run_history(root) == before
    assert not (root / "optimization").exists() or not any((root / "optimization").iterdir())
