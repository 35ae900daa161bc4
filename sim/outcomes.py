"""Outcomes: each couple's label, and the source article's healthy-versus-excessive table.

A couple ends in one of four labels, decided in this order (the first that applies):

``dissolved``
    the dissolution rule fired (while a partner was dissatisfied and uncommitted, the couple
    left on a day with chance ``1 / dissolution_days``).
``spiraling``
    someone asks constantly at the end (at least ``EXCESSIVE_RATE`` requests a day over the last
    30 days: "constant, repetitive" in the source article's table), or still asks often (at least
    ``SPIRAL_RATE`` a day) *and* the cycle is not working: their trust is below
    ``SPIRAL_TRUST``, or the partner's exhaustion is at least ``SPIRAL_EXHAUSTION``. Every
    criterion reads where the couple ended (its attractor), none compares the last month with
    the first: with drawn histories a couple that started unusually well would otherwise count
    as escalating while it settles where it would have anyway.
``distant``
    no spiral, but the couple is disconnected: the lower satisfaction is below
    ``DISTANT_SATISFACTION``, or the partners exchange fewer than ``DISTANT_CONTACT`` answers and
    gestures of affection a day between them (two people who no longer reach for each other).
``stable``
    everything else.

The thresholds are parameters (``sim.params.LABEL_THRESHOLDS``, ``[labels]`` in a scenario file,
``--set labels.spiral_rate=1.5``): :func:`classify_couples` takes them, one number each or one
per couple, and uses the table's defaults for any not given. The module constants
(``SPIRAL_RATE`` ...) are those defaults, for code that draws or mirrors the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .params import LABEL_THRESHOLDS, closest

if TYPE_CHECKING:
    from .simulation import Result

__all__ = [
    "ASPECTS",
    "BROKEN",
    "DISTANT_CONTACT",
    "DISTANT_SATISFACTION",
    "EXCESSIVE_RATE",
    "LABELS",
    "SPIRAL_EXHAUSTION",
    "SPIRAL_RATE",
    "SPIRAL_TRUST",
    "aspects_table",
    "broken",
    "classify_couples",
    "count_outcomes",
    "label_thresholds",
    "outcomes_by_pairing",
    "seeker_is_a",
    "seeker_partner",
]

LABELS = ("stable", "spiraling", "distant", "dissolved")
#: The labels of a couple whose cycle broke down: a spiral that lasts long enough dissolves, so
#: "spiraling or dissolved" is the share that the levers and the strategies move.
BROKEN = ("spiraling", "dissolved")

# The defaults of ``sim.params.LABEL_THRESHOLDS``, by their former names.
SPIRAL_RATE = LABEL_THRESHOLDS["spiral_rate"].default  # requests per day, last 30 days
EXCESSIVE_RATE = LABEL_THRESHOLDS["excessive_rate"].default  # requests per day, last 30 days
SPIRAL_TRUST = LABEL_THRESHOLDS["spiral_trust"].default
SPIRAL_EXHAUSTION = LABEL_THRESHOLDS["spiral_exhaustion"].default
DISTANT_SATISFACTION = LABEL_THRESHOLDS["distant_satisfaction"].default
DISTANT_CONTACT = LABEL_THRESHOLDS["distant_contact"].default  # answers + gestures a day, both


def label_thresholds(values: Mapping[str, object] | None = None) -> dict[str, object]:
    """Every label threshold by name: ``values`` where given, the table's default elsewhere.

    ``values`` maps names of ``sim.params.LABEL_THRESHOLDS`` to a number or one number per
    couple (already validated: ``Setup`` and the scenario loader check them); an unknown name
    raises ``ValueError`` naming the allowed ones.
    """
    values = {} if values is None else values
    for name in values:
        if name not in LABEL_THRESHOLDS:
            hint = closest(str(name), LABEL_THRESHOLDS)
            raise ValueError(f"unknown label threshold {name!r}{hint}; allowed: "
                             f"{', '.join(LABEL_THRESHOLDS)}")  # fmt: skip
    return {name: values.get(name, spec.default) for name, spec in LABEL_THRESHOLDS.items()}


def classify_couples(columns: Mapping[str, np.ndarray], days: int,
                     thresholds: Mapping[str, object] | None = None) -> np.ndarray:  # fmt: skip
    """Label every couple from its per-couple columns (see ``sim.simulation.COUPLE_COLUMNS``).

    ``thresholds`` overrides label thresholds by name (``sim.params.LABEL_THRESHOLDS``), each a
    number or an array with one value per couple; the others keep their defaults. Returns an
    array of labels from ``LABELS``.
    """
    t = label_thresholds(thresholds)
    dissolved = columns["dissolved_day"] >= 0
    spiral = np.zeros(dissolved.shape, dtype=bool)
    for me, partner in (("a", "b"), ("b", "a")):
        rate_last = columns[f"request_rate_last_30d_{me}"]
        not_working = ((columns[f"trust_{me}"] < t["spiral_trust"])
                       | (columns[f"exhaustion_{partner}"] >= t["spiral_exhaustion"]))  # fmt: skip
        spiral |= (rate_last >= t["excessive_rate"]) | (
            (rate_last >= t["spiral_rate"]) & not_working
        )
    low_satisfaction = np.minimum(columns["satisfaction_a"], columns["satisfaction_b"])
    contact = (
        columns["answered_a"] + columns["answered_b"]
        + columns["affection_received_a"] + columns["affection_received_b"]
    ) / max(days, 1)  # fmt: skip
    distant = (low_satisfaction < t["distant_satisfaction"]) | (contact < t["distant_contact"])
    labels = np.full(dissolved.shape, "stable", dtype=object)
    labels[distant] = "distant"
    labels[spiral] = "spiraling"
    labels[dissolved] = "dissolved"
    return labels.astype(str)


def broken(labels: np.ndarray) -> np.ndarray:
    """Whether each couple is spiraling or dissolved (``BROKEN``)."""
    return np.isin(labels, BROKEN)


def seeker_is_a(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Whether partner A is each couple's *seeker*: the partner who asked more (A on a tie)."""
    return np.asarray(columns["requests_a"]) >= np.asarray(columns["requests_b"])


def seeker_partner(columns: Mapping[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(seeker's, partner's)`` values of the per-person column ``name`` per couple."""
    a_seeks = seeker_is_a(columns)
    first, second = np.asarray(columns[f"{name}_a"]), np.asarray(columns[f"{name}_b"])
    return np.where(a_seeks, first, second), np.where(a_seeks, second, first)


def count_outcomes(labels: np.ndarray) -> dict[str, int]:
    """Count each label of ``LABELS`` (zeros included), in that order."""
    return {label: int(np.sum(labels == label)) for label in LABELS}


#: The source article's table: aspect -> (what healthy looks like, what excessive looks like).
ASPECTS: dict[str, tuple[str, str]] = {
    "frequency": ("occasional, natural", "constant, repetitive"),
    "emotional impact": ("builds trust and closeness", "dependency and stress"),
    "partner response": ("encourages intimacy", "exhaustion"),
    "long-term outcome": ("stability", "undermined trust and security"),
}


def _verdict(value: float, healthy_if_at_most: float, excessive_if_at_least: float) -> str:
    if value <= healthy_if_at_most:
        return "healthy"
    if value >= excessive_if_at_least:
        return "excessive"
    return "in between"


def aspects_table(columns: Mapping[str, np.ndarray], labels: np.ndarray,
                  thresholds: Mapping[str, object] | None = None) -> list[dict]:  # fmt: skip
    """Fill in the healthy-versus-excessive table for a run, with measured values.

    In every couple the *seeker* is the partner who asked more over the run; the table describes
    seekers and their partners, averaged over couples. Each row has ``aspect``, ``measure`` (what
    was measured, in words), ``value``, ``healthy``, ``excessive`` and ``verdict`` (``healthy``,
    ``in between`` or ``excessive``), with the thresholds in ``rule``. The frequency row's bounds
    are the run's ``spiral_rate`` and ``excessive_rate`` (``thresholds``, as for
    :func:`classify_couples`; the mean over couples where they vary).
    """
    t = label_thresholds(thresholds)
    spiral_rate = float(np.mean(t["spiral_rate"]))
    excessive_rate = float(np.mean(t["excessive_rate"]))

    def seeker(name: str, partner: bool = False) -> np.ndarray:
        return seeker_partner(columns, name)[1 if partner else 0]

    rate = float(np.mean(seeker("request_rate_last_30d")))
    trust = float(np.mean(seeker("trust")))
    # An exhausted partner and a partner who pulls away both fail to "encourage intimacy".
    strain = float(
        np.mean(np.maximum(seeker("exhaustion", partner=True), seeker("withdrawal", partner=True)))
    )
    share_broken = float(np.mean(broken(labels)))
    # Start trust depends on the relationship (dating, married): say where this run's started.
    start = (f"started at {float(np.mean(seeker('start_trust'))):.2f}"
             if "start_trust_a" in columns else "starts near 0.55")  # fmt: skip
    rows = [
        ("frequency", "seeker's requests per day, last 30 days", rate, spiral_rate, excessive_rate,
         f"healthy at most {spiral_rate:g} a day, excessive from {excessive_rate:g} a day"),
        ("emotional impact", f"seeker's final trust in the partner (0-1; {start})",
         1.0 - trust, 0.45, 0.6, "healthy if trust ends at 0.55 or more, excessive at 0.4 or less"),
        ("partner response", "partner's final exhaustion or withdrawal, the larger (0-1)",
         strain, 0.2, 0.35, "healthy at most 0.2, excessive from 0.35"),
        ("long-term outcome", "share of couples spiraling or dissolved", share_broken, 0.2, 0.5,
         "healthy at most 20%, excessive from 50%"),
    ]  # fmt: skip
    table = []
    for aspect, measure, score, low, high, rule in rows:
        healthy, excessive = ASPECTS[aspect]
        value = trust if aspect == "emotional impact" else score
        table.append({
            "aspect": aspect,
            "measure": measure,
            "value": round(value, 4),
            "healthy": healthy,
            "excessive": excessive,
            "verdict": _verdict(score, low, high),
            "rule": rule,
        })  # fmt: skip
    return table


def outcomes_by_pairing(result: Result) -> dict[str, dict[str, float]]:
    """Share of each outcome per pairing of styles (``"anxious + avoidant"``; order ignored)."""
    a, b = result.couples["style_a"], result.couples["style_b"]
    pairs = np.array([" + ".join(sorted(map(str, p))) for p in zip(a, b, strict=True)])
    table = {}
    for pair in sorted(set(pairs.tolist())):
        chosen = result.labels[pairs == pair]
        table[pair] = {"couples": int(chosen.size)}
        table[pair].update({label: float(np.mean(chosen == label)) for label in LABELS})
    return table
