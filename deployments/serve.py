"""Serve the deployments declared in ``prefect.yaml`` from one local process.

``prefect.yaml`` is the single place where deployments and schedules are declared; this
module turns its entries into runner deployments (``flow.to_deployment``) so that a laptop
can run them without a work pool: ``python -m deployments.serve`` (``make serve``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any, cast

import yaml
from prefect import Flow, serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

PROJECT_DIR = Path(__file__).resolve().parents[1]


def load_deployment_specs(path: Path = PROJECT_DIR / "prefect.yaml") -> list[dict[str, Any]]:
    """The ``deployments`` entries of ``prefect.yaml`` (YAML anchors resolved)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    specs: list[dict[str, Any]] = data.get("deployments") or []
    return specs


def load_flow(entrypoint: str) -> Flow[Any, Any]:
    """Import ``path/to/file.py:flow_name`` relative to the project directory."""
    file_part, _, name = entrypoint.partition(":")
    module_name = Path(file_part).with_suffix("").as_posix().replace("/", ".")
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    spec = importlib.util.find_spec(module_name)
    if spec is None:
        msg = f"entrypoint {entrypoint!r}: module {module_name} not found"
        raise ValueError(msg)
    module = importlib.import_module(module_name)
    obj = getattr(module, name, None)
    if not isinstance(obj, Flow):
        msg = f"entrypoint {entrypoint!r} is not a Prefect flow"
        raise ValueError(msg)
    return obj


def build_deployments(specs: list[dict[str, Any]]) -> list[RunnerDeployment]:
    """Runner deployments for ``specs`` with their cron schedules and parameters."""
    deployments = []
    for spec in specs:
        flow = load_flow(spec["entrypoint"])
        schedules = [
            Cron(s["cron"], timezone=s.get("timezone"), active=s.get("active", True))
            for s in spec.get("schedules") or []
        ]
        deployment = cast(
            RunnerDeployment,
            flow.to_deployment(
                name=spec["name"],
                description=spec.get("description"),
                tags=spec.get("tags"),
                parameters=spec.get("parameters") or {},
                schedules=schedules,
            ),
        )
        deployments.append(deployment)
    return deployments


def main() -> None:
    """Serve every deployment of prefect.yaml until interrupted."""
    serve(*build_deployments(load_deployment_specs()))


if __name__ == "__main__":
    main()
