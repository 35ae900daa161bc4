"""Interventions: the source article's strategies, scheduled from a given day on.

Each intervention switches on at the start of its day and stays on. Its effects are applied by the
kernel's tick (``sim.kernel.tick``) through the constants below, so that the whole effect of a
strategy can be read here in one place:

``style_awareness`` (recognise each other's styles)
    withdrawal after a request is halved (``AWARENESS_WITHDRAWAL``) and responsiveness rises by
    ``AWARENESS_RESPONSIVENESS``: knowing that a request is an attachment need, not criticism,
    lets the avoidant partner stay (Mikulincer & Shaver 2003 on deactivation).
``communication`` (communicate openly)
    communication rises to at least ``COMMUNICATION_LEVEL``.
``consistent_actions`` (reassure through words and consistent actions)
    answers reach both channels (no word/action mismatch) and unasked affection is multiplied by
    ``ACTIONS_AFFECTION``: reliable everyday behaviour reassures without being asked.
``address_fears`` (address the underlying fear)
    habituation gain and rebound are halved (``FEARS_HABITUATION``, ``FEARS_REBOUND``) and anxiety
    eases by about 10% a month (``FEARS_ANXIETY_RATE``), as in exposure-based work on
    reassurance seeking (Salkovskis & Kobori 2015).
``therapy`` (professional support)
    anxiety and avoidance drift down by about 15% a month (``THERAPY_TRAIT_RATE``) and
    self-soothing gives relief at ``THERAPY_SELF_SOOTHING`` per day without the partner.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .params import INTERVENTIONS, closest

__all__ = [
    "ACTIONS_AFFECTION",
    "AWARENESS_RESPONSIVENESS",
    "AWARENESS_WITHDRAWAL",
    "COMMUNICATION_LEVEL",
    "FEARS_ANXIETY_RATE",
    "FEARS_HABITUATION",
    "FEARS_REBOUND",
    "KINDS",
    "NEVER",
    "THERAPY_SELF_SOOTHING",
    "THERAPY_TRAIT_RATE",
    "Intervention",
    "start_days",
]

#: The intervention kinds, in the order of their start-day rows in the kernel's parameter matrix.
KINDS: tuple[str, ...] = tuple(INTERVENTIONS)

#: Start day meaning "never".
NEVER = 1.0e9

AWARENESS_WITHDRAWAL = 0.5
AWARENESS_RESPONSIVENESS = 0.2
COMMUNICATION_LEVEL = 0.8
ACTIONS_AFFECTION = 2.0
FEARS_HABITUATION = 0.5
FEARS_REBOUND = 0.5
#: Per day: exp(-30 x rate) = 0.9, i.e. anxiety eases about 10% a month.
FEARS_ANXIETY_RATE = -math.log(0.9) / 30.0
#: Per day: exp(-30 x rate) = 0.85, i.e. about 15% a month.
THERAPY_TRAIT_RATE = -math.log(0.85) / 30.0
THERAPY_SELF_SOOTHING = 0.6


@dataclass(frozen=True)
class Intervention:
    """One scheduled strategy: ``kind`` (see ``KINDS``) switched on from ``day`` (0-based)."""

    kind: str
    day: int = 0

    def __post_init__(self) -> None:
        if self.kind not in INTERVENTIONS:
            raise ValueError(
                f"unknown intervention kind {self.kind!r}{closest(self.kind, INTERVENTIONS)}; "
                f"allowed: {', '.join(KINDS)}"
            )
        if isinstance(self.day, bool) or not isinstance(self.day, int) or self.day < 0:
            raise ValueError(f"intervention day must be a whole number >= 0, got {self.day!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Intervention:
        """Build from a scenario file's ``[[interventions]]`` table."""
        return cls(kind=str(data["kind"]), day=data.get("day", 0))  # type: ignore[arg-type]


def start_days(interventions: Iterable[Intervention]) -> list[float]:
    """Return the start day of each kind in ``KINDS`` order (``NEVER`` where not scheduled).

    If a kind is scheduled twice, the earlier day counts.
    """
    starts = dict.fromkeys(KINDS, NEVER)
    for item in interventions:
        starts[item.kind] = min(starts[item.kind], float(item.day))
    return [starts[k] for k in KINDS]
