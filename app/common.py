"""Shared pieces of the studio pages: the workspace, cached loaders, service links.

Loaders are cached with ``st.cache_data`` keyed on the workspace root and a stage id: a
stage output never changes under its id (DESIGN.md §3), so a cached table is valid until a
new stage id appears, and a new run shows up as soon as its manifest is committed.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pydeck as pdk
import streamlit as st

from app import maps
from evfleet.analytics import edge_lines
from evfleet.config import StudioConfig, load_config
from evfleet.errors import ConfigError, EvfleetError
from evfleet.storage import TABLE_FILES, WORKSPACE_ENV, Workspace

PREFECT_API_DEFAULT = "http://127.0.0.1:4200/api"
MLFLOW_UI_DEFAULT = "http://127.0.0.1:5000"
PROBE_TIMEOUT_S = 0.3
NETWORK_TABLES = tuple(TABLE_FILES["network"])
QUALITY_TABLES = tuple(TABLE_FILES["quality"])
OPTIMIZATION_TABLES = tuple(TABLE_FILES["optimization"])
DATASET_TABLES = tuple(TABLE_FILES["datasets"])
REPORT_FILE = "report.html"


def workspace() -> Workspace:
    """The studio's workspace (``evfleet ui dashboard --workspace`` sets the variable)."""
    return Workspace(os.environ.get(WORKSPACE_ENV))


@st.cache_data(ttl=2, show_spinner=False)
def stage_runs(root: str, stage: str) -> list[dict[str, Any]]:
    """Manifests of a stage's completed outputs, newest first (re-read every 2 s)."""
    return Workspace(root).list_runs(stage)


def pick_stage(stage: str, label: str, *, key: str) -> str | None:
    """A sidebar selector of a stage's outputs (newest first); ``None`` when there is none."""
    runs = stage_runs(str(workspace().root), stage)
    if not runs:
        return None
    ids = [str(m["id"]) for m in runs]
    created = {str(m["id"]): str(m.get("created_at", ""))[:19].replace("T", " ") for m in runs}
    return st.sidebar.selectbox(
        label, ids, key=key, format_func=lambda sid: f"{sid}  ({created[sid]})"
    )


@st.cache_data(show_spinner=False, max_entries=32)
def load_table(
    root: str, stage: str, sid: str, table: str, columns: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """One table of a stage output (a Parquet file or a folder of parts), cached on its id."""
    cols = list(columns) if columns is not None else None
    return Workspace(root).read_table(stage, sid, table, columns=cols)


@st.cache_data(show_spinner=False)
def stage_json(root: str, stage: str, sid: str, name: str) -> dict[str, Any]:
    """A JSON file of a stage output (e.g. the network's meta.json)."""
    path = Workspace(root).stage_dir(stage, sid) / name
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@st.cache_data(ttl=10, show_spinner=False)
def probe(url: str) -> bool:
    """True when an HTTP service answers at ``url`` (checked at most every 10 s)."""
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as resp:
            return int(resp.status) < 500
    except (urllib.error.URLError, OSError, ValueError):
        return False


def prefect_api_url() -> str:
    """The Prefect API the studio's runs report to when a server is up."""
    return os.environ.get("PREFECT_API_URL") or PREFECT_API_DEFAULT


def prefect_ui_url() -> str | None:
    """Base URL of the Prefect UI, or ``None`` when no server answers."""
    api = prefect_api_url().rstrip("/")
    return api.removesuffix("/api") if probe(f"{api}/health") else None


def mlflow_ui_url() -> str | None:
    """Base URL of the MLflow UI (``EVFLEET_MLFLOW_UI_URL`` or :5000), if one answers."""
    url = os.environ.get("EVFLEET_MLFLOW_UI_URL", MLFLOW_UI_DEFAULT).rstrip("/")
    return url if probe(f"{url}/health") else None


def need_stage(stage: str, sid: str | None, hint: str) -> str:
    """Stop the page with an explanation when a stage has no output yet."""
    if sid is None:
        st.info(f"No {stage} output in workspace `{workspace().root}` yet. {hint}")
        st.stop()
    return sid


def path_label(path: Path) -> str:
    """A path shown relative to the workspace when it lies inside it."""
    root = workspace().root
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


CONFIG_DIR = "configs"
_CONFIG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def config_dir(ws: Workspace) -> Path:
    """Folder of the named YAML configs saved from the studio."""
    return ws.root / CONFIG_DIR


def saved_configs(ws: Workspace) -> list[str]:
    """Names of the saved configs, sorted."""
    folder = config_dir(ws)
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def config_path(ws: Workspace, name: str) -> Path:
    """Path of a named config; a clear error for names that are not plain file names."""
    if not _CONFIG_NAME.match(name) or name.endswith(".yaml"):
        msg = (
            f"invalid config name {name!r}: use letters, digits, '_', '-' or '.' "
            "(at most 64, no extension)"
        )
        raise ConfigError(msg)
    return config_dir(ws) / f"{name}.yaml"


@st.cache_data(show_spinner=False, max_entries=4)
def network_lines(root: str, sid: str) -> pd.DataFrame:
    """The network's drawable edge lines (base layer of every map), cached on its id."""
    edges = load_table(root, "network", sid, "edges", ("u", "v", "highway"))
    nodes = load_table(root, "network", sid, "nodes", ("node_id", "lat", "lon"))
    return edge_lines(edges, nodes)


def run_config(ws: Workspace, name: str | None) -> tuple[StudioConfig, Path | None]:
    """A saved config by name (``None``: the built-in defaults) and its file."""
    if name is None:
        return StudioConfig(), None
    path = config_path(ws, name)
    return load_config(path), path


def config_picker(ws: Workspace, *, key: str) -> tuple[StudioConfig, Path | None] | None:
    """Choose the config a run uses: the defaults or one saved on the Configuration page.

    Returns ``None`` (after showing the error) when the saved file no longer validates.
    """
    names = saved_configs(ws)
    choice = st.selectbox(
        "Run with config",
        [None, *names],
        format_func=lambda n: "built-in defaults" if n is None else n,
        key=key,
        help="Save configs on the Configuration Studio page.",
    )
    try:
        return run_config(ws, choice)
    except ConfigError as exc:
        st.error(str(exc))
        return None


@st.cache_resource(show_spinner=False, max_entries=4)
def network_deck(root: str, sid: str) -> pdk.Deck:
    """The network map (roads and stations), built and serialised once per network id."""
    lines = network_lines(root, sid)
    stations = load_table(root, "network", sid, "stations")
    return maps.deck(
        [maps.road_layer(lines), maps.station_layer(stations)],
        maps.view_of(lines),
        tooltip={"text": "{name}\n{kind} {power_kw} kW"},
    )


def keep_result(key: str, compute: Callable[[], Any]) -> None:
    """Run ``compute`` (on a button press) and keep its result in ``st.session_state[key]``,
    or its one-line error in ``<key>.error``, so either survives the page's reruns."""
    try:
        st.session_state[key] = compute()
        st.session_state.pop(f"{key}.error", None)
    except EvfleetError as exc:
        st.session_state[f"{key}.error"] = str(exc)
        st.session_state.pop(key, None)


def kept_result(key: str) -> Any:
    """The result kept by :func:`keep_result` (``None`` if none), showing its error if any."""
    if f"{key}.error" in st.session_state:
        st.error(st.session_state[f"{key}.error"])
    return st.session_state.get(key)
