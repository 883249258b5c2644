"""SIGKILL during the network and synthesis stages, at seeded moments, then rerun: the rerun
completes and its outputs are byte-identical to an uninterrupted run (slow: real CLI runs)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

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
