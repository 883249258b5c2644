"""One writer per workspace; readers never wait; catalog switches are all-or-nothing."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evfleet.catalog import CATALOG_FILE, read_entries
from evfleet.errors import WorkspaceBusyError
from evfleet.storage import Workspace
from tests.fixtures.cli import run_cli
from tests.reliability.conftest import DATASET_ID, child_env, tree_hash

OTHER_ID = "data000000000002"


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability._workers", *args],
        stdout=subprocess.PIPE, text=True, env=child_env(),
    )  # fmt: skip


@pytest.fixture
def holder(ready_ws: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the workspace lock (as a running `evfleet run` would)."""
    proc = _spawn("hold-lock", str(ready_ws), "60")
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    yield proc
    proc.kill()
    proc.wait()


def test_second_run_refuses_with_a_clear_message(
    ready_ws: Path, holder: subprocess.Popen[str], capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree_hash(ready_ws)
    code, _, err = run_cli(["run", "--vehicles", "2", "--days", "1", "-w", str(ready_ws)], capsys)
    assert code == 1
    assert f"is busy: evfleet run (pid {holder.pid}" in err
    assert "--wait" in err
    assert len(err.strip().splitlines()) == 1
    assert tree_hash(ready_ws) == before


def test_waiting_writer_gets_the_lock_when_it_is_released(ready_ws: Path) -> None:
    proc = _spawn("hold-lock", str(ready_ws), "1.5")
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with Workspace(ready_ws).lock("test", wait_s=30, poll_s=0.1):
        waited = time.monotonic() - started
    proc.wait()
    assert 0.5 < waited < 30


def test_wait_gives_up_after_its_time(ready_ws: Path, holder: subprocess.Popen[str]) -> None:
    started = time.monotonic()
    lock = Workspace(ready_ws).lock("test", wait_s=0.5, poll_s=0.1)
    with pytest.raises(WorkspaceBusyError, match="after waiting 0.5 s"), lock:
        pass
    assert time.monotonic() - started < 5


def test_lock_is_free_once_its_holder_is_killed(
    ready_ws: Path, holder: subprocess.Popen[str]
) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with Workspace(ready_ws).lock("test"):
        pass


def test_lock_sweeps_staging_left_by_killed_runs(ready_ws: Path) -> None:
    ws = Workspace(ready_ws)
    stale = ws.begin_stage("quality", "q1")
    (stale / "half.parquet").write_bytes(b"half")
    old = ready_ws / "features" / ".f1.old-1234abcd"
    old.mkdir(parents=True)
    with ws.lock("test"):
        assert not stale.exists()
        assert not old.exists()
        # Stage folders that held nothing else go too; those with outputs stay.
        assert not (ready_ws / "quality").exists()
        assert not (ready_ws / "features").exists()
        assert (ready_ws / "datasets" / DATASET_ID).is_dir()
    assert ws.list_runs("quality") == []


@pytest.fixture
def two_datasets(ready_ws: Path) -> Path:
    src = ready_ws / "datasets" / DATASET_ID
    shutil.copytree(src, ready_ws / "datasets" / OTHER_ID)
    Workspace(ready_ws).register(
        "datasets", OTHER_ID, {"routes": ready_ws / "datasets" / OTHER_ID / "routes"}
    )
    return ready_ws


def _consistent(root: Path) -> str:
    """The one dataset id every flipped view points at (fails if they disagree)."""
    entries = read_entries(root)
    ids = {entries[v].stage_id for v in ("fleet_info", "routes", "segments")}
    assert len(ids) == 1, ids
    return ids.pop()


def test_sql_keeps_answering_while_views_are_rewritten(two_datasets: Path) -> None:
    ws = Workspace(two_datasets)
    proc = _spawn("flip-views", str(two_datasets), DATASET_ID, OTHER_ID)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline()
        for _ in range(15):
            df = ws.query(
                "SELECT (SELECT count(*) FROM routes) AS trips, "
                "(SELECT count(*) FROM segments) AS segs, (SELECT count(*) FROM _registry) AS v"
            )
            assert df.to_dict("records") == [{"trips": 5, "segs": 16, "v": 8}]
            _consistent(two_datasets)
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("seed", [1])
def test_killed_registration_leaves_all_views_on_one_output(two_datasets: Path, seed: int) -> None:
    """SIGKILL at seeded moments during view registration: never a half-switched catalog."""
    rng = random.Random(seed)
    for _ in range(3):
        proc = _spawn("flip-views", str(two_datasets), DATASET_ID, OTHER_ID)
        assert proc.stdout is not None
        assert proc.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.4))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert _consistent(two_datasets) in (DATASET_ID, OTHER_ID)
        assert Workspace(two_datasets).query("SELECT count(*) AS n FROM routes")["n"].item() == 5
    Workspace(two_datasets).register(
        "datasets",
        DATASET_ID,
        {"fleet_info": two_datasets / "datasets" / DATASET_ID / "fleet_info.parquet"},
    )
    assert not list(two_datasets.glob(f".{CATALOG_FILE}.tmp-*"))
