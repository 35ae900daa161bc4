"""Calibration targets: the registry of statistics and the targets file (TOML).

A *target* is one published finding the model should reproduce: a statistic from the registry
below, measured on a scenario, with the published value, its uncertainty, a weight and a source.
A targets file lists them::

    [calibrate]
    params = ["seek_threshold", "reassurance_frequency"]   # what `relsim calibrate` fits

    [[target]]
    name = "anxiety-satisfaction"
    statistic = "correlation"
    x = "anxiety"
    y = "satisfaction"
    scenario = "classroom"            # a bundled scenario or a path (relative to this file)
    set = ["days=365"]                # optional --set style overrides of that scenario
    value = -0.25                     # the published value
    interval = [-0.35, -0.15]         # or se = 0.05 (or both)
    weight = 1.0                      # optional, default 1
    source = "Li & Chan (2012), meta-analysis of 118 samples"
    note = "..."                      # optional: how the value was read from the source
    known_miss = "..."                # optional: why the model is known to miss it (reported)

The statistics (:data:`STATISTICS`) work on a run's per-couple table (``couples.csv``, the
columns of :data:`sim.simulation.COUPLE_COLUMNS`) or on its *per-person table*: the ``_a`` and
``_b`` columns stacked, so that ``satisfaction`` holds both partners' values, ``partner_<name>``
holds the other partner's value of ``<name>``, and columns of the couple (``outcome``,
``dissolved_day``) are repeated for both partners. Every function here is a plain function of
such tables, so it can be checked on a hand-made table.

Validation is like every other input of relsim: anything wrong raises :class:`TargetsError`
naming the file, the target and the key, what is wrong and what is allowed.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "STATISTICS",
    "Statistic",
    "Target",
    "TargetsError",
    "TargetsFile",
    "correlation",
    "dissolution_share",
    "fittable_params",
    "load_targets",
    "mean",
    "numeric_person_columns",
    "per_person",
    "rate_ratio",
    "relapse_share",
    "run_key",
    "share",
    "treatment_d",
]

#: z-score charged for a statistic that cannot be computed (no one of that style, no spread...).
UNDEFINED_Z = 10.0
#: Two-sided 95% normal quantile: an ``se`` gives the interval value ± Z95 * se and back.
Z95 = 1.959963984540054


class TargetsError(ValueError):
    """A targets file is not valid; the message names the file, the target and the key."""

    def __init__(self, problem: str, *, file: str | Path | None = None, target: str | None = None,
                 key: str | None = None, allowed: str | None = None,
                 suggestion: str | None = None) -> None:  # fmt: skip
        parts = []
        if file is not None:
            parts.append(f"{file}: ")
        if target is not None:
            parts.append(f"{target}: ")
        if key is not None:
            parts.append(f"{key}: ")
        parts.append(problem)
        if allowed:
            parts.append(f"; allowed: {allowed}")
        if suggestion:
            parts.append(f" (did you mean {suggestion!r}?)")
        self.file, self.target, self.key = file, target, key
        super().__init__("".join(parts))


# ----------------------------------------------------------------------------------------------
# Tables


def per_person(couples: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Stack a per-couple table into a per-person table (partner ``a`` rows, then ``b`` rows).

    A column ``x_a`` with its twin ``x_b`` becomes ``x`` (own value) and ``partner_x`` (the other
    partner's value); any other column is repeated for both partners; ``partner`` says which
    partner a row is.
    """
    names = list(couples)
    paired = {name[:-2] for name in names if name.endswith("_a") and f"{name[:-2]}_b" in couples}
    n = len(np.asarray(couples[names[0]])) if names else 0
    out: dict[str, np.ndarray] = {}
    for name in names:
        base = name[:-2]
        if name.endswith("_a") and base in paired:
            a, b = np.asarray(couples[name]), np.asarray(couples[f"{base}_b"])
            out[base] = np.concatenate([a, b])
            out[f"partner_{base}"] = np.concatenate([b, a])
        elif not (name.endswith("_b") and base in paired):
            column = np.asarray(couples[name])
            out[name] = np.concatenate([column, column])
    out["partner"] = np.array(["a"] * n + ["b"] * n)
    return out


def _numbers(table: Mapping[str, Any], column: str) -> np.ndarray:
    return np.asarray(table[column], dtype=float)


def _rows(people: Mapping[str, Any], style: str | None) -> np.ndarray:
    size = len(np.asarray(people["partner"]))
    if style is None:
        return np.ones(size, dtype=bool)
    return np.asarray(people["style"]).astype(str) == style


def correlation(people: Mapping[str, Any], x: str, y: str, style: str | None = None,
                together: bool = False) -> float:  # fmt: skip
    """Pearson correlation of two per-person columns over everyone (or one style).

    With ``together``, only people whose couple is still together at the end count, as in a
    survey of couples (a dissolved couple's counts stop on the day it ended). Rows where either
    value is missing (NaN) are left out; ``nan`` if fewer than three rows remain or a column has
    no spread.
    """
    rows = _rows(people, style)
    if together:
        rows = rows & (_numbers(people, "dissolved_day") < 0)
    a, b = _numbers(people, x)[rows], _numbers(people, y)[rows]
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    a, b = a - a.mean(), b - b.mean()
    return float(np.sum(a * b) / math.sqrt(float(np.sum(a * a)) * float(np.sum(b * b))))


def mean(people: Mapping[str, Any], column: str, style: str | None = None) -> float:
    """Mean of a per-person column over everyone (or one style), missing values left out."""
    values = _numbers(people, column)[_rows(people, style)]
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def share(couples: Mapping[str, Any], outcomes: Sequence[str]) -> float:
    """Share of couples whose outcome is one of ``outcomes``."""
    labels = np.asarray(couples["outcome"]).astype(str)
    return float(np.isin(labels, list(outcomes)).mean()) if labels.size else math.nan


def dissolution_share(couples: Mapping[str, Any], day: int) -> float:
    """Share of couples dissolved before ``day`` (``dissolved_day`` is 0-based, -1 if together)."""
    dissolved = _numbers(couples, "dissolved_day")
    return float(((dissolved >= 0) & (dissolved < day)).mean()) if dissolved.size else math.nan


def treatment_d(base: Mapping[str, Any], twin: Mapping[str, Any], column: str,
                style: str | None = None) -> float:  # fmt: skip
    """Cohen's d of a per-person column, intervention twin minus base, with the pooled SD.

    ``d = (mean_twin - mean_base) / s_pooled``, ``s_pooled² = ((n1-1) s1² + (n2-1) s2²) /
    (n1 + n2 - 2)`` with sample variances (ddof 1); missing values left out.
    """
    groups = []
    for people in (base, twin):
        values = _numbers(people, column)[_rows(people, style)]
        groups.append(values[np.isfinite(values)])
    b, t = groups
    if b.size < 2 or t.size < 2:
        return math.nan
    pooled = ((b.size - 1) * b.var(ddof=1) + (t.size - 1) * t.var(ddof=1)) / (b.size + t.size - 2)
    if pooled <= 0:
        return math.nan
    return float((t.mean() - b.mean()) / math.sqrt(pooled))


def relapse_share(early: Mapping[str, Any], late: Mapping[str, Any],
                  recovered: Sequence[str]) -> float:  # fmt: skip
    """Share of the couples recovered in ``early`` that are no longer recovered in ``late``.

    ``early`` and ``late`` are the per-couple tables of one scenario run to two different days
    (the same couples and draws: a shorter run is the start of the longer one); a couple is
    recovered when its outcome is one of ``recovered``. ``nan`` if nobody had recovered.
    """
    before = np.isin(np.asarray(early["outcome"]).astype(str), list(recovered))
    after = np.isin(np.asarray(late["outcome"]).astype(str), list(recovered))
    if not before.any():
        return math.nan
    return float((before & ~after).sum() / before.sum())


def rate_ratio(people: Mapping[str, Any], numerator: str, denominator: str,
               column: str = "requests") -> float:  # fmt: skip
    """Mean of ``column`` (default: requests made) for one style over that of another style."""
    top, bottom = mean(people, column, numerator), mean(people, column, denominator)
    if not math.isfinite(top) or not math.isfinite(bottom) or bottom == 0:
        return math.nan
    return top / bottom


# ----------------------------------------------------------------------------------------------
# The registry


@dataclass(frozen=True)
class Statistic:
    """One statistic a target can name.

    Attributes
    ----------
    name : str
        The word in a targets file (``statistic = "..."``).
    summary : str
        What it computes, in one sentence (shown in docs and messages).
    keys : dict
        Its own keys: name -> what it is. Keys with a default are optional.
    defaults : dict
        Defaults of optional keys (``None``: the key may be left out).
    compute : callable
        ``compute(tables, target) -> float`` where ``tables`` maps a run key to the run's
        per-couple table.

    """

    name: str
    summary: str
    keys: Mapping[str, str]
    defaults: Mapping[str, Any]
    compute: Callable[[Mapping[str, Mapping[str, Any]], Target], float]
    twin: bool = False


def _people(tables: Mapping[str, Mapping[str, Any]], key: str) -> dict[str, np.ndarray]:
    return per_person(tables[key])


STATISTICS: dict[str, Statistic] = {
    s.name: s
    for s in (
        Statistic(
            "correlation",
            "Pearson r between two per-person columns, both partners pooled (optionally one "
            "style); partner_<column> is the other partner's value",
            {"x": "per-person column", "y": "per-person column", "style": "only this style",
             "together": "true: only couples still together at the end (a survey of couples)"},
            {"style": None, "together": False},
            lambda t, g: correlation(_people(t, g.run), g.args["x"], g.args["y"],
                                     g.args.get("style"), g.args.get("together", False)),
        ),
        Statistic(
            "mean",
            "mean of a per-person column over everyone or one style",
            {"column": "per-person column", "style": "only this style"},
            {"style": None},
            lambda t, g: mean(_people(t, g.run), g.args["column"], g.args.get("style")),
        ),
        Statistic(
            "share",
            "share of couples ending with one of the given outcomes",
            {"outcomes": "an outcome label or a list of them"},
            {},
            lambda t, g: share(t[g.run], g.args["outcomes"]),
        ),
        Statistic(
            "dissolution_share",
            "share of couples dissolved before the given day (default 365: one year)",
            {"day": "day (the scenario must run at least this long)"},
            {"day": 365},
            lambda t, g: dissolution_share(t[g.run], g.args["day"]),
        ),
        Statistic(
            "treatment_d",
            "Cohen's d of a per-person column between the scenario and its intervention twin "
            "(same seed, same couples: common random numbers), twin minus scenario",
            {"column": "per-person column", "style": "only this style",
             "twin": "a scenario identical to `scenario` apart from its interventions",
             "interventions": "interventions added to `scenario` to make the twin, e.g. "
                              "[{kind = \"therapy\", day = 60}]"},
            {"style": None, "twin": None, "interventions": None},
            lambda t, g: treatment_d(_people(t, g.run), _people(t, g.twin_run or ""),
                                     g.args["column"], g.args.get("style")),
            twin=True,
        ),
        Statistic(
            "relapse_share",
            "share of the couples recovered on day `at_day` (outcome one of `recovered`, "
            "default stable) that are no longer recovered at the end of the scenario",
            {"at_day": "day recovery is judged (e.g. when a treatment ends), before the end",
             "recovered": "outcome label(s) that count as recovered"},
            {"recovered": ["stable"]},
            lambda t, g: relapse_share(t[g.twin_run or ""], t[g.run], g.args["recovered"]),
        ),
        Statistic(
            "rate_ratio",
            "mean of a per-person column (default: requests made) for one style divided by "
            "that for another style",
            {"numerator": "style", "denominator": "style", "column": "per-person column"},
            {"column": "requests"},
            lambda t, g: rate_ratio(_people(t, g.run), g.args["numerator"],
                                    g.args["denominator"], g.args["column"]),
        ),
    )
}  # fmt: skip

COMMON_KEYS = ("name", "statistic", "scenario", "set", "value", "se", "interval", "weight",
               "source", "note", "known_miss")  # fmt: skip
COLUMN_KEYS = ("x", "y", "column")
STYLE_KEYS = ("style", "numerator", "denominator")
CALIBRATE_KEYS = ("params", "ranges", "seed", "startup_trials", "replicates", "scenario")


def fittable_params() -> dict[str, Any]:
    """What ``relsim calibrate`` can fit, by name: every dynamics parameter and label threshold.

    A threshold (``sim.params.LABEL_THRESHOLDS``) changes only how the runs' couples are
    labelled, so it can be fitted to targets that count outcomes (``share``, ``dissolution_share``
    and ``relapse_share`` read the ``outcome`` column).
    """
    from .params import DYNAMICS, LABEL_THRESHOLDS

    return {**DYNAMICS, **LABEL_THRESHOLDS}


TOP_KEYS = ("description", "calibrate", "target")


@lru_cache(maxsize=1)
def numeric_person_columns() -> tuple[str, ...]:
    """The numeric columns of the per-person table, from a one-couple, one-day probe run.

    Read from the model itself (``sim.simulation.COUPLE_COLUMNS``), so new columns are found
    without a list here. The probe uses the NumPy engine: it never waits for a compilation.
    """
    from .simulation import Setup, simulate

    result = simulate(Setup(couples=1, days=1), engine="numpy")
    people = per_person(result.couples)
    return tuple(name for name, values in people.items() if values.dtype.kind in "biuf")


# ----------------------------------------------------------------------------------------------
# Targets


@dataclass
class Target:
    """One validated target (see the module docstring for the file format)."""

    name: str
    statistic: str
    scenario: str
    overrides: tuple[str, ...]
    value: float
    se: float
    low: float
    high: float
    weight: float
    source: str
    args: dict[str, Any]
    run: str = ""
    twin_run: str | None = None
    note: str = ""
    known_miss: str = ""  # why the model is known to miss this target ("" if it should not)

    def compute(self, tables: Mapping[str, Mapping[str, Any]]) -> float:
        """Compute the statistic on the runs' per-couple tables (keyed by run key)."""
        return STATISTICS[self.statistic].compute(tables, self)

    def z(self, simulated: float) -> float:
        """(simulated - published) / se; ``UNDEFINED_Z`` when the statistic is undefined."""
        if simulated is None or not math.isfinite(simulated):
            return UNDEFINED_Z
        return (simulated - self.value) / self.se

    def within(self, simulated: float) -> bool:
        """Whether ``simulated`` lies in the published interval."""
        return (
            simulated is not None
            and math.isfinite(simulated)
            and (self.low <= simulated <= self.high)
        )

    def describe(self) -> str:
        """The statistic and its arguments in a few words (for tables and figures)."""
        shown = ", ".join(f"{k}={v}" for k, v in self.args.items() if v is not None
                          and k not in ("twin", "interventions"))  # fmt: skip
        return f"{self.statistic}({shown}) on {self.scenario}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for manifests."""
        return {"name": self.name, "statistic": self.statistic, "scenario": self.scenario,
                "set": list(self.overrides), **{k: v for k, v in self.args.items()
                                                 if v is not None},
                "value": self.value, "se": self.se, "interval": [self.low, self.high],
                "weight": self.weight, "source": self.source}  # fmt: skip


@dataclass
class TargetsFile:
    """A validated targets file: the targets, the runs they need and the [calibrate] table."""

    path: Path
    description: str
    targets: list[Target]
    runs: dict[str, Any]  # run key -> sim.scenario.Scenario
    params: list[str]
    ranges: dict[str, tuple[float, float]]
    seed: int | None
    startup_trials: int
    replicates: int
    base_scenario: Any  # sim.scenario.Scenario the fitted scenario file is built on
    raw: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A short hash of what the targets ask for (to refuse resuming another calibration)."""
        import hashlib

        data = {"targets": [t.to_dict() for t in self.targets],
                "runs": {k: _run_data(s) for k, s in self.runs.items()}}  # fmt: skip
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _run_data(scenario: Any) -> dict[str, Any]:
    data = scenario.resolved()
    for key in ("name", "description", "source", "overrides", "sweep"):
        data.pop(key, None)
    return data


def run_key(scenario: Any) -> str:
    """The identity of a run: everything that changes its numbers (not names or descriptions)."""
    import hashlib

    text = json.dumps(_run_data(scenario), sort_keys=True, default=str)
    return f"{scenario.name}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


class _Reader:
    """Validates one targets document; knows the file for messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)

    def fail(self, problem: str, *, target: str | None = None, key: str | None = None,
             allowed: str | None = None,
             suggestion: str | None = None) -> TargetsError:  # fmt: skip
        return TargetsError(problem, file=self.label, target=target, key=key, allowed=allowed,
                            suggestion=suggestion)  # fmt: skip

    def unknown(self, table: Mapping[str, Any], allowed: Sequence[str], *, target: str | None,
                prefix: str = "") -> None:  # fmt: skip
        from .params import closest

        for key in table:
            if key not in allowed:
                hint = closest(str(key), list(allowed))
                raise self.fail(
                    "unknown key",
                    target=target,
                    key=f"{prefix}{key}",
                    allowed=", ".join(allowed),
                    suggestion=hint[len(" (did you mean '") : -3] if hint else None,
                )

    def number(self, value: object, *, target: str | None, key: str, what: str = "a number",
               positive: bool = False, nonnegative: bool = False) -> float:  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"must be {what}, got {_show(value)}", target=target, key=key)
        if not math.isfinite(value):
            raise self.fail(f"must be a finite number, got {value!r}", target=target, key=key)
        if positive and value <= 0:
            raise self.fail(f"must be above 0, got {value!r}", target=target, key=key)
        if nonnegative and value < 0:
            raise self.fail(f"must be 0 or more, got {value!r}", target=target, key=key)
        return float(value)

    def whole(self, value: object, *, target: str | None, key: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"must be a whole number, got {_show(value)}", target=target, key=key)
        if not low <= value <= high:
            raise self.fail(f"is out of range ({value})", target=target, key=key,
                            allowed=f"{low} to {high}")  # fmt: skip
        return int(value)

    def text(self, value: object, *, target: str | None, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"must be non-empty text in quotes, got {_show(value)}",
                            target=target, key=key)  # fmt: skip
        return value.strip()

    def scenario(self, name: str, overrides: Sequence[str], *, target: str, key: str = "scenario"):
        from .scenario import ScenarioError, load_scenario

        where = Path(name).expanduser()
        candidate = where if where.is_absolute() else self.path.parent / where
        if (name.endswith(".toml") or "/" in name) and candidate.is_file():
            name = str(candidate)
        try:
            scenario = load_scenario(name, list(overrides))
        except ScenarioError as error:
            raise self.fail(f"{error}", target=target, key=key) from None
        if scenario.sweep is not None:
            scenario.sweep = None  # a target measures the base scenario, never its grid
        return scenario


def _show(value: object) -> str:
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _styles_in(scenario: Any) -> set[str]:
    if scenario.population is not None:
        return {s for s, w in scenario.population["mix"].items() if w > 0}
    return {scenario.partner_a["style"], scenario.partner_b["style"]}


def _inline(value: Any) -> str:
    """A TOML literal of plain data (for the twin's ``interventions`` override)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def load_targets(path: str | Path, *, params: Sequence[str] | None = None) -> TargetsFile:
    """Read and validate a targets file; raise :class:`TargetsError` for anything wrong.

    Parameters
    ----------
    path : str or pathlib.Path
        The TOML file.
    params : sequence of str, optional
        The parameters to fit (``--params``); default the file's ``[calibrate] params``.

    """
    from .params import RUN, closest

    fittable = fittable_params()
    path = Path(path)
    reader = _Reader(path)
    if not path.is_file():
        raise TargetsError(
            "no such targets file" if not path.exists() else "is not a file",
            file=str(path),
            allowed="a path to a .toml targets file",
        )
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise TargetsError("is not UTF-8 text", file=str(path)) from None
    except tomllib.TOMLDecodeError as error:
        raise TargetsError(f"is not valid TOML ({error})", file=str(path)) from None
    except (OSError, RecursionError) as error:
        raise TargetsError(f"cannot be read ({error})", file=str(path)) from None
    reader.unknown(data, TOP_KEYS, target=None)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise reader.fail("must be text", key="description")

    settings = data.get("calibrate", {})
    if not isinstance(settings, dict):
        raise reader.fail("must be a table ([calibrate])", key="calibrate")
    reader.unknown(settings, CALIBRATE_KEYS, target=None, prefix="calibrate.")

    def param_name(name: object, key: str) -> str:
        if not isinstance(name, str) or name not in fittable:
            raise reader.fail(f"{_show(name)} is not a dynamics parameter or label threshold",
                              key=key, allowed=", ".join(fittable),
                              suggestion=closest(str(name), fittable)[len(" (did you mean '"):-3]
                              or None)  # fmt: skip
        return name

    chosen = settings.get("params", [])
    if params is not None:
        chosen, where = list(params), "--params"
    else:
        where = "calibrate.params"
        if not isinstance(chosen, list):
            raise reader.fail(
                "must be a list of parameter names",
                key=where,
                allowed='e.g. ["seek_threshold", "exhaustion_rate"]',
            )
    names = [param_name(name, where) for name in chosen]
    if len(set(names)) != len(names):
        raise reader.fail("names a parameter twice", key=where)
    if not names:
        raise reader.fail(
            "no parameters to fit",
            key=where,
            allowed="a list in [calibrate] params = [...] or --params NAME,...",
        )

    ranges: dict[str, tuple[float, float]] = {}
    raw_ranges = settings.get("ranges", {})
    if not isinstance(raw_ranges, dict):
        raise reader.fail("must be a table of name = [low, high]", key="calibrate.ranges")
    for name, bounds in raw_ranges.items():
        key = f"calibrate.ranges.{name}"
        param_name(name, key)
        spec = fittable[name]
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise reader.fail("must be [low, high]", key=key)
        low, high = (reader.number(b, target=None, key=key) for b in bounds)
        if not spec.low <= low < high <= spec.high:
            raise reader.fail(f"[{low:g}, {high:g}] is not a range inside the parameter's own",
                              key=key, allowed=f"low < high within {spec.low:g} to "
                              f"{spec.high:g} ({spec.unit})")  # fmt: skip
        ranges[name] = (low, high)
    for name in names:
        ranges.setdefault(name, (float(fittable[name].low), float(fittable[name].high)))
    ranges = {name: ranges[name] for name in names}

    seed = settings.get("seed")
    if seed is not None:
        seed = reader.whole(seed, target=None, key="calibrate.seed", low=0, high=2**32 - 1)
    startup = reader.whole(settings.get("startup_trials", 10), target=None,
                           key="calibrate.startup_trials", low=1, high=10_000)  # fmt: skip
    replicates = reader.whole(settings.get("replicates", 4), target=None,
                              key="calibrate.replicates", low=2, high=1000)  # fmt: skip

    raw_targets = data.get("target")
    if raw_targets is None:
        raise reader.fail(
            "has no targets", key="target", allowed="one [[target]] table per published finding"
        )
    if isinstance(raw_targets, dict):
        raw_targets = [raw_targets]
    if not isinstance(raw_targets, list) or not raw_targets:
        raise reader.fail("must be a list of [[target]] tables", key="target")

    columns = numeric_person_columns()
    targets: list[Target] = []
    runs: dict[str, Any] = {}
    seen: set[str] = set()
    for index, raw in enumerate(raw_targets):
        label = f"target {index + 1}"
        if not isinstance(raw, dict):
            raise reader.fail("must be a table", target=label)
        if "name" in raw:
            name = reader.text(raw["name"], target=label, key="name")
            label = f"target {index + 1} ({name!r})"
        else:
            raise reader.fail(
                "is missing",
                target=label,
                key="name",
                allowed='a short name, e.g. name = "anxiety-satisfaction"',
            )
        if name in seen:
            raise reader.fail("is used by an earlier target; names must differ", target=label,
                              key="name")  # fmt: skip
        seen.add(name)
        if "statistic" not in raw:
            raise reader.fail(
                "is missing", target=label, key="statistic", allowed=", ".join(STATISTICS)
            )
        kind = raw["statistic"]
        if not isinstance(kind, str) or kind not in STATISTICS:
            raise reader.fail(f"{_show(kind)} is not a statistic of the registry", target=label,
                              key="statistic", allowed=", ".join(STATISTICS),
                              suggestion=closest(str(kind), STATISTICS)[len(" (did you mean '"):-3]
                              or None)  # fmt: skip
        stat = STATISTICS[kind]
        reader.unknown(raw, (*COMMON_KEYS, *stat.keys), target=label)
        for key in (
            *("scenario", "value", "source"),
            *(k for k in stat.keys if k not in stat.defaults),
        ):
            if key not in raw:
                allowed = (
                    stat.keys.get(key)
                    or {
                        "scenario": "a bundled scenario name or a path to a .toml file",
                        "value": "the published value (a number)",
                        "source": 'the citation, e.g. "Li & Chan (2012)"',
                    }[key]
                )
                raise reader.fail("is missing", target=label, key=key, allowed=allowed)
        scenario_name = reader.text(raw["scenario"], target=label, key="scenario")
        overrides = raw.get("set", [])
        if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
            raise reader.fail(
                'must be a list of "KEY=VALUE" texts',
                target=label,
                key="set",
                allowed='e.g. set = ["days=365", "dynamics.stress_rate=1"]',
            )
        scenario = reader.scenario(scenario_name, overrides, target=label)
        value = reader.number(raw["value"], target=label, key="value")
        se = None
        if "se" in raw:
            se = reader.number(raw["se"], target=label, key="se", positive=True)
        if "interval" in raw:
            bounds = raw["interval"]
            if not isinstance(bounds, list) or len(bounds) != 2:
                raise reader.fail(f"must be [low, high], got {_show(bounds)}", target=label,
                                  key="interval")  # fmt: skip
            low, high = (reader.number(b, target=label, key="interval") for b in bounds)
            if not low < high:
                raise reader.fail(f"[{low:g}, {high:g}] is not an interval: low must be below "
                                  "high", target=label, key="interval")  # fmt: skip
            if not low <= value <= high:
                raise reader.fail(f"[{low:g}, {high:g}] does not contain the published value "
                                  f"{value:g}", target=label, key="interval")  # fmt: skip
            if se is None:
                se = (high - low) / (2 * Z95)
        elif se is not None:
            low, high = value - Z95 * se, value + Z95 * se
        else:
            raise reader.fail("is missing: give se = <standard error> or interval = [low, high]",
                              target=label, key="se")  # fmt: skip
        weight = reader.number(raw.get("weight", 1.0), target=label, key="weight",
                               nonnegative=True)  # fmt: skip
        source = reader.text(raw["source"], target=label, key="source")
        note = raw.get("note", "")
        if not isinstance(note, str):
            raise reader.fail("must be text", target=label, key="note")
        known_miss = raw.get("known_miss", "")
        if not isinstance(known_miss, str) or ("known_miss" in raw and not known_miss.strip()):
            raise reader.fail("must be text saying why the model misses this target",
                              target=label, key="known_miss")  # fmt: skip

        args: dict[str, Any] = {}
        for key in stat.keys:
            args[key] = raw.get(key, stat.defaults.get(key))
        for key in COLUMN_KEYS:
            if key in stat.keys:
                column = args[key]
                if not isinstance(column, str) or column not in columns:
                    raise reader.fail(f"{_show(column)} is not a numeric per-person column",
                                      target=label, key=key, allowed=", ".join(columns),
                                      suggestion=closest(str(column), columns)[
                                          len(" (did you mean '"):-3] or None)  # fmt: skip
        present = _styles_in(scenario)
        for key in STYLE_KEYS:
            if key in stat.keys and args[key] is not None:
                style = args[key]
                choices = ("secure", "anxious", "avoidant", "fearful")
                if not isinstance(style, str) or style not in choices:
                    raise reader.fail(f"{_show(style)} is not a style", target=label, key=key,
                                      allowed=", ".join(choices))  # fmt: skip
                if style not in present:
                    raise reader.fail(f"scenario {scenario.name!r} has no {style} people",
                                      target=label, key=key,
                                      allowed=", ".join(sorted(present)))  # fmt: skip
        if "together" in stat.keys and not isinstance(args["together"], bool):
            raise reader.fail(f"{_show(args['together'])} is not true or false", target=label,
                              key="together", allowed="true or false")  # fmt: skip
        if kind == "share":
            args["outcomes"] = _outcome_labels(reader, args["outcomes"], label, "outcomes")
        if kind == "dissolution_share":
            args["day"] = reader.whole(args["day"], target=label, key="day", low=1,
                                       high=int(RUN["days"].high))  # fmt: skip
            if scenario.days < args["day"]:
                raise reader.fail(f"scenario {scenario.name!r} runs {scenario.days} days, "
                                  f"fewer than day = {args['day']}", target=label, key="day",
                                  allowed=f'a day up to {scenario.days}, or add set = '
                                  f'["days={args["day"]}"]')  # fmt: skip
        if kind == "relapse_share":
            args["recovered"] = _outcome_labels(reader, args["recovered"], label, "recovered")
            args["at_day"] = reader.whole(args["at_day"], target=label, key="at_day", low=1,
                                          high=int(RUN["days"].high))  # fmt: skip
            if args["at_day"] >= scenario.days:
                raise reader.fail(f"scenario {scenario.name!r} runs {scenario.days} days, so "
                                  f"there is no follow-up after day {args['at_day']}",
                                  target=label, key="at_day",
                                  allowed=f"a day before {scenario.days}, or a longer run "
                                  "with set = [\"days=...\"]")  # fmt: skip
        twin = None
        if kind == "relapse_share":
            twin = reader.scenario(scenario_name, [*overrides, f"days={args['at_day']}"],
                                   target=label, key="at_day")  # fmt: skip
        if stat.twin:
            twin = _twin(reader, scenario, scenario_name, overrides, args, label)
        key = run_key(scenario)
        runs.setdefault(key, scenario)
        twin_key = None
        if twin is not None:
            twin_key = run_key(twin)
            runs.setdefault(twin_key, twin)
        targets.append(Target(name, kind, scenario.name, tuple(overrides), value, float(se),
                              float(low), float(high), weight, source, args, key, twin_key,
                              note, known_miss.strip()))  # fmt: skip
    if not any(t.weight > 0 for t in targets):
        raise reader.fail("every target has weight 0: nothing to fit", key="target")

    base_name = settings.get("scenario")
    if base_name is None:
        base = targets[0]
        base_scenario = runs[base.run]
    else:
        base_name = reader.text(base_name, target=None, key="calibrate.scenario")
        base_scenario = reader.scenario(base_name, [], target="[calibrate]",
                                        key="calibrate.scenario")  # fmt: skip
    return TargetsFile(path, description.strip(), targets, runs, names, ranges, seed, startup,
                       replicates, base_scenario, data)  # fmt: skip


def _outcome_labels(reader: _Reader, value: object, label: str, key: str) -> list[str]:
    """Return ``value`` (one outcome label or a list of them) as a list, or fail naming ``key``."""
    from .outcomes import LABELS

    labels = [value] if isinstance(value, str) else value
    if (not isinstance(labels, list) or not labels
            or not all(isinstance(o, str) and o in LABELS for o in labels)):  # fmt: skip
        raise reader.fail(f"{_show(value)} is not an outcome label or a list of them",
                          target=label, key=key, allowed=", ".join(LABELS))  # fmt: skip
    return labels


def _twin(reader: _Reader, scenario: Any, name: str, overrides: Sequence[str],
          args: dict[str, Any], label: str) -> Any:  # fmt: skip
    """The intervention twin of a treatment_d target: same everything but the interventions."""
    given = [k for k in ("twin", "interventions") if args.get(k) is not None]
    if len(given) != 1:
        raise reader.fail("give exactly one of twin = \"<scenario>\" and interventions = "
                          "[{kind = ..., day = ...}]", target=label, key="twin")  # fmt: skip
    if given[0] == "twin":
        twin_name = reader.text(args["twin"], target=label, key="twin")
        twin = reader.scenario(twin_name, overrides, target=label, key="twin")
        mine, theirs = _run_data(scenario), _run_data(twin)
        mine.pop("interventions"), theirs.pop("interventions")
        differs = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        if differs:
            raise reader.fail(f"scenario {twin.name!r} differs from {scenario.name!r} in "
                              f"{', '.join(differs)}, not only in its interventions, so the "
                              "comparison would not use common random numbers", target=label,
                              key="twin")  # fmt: skip
    else:
        added = args["interventions"]
        if isinstance(added, dict):
            added = [added]
        if not isinstance(added, list) or not added or not all(isinstance(i, dict) for i in added):
            raise reader.fail("must be a list of {kind = ..., day = ...} tables", target=label,
                              key="interventions")  # fmt: skip
        combined = [*scenario.interventions, *added]
        twin = reader.scenario(name, [*overrides, f"interventions={_inline(combined)}"],
                               target=label, key="interventions")  # fmt: skip
    if twin.interventions == scenario.interventions:
        raise reader.fail("the twin has the same interventions as the scenario: there is no "
                          "treatment to measure", target=label, key=given[0])  # fmt: skip
    return twin
