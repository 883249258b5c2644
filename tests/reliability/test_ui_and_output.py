"""UIs bind to 127.0.0.1 unless told otherwise, stop with everything they started, and the
CLI keeps libraries' INFO chatter out of a normal run."""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from evfleet.errors import OrchestrationError
from flows import env
from flows.commands import ui
from tests.fixtures.cli import run_cli


class _CtrlC:
    """Stands in for a server process: records how it was started, then "Ctrl-C"."""

    calls: ClassVar[list[tuple[list[str], dict[str, str]]]] = []

    def __init__(self, cmd: list[str], *, env: dict[str, str], **_: Any) -> None:
        self.calls.append((cmd, env))
        self.pid = -1

    def wait(self, timeout: float | None = None) -> int:
        raise KeyboardInterrupt


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, str]]]:
    _CtrlC.calls = []
    monkeypatch.setattr(ui.subprocess, "Popen", _CtrlC)
    monkeypatch.setattr(ui, "_stop_group", lambda proc: None)
    return _CtrlC.calls


@pytest.mark.parametrize("which", ["prefect", "mlflow"])
def test_ui_binds_localhost_by_default(
    which: str, fake_server: list[Any], ready_ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["ui", which, "--port", "4271", "-w", str(ready_ws)], capsys)
    assert code == 0
    cmd, _ = fake_server[0]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == "4271"
    assert "http://127.0.0.1:4271" in out


def test_dashboard_binds_localhost_unless_a_host_is_given(
    fake_server: list[Any], ready_ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["ui", "dashboard", "--port", "4272", "-w", str(ready_ws)], capsys)
    assert code == 0
    cmd, _ = fake_server[0]
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert "http://127.0.0.1:4272" in out
    run_cli(["ui", "dashboard", "--port", "4273", "--host", "0.0.0.0", "-w", str(ready_ws)], capsys)
    cmd, _ = fake_server[1]
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--server.port") + 1] == "4273"


def test_prefect_ui_api_follows_the_chosen_host_and_port(
    fake_server: list[Any], ready_ws: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")  # a stale setting
    run_cli(["ui", "prefect", "--port", "4255", "-w", str(ready_ws)], capsys)
    _, child_env = fake_server[0]
    assert child_env["PREFECT_UI_API_URL"] == "http://127.0.0.1:4255/api"
    assert child_env["PREFECT_API_URL"] == "http://127.0.0.1:4255/api"
    assert child_env["PREFECT_SERVER_API_PORT"] == "4255"
    run_cli(["ui", "prefect", "--port", "4256", "--host", "0.0.0.0", "-w", str(ready_ws)], capsys)
    cmd, child_env = fake_server[1]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    assert child_env["PREFECT_SERVER_API_HOST"] == "0.0.0.0"
    assert child_env["PREFECT_UI_API_URL"] == "http://127.0.0.1:4256/api"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:  # a zombie is not running
        return fh.read().split()[2] != "Z"


def test_server_that_exits_is_an_error_and_its_workers_are_stopped(tmp_path: Path) -> None:
    """Like MLflow on a busy port: the server exits, a worker it started lingers."""
    pid_file = tmp_path / "worker.pid"
    script = (
        "import subprocess, sys; "
        "w = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
        f"open({str(pid_file)!r}, 'w').write(str(w.pid)); sys.exit(0)"
    )
    with pytest.raises(OrchestrationError, match="stopped unexpectedly"):
        ui.serve([sys.executable, "-c", script], "http://127.0.0.1:1", "Test UI", dict(os.environ))
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker)


def test_sigterm_stops_the_ui_and_its_server(tmp_path: Path) -> None:
    from tests.reliability.conftest import child_env

    pid_file = tmp_path / "server.pid"
    server = tmp_path / "server.py"
    server.write_text(
        "import os, sys, time\nopen(sys.argv[1], 'w').write(str(os.getpid()))\ntime.sleep(120)\n"
    )
    parent = tmp_path / "parent.py"
    parent.write_text(
        "import os, sys\n"
        "from flows.commands import ui\n"
        f"ui.serve([sys.executable, {str(server)!r}, {str(pid_file)!r}], 'http://127.0.0.1:1',"
        " 'Test UI', dict(os.environ))\n"
    )
    proc = subprocess.Popen([sys.executable, str(parent)], env=child_env())
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    server_pid = int(pid_file.read_text())
    proc.terminate()
    assert proc.wait(timeout=30) == 143
    assert not _alive(server_pid)


def test_quiet_run_silences_optuna_trials_and_verbose_keeps_them() -> None:
    import optuna

    mlflow_logging = importlib.import_module("mlflow.utils.logging_utils")
    try:
        env.set_verbose(False)
        optuna.logging.set_verbosity(logging.INFO)  # as optuna does when first imported
        env.quiet_libraries()
        assert optuna.logging.get_verbosity() == logging.WARNING
        assert logging.getLogger("mlflow").level == logging.ERROR
        assert not mlflow_logging.MLFLOW_LOGGING_STREAM.enabled
        env.set_verbose(True)
        optuna.logging.set_verbosity(logging.INFO)
        env.quiet_libraries()
        assert optuna.logging.get_verbosity() == logging.INFO
    finally:
        mlflow_logging.enable_logging()
        env.set_verbose(True)
        for name in ("optuna", "mlflow", "alembic", "distributed", "great_expectations", "numba"):
            logging.getLogger(name).setLevel(logging.NOTSET)
        optuna.logging.set_verbosity(logging.INFO)
