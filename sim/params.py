"""Every parameter of the model, once: name, default, range, unit and meaning.

The scenario loader, the ``--set`` option, the Mesa model's keyword arguments, the dashboard's
sliders and docs/ODD.md all read this table, so no range is written twice. Defaults and their
reasons are discussed in docs/ODD.md ("Calibration").
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "DYNAMICS",
    "INTERVENTIONS",
    "PERSON",
    "RUN",
    "Param",
    "closest",
    "dynamics_defaults",
    "validate_value",
]


@dataclass(frozen=True)
class Param:
    """One model parameter.

    Attributes
    ----------
    name : str
        The key in scenario files, ``--set`` and the Mesa model.
    default : float
        The calibrated default (see docs/ODD.md).
    low, high : float
        The closed range of allowed values.
    unit : str
        Unit in plain words.
    meaning : str
        One sentence a student understands.
    integer : bool
        Whether the value must be a whole number.

    """

    name: str
    default: float
    low: float
    high: float
    unit: str
    meaning: str
    integer: bool = False

    def check(self, value: object, where: str = "") -> float:
        """Return ``value`` as a number if it is allowed, else raise ``ValueError`` saying why."""
        label = where or self.name
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(
                f"{label} must be a number in [{_fmt(self.low)}, {_fmt(self.high)}] "
                f"({self.unit}), got {value!r}"
            )
        if not math.isfinite(value):
            raise ValueError(f"{label} must be a finite number, got {value!r}")
        if self.integer and not isinstance(value, int) and float(value) != int(value):
            raise ValueError(f"{label} must be a whole number, got {value!r}")
        if not self.low <= value <= self.high:
            raise ValueError(
                f"{label} = {_fmt(value)} is out of range; allowed: "
                f"{_fmt(self.low)} to {_fmt(self.high)} ({self.unit})"
            )
        return int(value) if self.integer else float(value)


    def check_array(self, values, where: str = ""):
        """Return per-couple ``values`` as a float array if all are allowed, else ``ValueError``."""
        import numpy as np

        array = np.asarray(values, dtype=float)
        if not np.all((array >= self.low) & (array <= self.high)):
            raise ValueError(
                f"{where or self.name} has values outside {_fmt(self.low)} to "
                f"{_fmt(self.high)} ({self.unit})"
            )
        return array


def _fmt(x: float) -> str:
    """Format a range bound plainly: whole numbers without an exponent (10000000, not 1e+07)."""
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer()):
        return str(int(x))
    return f"{x:g}"


def _table(*params: Param) -> dict[str, Param]:
    return {p.name: p for p in params}


#: Per-person traits (set under ``[partner_a]`` and ``[partner_b]``).
PERSON: dict[str, Param] = _table(
    Param("anxiety", 0.15, 0.0, 1.0, "scale 0-1",
          "Fear of abandonment and vigilance for rejection (ECR anxiety)."),
    Param("avoidance", 0.15, 0.0, 1.0, "scale 0-1",
          "Discomfort with closeness and depending on a partner (ECR avoidance)."),
    Param("expression", 0.5, 0.0, 1.0, "0 = words, 1 = actions",
          "How this person shows and reads reassurance: in words, in actions, or both."),
)

#: The dynamics shared by both partners of a couple (``[dynamics]`` in a scenario file).
DYNAMICS: dict[str, Param] = _table(
    # The three levers of the model.
    Param("reassurance_frequency", 6.0, 0.0, 24.0, "requests per day",
          "How often an insecure person asks for reassurance at most."),
    Param("relief_decay", 1.0, 0.05, 10.0, "per day",
          "How fast the relief from one reassurance fades, before habituation speeds it up."),
    Param("exhaustion_rate", 0.08, 0.0, 0.5, "exhaustion per answered request",
          "What answering one request costs the answering partner."),
    # Everything else.
    Param("recovery_rate", 0.6, 0.0, 5.0, "per day",
          "How fast exhaustion recovers when the partner is left in peace."),
    Param("burnout", 0.8, 0.0, 1.0, "share of recovery lost",
          "How much recovery slows when exhaustion is total (a source of tipping points)."),
    Param("communication", 0.2, 0.0, 1.0, "scale 0-1",
          "How clearly needs are explained: cheaper for the partner, better relief."),
    Param("stress_rate", 0.3, 0.0, 10.0, "stressors per day",
          "How often outside stress or intrusive doubts arrive."),
    Param("stress_size", 0.15, 0.0, 1.0, "threat per stressor",
          "How much one stressor shakes a person (more for anxious people)."),
    Param("threat_decay", 1.0, 0.01, 10.0, "per day",
          "How fast accumulated stress and hurt fade."),
    Param("seek_threshold", 0.45, 0.0, 1.0, "felt security",
          "Felt security below which a fully secure person starts to ask (anxiety raises it)."),
    Param("responsiveness", 0.95, 0.0, 1.0, "probability",
          "Chance that a rested, close, non-avoidant partner answers a request."),
    Param("relief_gain", 0.6, 0.0, 1.0, "relief per answer",
          "Relief from one fully effective answer to a fresh person."),
    Param("habituation_gain", 0.03, 0.0, 1.0, "per reassurance received",
          "How much each answered request gets a person used to reassurance."),
    Param("habituation_decay", 0.03, 0.0, 1.0, "per day",
          "How fast habituation fades (weeks)."),
    Param("habituation_speedup", 4.0, 0.0, 20.0, "times faster at full habituation",
          "How much habituation shortens relief: relief decays (1 + this x habituation) faster."),
    Param("rebound", 0.15, 0.0, 2.0, "threat per unit of faded relief",
          "How much fading relief turns into fresh doubt for a fully anxious person."),
    Param("rebuff_hurt", 0.12, 0.0, 1.0, "threat per unanswered request",
          "How much an unanswered request hurts (more for anxious people)."),
    Param("trust_learning_rate", 0.05, 0.0, 1.0, "per request",
          "How far trust moves toward 'my partner is there' or 'is not' with each request."),
    Param("trust_weight", 0.5, 0.0, 1.0, "felt security",
          "How much trust in the partner lifts or lowers a person's baseline security."),
    Param("withdrawal_gain", 0.12, 0.0, 1.0, "per request received",
          "How much a fully avoidant partner pulls back when asked for reassurance."),
    Param("withdrawal_decay", 0.5, 0.01, 10.0, "per day",
          "How fast a partner's withdrawal fades."),
    Param("withdrawal_threat", 0.5, 0.0, 1.0, "felt security",
          "How much a partner's withdrawal lowers felt security (weighted by anxiety)."),
    Param("affection_rate", 1.5, 0.0, 24.0, "gestures per day",
          "Unasked affection a close, rested partner gives."),
    Param("affection_relief", 0.2, 0.0, 1.0, "relief per gesture",
          "Relief from one unasked gesture (it does not feed habituation)."),
    Param("channel_mismatch", 0.6, 0.0, 1.0, "quality lost",
          "Quality lost when reassurance is given in words and read in actions, or vice versa."),
    Param("satisfaction_rate", 0.08, 0.001, 1.0, "per day",
          "How fast satisfaction follows how the relationship feels."),
    Param("commitment_rate", 0.03, 0.0, 1.0, "per day",
          "How fast commitment follows satisfaction."),
    Param("dissolution_satisfaction", 0.3, 0.0, 1.0, "satisfaction",
          "Satisfaction below which a person considers leaving."),
    Param("dissolution_commitment", 0.4, 0.0, 1.0, "commitment",
          "Commitment below which a dissatisfied person actually leaves."),
    Param("dissolution_days", 30, 1, 365, "days", "How long both conditions must hold.",
          integer=True),
)

#: Run-level settings of a scenario file.
RUN: dict[str, Param] = _table(
    Param("days", 180, 1, 3650, "days", "Simulated days.", integer=True),
    Param("seed", 0, 0, 2**63 - 1, "integer", "Seed of the run's random numbers.", integer=True),
    Param("couples", 200, 1, 10_000_000, "couples", "Replicate couples of this pairing.",
          integer=True),
)

#: The source article's strategies, each an intervention that can be scheduled from a day on.
INTERVENTIONS: dict[str, str] = {
    "style_awareness": "Recognise each other's attachment styles: the avoidant partner reads "
    "requests as needs, not pressure (half the withdrawal), and answers more often.",
    "communication": "Communicate openly: needs are explained, so answering costs less and "
    "relief is better (communication rises to at least 0.8).",
    "consistent_actions": "Reassure through words and consistent actions: answers reach both "
    "channels (no mismatch) and unasked affection doubles.",
    "address_fears": "Address the underlying fear: habituation builds half as fast, rebound "
    "halves, and anxiety eases slowly (about 10% a month).",
    "therapy": "Professional support: anxiety and avoidance drift down over weeks (about 15% a "
    "month) and self-soothing gives relief without asking the partner.",
}


def dynamics_defaults() -> dict[str, float]:
    """Return the default value of every dynamics parameter, by name."""
    return {name: p.default for name, p in DYNAMICS.items()}


def closest(name: str, choices: Mapping[str, object] | list[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice to ``name``, or ``""``."""
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def validate_value(table: Mapping[str, Param], name: str, value: object, where: str = "") -> float:
    """Check one value against ``table``; raise ``ValueError`` naming what is wrong and allowed."""
    if name not in table:
        raise ValueError(
            f"unknown parameter {name!r}{closest(name, table)}; allowed: {', '.join(table)}"
        )
    return table[name].check(value, where or name)
