"""``evfleet quality``: validate datasets and open the Data Docs."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from evfleet.errors import ConfigError, DataQualityError, WorkspaceError
from evfleet.storage import Workspace
from flows.commands.common import (
    ConfigOpt,
    WaitOpt,
    WorkspaceOpt,
    console,
    effective_config,
    workspace_path,
)

if TYPE_CHECKING:
    from expectations.report import QualityReport

app = typer.Typer(
    help="Validate datasets (Great Expectations) and show the results.", no_args_is_help=True
)


def _show(report: QualityReport) -> None:
    table = Table(title=f"quality of {report.dataset}: {report.score:.1f}/100")
    table.add_column("table")
    table.add_column("score", justify="right")
    table.add_column("rows", justify="right")
    for name, score in report.table_scores.items():
        table.add_row(name, f"{score:.1f}", str(report.rows.get(name, 0)))
    console.print(table)
    for problem in report.problems:
        console.print(f"[yellow]problem[/yellow]: {problem}")
    for outcome in report.failures():
        colour = "red" if outcome.severity == "critical" else "yellow"
        console.print(f"[{colour}]{outcome.severity}[/{colour}] {outcome.describe(max_rows=3)}")


@app.command("run")
def run(
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    dataset: Annotated[str | None, typer.Option(help="Dataset id (default: the latest).")] = None,
    wait: WaitOpt = 0.0,
) -> None:
    """Validate a dataset of the workspace, store the score, fail on critical problems.

    Example: ``evfleet quality run`` (then ``evfleet sql "select * from quality_scores"``)
    """
    root = workspace_path(workspace)
    cfg = effective_config(config)
    ws = Workspace(root)
    sid = ws.resolve("datasets", dataset)
    from expectations.report import QualityReport
    from flows.quality import quality_flow
    from flows.runtime import flow_session
    from tasks.common import StageResult

    data = StageResult("datasets", sid, str(ws.stage_dir("datasets", sid)), reused=True)
    session = flow_session(root, purpose="evfleet quality run", wait_s=wait)
    with session, console.status(f"validating dataset {sid} ..."):
        try:
            result = quality_flow(cfg, str(root), data)
        except DataQualityError:
            _show(QualityReport.read(ws.stage_dir("quality", ws.latest("quality") or "")))
            raise
    _show(QualityReport.read(result.path))


@app.command("check")
def check(
    path: Annotated[Path, typer.Option("--path", help="Folder of Parquet or CSV tables.")],
    sample_fraction: Annotated[float, typer.Option(help="Share of rows to validate.")] = 1.0,
    docs: Annotated[Path | None, typer.Option(help="Build Data Docs into this folder.")] = None,
    chunk_rows: Annotated[
        int | None, typer.Option(help="Rows validated at a time (lower it to use less memory).")
    ] = None,
) -> None:
    """Validate a dataset of your own laid out like ours (one file or folder per table).

    Tables: fleet_info, weather, routes, segments, charging_sessions, vehicle_states as
    ``<table>.parquet``, ``<table>.csv`` or a ``<table>/`` folder of parts. Missing tables
    or columns are reported by name. Exits 1 when a critical expectation fails.

    Example: ``evfleet quality check --path ./my_fleet_logs``
    """
    if not 0 < sample_fraction <= 1:
        msg = f"--sample-fraction must be in (0, 1], got {sample_fraction:g}"
        raise ConfigError(msg)
    from expectations.loading import load_user_dataset
    from expectations.runner import validate_dataset

    if not path.is_dir():
        msg = f"dataset folder not found: {path}"
        raise WorkspaceError(msg)
    report = validate_dataset(
        load_user_dataset(path), sample_fraction=sample_fraction, docs_dir=docs, name=str(path),
        chunk_rows=chunk_rows,
    )  # fmt: skip
    _show(report)
    if not report.passed:
        raise DataQualityError(f"{len(report.critical_failures)} critical expectation(s) failed")


@app.command("docs")
def docs(
    workspace: WorkspaceOpt = None,
    quality_id: Annotated[str | None, typer.Option("--id", help="Quality run id.")] = None,
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open a browser.")] = True,
) -> None:
    """Open the Great Expectations Data Docs of a validation (offline: no CDN styling).

    Example: ``evfleet quality docs --no-open`` prints the page's path.
    """
    ws = Workspace(workspace_path(workspace))
    sid = ws.resolve("quality", quality_id)
    index = ws.stage_dir("quality", sid) / "docs" / "index.html"
    if not index.is_file():
        msg = f"no Data Docs in quality run {sid}"
        raise WorkspaceError(msg)
    console.print(f"Data Docs: {index.as_uri()}")
    if open_browser:
        webbrowser.open(index.as_uri())
