"""Small helpers for the teaching notebooks and the gallery: hour-by-hour traces and plain tables.

Nothing here adds to the model. Every number comes from the same engine as ``simulate``: the
hourly trace (``sim.trace.hourly_trace``) runs ``sim.engine.kernel.tick`` (the NumPy path of the
engine) one hour at a time and writes down what happened, so that a student can watch a single
request, its answer and the relief that follows. Its two figures, an hourly strip (``plot_hourly``)
and a relief-fading experiment (``plot_relief_fading``), are drawn by ``sim.plots`` like every other
figure and offered here next to the traces they draw; small grids run through
``sim.sweep.run_sweep``.

>>> from sim.teaching import format_table
>>> print(format_table([("stable", 0.5), ("spiraling", 0.25)], ("outcome", "share")))
outcome    share
---------  -----
stable     0.50
spiraling  0.25
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from .engine import kernel as k
from .outcomes import outcomes_by_pairing
from .plots import plot_hourly, plot_relief_fading  # drawn there, offered here with the traces
from .simulation import Result, Setup, simulate
from .trace import HourlyTrace, hourly_trace  # the model's own trace, offered here with its figure

__all__ = [
    "HourlyTrace",
    "compare_strategies",
    "format_aspects",
    "format_table",
    "hourly_trace",
    "outcomes_by_pairing",
    "plot_hourly",
    "plot_relief_fading",
    "relief_experiment",
]


def relief_experiment(anxiety: Sequence[float], habituation: Sequence[float], hours: int = 72,
                      seed: int = 0) -> tuple[HourlyTrace, np.ndarray, np.ndarray]:  # fmt: skip
    """Give each person one answer's worth of relief and watch it fade, with nothing else going on.

    One couple per (anxiety, habituation) pair: partner A starts with relief 0.6, the given
    habituation and no threat; stressors, requests and unasked affection are switched off, so the
    only thing that moves is the relief fading and what it leaves behind (rebound).

    Returns
    -------
    trace : HourlyTrace
    anxiety, habituation : numpy.ndarray
        The value of each couple (one couple per combination, anxiety varying slowest).

    """
    grid_a, grid_h = np.meshgrid(np.asarray(anxiety, float), np.asarray(habituation, float),
                                 indexing="ij")  # fmt: skip
    grid_a, grid_h = grid_a.ravel(), grid_h.ravel()
    setup = Setup(
        partner_a={"style": "secure", "anxiety": grid_a, "avoidance": 0.1},
        partner_b={"style": "secure", "anxiety": 0.1, "avoidance": 0.1},
        dynamics={"stress_rate": 0.0, "reassurance_frequency": 0.0, "affection_rate": 0.0},
        couples=grid_a.size, days=max(1, -(-hours // k.HOURS_PER_DAY)), seed=seed,
    )  # fmt: skip
    start_habituation = np.zeros((2, grid_a.size))
    start_habituation[0] = grid_h
    trace = hourly_trace(setup, set_state={"relief": 0.6, "threat": 0.0,
                                           "habituation": start_habituation})  # fmt: skip
    trace.states = trace.states[:hours]
    trace.asked = trace.asked[:hours]
    trace.answered = trace.answered[:hours]
    trace.affection = trace.affection[:hours]
    trace.relief_closed = trace.relief_closed[:hours]
    trace.relief_censored = trace.relief_censored[:hours]
    return trace, grid_a, grid_h


def compare_strategies(base: Setup, kinds: Sequence[str], day: int = 30) -> dict[str, Result]:
    """Run ``base`` once without help and once per intervention kind started on ``day``.

    Every run has the same seed, so the same people meet the same stressors and the same coin
    flips (common random numbers): a difference between two runs comes from the strategy alone.
    """
    runs = {"no help": simulate(replace(base, interventions=()))}
    for kind in kinds:
        runs[kind] = simulate(replace(base, interventions=[{"kind": kind, "day": day}]))
    return runs


def format_table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """Return a plain-text table with aligned columns (floats shown with two decimals)."""

    def cell(v: object) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    body = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(line.rstrip() for line in lines)


def format_aspects(result: Result) -> str:
    """Return the healthy-versus-excessive table of a run as plain text."""
    rows = [(r["aspect"], r["measure"], float(r["value"]), r["verdict"]) for r in result.aspects()]
    return format_table(rows, ("aspect", "what was measured", "value", "verdict"))
