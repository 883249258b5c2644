"""A real Dask cluster: `dask scheduler` and two `dask worker` processes on 127.0.0.1.

`evfleet synth --runner dask --dask-address tcp://...` on that cluster writes the same bytes
as the local (threads) runner, and the workers are the ones that simulated the chunks; so does
`evfleet optimize` with the cluster in its config (`performance.runner: dask`,
`performance.dask_address`), re-planning the vehicle chunks on the workers.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CONFIG = """\
network:
  scale: 0.1
  seed: 3
fleet:
  n_vehicles: 6
  days: 2
  seed: 11
performance:
  synth_chunk_vehicles: 2
"""
STOP_TIMEOUT_S = 20.0
DASK = Path(sys.executable).with_name("dask")


def _env() -> dict[str, str]:
    """Children import this checkout (the workers unpickle its tasks)."""
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (a worker's nanny and its child), SIGKILL after a bound."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT_S)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Address of a scheduler with two single-threaded workers, each its own process."""
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask-logs")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    commands = [
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--dashboard-address", "127.0.0.1:0"],
        *(
            [str(DASK), "worker", address, "--nthreads", "1", "--nworkers", "1",
             "--name", f"w{i}", "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]
            for i in range(2)
        ),
    ]  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i, command in enumerate(commands):
            with (logs / f"{i}.log").open("wb") as out:
                proc = subprocess.Popen(
                    command, stdout=out, stderr=subprocess.STDOUT, env=_env(),
                    start_new_session=True,
                )  # fmt: skip
            procs.append(proc)
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"dask scheduler did not listen on {address} within 60 s")
            time.sleep(0.2)
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _cli(command: str, workspace: Path, config: Path, *extra: str) -> Path:
    """Run ``evfleet COMMAND``; the stage's only output folder."""
    run = subprocess.run(
        [sys.executable, "-m", "flows.cli", command, "--config", str(config),
         "--workspace", str(workspace), *extra],
        capture_output=True, text=True, env=_env(), timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    (output,) = (workspace / {"synth": "datasets", "optimize": "optimization"}[command]).iterdir()
    return output


def _synth(workspace: Path, config: Path, *extra: str) -> Path:
    return _cli("synth", workspace, config, *extra)


def _digests(folder: Path, pattern: str = "*.parquet") -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob(pattern))
        if p.name != "manifest.json"  # holds its creation time
    }


def _executed(address: str) -> int:
    """Tasks the cluster's workers have run so far."""
    from distributed import Client

    with Client(address, timeout=30) as client:
        counts = client.run(lambda dask_worker: dask_worker.state.executed_count)
    return int(sum(counts.values()))


def test_synthesis_on_a_real_cluster_gives_the_local_bytes(cluster: str, tmp_path: Path) -> None:
    config = tmp_path / "small.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    local = _synth(tmp_path / "local", config)
    before = _executed(cluster)
    remote = _synth(tmp_path / "remote", config, "--runner", "dask", "--dask-address", cluster)

    assert remote.name == local.name
    digests = _digests(local)
    assert len(digests) >= 6
    assert _digests(remote) == digests
    # Six vehicles in chunks of two: three chunk tasks, all run by the cluster's workers.
    assert _executed(cluster) - before >= 3


def test_optimisation_on_a_real_cluster_gives_the_local_bytes(cluster: str, tmp_path: Path) -> None:
    config = tmp_path / "small.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    on_cluster = tmp_path / "cluster.yaml"
    on_cluster.write_text(CONFIG + f"  runner: dask\n  dask_address: {cluster}\n", encoding="utf-8")
    _synth(tmp_path / "local", config)
    shutil.copytree(tmp_path / "local", tmp_path / "remote")
    local = _cli("optimize", tmp_path / "local", config, "--strategy", "all")
    before = _executed(cluster)
    remote = _cli("optimize", tmp_path / "remote", on_cluster, "--strategy", "all")

    assert remote.name == local.name
    digests = _digests(local, "*")
    assert {"plans.parquet", "charging_plan.parquet", "kpis.parquet", "report.html"} <= set(digests)
    assert _digests(remote, "*") == digests
    # Six vehicles in chunks of two: three chunk tasks, run by the cluster's workers.
    assert _executed(cluster) - before >= 3
