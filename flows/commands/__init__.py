"""Typer sub-apps of the ``evfleet`` CLI, one module per topic."""
