"""``evfleet ui``: start the Prefect and MLflow web UIs (on 127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from typing import Annotated

import typer

from evfleet.errors import ConfigError, OrchestrationError
from evfleet.storage import Workspace
from flows.commands.common import WorkspaceOpt, console, workspace_path
from flows.signals import sigterm_as_exit

app = typer.Typer(help="Start the Prefect or MLflow web UI (bound to 127.0.0.1 by default).")

LOCALHOST = "127.0.0.1"
PortOpt = Annotated[int | None, typer.Option(help="Port to listen on (1-65535).")]
HostOpt = Annotated[
    str,
    typer.Option(
        help="Address to bind. Default 127.0.0.1 (this machine only); 0.0.0.0 exposes the UI "
        "to the network."
    ),
]
_STOP_GRACE_S = 10.0


def check_port(host: str, port: int) -> None:
    """One-line errors for a port out of range or already in use on ``host``."""
    if not 1 <= port <= 65535:
        msg = f"--port must be between 1 and 65535, got {port}"
        raise ConfigError(msg)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        msg = f"--host {host!r} is not an address of this machine"
        raise ConfigError(msg) from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(address)
        except OSError as exc:
            msg = (
                f"cannot listen on {host}:{port} ({exc.strerror}); another program is using "
                "that port: choose another with --port"
            )
            raise OrchestrationError(msg) from None


def _browser_url(host: str, port: int) -> str:
    shown = LOCALHOST if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}"


def serve(cmd: list[str], url: str, what: str, env: dict[str, str]) -> None:
    """Run a UI server until Ctrl-C; it and every process it started stop with it.

    The server runs in its own process group, so its workers are stopped too. A server
    that exits on its own (e.g. it could not bind) is an error: exit code 1.
    """
    console.print(f"[bold]{what}[/bold] at [link={url}]{url}[/link]  (Ctrl-C to stop)")
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        with sigterm_as_exit():
            code = proc.wait()
    except KeyboardInterrupt:
        code = None
    finally:
        _stop_group(proc)
    if code is not None:
        msg = f"{what} stopped unexpectedly (exit code {code}); see the messages above"
        raise OrchestrationError(msg)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server's process group, then kill what is left after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            continue
        try:  # the leader is gone; workers of the group may still be stopping
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return


def prefect_env(host: str, port: int) -> dict[str, str]:
    """Environment of ``prefect server start``: the UI calls the API on the chosen port."""
    api_url = f"{_browser_url(host, port)}/api"
    return {
        **os.environ,
        "PREFECT_SERVER_API_HOST": host,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_API_URL": api_url,
    }


@app.command("prefect")
def prefect_ui(
    workspace: WorkspaceOpt = None, port: PortOpt = None, host: HostOpt = LOCALHOST
) -> None:
    """Start prefect server with the workspace's Prefect home (flow runs, deployments).

    The UI talks to the API on the same host and port, whichever you choose.

    Example: evfleet ui prefect --port 4200; then open http://127.0.0.1:4200.
    Set PREFECT_API_URL=http://127.0.0.1:4200/api in another shell to make flows
    report to this server instead of an ephemeral one.
    """
    workspace_path(workspace)
    port = port or 4200
    check_port(host, port)
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", host]
    url = _browser_url(host, port)
    serve([*cmd, "--port", str(port)], url, "Prefect UI", prefect_env(host, port))


@app.command("mlflow")
def mlflow_ui(
    workspace: WorkspaceOpt = None, port: PortOpt = None, host: HostOpt = LOCALHOST
) -> None:
    """Start the MLflow UI on the workspace's tracking DB (experiments, registered models).

    Example: evfleet ui mlflow --port 5000; then open http://127.0.0.1:5000.
    """
    from tasks.mlflow_utils import relocate_store

    ws = Workspace(workspace_path(workspace)).ensure()
    relocate_store(ws.root)  # a copied or moved workspace shows its own artifacts
    port = port or 5000
    check_port(host, port)
    cmd = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{ws.mlflow_db}",
        "--default-artifact-root", ws.mlflow_artifacts.as_uri(),
        "--host", host, "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    # MLflow 3.17's UI picks GenAI or model-training views by this URL parameter (the
    # experiments' kind tag is not enough): open on the training views
    url = f"{_browser_url(host, port)}#/experiments?workflowType=machine_learning"
    serve(cmd, url, "MLflow UI", dict(os.environ))


@app.command("dashboard")
def dashboard(
    workspace: WorkspaceOpt = None, port: PortOpt = None, host: HostOpt = LOCALHOST
) -> None:
    """Start the evfleet studio (Streamlit dashboard) on the workspace (127.0.0.1 unless --host).

    Pages: configuration, data generation, model training, analytics. Offline: maps and
    charts load nothing from the internet.

    Example: evfleet ui dashboard --port 8501; then open http://127.0.0.1:8501.
    """
    import app as studio

    workspace_path(workspace)
    port = port or 8501
    check_port(host, port)
    entry = os.path.join(os.path.dirname(os.path.abspath(studio.__file__)), "main.py")
    cmd = [
        sys.executable, "-m", "streamlit", "run", entry,
        "--server.address", host, "--server.port", str(port),
        "--server.headless", "true", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    serve(cmd, _browser_url(host, port), "evfleet studio", dict(os.environ))
