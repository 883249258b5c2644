"""Benchmark the studio: first render of every page (and analytics tab) on a workspace.

Usage::

    python bench/bench_studio.py --workspace evfleet-data [--repeats 3] [--pages PAGE ...]

Each figure is a cold render: Streamlit's data and resource caches are cleared first, so
tables are read, tables computed and maps serialised as on a user's first visit (the
server has its modules imported already, as a running ``evfleet ui dashboard`` has). The
baseline is a one-line Streamlit script rendered the same way; the target is <= 2 s per
page on the demo workspace (``evfleet run``). Server-side time only: the browser adds the
transfer and drawing (the browser test in tests/app checks pages render).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from evfleet.storage import WORKSPACE_ENV  # noqa: E402

MAIN = str(ROOT / "app" / "main.py")
PAGES = ("config_studio", "data_generation", "model_training", "fleet_optimization", "analytics")
TABS = {
    "fleet_optimization": ("Before / after", "Vehicle-day map", "Route planner", "Report"),
    "analytics": ("Fleet KPIs", "Efficiency", "Costs", "Stations", "Energy map", "Quality", "SQL",
                  "Downloads"),
}  # fmt: skip
"""Pages with tabs are rendered once per tab (only the open tab runs)."""
TARGET_S = 2.0


def _cold(render: AppTest) -> float:
    st.cache_data.clear()
    st.cache_resource.clear()
    started = time.perf_counter()
    render.run()
    elapsed = time.perf_counter() - started
    if render.exception:
        msg = f"page raised: {render.exception[0].value}"
        raise RuntimeError(msg)
    return elapsed


def _page(page: str, tab: str | None = None) -> float:
    at = AppTest.from_file(MAIN, default_timeout=120).run()
    if tab is not None:
        at.query_params["tab"] = tab
    at.switch_page(f"views/{page}.py")
    return _cold(at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", required=True, help="workspace to render (demo)")
    parser.add_argument("--repeats", type=int, default=3, help="cold renders per page")
    parser.add_argument(
        "--pages", nargs="+", choices=PAGES, default=list(PAGES), help="pages to render (all)"
    )
    args = parser.parse_args()
    os.environ[WORKSPACE_ENV] = str(Path(args.workspace).resolve())
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    for page in PAGES:  # import every module once, as a running server has
        _page(page)
    script = AppTest.from_string("import streamlit as st\nst.write('x')").run()
    baseline = statistics.median(_cold(script) for _ in range(args.repeats))
    print(f"workspace {os.environ[WORKSPACE_ENV]}; target <= {TARGET_S:.1f} s per first render")
    print(f"{'page':<40}{'median s':>10}{'max s':>9}{'x baseline':>12}")
    print(f"{'(one-line script)':<40}{baseline:>10.3f}{'':>9}{1.0:>12.1f}")
    worst = 0.0
    targets = [(p, t) for p in args.pages for t in TABS.get(p, (None,))]
    for page, tab in targets:
        times = [_page(page, tab) for _ in range(args.repeats)]
        name = page if tab is None else f"{page} / {tab}"
        med = statistics.median(times)
        worst = max(worst, *times)
        print(f"{name:<40}{med:>10.3f}{max(times):>9.3f}{med / baseline:>12.1f}")
    verdict = "within" if worst <= TARGET_S else "OVER"
    print(f"slowest first render {worst:.2f} s: {verdict} the {TARGET_S:.0f} s target")


if __name__ == "__main__":
    main()
