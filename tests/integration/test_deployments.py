"""prefect.yaml deployments: valid entrypoints and schedules, and flows that do real work.

Each deployment's flow is driven with the parameters prefect.yaml gives it (plus a small
config file and a temporary workspace), the way a worker would run it.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect import Flow
from prefect.exceptions import ParameterTypeError

from deployments.serve import build_deployments, load_deployment_specs, load_flow
from evfleet.errors import WorkspaceBusyError
from evfleet.storage import Workspace, read_table, stage_table
from expectations.report import QualityReport
from flows.fleet_day import previous_day

pytestmark = pytest.mark.integration

SMALL_CONFIG = {
    "network": {"scale": 0.1, "seed": 3},
    "fleet": {"n_vehicles": 6, "days": 2, "seed": 5},
    "training": {"models": ["linear"], "n_trials": 1, "timeout_s": 30},
    "performance": {"synth_chunk_vehicles": 3},
}


def _spec(name: str) -> dict[str, Any]:
    return next(s for s in load_deployment_specs() if s["name"] == name)


def _run(name: str, **params: Any) -> Any:
    """Run deployment ``name``'s flow with its prefect.yaml parameters updated by ``params``."""
    spec = _spec(name)
    return load_flow(spec["entrypoint"])(**{**(spec.get("parameters") or {}), **params})


def test_every_entrypoint_imports_and_is_a_flow() -> None:
    specs = load_deployment_specs()
    assert {s["name"] for s in specs} == {
        "fleet-day-nightly",
        "retrain-weekly",
        "synthesize",
        "optimize",
    }
    for spec in specs:
        assert isinstance(load_flow(spec["entrypoint"]), Flow)
        assert spec["work_pool"]["name"] == "evfleet-local"
        for schedule in spec.get("schedules") or []:
            assert schedule["cron"]
            assert schedule["timezone"] == "America/Los_Angeles"


def test_runner_deployments_carry_the_cron_schedules(prefect_harness: None) -> None:
    by_name = {d.name: d for d in build_deployments(load_deployment_specs())}
    nightly = by_name["fleet-day-nightly"].schedules[0].schedule
    assert (nightly.cron, nightly.timezone) == ("0 2 * * *", "America/Los_Angeles")
    assert by_name["retrain-weekly"].schedules[0].schedule.cron == "0 3 * * 1"
    assert not by_name["synthesize"].schedules


def test_synthesis_parameters_are_a_typed_form() -> None:
    schema = build_deployments([_spec("synthesize")])[0]._parameter_openapi_schema.model_dump()
    request = schema["definitions"]["SynthesisRequest"]["properties"]
    assert {"vehicles", "days", "start_date", "seed", "runner", "dask_address"} <= set(request)
    assert request["vehicles"]["anyOf"][0] == {"minimum": 1, "maximum": 100_000, "type": "integer"}
    assert request["start_date"]["anyOf"][0] == {"format": "date", "type": "string"}


def test_optimization_parameters_are_a_typed_form() -> None:
    schema = build_deployments([_spec("optimize")])[0]._parameter_openapi_schema.model_dump()
    defs = schema["definitions"]
    request = defs["OptimizationRequest"]["properties"]
    assert {"dataset_id", "strategy", "planning_mode", "horizon_trips", "strict", "runner",
            "dask_address"} == set(request)  # fmt: skip
    strategy = {json.dumps(choice, sort_keys=True) for choice in request["strategy"]["anyOf"]}
    assert json.dumps({"$ref": "#/definitions/Strategy"}) in strategy
    assert json.dumps({"const": "all", "type": "string"}, sort_keys=True) in strategy
    assert set(defs["Strategy"]["enum"]) == {
        "custom",
        "energy_first",
        "cost_conscious",
        "time_critical",
        "balanced",
    }
    assert set(defs["PlanningMode"]["enum"]) == {"myopic", "next_trip", "rolling_horizon"}
    assert request["horizon_trips"]["anyOf"][0] == {"minimum": 1, "maximum": 100, "type": "integer"}


def test_prefect_yaml_parameters_are_the_flows_parameters() -> None:
    for spec in load_deployment_specs():
        accepted = set(inspect.signature(load_flow(spec["entrypoint"]).fn).parameters)
        assert set(spec.get("parameters") or {}) <= accepted, spec["name"]
        # Every deployment's run takes the workspace lock (its flow waits `lock_wait_s`).
        assert {"config_file", "workspace", "lock_wait_s"} <= accepted, spec["name"]


def test_bad_entrypoint_is_reported() -> None:
    with pytest.raises(ValueError, match="not found"):
        load_flow("flows/nope.py:flow")
    with pytest.raises(ValueError, match="not a Prefect flow"):
        load_flow("flows/env.py:configure")


@pytest.mark.parametrize(
    ("scheduled", "expected"),
    [
        # 02:00 PST on 27 Nov is 10:00 UTC: the previous Los Angeles day is 26 Nov.
        ("2026-11-27T10:00:00+00:00", dt.date(2026, 11, 26)),
        # 05:00 UTC on 27 Nov is still 26 Nov in Los Angeles: the UTC date would be wrong.
        ("2026-11-27T05:00:00+00:00", dt.date(2026, 11, 25)),
        # 02:00 PDT, the night clocks spring forward (8 Mar 2026 is a Sunday).
        ("2026-03-09T09:00:00+00:00", dt.date(2026, 3, 8)),
    ],
)
def test_the_nightly_day_is_the_day_before_in_los_angeles(
    scheduled: str, expected: dt.date
) -> None:
    assert previous_day(dt.datetime.fromisoformat(scheduled)) == expected


@pytest.fixture(scope="module")
def studio(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("deployments")
    config = root / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL_CONFIG), encoding="utf-8")
    return {"workspace": str(root / "ws"), "config_file": str(config)}


@pytest.fixture(scope="module")
def nights(studio: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        "first": _run("fleet-day-nightly", day=dt.date(2026, 11, 25), **studio),
        "again": _run("fleet-day-nightly", day="2026-11-25", **studio),
        "next": _run("fleet-day-nightly", day=dt.date(2026, 11, 26), **studio),
    }


def test_fleet_day_synthesises_one_day_gates_it_and_reports_kpis(
    nights: dict[str, dict[str, Any]],
) -> None:
    first = nights["first"]
    _network, dataset, quality, optimised = first["stages"]
    assert [s.stage for s in first["stages"]] == ["network", "datasets", "quality", "optimization"]
    assert QualityReport.read(quality.path).passed
    kpis = read_table(Path(optimised.path) / "kpis.parquet")
    assert set(kpis["side"]) == {"baseline", "optimised"}  # the night is re-planned and scored
    manifest = json.loads((Path(dataset.path) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["days"] == 1
    assert manifest["n_vehicles"] == SMALL_CONFIG["fleet"]["n_vehicles"]
    dates = read_table(stage_table(dataset.path, "datasets", "vehicle_states"))["date"].unique()
    assert [str(d) for d in dates] == ["2026-11-25"]
    assert [k["date"] for k in first["kpis"]] == ["2026-11-25"]
    assert first["kpis"][0]["vehicles"] == SMALL_CONFIG["fleet"]["n_vehicles"]
    assert first["kpis"][0]["distance_km"] > 0


def test_the_same_day_is_a_cache_hit_and_a_new_day_a_new_dataset(
    nights: dict[str, dict[str, Any]],
) -> None:
    first, again, following = (nights[k]["stages"] for k in ("first", "again", "next"))
    assert [s.id for s in again] == [s.id for s in first]
    assert all(s.reused for s in again)
    assert following[0].id == first[0].id  # the network does not depend on the day
    assert following[1].id != first[1].id
    assert following[2].id != first[2].id
    assert following[3].id != first[3].id  # a new day is optimised anew
    assert not following[1].reused


def test_an_empty_day_comes_from_the_scheduled_time(
    studio: dict[str, str], nights: dict[str, dict[str, Any]]
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.flow_engine import run_flow
    from prefect.states import Scheduled

    fleet_day = load_flow(_spec("fleet-day-nightly")["entrypoint"])
    params = {**_spec("fleet-day-nightly")["parameters"], **studio}
    # The 02:00 run of 27 Nov 2026 in Los Angeles (10:00 UTC) simulates 26 Nov.
    when = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run(
            fleet_day, parameters=params, state=Scheduled(scheduled_time=when)
        )
    result = run_flow(fleet_day, flow_run=flow_run, parameters=params)
    assert result["day"] == "2026-11-26"
    assert result["stages"][1].id == nights["next"]["stages"][1].id


def test_retrain_trains_on_the_latest_dataset(
    studio: dict[str, str], nights: dict[str, dict[str, Any]]
) -> None:
    latest = nights["next"]["stages"][1].id
    trained = _run("retrain-weekly", **studio)
    features = Workspace(studio["workspace"]).manifest("features", trained["features"].id)
    assert features["dataset_id"] == latest
    assert trained["champion"].family == "linear"
    assert _run("retrain-weekly", **studio)["features"].reused

    newer = _run("fleet-day-nightly", day=dt.date(2026, 11, 27), **studio)["stages"][1]
    retrained = _run("retrain-weekly", **studio)
    assert retrained["features"].id != trained["features"].id
    assert (
        Workspace(studio["workspace"]).manifest("features", retrained["features"].id)["dataset_id"]
        == newer.id
    )


def test_synthesize_on_demand_takes_the_form(studio: dict[str, str]) -> None:
    form = {"vehicles": 3, "days": 1, "start_date": "2024-02-01", "seed": 7}
    built = _run("synthesize", request=form, **studio)
    fleet = read_table(stage_table(built.path, "datasets", "fleet_info"))
    assert len(fleet) == 3
    assert not built.reused
    assert _run("synthesize", request=form, **studio).id == built.id
    other = _run("synthesize", request={**form, "seed": 8}, **studio)
    assert other.id != built.id


@pytest.mark.parametrize(
    ("name", "params"), [("synthesize", {}), ("optimize", {"request": {"strategy": "all"}})]
)
def test_a_deployment_waits_for_a_busy_workspace_then_fails_clearly(
    studio: dict[str, str], name: str, params: dict[str, Any]
) -> None:
    with (
        Workspace(studio["workspace"]).lock("evfleet synth"),
        pytest.raises(WorkspaceBusyError, match="busy after waiting 1 s: evfleet synth"),
    ):
        _run(name, lock_wait_s=1, **params, **studio)


def test_optimize_on_demand_takes_the_form(
    studio: dict[str, str], nights: dict[str, dict[str, Any]]
) -> None:
    night = nights["first"]["stages"]
    dataset, nightly = night[1], night[3]
    form = {"dataset_id": dataset.id, "strategy": "balanced", "planning_mode": "next_trip"}
    planned = _run("optimize", request=form, **studio)
    assert planned.stage == "optimization"
    assert planned.id != nightly.id  # another strategy and mode than the nightly default
    assert not planned.reused
    manifest = Workspace(studio["workspace"]).manifest("optimization", planned.id)
    assert manifest["dataset_id"] == dataset.id
    assert manifest["runs"] == ["balanced/next_trip"]
    again = _run("optimize", request=form, **studio)
    assert (again.id, again.reused) == (planned.id, True)
    latest = _run("optimize", request={"strategy": "balanced", "planning_mode": "next_trip"},
                  **studio)  # fmt: skip
    assert latest.id != planned.id  # no dataset given: the latest one (another night)
    latest_dataset = Workspace(studio["workspace"]).latest("datasets")
    assert Workspace(studio["workspace"]).manifest("optimization", latest.id)["dataset_id"] == (
        latest_dataset
    )


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"strategy": "fastest"}, "strategy"),
        ({"planning_mode": "clairvoyant"}, "planning_mode"),
        ({"horizon_trips": 0}, "horizon_trips"),
        ({"strategy": "balanced", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_optimization_form_is_a_validation_error(
    studio: dict[str, str], form: dict[str, Any], field: str
) -> None:
    before = sorted(Path(studio["workspace"]).glob("optimization/*"))
    with pytest.raises(ParameterTypeError, match=field):
        _run("optimize", request=form, **studio)
    assert sorted(Path(studio["workspace"]).glob("optimization/*")) == before
