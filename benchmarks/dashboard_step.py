"""Time one dashboard day for 500 couples: the model's step plus every live view's content.

Run from the repository root: ``python benchmarks/dashboard_step.py``. It prints the median and
the slowest of 60 days (after a warm-up that compiles the engine), for the step alone and for the
step with the Couple view (six SVG charts, badge, healthy-vs-excessive table) and the Population
view's live charts. The target is well under 100 ms.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.dashboard_state import ReliefEpisodes, initial_controls, model_kwargs
from sim.dashboard_views import (
    aspects_html,
    badge_html,
    couple_charts,
    population_charts,
)
from sim.model import RelationshipModel

DAYS = 60


TARGET_MS = 100.0


def measure(days: int = DAYS) -> dict:
    """Median and slowest milliseconds per dashboard day, step alone and with every live view."""
    controls = initial_controls()
    controls.update(
        style_a="anxious",
        style_b="avoidant",
        anxiety_a=0.85,
        avoidance_a=0.15,
        anxiety_b=0.15,
        avoidance_b=0.85,
        couples=500,
        days=180,
    )
    model = RelationshipModel(**model_kwargs(controls, seed=1))
    episodes = ReliefEpisodes(model)
    model.step()  # warm-up: compiles (or loads) the engine
    couple_charts(model, episodes)
    step_only, with_views = [], []
    for _ in range(days):
        start = time.perf_counter()
        model.step()
        middle = time.perf_counter()
        couple_charts(model, episodes)
        badge_html(model)
        aspects_html(model)
        population_charts(model)
        end = time.perf_counter()
        step_only.append((middle - start) * 1000)
        with_views.append((end - start) * 1000)
    return {
        "step_median": statistics.median(step_only),
        "step_slowest": max(step_only),
        "views_median": statistics.median(with_views),
        "views_slowest": max(with_views),
    }


def results() -> list[dict]:
    """Rows for ``run_all``."""
    m = measure()
    return [
        {
            "target": "dashboard: one day, 500 couples, all views",
            "goal": f"well under {TARGET_MS:g} ms",
            "measured": f"median {m['views_median']:.1f} ms, slowest {m['views_slowest']:.1f} ms "
            f"(step alone {m['step_median']:.1f} ms)",
            "passed": m["views_median"] < TARGET_MS / 2,
            "value": m["views_median"],
        }
    ]


def main() -> None:
    m = measure()
    print(f"500 couples, {DAYS} days (days 2-{DAYS + 1} of 180):")
    print(
        f"  model step alone:        median {m['step_median']:6.1f} ms, "
        f"slowest {m['step_slowest']:6.1f} ms"
    )
    print(
        f"  step with live views:    median {m['views_median']:6.1f} ms, "
        f"slowest {m['views_slowest']:6.1f} ms"
    )


if __name__ == "__main__":
    main()
