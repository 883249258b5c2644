"""Shared fixtures: offline environment, a throwaway Prefect home, test-data location."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

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
