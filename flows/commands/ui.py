"""``evfleet ui``: start the Prefect and MLflow web UIs on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Annotated

import typer

from evfleet.storage import Workspace
from flows.commands.common import WorkspaceOpt, console, workspace_path

app = typer.Typer(help="Start the Prefect or MLflow web UI (bound to 127.0.0.1).")

PortOpt = Annotated[int | None, typer.Option(help="Port to listen on.")]


def _serve(cmd: list[str], url: str, what: str) -> None:
    console.print(f"[bold]{what}[/bold] at [link={url}]{url}[/link]  (Ctrl-C to stop)")
    try:
        code = subprocess.call(cmd, env=os.environ.copy())
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


@app.command("prefect")
def prefect_ui(workspace: WorkspaceOpt = None, port: PortOpt = None) -> None:
    """Start ``prefect server`` with the workspace's Prefect home (flow runs, deployments).

    Example: ``evfleet ui prefect --port 4200``; then open http://127.0.0.1:4200.
    Set ``PREFECT_API_URL=http://127.0.0.1:4200/api`` in another shell to make flows
    report to this server instead of an ephemeral one.
    """
    workspace_path(workspace)
    port = port or 4200
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    _serve([*cmd, "--port", str(port)], f"http://127.0.0.1:{port}", "Prefect UI")


@app.command("mlflow")
def mlflow_ui(workspace: WorkspaceOpt = None, port: PortOpt = None) -> None:
    """Start the MLflow UI on the workspace's tracking DB (experiments, registered models).

    Example: ``evfleet ui mlflow --port 5000``; then open http://127.0.0.1:5000.
    """
    from tasks.mlflow_utils import relocate_store

    ws = Workspace(workspace_path(workspace)).ensure()
    relocate_store(ws.root)  # a copied or moved workspace shows its own artifacts
    port = port or 5000
    cmd = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{ws.mlflow_db}",
        "--default-artifact-root", ws.mlflow_artifacts.as_uri(),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    # MLflow 3.17's UI picks GenAI or model-training views by this URL parameter (the
    # experiments' kind tag is not enough): open on the training views
    _serve(cmd, f"http://127.0.0.1:{port}/#/experiments?workflowType=machine_learning", "MLflow UI")
