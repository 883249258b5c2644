"""Page 4, Fleet Optimization: re-plan the fleet, compare with the baseline, plan routes live.

The run button starts ``evfleet optimize`` (a Prefect flow run) in the background, like
the Data Generation page. Below, for the chosen optimisation output: fleet KPIs before
and after (and across strategies when several ran), one vehicle-day on the map with its
baseline and optimised routes and charging, a live route planner that calls the routing
engine in-process, and the self-contained report. Tables come from the stage's files
(cached on its id) and are shaped by :mod:`evfleet.analytics` / :mod:`evfleet.route_planner`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.express as px
import pydeck as pdk
import streamlit as st

from app import common, maps, runs_view
from evfleet import analytics
from evfleet.config import PlanningMode, SocObjective, Strategy, StudioConfig
from evfleet.storage import Workspace
from evfleet.vehicles import list_vehicles

if TYPE_CHECKING:
    from evfleet.network import RoadGraph
    from evfleet.routing import EdgeCostModel

BASELINE_RGB = (240, 140, 30, 220)
OPTIMISED_RGB = (20, 110, 210, 230)
FRONT_RGB = (120, 90, 200, 150)
ORIGIN_RGB = (40, 160, 60, 255)
DEST_RGB = (200, 30, 30, 255)
PLACE_RGB = (70, 70, 70, 160)
# KPI, label, format of the before/after metrics (lower is better except the SOC). No
# docstring here: Streamlit's "magic" would print a bare string on the page.
HEADLINE = (
    ("energy_kwh", "Energy", "{:,.1f} kWh"), ("cost_usd", "Charging cost", "${:,.2f}"),
    ("drive_time_h", "Driving time", "{:,.2f} h"),
    ("charging_time_h", "Charging time", "{:,.2f} h"),
    ("public_sessions", "Public sessions", "{:,.0f}"), ("site_peak_kw", "Site peak", "{:,.1f} kW"),
    ("min_soc", "Lowest SOC", "{:.2f}"), ("stranded_trips", "Stranded trips", "{:,.0f}"),
)  # fmt: skip

ws = common.workspace()
root = str(ws.root)
st.title("Fleet Optimization")
st.caption(
    "Re-plan every trip of a dataset by a strategy and planning mode; baseline and optimised "
    "plans are scored by the same physics with the same random draws."
)

picked = common.config_picker(ws, key="opt.config")
cfg, cfg_path = picked if picked is not None else (StudioConfig(), None)
if picked is not None:
    strategies = [s.value for s in Strategy] + ["all"]
    modes = [m.value for m in PlanningMode]
    left, mid, right = st.columns([2, 2, 1], vertical_alignment="bottom")
    strategy = left.selectbox(
        "Strategy", strategies, index=strategies.index(cfg.optimization.strategy),
        key="opt.strategy", help="A preset of the objective and weights; `all`: the four presets.",
    )  # fmt: skip
    mode = mid.selectbox(
        "Planning mode", modes, index=modes.index(cfg.optimization.planning_mode),
        key="opt.mode", help="myopic: each trip alone; next_trip: arrive ready for the next; "
        "rolling_horizon: an LP over the next trips.",
    )  # fmt: skip
    if right.button("Run optimisation", key="opt.run", type="primary", width="stretch"):
        runs_view.launch(
            ws, "optimize", cfg_path, ["--strategy", strategy, "--planning-mode", mode]
        )

st.subheader("Runs")
runs_view.jobs_panel(ws, ("optimize",))

opt_id = common.need_stage(
    "optimization",
    common.pick_stage("optimization", "Optimisation", key="opt.id"),
    "Press **Run optimisation** (or `evfleet optimize`); it needs a dataset.",
)
manifest = next(m for m in common.stage_runs(root, "optimization") if str(m["id"]) == opt_id)
dataset = str(manifest["dataset_id"])
network_id = str(manifest["network_id"])
st.caption(
    f"Optimisation `{opt_id}` of dataset `{dataset}` on network `{network_id}`: "
    f"runs {', '.join(manifest.get('runs', []))}; energy model: "
    f"{manifest.get('energy_source', 'physics')}."
)


def opt_table(name: str) -> pd.DataFrame:
    return common.load_table(root, "optimization", opt_id, name)


@st.cache_data(show_spinner=False, max_entries=8)
def comparison(root: str, opt_id: str) -> pd.DataFrame:
    return analytics.optimisation_comparison(
        common.load_table(root, "optimization", opt_id, "kpis")
    )


def start_date() -> dt.date:
    """The dataset's first day (the optimiser counts seconds from its midnight)."""
    meta = next((m for m in common.stage_runs(root, "datasets") if str(m["id"]) == dataset), {})
    return dt.date.fromisoformat(str(meta.get("start_date", cfg.fleet.start_date)))


def run_picker(key: str) -> str:
    labels = list(dict.fromkeys(comparison(root, opt_id)["run"]))
    if len(labels) == 1:
        return labels[0]
    return str(st.selectbox("Run (strategy/planning mode)", labels, key=key))


TABS = ("Before / after", "Vehicle-day map", "Route planner", "Report")
tabs = dict(zip(TABS, st.tabs(TABS, key="tab", bind="query-params"), strict=True))

with tabs["Before / after"]:
    if tabs["Before / after"].open:
        table = comparison(root, opt_id)
        run = run_picker("opt.kpi_run")
        mine = table[table["run"] == run].set_index("kpi")
        for row in (HEADLINE[:4], HEADLINE[4:]):
            for col, (kpi, label, fmt) in zip(st.columns(4), row, strict=True):
                before, after = mine.loc[kpi, "baseline"], mine.loc[kpi, "optimised"]
                change = after - before
                sign = "-" if change < 0 else "+"  # before any unit: Streamlit reads the sign
                col.metric(
                    label, fmt.format(after), delta=sign + fmt.format(abs(change)),
                    delta_color="off" if change == 0 else "normal" if kpi == "min_soc"
                    else "inverse",
                    help=f"baseline {fmt.format(before)}",
                )  # fmt: skip
        st.dataframe(
            mine.drop(columns="run").reset_index(), hide_index=True,
            column_config={"change_pct": st.column_config.NumberColumn("change %", format="%.1f")},
        )  # fmt: skip
        if table["run"].nunique() > 1:
            st.subheader("Strategies compared")
            shown = table[table["kpi"].isin(["energy_kwh", "cost_usd", "cost_adjusted_usd",
                                             "drive_time_h", "charging_time_h"])]  # fmt: skip
            st.plotly_chart(
                px.bar(shown, x="kpi", y="change_pct", color="run", barmode="group",
                       labels={"change_pct": "change vs baseline (%)", "kpi": ""},
                       title="Change against the baseline, per run"),
                width="stretch",
            )  # fmt: skip
            wide = table.pivot(index="kpi", columns="run", values="optimised")
            wide.insert(0, "baseline", table.groupby("kpi", sort=False)["baseline"].first())
            st.dataframe(wide.loc[list(analytics.OPT_KPIS)].reset_index())
        infeasible = opt_table("infeasible")
        if len(infeasible):
            st.warning(f"{len(infeasible)} trip(s) could not be planned (kept as in the baseline)")
            st.dataframe(infeasible, hide_index=True)
        sites = opt_table("sites")
        if len(sites):
            with st.expander(f"Shared charging sites ({len(sites)}): peak kW before and after"):
                st.dataframe(sites, hide_index=True)


def roads_around(lon: list[pd.Series], lat: list[pd.Series]) -> pdk.Layer:
    """The network around these points as the base layer (the whole network when none):
    a fraction of the roads to send, and the map opens on what matters."""
    lines = common.network_lines(root, network_id)
    lon_all, lat_all = pd.concat(lon).to_numpy(float), pd.concat(lat).to_numpy(float)
    return maps.road_layer(analytics.lines_near(lines, lon_all, lat_all) if len(lon_all) else lines)


@st.cache_resource(show_spinner=False, max_entries=8)
def day_deck(root: str, opt_id: str, run: str, vehicle: str, day: dt.date) -> pdk.Deck:
    nodes = common.load_table(root, "network", network_id, "nodes", ("node_id", "lat", "lon"))
    routes, charging = vehicle_day(root, opt_id, run, vehicle, day)
    layers = [
        roads_around([routes["src_lon"], routes["dst_lon"], charging["lon"]],
                     [routes["src_lat"], routes["dst_lat"], charging["lat"]])
    ]  # fmt: skip
    for side, colour, width in (("baseline", BASELINE_RGB, 8.0), ("optimised", OPTIMISED_RGB, 4.0)):
        part = routes[routes["side"] == side]
        layers.append(maps.route_layer(part, colour, layer_id=side, width_px=width,
                                       extra=["side", "trip_id"]))  # fmt: skip
    for side, colour in (("baseline", BASELINE_RGB), ("optimised", OPTIMISED_RGB)):
        stops = charging[charging["side"] == side].drop(columns="start")
        layers.append(maps.point_layer(stops, colour, layer_id=f"charging-{side}", radius_px=9))
    view = maps.view_of(routes) if len(routes) else maps.points_view(nodes)
    return maps.deck(layers, view, tooltip={"text": "{side} {trip_id}{kind} {station_id}"})


@st.cache_data(show_spinner=False, max_entries=16)
def vehicle_day(
    root: str, opt_id: str, run: str, vehicle: str, day: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    plans = common.load_table(root, "optimization", opt_id, "plans")
    plans = plans[analytics.run_label(plans) == run]
    charging = common.load_table(root, "optimization", opt_id, "charging_plan")
    charging = charging[analytics.run_label(charging) == run]
    nodes = common.load_table(root, "network", network_id, "nodes", ("node_id", "lat", "lon"))
    seg_cols = ("trip_id", "vehicle_id", "seq", "u", "v", "start_time")
    segments = common.load_table(root, "datasets", dataset, "segments", seg_cols)
    sessions = common.load_table(root, "datasets", dataset, "charging_sessions")
    stations = common.load_table(root, "network", network_id, "stations")
    start = start_date()
    routes = analytics.vehicle_day_routes(segments, plans, nodes, vehicle, day, start)
    stops = analytics.vehicle_day_charging(sessions, charging, stations, nodes, vehicle, day, start)
    return routes, stops


with tabs["Vehicle-day map"]:
    if tabs["Vehicle-day map"].open:
        run = run_picker("opt.day_run")
        plans = opt_table("plans")
        plans = plans[analytics.run_label(plans) == run]
        days = analytics.vehicle_days(plans, start_date())
        if days.empty:
            st.info("This run re-planned no trips.")
        else:
            left, right = st.columns(2)
            by_stops = days.sort_values(["stops", "trips"], ascending=False, kind="stable")
            vehicles = list(dict.fromkeys(by_stops["vehicle_id"]))
            vehicle = left.selectbox(
                "Vehicle", vehicles, key="opt.vehicle",
                help="Vehicles with planned charging stops first.",
            )  # fmt: skip
            dates = list(days.loc[days["vehicle_id"] == vehicle, "date"])
            day = right.selectbox("Date", dates, key="opt.date")
            routes, charging = vehicle_day(root, opt_id, run, vehicle, day)
            st.pydeck_chart(day_deck(root, opt_id, run, vehicle, day), height=maps.MAP_HEIGHT_PX)
            km = routes.groupby("side").size()
            st.caption(
                f"Orange (wide): the baseline routes the synthetic driver took "
                f"({km.get('baseline', 0)} edges); blue: the optimised routes "
                f"({km.get('optimised', 0)} edges); dots: charging (orange baseline, blue "
                "optimised). Grey: the road network (no tiles)."
            )
            trips = plans[plans["vehicle_id"].astype(str) == vehicle]
            start = pd.Timestamp(start_date())
            shown = trips.assign(depart=start + pd.to_timedelta(trips["depart_s"], unit="s"))
            shown = shown[shown["depart"].dt.date == day]
            st.markdown("**Optimised trips**")
            st.dataframe(
                shown[["trip_id", "objective", "depart", "distance_km", "drive_time_h",
                       "energy_kwh", "soc_start", "soc_end", "n_stops", "detour_km"]],
                hide_index=True,
            )  # fmt: skip
            st.markdown("**Charging**")
            st.dataframe(charging, hide_index=True)


@st.cache_resource(show_spinner=False, max_entries=2)
def road_graph(root: str, network_id: str) -> RoadGraph:
    from evfleet.network import RoadGraph

    return RoadGraph.load(Workspace(root).stage_dir("network", network_id))


@st.cache_resource(show_spinner=False, max_entries=4)
def cost_model(root: str, network_id: str, charging: str) -> EdgeCostModel:
    """The network's edge-cost model under a tariff (keyed on the charging section's JSON;
    it caches edge weights per context, so a repeated query is fast)."""
    from evfleet.config import ChargingConfig
    from evfleet.fleet.charging import Tariff
    from evfleet.routing import EdgeCostModel

    tariff = Tariff.from_config(ChargingConfig.model_validate_json(charging))
    return EdgeCostModel(road_graph(root, network_id), tariff=tariff)


@st.cache_data(show_spinner=False, max_entries=4)
def places(root: str, network_id: str) -> pd.DataFrame:
    nodes = common.load_table(root, "network", network_id, "nodes")
    return analytics.named_places(nodes, common.load_table(root, "network", network_id, "stations"))


@st.cache_resource(show_spinner=False, max_entries=4)
def places_deck(root: str, network_id: str) -> pdk.Deck:
    lines = common.network_lines(root, network_id)
    major = lines[lines["highway"].isin(maps.MAJOR_ROADS)]
    roads = maps.road_layer(major if len(major) else lines)  # the main roads suffice to pick
    layer = maps.point_layer(places(root, network_id), PLACE_RGB, layer_id="places", radius_px=6)
    return maps.deck([roads, layer], maps.view_of(lines), tooltip={"text": "{name}"})


def _picked_on_map() -> None:
    """A place clicked on the map becomes the origin or the destination."""
    event = st.session_state.get("opt.pick_map")
    chosen = (event or {}).get("selection", {}).get("objects", {}).get("places", [])
    if chosen:
        target = "opt.origin" if st.session_state.get("opt.click_sets") == "origin" else "opt.dest"
        st.session_state[target] = str(chosen[0]["name"])


def plan_live(request: dict[str, Any]) -> dict[str, Any]:
    """Plan the request with the routing engine in-process: the SOC-aware plan by the
    objective and the (time, energy) Pareto front. The routing engine is imported here,
    on the first query, so the page's first render does not wait for it."""
    from evfleet import route_planner
    from evfleet.features.network import context_for_vehicle
    from evfleet.fleet.charging import Tariff
    from evfleet.routing import RoutingOptions

    routed = cfg.with_overrides({"optimization.soc_objective": request["objective"]})
    graph = road_graph(root, network_id)
    tariff = Tariff.from_config(routed.charging)
    fleet = common.load_table(root, "datasets", dataset, "fleet_info")
    ctx = context_for_vehicle(request["vehicle"], departure=request["depart"],
                              temp_c=request["temp_c"], fleet_info=fleet)  # fmt: skip
    kw = {"options": RoutingOptions.from_config(routed), "objective": request["objective"],
          "soc_start": request["soc"], "tariff": tariff}  # fmt: skip
    model = cost_model(root, network_id, routed.charging.model_dump_json())
    o, d = request["orig"], request["dest"]
    plan = route_planner.route_plans(graph, model, ctx, o, d, pareto=False, **kw)
    front = route_planner.route_plans(graph, model, ctx, o, d, pareto=True, **kw)
    return {
        "request": request,
        "routes": route_planner.routes_table(plan + front),
        "lines": route_planner.route_lines(plan + front, graph),
        "stops": route_planner.stops_table(plan, graph),
    }


def route_deck(result: dict[str, Any], ends: pd.DataFrame) -> pdk.Deck:
    lines, stops = result["lines"], result["stops"]
    layers = [roads_around([lines["src_lon"], lines["dst_lon"], ends["lon"]],
                           [lines["src_lat"], lines["dst_lat"], ends["lat"]])]  # fmt: skip
    layers.append(maps.route_layer(lines[lines["route"] > 0], FRONT_RGB, layer_id="front",
                                   width_px=3.0, extra=["objective"]))  # fmt: skip
    layers.append(maps.route_layer(lines[lines["route"] == 0], OPTIMISED_RGB, layer_id="route",
                                   width_px=6.0, extra=["objective"]))  # fmt: skip
    layers.append(maps.point_layer(stops, BASELINE_RGB, layer_id="stops", radius_px=10))
    layers.append(maps.point_layer(ends.iloc[[0]], ORIGIN_RGB, layer_id="origin", radius_px=9))
    layers.append(maps.point_layer(ends.iloc[[1]], DEST_RGB, layer_id="destination", radius_px=9))
    view = maps.view_of(lines) if len(lines) else maps.points_view(ends)
    return maps.deck(layers, view, tooltip={"text": "{objective}{name}{station_id}"})


with tabs["Route planner"]:
    if tabs["Route planner"].open:
        named = places(root, network_id)
        if len(named) < 2:
            st.info("The network has fewer than two named places or stations to route between.")
            st.stop()
        names = list(named["name"])
        fleet_ids = list(common.load_table(root, "datasets", dataset, "fleet_info",
                                           ("vehicle_id",))["vehicle_id"].astype(str))  # fmt: skip
        form, picker = st.columns([2, 3])
        with form:
            towns = [i for i, kind in enumerate(named["kind"]) if kind == "place"] or [0, 1]
            first, second = (towns + [i for i in range(len(names)) if i not in towns])[:2]
            origin = st.selectbox("Origin", names, index=first, key="opt.origin")
            dest = st.selectbox("Destination", names, index=second, key="opt.dest")
            vehicle = st.selectbox("Vehicle", fleet_ids + list_vehicles(), key="opt.rp_vehicle",
                                   help="A fleet vehicle or a catalogue model.")  # fmt: skip
            soc = st.slider("SOC at departure", 0.0, 1.0, 0.8, 0.05, key="opt.soc")
            objectives = [o.value for o in SocObjective]
            objective = st.selectbox(
                "Objective", objectives, index=objectives.index(cfg.optimization.soc_objective),
                key="opt.objective",
            )  # fmt: skip
            when_day = st.date_input("Departure date", start_date(), key="opt.depart_day")
            when_time = st.time_input("Departure time", dt.time(8, 0), key="opt.depart_time")
            temp_c = st.number_input("Ambient temperature (°C)", -30.0, 50.0, 15.0, 1.0,
                                     key="opt.temp")  # fmt: skip
            go = st.button("Plan route", type="primary", key="opt.plan")
        with picker:
            st.radio("A click on a place sets the", ["origin", "destination"], horizontal=True,
                     key="opt.click_sets")  # fmt: skip
            st.pydeck_chart(places_deck(root, network_id), height=420, key="opt.pick_map",
                            on_select=_picked_on_map, selection_mode="single-object")  # fmt: skip
        ends = named.set_index("name").loc[[origin, dest]].reset_index()
        if go:
            request = {"orig": int(ends["node_id"].iloc[0]), "dest": int(ends["node_id"].iloc[1]),
                       "vehicle": vehicle, "soc": float(soc), "objective": objective,
                       "depart": pd.Timestamp(dt.datetime.combine(when_day, when_time)),
                       "temp_c": float(temp_c), "ends": (origin, dest)}  # fmt: skip
            with st.spinner("Planning with the routing engine ..."):
                common.keep_result("opt.route", lambda: plan_live(request))
        result = common.kept_result("opt.route")
        if result is not None:
            a, b = result["request"]["ends"]
            routes = result["routes"]
            best = routes.iloc[0]
            st.subheader(f"{a} → {b}: least {best['objective']}")
            cols = st.columns(5)
            cols[0].metric("Distance", f"{best['distance_km']:.1f} km")
            cols[1].metric("Time", f"{best['time_min']:.0f} min", help="incl. charging and waits")
            physics = f"physics re-scored: {best['physics_energy_kwh']:.2f} kWh"
            cols[2].metric("Energy", f"{best['energy_kwh']:.2f} kWh", help=physics)
            cols[3].metric("SOC", f"{best['soc_start']:.2f} → {best['soc_end']:.2f}")
            cols[4].metric("Charging stops", f"{best['n_stops']:.0f}")
            ends_now = named.set_index("name").loc[[a, b]].reset_index()
            st.pydeck_chart(route_deck(result, ends_now), height=maps.MAP_HEIGHT_PX)
            st.caption("Blue: the planned route; purple: the other Pareto routes; orange dots: "
                       "charging stops; green/red: origin/destination.")  # fmt: skip
            front = routes.iloc[1:].assign(route="Pareto route")
            chosen = routes.iloc[[0]].assign(route=f"plan (least {best['objective']})")
            st.plotly_chart(
                px.scatter(pd.concat([front, chosen]), x="time_min", y="energy_kwh",
                           color="route", hover_data=["distance_km", "cost_usd", "supported"],
                           labels={"time_min": "time (min)", "energy_kwh": "energy (kWh)"},
                           title="(time, energy) Pareto front"),
                width="stretch",
            )  # fmt: skip
            st.markdown("**Charging stops**")
            st.dataframe(result["stops"], hide_index=True)
            st.markdown("**Routes**")
            st.dataframe(routes, hide_index=True)

with tabs["Report"]:
    if tabs["Report"].open:
        report = ws.stage_dir("optimization", opt_id) / common.REPORT_FILE
        html = report.read_bytes()
        st.download_button("Download the optimisation report (report.html)", html,
                           file_name=f"optimization-{opt_id}.html", mime="text/html",
                           key="opt.report")  # fmt: skip
        st.caption(f"Self-contained (works offline): `{common.path_label(report)}`")
        st.iframe(html.decode("utf-8"), height=900)
