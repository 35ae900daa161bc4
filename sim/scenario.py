"""Scenario files: load a TOML file, apply ``--set`` overrides, validate, build a ``Setup``.

A scenario file (format: docs/scenarios.md) holds run settings
(``days``, ``seed``, ``couples``), the two partners, the shared dynamics, scheduled
interventions, an optional population mix and an optional sweep. Every number is checked against
the one parameter table (:mod:`sim.params`), so no range is written here.

>>> scenario = load_scenario("anxious-avoidant", overrides=["days=30", "partner_a.anxiety=0.9"])
>>> scenario.days, scenario.partner_a["anxiety"]
(30, 0.9)

Anything wrong in a file or an override raises :class:`ScenarioError`, which names the file, the
key, the bad value, what is allowed and, for typos, the closest allowed word.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .params import DYNAMICS, INTERVENTIONS, LABEL_THRESHOLDS, PERSON, RUN, Param, closest

__all__ = [
    "SCENARIO_DIR",
    "Scenario",
    "ScenarioError",
    "SweepAxis",
    "SweepSpec",
    "find_scenario",
    "list_scenarios",
    "load_scenario",
    "parse_override",
    "printable",
    "scenario_from_dict",
    "sweepable_params",
]


def _bundled_dir() -> Path:
    """Return the folder of the bundled scenarios.

    The source is the repository's top-level ``scenarios/`` folder. A wheel (``pip install .``)
    ships the same files inside the package as ``sim/scenarios/`` (pyproject.toml maps the one
    onto the other), so an installed package looks there first; a source checkout and an
    editable install have no ``sim/scenarios/`` and find the top-level folder next to ``sim/``.
    """
    package = Path(__file__).resolve().parent
    shipped = package / "scenarios"
    return shipped if shipped.is_dir() else package.parent / "scenarios"


#: Where the bundled scenarios live (see :func:`_bundled_dir`).
SCENARIO_DIR = _bundled_dir()

STYLES = ("secure", "anxious", "avoidant", "fearful")
TOP_LEVEL = ("name", "description", "days", "seed", "couples", "relationship", "culture",
             "partner_a", "partner_b", "dynamics", "labels", "interventions", "population",
             "sweep")  # fmt: skip
PARTNER_KEYS = ("style", "culture", *PERSON)
INTERVENTION_KEYS = ("kind", "day", "dose", "weeks")
RELATIONSHIPS = ("dating", "married")
POPULATION_KEYS = ("couples", "mix", "pairing")
PAIRINGS = ("random",)
SWEEP_KEYS = ("x", "y", "replicates")
AXIS_KEYS = ("param", "values", "start", "stop", "num")
#: Largest number of points on one sweep axis and of replicates per grid point.
MAX_AXIS_POINTS = 1000
MAX_REPLICATES = 100_000
_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # always used with fullmatch
#: The longest scenario name (it names the results folder) and description (one line for
#: students, drawn in figure titles and printed by ``relsim list``).
MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 300
#: How deeply tables and lists may nest in a scenario file; the format needs 4
#: (``sweep.x.values[i]``), the limit leaves room and stops pathological files early.
MAX_NESTING = 16
#: Characters a description may not hold: control characters (escape codes, bells, ...) other
#: than tab and newline, which are shown as spaces.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class ScenarioError(ValueError):
    """A scenario file or override is not valid.

    Attributes
    ----------
    file : str or None
        The scenario file (or ``"--set"`` for a command-line override).
    key : str or None
        The dotted key at fault, e.g. ``"partner_a.style"``.
    value : object
        The bad value (``None`` when there is none, e.g. a missing file).
    problem : str
        What is wrong, in plain words.
    allowed : str or None
        What would be accepted.
    suggestion : str or None
        The closest allowed word, for typos.

    """

    def __init__(self, problem: str, *, file: str | Path | None = None, key: str | None = None,
                 value: object = None, allowed: str | None = None,
                 suggestion: str | None = None) -> None:  # fmt: skip
        self.problem = problem
        self.file = None if file is None else str(file)
        self.key = key
        self.value = value
        self.allowed = allowed
        self.suggestion = suggestion
        super().__init__(self._message())

    def _message(self) -> str:
        parts = []
        if self.file:
            parts.append(f"{self.file}: ")
        if self.key:
            shown = "" if self.value is None else f" = {_show(self.value)}"
            parts.append(f"{self.key}{shown}: ")
        parts.append(self.problem)
        if self.suggestion:  # first, where a long list of what is allowed cannot bury it
            parts.append(f" (did you mean {self.suggestion!r}?)")
        if self.allowed:
            parts.append(f"; allowed: {self.allowed}")
        return printable("".join(parts))  # a key or value may hold escape codes


def _show(value: object) -> str:
    """Show a value as the user wrote it, shortened if it is long."""
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _suggest(word: object, choices: Iterable[str]) -> str | None:
    if not isinstance(word, str):
        return None
    hint = closest(word, list(choices))
    return hint[len(" (did you mean '") : -len("'?)")] if hint else None


_PLAIN_WORDS = {
    "anxiety": "anxiety",
    "avoidance": "avoidance",
    "expression": "preference for actions over words",
}


def axis_label(param: str) -> str:
    """Plain-words label of a swept parameter, e.g. ``"Seeker's anxiety (partner A)"``.

    Partner A is the one whose requests the bundled sweeps follow (the seeker); partner B is
    the one asked. Dynamics parameters get their meaning's name and unit from ``params.py``.
    """
    group, _, name = param.partition(".")
    if group in ("partner_a", "partner_b") and name in PERSON:
        who = "Seeker's" if group == "partner_a" else "Partner's"
        tag = "A" if group == "partner_a" else "B"
        words = _PLAIN_WORDS.get(name, name.replace("_", " "))
        return f"{who} {words} (partner {tag})"
    if group == "dynamics" and name in DYNAMICS:
        spec = DYNAMICS[name]
        return f"{name.replace('_', ' ').capitalize()} ({spec.unit})"
    return param


@dataclass(frozen=True)
class SweepAxis:
    """One swept parameter: its dotted name and the values it takes.

    Attributes
    ----------
    param : str
        ``partner_a.<trait>``, ``partner_b.<trait>`` (any trait of ``params.PERSON``) or
        ``dynamics.<name>`` (any name of ``params.DYNAMICS``; a bare dynamics name is accepted).
    values : tuple of float
        The grid values, in order.

    """

    param: str
    values: tuple[float, ...]

    def to_dict(self) -> dict[str, object]:
        """Return the axis as plain data (for manifests)."""
        return {"param": self.param, "values": list(self.values)}

    @property
    def label(self) -> str:
        """Plain-words axis label (see :func:`axis_label`)."""
        return axis_label(self.param)

    @classmethod
    def from_spec(cls, spec: object, where: str) -> SweepAxis:
        """Build from a mapping or an object with ``param`` and ``values`` (or start/stop/num).

        The Python API's way in (``sim.sweep.run_sweep(sweep=...)``); a scenario file's
        ``[sweep]`` is read by the loader, with the file's messages. Raises ``ValueError``.
        """
        import numpy as np

        def get(key: str):
            if isinstance(spec, Mapping):
                return spec.get(key)
            return getattr(spec, key, None)

        param = get("param")
        if not isinstance(param, str) or not param:
            raise ValueError(f"{where}.param must name a parameter, e.g. 'partner_a.anxiety'")
        values = get("values")
        if values is None:
            start, stop, num = get("start"), get("stop"), get("num")
            if start is None or stop is None or num is None:
                raise ValueError(f"{where} needs 'values' or all of 'start', 'stop', 'num'")
            if isinstance(num, bool) or not isinstance(num, int) or num < 1:
                raise ValueError(f"{where}.num must be a whole number >= 1, got {num!r}")
            values = np.linspace(float(start), float(stop), num)
        values = tuple(float(v) for v in values)
        if not values:
            raise ValueError(f"{where}.values must not be empty")
        return cls(_canonical(param, where), values)


def _canonical(param: str, where: str) -> str:
    """Return ``param`` in its dotted form, or raise saying what may be swept."""
    group, dot, name = param.partition(".")
    if not dot and param in DYNAMICS:
        return f"dynamics.{param}"
    if group in ("partner_a", "partner_b"):
        if name in PERSON:
            return param
        raise ValueError(f"{where}.param: unknown trait {name!r}{closest(name, PERSON)}; "
                         f"allowed: {', '.join(PERSON)}")  # fmt: skip
    if group == "dynamics":
        if name in DYNAMICS:
            return param
        raise ValueError(f"{where}.param: unknown dynamics parameter {name!r}"
                         f"{closest(name, DYNAMICS)}")  # fmt: skip
    traits = ", ".join(PERSON)
    raise ValueError(f"{where}.param {param!r} cannot be swept; allowed: partner_a.<trait>, "
                     f"partner_b.<trait> (traits: {traits}) or dynamics.<name>")  # fmt: skip


@dataclass(frozen=True)
class SweepSpec:
    """A two-dimensional sweep: every (x, y) grid point is run ``replicates`` times."""

    x: SweepAxis
    y: SweepAxis
    replicates: int = 20

    def to_dict(self) -> dict[str, object]:
        """Return the sweep as plain data (for manifests)."""
        return {"x": self.x.to_dict(), "y": self.y.to_dict(), "replicates": self.replicates}


@dataclass
class Scenario:
    """A validated scenario.

    Attributes
    ----------
    name, description : str
        The name (the file's stem unless given) and one line for students.
    days, seed, couples : int
        Simulated days, the run's seed, replicate couples (``population.couples`` when a
        population is given).
    partner_a, partner_b : dict
        ``style`` plus any trait overrides (``anxiety``, ``avoidance``, ``expression``).
    dynamics : dict
        Overrides of :data:`sim.params.DYNAMICS`.
    labels : dict
        Overrides of the outcome labels' thresholds, :data:`sim.params.LABEL_THRESHOLDS`.
    interventions : list of dict
        ``{"kind": ..., "day": ...}`` in file order.
    population : dict or None
        ``{"couples": n, "mix": {style: weight}, "pairing": "random"}``.
    sweep : SweepSpec or None
        The grid of ``relsim sweep``.
    source : pathlib.Path or None
        The file it was read from.
    overrides : tuple of str
        The ``--set`` overrides applied, as given.
    notes : tuple of str
        Things worth telling the user that are not errors (``relsim run`` prints them), e.g.
        an intervention that a shortened run never reaches.

    """

    name: str
    description: str = ""
    days: int = int(RUN["days"].default)
    seed: int = int(RUN["seed"].default)
    couples: int = int(RUN["couples"].default)
    partner_a: dict[str, Any] = field(default_factory=lambda: {"style": "secure"})
    partner_b: dict[str, Any] = field(default_factory=lambda: {"style": "secure"})
    dynamics: dict[str, float] = field(default_factory=dict)
    labels: dict[str, float] = field(default_factory=dict)
    interventions: list[dict[str, Any]] = field(default_factory=list)
    population: dict[str, Any] | None = None
    sweep: SweepSpec | None = None
    culture: Any = "neutral"
    relationship: str | None = None
    source: Path | None = None
    overrides: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def setup(self, **changes: Any):
        """Return the :class:`sim.simulation.Setup` of this scenario.

        Keyword arguments replace fields of the setup (e.g. ``days=20``).
        """
        from .simulation import Setup

        kwargs: dict[str, Any] = {
            "partner_a": dict(self.partner_a),
            "partner_b": dict(self.partner_b),
            "dynamics": dict(self.dynamics),
            "labels": dict(self.labels),
            "interventions": [dict(item) for item in self.interventions],
            "couples": self.couples,
            "days": self.days,
            "seed": self.seed,
            "population": None if self.population is None else dict(self.population),
            "culture": self.culture,
            "relationship": self.relationship,
        }
        kwargs.update(changes)
        try:
            return Setup(**kwargs)
        except ValueError as error:
            raise ScenarioError(str(error), file=self.source) from None

    def resolved(self) -> dict[str, Any]:
        """Return the scenario with every default filled in, as plain data (for manifests)."""
        dynamics = {name: self.dynamics.get(name, spec.default) for name, spec in DYNAMICS.items()}
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "source": None if self.source is None else str(self.source),
            "overrides": list(self.overrides),
            "days": self.days,
            "seed": self.seed,
            "couples": self.couples,
            "relationship": self.relationship,
            "culture": _culture_data(self.culture),
        }
        if self.population is None:
            for tag in ("partner_a", "partner_b"):
                spec = dict(self.partner_a if tag == "partner_a" else self.partner_b)
                if "culture" in spec:
                    spec["culture"] = _culture_data(spec["culture"])
                out[tag] = spec
        else:
            out["population"] = {**self.population, "mix": dict(self.population["mix"])}
        out["dynamics"] = dynamics
        out["labels"] = {name: self.labels.get(name, spec.default)
                         for name, spec in LABEL_THRESHOLDS.items()}  # fmt: skip
        out["interventions"] = [dict(item) for item in self.interventions]
        if self.sweep is not None:
            out["sweep"] = self.sweep.to_dict()
        return out


def _culture_data(culture: Any) -> Any:
    """A culture as plain data for manifests: its name and the numbers it sets."""
    if isinstance(culture, str):
        return culture
    return {
        "name": culture.name,
        "asking_norm": culture.asking_norm,
        "expression": {"mean": culture.expression_mean, "sd": culture.expression_sd},
    }


# ----------------------------------------------------------------------------------------------
# Finding and loading files


def list_scenarios() -> list[Scenario]:
    """Every bundled scenario, loaded and sorted by name."""
    paths = sorted(SCENARIO_DIR.glob("*.toml"), key=lambda path: path.stem)
    return [load_scenario(path) for path in paths]


def _bundled_names() -> list[str]:
    return sorted(path.stem for path in SCENARIO_DIR.glob("*.toml"))


def find_scenario(name_or_path: str | Path) -> Path:
    """Return the file of a scenario given by path or by the name of a bundled scenario.

    Raises
    ------
    ScenarioError
        If there is no such file (with the closest bundled name for typos).

    """
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.is_file():
        return path
    looks_like_path = text.endswith(".toml") or "/" in text or "\\" in text
    if not looks_like_path:
        bundled = SCENARIO_DIR / f"{text}.toml"
        if bundled.is_file():
            return bundled
    if path.exists():
        raise ScenarioError("is not a file", file=text)
    names = _bundled_names()
    raise ScenarioError(
        "no such scenario file or bundled scenario" if looks_like_path else
        "no such bundled scenario or file",
        file=text,
        allowed="a path to a .toml file or one of: " + ", ".join(names),
        suggestion=_suggest(Path(text).stem, names),
    )  # fmt: skip


def load_scenario(name_or_path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, override and validate a scenario.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A path to a TOML file, or the name of a bundled scenario (``relsim list``).
    overrides : sequence of str
        ``"dotted.key=value"`` items, values written as TOML (a bare word is a string).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        For a missing or malformed file, an unknown key, a value of the wrong type or out of
        range, an unknown style or intervention, or a bad override.

    """
    path = find_scenario(name_or_path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ScenarioError(f"cannot be read ({error.strerror})", file=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("is not UTF-8 text", file=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"is not valid TOML ({error})", file=path) from None
    except RecursionError:  # tomllib reads nested inline tables and arrays recursively
        raise ScenarioError(f"nests tables or lists more than {MAX_NESTING} levels deep",
                            file=path, allowed="a scenario file as in docs/scenarios.md (at most "
                            "4 levels)") from None  # fmt: skip
    _check_nesting(data, path)
    return scenario_from_dict(data, file=path, overrides=overrides)


def _nesting(value: object) -> int:
    """How deeply tables and lists nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        if depth + 1 > MAX_NESTING:
            return depth + 1
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _check_nesting(value: object, file: str | Path | None, key: str | None = None) -> None:
    if _nesting(value) > MAX_NESTING:
        raise ScenarioError(
            f"nests tables or lists more than {MAX_NESTING} levels deep",
            file=file,
            key=key,
            allowed="a scenario file as in docs/scenarios.md (at most 4 levels)",
        )


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters (escape codes) shown escaped.

    Tabs and line breaks become spaces, so that a description stays on one line.
    """
    text = re.sub(r"[\t\r\n]+", " ", str(text))
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Overrides


def parse_override(item: str) -> tuple[str, object]:
    """Split ``"dotted.key=value"`` and read the value as a TOML literal.

    A bare word (``anxious``) is read as a string; ``true``/``false`` as booleans.

    Raises
    ------
    ScenarioError
        If there is no ``=``, the key is empty or malformed, or the value is not TOML.

    """
    if not isinstance(item, str) or "=" not in item:
        raise ScenarioError("an override must look like KEY=VALUE, e.g. days=365", file="--set",
                            key=str(item))  # fmt: skip
    key, _, text = item.partition("=")
    key, text = key.strip(), text.strip()
    parts = key.split(".")
    if not key or any(not re.fullmatch(r"[A-Za-z0-9_-]+", part) for part in parts):
        raise ScenarioError("is not a dotted key like partner_a.anxiety", file="--set",
                            key=key or "(empty)")  # fmt: skip
    if not text:
        raise ScenarioError("has no value after '='", file="--set", key=key)
    if "\n" in text or "\r" in text:
        raise ScenarioError("must fit on one line", file="--set", key=key, value=text)
    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except RecursionError:
        raise ScenarioError(f"nests lists or tables more than {MAX_NESTING} levels deep",
                            file="--set", key=key) from None  # fmt: skip
    except tomllib.TOMLDecodeError:
        if not _BARE_WORD.match(text):
            raise ScenarioError(
                "cannot be read as a value", file="--set", key=key, value=text,
                allowed="a number (2, 0.5), a word (anxious), true/false, or a TOML list",
            ) from None  # fmt: skip
        value = text
    _check_nesting(value, "--set", key)
    return key, value


def _apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``--set`` items to a raw scenario document (a deep-enough copy is returned)."""
    data = _copy(data)
    for item in overrides:
        key, value = parse_override(item)
        parts = key.split(".")
        if parts[0] not in TOP_LEVEL:
            raise ScenarioError("is not a scenario key", file="--set", key=key,
                                allowed=", ".join(TOP_LEVEL),
                                suggestion=_table_of(parts[0])
                                or _suggest(parts[0], TOP_LEVEL))  # fmt: skip
        target = data
        for depth, part in enumerate(parts[:-1]):
            child = target.get(part)
            if child is None:
                child = target[part] = {}
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                raise ScenarioError(f"cannot set {key}: {where} is not a table", file="--set",
                                    key=key)  # fmt: skip
            target = child
        target[parts[-1]] = value
    return data


def _table_of(name: str) -> str | None:
    """``dynamics.<name>``, ``labels.<name>`` or ``partner_a.<name>`` for a bare key."""
    if name in DYNAMICS:
        return f"dynamics.{name}"
    if name in LABEL_THRESHOLDS:
        return f"labels.{name}"
    if name in PERSON or name == "style":
        return f"partner_a.{name}"
    return None


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# ----------------------------------------------------------------------------------------------
# Validation


class _Checker:
    """Validates one raw document; knows the file and which keys came from ``--set``."""

    def __init__(self, file: str | Path | None, overridden: set[str]) -> None:
        self.file = file
        self.overridden = overridden

    def fail(self, key: str, value: object, problem: str, allowed: str | None = None,
             choices: Iterable[str] | None = None) -> ScenarioError:  # fmt: skip
        source = self.file
        if any(key == k or key.startswith((k + ".", k + "[")) for k in self.overridden):
            source = f"{self.file} (with --set)" if self.file else "--set"
        suggestion = _suggest(value, choices) if choices is not None else None
        return ScenarioError(problem, file=source, key=key, value=value, allowed=allowed,
                             suggestion=suggestion)  # fmt: skip

    def unknown_keys(self, table: Mapping[str, Any], allowed: Sequence[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                where = f"{prefix}.{key}" if prefix else str(key)
                # A list of a hundred parameter names buries the suggestion: name the table.
                listed = (", ".join(allowed) if len(allowed) <= 20 else
                          f"one of the {len(allowed)} names of docs/ODD.md section 9 "
                          f"(the parameter table)")  # fmt: skip
                error = self.fail(where, None, "unknown key", listed)
                error.suggestion = _suggest(str(key), allowed)
                error.args = (error._message(),)
                raise error

    def table(self, value: object, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, value, "must be a table (a [section] or {...})")
        return value

    def number(self, spec: Param, value: object, key: str) -> float | int:
        problem = spec.problem(value)  # the table's one rule, reported the scenario file's way
        if problem is not None:
            raise self.fail(key, value, problem, spec.allowed())
        return spec.check(value)

    def word(self, value: object, key: str, choices: Sequence[str], what: str) -> str:
        allowed = ", ".join(choices)
        if not isinstance(value, str):
            raise self.fail(key, value, f"must be {what} written as a word", allowed)
        if value.strip().lower() not in choices:
            raise self.fail(key, value, f"is not {what}", allowed, choices)
        return value.strip().lower()

    def partner(self, value: object, key: str) -> dict[str, Any]:
        spec = self.table(value, key)
        self.unknown_keys(spec, PARTNER_KEYS, key)
        from .styles import STYLE_ALIASES

        style = spec.get("style", "secure")
        if isinstance(style, str):  # the literature's other names (styles.STYLE_ALIASES)
            style = STYLE_ALIASES.get(style.strip().lower(), style)
        out: dict[str, Any] = {
            "style": self.word(style, f"{key}.style", STYLES, "an attachment style"),
        }
        if "culture" in spec:
            out["culture"] = self.culture(spec["culture"], f"{key}.culture")
        for name, param in PERSON.items():
            if name in spec:
                out[name] = self.number(param, spec[name], f"{key}.{name}")
        return out

    def culture(self, value: object, key: str):
        from .culture import CULTURES, culture_from

        try:
            return culture_from(value, key)
        except ValueError as error:
            raise self.fail(
                key,
                value,
                str(error).split(";")[0],
                f"{', '.join(CULTURES)}, or a table with name, "
                "expression = { mean, sd } and asking_norm",
            ) from None

    def dynamics(self, value: object) -> dict[str, float]:
        spec = self.table(value, "dynamics")
        self.unknown_keys(spec, list(DYNAMICS), "dynamics")
        return {name: self.number(DYNAMICS[name], v, f"dynamics.{name}")
                for name, v in spec.items()}  # fmt: skip

    def labels(self, value: object) -> dict[str, float]:
        spec = self.table(value, "labels")
        self.unknown_keys(spec, list(LABEL_THRESHOLDS), "labels")
        return {name: self.number(LABEL_THRESHOLDS[name], v, f"labels.{name}")
                for name, v in spec.items()}  # fmt: skip

    def interventions(self, value: object) -> list[dict[str, Any]]:
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            raise self.fail("interventions", value,
                            "must be a list of [[interventions]] tables")  # fmt: skip
        out = []
        for index, item in enumerate(value):
            key = f"interventions[{index}]"
            item = self.table(item, key)
            self.unknown_keys(item, INTERVENTION_KEYS, key)
            if "kind" not in item:
                raise self.fail(f"{key}.kind", None, "is missing", ", ".join(INTERVENTIONS))
            kind = self.word(item["kind"], f"{key}.kind", tuple(INTERVENTIONS),
                             "an intervention kind")  # fmt: skip
            day_rule = Param("day", 0, 0, RUN["days"].high, "day the strategy starts, 0-based",
                             "", integer=True)  # fmt: skip
            day = self.number(day_rule, item.get("day", 0), f"{key}.day")
            entry: dict[str, Any] = {"kind": kind, "day": int(day)}
            for name, high, unit in (("dose", 14, "sessions a week"), ("weeks", 520, "weeks")):
                if name in item:
                    rule = Param(name, 0, 0, high, unit, "")
                    entry[name] = float(self.number(rule, item[name], f"{key}.{name}"))
            out.append(entry)
        return out

    def population(self, value: object, couples: int) -> dict[str, Any]:
        spec = self.table(value, "population")
        self.unknown_keys(spec, POPULATION_KEYS, "population")
        n = self.number(RUN["couples"], spec.get("couples", couples), "population.couples")
        if "mix" not in spec:
            raise self.fail(
                "population.mix",
                None,
                "is missing",
                "a table of style weights, e.g. { secure = 0.56, anxious = 0.19 }",
            )
        mix_raw = self.table(spec["mix"], "population.mix")
        if not mix_raw:
            raise self.fail("population.mix", mix_raw, "is empty", ", ".join(STYLES))
        mix: dict[str, float] = {}
        weight_rule = Param("weight", 0, 0.0, 1e9, "relative share", "")
        for label, weight in mix_raw.items():
            style = self.word(label, "population.mix", STYLES, "an attachment style")
            mix[style] = mix.get(style, 0.0) + float(
                self.number(weight_rule, weight, f"population.mix.{label}")
            )
        if sum(mix.values()) <= 0:
            raise self.fail("population.mix", mix_raw, "weights are all zero",
                            "non-negative weights, at least one above zero")  # fmt: skip
        pairing = self.word(spec.get("pairing", "random"), "population.pairing", PAIRINGS,
                            "a pairing rule")  # fmt: skip
        return {"couples": int(n), "mix": mix, "pairing": pairing}

    def axis(self, value: object, key: str) -> SweepAxis:
        spec = self.table(value, key)
        self.unknown_keys(spec, AXIS_KEYS, key)
        params = sweepable_params()
        if "param" not in spec:
            raise self.fail(f"{key}.param", None, "is missing", "e.g. partner_a.anxiety")
        name = spec["param"]
        if not isinstance(name, str) or name not in params:
            error = self.fail(f"{key}.param", name, "is not a parameter that can be swept",
                              "partner_a/partner_b.anxiety|avoidance|expression or "
                              "dynamics.<name>", params)  # fmt: skip
            raise error
        rule = params[name]
        has_values = "values" in spec
        has_range = any(k in spec for k in ("start", "stop", "num"))
        if has_values == has_range:
            raise self.fail(key, None, "give either values = [...] or start, stop and num")
        if has_values:
            values = spec["values"]
            if not isinstance(values, list) or not values:
                raise self.fail(f"{key}.values", values, "must be a non-empty list of numbers")
            if len(values) > MAX_AXIS_POINTS:
                raise self.fail(f"{key}.values", len(values), "has too many points",
                                f"at most {MAX_AXIS_POINTS}")  # fmt: skip
            points = [self.number(rule, v, f"{key}.values[{i}]") for i, v in enumerate(values)]
        else:
            for part in ("start", "stop", "num"):
                if part not in spec:
                    raise self.fail(f"{key}.{part}", None, "is missing",
                                    "start, stop and num together")  # fmt: skip
            start = self.number(rule, spec["start"], f"{key}.start")
            stop = self.number(rule, spec["stop"], f"{key}.stop")
            num_rule = Param("num", 2, 1, MAX_AXIS_POINTS, "points", "", integer=True)
            num = int(self.number(num_rule, spec["num"], f"{key}.num"))
            step = 0.0 if num == 1 else (stop - start) / (num - 1)
            points = [start if i == 0 else (stop if i == num - 1 else start + i * step)
                      for i in range(num)]  # fmt: skip
            points = [round(p, 12) for p in points]
        if rule.integer:
            points = [int(p) for p in points]
        return SweepAxis(name, tuple(points))

    def sweep(self, value: object, has_population: bool) -> SweepSpec:
        spec = self.table(value, "sweep")
        self.unknown_keys(spec, SWEEP_KEYS, "sweep")
        for part in ("x", "y"):
            if part not in spec:
                raise self.fail(f"sweep.{part}", None, "is missing",
                                '{ param = "partner_a.anxiety", values = [...] } or '
                                "{ param, start, stop, num }")  # fmt: skip
        x = self.axis(spec["x"], "sweep.x")
        y = self.axis(spec["y"], "sweep.y")
        if x.param == y.param:
            raise self.fail("sweep.y.param", y.param, "is the same as sweep.x.param",
                            "two different parameters")  # fmt: skip
        if has_population and (x.param.startswith("partner") or y.param.startswith("partner")):
            raise self.fail("sweep", None, "cannot sweep a partner's trait of a population",
                            "dynamics.<name> axes, or remove [population]")  # fmt: skip
        rep_rule = Param("replicates", 20, 1, MAX_REPLICATES, "couples per grid point", "",
                         integer=True)  # fmt: skip
        replicates = int(self.number(rep_rule, spec.get("replicates", 20), "sweep.replicates"))
        return SweepSpec(x, y, replicates)


def sweepable_params() -> dict[str, Param]:
    """Every parameter a sweep axis may name, by dotted key, with its rule."""
    out = {f"{tag}.{name}": p for tag in ("partner_a", "partner_b") for name, p in PERSON.items()}
    out.update({f"dynamics.{name}": p for name, p in DYNAMICS.items()})
    return out


def _dotted_keys(overrides: Sequence[str]) -> set[str]:
    keys = set()
    for item in overrides:
        key = item.partition("=")[0].strip() if isinstance(item, str) else ""
        if key:
            keys.add(key)
    return keys


def scenario_from_dict(
    data: Mapping[str, Any],
    *,
    file: str | Path | None = None,
    overrides: Sequence[str] = (),
    name: str | None = None,
) -> Scenario:
    """Validate a parsed scenario document (and overrides) into a :class:`Scenario`.

    Parameters
    ----------
    data : mapping
        The document as ``tomllib`` returns it.
    file : str or pathlib.Path, optional
        Where it came from, for messages; its stem is the default name.
    overrides : sequence of str
        ``--set`` items applied before validation.
    name : str, optional
        Default name when neither the document nor ``file`` gives one.

    Raises
    ------
    ScenarioError
        For anything that is not allowed.

    """
    check = _Checker(file, _dotted_keys(overrides))
    if not isinstance(data, Mapping):
        raise ScenarioError("must be a TOML document (a table of keys)", file=file)
    _check_nesting(dict(data), file)
    data = _apply_overrides(dict(data), list(overrides))
    check.unknown_keys(data, TOP_LEVEL, "")

    default_name = name or (Path(file).stem if file is not None else "scenario")
    scenario_name = data.get("name", default_name)
    if (not isinstance(scenario_name, str) or len(scenario_name) > MAX_NAME_CHARS
            or not _NAME_PATTERN.fullmatch(scenario_name)):  # fmt: skip
        raise check.fail("name", scenario_name, "is not a usable name (it names the results "
                         "folder)", f"up to {MAX_NAME_CHARS} letters, digits, '.', '_' and '-', "
                         "starting with a letter or digit")  # fmt: skip
    description = data.get("description", "")
    if not isinstance(description, str):
        raise check.fail("description", description, "must be text", "one line in quotes")
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise check.fail(
            "description",
            f"{len(description)} characters",
            "is too long",
            f"at most {MAX_DESCRIPTION_CHARS} characters (one line for students)",
        )
    control = _CONTROL.search(description)
    if control:
        raise check.fail("description", printable(description), "holds a control character "
                         f"({printable(control.group())} at position {control.start()}), "
                         "e.g. a terminal escape code", "plain text")  # fmt: skip

    run = {name: check.number(RUN[name], data.get(name, RUN[name].default), name)
           for name in ("days", "seed", "couples")}  # fmt: skip
    has_population = "population" in data
    if has_population and ("partner_a" in data or "partner_b" in data):
        raise check.fail(
            "population",
            None,
            "replaces partner_a and partner_b, so a scenario cannot have both",
            "either [population] or [partner_a]/[partner_b]",
        )
    partner_a = check.partner(data.get("partner_a", {}), "partner_a")
    partner_b = check.partner(data.get("partner_b", {}), "partner_b")
    dynamics = check.dynamics(data.get("dynamics", {}))
    labels = check.labels(data.get("labels", {}))
    interventions = check.interventions(data.get("interventions", []))
    culture = check.culture(data.get("culture", "neutral"), "culture")
    relationship = data.get("relationship")
    if relationship is not None:
        relationship = check.word(relationship, "relationship", RELATIONSHIPS,
                                  "a kind of relationship")  # fmt: skip
    population = None
    couples = int(run["couples"])
    if has_population:
        population = check.population(data["population"], couples)
        couples = population["couples"]
    sweep = check.sweep(data["sweep"], has_population) if "sweep" in data else None
    notes = _late_interventions(check, interventions, int(run["days"]))
    return Scenario(
        name=scenario_name,
        description=description.strip(),
        days=int(run["days"]),
        seed=int(run["seed"]),
        couples=couples,
        partner_a=partner_a,
        partner_b=partner_b,
        dynamics=dynamics,
        labels=labels,
        interventions=interventions,
        population=population,
        sweep=sweep,
        culture=culture,
        relationship=relationship,
        source=None if file is None else Path(file),
        overrides=tuple(str(item) for item in overrides),
        notes=tuple(notes),
    )


def _late_interventions(check: _Checker, interventions: Sequence[Mapping[str, Any]],
                        days: int) -> list[str]:  # fmt: skip
    """Refuse an intervention that starts after the run's last day, or note it.

    Days are counted from 0, so a run of ``days`` days has days 0 to ``days - 1``. When the file
    (or ``--set interventions``) schedules a strategy the run never reaches, that is a mistake and
    is refused. When the run was shortened from the command line (``--days``, ``--set days``), as
    for a quick look at a long scenario, the strategy is kept, a note says that it has no effect,
    and the run goes on.
    """
    notes = []
    last = days - 1
    for index, item in enumerate(interventions):
        if item["day"] <= last:
            continue
        if "days" in check.overridden:
            notes.append(
                f"interventions[{index}] ({item['kind']} from day {item['day']}) starts "
                f"after the last day of this {days}-day run, so it has no effect"
            )
            continue
        raise check.fail(f"interventions[{index}].day", item["day"], "is after the last day of "
                         f"the run (days = {days}: days 0 to {last})",
                         f"0 to {last}, or more days")  # fmt: skip
    return notes
