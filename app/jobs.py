"""Background stage runs launched from the studio: ``evfleet`` CLI subprocesses.

Each run is a Prefect flow run (the CLI runs the stage's flow, against ``PREFECT_API_URL``
when a server is up, else against its own local server), so the page that starts it never
blocks: it records the job under ``<workspace>/studio/jobs/`` (command, pid, log) and polls.
Progress comes from the workspace itself (committed manifests, staged vehicle chunks), the
same signals as the CLI's progress bar, plus the flow runs the Prefect API lists.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import flows
from evfleet.storage import STAGES, Workspace, atomic_write_json, atomic_write_text
from flows.commands.progress import chunks_done, new_manifests

JOBS_DIR: Final = Path("studio") / "jobs"
PROJECT: Final = Path(flows.__file__).resolve().parents[1]
COMMANDS: Final = {
    "network": ("network", "build"),
    "synth": ("synth",),
    "quality": ("quality", "run"),
    "train": ("train",),
    "optimize": ("optimize",),
    "noise_floor": ("--held-out",),
}
"""Job kind -> ``evfleet`` sub-command (or the script's arguments, see :data:`SCRIPTS`)."""
SCRIPTS: Final = {"noise_floor": PROJECT / "bench" / "bench_noise_floor.py"}
"""Job kinds that run a script of the project instead of the ``evfleet`` CLI."""
FLOW_NAMES: Final = {
    "network": ("network",),
    "synth": ("synthesize", "network"),
    "quality": ("quality",),
    "train": ("train",),
    "optimize": ("optimize",),
    "noise_floor": (),
}
"""Job kind -> Prefect flow names its run starts (links are shown for these)."""

STAGE_ID: Final = re.compile(r"\b[0-9a-f]{16}\b")
"""How stage ids look in a command's output (see :func:`evfleet.storage.stage_id`)."""

_PROCS: dict[str, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class Job:
    """One background run of an ``evfleet`` command."""

    id: str
    kind: str
    args: list[str]
    started_at: float
    pid: int
    config: str | None

    @staticmethod
    def folder(ws: Workspace) -> Path:
        return ws.root / JOBS_DIR

    def log_path(self, ws: Workspace) -> Path:
        return self.folder(ws) / f"{self.id}.log"

    def rc_path(self, ws: Workspace) -> Path:
        return self.folder(ws) / f"{self.id}.rc"

    @property
    def started(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.started_at, tz=dt.UTC)


def _launcher(kind: str) -> list[str]:
    """How a job kind starts: ``python -m flows.cli`` or ``python <script>``."""
    if kind in SCRIPTS:
        return [sys.executable, str(SCRIPTS[kind])]
    return [sys.executable, "-m", "flows.cli"]


def describe(kind: str) -> str:
    """The command a user would type for a job kind."""
    if kind in SCRIPTS:
        return " ".join(["python", str(SCRIPTS[kind].relative_to(PROJECT)), *COMMANDS[kind]])
    return " ".join(["evfleet", *COMMANDS[kind]])


def _child_env(prefect_api: str | None) -> dict[str, str]:
    env = os.environ.copy()
    project = str(PROJECT)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (project, env.get("PYTHONPATH")) if p)
    if prefect_api:
        env["PREFECT_API_URL"] = prefect_api
    return env


def _wait(job: Job, ws: Workspace, proc: subprocess.Popen[bytes]) -> None:
    code = proc.wait()
    atomic_write_text(job.rc_path(ws), f"{code}\n")


def start(
    ws: Workspace,
    kind: str,
    *,
    config: Path | None = None,
    extra: list[str] | None = None,
    prefect_api: str | None = None,
) -> Job:
    """Launch a job of ``kind`` on the workspace in the background and record it."""
    if kind not in COMMANDS:
        msg = f"unknown job kind {kind!r}; expected one of {', '.join(COMMANDS)}"
        raise ValueError(msg)
    args = [*COMMANDS[kind], "--workspace", str(ws.root)]
    if config is not None:
        args += ["--config", str(config)]
    args += extra or []
    folder = Job.folder(ws)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    job_id = f"{stamp}-{kind}-{uuid.uuid4().hex[:6]}"
    log = folder / f"{job_id}.log"
    started = time.time()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*_launcher(kind), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=_child_env(prefect_api),
            start_new_session=True,
        )
    job = Job(job_id, kind, args, started, proc.pid, str(config) if config else None)
    atomic_write_json(folder / f"{job_id}.json", asdict(job))
    _PROCS[job_id] = proc
    threading.Thread(target=_wait, args=(job, ws, proc), daemon=True).start()
    return job


def list_jobs(ws: Workspace, *, kinds: tuple[str, ...] | None = None) -> list[Job]:
    """Recorded jobs of the workspace, newest first (optionally only some kinds)."""
    folder = Job.folder(ws)
    if not folder.is_dir():
        return []
    jobs = [Job(**json.loads(p.read_text(encoding="utf-8"))) for p in folder.glob("*.json")]
    jobs = [j for j in jobs if kinds is None or j.kind in kinds]
    return sorted(jobs, key=lambda j: j.started_at, reverse=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status(ws: Workspace, job: Job) -> str:
    """``running``, ``succeeded``, ``failed`` or ``lost`` (the studio restarted mid-run)."""
    rc = job.rc_path(ws)
    if rc.is_file():
        return "succeeded" if rc.read_text(encoding="utf-8").strip() == "0" else "failed"
    proc = _PROCS.get(job.id)
    if proc is not None:
        return "running"
    return "running" if _alive(job.pid) else "lost"


def log_tail(ws: Workspace, job: Job, *, lines: int = 15) -> str:
    """The last lines of the job's output (progress bars' redraws collapsed)."""
    path = job.log_path(ws)
    if not path.is_file():
        return ""
    text = path.read_bytes()[-20_000:].decode("utf-8", errors="replace")
    kept = [line.split("\r")[-1].rstrip() for line in text.splitlines()]
    return "\n".join([line for line in kept if line][-lines:])


def progress(ws: Workspace, job: Job, n_chunks: int | None = None) -> dict[str, Any]:
    """What the job has produced so far: stage outputs and simulated vehicle chunks.

    ``stages`` lists ``"<stage> <id>"`` committed since the job started (built) and
    ``reused`` the complete stage outputs its output names without rebuilding them.
    """
    built = new_manifests(ws.root, job.started_at)
    out: dict[str, Any] = {"stages": built, "reused": _reused(ws, job, set(built))}
    if job.kind == "synth" and n_chunks:
        out["chunks"] = (min(chunks_done(ws.root), n_chunks), n_chunks)
    return out


def _reused(ws: Workspace, job: Job, built: set[str]) -> list[str]:
    path = job.log_path(ws)
    if not path.is_file():
        return []
    ids = dict.fromkeys(STAGE_ID.findall(path.read_text(encoding="utf-8", errors="replace")))
    found = [f"{stage} {sid}" for sid in ids for stage in STAGES if ws.is_complete(stage, sid)]
    return [item for item in found if item not in built]


def flow_runs(api_url: str, job: Job, *, timeout_s: float = 1.0) -> list[dict[str, Any]]:
    """Flow runs of the job's flows that started after the job (newest first), if the
    Prefect API at ``api_url`` answers; ``[]`` otherwise (or for jobs without flows)."""
    if not FLOW_NAMES[job.kind]:
        return []
    body = {
        "sort": "START_TIME_DESC",
        "limit": 20,
        "flow_runs": {"start_time": {"after_": job.started.isoformat()}},
        "flows": {"name": {"any_": list(FLOW_NAMES[job.kind])}},
    }
    request = urllib.request.Request(
        f"{api_url.rstrip('/')}/flow_runs/filter",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:
            runs: list[dict[str, Any]] = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return []
    return runs
