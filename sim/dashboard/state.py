"""The dashboard's logic without any widget: controls, seed parsing, background computations.

Everything here is plain Python on top of ``sim.model``, ``sim.simulation`` and ``sim.sweep``, so
the tests and ``benchmarks/dashboard_step.py`` use it without a browser. ``sim.app`` only lays the
results out.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from . import kernel as k
from .interventions import KINDS
from .params import DYNAMICS, RUN, Param, dynamics_defaults
from .simulation import Setup, simulate
from .styles import LITERATURE_MIX, Style
from .sweep import sweep_setup
from .teaching import outcomes_by_pairing

__all__ = [
    "CONTROL_DEFAULTS",
    "COUPLES_RANGE",
    "DAYS_RANGE",
    "FEATURED",
    "GRID_POINTS",
    "GRID_REPLICATES",
    "LEVER_PAIRS",
    "DayHours",
    "PhaseGrid",
    "ReliefEpisodes",
    "day_hours",
    "dynamics_of",
    "initial_controls",
    "intervention_day",
    "lever_axis",
    "lever_names",
    "mixed_population",
    "model_kwargs",
    "other_dynamics",
    "param_label",
    "parse_seed",
    "phase_grid",
    "preset_traits",
    "slider_range",
]

#: Largest population the dashboard offers (the model allows more; the browser stays quick).
MAX_COUPLES = 500

#: The run's sliders: (low, high, step). Days and couples are narrower than the model allows
#: (``sim.params.RUN``) so that a run stays quick in a browser.
DAYS_RANGE = (30, 730, 10)
COUPLES_RANGE = (1, MAX_COUPLES, 1)

#: Dynamics parameters shown as the main levers when ``Param`` carries no ``lever`` flag.
_FALLBACK_LEVERS = ("reassurance_frequency", "relief_decay", "exhaustion_rate", "communication",
                    "stress_rate")  # fmt: skip


def _nice_steps(limit: float) -> list[float]:
    """Round steps (1, 2, 2.5 or 5 times a power of ten) at most ``limit``, largest first."""
    if limit <= 0 or not math.isfinite(limit):
        return []
    power = 10.0 ** math.floor(math.log10(limit))
    steps = []
    for _ in range(4):
        steps += [m * power for m in (5, 2.5, 2, 1) if m * power <= limit * (1 + 1e-9)]
        power /= 10
    return steps


def _on_grid(value: float, low: float, step: float) -> bool:
    ratio = (value - low) / step
    return abs(ratio - round(ratio)) < 1e-6


def slider_range(param: Param) -> tuple[float, float, float]:
    """Return ``(low, high, step)`` of the slider for ``param``, from the parameter table.

    The range is the parameter's allowed range. The step is the parameter's own ``step`` when
    the table gives one, else the largest round step of at most a twentieth of the range on
    which the low end, the high end and the default all fall (so the default stays reachable).
    """
    low, high = float(param.low), float(param.high)
    given = getattr(param, "step", None)
    if given:
        return low, high, float(given)
    if param.integer:
        return low, high, 1.0
    span = high - low
    for step in _nice_steps(span / 20):
        if _on_grid(high, low, step) and _on_grid(float(param.default), low, step):
            return low, high, step
    return low, high, (_nice_steps(span / 100) or [span / 100])[0]


def param_label(param: Param) -> str:
    """Return a slider's plain-words label with its unit (from ``Param.label`` when it has one)."""
    label = getattr(param, "label", None)
    if not label:
        words = param.name.replace("_", " ")
        label = f"{words[0].upper()}{words[1:]}"
    return f"{label} ({param.unit})"


#: Dynamics parameters the class works with besides the levers (the guide's exercises use them),
#: shown with the levers when the table has them; every other one is one click away.
FEATURED = ("communication", "stress_rate")


def lever_names() -> tuple[str, ...]:
    """Dynamics parameters shown as the main controls: the table's levers, then ``FEATURED``."""
    flagged = tuple(name for name, p in DYNAMICS.items() if getattr(p, "lever", False))
    if not flagged:
        flagged = tuple(name for name in _FALLBACK_LEVERS if name in DYNAMICS)
    return flagged + tuple(name for name in FEATURED if name in DYNAMICS and name not in flagged)


def other_dynamics() -> tuple[str, ...]:
    """Every other dynamics parameter (the "Every other parameter" panel), in the table's order."""
    shown = set(lever_names())
    return tuple(name for name in DYNAMICS if name not in shown)


#: The controls when the page opens: a secure couple, the model's calibrated defaults.
CONTROL_DEFAULTS: dict[str, object] = {
    "style_a": "secure",
    "style_b": "secure",
    "anxiety_a": Style.SECURE.anxiety,
    "avoidance_a": Style.SECURE.avoidance,
    "anxiety_b": Style.SECURE.anxiety,
    "avoidance_b": Style.SECURE.avoidance,
    **{f"{kind}_on": False for kind in KINDS},
    **{f"{kind}_day": 60 for kind in KINDS},
    "days": 180,
    "couples": 100,
    "seed_text": "1",
}

#: Phase diagrams: points per axis and couples per point. 11 x 11 x 3 = 363 couples, which the
#: compiled engine runs for 180 days in about half a second in a background thread.
GRID_POINTS = 11
GRID_REPLICATES = 3

#: The lever pairs a phase diagram can show: key -> (x parameter, y parameter).
LEVER_PAIRS: dict[str, tuple[str, str]] = {
    f"{x.replace('_', ' ')} × {y.replace('_', ' ')}": (x, y)
    for x, y in (("relief_decay", "exhaustion_rate"), ("reassurance_frequency", "exhaustion_rate"),
                 ("reassurance_frequency", "relief_decay"))
    if x in DYNAMICS and y in DYNAMICS
}  # fmt: skip


def initial_controls() -> dict[str, object]:
    """Return a fresh copy of the controls the page opens with (every dynamics at its default)."""
    return {**CONTROL_DEFAULTS, **{name: float(p.default) for name, p in DYNAMICS.items()}}


def preset_traits(style: str) -> tuple[float, float]:
    """Return the (anxiety, avoidance) preset of a style name."""
    preset = Style.from_label(style)
    return preset.anxiety, preset.avoidance


def parse_seed(text: object) -> tuple[int | None, str]:
    """Read the seed field: return ``(seed, "")`` or ``(None, message saying what is allowed)``."""
    raw = str(text).strip()
    high = int(RUN["seed"].high)
    if not raw:
        return None, "Type a seed: a whole number such as 7."
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        shown = raw if len(raw) <= 40 else raw[:39] + "…"
        return None, (f"The seed must be a whole number such as 7, not {shown!r}. "
                      "Reset keeps the last good seed.")  # fmt: skip
    if not 0 <= value <= high:
        return None, f"The seed must be between 0 and {high}, not {value}."
    return value, ""


def _trait_or_none(controls: Mapping[str, object], role: str, trait: str) -> float | None:
    """Return the slider value, or None when it sits on the style's preset (the model jitters).

    With several couples the model draws each person around the preset, so that no two couples
    are identical; moving a slider off the preset fixes that trait for every couple.
    """
    value = float(controls[f"{trait}_{role}"])  # type: ignore[arg-type]
    preset = dict(zip(("anxiety", "avoidance"), preset_traits(str(controls[f"style_{role}"])),
                      strict=True))  # fmt: skip
    return None if abs(value - preset[trait]) < 1e-9 else value


def intervention_day(controls: Mapping[str, object], kind: str) -> int:
    """The start day of strategy ``kind``: its slider, moved into the run when the run is shorter.

    The sliders start at day 60; in a 30-day run that day would never come (and the model
    refuses it), so the strategy starts on the run's last day instead, and the slider shows it.
    """
    days = int(controls["days"])  # type: ignore[call-overload]
    return min(int(controls[f"{kind}_day"]), max(days - 1, 0))  # type: ignore[call-overload]


def _keyword_dynamics() -> frozenset[str]:
    """Dynamics parameters ``RelationshipModel`` takes as keywords (the rest go in ``dynamics``)."""
    from .model import RelationshipModel

    keywords = inspect.signature(RelationshipModel.__init__).parameters
    return frozenset(name for name in DYNAMICS if name in keywords)


def model_kwargs(controls: Mapping[str, object], seed: int) -> dict[str, object]:
    """Turn the dashboard's controls into ``RelationshipModel`` keyword arguments.

    Every dynamics parameter of ``sim.params.DYNAMICS`` is passed: by its own keyword when the
    model has one, else inside ``dynamics`` (only when it differs from the default), so a new
    parameter in the table reaches the model without a change here.
    """
    kwargs: dict[str, object] = {
        "style_a": str(controls["style_a"]),
        "style_b": str(controls["style_b"]),
        "days": int(controls["days"]),  # type: ignore[call-overload]
        "couples": int(controls["couples"]),  # type: ignore[call-overload]
        "rng": int(seed),
    }
    for role in ("a", "b"):
        for trait in ("anxiety", "avoidance"):
            kwargs[f"{trait}_{role}"] = _trait_or_none(controls, role, trait)
    keywords = _keyword_dynamics()
    others: dict[str, float] = {}
    for name, param in DYNAMICS.items():
        value = float(controls.get(name, param.default))  # type: ignore[arg-type]
        value = round(value) if param.integer else value
        if name in keywords:
            kwargs[name] = value
        elif value != param.default:
            others[name] = value
    if others:
        kwargs["dynamics"] = others
    for kind in KINDS:
        on = bool(controls[f"{kind}_on"])
        kwargs[f"{kind}_day"] = intervention_day(controls, kind) if on else None
    return kwargs


def dynamics_of(kwargs: Mapping[str, object]) -> dict[str, float]:
    """Every dynamics value set in model keyword arguments, by name (defaults left out)."""
    values = {name: kwargs[name] for name in DYNAMICS if name in kwargs}
    values.update(dict(kwargs.get("dynamics") or {}))  # type: ignore[call-overload]
    return values  # type: ignore[return-value]


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
    return Setup(partner_a=partners[0], partner_b=partners[1], dynamics=dynamics_of(kwargs),
                 interventions=_interventions_of(kwargs), couples=couples,
                 days=int(kwargs["days"]), seed=int(kwargs["rng"]))  # type: ignore[call-overload]


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
    # Spiraling or dissolved: a couple that spirals long enough dissolves (as in sim.plots).
    share = np.mean(np.isin(labels, ("spiraling", "dissolved")), axis=2)
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
    Returns ``teaching.outcomes_by_pairing``'s table (cached).
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

    ``sim.teaching.hourly_trace`` runs the same engine one hour at a time; with one couple, the
    same people, parameters and seed, it tells couple 1's story to the hour.
    """
    from .teaching import hourly_trace

    day = int(day)
    if not 1 <= day <= setup.days:
        raise ValueError(f"day must be between 1 and {setup.days}, got {day}")
    trace = hourly_trace(replace(setup, couples=1), days=day)
    hours = slice((day - 1) * k.HOURS_PER_DAY, day * k.HOURS_PER_DAY)
    return DayHours(day, trace.state("security")[hours, :, 0].copy(),
                    trace.state("relief")[hours, :, 0].copy(), trace.asked[hours, :, 0].copy(),
                    trace.answered[hours, :, 0].copy())  # fmt: skip


class ReliefEpisodes:
    """Relief duration per episode, and the daily record, of the followed couple (couple 1).

    A relief episode runs from an answered request to the same person's next request. The
    model's kernel keeps episode lengths only inside its first and last 30-day windows, so this
    class follows couple 1 with its own one-couple kernel: the same people, parameters, seed and
    couple index (hence the same random draws, so the same story), whose "last window" starts
    on day 0 so that every episode is recorded. It is advanced in step with the model, and its
    daily record (``kernel.daily``) is couple 1's: the charts read it there, which is much
    cheaper than the whole population's record.

    Parameters
    ----------
    model : sim.model.RelationshipModel
        The model to follow.
    couple : int
        Index of the couple to follow (0 is couple 1).

    """

    def __init__(self, model, couple: int = 0) -> None:
        pop = model.population.chunk(couple, couple + 1)
        self.model = model
        self.couple = couple
        self.kernel = k.Kernel(pop.people, pop.params,
                               seed=model.kernel_seed, days=model.days,
                               couple_ids=np.full(1, couple, dtype=np.uint64),
                               record_daily=True)  # fmt: skip
        self.kernel.last_start = 0
        #: Per partner: days on which episodes ended and their mean length in hours that day.
        self.days: tuple[list[int], list[int]] = ([], [])
        self.hours: tuple[list[float], list[float]] = ([], [])

    def sync(self) -> None:
        """Advance to the model's day, noting the episodes that ended on each new day."""
        while self.kernel.day < self.model.day:
            before_sum = self.kernel.R[k.RELIEF_LAST_SUM, :, 0].copy()
            before_n = self.kernel.R[k.RELIEF_LAST_N, :, 0].copy()
            self.kernel.advance(1)
            ended = self.kernel.R[k.RELIEF_LAST_N, :, 0] - before_n
            total = self.kernel.R[k.RELIEF_LAST_SUM, :, 0] - before_sum
            for person in range(2):
                if ended[person] > 0:
                    self.days[person].append(self.kernel.day)
                    self.hours[person].append(float(total[person] / ended[person]))


#: Plain-words explanations for a class, each next to the control that drives it.
EXPLAIN: tuple[tuple[str, str, str], ...] = (
    ("Attachment style", "style",
     "Each person has two dials. Anxiety is the fear of being left; avoidance is discomfort "
     "with closeness. Secure people are low on both, anxious people high on anxiety, avoidant "
     "people high on avoidance, fearful people high on both. The style buttons only move the "
     "two sliders to a typical spot; any spot on the plane is a real person."),
    ("Asking for reassurance", "reassurance_frequency",
     "When someone feels unsafe enough, they ask: 'Do you still love me?' Anxious people feel "
     "unsafe sooner and ask more often; avoidant people hold back even when they feel bad. "
     "This slider is the most requests a day a very insecure person makes."),
    ("Relief, and why it gets shorter", "relief_decay",
     "A kind answer brings relief, and relief fades. The more used to reassurance a person "
     "gets, the faster it fades: the same words help for a shorter time, so they ask again "
     "sooner. For anxious people fading relief leaves new doubt behind."),
    ("The cost of answering", "exhaustion_rate",
     "Every answer costs the partner a little energy, more if closeness feels like pressure "
     "to them. Energy comes back with rest, but slowly when someone is worn out. Past a point "
     "the partner answers less, and the unanswered requests hurt."),
    ("Pulling away", "avoidance",
     "An avoidant partner who is asked a lot takes distance. The anxious partner feels the "
     "distance and asks more: the pursue-withdraw circle."),
    ("Trust", "trust",
     "Each answered request teaches 'my partner is there'; each unanswered one teaches the "
     "opposite. Trust slowly raises or lowers how safe a person feels even on a quiet day."),
    ("Explaining what you need", "communication",
     "When a need is explained ('I had a hard day, I need a hug') rather than demanded, "
     "answering costs less and the answer helps more."),
    ("Outside stress", "stress_rate",
     "Work, money or intrusive doubts shake people now and then; anxious people are shaken "
     "more. More stress means more moments of feeling unsafe."),
    ("Help from outside", "interventions",
     "Five strategies can start on a chosen day: learning each other's styles, communicating "
     "openly, reassuring through consistent actions, working on the fear itself, and therapy. "
     "Switch one on and watch the lines bend after its day."),
    ("How it ends", "outcome",
     "Stable: calm, with few requests. Spiraling: someone asks often and it no longer works. "
     "Distant: no spiral, but the two no longer reach for each other. Dissolved: one of them "
     "stayed unhappy and uncommitted for a month and left."),
)  # fmt: skip
