"""How fast Play runs in a real browser: simulated days per second that Chromium shows.

Run from the repository root (needs Debian's Chromium at /usr/bin/chromium)::

    python benchmarks/dashboard_play.py [--seconds 10] [--speeds 1,5,10,30] [--tab Couple]

It starts ``solara run sim/app.py`` on a free port, opens the page in headless Chromium
(1440×900), picks an anxious and an avoidant partner, 500 couples and a 730-day run, and for
each "days per frame" choice presses Reset, sets the pause to 0 ms and plays for ``--seconds``:
it prints the simulated days per second the page's day counter showed, the frames per second
the browser received, and the bytes per frame sent over the websocket. Last, "Run to end" of
the whole run, timed. The target is at least 30 simulated days per second with 500 couples.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard_memory import CHROMIUM, FLAGS, _setup, free_port

ROOT = Path(__file__).resolve().parent.parent
TARGET = 30.0
RUN_DAYS = 730


def _start_server(port: int):
    import os
    import subprocess
    import urllib.request

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "solara", "run", str(ROOT / "sim" / "app.py"),
                               "--port", str(port), "--host", "127.0.0.1", "--production",
                               "--no-check-version"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    started = time.monotonic()
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).close()
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() - started > 180:
                server.kill()
                raise SystemExit("the dashboard server did not start") from None
            time.sleep(0.3)


class _Wire:
    """Bytes and messages the browser receives over the page's websocket."""

    def __init__(self, page) -> None:
        self.bytes = 0
        self.messages = 0
        page.on("websocket", self._attach)

    def _attach(self, socket) -> None:
        socket.on("framereceived", self._count)

    def _count(self, payload) -> None:
        self.bytes += len(payload)
        self.messages += 1


def play(page, wire: _Wire, per_frame: int, seconds: float) -> dict:
    """Play ``seconds`` at ``per_frame`` days per frame, no pause; what the browser saw."""
    page.get_by_role("button", name="Reset").click()
    expect(page.locator(".relsim-day")).to_contain_text("Day 0 of")
    page.locator(".relsim-days-per-frame").get_by_role(
        "button", name=str(per_frame), exact=True).click()  # fmt: skip
    page.locator(".relsim-slider-pause [role=slider]").focus()
    page.keyboard.press("Home")
    expect(page.locator(".relsim-pause-box")).to_contain_text("0 ms")
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function("() => /ay (\\d+)/.exec(document.querySelector('.relsim-day')"
                           ".innerText)[1] > 0")  # fmt: skip
    # The page notes each new day it shows, with the time: one new day shown is one frame.
    page.evaluate("""() => {
        window.__seen = [];
        const counter = document.querySelector('.relsim-day');
        const note = () => {
            const day = +/ay (\\d+)/.exec(counter.innerText)[1];
            const seen = window.__seen;
            if (!seen.length || seen[seen.length - 1][1] !== day) {
                seen.push([performance.now(), day]);
            }
        };
        window.__observer = new MutationObserver(note);
        window.__observer.observe(counter, {childList: true, subtree: true, characterData: true});
    }""")
    bytes0 = wire.bytes
    time.sleep(seconds)
    seen = page.evaluate("() => { window.__observer.disconnect(); return window.__seen; }")
    sent = wire.bytes - bytes0
    if page.get_by_role("button", name="❚❚ Pause").is_visible():
        page.get_by_role("button", name="❚❚ Pause").click()
    frames = max(len(seen) - 1, 1)
    elapsed = max((seen[-1][0] - seen[0][0]) / 1000, 1e-9) if len(seen) > 1 else seconds
    days = seen[-1][1] - seen[0][1] if len(seen) > 1 else 0
    return {
        "days_per_second": days / elapsed,
        "frames_per_second": frames / elapsed,
        "bytes_per_frame": sent / frames,
        "day": seen[-1][1] if seen else 0,
    }


def run_to_end(page) -> float:
    """Seconds for "Run to end" of a whole run, from the click to "Finished" on the page."""
    page.get_by_role("button", name="Reset").click()
    expect(page.locator(".relsim-day")).to_contain_text("Day 0 of")
    start = time.monotonic()
    page.get_by_role("button", name="Run to end").click()
    expect(page.locator(".relsim-day")).to_contain_text(f"Finished: day {RUN_DAYS}",
                                                        timeout=600_000)  # fmt: skip
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--speeds",
        default="1,2,5,10,30",
        help="days per frame to measure, comma-separated (default 1,2,5,10,30)",
    )
    parser.add_argument("--tab", default="Couple", help="the view shown while playing")
    args = parser.parse_args()
    try:
        speeds = [int(s) for s in args.speeds.split(",")]
    except ValueError:
        print(f"--speeds must be whole numbers separated by commas, got {args.speeds!r}",
              file=sys.stderr)  # fmt: skip
        return 2
    port = free_port()
    server = _start_server(port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(180_000)
            expect.set_options(timeout=180_000)
            wire = _Wire(page)
            page.goto(f"http://127.0.0.1:{port}/")
            expect(page.get_by_role("button", name="Reset")).to_be_enabled()
            _setup(page, RUN_DAYS)
            page.get_by_role("tab", name=args.tab, exact=True).click()
            print(
                f"500 couples, anxious + avoidant, {RUN_DAYS}-day run, pause 0 ms, "
                f"{args.tab} view, {args.seconds:g} s each (target >= {TARGET:g} days/s):"
            )
            best = 0.0
            for per_frame in speeds:
                seen = play(page, wire, per_frame, args.seconds)
                best = max(best, seen["days_per_second"])
                verdict = "PASS" if seen["days_per_second"] >= TARGET else "below target"
                print(f"  {per_frame:2d} day(s)/frame: {seen['days_per_second']:6.1f} days/s, "
                      f"{seen['frames_per_second']:5.1f} frames/s, "
                      f"{seen['bytes_per_frame'] / 1024:6.1f} KiB/frame "
                      f"(reached day {seen['day']})  {verdict}", flush=True)  # fmt: skip
            seconds = run_to_end(page)
            print(f"  Run to end: {RUN_DAYS} days in {seconds:.1f} s = "
                  f"{RUN_DAYS / seconds:.1f} days/s")  # fmt: skip
            browser.close()
        return 0 if best >= TARGET else 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except Exception:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
