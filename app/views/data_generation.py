"""Page 2, Data Generation: build the network, synthesise the fleet, run the quality gate.

Each button starts the stage's Prefect flow as a background ``evfleet`` run (the page
keeps working), then shows its live progress, the stage ids it produced and links to the
flow runs in the Prefect UI when a server is up. Below: the network on an offline map.
"""

from __future__ import annotations

import streamlit as st

from app import common, maps, runs_view

ws = common.workspace()
root = str(ws.root)
st.title("Data Generation")
st.caption(
    "Each step is a Prefect flow run in the background; a stage whose inputs did not change "
    "is reused (same stage id)."
)

picked = common.config_picker(ws, key="gen.config")
if picked is not None:
    cfg, cfg_path = picked
    st.caption(
        f"Network: {cfg.network.source.value} · fleet: {cfg.fleet.n_vehicles} vehicles x "
        f"{cfg.fleet.days} days from {cfg.fleet.start_date} (seed {cfg.fleet.seed}) · "
        f"runner: {cfg.performance.runner.value}"
    )
    steps = st.columns(3)
    actions = (
        ("network", "1. Build network", "Build or reuse the road network."),
        ("synth", "2. Synthesise fleet", "Simulate the fleet (builds the network if needed)."),
        ("quality", "3. Run quality gate", "Validate the latest dataset."),
    )  # fmt: skip
    for col, (kind, label, helptext) in zip(steps, actions, strict=True):
        if col.button(label, key=f"gen.run.{kind}", help=helptext, width="stretch"):
            runs_view.launch(ws, kind, cfg_path)

st.subheader("Runs")
runs_view.jobs_panel(ws, ("network", "synth", "quality"))

st.subheader("Stage outputs")
cols = st.columns(3)
for col, stage in zip(cols, ("network", "datasets", "quality"), strict=True):
    runs = common.stage_runs(root, stage)
    col.metric(stage, len(runs), help=f"completed {stage} outputs in the workspace")
    if runs:
        col.caption("latest: `" + str(runs[0]["id"]) + "`")

network_id = common.pick_stage("network", "Network", key="gen.network")
if network_id is None:
    st.info("No network yet: press **1. Build network**.")
    st.stop()
meta = common.stage_json(root, "network", network_id, "meta.json")
st.subheader(f"Network `{network_id}`")
st.caption(
    f"{meta.get('source_detail', meta.get('source'))}: {meta['n_nodes']:,} nodes, "
    f"{meta['n_edges']:,} edges, {meta['n_stations']:,} stations, "
    f"{meta.get('total_km', 0):,.0f} km of road"
)
st.pydeck_chart(common.network_deck(root, network_id), height=maps.MAP_HEIGHT_PX)
st.caption("Road network drawn as the map (no tiles, works offline); red: DC fast, blue: L2.")
