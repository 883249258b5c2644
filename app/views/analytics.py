"""Page 5, Analytics: fleet KPIs, efficiency, costs, stations, an energy map, quality
scores, a read-only SQL explorer over the catalog, and downloads.

Tables come from :mod:`evfleet.analytics` over the chosen dataset's files (cached on its
stage id). Tabs are lazy: only the open tab runs, so the heavy ones (the map, SQL) cost
nothing until opened; the open tab is kept in the URL (``?tab=...``).
"""

from __future__ import annotations

import io

import pandas as pd
import plotly.express as px
import pydeck as pdk
import streamlit as st

from app import common, maps
from evfleet import analytics

ws = common.workspace()
root = str(ws.root)
st.title("Analytics")

dataset = common.need_stage(
    "datasets",
    common.pick_stage("datasets", "Dataset", key="an.dataset"),
    "Synthesise one on the Data Generation page (or `evfleet synth`).",
)


def table(name: str, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    return common.load_table(root, "datasets", dataset, name, columns)


@st.cache_data(show_spinner=False)
def kpis(root: str, dataset: str) -> dict[str, float]:
    tables = [
        common.load_table(root, "datasets", dataset, name)
        for name in ("fleet_info", "vehicle_states", "routes", "charging_sessions")
    ]
    return analytics.fleet_kpis(*tables)


TABS = ("Fleet KPIs", "Efficiency", "Costs", "Stations", "Energy map", "Quality", "SQL",
        "Downloads")  # fmt: skip
tabs = dict(zip(TABS, st.tabs(TABS, key="tab", bind="query-params"), strict=True))

with tabs["Fleet KPIs"]:
    if tabs["Fleet KPIs"].open:
        k = kpis(root, dataset)
        row1 = st.columns(4)
        row1[0].metric("Vehicles x days", f"{k['vehicles']:.0f} x {k['days']:.0f}")
        row1[1].metric("Trips", f"{k['trips']:,.0f}")
        row1[2].metric("Distance", f"{k['distance_km']:,.0f} km")
        row1[3].metric("Energy used", f"{k['energy_kwh']:,.0f} kWh")
        row2 = st.columns(4)
        row2[0].metric("Consumption (kWh/100 km)", f"{k['kwh_per_100km']:.1f}")
        row2[1].metric("Charging sessions", f"{k['charging_sessions']:,.0f}")
        row2[2].metric("Charging cost", f"${k['charging_cost_usd']:,.0f}",
                       help=f"${k['usd_per_kwh']:.3f} per grid kWh")  # fmt: skip
        row2[3].metric("Lowest SOC", f"{100 * k['soc_min']:.0f} %")
        states = table("vehicle_states")
        st.plotly_chart(
            px.histogram(states, x="kwh_per_100km", nbins=40,
                         labels={"kwh_per_100km": "kWh/100 km per vehicle-day"},
                         title="Consumption per vehicle-day"),
            width="stretch",
        )  # fmt: skip

with tabs["Efficiency"]:
    if tabs["Efficiency"].open:
        by = st.segmented_control(
            "Group by", analytics.EFFICIENCY_GROUPS, default="model", key="an.by",
            format_func=lambda c: c.replace("_", " "),
        ) or "model"  # fmt: skip
        eff = analytics.efficiency_by(table("routes"), table("fleet_info"), by)
        st.plotly_chart(
            px.bar(eff, x=by, y="kwh_per_100km", hover_data=["vehicles", "trips", "distance_km"],
                   labels={"kwh_per_100km": "kWh/100 km"}, title=f"Consumption by {by}"),
            width="stretch",
        )  # fmt: skip
        temp = analytics.efficiency_by_temperature(table("routes"))
        parts = [c for c in temp.columns if c.endswith("_kwh_per_100km")]
        long = temp.melt(id_vars="temp_c_from", value_vars=parts, var_name="component",
                         value_name="component_kwh_per_100km")  # fmt: skip
        long["component"] = long["component"].str.removesuffix("_kwh_per_100km")
        st.plotly_chart(
            px.bar(long, x="temp_c_from", y="component_kwh_per_100km", color="component",
                   labels={"temp_c_from": "ambient temperature band (°C, lower edge)",
                           "component_kwh_per_100km": "kWh/100 km"},
                   title="Consumption by temperature, split into its components"),
            width="stretch",
        )  # fmt: skip
        st.dataframe(eff, hide_index=True)

with tabs["Costs"]:
    if tabs["Costs"].open:
        cost = analytics.charging_cost(table("charging_sessions"))
        left, right = st.columns(2)
        left.plotly_chart(
            px.pie(cost, names="kind", values="cost_usd", title="Charging cost by charger kind"),
            width="stretch",
        )
        daily = analytics.daily_cost(table("vehicle_states"))
        right.plotly_chart(
            px.bar(daily, x="date", y="charging_cost_usd", title="Fleet charging cost per day",
                   labels={"charging_cost_usd": "USD"}),
            width="stretch",
        )  # fmt: skip
        st.dataframe(cost, hide_index=True)

network_id = common.pick_stage("network", "Network", key="an.network")


@st.cache_data(show_spinner=False, max_entries=4)
def usage(root: str, dataset: str, network_id: str) -> pd.DataFrame:
    sessions = common.load_table(root, "datasets", dataset, "charging_sessions")
    stations = common.load_table(root, "network", network_id, "stations")
    return analytics.station_usage(sessions, stations)


@st.cache_resource(show_spinner=False, max_entries=4)
def usage_deck(root: str, dataset: str, network_id: str) -> pdk.Deck:
    lines = common.network_lines(root, network_id)
    return maps.deck(
        [maps.road_layer(lines),
         maps.station_layer(usage(root, dataset, network_id), size_col="sessions")],
        maps.view_of(lines),
        tooltip={"text": "{name}\n{sessions} sessions, {energy_kwh} kWh"},
    )  # fmt: skip


with tabs["Stations"]:
    if tabs["Stations"].open:
        if network_id is None:
            st.info("No network in the workspace.")
        else:
            table_ = usage(root, dataset, network_id)
            used = table_[table_["sessions"] > 0]
            st.caption(
                f"{len(used)} of {len(table_)} public stations were used; dot size: sessions."
            )
            st.pydeck_chart(usage_deck(root, dataset, network_id), height=maps.MAP_HEIGHT_PX)
            st.dataframe(used.drop(columns=["lat", "lon"]), hide_index=True)


@st.cache_data(show_spinner=False, max_entries=4)
def heat(root: str, dataset: str, network_id: str) -> pd.DataFrame:
    segments = common.load_table(
        root, "datasets", dataset, "segments", ("u", "v", "key", "length_m", "energy_kwh")
    )
    nodes = common.load_table(root, "network", network_id, "nodes", ("node_id", "lat", "lon"))
    return analytics.attach_coordinates(analytics.edge_energy(segments), nodes)


@st.cache_resource(show_spinner=False, max_entries=6)
def heat_deck(root: str, dataset: str, network_id: str, value: str) -> pdk.Deck:
    lines = common.network_lines(root, network_id)
    used = heat(root, dataset, network_id)
    return maps.deck(
        [maps.road_layer(lines), maps.heat_layer(used, value)],
        maps.view_of(used if len(used) else lines),
        tooltip={"text": f"{value}: {{{value}}}"},
    )


with tabs["Energy map"]:
    if tabs["Energy map"].open:
        if network_id is None:
            st.info("No network in the workspace.")
        else:
            value = st.segmented_control(
                "Colour by", ["energy_kwh", "kwh_per_km", "traversals"], default="energy_kwh",
                key="an.heat",
            ) or "energy_kwh"  # fmt: skip
            st.pydeck_chart(heat_deck(root, dataset, network_id, value), height=maps.MAP_HEIGHT_PX)
            st.caption(
                f"{len(heat(root, dataset, network_id)):,} driven edges coloured by {value} "
                "(pale: low, dark red: high); grey: the rest of the network."
            )

quality_runs = [m for m in common.stage_runs(root, "quality") if m.get("dataset_id") == dataset]
qid = str(quality_runs[0]["id"]) if quality_runs else None
opt_runs = [m for m in common.stage_runs(root, "optimization") if m.get("dataset_id") == dataset]
oid = str(opt_runs[0]["id"]) if opt_runs else None

with tabs["Quality"]:
    if tabs["Quality"].open:
        if qid is None:
            st.info("No quality run for this dataset: run the quality gate on Data Generation.")
        else:
            scores = common.load_table(root, "quality", qid, "quality_scores")
            overall = scores[scores["table_name"] == "overall"]
            if not overall.empty:
                st.metric(f"Quality score (run `{qid}`)", f"{overall['score'].iloc[0]:.1f} / 100")
            per_table = scores[scores["table_name"] != "overall"]
            st.plotly_chart(
                px.bar(per_table, x="table_name", y="score", range_y=[0, 100],
                       hover_data=["passed", "failed", "critical_failed"],
                       title="Score per table"),
                width="stretch",
            )  # fmt: skip
            results = common.load_table(root, "quality", qid, "quality")
            failed = results[~results["success"].astype(bool)]
            st.markdown(f"**{len(failed)} failed expectation(s)**")
            st.dataframe(
                failed[["table_name", "rule", "severity", "unexpected_count", "description"]],
                hide_index=True,
            )

with tabs["SQL"]:
    if tabs["SQL"].open:
        st.caption(
            "Read-only SQL over the workspace catalog (DuckDB views: nodes, edges, stations, "
            "fleet_info, weather, routes, segments, charging_sessions, vehicle_states, "
            "quality, quality_scores, ...). One SELECT at a time; nothing outside the "
            "workspace can be read."
        )
        sql = st.text_area(
            "Query",
            "select model, count(*) as vehicles, avg(battery_kwh) as battery_kwh\n"
            "from fleet_info group by model order by vehicles desc",
            key="an.sql",
            height=120,
        )
        if st.button("Run query", type="primary", key="an.run"):
            common.keep_result("an.result", lambda: ws.query(sql))
        result = common.kept_result("an.result")
        if result is not None:
            st.caption(f"{len(result):,} rows")
            st.dataframe(result, hide_index=True)
            st.download_button("Download result (CSV)", result.to_csv(index=False),
                               file_name="query.csv", mime="text/csv")  # fmt: skip


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()


with tabs["Downloads"]:
    if tabs["Downloads"].open:
        st.caption(
            "Any table of the chosen stage outputs (and of the dataset's latest optimisation), "
            "as CSV or Parquet."
        )
        sources: list[tuple[str, str, tuple[str, ...]]] = [
            ("datasets", dataset, common.DATASET_TABLES)
        ]
        if network_id is not None:
            sources.append(("network", network_id, common.NETWORK_TABLES))
        if qid is not None:
            sources.append(("quality", qid, common.QUALITY_TABLES))
        if oid is not None:
            sources.append(("optimization", oid, common.OPTIMIZATION_TABLES))
        choice = st.selectbox(
            "Table",
            [f"{stage}/{sid}/{name}" for stage, sid, names in sources for name in names],
            format_func=lambda t: "{2}  ({0} {1})".format(*t.split("/")),
            key="an.table",
        )
        fmt = st.radio("Format", ["CSV", "Parquet"], horizontal=True, key="an.format")
        if st.button("Prepare download", key="an.prepare"):
            stage, sid, name = choice.split("/")
            df = ws.read_table(stage, sid, name)
            data = df.to_csv(index=False).encode() if fmt == "CSV" else _parquet_bytes(df)
            st.download_button(
                f"Download {name} ({len(df):,} rows, {len(data) / 1e6:.1f} MB)",
                data,
                file_name=f"{name}.{fmt.lower()}",
                mime="text/csv" if fmt == "CSV" else "application/octet-stream",
                key="an.download",
            )
        if oid is not None:
            report = ws.stage_dir("optimization", oid) / common.REPORT_FILE
            st.download_button(
                f"Download the optimisation report ({oid}, HTML)", report.read_bytes(),
                file_name=f"optimization-{oid}.html", mime="text/html", key="an.report",
                help="Self-contained: opens offline in any browser.",
            )  # fmt: skip
        else:
            st.caption("No optimisation of this dataset yet: no report to download.")
