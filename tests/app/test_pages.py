"""Every studio page runs on the fixture workspace, shows its key widgets and data, and the
configuration page reports invalid values inline (``streamlit.testing.v1.AppTest``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from evfleet.storage import WORKSPACE_ENV
from tests.fixtures.studio_workspace import (
    DATASET_ID,
    FAMILIES,
    NETWORK_ID,
    OPT_RUNS,
    OPTIMIZATION_ID,
    QUALITY_ID,
)

MAIN = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
TIMEOUT_S = 60


@pytest.fixture
def app(studio_ws: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(WORKSPACE_ENV, str(studio_ws))
    return AppTest.from_file(MAIN, default_timeout=TIMEOUT_S).run()


def _open(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [str(m.label) + " " + str(m.value) for m in at.metric]
    return "\n".join(parts)


def test_config_page_has_every_section(app: AppTest) -> None:
    assert not app.exception
    assert [t.label for t in app.tabs] == [
        "Fleet mix & drivers", "Charging & tariffs", "Optimisation", "Training budget",
        "Performance", "Road network",
    ]  # fmt: skip
    assert app.number_input(key="cfg.fleet.n_vehicles").value == 50
    assert app.selectbox(key="cfg.optimization.planning_mode").value == "myopic"
    assert app.number_input(key="cfg.optimization.reserve_soc").value == pytest.approx(0.15)
    assert app.number_input(key="cfg.fleet.driver_profiles.commuter").value == pytest.approx(0.5)
    assert app.multiselect(key="cfg.training.models").value
    assert not app.error
    assert any("valid" in s.value for s in app.success)


def test_invalid_config_shows_inline_errors(app: AppTest) -> None:
    app.number_input(key="cfg.fleet.driver_profiles.commuter").set_value(0.9)
    app.number_input(key="cfg.optimization.reserve_soc").set_value(1.5)
    app.run()
    errors = [e.value for e in app.error]
    assert any("fleet.driver_profiles" in e and "sum to 1" in e for e in errors), errors
    assert any("optimization.reserve_soc" in e and "less than or equal to 1" in e for e in errors)
    assert any("2 problem(s)" in e for e in errors)
    assert not [b for b in app.button if b.label == "Save"], "no save while invalid"


def test_save_load_and_reject_bad_names(app: AppTest, studio_ws: Path) -> None:
    app.number_input(key="cfg.fleet.n_vehicles").set_value(12)
    app.text_input(key="cfg.name").set_value("small-fleet")
    app.run()
    next(b for b in app.button if b.label == "Save").click().run()
    saved = yaml.safe_load((studio_ws / "configs" / "small-fleet.yaml").read_text())
    assert saved["fleet"]["n_vehicles"] == 12

    next(b for b in app.button if b.label == "Reset to defaults").click().run()
    assert app.number_input(key="cfg.fleet.n_vehicles").value == 50
    app.selectbox[0].set_value("small-fleet").run()
    next(b for b in app.button if b.label == "Load").click().run()
    assert app.number_input(key="cfg.fleet.n_vehicles").value == 12

    app.text_input(key="cfg.name").set_value("../escape").run()
    next(b for b in app.button if b.label == "Save").click().run()
    assert any("invalid config name" in e.value for e in app.error)
    assert not (studio_ws / "escape.yaml").exists()


def test_data_generation_page(app: AppTest) -> None:
    at = _open(app, "data_generation")
    labels = [b.label for b in at.button]
    assert labels[:3] == ["1. Build network", "2. Synthesise fleet", "3. Run quality gate"]
    assert at.selectbox(key="gen.network").value == NETWORK_ID
    text = _texts(at)
    assert "9 nodes, 20 edges, 2 stations" in text
    assert f"latest: `{DATASET_ID}`" in text
    deck = at.get("deck_gl_json_chart")
    assert len(deck) == 1
    spec = deck[0].proto.json
    assert '"mapStyle":"__MAP_STYLE__"' in spec, "no base map: nothing loads from a tile server"
    assert spec.count('"x0"') == 10, "one line per undirected street of the 20-edge grid"


def test_model_training_page(app: AppTest) -> None:
    at = _open(app, "model_training")
    assert at.selectbox(key="train.dataset").value == DATASET_ID
    table = at.dataframe[0].value
    assert set(table["family"]) == set(FAMILIES)
    champion = table.set_index("family").loc["lightgbm"]
    assert champion["role"] == "champion"
    assert champion["validation MAE (Wh/segment)"] == pytest.approx(12.1)
    assert any("@champion: lightgbm (v1)" in m.label for m in at.metric)
    assert any("No model holds @challenger" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) >= 3  # metric bars, trials, importance
    assert at.get("image"), "pred-vs-actual artifact shown"
    assert at.button(key="train.noise").label == "Measure the noise floor"


def test_noise_floor_next_to_metrics(app: AppTest, studio_ws: Path) -> None:
    floor = studio_ws / "noise_floor" / f"{DATASET_ID}.json"
    floor.parent.mkdir(parents=True, exist_ok=True)
    floor.write_text('{"segment kWh": {"r2_ceiling": 0.88}, "trip kWh": {"mape_floor": 2.7}}')
    try:
        at = _open(app, "model_training")
        table = at.dataframe[0].value.set_index("family")
        row = table.loc["noise floor (best possible)"]
        assert row["test R² kWh"] == pytest.approx(0.88)
        assert row["test trip MAPE %"] == pytest.approx(2.7)
    finally:
        floor.unlink()


@pytest.mark.parametrize(
    ("tab", "expect"),
    [
        ("Fleet KPIs", "Trips 5"),
        ("Efficiency", "Group by"),
        ("Costs", None),
        ("Stations", "1 of 2 public stations were used"),
        ("Energy map", "driven edges coloured by energy_kwh"),
        ("Quality", "1 failed expectation(s)"),
        ("SQL", "Read-only SQL"),
        ("Downloads", "Any table"),
    ],
)
def test_analytics_tabs(app: AppTest, tab: str, expect: str | None) -> None:
    app.query_params["tab"] = tab
    at = _open(app, "analytics")
    assert at.selectbox(key="an.dataset").value == DATASET_ID
    if expect is not None:
        groups = "\n".join(str(getattr(w, "label", "")) for w in at.get("button_group"))
        assert expect in _texts(at) + groups


def test_sql_explorer_runs_and_refuses_writes(app: AppTest) -> None:
    app.query_params["tab"] = "SQL"
    at = _open(app, "analytics")
    at.text_area(key="an.sql").set_value("select count(*) as n from routes")
    at.button(key="an.run").click().run()
    assert at.dataframe[0].value["n"].iloc[0] == 5
    at.text_area(key="an.sql").set_value("drop view routes")
    at.button(key="an.run").click().run()
    assert any("refused" in e.value for e in at.error)


def test_downloads_offer_every_stage_table(app: AppTest) -> None:
    app.query_params["tab"] = "Downloads"
    at = _open(app, "analytics")
    options = at.selectbox(key="an.table").options
    assert len(options) == 6 + 3 + 2 + 5  # dataset, network, quality, optimisation tables
    [report] = [d for d in at.get("download_button") if "optimisation report" in d.proto.label]
    assert OPTIMIZATION_ID in report.proto.label
    at.selectbox(key="an.table").set_value(f"quality/{QUALITY_ID}/quality_scores").run()
    at.radio(key="an.format").set_value("CSV")
    at.button(key="an.prepare").click().run()
    [download] = [d for d in at.get("download_button") if "quality_scores" in d.proto.label]
    assert "(3 rows" in download.proto.label


def _opt_page(app: AppTest, tab: str) -> AppTest:
    app.query_params["tab"] = tab
    at = _open(app, "fleet_optimization")
    assert at.selectbox(key="opt.id").value == OPTIMIZATION_ID
    return at


def test_optimisation_page_runs_and_compares(app: AppTest, studio_ws: Path) -> None:
    at = _opt_page(app, "Before / after")
    assert at.selectbox(key="opt.strategy").value == "custom"  # the configured strategy
    assert at.selectbox(key="opt.strategy").options[-1] == "all"
    assert at.selectbox(key="opt.mode").options == ["myopic", "next_trip", "rolling_horizon"]
    assert at.button(key="opt.run").label == "Run optimisation"
    labels = [f"{s}/{m}" for s, m in OPT_RUNS]
    assert at.selectbox(key="opt.kpi_run").options == labels
    kpis = pd.read_parquet(studio_ws / "optimization" / OPTIMIZATION_ID / "kpis.parquet")
    fleet = kpis[(kpis["vehicle_id"] == "FLEET") & (kpis["strategy"] == OPT_RUNS[0][0])]
    after = fleet.set_index("side").loc["optimised", "energy_kwh"]
    energy = next(m for m in at.metric if m.label == "Energy")
    assert energy.value == f"{after:,.1f} kWh"
    cost = next(m for m in at.metric if m.label == "Charging cost")
    assert cost.delta.startswith("-$"), "a saving reads as a fall (green, downward arrow)"
    assert not any("KPI, label" in m.value for m in at.markdown), "no stray strings on the page"
    table = at.dataframe[0].value.set_index("kpi")
    assert table.loc["energy_kwh", "optimised"] == pytest.approx(after)
    assert any("Strategies compared" in s.value for s in at.subheader)
    assert len(at.get("plotly_chart")) == 1


def test_optimisation_vehicle_day_map(app: AppTest) -> None:
    at = _opt_page(app, "Vehicle-day map")
    assert at.selectbox(key="opt.vehicle").value == "EV000001"
    [deck] = at.get("deck_gl_json_chart")
    spec = deck.proto.json
    assert '"mapStyle":"__MAP_STYLE__"' in spec
    assert '"id":"baseline"' in spec
    assert '"id":"optimised"' in spec
    assert any("baseline routes" in c.value for c in at.caption)
    assert set(at.dataframe[0].value["trip_id"]) == {"t1", "t2"}  # EV000001's first day


def test_route_planner_plans_live_with_pareto_front(app: AppTest) -> None:
    at = _opt_page(app, "Route planner")
    names = at.selectbox(key="opt.origin").options
    assert "Grid Town" in names
    assert "Bayshore DC (station)" in names
    at.selectbox(key="opt.origin").set_value("Grid Town")
    at.selectbox(key="opt.dest").set_value("Hilltop")
    at.selectbox(key="opt.rp_vehicle").set_value("EV000002")
    at.button(key="opt.plan").click().run()
    assert not at.exception
    assert not at.error
    assert any(s.value.startswith("Grid Town → Hilltop") for s in at.subheader)
    [chart] = at.get("plotly_chart")
    assert "Pareto" in chart.proto.spec
    routes = at.dataframe[-1].value
    assert routes["objective"].iloc[0] == "energy"
    assert (routes["distance_km"] > 0).all()
    assert any(m.label == "Distance" for m in at.metric)
    assert len(at.get("deck_gl_json_chart")) == 2  # the picker and the route map


def test_optimisation_report_download(app: AppTest) -> None:
    at = _opt_page(app, "Report")
    [button] = at.get("download_button")
    assert "report.html" in button.proto.label
