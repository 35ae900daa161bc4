"""Hour-by-hour traces: every hour's state and events of a few couples, from the engine itself.

``hourly_trace`` runs ``sim.engine.kernel.tick`` (the NumPy path of the engine) one hour at a time
and writes down what happened, so that a single request, its answer and the relief that follows
can be watched. A couple's states are exactly those of a run of the same setup (the engine's own
hour, the same draws). The teaching notebooks, the gallery and the dashboard's day view read it;
its figure is ``sim.plots.plot_hourly``.

>>> from sim import Setup
>>> from sim.trace import hourly_trace
>>> trace = hourly_trace(Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"},
...                            couples=1, days=3, seed=1))
>>> trace.state("relief").shape
(72, 2, 1)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .engine import kernel as k
from .simulation import Setup, build_kernel

__all__ = ["HourlyTrace", "hourly_trace"]


@dataclass
class HourlyTrace:
    """Everything that happened to a few couples, hour by hour.

    Attributes
    ----------
    states : numpy.ndarray, shape (hours, len(kernel.STATE_VARS), 2, n)
        Each person's state at the end of every hour (person 0 is partner A).
    asked, answered, affection : numpy.ndarray of bool, shape (hours, 2, n)
        Whether the person asked for reassurance in that hour, whether the partner answered, and
        whether the person received a gesture of unasked affection.
    dissolved_day : numpy.ndarray, shape (n,)
        Day each couple dissolved, -1 while together.
    relief_closed : numpy.ndarray, shape (hours, 2, n)
        Where a relief episode ended in that hour (relief had fallen to half its level just after
        the answer), how many hours it lasted; NaN elsewhere. Counted by the engine itself, the
        same rule as ``relief_hours_*`` in a run's ``couples.csv``.
    relief_censored : numpy.ndarray of bool, shape (hours, 2, n)
        Where a new answer came in that hour while the last one's relief had not yet halved (that
        episode's length is unknown: it is *censored*, not counted).

    """

    states: np.ndarray
    asked: np.ndarray
    answered: np.ndarray
    affection: np.ndarray
    dissolved_day: np.ndarray
    relief_closed: np.ndarray | None = None
    relief_censored: np.ndarray | None = None

    @property
    def hours(self) -> np.ndarray:
        """Hour numbers since the start, ``0 .. hours - 1``."""
        return np.arange(self.states.shape[0])

    def state(self, name: str) -> np.ndarray:
        """Return the state ``name`` (one of ``kernel.STATE_VARS``), shape ``(hours, 2, n)``."""
        if name not in k.STATE_VARS:
            raise ValueError(f"unknown state {name!r}; allowed: {', '.join(k.STATE_VARS)}")
        return self.states[:, k.STATE_VARS.index(name)]

    def relief_episodes(self, person: int = 0, couple: int = 0) -> np.ndarray:
        """How long the relief of each answer lasted: hours until it had fallen to half.

        Returns an array of shape ``(episodes, 2)``: the hour of the answer and the hours until
        the relief it gave had fallen to half its level just after the answer (the measure of
        ``relief_hours_*`` in a run's ``couples.csv``). Episodes cut short by the next answer
        (censored) and episodes still open at the end are left out; see :meth:`relief_censored`.
        """
        if self.relief_closed is None:
            raise ValueError("this trace was made without relief episodes (use hourly_trace)")
        closed = self.relief_closed[:, person, couple]
        ends = np.flatnonzero(np.isfinite(closed))
        return np.column_stack([ends - closed[ends], closed[ends]]).astype(float).reshape(-1, 2)

    def hours_to_next_request(self, person: int = 0, couple: int = 0) -> np.ndarray:
        """Hours from each answered request to the same person's next request (the old measure).

        Returns an array of shape ``(episodes, 2)``: the hour of the answer and the wait (the
        measure of ``hours_to_next_request_*`` in ``couples.csv``). It mixes relief with
        everything else that makes a person ask (stress, rebuffs, a partner's distance), so it
        shortens whenever asking becomes more frequent, even if relief lasts as long as before.
        An answer with no later request is left out.
        """
        asks = np.flatnonzero(self.asked[:, person, couple])
        rows = []
        for this, following in itertools.pairwise(asks):
            if self.answered[this, person, couple]:
                rows.append((this, following - this))
        return np.array(rows, dtype=float).reshape(-1, 2)


def hourly_trace(
    setup: Setup, days: int | None = None, set_state: Mapping[str, object] | None = None
) -> HourlyTrace:
    """Run ``setup`` hour by hour and keep every hour's state and events.

    Parameters
    ----------
    setup : Setup
        Keep ``couples`` small (a handful): every hour of every couple is stored.
    days : int, optional
        Days to trace (default ``setup.days``).
    set_state : mapping, optional
        Starting values to put in place before the first hour, by state name (for experiments,
        e.g. ``{"relief": 0.6, "habituation": [[0.0, 0.5], [0.0, 0.0]]}``); anything that
        broadcasts to shape ``(2, couples)``.

    Returns
    -------
    HourlyTrace

    """
    days = setup.days if days is None else int(days)
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    kern, _ = build_kernel(setup, engine="numpy")
    for name, value in (set_state or {}).items():
        if name not in k.STATE_VARS:
            raise ValueError(f"unknown state {name!r}; allowed: {', '.join(k.STATE_VARS)}")
        kern.state(name)[...] = value
    S, P, R, C = kern.S, kern.P, kern.R, kern.C
    hours = days * k.HOURS_PER_DAY
    states = np.empty((hours, len(k.STATE_VARS), 2, kern.n))
    events = np.zeros((hours, 3, 2, kern.n), dtype=bool)
    closed = np.full((hours, 2, kern.n), np.nan)
    censored = np.zeros((hours, 2, kern.n), dtype=bool)
    counted = (k.REQUESTS_TODAY, k.ANSWERED_TODAY, k.AFFECTION_RECEIVED)  # the hour's counts
    episodes = (k.RELIEF_FIRST_N, k.RELIEF_FIRST_SUM, k.CENSORED_FIRST)
    no_daily = np.empty((0, k.N_DAILY, 2, kern.n))
    # The engine counts relief episodes only in its first and last 30 days. The window flags feed
    # nothing but those counters, so the trace treats every day as "first": the engine then
    # counts every episode of the trace, and each person's states stay exactly as in a run.
    every_day_first, never_last = days + 1, days + 1
    with np.errstate(over="ignore"):  # the engine's hash relies on wrap-around arithmetic
        for day in range(days):
            together = np.flatnonzero(C[k.DISSOLVED_DAY] < 0.0)
            for hour in range(k.HOURS_PER_DAY):
                t = day * k.HOURS_PER_DAY + hour
                before = R[list(counted)].copy()
                count_before, sum_before, censored_before = R[list(episodes)].copy()
                k.tick(S, P, R, C, kern.keys, together, t, every_day_first, never_last)
                events[t] = R[list(counted)] > before
                done = R[k.RELIEF_FIRST_N] > count_before
                closed[t][done] = (R[k.RELIEF_FIRST_SUM] - sum_before)[done]
                censored[t] = R[k.CENSORED_FIRST] > censored_before
                states[t] = S
            k.end_of_day(S, P, R, C, kern.keys, together, day, no_daily, 0, False,
                         every_day_first, never_last)  # fmt: skip
            # The day's close moves state too (each person's appraisal takes its daily step), so
            # the day's last hour keeps the state after it: what the engine holds after the day.
            states[t] = S
    return HourlyTrace(states, events[:, 0], events[:, 1], events[:, 2], C[k.DISSOLVED_DAY].copy(),
                       closed, censored)  # fmt: skip
