"""The live view of background runs shared by the Data Generation and Training pages.

A fragment re-runs every second while a job of the page's kinds is running, so the rest
of the page stays responsive; when a job ends the whole page re-runs once to show the new
stage outputs.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import streamlit as st

from app import common, jobs
from evfleet.config import StudioConfig, load_config
from evfleet.errors import ConfigError
from evfleet.storage import Workspace

POLL_S = 1.0
SHOWN_JOBS = 4
STATUS_COLOUR = {"running": "orange", "succeeded": "green", "failed": "red", "lost": "gray"}


def launch(ws: Workspace, kind: str, config: Path | None, extra: list[str] | None = None) -> None:
    """Start a job; runs report to the Prefect server when one is up."""
    api = common.prefect_api_url() if common.prefect_ui_url() else None
    job = jobs.start(ws, kind, config=config, extra=extra, prefect_api=api)
    st.session_state[f"jobs.seen.{job.id}"] = "running"
    st.toast(f"started `{jobs.describe(kind)}` in the background ({job.id})")


def _chunks(job: jobs.Job) -> int | None:
    try:
        cfg = load_config(job.config) if job.config else StudioConfig()
    except ConfigError:
        return None
    return math.ceil(cfg.fleet.n_vehicles / cfg.performance.synth_chunk_vehicles)


def _show_job(ws: Workspace, job: jobs.Job, state: str, prefect_ui: str | None) -> None:
    elapsed = time.time() - job.started_at
    title = (
        f"**{jobs.describe(job.kind)}** · :{STATUS_COLOUR[state]}[{state}] · "
        f"started {job.started:%H:%M:%S} UTC"
        + (f" · {elapsed:,.0f} s" if state == "running" else "")
    )
    with st.container(border=True):
        st.markdown(title)
        info = jobs.progress(ws, job, _chunks(job) if job.kind == "synth" else None)
        if "chunks" in info and state == "running":
            done, total = info["chunks"]
            st.progress(done / total if total else 0.0, text=f"vehicle chunks {done}/{total}")
        if info["stages"]:
            st.markdown("Built: " + ", ".join(f"`{s}`" for s in info["stages"]))
        if info["reused"]:
            st.markdown("Reused (cache hit): " + ", ".join(f"`{s}`" for s in info["reused"]))
        if prefect_ui:
            runs = jobs.flow_runs(common.prefect_api_url(), job)
            if runs:
                st.markdown(
                    "Prefect: "
                    + ", ".join(
                        f"[{r['name']} ({r.get('state_name') or r.get('state_type')})]"
                        f"({prefect_ui}/runs/flow-run/{r['id']})"
                        for r in runs
                    )
                )
        tail = jobs.log_tail(ws, job)
        if tail:
            with st.expander("output", expanded=state == "failed"):
                st.code(tail, language=None)


def jobs_panel(ws: Workspace, kinds: tuple[str, ...]) -> None:
    """Recent jobs of ``kinds`` with live status, progress, stage ids and Prefect links."""
    recent = jobs.list_jobs(ws, kinds=kinds)[:SHOWN_JOBS]
    states = {job.id: jobs.status(ws, job) for job in recent}
    running = any(s == "running" for s in states.values())

    @st.fragment(run_every=POLL_S if running else None)
    def live() -> None:
        current = jobs.list_jobs(ws, kinds=kinds)[:SHOWN_JOBS]
        if not current:
            st.caption("No runs started from the studio yet.")
            return
        prefect_ui = common.prefect_ui_url()
        finished_now = False
        for job in current:
            state = jobs.status(ws, job)
            seen = st.session_state.get(f"jobs.seen.{job.id}")
            if seen == "running" and state != "running":
                finished_now = True
            st.session_state[f"jobs.seen.{job.id}"] = state
            _show_job(ws, job, state, prefect_ui)
        if finished_now:
            common.stage_runs.clear()
            st.rerun()

    live()
