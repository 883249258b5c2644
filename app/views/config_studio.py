"""Page 1, Configuration Studio: every config section as a form, validated live.

Errors from the pydantic model appear under the field they concern. Valid configs can be
saved by name into ``<workspace>/configs/`` (the Data Generation and Model Training pages
run with them), loaded back, or downloaded as YAML.
"""

from __future__ import annotations

import streamlit as st

from app import common, config_form
from evfleet.config import StudioConfig, load_config
from evfleet.errors import ConfigError
from evfleet.storage import atomic_write_text

ws = common.workspace()
st.title("Configuration Studio")
st.caption(
    "Every knob of an evfleet run. Values are checked by the same model as "
    "`evfleet --config`; errors show under the field."
)

config_form.load_into_state(StudioConfig(), overwrite=False)

saved = common.saved_configs(ws)
load_col, reset_col = st.columns([3, 1])
with load_col:
    chosen = st.selectbox("Saved configs", saved, index=None, placeholder="load a saved config")
    if st.button("Load", disabled=chosen is None) and chosen is not None:
        try:
            config_form.load_into_state(
                load_config(common.config_path(ws, chosen)), overwrite=True
            )
            st.session_state["cfg.name"] = chosen
            st.rerun()
        except ConfigError as exc:
            st.error(str(exc))
with reset_col:
    st.write("")
    if st.button("Reset to defaults"):
        config_form.load_into_state(StudioConfig(), overwrite=True)
        st.rerun()

data: dict[str, dict[str, object]] = {}
slots: dict[str, object] = {}
for tab, section in zip(
    st.tabs(list(config_form.SECTIONS.values())), config_form.SECTIONS, strict=True
):
    with tab:
        data[section], section_slots = config_form.render_section(section)
        slots |= section_slots

config, errors = config_form.validate(data)
config_form.show_errors(errors, slots)

st.divider()
if config is None:
    count = sum(len(v) for v in errors.values())
    st.error(f"The configuration has {count} problem(s); fix the fields marked in red.")
    st.stop()

st.success("The configuration is valid.")
name_col, save_col, download_col = st.columns([3, 1, 1])
name = name_col.text_input("Config name", key="cfg.name", placeholder="e.g. winter-200")
if save_col.button("Save", type="primary", disabled=not name):
    try:
        path = common.config_path(ws, name)
        ws.ensure()
        atomic_write_text(path, config.to_yaml())
        st.toast(f"saved {common.path_label(path)}")
    except ConfigError as exc:
        st.error(str(exc))
download_col.download_button(
    "Download YAML",
    config.to_yaml(),
    file_name=f"{name or 'evfleet'}.yaml",
    mime="application/x-yaml",
)
with st.expander("YAML preview"):
    st.code(config.to_yaml(), language="yaml")
