"""Fixtures of the studio tests: one fixture workspace for the whole session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.studio_workspace import build_studio_workspace


@pytest.fixture(scope="session")
def studio_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The studio fixture workspace (network, dataset, quality, MLflow runs, catalog)."""
    return build_studio_workspace(tmp_path_factory.mktemp("studio") / "ws")
