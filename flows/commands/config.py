"""``evfleet config``: show and validate configuration files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evfleet.config import load_config
from flows.commands.common import ConfigOpt, console

app = typer.Typer(help="Show or validate the configuration.", no_args_is_help=True)


@app.command("show")
def show(config: ConfigOpt = None) -> None:
    """Print the effective configuration as YAML.

    The output is a complete config file that ``evfleet config validate`` accepts unchanged.

    Example: ``evfleet config show > my.yaml``
    """
    typer.echo(load_config(config).to_yaml(), nl=False)


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="YAML config file to check.")],
) -> None:
    """Validate a config file: exit 0 when valid, 2 with one message per problem.

    Example: ``evfleet config validate my.yaml``
    """
    load_config(file)
    console.print(f"[green]valid[/green]: {file}")
