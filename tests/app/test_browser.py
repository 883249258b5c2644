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
    ("", "Configuration Studio", "config_studio"),
    ("data_generation", "Data Generation", "data_generation"),
    ("model_training", "Model Training", "model_training"),
    ("analytics", "Analytics", "analytics"),
    ("analytics?tab=Stations", "Analytics", "analytics_stations"),
    ("analytics?tab=Energy+map", "Analytics", "analytics_energy_map"),
)
"""URL path, page title, screenshot name."""
MAP_PAGES = {"data_generation", "analytics_stations", "analytics_energy_map"}
START_TIMEOUT_S = 90
RENDER_TIMEOUT_S = 90


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
  return !!h1 && h1.innerText.trim() === %s && !running && !skeleton && %s;
})()"""
MAP_DRAWN = "document.querySelectorAll('[data-testid=\"stDeckGlJsonChart\"] canvas').length > 0"


def test_every_page_renders_offline(dashboard: str, browser_binary: str, tmp_path: Path) -> None:
    shots = Path(os.environ.get("EVFLEET_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    for_docs = "EVFLEET_SCREENSHOT_DIR" in os.environ
    height, settle_s = (1500, 1.5) if for_docs else (1000, 0.3)
    with Browser(browser_binary, width=1400, height=height) as browser:
        for path, title, name in PAGES:
            browser.goto(f"{dashboard}/{path}")
            ready = RENDERED % (repr(title), MAP_DRAWN if name in MAP_PAGES else "true")
            rendered = browser.wait_for(ready, timeout_s=RENDER_TIMEOUT_S, stable_s=0.75)
            time.sleep(settle_s)  # let WebGL and plotly paint before the screenshot
            shot = browser.screenshot(shots / f"studio-{name}.png")
            assert rendered, f"{name} did not finish rendering (screenshot: {shot})"
            exceptions = browser.evaluate(
                "document.querySelectorAll('[data-testid=\"stException\"]').length"
            )
            text = browser.evaluate("document.body.innerText")
            assert exceptions == 0, f"{name} shows an exception box: {text[:2000]}"
            assert "Traceback" not in text, f"{name} shows a traceback"
            assert shot.stat().st_size > 10_000, f"{name} screenshot looks empty"
        remote = browser.external_requests()
        assert remote == [], f"the studio must not load anything remote: {remote}"
