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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import kernel as k
from .interventions import Intervention, start_days
from .outcomes import aspects_table, classify_couples, count_outcomes
from .params import DYNAMICS, PERSON, RUN, closest, validate_value
from .styles import Style, classify, draw_population, draw_traits

__all__ = [
    "COUPLE_COLUMNS",
    "Population",
    "Result",
    "Setup",
    "build_kernel",
    "couple_columns",
    "population",
    "run_population",
    "simulate",
]

#: The per-couple table's columns, in order (results/README.md's couples.csv columns first).
COUPLE_COLUMNS = (
    "couple", "style_a", "style_b", "anxiety_a", "avoidance_a", "anxiety_b", "avoidance_b",
    "outcome", "dissolved_day", "requests_a", "requests_b", "answered_a", "answered_b",
    "satisfaction_a", "satisfaction_b", "trust_a", "trust_b", "exhaustion_a", "exhaustion_b",
    "request_rate_first_30d_a", "request_rate_last_30d_a", "request_rate_first_30d_b",
    "request_rate_last_30d_b", "relief_hours_first_30d_a", "relief_hours_last_30d_a",
    "relief_hours_first_30d_b", "relief_hours_last_30d_b", "affection_received_a",
    "affection_received_b", "security_a", "security_b", "withdrawal_a", "withdrawal_b",
    "habituation_a", "habituation_b", "commitment_a", "commitment_b",
)  # fmt: skip


def _person(spec: Mapping[str, object], where: str) -> dict[str, object]:
    allowed = ("style", *PERSON)
    for key in spec:
        if key not in allowed:
            raise ValueError(f"unknown key {where}.{key}{closest(key, allowed)}; allowed: "
                             f"{', '.join(allowed)}")
    style = spec.get("style", "secure")
    out: dict[str, object] = {
        "style": style if isinstance(style, Style) else Style.from_label(str(style))
    }
    for name in PERSON:
        value = spec.get(name)
        if value is None:
            continue
        if isinstance(value, np.ndarray):  # one value per couple (sweeps)
            out[name] = PERSON[name].check_array(value, f"{where}.{name}")
        else:
            out[name] = validate_value(PERSON, name, value, f"{where}.{name}")
    return out


@dataclass
class Setup:
    """Everything a run needs; validated on creation.

    Parameters
    ----------
    partner_a, partner_b : mapping
        ``style`` (secure, anxious, avoidant, fearful) and optional ``anxiety``, ``avoidance``,
        ``expression`` overrides in [0, 1]. An override fixes that trait for every couple;
        otherwise it is jittered around the style's preset.
    dynamics : mapping
        Overrides of ``params.DYNAMICS``; each value may be a number or a per-couple array.
    interventions : sequence of Intervention or mappings with ``kind`` and ``day``
    couples, days, seed : int
        Replicate couples, simulated days, the run's seed.
    population : mapping, optional
        ``{"mix": {style: weight}, "couples": n}``: people drawn from a style mix and paired at
        random; replaces ``partner_a`` and ``partner_b``.

    """

    partner_a: Mapping[str, object] = field(default_factory=lambda: {"style": "secure"})
    partner_b: Mapping[str, object] = field(default_factory=lambda: {"style": "secure"})
    dynamics: Mapping[str, object] = field(default_factory=dict)
    interventions: Sequence[Intervention | Mapping[str, object]] = ()
    couples: int = 200
    days: int = 180
    seed: int = 0
    population: Mapping[str, object] | None = None

    def __post_init__(self) -> None:
        self.partner_a = _person(self.partner_a, "partner_a")
        self.partner_b = _person(self.partner_b, "partner_b")
        for name in ("couples", "days", "seed"):
            setattr(self, name, RUN[name].check(getattr(self, name), name))
        clean: dict[str, object] = {}
        for name, value in self.dynamics.items():
            if isinstance(value, np.ndarray):  # one value per couple (sweeps)
                if name not in DYNAMICS:
                    validate_value(DYNAMICS, name, 0.0)  # raises: unknown, with a close match
                clean[name] = DYNAMICS[name].check_array(value, f"dynamics.{name}")
            else:
                clean[name] = validate_value(DYNAMICS, name, value, f"dynamics.{name}")
        self.dynamics = clean
        self.interventions = tuple(
            item if isinstance(item, Intervention) else Intervention.from_mapping(item)
            for item in self.interventions
        )
        if self.population is not None:
            mix = dict(self.population.get("mix", {}))  # type: ignore[arg-type]
            for label in mix:
                Style.from_label(label)
            self.couples = RUN["couples"].check(self.population.get("couples", self.couples),
                                                "population.couples")  # fmt: skip


def _traits(setup: Setup, rng: np.random.Generator):
    n = setup.couples
    if setup.population is not None:
        styles, anxiety, avoidance = draw_population(setup.population["mix"], n, rng)
        expression = np.full((2, n), PERSON["expression"].default)
        return styles, anxiety, avoidance, expression
    styles = np.empty((2, n), dtype=object)
    anxiety, avoidance, expression = (np.empty((2, n)) for _ in range(3))
    for row, spec in enumerate((setup.partner_a, setup.partner_b)):
        style: Style = spec["style"]  # type: ignore[assignment]
        anxiety[row], avoidance[row] = draw_traits(style, n, rng)
        if "anxiety" in spec:
            anxiety[row] = spec["anxiety"]
        if "avoidance" in spec:
            avoidance[row] = spec["avoidance"]
        expression[row] = spec.get("expression", PERSON["expression"].default)
        styles[row] = style.label
    return styles.astype(str), anxiety, avoidance, expression


@dataclass
class Population:
    """The people of a run and their per-couple parameters, before any hour is simulated.

    ``styles``, ``anxiety``, ``avoidance`` and ``expression`` have shape ``(2, n)``; ``params``
    has shape ``(len(kernel.P_ROWS), n)``. Slicing the last axis gives a chunk of couples.
    """

    styles: np.ndarray
    anxiety: np.ndarray
    avoidance: np.ndarray
    expression: np.ndarray
    params: np.ndarray

    @property
    def n(self) -> int:
        """Number of couples."""
        return self.params.shape[1]

    def chunk(self, start: int, stop: int) -> Population:
        """Couples ``start`` to ``stop - 1`` (views, not copies)."""
        part = slice(start, stop)
        return Population(self.styles[:, part], self.anxiety[:, part], self.avoidance[:, part],
                          self.expression[:, part], self.params[:, part])  # fmt: skip


def population(setup: Setup) -> Population:
    """Draw the people of ``setup`` and lay out their parameters.

    Traits come from a generator spawned from the seed's ``SeedSequence``; the kernel's hourly
    draws come from a second, independent stream of the same seed (``kernel.run_key``).
    """
    traits_seq = np.random.SeedSequence(setup.seed).spawn(1)[0]
    rng = np.random.default_rng(traits_seq)
    styles, anxiety, avoidance, expression = _traits(setup, rng)
    n = setup.couples
    P = np.empty((len(k.P_ROWS), n))
    for row, (name, spec) in enumerate(DYNAMICS.items()):
        P[row] = setup.dynamics.get(name, spec.default)
    P[len(DYNAMICS):] = np.asarray(start_days(setup.interventions))[:, None]
    return Population(styles, anxiety, avoidance, expression, P)


def run_population(pop: Population, *, seed: int, days: int, first_couple: int = 0,
                   record_daily: bool = False, engine: str = "compiled"):  # fmt: skip
    """Simulate ``pop`` for ``days`` days; return ``(kernel, per-couple columns)``.

    ``first_couple`` is the global index of the chunk's first couple: a couple's random draws
    depend on its global index only, so any chunking of a population gives the same numbers.
    Column ``couple`` holds the global index.
    """
    ids = np.arange(first_couple, first_couple + pop.n, dtype=np.uint64)
    kern = k.Kernel(pop.anxiety, pop.avoidance, pop.expression, pop.params, seed=seed, days=days,
                    couple_ids=ids, record_daily=record_daily, engine=engine)  # fmt: skip
    kern.advance(days)
    cols = couple_columns(kern, pop.styles, pop.anxiety, pop.avoidance)
    cols["couple"] = ids.astype(np.int64)
    return kern, cols


def build_kernel(setup: Setup, *, record_daily: bool = False, engine: str = "compiled"):
    """Return ``(kernel, population)`` for ``setup``, ready to advance day by day."""
    pop = population(setup)
    kern = k.Kernel(pop.anxiety, pop.avoidance, pop.expression, pop.params, seed=setup.seed,
                    days=setup.days, record_daily=record_daily, engine=engine)  # fmt: skip
    return kern, pop


def couple_columns(kern: k.Kernel, styles: np.ndarray, anxiety0: np.ndarray,
                   avoidance0: np.ndarray) -> dict[str, np.ndarray]:  # fmt: skip
    """The per-couple table (``COUPLE_COLUMNS``) of a kernel's current state, as arrays."""
    R, S = kern.R, kern.S
    first_days = max(min(kern.first_end, kern.day), 1)
    last_days = max(min(kern.day - kern.last_start, kern.days - kern.last_start), 1)
    cols: dict[str, np.ndarray] = {
        "couple": np.arange(kern.n),
        "style_a": styles[0],
        "style_b": styles[1],
        "anxiety_a": anxiety0[0],
        "avoidance_a": avoidance0[0],
        "anxiety_b": anxiety0[1],
        "avoidance_b": avoidance0[1],
        "dissolved_day": kern.dissolved_day.astype(int),
    }
    for p, tag in enumerate("ab"):
        cols[f"requests_{tag}"] = R[k.REQUESTS, p].astype(int)
        cols[f"answered_{tag}"] = R[k.ANSWERED, p].astype(int)
        cols[f"affection_received_{tag}"] = R[k.AFFECTION_RECEIVED, p].astype(int)
        cols[f"request_rate_first_30d_{tag}"] = R[k.REQUESTS_FIRST, p] / first_days
        cols[f"request_rate_last_30d_{tag}"] = R[k.REQUESTS_LAST, p] / last_days
        with np.errstate(invalid="ignore", divide="ignore"):  # no episode: NaN (empty in CSV)
            first = R[k.RELIEF_FIRST_SUM, p] / R[k.RELIEF_FIRST_N, p]
            last = R[k.RELIEF_LAST_SUM, p] / R[k.RELIEF_LAST_N, p]
        cols[f"relief_hours_first_30d_{tag}"] = first
        cols[f"relief_hours_last_30d_{tag}"] = last
        for name in ("satisfaction", "trust", "exhaustion", "security", "withdrawal",
                     "habituation", "commitment"):  # fmt: skip
            cols[f"{name}_{tag}"] = S[k.STATE_VARS.index(name), p].copy()
    cols["outcome"] = classify_couples(cols, kern.day)
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

    def aspects(self) -> list[dict]:
        """The healthy-versus-excessive table with measured values."""
        return aspects_table(self.couples, self.labels)

    def headline(self) -> dict[str, float]:
        """Headline metrics: mean request rates, relief hours, answered share, final states."""
        c = self.couples
        requests = c["requests_a"] + c["requests_b"]
        answered = c["answered_a"] + c["answered_b"]

        def nanmean(x):
            x = np.asarray(x, dtype=float)
            return float(np.nanmean(x)) if np.any(np.isfinite(x)) else None

        seeker_a = c["requests_a"] >= c["requests_b"]

        def seeker(name):
            return np.where(seeker_a, c[f"{name}_a"], c[f"{name}_b"])

        return {
            "share_spiraling": float(np.mean(self.labels == "spiraling")),
            "share_dissolved": float(np.mean(self.labels == "dissolved")),
            "seeker_request_rate_first_30d": nanmean(seeker("request_rate_first_30d")),
            "seeker_request_rate_last_30d": nanmean(seeker("request_rate_last_30d")),
            "seeker_relief_hours_first_30d": nanmean(seeker("relief_hours_first_30d")),
            "seeker_relief_hours_last_30d": nanmean(seeker("relief_hours_last_30d")),
            "answered_share": float(answered.sum() / requests.sum()) if requests.sum() else None,
            "mean_satisfaction": nanmean((c["satisfaction_a"] + c["satisfaction_b"]) / 2),
            "mean_trust": nanmean((c["trust_a"] + c["trust_b"]) / 2),
            "mean_exhaustion": nanmean((c["exhaustion_a"] + c["exhaustion_b"]) / 2),
        }

    def summary(self) -> dict:
        """The run's summary (the body of ``summary.json`` without the scenario's name)."""
        return {
            "seed": self.setup.seed,
            "days": self.setup.days,
            "couples": self.setup.couples,
            "outcomes": self.outcomes,
            "aspects": self.aspects(),
            "metrics": self.headline(),
        }

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


def simulate(setup: Setup, *, record_daily: bool = False, engine: str = "compiled") -> Result:
    """Run ``setup`` for ``setup.days`` days and return its :class:`Result`."""
    kern, cols = run_population(population(setup), seed=setup.seed, days=setup.days,
                                record_daily=record_daily, engine=engine)  # fmt: skip
    return Result(setup, cols, kern.daily_mean, kern.daily if record_daily else None, kern)


def quadrant_styles(anxiety: np.ndarray, avoidance: np.ndarray) -> np.ndarray:
    """Style label of each point (for people given by traits rather than by a preset)."""
    return classify(anxiety, avoidance)
