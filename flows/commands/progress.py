"""A rich progress display for long CLI runs, driven by what appears in the workspace.

Flows may run their tasks in threads, processes or on a Dask cluster; watching the files
that stages write (staged Parquet parts, committed manifests) works for all of them.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from evfleet.config import StudioConfig
from evfleet.storage import STAGES
from flows.commands.common import console


def new_manifests(root: Path, since: float) -> list[str]:
    """``"<stage> <id>"`` of every stage output committed since ``since`` (epoch s)."""
    found = []
    for stage in STAGES:
        for manifest in (root / stage).glob("*/manifest.json"):
            if manifest.stat().st_mtime >= since:
                found.append(f"{stage} {manifest.parent.name}")
    return sorted(found)


def chunks_done(root: Path) -> int:
    """Vehicle chunks written so far by a dataset being built (0 when none is)."""
    staging = (root / "datasets").glob(".*.tmp-*")
    return max((len(list(p.glob("vehicle_states/part-*.parquet"))) for p in staging), default=0)


@contextlib.contextmanager
def pipeline_progress(root: Path, config: StudioConfig, *, poll_s: float = 0.5) -> Iterator[None]:
    """Show stage completions and a bar of simulated vehicle chunks while the block runs."""
    n_chunks = math.ceil(config.fleet.n_vehicles / config.performance.synth_chunk_vehicles)
    started = time.time()
    stop = threading.Event()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    bar = progress.add_task("simulating vehicle chunks", total=n_chunks)

    def watch() -> None:
        seen: set[str] = set()
        while not stop.wait(poll_s):
            for item in new_manifests(root, started):
                if item not in seen:
                    seen.add(item)
                    progress.console.print(f"[green]done[/green] {item}")
            progress.update(bar, completed=min(chunks_done(root), n_chunks))

    thread = threading.Thread(target=watch, daemon=True)
    with progress:
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
