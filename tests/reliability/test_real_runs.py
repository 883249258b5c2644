"""Two real `evfleet run` on one workspace, `evfleet sql` during a run, SIGTERM (slow)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psutil
import pytest

from evfleet.storage import Workspace
from tests.reliability._runs import (
    TINY_CONFIG,
    completed,
    descendants,
    kill_group,
    start_cli,
    wait_for,
)

pytestmark = pytest.mark.slow
RUN_TIMEOUT_S = 900


def test_second_run_refuses_or_waits_and_sql_keeps_working(tmp_path: Path) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_CONFIG)
    root = tmp_path / "ws"
    lock = root / ".evfleet.lock"
    first = start_cli("run", "-c", str(config), "-w", str(root), log=tmp_path / "first.log")
    try:
        wait_for(lambda: lock.is_file() and lock.read_text(), timeout_s=120, what="the lock")
        refused = start_cli("run", "-c", str(config), "-w", str(root), log=tmp_path / "refused.log")
        waiter = start_cli(
            "run", "-c", str(config), "-w", str(root), "--wait", "900", log=tmp_path / "waiter.log"
        )
        assert refused.wait(timeout=120) == 1
        message = (tmp_path / "refused.log").read_text()
        assert f"is busy: evfleet run (pid {first.pid}" in message
        wait_for(lambda: completed(root, "network"), timeout_s=RUN_TIMEOUT_S, what="network")
        wait_for((root / "catalog.duckdb").is_file, timeout_s=60, what="catalog")
        answered = 0
        while first.poll() is None:
            n = Workspace(root).query("SELECT count(*) AS n FROM edges")["n"].item()
            assert n > 0
            answered += 1
            time.sleep(0.5)
        assert first.returncode == 0, (tmp_path / "first.log").read_text()
        assert answered > 3
        assert waiter.wait(timeout=RUN_TIMEOUT_S) == 0, (tmp_path / "waiter.log").read_text()
        waited = (tmp_path / "waiter.log").read_text()
        assert "built" not in waited.split("evfleet run:")[-1]  # all stages reused
        assert Workspace(root).query("SELECT count(*) AS n FROM routes")["n"].item() > 0
    finally:
        for proc in (first,):
            kill_group(proc)


def test_sigterm_leaves_no_prefect_server(tmp_path: Path) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_CONFIG)
    proc = start_cli("run", "-c", str(config), "-w", str(tmp_path / "ws"), log=tmp_path / "log")
    try:
        wait_for(
            lambda: any("uvicorn" in " ".join(p.cmdline()) for p in descendants(proc.pid)),
            timeout_s=120, what="the temporary Prefect server",
        )  # fmt: skip
        children = descendants(proc.pid)
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 143
        _, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, [p.cmdline() for p in alive]
        assert not list((tmp_path / "ws").glob("*/.*.tmp-*"))
    finally:
        kill_group(proc)
