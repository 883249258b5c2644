"""``evfleet config``: show and validate configuration files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from evfleet.config import Strategy, StudioConfig, load_config, with_strategy
from evfleet.errors import ConfigError
from flows.commands.common import ConfigOpt, console

app = typer.Typer(help="Show or validate the configuration.", no_args_is_help=True)


@app.command("show")
def show(
    config: ConfigOpt = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            help="Apply a fleet-optimisation preset: "
            + "|".join(s.value for s in Strategy)
            + " (default: optimization.strategy)."
        ),
    ] = None,
) -> None:
    """Print the effective configuration as YAML.

    The output is a complete config file that ``evfleet config validate`` accepts unchanged.
    With a strategy (``--strategy`` or ``optimization.strategy``) the ``optimization``
    section shows the preset's objective and weights (``STRATEGY_PRESETS``).

    Examples: ``evfleet config show > my.yaml``, ``evfleet config show --strategy balanced``
    """
    if strategy is not None and strategy not in {s.value for s in Strategy}:  # incl. custom
        msg = f"--strategy must be one of {', '.join(s.value for s in Strategy)}, got {strategy!r}"
        raise ConfigError(msg)
    typer.echo(with_strategy(load_config(config), strategy).to_yaml(), nl=False)


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="YAML config file to check.")],
) -> None:
    """Validate a config file: exit 0 when valid, 2 with one message per problem.

    An empty file is valid and means "all defaults" (the command says so).

    Example: ``evfleet config validate my.yaml``
    """
    cfg = load_config(file)
    if cfg == StudioConfig() and not yaml.safe_load(file.read_text(encoding="utf-8")):
        console.print(f"[green]valid[/green]: {file} is empty: every setting takes its default")
        return
    console.print(f"[green]valid[/green]: {file}")
