"""Background runs: the studio starts real ``evfleet`` processes, records them and follows
them to the end without blocking; the page shows their status and output."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import jobs
from evfleet.storage import WORKSPACE_ENV, Workspace

MAIN = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
WAIT_S = 60


def _wait_done(ws: Workspace, job: jobs.Job) -> str:
    deadline = time.monotonic() + WAIT_S
    while (state := jobs.status(ws, job)) == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    return state


def test_failed_run_is_recorded_with_its_error(workspace: Path) -> None:
    ws = Workspace(workspace)
    started = time.monotonic()
    job = jobs.start(ws, "quality")
    assert time.monotonic() - started < 2, "start returns at once (the run is in the background)"
    assert job.args[:4] == ["quality", "run", "--workspace", str(ws.root)]
    assert _wait_done(ws, job) == "failed"
    assert "no datasets output" in jobs.log_tail(ws, job)
    assert [j.id for j in jobs.list_jobs(ws)] == [job.id]
    assert jobs.list_jobs(ws, kinds=("train",)) == []
    assert jobs.progress(ws, job) == {"stages": [], "reused": []}
    # no Prefect server on this port: no flow runs, no error
    assert jobs.flow_runs("http://127.0.0.1:9/api", job, timeout_s=0.2) == []


def test_unknown_kind_is_refused(workspace: Path) -> None:
    with pytest.raises(ValueError, match="unknown job kind 'route'"):
        jobs.start(Workspace(workspace), "route")


def test_page_launches_a_run_and_shows_it(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKSPACE_ENV, str(workspace))
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    at.switch_page("views/data_generation.py").run()
    assert any("No network yet" in i.value for i in at.info)
    next(b for b in at.button if b.label == "3. Run quality gate").click().run()
    assert not at.exception
    [job] = jobs.list_jobs(Workspace(workspace))
    assert job.kind == "quality"
    assert _wait_done(Workspace(workspace), job) == "failed"
    at.run()
    shown = "\n".join(m.value for m in at.markdown)
    assert "evfleet quality run" in shown
    assert "failed" in shown
    assert any("no datasets output" in c.value for c in at.code)


def test_progress_tells_built_from_reused_stage_outputs(workspace: Path) -> None:
    ws = Workspace(workspace)
    old_id, new_id = "0123456789abcdef", "fedcba9876543210"
    with ws.stage_writer("network", old_id):
        pass
    job = jobs.Job("j1", "synth", [], time.time(), 0, None)
    with ws.stage_writer("datasets", new_id):
        pass
    job.folder(ws).mkdir(parents=True)
    job.log_path(ws).write_text(f"network {old_id} reused\ndataset {new_id} built\n")
    info = jobs.progress(ws, job, n_chunks=4)
    assert info["stages"] == [f"datasets {new_id}"]
    assert info["reused"] == [f"network {old_id}"]
    assert info["chunks"] == (0, 4)


def test_noise_floor_job_runs_the_bench_script(workspace: Path) -> None:
    ws = Workspace(workspace)
    job = jobs.start(ws, "noise_floor")
    assert jobs.describe(job.kind) == "python bench/bench_noise_floor.py --held-out"
    assert job.args == ["--held-out", "--workspace", str(ws.root)]
    assert _wait_done(ws, job) == "failed"
    assert "no dataset" in jobs.log_tail(ws, job)
    assert not (ws.root / "noise_floor").exists()
    assert jobs.flow_runs("http://127.0.0.1:9/api", job) == []
