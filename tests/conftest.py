"""Shared fixtures: offline environment, Prefect home, test data, one small network per session."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from evfleet.network import NetworkData, RoadGraph
    from tests.fixtures.ml_dataset import MLDataset

REPO_ROOT = Path(__file__).resolve().parents[1]
_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="evfleet-prefect-home-"))

# Before anything imports prefect/mlflow/gx: offline settings and a private Prefect home.
from flows import env  # noqa: E402

os.environ["PREFECT_HOME"] = str(_PREFECT_HOME)
env.configure(_PREFECT_HOME / "workspace")
os.environ.pop("PREFECT_API_URL", None)


def test_data_dir() -> Path:
    """The shared test data folder (``EVFLEET_TEST_DATA`` or ``../shared/data``)."""
    return Path(os.environ.get("EVFLEET_TEST_DATA") or REPO_ROOT.parent / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the shared test data; skips (with the reason) when it is absent."""
    path = test_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared test data not found at {path} (set EVFLEET_TEST_DATA)")
    return path


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test harness (temporary API + DB) for the whole session (~9 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder."""
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


SMALL_NETWORK = {"scale": 0.1, "seed": 42}
"""The session's network: the embedded synthetic Bay Area at scale 0.1 (~4,500 nodes, ~3 s)."""


@pytest.fixture(scope="session")
def small_network() -> NetworkData:
    """The embedded synthetic network, built once per session. Treat as read-only."""
    from evfleet.config import NetworkConfig
    from evfleet.network import build_network

    return build_network(NetworkConfig(**SMALL_NETWORK))


@pytest.fixture(scope="session")
def small_network_folder(
    small_network: NetworkData, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The session's network saved as a network folder (nodes, edges, stations, graphml, meta)."""
    from evfleet.network import save_network

    folder = tmp_path_factory.mktemp("small-network")
    save_network(small_network, folder)
    return folder


@pytest.fixture(scope="session")
def road_graph(small_network: NetworkData) -> RoadGraph:
    """The routing core of the session's network (shared: do not change its tables)."""
    from evfleet.network import RoadGraph

    data = small_network
    return RoadGraph(data.nodes, data.edges, crs=str(data.meta["crs"]), stations=data.stations)


@pytest.fixture(scope="session")
def ml_dataset(small_network: NetworkData, road_graph: RoadGraph) -> MLDataset:
    """The ML stage's input tables from a small fleet-simulator run (8 vehicles x 4 days)."""
    from tests.fixtures.ml_dataset import simulate_ml_dataset

    return simulate_ml_dataset(small_network, road_graph)
