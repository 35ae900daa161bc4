"""The Python API: configure a population, run it for N days, get tables back.

>>> from sim import Setup, simulate
>>> result = simulate(Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"},
...                         couples=50, days=60, seed=1))
>>> sorted(result.outcomes)
['dissolved', 'distant', 'spiraling', 'stable']

``result.couples`` is the per-couple table (the columns of a run's ``couples.csv``),
``result.daily_rows()`` the daily series and ``result.summary()`` the headline numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .culture import culture_from
from .engine import kernel as k
from .engine import rules
from .interventions import Intervention, schedule_rows
from .outcomes import aspects_table, broken, classify_couples, count_outcomes, seeker_partner
from .params import DYNAMICS, LABEL_THRESHOLDS, PERSON, RUN, Param, closest, validate_value
from .styles import ASKING_NORM_SD, Style, draw_care, draw_population, draw_traits

__all__ = [
    "CHUNK_COUPLES",
    "COUPLE_COLUMNS",
    "ChunkedRun",
    "Params",
    "Population",
    "Result",
    "Setup",
    "build_kernel",
    "couple_columns",
    "population",
    "run_population",
    "simulate",
    "strategy_effects",
]

#: The per-couple table's columns, in order (results/README.md's couples.csv columns first).
COUPLE_COLUMNS = (
    "couple", "style_a", "style_b", "anxiety_a", "avoidance_a", "anxiety_b", "avoidance_b",
    "outcome", "dissolved_day", "requests_a", "requests_b", "answered_a", "answered_b",
    "satisfaction_a", "satisfaction_b", "trust_a", "trust_b", "exhaustion_a", "exhaustion_b",
    "request_rate_a", "request_rate_b",
    "request_rate_first_30d_a", "request_rate_last_30d_a", "request_rate_first_30d_b",
    "request_rate_last_30d_b", "relief_hours_first_30d_a", "relief_hours_last_30d_a",
    "relief_hours_first_30d_b", "relief_hours_last_30d_b", "relief_censored_first_30d_a",
    "relief_censored_last_30d_a", "relief_censored_first_30d_b", "relief_censored_last_30d_b",
    "hours_to_next_request_first_30d_a", "hours_to_next_request_last_30d_a",
    "hours_to_next_request_first_30d_b", "hours_to_next_request_last_30d_b",
    "request_rate_slope_a", "request_rate_slope_b", "answer_warmth_a", "answer_warmth_b",
    "affection_received_a", "affection_received_b", "security_a", "security_b",
    "withdrawal_a", "withdrawal_b", "habituation_a", "habituation_b", "commitment_a",
    "commitment_b", "closeness_a", "closeness_b", "start_satisfaction_a", "start_satisfaction_b",
    "start_trust_a", "start_trust_b", "final_anxiety_a", "final_anxiety_b",
    "final_avoidance_a", "final_avoidance_b", "expression_a", "expression_b", "culture_a",
    "culture_b", "engagement",
)  # fmt: skip

#: What a scenario's ``relationship`` stands for: the barriers that hold commitment up and how
#: dissatisfied a person must be to leave. Married couples face more barriers (a shared home,
#: finances, children, the law) and start more committed; dating partners have fewer investments
#: and more alternatives, so they leave at milder dissatisfaction (Rusbult 1983). Dating couples
#: are new: their investments start low and grow during the run (``investment_weight``; married
#: couples' were built over years and sit in the floor, docs/ODD.md 7.21). Calibrated to one-year
#: dissolution in a literature-mix population: about 2% for married and 20% for dating couples,
#: against about 1-3% a year for married and roughly 20% for unmarried couples, falling with
#: duration, in Rosenfeld (2014).
RELATIONSHIPS: dict[str, dict[str, float]] = {
    "dating": {
        "commitment_floor": 0.05,
        "start_commitment": 0.55,
        "dissolution_satisfaction": 0.45,
        "dissolution_commitment": 0.7,
        "start_investment": 0.15,
        "investment_weight": 0.3,
        "start_trust": 0.7,
        "idealization": 0.3,
        "alternatives_spread": 0.15,
    },
    "married": {
        "commitment_floor": 0.3,
        "start_commitment": 0.75,
        "start_trust": 0.8,
        "start_satisfaction": 0.73,
        "barrier_spread": 0.15,
        "dissolution_satisfaction": 0.5,
        "dissolution_commitment": 0.51,
    },
}

_PERSON_KEYS = ("style", "culture", *PERSON)
#: Days between two calls of a progress hook (``simulate(progress=...)``).
PROGRESS_DAYS = 10
#: Couples that ``run_population`` runs at a time: a larger population is run in chunks of this
#: many couples, one after the other, so that the engine's state, recorders and full parameter
#: matrix exist for one chunk only (about 0.2 GB), not for every couple at once.
CHUNK_COUPLES = 1 << 17


def _person(spec: Mapping[str, object], where: str, couples: int) -> dict[str, object]:
    if not isinstance(spec, Mapping):
        raise TypeError(f"{where} must be a mapping such as {{'style': 'anxious'}}, "
                        f"got {spec!r}")  # fmt: skip
    for key in spec:
        if key not in _PERSON_KEYS:
            raise ValueError(f"unknown key {where}.{key}{closest(str(key), _PERSON_KEYS)}; "
                             f"allowed: {', '.join(_PERSON_KEYS)}")  # fmt: skip
    style = spec.get("style", "secure")
    out: dict[str, object] = {
        "style": style if isinstance(style, Style) else Style.from_label(str(style))
    }
    if spec.get("culture") is not None:
        out["culture"] = culture_from(spec["culture"], f"{where}.culture")
    for name in PERSON:
        value = spec.get(name)
        if value is None:
            continue
        out[name] = _value(PERSON, name, value, f"{where}.{name}", couples)
    return out


def _value(table: Mapping[str, Param], name: str, value: object, where: str, couples: int):
    """Validate one parameter's value: a number, or one number per couple (a NumPy array)."""
    if not isinstance(value, np.ndarray):
        return validate_value(table, name, value, where)
    if name not in table:
        validate_value(table, name, 0.0)  # raises: unknown, with a close match
    if value.shape != (couples,):
        raise ValueError(f"{where} has {value.size} values; it needs one per couple ({couples})")
    return table[name].check_array(value, where)


@dataclass
class Setup:
    """Everything a run needs; validated on creation.

    Parameters
    ----------
    partner_a, partner_b : mapping
        ``style`` (secure, anxious, avoidant, fearful), an optional ``culture`` and optional
        ``anxiety``, ``avoidance``, ``expression``, ``asking_norm`` overrides in [0, 1]. An
        override fixes that trait for every couple; otherwise traits are jittered around the
        style's preset and expression is drawn from the person's culture.
    dynamics : mapping
        Overrides of ``params.DYNAMICS``; each value may be a number or a per-couple array.
    interventions : sequence of Intervention or mappings with ``kind``, ``day`` and optional
        ``dose`` (sessions a week) and ``weeks``
    couples, days, seed : int
        Replicate couples, simulated days, the run's seed.
    population : mapping, optional
        ``{"mix": {style: weight}, "couples": n}``: people drawn from a style mix and paired at
        random; replaces the partners' styles (their cultures still apply).
    culture : str or mapping, optional
        The norm both partners come from unless a partner names their own (``sim.culture``).
    relationship : {"dating", "married"}, optional
        What the couples stand for; sets the barriers to leaving (``RELATIONSHIPS``) under any
        explicit ``dynamics``.
    labels : mapping, optional
        Overrides of the outcome labels' thresholds (``params.LABEL_THRESHOLDS``); each value
        may be a number or a per-couple array. They label the end state and change nothing else.

    """

    partner_a: Mapping[str, object] = field(default_factory=lambda: {"style": "secure"})
    partner_b: Mapping[str, object] = field(default_factory=lambda: {"style": "secure"})
    dynamics: Mapping[str, object] = field(default_factory=dict)
    interventions: Sequence[Intervention | Mapping[str, object]] = ()
    couples: int = 200
    days: int = 180
    seed: int = 0
    population: Mapping[str, object] | None = None
    culture: object = "neutral"
    relationship: str | None = None
    labels: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("couples", "days", "seed"):
            value = getattr(self, name)
            if isinstance(value, np.integer):
                value = int(value)
            setattr(self, name, RUN[name].check(value, name))
        if self.population is not None:
            mix = dict(self.population.get("mix", {}))  # type: ignore[arg-type]
            for label in mix:
                Style.from_label(label)
            self.couples = RUN["couples"].check(self.population.get("couples", self.couples),
                                                "population.couples")  # fmt: skip
        self.partner_a = _person(self.partner_a, "partner_a", self.couples)
        self.partner_b = _person(self.partner_b, "partner_b", self.couples)
        if not isinstance(self.dynamics, Mapping):
            raise TypeError(f"dynamics must be a mapping of parameter names to values, "
                            f"got {type(self.dynamics).__name__}")  # fmt: skip
        if self.relationship is not None and self.relationship not in RELATIONSHIPS:
            raise ValueError(f"relationship must be one of {', '.join(RELATIONSHIPS)}, "
                             f"got {self.relationship!r}")  # fmt: skip
        self.culture = culture_from(self.culture)
        self.dynamics = {name: _value(DYNAMICS, name, value, f"dynamics.{name}", self.couples)
                         for name, value in self.dynamics.items()}  # fmt: skip
        if not isinstance(self.labels, Mapping):
            raise TypeError(f"labels must be a mapping of threshold names to values, "
                            f"got {type(self.labels).__name__}")  # fmt: skip
        self.labels = {name: _value(LABEL_THRESHOLDS, name, value, f"labels.{name}", self.couples)
                       for name, value in self.labels.items()}  # fmt: skip
        self.interventions = tuple(
            item if isinstance(item, Intervention) else Intervention.from_mapping(item)
            for item in self.interventions
        )

    def dynamics_value(self, name: str):
        """Return dynamics parameter ``name``'s value: explicit, by relationship, or default."""
        if name in self.dynamics:
            return self.dynamics[name]
        if self.relationship is not None and name in RELATIONSHIPS[self.relationship]:
            return RELATIONSHIPS[self.relationship][name]
        return DYNAMICS[name].default


#: Streams spawned from a run's seed, one per purpose, so that changing one kind of draw (say,
#: a culture) leaves the others as they were (common random numbers between scenarios).
_STREAMS = ("traits", "culture", "history", "treatment", "asking", "care")


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(_STREAMS, children,
                                                                        strict=True)}  # fmt: skip


def _traits(setup: Setup, rng: np.random.Generator):
    n = setup.couples
    if setup.population is not None:
        styles, anxiety, avoidance = draw_population(setup.population["mix"], n, rng)
        for row, spec in enumerate((setup.partner_a, setup.partner_b)):
            if "anxiety" in spec:
                anxiety[row] = spec["anxiety"]
            if "avoidance" in spec:
                avoidance[row] = spec["avoidance"]
        return styles, anxiety, avoidance
    styles = np.empty((2, n), dtype=object)
    anxiety, avoidance = np.empty((2, n)), np.empty((2, n))
    for row, spec in enumerate((setup.partner_a, setup.partner_b)):
        style: Style = spec["style"]  # type: ignore[assignment]
        anxiety[row], avoidance[row] = draw_traits(style, n, rng)
        if "anxiety" in spec:
            anxiety[row] = spec["anxiety"]
        if "avoidance" in spec:
            avoidance[row] = spec["avoidance"]
        styles[row] = style.label
    return styles.astype(str), anxiety, avoidance


def _cultures(setup: Setup, rng: np.random.Generator):
    """Each person's culture name, expression and asking norm, shape ``(2, n)`` each."""
    n = setup.couples
    names = np.empty((2, n), dtype=object)
    expression, asking = np.empty((2, n)), np.empty((2, n))
    for row, spec in enumerate((setup.partner_a, setup.partner_b)):
        culture = spec.get("culture", setup.culture)
        names[row] = culture.name  # type: ignore[union-attr]
        expression[row] = culture.draw_expression(n, rng)  # type: ignore[union-attr]
        asking[row] = culture.asking_norm  # type: ignore[union-attr]
        if "expression" in spec:
            expression[row] = spec["expression"]
        if "asking_norm" in spec:
            asking[row] = spec["asking_norm"]
    return names.astype(str), expression, asking


def _history(P: np.ndarray, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each couple's starting trust, satisfaction, commitment and investments; each appraisal.

    A couple shares part of its history (one normal draw per couple for all three), and each
    partner adds their own (one per person and measure), in equal parts; the spread is
    ``history_spread``. Appraisal is a lasting per-person offset with sd ``appraisal_spread``,
    of which the share ``shared_stress`` of the variance is the couple's own (the outside events
    the partners share); it is added to the person's starting satisfaction as well as to where it
    settles. The quality of each person's alternatives starts anywhere in its stationary spread
    (``alternatives_spread``), drawn independently.
    """
    spread = P[k.p_row("history_spread")]
    shared = rng.standard_normal((3, 1, n))
    own = rng.standard_normal((3, 2, n))
    noise = np.sqrt(0.5) * (shared + own) * spread
    share = P[k.p_row("shared_stress")]
    outside = (np.sqrt(share) * rng.standard_normal((1, n))
               + np.sqrt(1.0 - share) * rng.standard_normal((2, n)))  # fmt: skip
    appraisal = np.clip(P[k.p_row("appraisal_spread")] * outside, -0.5, 0.5)
    alternatives = P[k.p_row("alternatives_spread")] * rng.standard_normal((2, n))
    out = {"appraisal": appraisal, "alternatives": np.clip(alternatives, -0.5, 0.5)}
    # Couples differ in the barriers that hold them together (children, a shared home and
    # money, beliefs about divorce): each couple's commitment floor is drawn around the mean.
    barriers = P[k.p_row("barrier_spread")]
    if np.any(barriers > 0.0):
        floor = P[k.p_row("commitment_floor")] + barriers * rng.standard_normal(n)
        P[k.p_row("commitment_floor")] = np.clip(floor, 0.0, 0.9)
    for i, name in enumerate(("trust", "satisfaction", "commitment")):
        start = P[k.p_row(f"start_{name}")] + noise[i]
        if name == "satisfaction":
            # The lasting offset was there before day 1 too: people who see their relationship
            # kindly began it more satisfied (Karney & Bradbury 1995), so where a person starts
            # and where they settle are correlated, as one-year test-retest correlations of
            # satisfaction are (Lavner & Bradbury 2010).
            start = start + appraisal
        out[name] = np.clip(start, 0.0, 1.0)
        if name == "satisfaction":
            # Seen through the start's idealisation (``rules.satisfaction_step``), so that a couple
            # starts where its satisfaction is headed, not below it.
            out[name] = rules.idealized_view(out[name], P[k.p_row("idealization")])
    # What the couple has built before day 1 (``start_investment``), spread ``investment_spread``,
    # split into a shared and an own part as above. Drawn last, so that the draws above stay.
    built = np.sqrt(0.5) * (rng.standard_normal((1, n)) + rng.standard_normal((2, n)))
    built = built * P[k.p_row("investment_spread")]
    out["investment"] = np.clip(P[k.p_row("start_investment")] + built, 0.0, 1.0)
    return out


class Params:
    """The per-couple parameter matrix ``P`` (``kernel.P_ROWS`` by couples), stored compactly.

    Most rows hold one value for every couple (a default, a scenario's setting, a strategy's
    schedule): each of those is kept as one number, and only the rows that vary between couples
    (treatment uptake, relapse, a per-couple ``dynamics`` array, a sweep's axis) as an array. A
    million couples' parameters take a few tens of megabytes instead of 0.9 GB; the full matrix
    is built only for the couples about to run (``numpy.asarray(params)``, which is what
    ``kernel.Kernel`` does, or :meth:`materialise`).

    Indexing reads as the matrix it stands for: ``params[row]`` is one row, shape ``(n,)``
    (read-only where the row is one number); ``params[row] = value`` and
    ``params[rows_slice] = value`` set rows (a number, or values that broadcast to one per
    couple); ``params[:, start:stop]`` is the :class:`Params` of a chunk of couples (its varying
    rows are views); any other index reads the full matrix.
    """

    ndim = 2
    dtype = np.dtype(np.float64)
    __slots__ = ("_n", "_rows")

    def __init__(self, n: int, rows: Sequence[float | np.ndarray]) -> None:
        self._n = int(n)
        self._rows: list[float | np.ndarray] = list(rows)

    @classmethod
    def defaults(cls, n: int) -> Params:
        """The parameters of ``n`` couples at the defaults, no strategy scheduled.

        The values are those of ``kernel.default_params``, one number a row.
        """
        return cls(n, [float(value) for value in k.default_params(1)[:, 0]])

    @property
    def shape(self) -> tuple[int, int]:
        """``(len(kernel.P_ROWS), n)``, the shape of the matrix."""
        return (len(self._rows), self._n)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        varying = sum(isinstance(row, np.ndarray) for row in self._rows)
        return f"Params({len(self._rows)} rows x {self._n} couples, {varying} varying)"

    def varying(self) -> list[int]:
        """The rows that hold one value per couple (the others hold one number)."""
        return [i for i, row in enumerate(self._rows) if isinstance(row, np.ndarray)]

    def row(self, i: int) -> np.ndarray:
        """Row ``i``, shape ``(n,)``: the stored array, or a read-only broadcast of its number."""
        value = self._rows[i]
        if isinstance(value, np.ndarray):
            return value
        return np.broadcast_to(np.float64(value), (self._n,))

    def _compact(self, value: np.ndarray) -> float | np.ndarray:
        # One number if every couple gets the same one by broadcasting (stride 0), else a copy.
        if value.ndim == 1 and value.shape[0] > 0 and value.strides[0] == 0:
            return float(value[0])
        return np.array(value, dtype=np.float64)

    def _set_rows(self, rows: range, value: object) -> None:
        values = np.broadcast_to(np.asarray(value, dtype=np.float64), (len(rows), self._n))
        for i, row in zip(rows, values, strict=True):
            self._rows[i] = self._compact(row)

    def __getitem__(self, key):
        if isinstance(key, int | np.integer):
            return self.row(range(len(self._rows))[key])
        if (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], slice)
                and key[0] == slice(None) and isinstance(key[1], slice)):  # fmt: skip
            couples = range(self._n)[key[1]]
            return Params(len(couples), [row[key[1]] if isinstance(row, np.ndarray) else row
                                         for row in self._rows])  # fmt: skip
        return self.materialise()[key]

    def __setitem__(self, key, value) -> None:
        rows = range(len(self._rows))
        if isinstance(key, int | np.integer):
            value = np.broadcast_to(np.asarray(value, dtype=np.float64), (self._n,))
            self._rows[rows[key]] = self._compact(value)
        elif isinstance(key, slice):
            self._set_rows(rows[key], value)
        elif isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], int | np.integer):
            row = np.array(self.row(rows[key[0]]))  # a writable copy of the one row
            row[key[1]] = value
            self._rows[rows[key[0]]] = row
        else:
            raise TypeError(f"Params rows are set as params[row], params[rows] or "
                            f"params[row, couples], not with {key!r}")  # fmt: skip

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if copy is False:
            raise ValueError("Params cannot be read as an array without building the matrix")
        out = self.materialise()
        return out if dtype is None else out.astype(dtype, copy=False)

    def materialise(self) -> np.ndarray:
        """The full matrix, shape ``(len(P_ROWS), n)``, float64 (a new array)."""
        out = np.empty(self.shape)
        for i, row in enumerate(self._rows):
            out[i] = row
        return out

    def copy(self) -> Params:
        """An independent copy (varying rows copied too)."""
        return Params(self._n, [row.copy() if isinstance(row, np.ndarray) else row
                                for row in self._rows])  # fmt: skip


@dataclass
class Population:
    """The people of a run and their per-couple parameters, before any hour is simulated.

    ``styles`` and ``cultures`` have shape ``(2, n)``; ``people`` maps person states
    (``kernel.STATE_VARS``) to their starting values, shape ``(2, n)``; ``params`` has shape
    ``(len(kernel.P_ROWS), n)``: a :class:`Params` (as :func:`population` makes it, compact) or
    a plain array. ``labels`` maps the outcome-label thresholds the setup changed
    (``params.LABEL_THRESHOLDS``) to one value per couple, shape ``(n,)``; the others keep their
    defaults. Slicing the last axis gives a chunk of couples.
    """

    styles: np.ndarray
    people: dict[str, np.ndarray]
    params: Params | np.ndarray
    cultures: np.ndarray
    labels: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of couples."""
        return self.params.shape[1]

    @property
    def anxiety(self) -> np.ndarray:
        """Starting anxiety, shape ``(2, n)``."""
        return self.people["anxiety"]

    @property
    def avoidance(self) -> np.ndarray:
        """Starting avoidance, shape ``(2, n)``."""
        return self.people["avoidance"]

    @property
    def expression(self) -> np.ndarray:
        """Expression (0 = words, 1 = actions), shape ``(2, n)``."""
        return self.people["expression"]

    def chunk(self, start: int, stop: int) -> Population:
        """Couples ``start`` to ``stop - 1`` (views, not copies)."""
        part = slice(start, stop)
        return Population(self.styles[:, part],
                          {name: v[:, part] for name, v in self.people.items()},
                          self.params[:, part], self.cultures[:, part],
                          {name: v[part] for name, v in self.labels.items()})  # fmt: skip


def population(setup: Setup) -> Population:
    """Draw the people of ``setup`` and lay out their parameters.

    Traits, cultures, histories and treatment responses come from four generators spawned from
    the seed's ``SeedSequence`` (``_STREAMS``); the kernel's hourly draws come from a further,
    independent stream of the same seed (``kernel.run_key``).
    """
    rng = _streams(setup.seed)
    styles, anxiety, avoidance = _traits(setup, rng["traits"])
    cultures, expression, asking = _cultures(setup, rng["culture"])
    n = setup.couples
    if setup.population is not None:
        # A population's people differ in how acceptable they find asking, around their
        # culture's norm (``styles.ASKING_NORM_SD``), unless a partner's norm is set outright.
        own = ASKING_NORM_SD * rng["asking"].standard_normal((2, n))
        for row, spec in enumerate((setup.partner_a, setup.partner_b)):
            if "asking_norm" not in spec:
                asking[row] = np.clip(asking[row] + own[row], 0.0, 1.0)
    # ... and in how readily and warmly they answer and show affection, apart from attachment
    # (``styles.CARE_SD``); a named style's person has care 1.
    care = np.ones((2, n))
    if setup.population is not None:
        care = draw_care(rng["care"], (2, n))
    P = Params.defaults(n)
    for name in DYNAMICS:
        P[k.p_row(name)] = setup.dynamics_value(name)
    P[k.SCHEDULE : k.ENGAGEMENT] = np.asarray(schedule_rows(setup.interventions))[:, None]
    # Engagement in treatment ~ Beta with the given mean and a spread that lets some couples
    # take up almost nothing and others almost all; relapse is a coin with the given share.
    mean = P[k.p_row("treatment_engagement")]
    concentration = 4.0
    treat = rng["treatment"]
    P[k.ENGAGEMENT] = treat.beta(concentration * mean, concentration * (1.0 - mean))
    P[k.RELAPSES] = 1.0 * (treat.random(n) < P[k.p_row("relapse_share")])
    people = {"anxiety": anxiety, "avoidance": avoidance, "expression": expression,
              "asking_norm": asking, "care": care, **_history(P, n, rng["history"])}  # fmt: skip
    # One value per couple without copying a number n times (a read-only broadcast view).
    labels = {name: np.broadcast_to(np.asarray(value, dtype=float), (n,))
              for name, value in setup.labels.items()}  # fmt: skip
    return Population(styles, people, P, cultures, labels)


@dataclass(frozen=True)
class ChunkedRun:
    """What :func:`run_population` returns in place of a kernel when it ran couples in chunks.

    It keeps what belongs to the whole population: its size, days, seed and engine, and the
    daily population means (``daily_mean``, exactly those one kernel over every couple would
    keep). The per-couple state (``S``, ``R``, ``C``, ``P``) of each chunk is let go once its
    columns are taken; that is what keeps a large run's memory small.
    """

    n: int
    days: int
    day: int
    seed: int
    engine: str
    daily_mean: np.ndarray
    chunks: int
    record_daily: bool = False

    def __getattr__(self, name: str):
        # Only reached for what a kernel has and a chunked run does not keep.
        raise AttributeError(f"a population run in chunks of couples keeps no per-couple state "
                             f"({name!r}); pass chunk=0 to run_population to keep the kernel "
                             f"(it needs memory for every couple at once)")  # fmt: skip


def run_population(pop: Population, *, seed: int, days: int, first_couple: int = 0,
                   couple_ids=None, record_daily: bool = False, engine: str = "compiled",
                   progress: Callable[[int], object] | None = None,
                   chunk: int | None = None):  # fmt: skip
    """Simulate ``pop`` for ``days`` days; return ``(kernel, per-couple columns)``.

    ``first_couple`` is the global index of the chunk's first couple: a couple's random draws
    depend on its global index only, so any chunking of a population gives the same numbers.
    ``couple_ids`` (one per couple) replaces that index where several couples must draw the same
    numbers (a sweep's replicate ``r`` in every cell). Column ``couple`` holds the index used.
    ``progress``, if given, is called with the days done after every ``PROGRESS_DAYS`` days
    (the numbers do not depend on it: the engine's state carries over from block to block).

    A population of more than ``chunk`` couples (default ``CHUNK_COUPLES``; 0: never) is run
    ``chunk`` couples at a time when the engine is the compiled one and no daily trajectories
    are kept, to bound memory. The columns are the same, value for value, and so are the daily
    means: the chunks add to the same daily sums, couple after couple, in the order one run
    adds them. The kernel returned is then a :class:`ChunkedRun` (no per-couple state), and
    ``progress`` is called with the days done in equivalent work (couple-days over couples).
    The NumPy engine (also what "compiled" falls back to without Numba or under
    ``RELSIM_ENGINE=numpy``) sums each day over the whole population at once, so it is never
    chunked here: its daily means' last bits would move.
    """
    if couple_ids is None:
        ids = np.arange(first_couple, first_couple + pop.n, dtype=np.uint64)
    else:
        ids = np.asarray(couple_ids, dtype=np.uint64)
        if ids.shape != (pop.n,):
            raise ValueError(f"couple_ids needs one id per couple ({pop.n}), got {ids.shape}")
    size = CHUNK_COUPLES if chunk is None else int(chunk)
    if size < 0:
        raise ValueError(f"chunk must be a number of couples >= 0 (0: never chunk), got {chunk}")
    whole = size == 0 or pop.n <= size or record_daily or engine != "compiled"
    if not whole:  # without Numba, or under RELSIM_ENGINE=numpy, "compiled" runs the NumPy path
        whole = k._compiled() is k._advance_numpy
    if whole:
        kern = k.Kernel(pop.people, pop.params, seed=seed, days=days, couple_ids=ids,
                        record_daily=record_daily, engine=engine)  # fmt: skip
        if progress is None:
            kern.advance(days)
        else:
            while kern.day < days:
                kern.advance(min(PROGRESS_DAYS, days - kern.day))
                progress(kern.day)
        cols = couple_columns(kern, pop)
        cols["couple"] = ids.astype(np.int64)
        return kern, cols
    return _run_in_chunks(pop, ids, seed=seed, days=days, engine=engine, progress=progress,
                          size=size)  # fmt: skip


def _run_in_chunks(pop: Population, ids: np.ndarray, *, seed: int, days: int, engine: str,
                   progress: Callable[[int], object] | None, size: int):  # fmt: skip
    """``run_population`` for ``size`` couples at a time (see there)."""
    n = pop.n
    sums = np.zeros((days, k.N_DAILY + 1, 2))
    numbers: dict[str, np.ndarray] = {}  # filled in place, chunk by chunk
    texts: dict[str, list[np.ndarray]] = {}  # strings: joined at the end (widths may differ)
    kern = None
    for start in range(0, n, size):
        stop = min(start + size, n)
        part = pop.chunk(start, stop)
        kern = k.Kernel(part.people, part.params, seed=seed, days=days,
                        couple_ids=ids[start:stop], engine=engine)  # fmt: skip
        while kern.day < days:
            step = days - kern.day if progress is None else min(PROGRESS_DAYS, days - kern.day)
            kern.advance(step, sums=sums[kern.day : kern.day + step])
            if progress is not None:
                progress((start * days + (stop - start) * kern.day) // n)
        for name, column in couple_columns(kern, part).items():
            if column.dtype.kind in "biuf":
                if name not in numbers:
                    numbers[name] = np.empty(n, dtype=column.dtype)
                numbers[name][start:stop] = column
            else:
                texts.setdefault(name, []).append(column)
    cols = {**numbers, **{name: np.concatenate(parts) for name, parts in texts.items()}}
    cols["couple"] = ids.astype(np.int64)
    # The last chunk's kernel kept the means of every couple's sums (``Kernel.advance``).
    summary = ChunkedRun(n=n, days=days, day=days, seed=seed, engine=engine,
                         daily_mean=kern.daily_mean, chunks=-(-n // size))  # fmt: skip
    return summary, {name: cols[name] for name in COUPLE_COLUMNS}


def build_kernel(setup: Setup, *, record_daily: bool = False, engine: str = "compiled"):
    """Return ``(kernel, population)`` for ``setup``, ready to advance day by day."""
    pop = population(setup)
    kern = k.Kernel(pop.people, pop.params, seed=setup.seed, days=setup.days,
                    record_daily=record_daily, engine=engine)  # fmt: skip
    return kern, pop


def _ratio(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):  # no episode: NaN (empty in CSV)
        return total / count


def couple_columns(kern: k.Kernel, pop: Population) -> dict[str, np.ndarray]:
    """The per-couple table (``COUPLE_COLUMNS``) of a kernel's current state, as arrays.

    Relief hours are the mean over completed episodes that began in the window; episodes cut
    short by the next answer, or still open at the end, are counted in ``relief_censored_*``.
    The request-rate slope is the least-squares trend of requests per day over the days the
    couple was together, in requests a day per 30 days.
    """
    R, S = kern.R, kern.S
    first_days = max(min(kern.first_end, kern.day), 1)
    last_days = max(min(kern.day - kern.last_start, kern.days - kern.last_start), 1)
    together = np.where(kern.dissolved_day >= 0, kern.dissolved_day + 1, kern.day).astype(float)
    cols: dict[str, np.ndarray] = {
        "couple": np.arange(kern.n),
        "style_a": pop.styles[0],
        "style_b": pop.styles[1],
        "anxiety_a": pop.anxiety[0],
        "avoidance_a": pop.avoidance[0],
        "anxiety_b": pop.anxiety[1],
        "avoidance_b": pop.avoidance[1],
        "dissolved_day": kern.dissolved_day.astype(int),
        "engagement": kern.P[k.ENGAGEMENT].copy(),
    }
    open_episode = R[k.EPISODE_TICK] >= 0
    # Least squares of requests on day over days 0..m-1: slope = (m Sxy - Sx Sy) / (m Sxx - Sx²).
    m = together
    sx = m * (m - 1) / 2
    sxx = (m - 1) * m * (2 * m - 1) / 6
    denominator = m * sxx - sx * sx
    for p, tag in enumerate("ab"):
        cols[f"requests_{tag}"] = R[k.REQUESTS, p].astype(int)
        cols[f"answered_{tag}"] = R[k.ANSWERED, p].astype(int)
        cols[f"affection_received_{tag}"] = R[k.AFFECTION_RECEIVED, p].astype(int)
        cols[f"answer_warmth_{tag}"] = _ratio(R[k.WARMTH_RECEIVED, p], R[k.ANSWERED, p])
        cols[f"request_rate_{tag}"] = R[k.REQUESTS, p] / np.maximum(together, 1.0)
        cols[f"request_rate_first_30d_{tag}"] = R[k.REQUESTS_FIRST, p] / first_days
        cols[f"request_rate_last_30d_{tag}"] = R[k.REQUESTS_LAST, p] / last_days
        cols[f"relief_hours_first_30d_{tag}"] = _ratio(R[k.RELIEF_FIRST_SUM, p],
                                                       R[k.RELIEF_FIRST_N, p])  # fmt: skip
        cols[f"relief_hours_last_30d_{tag}"] = _ratio(R[k.RELIEF_LAST_SUM, p],
                                                      R[k.RELIEF_LAST_N, p])  # fmt: skip
        cols[f"relief_censored_first_30d_{tag}"] = (
            R[k.CENSORED_FIRST, p] + open_episode[p] * R[k.EPISODE_FIRST, p]
        ).astype(int)
        cols[f"relief_censored_last_30d_{tag}"] = (
            R[k.CENSORED_LAST, p] + open_episode[p] * R[k.EPISODE_LAST, p]
        ).astype(int)
        cols[f"hours_to_next_request_first_30d_{tag}"] = _ratio(R[k.WAIT_FIRST_SUM, p],
                                                                R[k.WAIT_FIRST_N, p])  # fmt: skip
        cols[f"hours_to_next_request_last_30d_{tag}"] = _ratio(R[k.WAIT_LAST_SUM, p],
                                                               R[k.WAIT_LAST_N, p])  # fmt: skip
        sy = R[k.REQUESTS, p]
        sxy = R[k.REQUEST_DAY_SUM, p]
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = np.where(m >= 2, (m * sxy - sx * sy) / np.where(m >= 2, denominator, 1.0),
                             np.nan)  # fmt: skip
        cols[f"request_rate_slope_{tag}"] = 30.0 * slope
        for name in ("satisfaction", "trust", "exhaustion", "security", "withdrawal",
                     "habituation", "commitment", "closeness"):  # fmt: skip
            cols[f"{name}_{tag}"] = S[k.STATE_VARS.index(name), p].copy()
        cols[f"start_satisfaction_{tag}"] = pop.people["satisfaction"][p]
        cols[f"start_trust_{tag}"] = pop.people["trust"][p]
        cols[f"final_anxiety_{tag}"] = S[k.ANXIETY, p].copy()
        cols[f"final_avoidance_{tag}"] = S[k.AVOIDANCE, p].copy()
        cols[f"expression_{tag}"] = pop.expression[p]
        cols[f"culture_{tag}"] = pop.cultures[p]
    cols["outcome"] = classify_couples(cols, kern.day, pop.labels)
    return {name: cols[name] for name in COUPLE_COLUMNS}


@dataclass
class Result:
    """A finished run: the setup, the per-couple table, the daily means and the summary."""

    setup: Setup
    couples: dict[str, np.ndarray]
    daily_mean: np.ndarray
    daily: np.ndarray | None
    kernel: k.Kernel

    @property
    def labels(self) -> np.ndarray:
        """Each couple's outcome label."""
        return self.couples["outcome"]

    @property
    def outcomes(self) -> dict[str, int]:
        """Count of couples per outcome label."""
        return count_outcomes(self.labels)

    def strategy_effects(self) -> dict[str, object] | None:
        """The interventions' effects (:func:`strategy_effects`), or ``None`` without any.

        Computed once, on first use: it runs the same couples without help and without trait
        change (common random numbers).
        """
        if not self.setup.interventions:
            return None
        if getattr(self, "_effects", None) is None:
            self._effects = strategy_effects(self.setup, engine=self.kernel.engine)
        return self._effects

    def aspects(self) -> list[dict]:
        """The healthy-versus-excessive table with measured values."""
        return aspects_table(self.couples, self.labels, self.setup.labels)

    def headline(self) -> dict[str, float | None]:
        """Headline metrics, the seeker's and the partner's apart.

        The *seeker* of a couple is the partner who asked more (``outcomes.seeker_is_a``); their
        *partner* is the one asked. Means are over couples; ``None`` where nothing was measured.
        """
        c = self.couples
        requests = c["requests_a"] + c["requests_b"]
        answered = c["answered_a"] + c["answered_b"]

        def nanmean(x):
            x = np.asarray(x, dtype=float)
            return float(np.nanmean(x)) if np.any(np.isfinite(x)) else None

        out: dict[str, float | None] = {
            "share_spiraling": float(np.mean(self.labels == "spiraling")),
            "share_dissolved": float(np.mean(self.labels == "dissolved")),
            "answered_share": float(answered.sum() / requests.sum()) if requests.sum() else None,
        }
        for name in ("request_rate_first_30d", "request_rate_last_30d", "request_rate_slope",
                     "relief_hours_first_30d", "relief_hours_last_30d",
                     "hours_to_next_request_first_30d", "hours_to_next_request_last_30d",
                     "start_satisfaction", "satisfaction", "trust", "exhaustion", "withdrawal",
                     "answer_warmth"):  # fmt: skip
            seeker, partner = seeker_partner(c, name)
            out[f"seeker_{name}"] = nanmean(seeker)
            out[f"partner_{name}"] = nanmean(partner)
        for name in ("satisfaction", "trust", "exhaustion"):
            out[f"mean_{name}"] = nanmean((c[f"{name}_a"] + c[f"{name}_b"]) / 2)
        return out

    def summary(self) -> dict:
        """The run's summary (the body of ``summary.json`` without the scenario's name)."""
        out = {
            "seed": self.setup.seed,
            "days": self.setup.days,
            "couples": self.setup.couples,
            "outcomes": self.outcomes,
            "aspects": self.aspects(),
            "metrics": self.headline(),
        }
        if self.setup.interventions:
            out["strategy_effects"] = self.strategy_effects()
        return out

    def daily_rows(self) -> list[dict]:
        """The daily population means, one row per day and partner."""
        rows = []
        names = k.DAILY_VARS
        for day in range(self.daily_mean.shape[0]):
            for p, tag in enumerate("ab"):
                row = {"day": day + 1, "partner": tag}
                row.update({n: float(self.daily_mean[day, v, p]) for v, n in enumerate(names)})
                row["couples_together"] = int(self.daily_mean[day, len(names), p])
                rows.append(row)
        return rows


def _cohen_d(treated: np.ndarray, control: np.ndarray) -> float | None:
    """Cohen's d of ``treated`` against ``control`` with the pooled standard deviation."""
    treated, control = np.asarray(treated, float), np.asarray(control, float)
    pooled = np.sqrt((treated.var(ddof=1) + control.var(ddof=1)) / 2.0)
    return float((treated.mean() - control.mean()) / pooled) if pooled > 0 else None


def strategy_effects(setup: Setup, *, engine: str = "compiled") -> dict[str, object]:
    """The effect of ``setup``'s interventions, split into their own mechanism and trait change.

    Three runs with common random numbers (same seed, same couples, same draws): without any
    intervention, with the interventions but ``trait_change = 0`` (each strategy acts only
    through its own mechanism), and as given. Reported for the share spiraling or dissolved
    (percentage points) and for the seeker's final satisfaction (Cohen's d against no help):
    ``total``, ``own_mechanism`` (second run minus first) and ``trait_change`` (third minus
    second). Also the share of couples that were spiraling or dissolved without help and are
    stable or distant with it (``recovered_share``).
    """
    if not setup.interventions:
        raise ValueError("strategy_effects needs a setup with at least one intervention")
    control = simulate(replace(setup, interventions=()), engine=engine)
    own = simulate(replace(setup, dynamics={**setup.dynamics, "trait_change": 0.0}),
                   engine=engine)  # fmt: skip
    full = simulate(setup, engine=engine)
    share = {name: float(np.mean(broken(r.labels))) for name, r in
             (("control", control), ("own", own), ("full", full))}  # fmt: skip
    seeker = {name: seeker_partner(r.couples, "satisfaction")[0] for name, r in
              (("control", control), ("own", own), ("full", full))}  # fmt: skip
    d_total = _cohen_d(seeker["full"], seeker["control"])
    d_own = _cohen_d(seeker["own"], seeker["control"])
    was_broken = broken(control.labels)
    recovered = was_broken & ~broken(full.labels)
    return {
        "broken_share_without": share["control"],
        "broken_share_with": share["full"],
        "broken_points": {
            "total": 100 * (share["full"] - share["control"]),
            "own_mechanism": 100 * (share["own"] - share["control"]),
            "trait_change": 100 * (share["full"] - share["own"]),
        },
        "seeker_satisfaction_d": {
            "total": d_total,
            "own_mechanism": d_own,
            "trait_change": None if d_total is None or d_own is None else d_total - d_own,
        },
        "recovered_share": float(recovered.sum() / was_broken.sum()) if was_broken.any() else None,
    }


def simulate(setup: Setup, *, record_daily: bool = False, engine: str = "compiled",
             progress: Callable[[int], object] | None = None) -> Result:  # fmt: skip
    """Run ``setup`` for ``setup.days`` days and return its :class:`Result`.

    ``progress``, if given, is called with the days done after every ``PROGRESS_DAYS`` days (a
    progress bar's hook; the numbers are the same with or without it).
    """
    kern, cols = run_population(population(setup), seed=setup.seed, days=setup.days,
                                record_daily=record_daily, engine=engine,
                                progress=progress)  # fmt: skip
    return Result(setup, cols, kern.daily_mean, kern.daily if record_daily else None, kern)
