"""How fast the dashboard plays with 500 couples: one day's cost, and simulated days per second.

Run from the repository root::

    python benchmarks/dashboard_step.py

It prints (1) the median and the slowest of 60 days for the engine's day alone and for the day
with every live view's content (six SVG charts, badge, healthy-vs-excessive table, population
charts), as ``sim.dashboard.views.Session`` computes a frame; and (2) simulated days per second
while playing a 730-day run with no pause, for each "days per frame" choice of the run bar: the
play loop of the page without the browser (what the server can deliver). The target is at
least 30 days per second with 500 couples at 5 days per frame or more. What a browser shows is
measured by ``benchmarks/dashboard_memory.py`` (which drives Chromium) and printed by the
fastest-play browser test.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.dashboard.state import initial_controls, model_kwargs
from sim.dashboard.views import Session

DAYS = 60
COUPLES = 500
TARGET_MS = 100.0
TARGET_DAYS_PER_SECOND = 30.0
SPEEDS = (1, 5, 10, 30)


def _controls(days: int) -> dict:
    controls = initial_controls()
    controls.update(style_a="anxious", style_b="avoidant", anxiety_a=0.85, avoidance_a=0.15,
                    anxiety_b=0.15, avoidance_b=0.85, couples=COUPLES, days=days)  # fmt: skip
    return controls


def measure(days: int = DAYS) -> dict:
    """Median and slowest milliseconds per dashboard day, step alone and with every live view."""
    session = Session(model_kwargs(_controls(180), seed=1))
    session.advance(1)  # warm-up: compiles (or loads) the engine
    step_only, with_views = [], []
    for _ in range(days):
        start = time.perf_counter()
        session.model.kernel.advance(1)
        middle = time.perf_counter()
        session.advance(0)  # draws the frame of the day just simulated
        end = time.perf_counter()
        step_only.append((middle - start) * 1000)
        with_views.append((end - start) * 1000)
    return {
        "step_median": statistics.median(step_only),
        "step_slowest": max(step_only),
        "views_median": statistics.median(with_views),
        "views_slowest": max(with_views),
    }


def days_per_second(per_frame: int, days: int = 730) -> float:
    """Simulated days per second of the play loop (no pause) over a whole ``days``-day run."""
    session = Session(model_kwargs(_controls(days), seed=1))
    session.advance(1)
    session.reset(model_kwargs(_controls(days), seed=1))
    start = time.perf_counter()
    while not session.finished:
        session.advance(per_frame)
    return days / (time.perf_counter() - start)


def results() -> list[dict]:
    """Rows for ``run_all``."""
    m = measure()
    speed = days_per_second(5)
    return [
        {
            "target": "dashboard: one day, 500 couples, all views",
            "goal": f"well under {TARGET_MS:g} ms",
            "measured": f"median {m['views_median']:.1f} ms, slowest {m['views_slowest']:.1f} ms "
            f"(step alone {m['step_median']:.1f} ms)",
            "passed": m["views_median"] < TARGET_MS / 2,
            "value": m["views_median"],
        },
        {
            "target": "dashboard: Play, 500 couples, 5 days per frame",
            "goal": f">= {TARGET_DAYS_PER_SECOND:g} days/s",
            "measured": f"{speed:.0f} simulated days/s over a 730-day run",
            "passed": speed >= TARGET_DAYS_PER_SECOND,
            "value": speed,
        },
    ]


def main() -> None:
    m = measure()
    print(f"{COUPLES} couples, {DAYS} days (days 2-{DAYS + 1} of 180):")
    print(f"  engine, one day:         median {m['step_median']:6.1f} ms, "
          f"slowest {m['step_slowest']:6.1f} ms")  # fmt: skip
    print(f"  day with live views:     median {m['views_median']:6.1f} ms, "
          f"slowest {m['views_slowest']:6.1f} ms")  # fmt: skip
    print(f"Play with no pause, {COUPLES} couples, a 730-day run (server side, no browser); "
          f"target >= {TARGET_DAYS_PER_SECOND:g} days/s:")  # fmt: skip
    for per_frame in SPEEDS:
        speed = days_per_second(per_frame)
        verdict = "PASS" if speed >= TARGET_DAYS_PER_SECOND else "below target"
        print(f"  {per_frame:2d} day(s) per frame: {speed:6.1f} days/s  {verdict}")


if __name__ == "__main__":
    main()
