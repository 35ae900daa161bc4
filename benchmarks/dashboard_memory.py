"""The dashboard server's memory over many resets, and how fast a browser sees it play.

Run from the repository root (needs Debian's Chromium at /usr/bin/chromium)::

    python benchmarks/dashboard_memory.py [--resets 20]

It starts ``solara run sim/app.py`` on a free port, opens the page in headless Chromium, picks
an anxious and an avoidant partner and 500 couples, then repeats Reset + "Run to end" (180
days) ``--resets`` times, reloading the page every 5 resets (a new session, with the settings
kept in the address; the old session is freed after Solara's cull timeout, 60 s here). After
each it prints the server's resident memory (RSS), then once more 75 s after the browser closed
(when Solara has culled the closed sessions). The bound: from reset 5 (caches warm) to that
last figure, memory grows by at most 40 MiB. It also prints the simulated days per second the
browser showed while playing at 1 and 5 days per frame with no pause.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.net import free_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BOUND_MIB = 40.0
MIB = 1024 * 1024


def _rss(process: subprocess.Popen) -> float:
    """Resident memory of the server and its children, in MiB."""
    main = psutil.Process(process.pid)
    return sum(p.memory_info().rss for p in [main, *main.children(recursive=True)]) / MIB


def _day(page) -> int:
    return int(re.search(r"ay (\d+) of", page.locator(".relsim-day").inner_text()).group(1))


def _play_speed(page, per_frame: int, seconds: float = 8.0) -> float:
    """Days per second the page shows while playing at ``per_frame`` days per frame, no pause."""
    page.get_by_role("button", name="Reset").click()
    choices = page.locator(".relsim-days-per-frame")
    choices.get_by_role("button", name=str(per_frame), exact=True).click()
    page.locator(".relsim-slider-pause [role=slider]").focus()
    page.keyboard.press("Home")
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function("() => /ay (\\d+)/.exec(document.querySelector('.relsim-day')"
                           ".innerText)[1] > 0")  # fmt: skip
    start_day, start = _day(page), time.monotonic()
    time.sleep(seconds)
    days, elapsed = _day(page) - start_day, time.monotonic() - start
    page.get_by_role("button", name="❚❚ Pause").click()
    return days / elapsed


def _setup(page, days: int) -> None:
    page.locator(".relsim-style-a").get_by_role("button", name="anxious").click()
    page.locator(".relsim-style-b").get_by_role("button", name="avoidant").click()
    page.get_by_role("button", name="500 couples").click()
    slider = page.locator(".relsim-slider-days [role=slider]")
    label = page.locator(".relsim-slider-label", has_text="Days to simulate")
    slider.focus()
    page.keyboard.press("Home")  # 30 days, then 10 a step to the run length asked for
    expect(label).to_contain_text("Days to simulate: 30")
    for _ in range((days - 30) // 10):
        page.keyboard.press("ArrowRight")
    expect(page.locator(".relsim-slider-label", has_text="Days to simulate")).to_contain_text(
        f"Days to simulate: {days}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resets", type=int, default=20)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "solara", "run", str(ROOT / "sim" / "app.py"),
                               "--port", str(port), "--host", "127.0.0.1", "--production",
                               "--no-check-version"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    started = time.monotonic()
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() - started > 180:
                    print("the dashboard server did not start", file=sys.stderr)
                    return 1
                time.sleep(0.3)
        print(f"server answers after {time.monotonic() - started:.1f} s; "
              f"memory {_rss(server):.0f} MiB")  # fmt: skip
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(180_000)
            expect.set_options(timeout=180_000)
            page.goto(url)
            expect(page.get_by_role("button", name="Reset")).to_be_enabled()
            print(f"page ready (engine loaded) after {time.monotonic() - started:.1f} s; "
                  f"memory {_rss(server):.0f} MiB")  # fmt: skip
            _setup(page, 730)
            for per_frame in (1, 5):
                speed = _play_speed(page, per_frame)
                print(f"browser shows {speed:5.1f} simulated days/s, 500 couples, {per_frame} "
                      "day(s) per frame, no pause (target >= 30)")  # fmt: skip
            _setup(page, 180)
            after = []
            for reset in range(1, args.resets + 1):
                if reset > 1 and reset % 5 == 1:  # a new session; the address keeps settings
                    page.reload()
                    expect(page.get_by_role("button", name="Reset")).to_be_enabled()
                    expect(page.locator(".relsim-day")).to_contain_text("of 180")
                page.get_by_role("button", name="Reset").click()
                page.get_by_role("button", name="Run to end").click()
                expect(page.locator(".relsim-day")).to_contain_text("Finished: day 180")
                after.append(_rss(server))
                print(f"reset {reset:2d} + run to day 180: server memory {after[-1]:6.0f} MiB",
                      flush=True)  # fmt: skip
            browser.close()
        # Closed pages keep their session until Solara culls it (60 s after the page went).
        time.sleep(75)
        settled = _rss(server)
        print(f"75 s after the browser closed (old sessions culled): {settled:6.0f} MiB")
        base = after[min(4, len(after) - 1)]
        within = max(after[i] - after[i - 1] for i in range(1, len(after)) if i % 5)
        growth = settled - base
        verdict = "PASS" if growth <= BOUND_MIB else "FALLS SHORT"
        print(f"largest growth from one Reset to the next in one page: {within:+.0f} MiB")
        print(f"growth from reset 5 to after the culling: {growth:+.0f} MiB "
              f"(bound {BOUND_MIB:g} MiB) {verdict}")  # fmt: skip
        return 0 if growth <= BOUND_MIB else 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
