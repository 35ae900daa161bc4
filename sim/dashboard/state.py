"""The dashboard's controls without any widget: defaults, slider ranges, seed, model arguments.

Plain Python on top of ``sim.params`` and ``sim.model``, so the tests and the benchmarks use it
without a browser. The background computations (maps, the mixed class, the hour zoom) are in
:mod:`sim.dashboard.background`; :mod:`sim.dashboard.app` only lays the results out.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping

import numpy as np

from ..engine import kernel as k
from ..interventions import KINDS
from ..params import DYNAMICS, RUN, Param
from ..styles import Style

__all__ = [
    "CONTROL_DEFAULTS",
    "COUPLES_RANGE",
    "DAYS_RANGE",
    "EXPLAIN",
    "MAX_COUPLES",
    "ReliefEpisodes",
    "dynamics_of",
    "featured",
    "initial_controls",
    "intervention_day",
    "lever_names",
    "levers",
    "model_kwargs",
    "other_dynamics",
    "param_label",
    "parse_seed",
    "preset_traits",
    "slider_range",
]

#: Largest population the dashboard offers (the model allows more; the browser stays quick).
MAX_COUPLES = 500

#: The run's sliders: (low, high, step). Days and couples are narrower than the model allows
#: (``sim.params.RUN``) so that a run stays quick in a browser.
DAYS_RANGE = (30, 730, 10)
COUPLES_RANGE = (1, MAX_COUPLES, 1)


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
    if param.step:
        return low, high, float(param.step)
    if param.integer:
        return low, high, 1.0
    span = high - low
    for step in _nice_steps(span / 20):
        if _on_grid(high, low, step) and _on_grid(float(param.default), low, step):
            return low, high, step
    return low, high, (_nice_steps(span / 100) or [span / 100])[0]


def param_label(param: Param) -> str:
    """Return a slider's plain-words label with its unit (``Param.title``, then the unit)."""
    return f"{param.title} ({param.unit})"


def levers() -> tuple[str, ...]:
    """The model's levers: the dynamics parameters flagged ``lever`` in ``sim.params``."""
    return tuple(name for name, param in DYNAMICS.items() if param.lever)


def featured() -> tuple[str, ...]:
    """Other dynamics parameters the Explain tab explains (``EXPLAIN``), in its order.

    The class works with these besides the levers (the guide's exercises use them), so the
    settings column shows them with the levers; every other parameter is one click away.
    """
    chosen = set(levers())
    return tuple(driver for _, driver, _ in EXPLAIN
                 if driver in DYNAMICS and driver not in chosen)  # fmt: skip


def lever_names() -> tuple[str, ...]:
    """Dynamics parameters shown as the main controls: the levers, then :func:`featured`."""
    return levers() + featured()


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
    "days": int(RUN["days"].default),
    # Fewer than a scenario's default couples (RUN["couples"]): a page opens with a quick run.
    "couples": 100,
    "seed_text": "1",
}


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
    from ..model import RelationshipModel

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
     "two sliders to a typical spot; any spot on the plane is a real person. Over months "
     "experience moves the dials a little: a partner who is reliably there makes a person "
     "more secure (earned security), one who is not makes them less."),
    ("Asking for reassurance", "reassurance_frequency",
     "When someone feels unsafe enough, they ask: 'Do you still love me?' Anxious people feel "
     "unsafe sooner and ask more often; avoidant people hold back even when they feel bad. "
     "Fearful people, anxious as well as avoidant, ask all the same, and then pull back. "
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
     "opposite. Trust slowly raises or lowers how safe a person feels even on a quiet day. "
     "Married couples start with more of it than dating ones."),
    ("Explaining what you need", "communication",
     "When a need is explained ('I had a hard day, I need a hug') rather than demanded, "
     "answering costs less and the answer helps more."),
    ("Outside stress", "stress_rate",
     "Work, money or intrusive doubts shake people now and then; anxious people are shaken "
     "more. More stress means more moments of feeling unsafe. Partners share part of it "
     "(money, housing, family), so hard days often come to both at once."),
    ("Help from outside", "interventions",
     "Five strategies can start on a chosen day: learning each other's styles, communicating "
     "openly, reassuring through consistent actions, working on the fear itself, and therapy. "
     "Switch one on and watch the lines bend after its day."),
    ("How it ends", "outcome",
     "Stable: calm, with few requests. Spiraling: someone asks often and it no longer works. "
     "Distant: no spiral, but the two no longer reach for each other. Dissolved: one of them "
     "became unhappy and uncommitted enough to want out, and after a while left. Happiness "
     "is weighed against what else life offers (someone new, a move), and a new couple's "
     "rosy start fades over about a year."),
)  # fmt: skip
