"""prefect.yaml declares deployments whose entrypoints and schedules are valid."""

from __future__ import annotations

import pytest
from prefect import Flow

from deployments.serve import build_deployments, load_deployment_specs, load_flow

pytestmark = pytest.mark.integration


def test_every_entrypoint_is_a_flow_with_a_schedule() -> None:
    specs = load_deployment_specs()
    assert {s["name"] for s in specs} >= {"end-to-end-nightly", "network-weekly"}
    for spec in specs:
        assert isinstance(load_flow(spec["entrypoint"]), Flow)
        assert spec["work_pool"]["name"] == "evfleet-local"
        assert all(s["cron"] for s in spec["schedules"])


def test_runner_deployments_carry_the_cron_schedules(prefect_harness: None) -> None:
    deployments = build_deployments(load_deployment_specs())
    by_name = {d.name: d for d in deployments}
    nightly = by_name["end-to-end-nightly"].schedules[0].schedule
    assert nightly.cron == "0 2 * * *"
    assert nightly.timezone == "America/Los_Angeles"


def test_bad_entrypoint_is_reported() -> None:
    with pytest.raises(ValueError, match="not found"):
        load_flow("flows/nope.py:flow")
    with pytest.raises(ValueError, match="not a Prefect flow"):
        load_flow("flows/env.py:configure")
