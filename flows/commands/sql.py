"""``evfleet sql``: read-only SQL over the workspace catalog."""

from __future__ import annotations

import json
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from evfleet.storage import Workspace
from flows.commands.common import WorkspaceOpt, console, workspace_path


def _print_table(df: pd.DataFrame, *, max_rows: int) -> None:
    table = Table(show_header=True, header_style="bold")
    for col in df.columns:
        table.add_column(str(col))
    for row in df.head(max_rows).itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else str(v) for v in row))
    console.print(table)
    if len(df) > max_rows:
        console.print(f"... {len(df) - max_rows} more rows (use --max-rows or --csv)")


def sql(
    query: Annotated[str, typer.Argument(help="One SELECT statement.")],
    workspace: WorkspaceOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of rows.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    max_rows: Annotated[int, typer.Option(help="Rows shown in the table view.")] = 50,
) -> None:
    """Run a read-only query over the workspace tables (DuckDB views).

    Views: nodes, edges, stations (network); fleet_info, weather, routes, segments,
    charging_sessions, vehicle_states (dataset); quality; and more as stages land.
    Writing statements (INSERT, DELETE, DROP, COPY ... TO, ATTACH, ...) are refused.

    Examples:

      evfleet sql "select highway, count(*) n from edges group by 1 order by n desc"

      evfleet sql --json "select * from stations limit 3"
    """
    ws = Workspace(workspace_path(workspace))
    df = ws.query(query)
    if as_json:
        typer.echo(
            json.dumps(json.loads(df.to_json(orient="records", date_format="iso")), indent=2)
        )
    elif as_csv:
        typer.echo(df.to_csv(index=False), nl=False)
    else:
        _print_table(df, max_rows=max_rows)
