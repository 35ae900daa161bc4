"""The exercise and the controls students may change: validation and running a configuration.

A *configuration* is the value of every class control (``CONTROLS``): the two partners' styles and
traits, the model's main levers, days, couples and seed. The teacher's *exercise* names the
scenario everyone starts from and which controls students may change; every other control keeps the
scenario's value. Everything a student sends arrives as text and is checked here against the
control's allowed values; nothing else is accepted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..outcomes import LABELS
from ..params import DYNAMICS, RUN
from ..styles import Style

__all__ = [
    "CONTROLS",
    "DEFAULT_ALLOWED",
    "DEFAULT_SCENARIO",
    "MAX_COUPLES",
    "MAX_DAYS",
    "ConfigError",
    "Control",
    "Exercise",
    "config_key",
    "config_label",
    "parse_config",
    "run_config",
    "scenario_choices",
    "start_values",
]

#: The largest run one request may ask for (couples x days bounds the server's work per request).
MAX_COUPLES = 200
MAX_DAYS = 365
#: Couples of a run when the scenario asks for more and students may not change it.
DEFAULT_COUPLES = 100


class ConfigError(ValueError):
    """A value a student or the teacher sent is not allowed; the message says what is."""


@dataclass(frozen=True)
class Control:
    """One control: its kind (``choice``, ``number`` or ``whole``), label and allowed values."""

    name: str
    label: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05
    choices: tuple[str, ...] = ()

    def parse(self, text: object) -> object:
        """Return the checked value of ``text`` (:class:`ConfigError` says what is allowed)."""
        raw = str(text).strip()
        shown = raw if len(raw) <= 20 else raw[:19] + "…"
        if self.kind == "choice":
            if raw.lower() in self.choices:
                return raw.lower()
            raise ConfigError(f"{self.label}: {shown!r} is not one of {', '.join(self.choices)}")
        try:
            value = float(raw) if self.kind == "number" else int(raw)
        except ValueError:
            kind = "a number" if self.kind == "number" else "a whole number"
            raise ConfigError(f"{self.label}: {shown!r} is not {kind} "
                              f"(allowed: {self.low:g} to {self.high:g})") from None  # fmt: skip
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise ConfigError(f"{self.label}: {shown} is outside the allowed range "
                              f"{self.low:g} to {self.high:g}")  # fmt: skip
        return value


def _levers() -> tuple[str, ...]:
    flagged = [name for name, p in DYNAMICS.items() if getattr(p, "lever", False)]
    return tuple(flagged + [n for n in ("communication", "stress_rate")
                            if n in DYNAMICS and n not in flagged])  # fmt: skip


def _controls() -> dict[str, Control]:
    styles = tuple(Style.labels())
    out: dict[str, Control] = {}
    for role, word in (("a", "A"), ("b", "B")):
        out[f"style_{role}"] = Control(f"style_{role}", f"Partner {word}'s style", "choice",
                                       choices=styles)  # fmt: skip
    for role, word in (("a", "A"), ("b", "B")):
        for trait in ("anxiety", "avoidance"):
            out[f"{trait}_{role}"] = Control(f"{trait}_{role}", f"Partner {word}'s {trait}",
                                             "number", 0.0, 1.0, 0.05)  # fmt: skip
    for name in _levers():
        p = DYNAMICS[name]
        label = getattr(p, "label", "") or name.replace("_", " ").capitalize()
        span = float(p.high) - float(p.low)
        out[name] = Control(name, label, "whole" if p.integer else "number", float(p.low),
                            float(p.high), 1.0 if p.integer else span / 100)  # fmt: skip
    out["days"] = Control("days", "Days", "whole", 10, MAX_DAYS, 1)
    out["couples"] = Control("couples", "Couples", "whole", 1, MAX_COUPLES, 1)
    out["seed"] = Control("seed", "Seed", "whole", 0, float(RUN["seed"].high), 1)
    return out


#: Every control a class exercise can open to students, by name, in the order shown.
CONTROLS: dict[str, Control] = _controls()
DEFAULT_SCENARIO = "anxious-avoidant"
DEFAULT_ALLOWED = ("style_a", "style_b", "seed")


def scenario_choices() -> list[str]:
    """Bundled scenarios a class can start from: one couple type, no sweep grid."""
    from ..scenario import list_scenarios

    return [s.name for s in list_scenarios() if s.population is None and s.sweep is None]


@dataclass(frozen=True)
class Exercise:
    """What the teacher set: the starting scenario, the controls students may change, the axes.

    ``x`` and ``y`` are the controls of the board's phase diagram (by default the first two
    controls students may change, styles included).
    """

    scenario: str = DEFAULT_SCENARIO
    allowed: tuple[str, ...] = DEFAULT_ALLOWED
    x: str = "style_a"
    y: str = "style_b"
    note: str = field(default="")

    def to_json(self) -> str:
        """The exercise as JSON (stored in the session's database)."""
        return json.dumps({"scenario": self.scenario, "allowed": list(self.allowed),
                           "x": self.x, "y": self.y, "note": self.note})  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Exercise:
        """Read :meth:`to_json`'s text back."""
        data = json.loads(text)
        return cls(data["scenario"], tuple(data["allowed"]), data["x"], data["y"],
                   data.get("note", ""))  # fmt: skip

    @classmethod
    def parse(cls, form: Mapping[str, object]) -> Exercise:
        """Check the teacher's form: scenario, allowed controls (a list), axes, a short note."""
        scenario = str(form.get("scenario", "")).strip()
        if scenario not in scenario_choices():
            raise ConfigError(f"scenario {scenario[:40]!r} is not available; allowed: "
                              f"{', '.join(scenario_choices())}")  # fmt: skip
        allowed_raw = form.get("allowed", ())
        allowed_list = [allowed_raw] if isinstance(allowed_raw, str) else list(allowed_raw)
        allowed = []
        for name in allowed_list:
            if name not in CONTROLS:
                raise ConfigError(f"{str(name)[:40]!r} is not a class control; allowed: "
                                  f"{', '.join(CONTROLS)}")  # fmt: skip
            if name not in allowed:
                allowed.append(name)
        ordered = tuple(name for name in CONTROLS if name in allowed)
        axes = []
        for axis in ("x", "y"):
            value = str(form.get(axis, "")).strip()
            if value and value not in CONTROLS:
                raise ConfigError(f"the {axis} axis must be a class control, not {value[:40]!r}")
            axes.append(value)
        x, y = axes
        fallback = [n for n in ordered if n != "seed"] + ["style_a", "style_b"]
        x = x or fallback[0]
        y = y or next(n for n in fallback if n != x)
        if x == y:
            raise ConfigError("the phase diagram needs two different controls for x and y")
        note = " ".join(str(form.get("note", "")).split())
        if len(note) > 200:
            raise ConfigError(f"the note to students is {len(note)} characters; at most 200")
        return cls(scenario, ordered, x, y, note)


def _scenario(name: str):
    from ..scenario import load_scenario

    return load_scenario(name)


def start_values(exercise: Exercise) -> dict[str, object]:
    """Every control's value in the exercise's scenario (the values students start from)."""
    scenario = _scenario(exercise.scenario)
    values: dict[str, object] = {}
    for role, spec in (("a", scenario.partner_a), ("b", scenario.partner_b)):
        style = Style.from_label(str(spec["style"]))
        values[f"style_{role}"] = style.label
        values[f"anxiety_{role}"] = float(spec.get("anxiety", style.anxiety))
        values[f"avoidance_{role}"] = float(spec.get("avoidance", style.avoidance))
    for name, control in CONTROLS.items():
        if name in DYNAMICS:
            value = scenario.dynamics.get(name, DYNAMICS[name].default)
            values[name] = int(value) if control.kind == "whole" else float(value)
    values["days"] = min(int(scenario.days), MAX_DAYS)
    values["couples"] = min(int(scenario.couples), DEFAULT_COUPLES)
    values["seed"] = int(scenario.seed)
    return values


def parse_config(exercise: Exercise, form: Mapping[str, object]) -> dict[str, object]:
    """Check a student's form against the exercise; return the full configuration.

    Controls students may not change keep the scenario's value; sending one of them with a
    different value is an error (the page never offers it, so it is worth saying). A trait that is
    not open follows the partner's style: the scenario's value while the style is the scenario's,
    else the new style's preset (a form may send either).
    """
    start = start_values(exercise)
    given = {name: CONTROLS[name].parse(text) for name, text in form.items() if name in CONTROLS}

    def fixed(name: str) -> ConfigError:
        return ConfigError(f"{CONTROLS[name].label} is fixed in this exercise "
                           f"(at {_show(start[name])})")  # fmt: skip

    values = dict(start)
    for name, value in given.items():
        if name.startswith(("anxiety_", "avoidance_")):
            continue
        if name in exercise.allowed:
            values[name] = value
        elif value != start[name]:
            raise fixed(name)
    for role in ("a", "b"):
        style = Style.from_label(str(values[f"style_{role}"]))
        same_style = values[f"style_{role}"] == start[f"style_{role}"]
        for trait in ("anxiety", "avoidance"):
            key = f"{trait}_{role}"
            preset = float(getattr(style, trait))
            follows = float(start[key]) if same_style else preset  # type: ignore[arg-type]
            if key in given and key in exercise.allowed:
                values[key] = given[key]
            elif (
                key in given
                and min(
                    abs(float(given[key]) - follows),  # type: ignore[arg-type]
                    abs(float(given[key]) - preset),
                )
                > 1e-9
            ):  # type: ignore[arg-type]
                raise fixed(key)
            else:
                values[key] = follows
    if int(values["couples"]) * int(values["days"]) > MAX_COUPLES * MAX_DAYS:  # type: ignore[call-overload]
        raise ConfigError(f"a run may hold at most {MAX_COUPLES * MAX_DAYS} couple-days")
    return values


def _show(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def config_key(exercise: Exercise, values: Mapping[str, object]) -> str:
    """The configuration's identity on the board: the allowed controls' values (seed left out)."""
    shown = {name: values[name] for name in exercise.allowed if name != "seed"}
    shown.setdefault("style_a", values["style_a"])
    shown.setdefault("style_b", values["style_b"])
    return json.dumps({n: shown[n] for n in CONTROLS if n in shown}, sort_keys=False)


def config_label(exercise: Exercise, values: Mapping[str, object]) -> str:
    """The configuration in words, e.g. ``A anxious × B avoidant, relief decay 2``."""
    parts = [f"A {values['style_a']} × B {values['style_b']}"]
    for name in exercise.allowed:
        if name in ("style_a", "style_b", "seed"):
            continue
        parts.append(f"{CONTROLS[name].label.lower()} {_show(values[name])}")
    return ", ".join(parts)


def run_config(exercise: Exercise, values: Mapping[str, object]) -> dict[str, int]:
    """Run ``values`` from the exercise's scenario; return the count of each outcome label.

    The scenario keeps everything the configuration does not name (interventions, culture,
    relationship); the configuration sets styles, traits, levers, days, couples and seed.
    """
    from ..simulation import simulate

    scenario = _scenario(exercise.scenario)
    partners = {}
    for role, spec in (("a", scenario.partner_a), ("b", scenario.partner_b)):
        person = {key: val for key, val in spec.items() if key not in ("anxiety", "avoidance")}
        person["style"] = values[f"style_{role}"]
        style = Style.from_label(str(values[f"style_{role}"]))
        for trait in ("anxiety", "avoidance"):
            value = float(values[f"{trait}_{role}"])  # type: ignore[arg-type]
            if abs(value - getattr(style, trait)) > 1e-9:  # at the preset: drawn around it
                person[trait] = value
        partners[f"partner_{role}"] = person
    dynamics = dict(scenario.dynamics)
    for name in CONTROLS:
        if name in DYNAMICS:
            dynamics[name] = values[name]
    setup = scenario.setup(**partners, dynamics=dynamics, days=int(values["days"]),
                           couples=int(values["couples"]), seed=int(values["seed"]))  # fmt: skip
    result = simulate(setup)
    counts = result.outcomes
    return {label: int(counts.get(label, 0)) for label in LABELS}
