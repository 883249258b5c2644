"""The ``evfleet`` command line: one sub-command per stage, plus sql, config and ui.

Errors a user can cause (:class:`evfleet.errors.EvfleetError`) print one clear message and
exit non-zero (2 for configuration errors, 1 otherwise); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import Annotated, Any, NoReturn

import typer

from evfleet.errors import ConfigError, EvfleetError
from flows import env
from flows.commands import (
    config,
    energy,
    network,
    optimize,
    quality,
    route,
    run,
    sql,
    synth,
    train,
    ui,
)
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
app.command("optimize")(optimize.optimize)
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
    env.set_verbose(debug or verbose)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _fail(message: str, code: int) -> NoReturn:
    # The message is printed verbatim (no rich markup): it may hold brackets or paths.
    err_console.print("[bold red]error:[/bold red] ", end="", highlight=False)
    err_console.print(message, highlight=False, soft_wrap=True, markup=False)
    sys.exit(code)


_RST_LITERAL = re.compile(r"``(.+?)``")
_RST_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj):`~?([^`]+)`")


def plain_text(text: str) -> str:
    """Help text without reStructuredText markup: ``x`` and :func:`x` become x."""
    return _RST_ROLE.sub(r"\1", _RST_LITERAL.sub(r"\1", text))


def _plain_help(command: Any) -> None:
    """Strip docstring markup from every command's and option's help, recursively."""
    for item in (command, *command.params):
        for attr in ("help", "short_help", "epilog"):
            value = getattr(item, attr, None)
            if isinstance(value, str):
                setattr(item, attr, plain_text(value))
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


def cli_command() -> Any:
    """The click command behind :data:`app`, with plain-text help."""
    command = typer.main.get_command(app)
    _plain_help(command)
    return command


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: every error a user can cause is one line on stderr.

    Exit codes: 2 for usage and configuration errors, 1 for other errors.
    """
    command = cli_command()
    try:
        code = command.main(args=argv, prog_name="evfleet", standalone_mode=False)
    except typer.Abort:
        _fail("aborted", 1)
    except typer.TyperException as exc:  # usage errors of the (vendored) click parser
        message = plain_text(exc.format_message()).strip()
        code = int(getattr(exc, "exit_code", 2))
        if not message:  # no arguments: the help was shown already
            sys.exit(code)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _fail(message + hint, code)
    except EvfleetError as exc:
        if _state["debug"]:
            raise
        _fail(str(exc), 2 if isinstance(exc, ConfigError) else 1)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
