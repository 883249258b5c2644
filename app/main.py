"""Entry file of the evfleet studio: ``evfleet ui dashboard`` runs it with Streamlit.

Run directly with ``EVFLEET_WORKSPACE=DIR streamlit run app/main.py``. The entry file
draws the frame (title, workspace, service links) and routes to one module per page.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run app/main.py` puts app/ on sys.path, not the project: make `app` importable.
_PROJECT = str(Path(__file__).resolve().parents[1])
if _PROJECT not in sys.path:
    sys.path.insert(0, _PROJECT)

import streamlit as st  # noqa: E402

from app import common  # noqa: E402

VIEWS = Path(__file__).resolve().parent / "views"

# No icons: Streamlit fetches Material icons from fonts.gstatic.com, and the studio must
# work with no network at all.
st.set_page_config(page_title="evfleet studio", layout="wide")

pages = [
    st.Page(VIEWS / "config_studio.py", title="Configuration Studio", default=True),
    st.Page(VIEWS / "data_generation.py", title="Data Generation"),
    st.Page(VIEWS / "model_training.py", title="Model Training"),
    st.Page(VIEWS / "fleet_optimization.py", title="Fleet Optimization"),
    st.Page(VIEWS / "analytics.py", title="Analytics"),
]
page = st.navigation(pages)

ws = common.workspace()
with st.sidebar:
    st.markdown("### evfleet studio")
    st.caption(f"Workspace: `{ws.root}`")
    links = [
        f"[{name} UI]({url})"
        for name, url in (("Prefect", common.prefect_ui_url()), ("MLflow", common.mlflow_ui_url()))
        if url
    ]
    st.caption(" · ".join(links) if links else "Prefect / MLflow UIs: `evfleet ui prefect|mlflow`")
page.run()
