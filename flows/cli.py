"""The ``evfleet`` command line: one sub-command per stage, plus sql, config and ui.

Errors a user can cause (:class:`evfleet.errors.EvfleetError`) print one clear message and
exit non-zero (2 for configuration errors, 1 otherwise); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from evfleet.errors import ConfigError, EvfleetError
from flows.commands import config, energy, network, quality, route, run, sql, synth, train, ui
from flows.commands.common import err_console

app = typer.Typer(
    name="evfleet",
    help="EV Fleet Optimization Studio: network, synthetic fleet, quality, ML, optimisation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("run")(run.run)
app.command("sql")(sql.sql)
app.command("synth")(synth.synth)
app.command("train")(train.train)
app.command("predict")(train.predict)
app.command("route")(route.route)
app.add_typer(config.app, name="config")
app.add_typer(network.app, name="network")
app.add_typer(energy.app, name="energy")
app.add_typer(quality.app, name="quality")
app.add_typer(ui.app, name="ui")

_state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO level.")] = False,
) -> None:
    _state["debug"] = debug
    if not (debug or verbose):
        # Prefect would print task tracebacks and MLflow its notices; the CLI reports
        # errors in one line and results in its own summary instead.
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
        logging.getLogger("optuna").setLevel(logging.ERROR)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (usage errors are reported by typer with exit code 2)."""
    try:
        app(args=argv)
    except EvfleetError as exc:
        if _state["debug"]:
            raise
        _fail(str(exc), 2 if isinstance(exc, ConfigError) else 1)


if __name__ == "__main__":
    main()
