"""Stage ids follow the code that defines a stage (no hand-bumped versions) + retry policy."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from evfleet import stages
from evfleet.config import StudioConfig
from evfleet.errors import InputDataError, WorkspaceError
from evfleet.storage import Workspace, source_fingerprint
from tasks import network as network_tasks
from tasks import quality as quality_tasks
from tasks import registry as registry_tasks
from tasks import synthesize as synth_tasks
from tasks import train as train_tasks
from tasks.common import IO_RETRIES, stage_cache_key, transient_failure


@pytest.fixture
def suite_pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throw-away package standing in for a suite definition."""
    pkg = tmp_path / "fake_suites"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""Fake suites."""\n')
    (pkg / "rules.py").write_text("MAX_KWH = 60.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    return pkg


def test_fingerprint_is_stable_and_follows_the_source(suite_pkg: Path) -> None:
    first = source_fingerprint("fake_suites")
    assert source_fingerprint("fake_suites") == first
    assert len(first) == 16
    (suite_pkg / "rules.py").write_text("MAX_KWH = 61.0\n")
    assert source_fingerprint("fake_suites") != first
    assert source_fingerprint("fake_suites", "evfleet.schema") != source_fingerprint("fake_suites")
    with pytest.raises(WorkspaceError, match="no_such_module"):
        source_fingerprint("no_such_module")


def test_quality_and_feature_ids_change_when_their_code_changes(
    suite_pkg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = StudioConfig()
    real_quality = stages.quality_id(cfg, "abc")
    monkeypatch.setattr(stages, "QUALITY_SOURCES", ("fake_suites",))
    monkeypatch.setattr(stages, "FEATURE_SOURCES", ("fake_suites",))
    before_q = stages.quality_id(cfg, "abc")
    before_f = stages.features_id("abc", cfg.training)
    assert before_q != real_quality
    (suite_pkg / "rules.py").write_text("MAX_KWH = 55.0  # a suite edit\n")
    assert stages.quality_id(cfg, "abc") != before_q
    assert stages.features_id("abc", cfg.training) != before_f
    assert stages.quality_id(cfg, "abc") == stages.quality_id(cfg, "abc")


class _State:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def result(self) -> None:
        raise self.exc


def test_only_transient_failures_are_retried() -> None:
    assert IO_RETRIES["retries"] >= 1
    assert transient_failure(None, None, _State(OSError("connection reset")))  # type: ignore[arg-type]
    assert transient_failure(None, None, _State(RuntimeError("database is locked")))  # type: ignore[arg-type]
    assert not transient_failure(None, None, _State(InputDataError("bad file")))  # type: ignore[arg-type]
    for task in (train_tasks.tune_family_task, registry_tasks.register_champion_task):
        assert task.retries == IO_RETRIES["retries"]
        assert task.retry_condition_fn is transient_failure
    assert network_tasks.build_network_task.retry_condition_fn is transient_failure
    for keyed in (
        quality_tasks.validate_dataset_task,
        synth_tasks.plan_dataset_task,
        synth_tasks.finalize_dataset_task,
        network_tasks.build_network_task,
        train_tasks.build_features_task,
    ):
        assert keyed.cache_key_fn is not None, keyed.name


def test_tasks_of_one_stage_cache_their_own_results(tmp_path: Path) -> None:
    ws = Workspace(tmp_path).ensure()
    with ws.stage_writer("datasets", "abc123", meta={}) as tmp:
        (tmp / "x.txt").write_text("x")
    key_fn = stage_cache_key("datasets", lambda p: "abc123")
    params = {"workspace": str(tmp_path)}
    plan = key_fn(SimpleNamespace(task=synth_tasks.plan_dataset_task), params)  # type: ignore[arg-type]
    final = key_fn(SimpleNamespace(task=synth_tasks.finalize_dataset_task), params)  # type: ignore[arg-type]
    assert plan is not None
    assert final is not None
    assert plan != final  # else finalize would be handed plan's cached result
    missing = stage_cache_key("datasets", lambda p: "other")
    assert missing(SimpleNamespace(task=synth_tasks.plan_dataset_task), params) is None  # type: ignore[arg-type]
