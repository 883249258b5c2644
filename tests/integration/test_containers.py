"""The container stack's files agree with the code: commands, ports, health paths, binding.

No container engine is needed: compose.yaml and the Dockerfile are read as data and every
service's command is checked against the installed project (console scripts and their
sub-commands and options), every health check against the route its server really serves.
"""

from __future__ import annotations

import importlib.metadata
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from evfleet.config import Runner, load_config
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration

COMPOSE = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
APP_SERVICES = {name: s for name, s in SERVICES.items() if s.get("image") == "evfleet:latest"}
DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")

# Health route of each server, as the installed libraries define it (checked below).
HEALTH_PATHS = {
    "prefect-server": "/api/health",
    "mlflow": "/health",
    "dashboard": "/_stcore/health",
    "dask-scheduler": "/health",
    "dask-worker-1": "/health",
    "dask-worker-2": "/health",
    "prefect-worker": "/health",
}


def _commands(service: dict[str, Any]) -> list[list[str]]:
    """The command lines a service runs (``sh -c "a && b && exec c"`` gives three)."""
    command = service["command"]
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part.strip().removeprefix("exec ")) for part in command[2].split("&&")]
    return [command]


def _health_url(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    (url,) = re.findall(r"http://[^'\" ]+", " ".join(test))
    return url


def _option_value(command: list[str], option: str) -> str:
    return command[command.index(option) + 1]


def test_every_service_has_a_health_check_and_restarts() -> None:
    assert set(SERVICES) == {"postgres", *HEALTH_PATHS}
    for name, service in SERVICES.items():
        assert service["healthcheck"]["test"], name
        assert service["restart"] == "unless-stopped", name


def test_health_checks_use_the_routes_the_servers_serve() -> None:
    for name, path in HEALTH_PATHS.items():
        assert urlsplit(_health_url(SERVICES[name])).path == path, name
    import distributed.http.health
    import mlflow.server
    import prefect.server.api.server as prefect_server
    from prefect.workers.server import build_healthcheck_server

    assert ("/health", distributed.http.health.HealthHandler, {}) in distributed.http.health.routes
    assert "/health" in {rule.rule for rule in mlflow.server.app.url_map.iter_rules()}
    api = prefect_server.create_api_app()
    assert "/health" in {getattr(r, "path", None) for r in api.routes}
    assert 'app.mount("/api"' in Path(prefect_server.__file__).read_text(encoding="utf-8")
    assert build_healthcheck_server  # the worker's /health server (--with-healthcheck)
    streamlit_routes = importlib.util.find_spec("streamlit.web.server.starlette.starlette_routes")
    assert streamlit_routes is not None
    assert streamlit_routes.origin is not None
    assert "_stcore/health" in Path(streamlit_routes.origin).read_text(encoding="utf-8")


def test_health_checks_and_published_ports_match_the_commands() -> None:
    ports = {
        "prefect-server": _option_value(SERVICES["prefect-server"]["command"], "--port"),
        "mlflow": _option_value(SERVICES["mlflow"]["command"], "--port"),
        "dashboard": _option_value(SERVICES["dashboard"]["command"], "--port"),
        "dask-scheduler": _option_value(
            SERVICES["dask-scheduler"]["command"], "--dashboard-address"
        ).lstrip(":"),
        "dask-worker-1": _option_value(
            SERVICES["dask-worker-1"]["command"], "--dashboard-address"
        ).lstrip(":"),
        "prefect-worker": SERVICES["prefect-worker"]["environment"][
            "PREFECT_WORKER_WEBSERVER_PORT"
        ],
    }
    assert ports == {
        "prefect-server": "4200",
        "mlflow": "5000",
        "dashboard": "8501",
        "dask-scheduler": "8787",
        "dask-worker-1": "8789",
        "prefect-worker": "8080",
    }
    for name, port in ports.items():
        assert urlsplit(_health_url(SERVICES[name])).port == int(port), name
        for published in SERVICES[name].get("ports", []):
            assert published.rsplit(":", 1)[1] == port, name


def test_ports_are_published_on_localhost_only() -> None:
    published = [p for s in SERVICES.values() for p in s.get("ports", [])]
    assert len(published) == 4
    for port in published:
        host, _host_port, _container_port = port.split(":")
        assert host == "127.0.0.1", port


def test_services_reach_each_other_where_the_code_looks() -> None:
    env = APP_SERVICES["prefect-worker"]["environment"]
    api = urlsplit(env["PREFECT_API_URL"])
    assert (api.hostname, str(api.port), api.path) == ("prefect-server", "4200", "/api")
    mlflow_uri = urlsplit(env["EVFLEET_MLFLOW_TRACKING_URI"])
    assert (mlflow_uri.hostname, str(mlflow_uri.port)) == ("mlflow", "5000")
    scheduler = SERVICES["dask-scheduler"]["command"]
    cluster = load_config(REPO_ROOT / env["EVFLEET_CONFIG"].removeprefix("/app/"))
    assert cluster.performance.runner is Runner.DASK
    assert (
        cluster.performance.dask_address
        == f"tcp://dask-scheduler:{scheduler[scheduler.index('--port') + 1]}"
    )
    for name in ("dask-worker-1", "dask-worker-2"):
        assert SERVICES[name]["command"][2] == cluster.performance.dask_address
    for name, service in APP_SERVICES.items():
        assert "workspace:/workspace" in service["volumes"][-1], name
        assert service["environment"]["EVFLEET_WORKSPACE"] == "/workspace", name


def test_every_command_exists_in_the_installed_project() -> None:
    scripts = {ep.name for ep in importlib.metadata.entry_points(group="console_scripts")}
    seen: set[tuple[str, ...]] = set()
    dashboard_pending = False
    for name, service in APP_SERVICES.items():
        for command in _commands(service):
            assert command[0] in scripts, f"{name}: no console script {command[0]!r}"
            words = [w for w in command[1:] if not w.startswith("-")]
            options = [w.split("=")[0] for w in command[1:] if w.startswith("--")]
            subcommand = tuple(w for w in words if re.fullmatch(r"[a-z][a-z-]*", w))[:2]
            if command[0] == "evfleet" and subcommand == ("ui", "dashboard"):
                dashboard_pending = not _has_dashboard_command()
                if dashboard_pending:
                    continue
            key = (command[0], *subcommand)
            if key in seen:
                continue
            seen.add(key)
            help_text = _help(command[0], subcommand)
            for option in options:
                if option == "--no-prompt":  # a global option of the prefect CLI
                    assert option in _help("prefect", ()), name
                    continue
                assert option in help_text, f"{name}: {' '.join(key)} has no option {option}"
    if dashboard_pending:
        pytest.skip("`evfleet ui dashboard` is not in this checkout yet (the dashboard branch)")


def _help(script: str, subcommand: tuple[str, ...]) -> str:
    exe = Path(sys.executable).with_name(script)
    with tempfile.TemporaryDirectory(prefix="evfleet-help-home-") as home:
        run = subprocess.run(
            [str(exe), *subcommand, "--help"],
            capture_output=True, text=True, timeout=120, check=False,
            env={
                "COLUMNS": "200", "PATH": str(exe.parent), "HOME": home,
                "PYTHONPATH": str(REPO_ROOT),  # this checkout's evfleet, not the venv's
            },
        )  # fmt: skip
    assert run.returncode == 0, f"{script} {' '.join(subcommand)} --help: {run.stderr[-500:]}"
    return run.stdout


def _has_dashboard_command() -> bool:
    """Whether ``evfleet ui`` has a ``dashboard`` command (from the dashboard branch)."""
    from flows.cli import app

    ui = next(g for g in app.registered_groups if g.name == "ui")
    assert ui.typer_instance is not None
    names = {
        c.name or (c.callback.__name__ if c.callback else "")
        for c in ui.typer_instance.registered_commands
    }
    return "dashboard" in names


def test_the_image_is_slim_non_root_with_a_cached_dependency_layer() -> None:
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", DOCKERFILE, re.MULTILINE)
    user = re.findall(r"^USER (\S+)$", DOCKERFILE, re.MULTILINE)
    assert user
    assert user[-1] not in {"root", "0"}
    lines = DOCKERFILE.splitlines()
    deps = next(i for i, line in enumerate(lines) if "pip install -r" in line)
    copy_pyproject = lines.index("COPY pyproject.toml ./")
    copy_source = lines.index("COPY . /app")
    assert copy_pyproject < deps < copy_source
    assert "pip install --no-deps" in "\n".join(lines[copy_source:])
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "optional-dependencies']['server']" in DOCKERFILE
    for requirement in extras["project"]["optional-dependencies"]["server"]:
        dist = re.split(r"[<>=!~ \[]", requirement)[0]
        assert importlib.metadata.version(dist)
    ignored = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "evfleet-data"} <= set(ignored)
