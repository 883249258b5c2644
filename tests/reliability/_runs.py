"""Helpers of the slow reliability tests that run the real CLI in child processes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from tests.reliability.conftest import child_env

# Eight vehicles: training's vehicle split needs at least three that drove (four gave two).
TINY_CONFIG = """\
network:
  scale: 0.2
fleet:
  n_vehicles: 8
  days: 1
training:
  models: [linear]
  n_trials: 1
  timeout_s: 5
performance:
  synth_chunk_vehicles: 2
"""


def start_cli(*args: str, log: Path) -> subprocess.Popen[bytes]:
    """Start ``evfleet ARGS`` in its own process group, output to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "flows.cli", *args],
            stdout=out, stderr=subprocess.STDOUT, env=child_env(), start_new_session=True,
        )  # fmt: skip


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the command and everything it started (its temporary Prefect server too)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def wait_for(predicate: Callable[[], object], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            msg = f"timed out after {timeout_s} s waiting for {what}"
            raise TimeoutError(msg)
        time.sleep(0.1)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def stage_fingerprint(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of a stage output; the manifest without its creation time."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.name == "manifest.json":
            manifest = json.loads(data)
            manifest.pop("created_at", None)
            data = json.dumps(manifest, sort_keys=True).encode()
        out[str(path.relative_to(folder))] = hashlib.sha256(data).hexdigest()
    return out


def completed(root: Path, stage: str) -> list[Path]:
    folder = root / stage
    return sorted(p.parent for p in folder.glob("*/manifest.json")) if folder.is_dir() else []
