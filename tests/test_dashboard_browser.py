"""End-to-end test of the dashboard in a real browser (Debian's Chromium driven by Playwright).

The server runs as a child process on a free port, offline; the test picks an anxious and an
avoidant partner, resets, steps, plays and pauses, visits every view, checks that the figures
change and the badge shows, and saves a screenshot of each view under test-artifacts/.
A missing browser fails this test (CI installs ``chromium`` with apt-get); it never skips.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from sim.app import SOLARA_OFFLINE_FLAGS

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
# What Debian's Chromium needs to run headless in a container, offline.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]  # fmt: skip
SERVER_START_SECONDS = 120  # first start compiles the engine with Numba on a slow machine
UI_SECONDS = 60_000  # ms, for Playwright waits

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """Serve the dashboard with ``solara run sim/app.py --production`` on a free port."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "dashboard-server.log", "w")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "solara", "run", str(ROOT / "sim" / "app.py"), "--port", str(port),
         "--host", "127.0.0.1", "--production", *SOLARA_OFFLINE_FLAGS],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the dashboard server exited with {process.returncode}; "
                                   f"see {ARTIFACTS / 'dashboard-server.log'}")  # fmt: skip
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard did not answer on {url} within "
                                   f"{SERVER_START_SECONDS} s")  # fmt: skip
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()


def _badge_day(page) -> int:
    text = page.locator(".relsim-badge").inner_text()
    return int(text.split("Day ")[1].split(" of")[0])


def test_dashboard_in_a_real_browser(server):
    assert Path(CHROMIUM).exists(), (f"{CHROMIUM} is missing: install Debian's chromium "
                                     "(apt-get install -y chromium)")  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                                             headless=True)  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1500})
            page.set_default_timeout(UI_SECONDS)
            # Everything the page asks for must come from this server and load: no 404 (such
            # as Solara's KaTeX script from its CDN path) and no script error in the console.
            failed: list[str] = []
            page.on("response", lambda response: failed.append(
                f"{response.status} {response.url}") if response.status >= 400 else None)
            page.on("console", lambda message: failed.append(
                f"console: {message.text}") if message.type == "error" else None)
            page.on("pageerror", lambda error: failed.append(f"page error: {error}"))
            page.goto(server)
            badge = page.locator(".relsim-badge")
            expect(badge).to_contain_text("Day 0 of 180")
            expect(badge).to_contain_text("JUST STARTED")
            expect(badge).to_contain_text("too early to tell")

            # Choose an anxious partner A and an avoidant partner B, then Reset.
            page.locator(".relsim-style-a").get_by_role("button", name="anxious").click()
            page.locator(".relsim-style-b").get_by_role("button", name="avoidant").click()
            expect(page.locator(".relsim-slider-label").first).to_contain_text("0.85")
            page.get_by_role("button", name="Reset").click()
            expect(badge).to_contain_text("Day 0 of 180")
            security_before = page.locator(".relsim-security svg").inner_html()

            for day in range(1, 6):
                page.get_by_role("button", name="Step").click()
                expect(badge).to_contain_text(f"Day {day} of 180")
            security_after = page.locator(".relsim-security svg").inner_html()
            expect(badge).to_have_attribute("data-outcome", "too-early")  # day 5: no verdict yet
            page.screenshot(path=str(ARTIFACTS / "dashboard-start.png"), full_page=True,
                            animations="disabled")  # fmt: skip
            assert security_after != security_before, "the felt-security chart did not change"

            page.get_by_role("button", name="▶").click()
            page.wait_for_function(
                "() => { const t = document.querySelector('.relsim-badge').innerText;"
                " return parseInt(t.split('Day ')[1]) >= 40; }", timeout=UI_SECONDS)
            page.get_by_role("button", name="❚❚").click()
            expect(page.get_by_role("button", name="▶")).to_be_visible()
            time.sleep(0.5)  # a day already under way when Pause was pressed may still land
            paused_at = _badge_day(page)
            time.sleep(1.0)
            assert _badge_day(page) == paused_at, "the run went on after Pause"
            assert paused_at >= 40
            expect(badge).to_have_attribute("data-outcome", "spiraling")
            expect(page.locator(".relsim-aspects")).to_contain_text("excessive")
            page.screenshot(path=str(ARTIFACTS / "dashboard-couple.png"), full_page=True,
                            animations="disabled")

            # The run's sliders show their values; "1 couple" is one click (docs/teaching.md).
            choices = page.locator(".relsim-couples-choices")
            choices.scroll_into_view_if_needed()
            days_label = page.locator(".relsim-slider-label", has_text="Days to simulate")
            couples_label = page.locator(".relsim-slider-label", has_text="Couples")
            expect(days_label).to_contain_text("Days to simulate: 180")
            expect(couples_label).to_contain_text("followed): 100")
            page.get_by_role("button", name="1 couple").click()
            expect(couples_label).to_have_text(re.compile(r"followed\): 1\s*$"))
            page.screenshot(path=str(ARTIFACTS / "dashboard-run-controls.png"),
                            animations="disabled")  # fmt: skip
            page.get_by_role("button", name="100 couples").click()
            expect(couples_label).to_contain_text("followed): 100")

            page.get_by_role("tab", name="Where you are").click()
            expect(page.locator(".relsim-phase-traits svg")).to_be_visible(timeout=UI_SECONDS)
            expect(page.locator(".relsim-phase-levers svg")).to_be_visible(timeout=UI_SECONDS)
            page.screenshot(path=str(ARTIFACTS / "dashboard-where.png"), full_page=True,
                            animations="disabled")

            page.get_by_role("tab", name="Population").click()
            expect(page.locator(".relsim-population-requests svg")).to_be_visible()
            expect(page.locator(".relsim-population-pairings svg")).to_be_visible(
                timeout=UI_SECONDS)  # fmt: skip
            page.screenshot(path=str(ARTIFACTS / "dashboard-population.png"), full_page=True,
                            animations="disabled")

            page.get_by_role("tab", name="Explain").click()
            # Wait for the tab's slide-in to end, or the screenshot catches it half-way.
            expect(page.get_by_text("Relief, and why it gets shorter")).to_be_in_viewport(ratio=1)
            page.wait_for_timeout(600)
            page.screenshot(path=str(ARTIFACTS / "dashboard-explain.png"), full_page=True,
                            animations="disabled")

            # A seed that is not a number: a message, and the page keeps working.
            page.get_by_label("Seed (whole number)").fill("seven")
            expect(page.locator(".relsim-error")).to_contain_text("whole number")
            page.get_by_role("tab", name="Couple").click()
            page.get_by_role("button", name="Reset").click()
            expect(badge).to_contain_text("Day 0 of 180")
            page.get_by_role("button", name="Step").click()
            expect(badge).to_contain_text("Day 1 of 180")
            assert failed == [], f"requests or scripts failed: {failed}"
        finally:
            browser.close()


def test_the_server_stays_offline_and_quiet(server):
    """No PyPI version check and no rules-of-hooks warning from Mesa in the server log."""
    urllib.request.urlopen(server, timeout=30).close()
    log = (ARTIFACTS / "dashboard-server.log").read_text()
    assert "New version of Solara" not in log
    for words in ("Failed to validate hooks", "found despite early return", "rules of hooks"):
        assert words not in log, words
