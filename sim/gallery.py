"""Regenerate the gallery: the figures the README, the class guide and the slides use.

Run ``relsim gallery`` (writes into ``results/gallery/``; ``python -m sim.gallery`` is the same)
or ``relsim gallery --out DIR --only reassurance-cycle``. Every figure comes from a bundled
scenario or a fixed setup with a fixed seed, so the same code gives the same pictures; how each
one is made is listed in ``FIGURES`` and in ``results/gallery/README.md``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_OUT", "FIGURES", "Figure", "make_gallery"]

#: Where ``relsim gallery`` writes by default (relative to the working directory).
DEFAULT_OUT = Path("results") / "gallery"

#: The phase diagram's grid: modest, so that the gallery takes seconds, not minutes.
PHASE_GRID = {
    "x": {"param": "partner_a.anxiety", "start": 0.0, "stop": 1.0, "num": 11},
    "y": {"param": "partner_b.avoidance", "start": 0.0, "stop": 1.0, "num": 11},
    "replicates": 20,
}

#: The intervention scenarios compared with their baseline, in the source article's order.
STRATEGY_SCENARIOS = (
    "anxious-avoidant-style-awareness",
    "anxious-avoidant-communication",
    "anxious-avoidant-consistent-actions",
    "anxious-avoidant-address-fears",
    "anxious-avoidant-therapy",
)


@dataclass(frozen=True)
class Figure:
    """One picture of the gallery: its file name, how it is made, and the function drawing it."""

    name: str
    made_from: str
    draw: Callable[[], object]

    @property
    def filename(self) -> str:
        """The PNG's file name."""
        return f"{self.name}.png"


def _overview(scenario_name: str):
    from .plots import run_overview
    from .scenario import load_scenario
    from .simulation import simulate

    scenario = load_scenario(scenario_name)
    return run_overview(simulate(scenario.setup()), scenario)


def _phase_diagram():
    from .plots import phase_diagram
    from .scenario import load_scenario
    from .sweep import run_sweep

    scenario = load_scenario("phase-anxiety-avoidance")
    return phase_diagram(run_sweep(scenario, sweep=PHASE_GRID, workers=1), scenario)


def _interventions():
    import matplotlib

    from .outcomes import broken
    from .plots import _STYLE, intervention_comparison, new_figure
    from .scenario import load_scenario
    from .simulation import simulate

    shares = {}
    for name in ("anxious-avoidant", *STRATEGY_SCENARIOS):
        label = "no help" if name == "anxious-avoidant" else name.split("-", 2)[2].replace("-", " ")
        # Spiraling or dissolved: a strategy that keeps couples together longer without ending
        # their spiral must not look as if it made things worse.
        shares[label] = float(broken(simulate(load_scenario(name).setup()).labels).mean())
    fig = new_figure(11.0, 6.0)
    with matplotlib.rc_context(_STYLE):
        ax = intervention_comparison(fig, shares, baseline="no help")
        ax.set_title("Anxious seeker, avoidant partner: how many spiral or split up\n"
                     "with each kind of help from day 60 (same couples)")  # fmt: skip
        ax.set_xlabel("Share of couples spiraling or dissolved")
        legend = ax.get_legend()
        if legend is not None:  # below the title's two lines: in the empty lower right corner
            ax.legend(handles=legend.legend_handles, loc="lower right", frameon=False)
    return fig


def _reassurance_cycle():
    from .plots import plot_hourly
    from .simulation import Setup
    from .teaching import hourly_trace

    setup = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, couples=1,
                  days=5, seed=3)  # fmt: skip
    return plot_hourly(
        hourly_trace(setup), title="The reassurance cycle: ask, answer, relief, fading, ask again"
    )


def _relief_fading():
    from .plots import plot_relief_fading
    from .teaching import relief_experiment

    trace, anxiety, habituation = relief_experiment([0.1, 0.5, 0.9], [0.0, 0.6], hours=72)
    return plot_relief_fading(trace, anxiety, habituation)


def _tipping_hysteresis():
    import numpy as np

    from .bifurcation import bifurcation
    from .plots import bifurcation_diagram
    from .scenario import load_scenario

    scenario = load_scenario("anxious-secure")
    return bifurcation_diagram(bifurcation(scenario, "exhaustion_rate", np.linspace(0.0, 0.48, 13),
                                           couples=100, hold_days=30))  # fmt: skip


FIGURES: tuple[Figure, ...] = (
    Figure("overview-anxious-avoidant", "relsim run anxious-avoidant (scenario seed 3)",
           lambda: _overview("anxious-avoidant")),
    Figure("overview-secure-secure", "relsim run secure-secure (scenario seed 1)",
           lambda: _overview("secure-secure")),
    Figure("phase-anxiety-avoidance", "scenario phase-anxiety-avoidance, 11 x 11 grid, "
           "20 couples per point (scenario seed 11)", _phase_diagram),
    Figure("interventions", "scenario anxious-avoidant and its five intervention scenarios, share "
           "spiraling or dissolved (same seed: common random numbers)", _interventions),
    Figure("reassurance-cycle", "one anxious-avoidant couple, hour by hour, days 1-5, seed 3 "
           "(sim.teaching.hourly_trace)", _reassurance_cycle),
    Figure("relief-fading", "one answer's relief fading for anxiety 0.1/0.5/0.9 and "
           "habituation 0/0.6, nothing else happening (sim.teaching.relief_experiment)",
           _relief_fading),
    Figure("tipping-hysteresis", "relsim bifurcation anxious-secure --param exhaustion_rate: "
           "13 values from 0 to 0.48, 100 couples each, ramp 30 days a step (scenario seed 2)",
           _tipping_hysteresis),
)  # fmt: skip


def make_gallery(out: str | Path = DEFAULT_OUT, only: Sequence[str] = (),
                 report: Callable[[str], object] = print) -> list[Path]:  # fmt: skip
    """Draw the gallery's figures (all, or those named in ``only``) into ``out``.

    Returns the paths written. Raises ``ValueError`` for an unknown figure name.
    """
    from .plots import save

    names = [figure.name for figure in FIGURES]
    for name in only:
        if name not in names:
            raise ValueError(f"unknown gallery figure {name!r}; allowed: {', '.join(names)}")
    written = []
    for figure in FIGURES:
        if only and figure.name not in only:
            continue
        started = time.perf_counter()
        fig = figure.draw()
        written.append(save(fig, Path(out) / figure.filename))
        report(f"wrote {written[-1]} ({time.perf_counter() - started:.1f} s)")
    return written


if __name__ == "__main__":  # python -m sim.gallery: the same as relsim gallery
    from .cli import main

    sys.exit(main(["gallery", *sys.argv[1:]]))
