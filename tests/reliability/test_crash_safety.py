"""SIGKILL during a stage, at seeded moments, then rerun: the rerun completes and its outputs
are byte-identical to an uninterrupted run; a killed run's half-written output is never listed
(slow: real CLI runs on an 8-vehicle, 1-day fleet).

Stages: network and synthesis (``evfleet synth``), then quality (``evfleet quality run``),
train (``evfleet train``) and optimisation (``evfleet optimize``) on a copy of the reference
workspace. Quality compares its results table and report without their creation times (and the
report's elapsed time and absolute docs path), the Data Docs' static files byte for byte and
their file list with GX's run timestamps masked (GX stamps run times and random element ids
into its HTML pages, which are therefore not compared byte for byte). Training compares what
is deterministic: the features stage output byte for byte, the champion's held-out metrics
(timing metrics such as ``tuning_s`` excepted) and its predictions on the features table,
exactly. The MLflow store itself is not compared: run
ids, timestamps and the pickled model's bytes differ between any two runs.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evfleet.storage import read_table
from tests.reliability._runs import (
    TINY_CONFIG,
    completed,
    kill_group,
    stage_fingerprint,
    start_cli,
    wait_for,
)

pytestmark = pytest.mark.slow
RUN_TIMEOUT_S = 600


def _synth(root: Path, config: Path, log: Path) -> None:
    proc = start_cli("synth", "-c", str(config), "-w", str(root), log=log)
    try:
        assert proc.wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text()
    finally:
        kill_group(proc)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, float]]:
    """An uninterrupted run, and how long its network and synthesis phases took."""
    base = tmp_path_factory.mktemp("crash")
    config = base / "tiny.yaml"
    config.write_text(TINY_CONFIG)
    root = base / "reference"
    started = time.monotonic()
    proc = start_cli("synth", "-c", str(config), "-w", str(root), log=base / "reference.log")
    wait_for(lambda: completed(root, "network"), timeout_s=RUN_TIMEOUT_S, what="network")
    network_s = time.monotonic() - started
    assert proc.wait(timeout=RUN_TIMEOUT_S) == 0, (base / "reference.log").read_text()
    timing = {"network_s": network_s, "synth_s": time.monotonic() - started - network_s}
    return root, config, timing


@pytest.mark.parametrize("phase", ["network", "synthesise"])
def test_killed_run_reruns_to_identical_bytes(
    phase: str, reference: tuple[Path, Path, dict[str, float]], tmp_path: Path
) -> None:
    ref_root, config, timing = reference
    root = tmp_path / "ws"
    rng = random.Random(f"{phase}-7")
    log = tmp_path / "runs.log"
    for _ in range(2):
        proc = start_cli("synth", "-c", str(config), "-w", str(root), log=log)
        if phase == "network":
            time.sleep(rng.uniform(0.3, 1.0) * timing["network_s"])
        else:
            wait_for(lambda: completed(root, "network"), timeout_s=RUN_TIMEOUT_S, what="network")
            time.sleep(rng.uniform(0.0, 0.9) * timing["synth_s"])
        kill_group(proc)
        # Whatever was half-written is hidden: only complete outputs are listed.
        for stage in ("network", "datasets"):
            for folder in completed(root, stage):
                assert (folder / "manifest.json").is_file()
    _synth(root, config, log)
    for stage in ("network", "datasets"):
        ours, theirs = completed(root, stage), completed(ref_root, stage)
        assert [p.name for p in ours] == [p.name for p in theirs]
        for a, b in zip(ours, theirs, strict=True):
            assert stage_fingerprint(a) == stage_fingerprint(b)
        assert not list((root / stage).glob(".*")), "staging folders left behind"


# stage -> (its folder in the workspace, the CLI command that runs it on the latest dataset)
STAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "quality": ("quality", ("quality", "run")),
    "train": ("features", ("train",)),
    "optimise": ("optimization", ("optimize",)),
}


GX_RUN_TIME = re.compile(r"\d{8}T\d{6}\.\d{6}Z")
REPORT_RUN_KEYS = ("created_at", "elapsed_s", "docs_path")


def _comparable(folder: Path) -> dict[str, str]:
    """:func:`stage_fingerprint`, with a quality output's run-specific parts masked: creation
    times (manifest, report, the ``created_at`` column of ``quality.parquet``), the report's
    elapsed time and absolute docs path, GX run timestamps in Data Docs paths, GX pages."""
    out = {}
    for rel, digest in stage_fingerprint(folder).items():
        masked = digest
        if rel in ("report.json", "manifest.json"):
            doc = json.loads(GX_RUN_TIME.sub("<run time>", (folder / rel).read_text("utf-8")))
            for key in REPORT_RUN_KEYS:
                doc.pop(key, None)
            masked = _sha(json.dumps(doc, sort_keys=True))
        elif rel == "quality.parquet":
            table = read_table(folder / rel).drop(columns="created_at")
            masked = _sha(table.to_json(orient="split", double_precision=15))
        elif rel.startswith("docs/") and rel.endswith(".html"):
            masked = "GX page"
        out[GX_RUN_TIME.sub("<run time>", rel)] = masked
    return out


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _staging(root: Path, folder: str) -> list[Path]:
    stage = root / folder
    return sorted(stage.glob(".*")) if stage.is_dir() else []


def _run_stage(root: Path, config: Path, args: tuple[str, ...], log: Path) -> None:
    proc = start_cli(*args, "-c", str(config), "-w", str(root), log=log)
    try:
        assert proc.wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text()
    finally:
        kill_group(proc)


def _champion(root: Path) -> dict[str, Any]:
    """Held-out metrics of the champion's run and its predictions on the features table."""
    from tasks.mlflow_utils import champion_version, load_champion, use_workspace
    from tasks.train import FEATURE_FILE

    run = use_workspace(root).get_run(champion_version(root).run_id)
    metrics = {
        k: v for k, v in run.data.metrics.items()
        if "/" in k and not k.endswith("_s") and "per_s" not in k
    }  # fmt: skip
    (features,) = completed(root, "features")
    table = read_table(features / FEATURE_FILE)
    predictions = load_champion(root).predict_energy(table)
    return {"metrics": metrics, "predictions": predictions}


def _clean_run(root: Path, config: Path, stage: str) -> tuple[float, float]:
    """Run ``stage`` uninterrupted; the time until its staging folder appeared (Prefect
    start-up included) and the time from then to the end."""
    folder, args = STAGES[stage]
    log = root.parent / "run.log"
    started = time.monotonic()
    proc = start_cli(*args, "-c", str(config), "-w", str(root), log=log)
    try:
        wait_for(
            lambda: _staging(root, folder) or completed(root, folder),
            timeout_s=RUN_TIMEOUT_S, what=f"{stage} staging",
        )  # fmt: skip
        opened_s = time.monotonic() - started
        assert proc.wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text()
    finally:
        kill_group(proc)
    return opened_s, time.monotonic() - started - opened_s


@pytest.fixture(scope="module")
def stage_reference(
    reference: tuple[Path, Path, dict[str, float]], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], tuple[Path, float, float]]:
    """Per stage (made on first use): an uninterrupted run on a copy of the reference
    workspace, and its timings (:func:`_clean_run`)."""
    ref_root, config, _ = reference
    made: dict[str, tuple[Path, float, float]] = {}

    def get(stage: str) -> tuple[Path, float, float]:
        if stage not in made:
            root = tmp_path_factory.mktemp(f"clean-{stage}") / "ws"
            shutil.copytree(ref_root, root)
            made[stage] = (root, *_clean_run(root, config, stage))
        return made[stage]

    return get


@pytest.mark.parametrize("stage", list(STAGES))
def test_killed_stage_reruns_to_identical_bytes(
    stage: str,
    reference: tuple[Path, Path, dict[str, float]],
    stage_reference: Callable[[str], tuple[Path, float, float]],
    tmp_path: Path,
) -> None:
    ref_root, config, _ = reference
    clean, opened_s, stage_s = stage_reference(stage)
    folder, args = STAGES[stage]
    expected = {p.name: _comparable(p) for p in completed(clean, folder)}
    assert expected
    root = tmp_path / "ws"
    shutil.copytree(ref_root, root)
    log = tmp_path / "runs.log"
    rng = random.Random(f"{stage}-7")
    # Kill once during start-up or planning, then twice while the staging folder is written.
    delays = [rng.uniform(0.5, 1.0) * opened_s, *(rng.uniform(0.0, 0.9) * stage_s for _ in "ab")]
    for i, delay in enumerate(delays):
        proc = start_cli(*args, "-c", str(config), "-w", str(root), log=log)
        if i:
            wait_for(lambda: _staging(root, folder) or completed(root, folder),
                     timeout_s=RUN_TIMEOUT_S, what=f"{stage} staging")  # fmt: skip
        time.sleep(delay)
        kill_group(proc)
        # Only complete outputs are listed, and a listed output is the finished one.
        for done in completed(root, folder):
            assert _comparable(done) == expected[done.name]
    _run_stage(root, config, args, log)
    got = {p.name: _comparable(p) for p in completed(root, folder)}
    assert got == expected
    assert not _staging(root, folder), "staging folders left behind"
    if stage == "train":
        import numpy as np

        ours, theirs = _champion(root), _champion(clean)
        assert ours["metrics"] == theirs["metrics"]
        assert len(ours["metrics"]) >= 4
        np.testing.assert_array_equal(
            ours["predictions"].to_numpy(), theirs["predictions"].to_numpy()
        )
