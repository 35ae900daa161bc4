"""The Mesa face of relsim: a ``mesa.Model`` whose step is one simulated day of the kernel.

``RelationshipModel`` owns one ``sim.engine.kernel.Kernel`` (all couples' state in arrays) and one
:class:`~sim.agents.Person` view per partner, so ``model.agents``, ``DataCollector``,
``mesa.batch_run`` and ``SolaraViz`` work as with any Mesa model.

>>> from sim.model import RelationshipModel
>>> model = RelationshipModel(style_a="anxious", style_b="avoidant", couples=20, days=30, rng=1)
>>> model.run_model()
>>> model.day, model.running
(30, False)
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd

from .agents import ROLES, Person
from .engine import kernel as k
from .interventions import KINDS, Intervention
from .outcomes import LABELS, aspects_table, classify_couples, count_outcomes
from .params import DYNAMICS, PERSON, RUN, Param, closest
from .simulation import COUPLE_COLUMNS, Setup, build_kernel, couple_columns
from .styles import Style

__all__ = ["KEYWORD_DYNAMICS", "ROLLING_DAYS", "RelationshipModel", "setup_from_keywords"]

#: Dynamics parameters that have their own keyword; the rest go through ``dynamics=``.
KEYWORD_DYNAMICS = (
    "reassurance_frequency", "relief_decay", "exhaustion_rate", "communication", "stress_rate",
)  # fmt: skip

#: Days over which the model-level "Requests per day" and "Answered share" are averaged: long
#: enough to smooth single quiet days, short enough to follow an intervention within a week.
ROLLING_DAYS = 7

#: Width of the first and last windows of the per-couple request rates (as in the kernel).
WINDOW_DAYS = k.Kernel.WINDOW_DAYS

_START_DAY = Param("start_day", 0, 0, RUN["days"].high, "day (0 = from the start)",
                   "Day an intervention switches on.", integer=True)  # fmt: skip
# Seeds are checked as numbers by ``Param.check``, exactly only up to 2**53 (float precision).
_LARGEST_SEED = min(int(RUN["seed"].high), 2**53 - 1)


def _check_style(value: object, name: str) -> Style:
    if not isinstance(value, str | Style):
        raise ValueError(f"{name} must be a style name ({', '.join(Style.labels())}), "
                         f"got {value!r}")  # fmt: skip
    if isinstance(value, Style):
        return value
    try:
        return Style.from_label(value)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None


def _kernel_seed(given: object, rng: np.random.Generator) -> int:
    """Return the kernel's seed: ``given`` if it is a usable integer, else a draw from ``rng``.

    Using an integer as it is makes ``RelationshipModel(rng=5)`` run the same couples as
    ``simulate(Setup(..., seed=5))``; any other seed material (a ``Generator``, a
    ``SeedSequence``, ``None``) goes through the model's own generator, so the same ``rng``
    always gives the same run.
    """
    if isinstance(given, int | np.integer) and not isinstance(given, bool):
        if 0 <= int(given) <= _LARGEST_SEED:
            return int(given)
    return int(rng.integers(0, _LARGEST_SEED, endpoint=True))


@functools.cache
def _keywords() -> dict[str, object]:
    """The model's keyword arguments and their defaults, read from its signature (the schema)."""
    signature = inspect.signature(RelationshipModel.__init__)
    return {name: p.default for name, p in signature.parameters.items()
            if name not in ("self", "rng", "seed")}  # fmt: skip


def setup_from_keywords(keywords: Mapping[str, object], *, seed: int) -> Setup:
    """Return the validated :class:`Setup` that ``RelationshipModel(**keywords)`` runs.

    The one way from the model's keyword arguments to a ``Setup`` (the model itself, the
    dashboard's background maps). Missing keywords take the model's defaults; ``rng`` and
    ``seed`` in ``keywords`` are ignored: the kernel's seed is ``seed``. Raises ``ValueError``
    naming the keyword, the value and what is allowed.
    """
    unknown = [name for name in keywords if name not in _keywords() and name not in ("rng", "seed")]
    if unknown:
        raise ValueError(f"unknown keyword {unknown[0]!r}{closest(unknown[0], _keywords())}; "
                         f"allowed: {', '.join(_keywords())}")  # fmt: skip
    given = {**_keywords(), **{n: v for n, v in keywords.items() if n not in ("rng", "seed")}}
    couples = RUN["couples"].check(given["couples"], "couples")
    days = RUN["days"].check(given["days"], "days")
    partners = []
    for role in ROLES:
        preset = _check_style(given[f"style_{role}"], f"style_{role}")
        spec: dict[str, object] = {
            "style": preset.label,
            "expression": PERSON["expression"].check(given[f"expression_{role}"],
                                                     f"expression_{role}"),
        }  # fmt: skip
        for name, exact in (("anxiety", preset.anxiety), ("avoidance", preset.avoidance)):
            value = given[f"{name}_{role}"]
            if value is not None:
                spec[name] = PERSON[name].check(value, f"{name}_{role}")
            elif couples == 1:
                spec[name] = exact
        partners.append(spec)

    chosen = {name: DYNAMICS[name].check(given[name], name) for name in KEYWORD_DYNAMICS}
    others = dict(given["dynamics"] or {})  # type: ignore[call-overload]
    for name in others:
        if name in KEYWORD_DYNAMICS:
            raise ValueError(f"dynamics[{name!r}]: set {name} with its own keyword "
                             f"argument, not inside dynamics")  # fmt: skip
    chosen.update(others)  # Setup checks these against the table and names them dynamics.x

    interventions = [
        Intervention(kind, _START_DAY.check(given[f"{kind}_day"], f"{kind}_day"))
        for kind in KINDS
        if given[f"{kind}_day"] is not None
    ]
    return Setup(partner_a=partners[0], partner_b=partners[1], dynamics=chosen,
                 interventions=interventions, couples=couples, days=days,
                 seed=seed)  # fmt: skip


class RelationshipModel(mesa.Model):
    """Couples whose partners ask for and give reassurance; one step is one simulated day.

    Parameters
    ----------
    style_a, style_b : str
        Attachment style of partner A and partner B: secure, anxious, avoidant or fearful.
    anxiety_a, avoidance_a, anxiety_b, avoidance_b : float or None
        Trait overrides in [0, 1]. ``None`` uses the style's preset: exactly for a single couple,
        jittered per person (as ``sim.simulation`` does) when there are several couples.
    expression_a, expression_b : float
        How each partner shows and reads reassurance, 0 = words, 1 = actions.
    reassurance_frequency : float
        Most requests per day an insecure person makes (0 to 24).
    relief_decay : float
        How fast the relief of one reassurance fades, per day (0.05 to 10).
    exhaustion_rate : float
        Exhaustion per answered request for the answering partner (0 to 0.5).
    communication : float
        How clearly needs are explained, 0-1.
    stress_rate : float
        Outside stressors per day (0 to 10).
    couples : int
        Number of couples (1 to 10,000,000; the dashboard offers 1 to 500).
    days : int
        Length of the run in days (1 to 3650); ``running`` turns False when it is reached.
    style_awareness_day, communication_day, consistent_actions_day, address_fears_day, \
therapy_day : int or None
        Day (0-based) from which each of the source article's strategies applies; ``None``
        means never. See ``sim.interventions``.
    dynamics : mapping or None
        Overrides of any other parameter of ``sim.params.DYNAMICS`` (the keyword parameters
        above must be set by keyword, not here).
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Seed of the run, passed to ``mesa.Model``. An integer in [0, 2**53 - 1] is the kernel's
        seed itself; anything else is turned into one by the model's generator. ``None`` means
        fresh entropy (a different run each time).
    seed : int or None
        The older name for ``rng`` (Mesa 3.3 tools may pass it); give one or the other.

    Raises
    ------
    ValueError
        When a value is not allowed; the message names the parameter, the value and the
        allowed range.

    Attributes
    ----------
    setup : sim.simulation.Setup
        The validated configuration the kernel was built from.
    population : sim.simulation.Population
        The people of the run as drawn at the start (styles and initial traits).
    datacollector : mesa.DataCollector
        Model-level and agent-level series, collected at the start and after every day.

    """

    def __init__(
        self,
        *,
        style_a: str = "anxious",
        style_b: str = "avoidant",
        anxiety_a: float | None = None,
        avoidance_a: float | None = None,
        anxiety_b: float | None = None,
        avoidance_b: float | None = None,
        expression_a: float = PERSON["expression"].default,
        expression_b: float = PERSON["expression"].default,
        reassurance_frequency: float = DYNAMICS["reassurance_frequency"].default,
        relief_decay: float = DYNAMICS["relief_decay"].default,
        exhaustion_rate: float = DYNAMICS["exhaustion_rate"].default,
        communication: float = DYNAMICS["communication"].default,
        stress_rate: float = DYNAMICS["stress_rate"].default,
        couples: int = 1,
        days: int = 180,
        style_awareness_day: int | None = None,
        communication_day: int | None = None,
        consistent_actions_day: int | None = None,
        address_fears_day: int | None = None,
        therapy_day: int | None = None,
        dynamics: Mapping[str, float] | None = None,
        rng: Any = None,
        seed: Any = None,
    ) -> None:
        if seed is not None and rng is not None:
            raise ValueError(f"give either rng or seed, not both (got rng={rng!r}, seed={seed!r})")
        if seed is not None:
            # Mesa seeds both generators from an integer in the same way under either name;
            # passing it as rng avoids the FutureWarning that Mesa >= 3.4 gives for seed=.
            rng = seed
        super().__init__(rng=rng)

        keywords = {name: value for name, value in locals().items() if name in _keywords()}
        self.kernel_seed = _kernel_seed(rng, self.rng)
        self.setup = setup_from_keywords(keywords, seed=self.kernel_seed)
        self.days = self.setup.days
        couples = self.setup.couples
        self._kernel, self.population = build_kernel(self.setup, record_daily=True)

        self.people: dict[str, list[Person]] = {role: [] for role in ROLES}
        for couple in range(couples):
            a, b = Person(self, "a", couple), Person(self, "b", couple)
            a.partner, b.partner = b, a
            self.people["a"].append(a)
            self.people["b"].append(b)

        self._table_day = -1
        self._table: pd.DataFrame | None = None
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "Day": "day",
                "Mean security": _mean_security,
                "Requests per day": _requests_per_day,
                "Answered share": _answered_share,
                "Mean satisfaction": _mean_satisfaction,
                "Couples together": _couples_together,
                **{f"Share {label}": _share_reporter(label) for label in LABELS},
            },
            agent_reporters={
                "couple": "couple",
                "role": "role",
                "security": "security",
                "relief": "relief",
                "exhaustion": "exhaustion",
                "trust": "trust",
                "satisfaction": "satisfaction",
                "requests": "requests",
            },
        )
        self.running = True
        self.datacollector.collect(self)

    # -- running ---------------------------------------------------------------------------

    @property
    def kernel(self) -> k.Kernel:
        """The engine holding every couple's state (``sim.engine.kernel.Kernel``)."""
        return self._kernel

    @property
    def day(self) -> int:
        """Days simulated so far."""
        return self._kernel.day

    def step(self) -> None:
        """Simulate one day (24 hourly ticks for every couple), then collect the series.

        Once ``days`` are reached the model stops (``running`` is False) and further steps do
        nothing, so that the last 30-day window stays the one the run was planned for.
        """
        if self.day >= self.days:
            self.running = False
            return
        self._kernel.advance(1)
        self.datacollector.collect(self)
        if self.day >= self.days:
            self.running = False

    # -- tables for the dashboard ----------------------------------------------------------

    def couples_table(self) -> pd.DataFrame:
        """Return the per-couple table so far, one row per couple (columns ``COUPLE_COLUMNS``).

        The first- and last-30-day request rates are rolling: the first window is days
        ``0 .. min(30, day) - 1`` and the last window the most recent ``min(30, day)`` days, both
        from the kernel's daily records, so the rates and the outcome labels follow the run while
        it goes. At the end of the run they equal ``sim.simulate``'s. Relief hours per episode
        use the kernel's planned windows (episodes are not kept day by day).
        """
        if self._table_day == self.day and self._table is not None:
            return self._table
        kern = self._kernel
        pop = self.population
        cols = couple_columns(kern, pop)
        span = min(WINDOW_DAYS, kern.day)
        if span > 0:
            requests = kern.daily[:, k.DAILY_VARS.index("requests")]  # (days, 2, n)
            first = np.nansum(requests[:span], axis=0) / span
            last = np.nansum(requests[kern.day - span :], axis=0) / span
        else:
            first = last = np.zeros((2, kern.n))
        for row, role in enumerate(ROLES):
            cols[f"request_rate_first_30d_{role}"] = first[row]
            cols[f"request_rate_last_30d_{role}"] = last[row]
        cols["outcome"] = classify_couples(cols, kern.day, pop.labels)
        self._table = pd.DataFrame({name: cols[name] for name in COUPLE_COLUMNS})
        self._table_day = self.day
        return self._table

    def outcome_counts(self) -> dict[str, int]:
        """Couples per outcome label so far (all four labels, zeros included)."""
        return count_outcomes(self.couples_table()["outcome"].to_numpy())

    def outcome_shares(self) -> dict[str, float]:
        """Share of couples per outcome label so far (sums to 1)."""
        counts = self.outcome_counts()
        total = sum(counts.values())
        return {label: count / total for label, count in counts.items()}

    def aspects(self) -> pd.DataFrame:
        """Return the healthy-versus-excessive table with the values measured so far."""
        table = self.couples_table()
        columns = {name: table[name].to_numpy() for name in table.columns}
        return pd.DataFrame(aspects_table(columns, columns["outcome"], self.population.labels))

    def daily_series(self) -> pd.DataFrame:
        """Return the population means per day and partner, one row per simulated day.

        Columns: ``day`` (1-based), then ``<var>_a`` and ``<var>_b`` for each of
        ``sim.engine.kernel.DAILY_VARS`` (means over couples still together that day; ``requests``
        and ``answered`` are per-day counts), then ``couples_together``.
        """
        means = self._kernel.daily_mean
        data: dict[str, np.ndarray] = {"day": np.arange(1, means.shape[0] + 1)}
        for v, name in enumerate(k.DAILY_VARS):
            for row, role in enumerate(ROLES):
                data[f"{name}_{role}"] = means[:, v, row]
        data["couples_together"] = means[:, len(k.DAILY_VARS), 0].astype(int)
        return pd.DataFrame(data)


# -- model-level reporters -----------------------------------------------------------------


def _together(model: RelationshipModel) -> np.ndarray:
    return model.kernel.dissolved_day < 0


def _mean_over_together(model: RelationshipModel, name: str) -> float:
    """Return a state's mean over the people of couples still together (all if none is)."""
    values = model.kernel.state(name)
    together = _together(model)
    return float(values[:, together].mean() if together.any() else values.mean())


def _mean_security(model: RelationshipModel) -> float:
    """Return the mean felt security, 0-1, over the people of couples still together."""
    return _mean_over_together(model, "security")


def _mean_satisfaction(model: RelationshipModel) -> float:
    """Return the mean satisfaction, 0-1, over the people of couples still together."""
    return _mean_over_together(model, "satisfaction")


def _couples_together(model: RelationshipModel) -> int:
    """Count the couples not dissolved."""
    return int(_together(model).sum())


def _recent(model: RelationshipModel, name: str) -> tuple[float, float]:
    """Return the total of count ``name`` over the last ``ROLLING_DAYS`` days, and person-days."""
    means = model.kernel.daily_mean[-ROLLING_DAYS:]
    alive = means[:, len(k.DAILY_VARS)]  # couples together per day, per partner
    return float((means[:, k.DAILY_VARS.index(name)] * alive).sum()), float(alive.sum())


def _requests_per_day(model: RelationshipModel) -> float:
    """Return requests per person per day over the last week (couples together); 0 on day 0."""
    total, person_days = _recent(model, "requests")
    return total / person_days if person_days else 0.0


def _answered_share(model: RelationshipModel) -> float:
    """Return the share of the last week's requests that were answered; NaN when nobody asked."""
    answered, _ = _recent(model, "answered")
    requests, _ = _recent(model, "requests")
    return answered / requests if requests else math.nan


def _share_reporter(label: str):
    def share(model: RelationshipModel) -> float:
        return model.outcome_shares()[label]

    share.__doc__ = f"Share of couples whose outcome so far is {label!r}."
    return share
