"""Page 3, Model Training: launch training, compare the MLflow runs of each family.

Runs, metrics, trials, aliases and artifacts are read from the workspace's tracking store
(``mlflow.db``, ``mlartifacts/``); metric and tag names come from :mod:`app.metrics`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from app import common, jobs, mlflow_store, runs_view
from app import metrics as names

ws = common.workspace()
root = str(ws.root)
st.title("Model Training")
mlflow_ui = common.mlflow_ui_url()
st.caption(
    "Per-segment energy models, one MLflow run per family on the chosen dataset. "
    + (f"[Open the MLflow UI]({mlflow_ui})." if mlflow_ui else "MLflow UI: `evfleet ui mlflow`.")
)

with st.expander("Launch training", expanded=False):
    picked = common.config_picker(ws, key="train.config")
    if picked is not None:
        cfg, cfg_path = picked
        families = st.multiselect(
            "Families", [f.value for f in cfg.training.models], default=None, key="train.models",
            placeholder="all families of the config",
        )  # fmt: skip
        left, right = st.columns(2)
        trials = left.number_input("Optuna trials per family", 1, 10_000, cfg.training.n_trials)
        timeout = right.number_input("Tuning budget per family (s)", 1.0, 86_400.0,
                                     float(cfg.training.timeout_s))  # fmt: skip
        if st.button("Train", type="primary", key="train.start"):
            extra = ["--trials", str(int(trials)), "--timeout", f"{timeout:g}"]
            if families:
                extra += ["--models", ",".join(families)]
            runs_view.launch(ws, "train", cfg_path, extra)
runs_view.jobs_panel(ws, ("train", "noise_floor"))


@st.cache_data(show_spinner=False)
def _runs(db: str, _stamp: float) -> pd.DataFrame:
    return mlflow_store.family_runs(Path(db))


@st.cache_data(show_spinner=False)
def _trials(db: str, ids: tuple[str, ...], _stamp: float) -> pd.DataFrame:
    return mlflow_store.trials(Path(db), list(ids))


@st.cache_data(show_spinner=False)
def _aliases(db: str, _stamp: float) -> dict[str, dict[str, object]]:
    return mlflow_store.aliases(Path(db))


db = ws.mlflow_db
if not db.is_file():
    st.info("No MLflow store in this workspace yet: launch training above (or `evfleet train`).")
    st.stop()
stamp = db.stat().st_mtime
runs = _runs(str(db), stamp)
if runs.empty:
    st.info("No family runs logged yet: launch training above.")
    st.stop()

datasets = list(dict.fromkeys(runs["dataset_id"].dropna()))
dataset = st.sidebar.selectbox("Dataset (MLflow experiment)", datasets, key="train.dataset")
runs = runs[runs["dataset_id"] == dataset]
latest = (
    runs.sort_values("start_time").groupby("family", as_index=False).tail(1)
    .sort_values(names.SELECTION_METRIC)
)  # fmt: skip
aliases = _aliases(str(db), stamp)
role = {str(v["run_id"]): alias for alias, v in aliases.items()}

st.subheader("Champion and challenger")
cols = st.columns(len(names.ALIASES))
for col, alias in zip(cols, names.ALIASES, strict=True):
    found = aliases.get(alias)
    match = runs[runs["run_id"] == found["run_id"]] if found else runs.iloc[0:0]
    if found and not match.empty:
        row = match.iloc[0]
        mae = names.METRICS[names.SELECTION_METRIC]
        col.metric(
            f"@{alias}: {row['family']} (v{found['version']}), {mae.label}",
            f"{row[names.SELECTION_METRIC] * mae.scale:.2f}",
            help=f"{mae.label}; run {row['run_id']}",
        )
        if found["description"]:
            col.caption(str(found["description"]))
    elif found:
        col.caption(f"@{alias}: v{found['version']} was trained on another dataset.")
    else:
        col.caption(f"No model holds @{alias} in `{names.REGISTERED_MODEL}`.")

floor_path = ws.root / "noise_floor" / f"{dataset}.json"  # where the bench records it
floor = json.loads(floor_path.read_text(encoding="utf-8")) if floor_path.is_file() else None

st.subheader("Families")
table = pd.DataFrame({"family": latest["family"].to_numpy()})
table["role"] = [role.get(r, "") for r in latest["run_id"]]
table["status"] = latest["status"].to_numpy()
for key, metric in names.METRICS.items():
    table[metric.label] = latest[key].to_numpy() * metric.scale
if floor is not None:
    noise = {
        names.METRICS[k].label: floor.get(level, {}).get(col)
        for k, (level, col) in names.NOISE_FLOOR.items()
    }
    floor_row = {"family": "noise floor (best possible)", "role": "", "status": "measured"}
    table = pd.concat([table, pd.DataFrame([floor_row | noise])], ignore_index=True)
st.dataframe(table, hide_index=True, width="stretch")
if floor is None:
    measurable = jobs.SCRIPTS["noise_floor"].is_file() and dataset == ws.latest("datasets")
    st.caption(
        "Noise floor not measured for this dataset: it re-drives the held-out vehicles' trips "
        "with other random draws (a few minutes). "
        + ("" if measurable else f"`python bench/bench_noise_floor.py --workspace {ws.root} "
           "--held-out` records it (for the latest dataset).")
    )  # fmt: skip
    if measurable and st.button("Measure the noise floor", key="train.noise"):
        runs_view.launch(ws, "noise_floor", None, [])
        st.rerun()

chart_metric = st.selectbox(
    "Chart metric", list(names.METRICS), format_func=lambda k: names.METRICS[k].label,
    key="train.metric",
)  # fmt: skip
meta = names.METRICS[chart_metric]
bars = latest.assign(value=latest[chart_metric] * meta.scale).sort_values(
    "value", ascending=meta.lower_is_better
)
fig = px.bar(bars, x="family", y="value", labels={"value": meta.label}, color="family")
if floor is not None and chart_metric in names.NOISE_FLOOR:
    level, column = names.NOISE_FLOOR[chart_metric]
    value = floor.get(level, {}).get(column)
    if value is not None:
        fig.add_hline(y=value * meta.scale, line_dash="dash", annotation_text="noise floor")
st.plotly_chart(fig, width="stretch")

trial_table = _trials(str(db), tuple(latest["run_id"]), stamp)
if not trial_table.empty:
    family_of = dict(zip(latest["run_id"], latest["family"], strict=True))
    trial_table = trial_table.assign(
        family=trial_table["parent_id"].map(family_of),
        value=trial_table["value"] * names.METRICS[names.SELECTION_METRIC].scale,
    )
    st.plotly_chart(
        px.line(trial_table, x="trial", y="value", color="family", markers=True,
                labels={"value": names.METRICS[names.SELECTION_METRIC].label},
                title="Optuna trials per family"),
        width="stretch",
    )  # fmt: skip

st.subheader("Feature importance and predicted vs actual")
family = st.selectbox("Family", list(latest["family"]), key="train.family")
run = latest[latest["family"] == family].iloc[0]
importance = mlflow_store.artifact_file(
    run["artifact_uri"], names.IMPORTANCE_ARTIFACT, workspace_root=ws.root
)
left, right = st.columns(2)
if importance is not None:
    imp = pd.read_csv(importance, index_col=0).iloc[:, 0].head(20) * 1000.0
    left.plotly_chart(
        px.bar(x=imp.to_numpy()[::-1], y=imp.index.astype(str)[::-1], orientation="h",
               labels={"x": "MAE increase when shuffled (Wh)", "y": "feature"},
               title=f"{family}: permutation importance"),
        width="stretch",
    )  # fmt: skip
else:
    left.caption("No feature-importance artifact in this run (still running?).")
scatter = mlflow_store.artifact_file(
    run["artifact_uri"], names.PRED_VS_ACTUAL_ARTIFACT, workspace_root=ws.root
)
if scatter is not None:
    right.image(str(scatter), caption=f"{family}: predicted vs actual (held-out vehicles)")
else:
    right.caption("No predicted-vs-actual artifact in this run (still running?).")
if mlflow_ui:
    st.markdown(f"[Run in the MLflow UI]({mlflow_ui}/#/experiments/{run['experiment_id']}/runs/"
                f"{run['run_id']})")  # fmt: skip
