"""Fixtures of the reliability suite: a small complete workspace and a tree hash.

The workspace holds a network and a dataset stage output (tables as single files and as
folders of parts) registered in the catalog, and a routable street grid for `evfleet route`,
built without Prefect so that every test can start from a fresh copy in milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evfleet.catalog import CATALOG_FILE
from evfleet.storage import LOCK_FILE, WORKSPACE_ENV, Workspace, write_parquet
from tests.fixtures.routing import grid_graph
from tests.fixtures.tiny_dataset import tiny_dataset

REPO_ROOT = Path(__file__).resolve().parents[2]
NETWORK_ID = "net0000000000001"
DATASET_ID = "data000000000001"
PART_TABLES = ("routes", "segments", "charging_sessions", "vehicle_states")
FILE_TABLES = ("fleet_info", "weather")
# Lock files hold who is writing, not data: taking a lock is not a change of the workspace.
NOT_DATA = {LOCK_FILE, ".catalog.lock"}
ROUTE_NETWORK_ID = "grid000000000001"
"""A 4 x 4 street grid (nodes 100, 110, ..., 250) for route requests."""
ISLAND_NODE = 250
"""A node of the grid that no street leads to (every route to it is unreachable)."""


def tree_hash(root: Path) -> str:
    """SHA-256 over every path and file's bytes under ``root`` (lock files excepted)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.name in NOT_DATA:
            continue
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def write_tiny_workspace(root: Path) -> Workspace:
    """A complete network + dataset output of the tiny fixture, registered in the catalog."""
    ws = Workspace(root).ensure()
    nodes = pd.DataFrame(
        {"node_id": [1, 2, 3], "lat": [37.77, 37.78, 37.79], "lon": [-122.41, -122.42, -122.43]}
    )
    edges = pd.DataFrame({"u": [1, 2], "v": [2, 3], "key": [0, 0], "length_m": [120.0, 80.0]})
    with ws.stage_writer("network", NETWORK_ID) as tmp:
        write_parquet(nodes, tmp / "nodes.parquet")
        write_parquet(edges, tmp / "edges.parquet")
    data = tiny_dataset()
    with ws.stage_writer("datasets", DATASET_ID, meta={"network_id": NETWORK_ID}) as tmp:
        for name in FILE_TABLES:
            write_parquet(data[name], tmp / f"{name}.parquet")
        for name in PART_TABLES:
            write_parquet(data[name], tmp / name / "part-00000.parquet")
    net = ws.stage_dir("network", NETWORK_ID)
    ws.register("network", NETWORK_ID, {n: net / f"{n}.parquet" for n in ("nodes", "edges")})
    folder = ws.stage_dir("datasets", DATASET_ID)
    ws.register(
        "datasets",
        DATASET_ID,
        {
            **{n: folder / f"{n}.parquet" for n in FILE_TABLES},
            **{n: folder / n for n in PART_TABLES},
        },
    )
    assert (root / CATALOG_FILE).is_file()
    return ws


def write_route_network(ws: Workspace) -> None:
    """The routable grid: two-way streets on hills with charging stations, minus the
    streets into :data:`ISLAND_NODE`."""
    graph = grid_graph(4, seed=5, spacing_m=800.0)
    assert graph.stations is not None
    edges = graph.edges.loc[graph.edges["v"] != ISLAND_NODE]
    with ws.stage_writer("network", ROUTE_NETWORK_ID) as tmp:
        write_parquet(graph.nodes, tmp / "nodes.parquet")
        write_parquet(edges.reset_index(drop=True), tmp / "edges.parquet")
        write_parquet(graph.stations, tmp / "stations.parquet")
        (tmp / "meta.json").write_text(json.dumps({"crs": graph.crs}), encoding="utf-8")


@pytest.fixture(scope="session")
def template_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reliability") / "ws"
    write_route_network(Workspace(root).ensure())  # first: the latest network stays the tiny one
    write_tiny_workspace(root)
    (root / "prefect").mkdir()
    return root


@pytest.fixture
def ready_ws(template_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the tiny workspace (``EVFLEET_WORKSPACE`` restored afterwards)."""
    root = tmp_path / "ws"
    shutil.copytree(template_workspace, root)
    monkeypatch.setenv(WORKSPACE_ENV, str(root))
    return root


def child_env() -> dict[str, str]:
    """Environment of child processes: this checkout first on the import path.

    Without the Prefect log level the test session set for itself (tests/conftest.py): a
    child CLI picks its own, as in a user's shell (quiet unless -v)."""
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_LOGGING_LEVEL"}
    return {**env, "PYTHONPATH": path}
