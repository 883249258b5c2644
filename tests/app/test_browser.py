"""The running dashboard in a real browser: every page renders, without an exception box
or a traceback, and without a single request leaving the machine (offline maps/charts).

Starts ``evfleet ui dashboard`` on the fixture workspace (or ``$EVFLEET_STUDIO_WORKSPACE``,
e.g. the demo workspace), opens each page in headless Chromium (Debian's ``chromium``;
``.ci/run`` installs it) and saves one screenshot per page into
``$EVFLEET_SCREENSHOT_DIR`` (default: the test's temporary folder). Skips, saying why,
when no browser is installed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.browser import BROWSER_ENV, BROWSERS, Browser, find_browser

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PAGES = (
    ("", "Configuration Studio", "config_studio", "configuration is valid"),
    ("data_generation", "Data Generation", "data_generation", "Stage outputs"),
    ("model_training", "Model Training", "model_training", "Families"),
    ("fleet_optimization", "Fleet Optimization", "4-fleet_optimization", "Lowest SOC"),
    ("fleet_optimization?tab=Vehicle-day+map", "Fleet Optimization",
     "4-fleet_optimization_vehicle_day", "Optimised trips"),
    ("fleet_optimization?tab=Route+planner", "Fleet Optimization",
     "4-fleet_optimization_route_planner", "Plan route"),
    ("analytics", "Analytics", "analytics", "Vehicles x days"),
    ("analytics?tab=Stations", "Analytics", "analytics_stations", "public stations were used"),
    ("analytics?tab=Energy+map", "Analytics", "analytics_energy_map", "driven edges"),
)  # fmt: skip
"""URL path, page title, screenshot name, a text the rendered page shows (its content
arrived, not only the frame)."""
MAP_PAGES = {"data_generation", "analytics_stations", "analytics_energy_map",
             "4-fleet_optimization_vehicle_day", "4-fleet_optimization_route_planner"}  # fmt: skip
PLANNER = "4-fleet_optimization_route_planner"
START_TIMEOUT_S = 120
RENDER_TIMEOUT_S = 240
"""Generous: a page's first visit imports its modules, slow on a loaded 2-core machine;
the wait ends as soon as the page's marker text is shown and the page is idle."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"evfleet ui dashboard exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    pytest.fail(f"the dashboard did not answer at {url} within {START_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def browser_binary() -> str:
    binary = find_browser()
    if binary is None:
        pytest.skip(
            f"no headless browser: none of {', '.join(BROWSERS)} on PATH (set ${BROWSER_ENV} "
            "or `apt-get install chromium`; .ci/run does this in CI)"
        )
    return binary


@pytest.fixture(scope="module")
def dashboard(studio_ws: Path, browser_binary: str) -> Iterator[str]:
    """URL of ``evfleet ui dashboard`` running on the workspace (stopped afterwards)."""
    workspace = os.environ.get("EVFLEET_STUDIO_WORKSPACE") or str(studio_ws)
    port = _free_port()
    paths = [str(REPO), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "ui", "dashboard", "--workspace", workspace,
         "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/_stcore/health", proc)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


RENDERED = """(() => {
  const h1 = document.querySelector('h1');
  const running = document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
  const skeleton = document.querySelector('[data-testid="stSkeleton"]');
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  return !!h1 && h1.innerText.trim() === %s && !running && !skeleton
    && main.innerText.includes(%s) && %s;
})()"""
MAP_DRAWN = "document.querySelectorAll('[data-testid=\"stDeckGlJsonChart\"] canvas').length > 0"
CLICK_PLAN = """(() => {
  const b = [...document.querySelectorAll('button')].find(x => x.innerText.trim() === 'Plan route');
  if (b) { b.click(); }
  return !!b;
})()"""
PLANNED = """(() => {
  const running = document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
  const charts = document.querySelectorAll('[data-testid="stPlotlyChart"]').length;
  const maps = document.querySelectorAll('[data-testid="stDeckGlJsonChart"] canvas').length;
  return !running && charts > 0 && maps > 1 && document.body.innerText.includes('Charging stops');
})()"""

SHOW_ROUTE = """(() => {
  const head = [...document.querySelectorAll('h2, h3')].find(h => h.innerText.includes('→'));
  if (head) { head.scrollIntoView({block: 'start'}); }
  return !!head;
})()"""
"""Scroll the planned route's heading (``origin → destination``) to the top of the shot."""


def _check(browser: Browser, name: str, shot: Path) -> None:
    exceptions = browser.evaluate(
        "document.querySelectorAll('[data-testid=\"stException\"]').length"
    )
    text = browser.evaluate("document.body.innerText")
    assert exceptions == 0, f"{name} shows an exception box: {text[:2000]}"
    assert "Traceback" not in text, f"{name} shows a traceback"
    assert shot.stat().st_size > 10_000, f"{name} screenshot looks empty"


def _plan_route(browser: Browser, shot: Path, settle_s: float) -> None:
    """The route planner answers in the page: a route, its map and the Pareto front."""
    assert browser.evaluate(CLICK_PLAN), "no Plan route button"
    planned = browser.wait_for(PLANNED, timeout_s=RENDER_TIMEOUT_S, stable_s=0.75)
    browser.evaluate(SHOW_ROUTE)
    time.sleep(settle_s)
    browser.screenshot(shot)
    assert planned, f"the planned route did not render (screenshot: {shot})"
    _check(browser, shot.stem, shot)


def test_every_page_renders_offline(dashboard: str, browser_binary: str, tmp_path: Path) -> None:
    shots = Path(os.environ.get("EVFLEET_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    for_docs = "EVFLEET_SCREENSHOT_DIR" in os.environ
    height, settle_s = (1500, 1.5) if for_docs else (1000, 0.3)
    with Browser(browser_binary, width=1400, height=height) as browser:
        for path, title, name, marker in PAGES:
            browser.goto(f"{dashboard}/{path}")
            drawn = MAP_DRAWN if name in MAP_PAGES else "true"
            ready = RENDERED % (repr(title), repr(marker), drawn)
            rendered = browser.wait_for(ready, timeout_s=RENDER_TIMEOUT_S, stable_s=0.75)
            time.sleep(settle_s)  # let WebGL and plotly paint before the screenshot
            shot = browser.screenshot(shots / f"studio-{name}.png")
            assert rendered, f"{name} did not finish rendering (screenshot: {shot})"
            _check(browser, name, shot)
            if name == PLANNER:
                _plan_route(browser, shots / "studio-4-fleet_optimization_route.png", settle_s)
        remote = browser.external_requests()
        assert remote == [], f"the studio must not load anything remote: {remote}"
