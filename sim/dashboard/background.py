"""The dashboard's background computations: maps, a mixed class, one day hour by hour.

Each runs the model's own engine in a thread of the page (the page shows a progress bar
meanwhile) and is cached by its arguments, so coming back to a setting costs nothing.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from ..engine import kernel as k
from ..interventions import KINDS
from ..outcomes import broken, outcomes_by_pairing
from ..params import DYNAMICS, dynamics_defaults
from ..simulation import Setup, simulate
from ..styles import LITERATURE_MIX
from ..sweep import sweep_setup
from ..trace import hourly_trace
from .state import MAX_COUPLES, dynamics_of, levers, preset_traits

__all__ = [
    "DIAGRAM_POINTS",
    "GRID_POINTS",
    "GRID_REPLICATES",
    "LEVER_PAIRS",
    "DayHours",
    "LeverDiagram",
    "PhaseGrid",
    "day_hours",
    "diagram_span",
    "lever_axis",
    "lever_diagram",
    "mixed_population",
    "phase_grid",
]

#: Phase diagrams: points per axis and couples per point. 11 x 11 x 3 = 363 couples, which the
#: compiled engine runs for 180 days in about half a second in a background thread.
GRID_POINTS = 11
GRID_REPLICATES = 3

#: The lever pairs a phase diagram can show: key -> (x parameter, y parameter). Every pair of
#: the table's levers, the later levers first (relief decay × exhaustion rate opens the view).
LEVER_PAIRS: dict[str, tuple[str, str]] = {
    f"{DYNAMICS[x].title.lower()} × {DYNAMICS[y].title.lower()}": (x, y)
    for x, y in reversed(list(itertools.combinations(levers(), 2)))
}


def _interventions_of(kwargs: Mapping[str, object]) -> list[dict[str, object]]:
    return [{"kind": kind, "day": kwargs[f"{kind}_day"]} for kind in KINDS
            if kwargs.get(f"{kind}_day") is not None]  # fmt: skip


def _setup_from_kwargs(kwargs: Mapping[str, object], couples: int) -> Setup:
    """Build a ``Setup`` equivalent to the model's, for the background computations."""
    partners = []
    for role in ("a", "b"):
        spec: dict[str, object] = {"style": kwargs[f"style_{role}"]}
        for trait in ("anxiety", "avoidance"):
            value = kwargs[f"{trait}_{role}"]
            preset = preset_traits(str(kwargs[f"style_{role}"]))[trait == "avoidance"]
            spec[trait] = preset if value is None else value
        partners.append(spec)
    return Setup(
        partner_a=partners[0],
        partner_b=partners[1],
        dynamics=dynamics_of(kwargs),
        interventions=_interventions_of(kwargs),
        couples=couples,
        days=int(kwargs["days"]),
        seed=int(kwargs["rng"]),
    )  # type: ignore[call-overload]


@dataclass(frozen=True)
class PhaseGrid:
    """Share of couples spiraling or dissolved over a grid of two parameters.

    Attributes
    ----------
    x_name, y_name : str
        Parameter names (``anxiety_a``, ``avoidance_b`` or a dynamics name).
    x_values, y_values : tuple of float
        The grid.
    share : numpy.ndarray, shape (len(x_values), len(y_values))
        Share of the point's couples labelled spiraling or dissolved at the end of the run.
    marker : (float, float)
        Where the current couple sits.

    """

    x_name: str
    y_name: str
    x_values: tuple[float, ...]
    y_values: tuple[float, ...]
    share: np.ndarray
    marker: tuple[float, float]


def _freeze(kwargs: Mapping[str, object]) -> tuple:
    """Make keyword arguments hashable (for the caches), nested ``dynamics`` included."""
    return tuple(sorted((key, _freeze(value) if isinstance(value, Mapping) else value)
                        for key, value in kwargs.items()))  # fmt: skip


def _thaw(frozen: tuple) -> dict[str, object]:
    return {key: dict(value) if key == "dynamics" else value for key, value in frozen}


def phase_grid(kwargs: Mapping[str, object], which: str = "traits") -> PhaseGrid:
    """Compute (or fetch from the cache) a phase diagram around the current settings.

    Parameters
    ----------
    kwargs : mapping
        The model's keyword arguments (see :func:`model_kwargs`); ``couples`` is ignored.
    which : str
        ``"traits"`` for partner A's anxiety × partner B's avoidance, or a key of
        ``LEVER_PAIRS``.

    """
    if which != "traits" and which not in LEVER_PAIRS:
        raise ValueError(f"unknown phase diagram {which!r}; allowed: traits, "
                         f"{', '.join(LEVER_PAIRS)}")  # fmt: skip
    frozen = {key: value for key, value in kwargs.items() if key != "couples"}
    return _phase_grid_cached(_freeze(frozen), which)


@functools.lru_cache(maxsize=24)
def _phase_grid_cached(frozen: tuple, which: str) -> PhaseGrid:
    kwargs = _thaw(frozen)
    base = _setup_from_kwargs(kwargs, couples=1)
    if which == "traits":
        x_name, y_name = "anxiety_a", "avoidance_b"
        x_param, y_param = "partner_a.anxiety", "partner_b.avoidance"
        marker = (float(base.partner_a["anxiety"]), float(base.partner_b["avoidance"]))
        x_values = y_values = np.linspace(0.0, 1.0, GRID_POINTS)
    else:
        x_name, y_name = LEVER_PAIRS[which]
        x_param, y_param = f"dynamics.{x_name}", f"dynamics.{y_name}"
        values = {**dynamics_defaults(), **dynamics_of(kwargs)}
        marker = (float(values[x_name]), float(values[y_name]))
        x_values = np.linspace(*lever_axis(x_name, marker[0]), GRID_POINTS)
        y_values = np.linspace(*lever_axis(y_name, marker[1]), GRID_POINTS)
    setup, x_axis, y_axis = sweep_setup(base, x_param, x_values, y_param, y_values,
                                        GRID_REPLICATES)  # fmt: skip
    labels = simulate(setup).labels.reshape(GRID_POINTS, GRID_POINTS, GRID_REPLICATES)
    # Spiraling or dissolved: a couple that spirals long enough dissolves (sim.outcomes.BROKEN).
    share = np.mean(broken(labels), axis=2)
    return PhaseGrid(x_name, y_name, x_axis.values, y_axis.values, share, marker)


def lever_axis(name: str, value: float) -> tuple[float, float]:
    """Return the span of a lever map's axis around the current value.

    From the lowest allowed value to 2.5 times the larger of the current value and the default
    (at most the highest allowed value). The whole allowed range would put the default couple at
    the edge of a map that is mostly one colour (relief decay runs to 10 a day); this span keeps
    the couple and the boundary near it in view.
    """
    param = DYNAMICS[name]
    high = min(float(param.high), 2.5 * max(float(value), float(param.default)))
    return float(param.low), max(high, float(param.low) + 1e-6)


def mixed_population(kwargs: Mapping[str, object], couples: int = MAX_COUPLES) -> dict:
    """Outcome shares by pairing of styles in a mixed population with the current dynamics.

    People are drawn from the literature mix (``sim.styles.LITERATURE_MIX``) and paired at
    random; the levers, communication, stress, interventions, days and seed are the dashboard's.
    Returns ``sim.outcomes.outcomes_by_pairing``'s table (cached).
    """
    frozen = {key: value for key, value in kwargs.items()
              if key not in ("couples", "style_a", "style_b") and "anxiety" not in key
              and "avoidance" not in key}  # fmt: skip
    return _mixed_cached(_freeze(frozen), couples)


@functools.lru_cache(maxsize=8)
def _mixed_cached(frozen: tuple, couples: int) -> dict:
    kwargs = _thaw(frozen)
    setup = Setup(dynamics=dynamics_of(kwargs), interventions=_interventions_of(kwargs),
                  days=int(kwargs["days"]), seed=int(kwargs["rng"]), couples=couples,  # type: ignore[call-overload]
                  population={"mix": dict(LITERATURE_MIX), "couples": couples})  # fmt: skip
    return outcomes_by_pairing(simulate(setup))


@dataclass(frozen=True)
class DayHours:
    """One day of couple 1, hour by hour (from the engine's own hourly trace).

    Attributes
    ----------
    day : int
        The day (1-based, as on the charts).
    security, relief : numpy.ndarray, shape (24, 2)
        Each partner's state at the end of every hour of the day.
    asked, answered : numpy.ndarray of bool, shape (24, 2)
        Whether the partner asked in that hour, and whether the request was answered.

    """

    day: int
    security: np.ndarray
    relief: np.ndarray
    asked: np.ndarray
    answered: np.ndarray


def day_hours(setup: Setup, day: int) -> DayHours:
    """Replay couple 1 of ``setup`` hour by hour up to ``day`` and return that day's hours.

    ``sim.trace.hourly_trace`` runs the same engine one hour at a time; with one couple, the
    same people, parameters and seed, it tells couple 1's story to the hour.
    """
    day = int(day)
    if not 1 <= day <= setup.days:
        raise ValueError(f"day must be between 1 and {setup.days}, got {day}")
    trace = hourly_trace(replace(setup, couples=1), days=day)
    hours = slice((day - 1) * k.HOURS_PER_DAY, day * k.HOURS_PER_DAY)
    return DayHours(day, trace.state("security")[hours, :, 0].copy(),
                    trace.state("relief")[hours, :, 0].copy(), trace.asked[hours, :, 0].copy(),
                    trace.answered[hours, :, 0].copy())  # fmt: skip


#: Values of the lever on a bifurcation diagram (the mean field is solved at each).
DIAGRAM_POINTS = 21


@dataclass(frozen=True)
class LeverDiagram:
    """The mean-field bifurcation diagram of one lever, with the other settings fixed.

    Attributes
    ----------
    name : str
        The lever (a dynamics parameter).
    values : numpy.ndarray
        The lever's values.
    calm, spiral : numpy.ndarray
        The seeker's expected requests a day at the stable equilibrium that is calm, and at the
        one that is a spiral (by ``sim.outcomes``' rule), at each value; NaN where there is none.
    unstable : tuple of (float, float)
        ``(value, requests)`` of every unstable equilibrium: the tipping threshold between them.
    bistable : numpy.ndarray of bool
        Where two stable equilibria coexist.
    seeker : int
        The partner (0 = A) who asks more across the diagram, whose requests are drawn.

    """

    name: str
    values: np.ndarray
    calm: np.ndarray
    spiral: np.ndarray
    unstable: tuple[tuple[float, float], ...]
    bistable: np.ndarray
    seeker: int


def diagram_span(name: str, value: float) -> tuple[float, float]:
    """The lever's span on its diagram: ``sim.bifurcation.default_range``, widened to ``value``.

    It does not follow the slider (so moving the lever finds the diagram in the cache), unless
    the slider leaves it: then it reaches a quarter past the slider's value.
    """
    from ..bifurcation import default_range

    param = DYNAMICS[name]
    low, high = default_range(name, param)
    if value > high:
        high = min(float(param.high), 1.25 * float(value))
    return float(low), float(high)


def lever_diagram(kwargs: Mapping[str, object], name: str) -> LeverDiagram:
    """Compute (or fetch from the cache) the bifurcation diagram of lever ``name``.

    The mean field (``sim.meanfield``) of the couple set by ``kwargs`` (the model's keyword
    arguments), over the lever's span (:func:`diagram_span`) with every other setting as
    given. The lever's own value, the days, the seed, the number of couples and the strategies
    are left out of the cache key (the mean field describes the couple without strategies), so
    moving the lever's slider only moves the marker.
    """
    if name not in DYNAMICS:
        raise ValueError(f"unknown lever {name!r}; allowed: {', '.join(DYNAMICS)}")
    value = float(dynamics_of(kwargs).get(name, DYNAMICS[name].default))
    dynamics = {key: v for key, v in dynamics_of(kwargs).items() if key != name}
    partners = {key: kwargs[key] for key in kwargs
                if key.startswith(("style_", "anxiety_", "avoidance_"))}  # fmt: skip
    return _lever_diagram_cached(_freeze({**partners, "dynamics": dynamics}), name,
                                 diagram_span(name, value))  # fmt: skip


@functools.lru_cache(maxsize=32)
def _lever_diagram_cached(frozen: tuple, name: str, span: tuple[float, float]) -> LeverDiagram:
    from .. import meanfield as mf
    from ..bifurcation import spiral_at_equilibrium

    kwargs = {**_thaw(frozen), "days": 1, "rng": 0}
    setup = _setup_from_kwargs(kwargs, couples=1)
    values = np.linspace(*span, DIAGRAM_POINTS)
    found, _ = mf.equilibria_and_regime(mf.mean_couple(setup, lanes={name: values}))
    asked = np.zeros(2)
    for points in found:
        for e in points:
            asked += np.asarray(e.requests, dtype=float)
    seeker = int(np.argmax(asked))
    calm = np.full(values.shape, np.nan)
    spiral = np.full(values.shape, np.nan)
    unstable = []
    for i, points in enumerate(found):
        stable = []
        for e in points:
            rate = float(e.requests[seeker])
            if e.stable:
                stable.append((rate, e))
            else:
                unstable.append((float(values[i]), rate))
        if len(stable) >= 2:
            # Two stable states: the one that asks more is the spiral branch, even where it sits
            # just under the outcome rule's cut-offs (near the fold).
            calm[i] = min(rate for rate, _ in stable)
            spiral[i] = max(rate for rate, _ in stable)
        elif stable:
            rate, e = stable[0]
            if spiral_at_equilibrium(e):
                spiral[i] = rate
            else:
                calm[i] = rate
    bistable = ~np.isnan(calm) & ~np.isnan(spiral)
    return LeverDiagram(name, values, calm, spiral, tuple(unstable), bistable, seeker)
