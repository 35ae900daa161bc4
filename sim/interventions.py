"""Interventions: the source article's strategies as treatments with a dose, a duration and an end.

Each strategy runs from its start day for ``weeks`` weeks at ``dose`` sessions (or practice
weeks' worth of sessions) a week. While it runs, the couple's benefit from it (a number from 0 to
1, ``rules.treatment_gain``) grows toward the couple's engagement, which is drawn per couple
(attendance and response vary); after it ends the benefit fades, slowly for most couples and fast
for the share that relapses. Every effect below is scaled by that benefit, and is written as a
rule in ``sim.engine.rules``; the kernel composes them in ``kernel.day_context``.

``style_awareness`` (recognise each other's styles)
    withdrawal after a request is halved (``strategy_scale`` by ``awareness_effect``) and
    avoidance holds answers back half as much (``awareness_barrier``): a request read as an
    attachment need, not criticism, lets the avoidant partner stay (Mikulincer & Shaver 2003);
    and the partner's distance hurts half as much (``withdrawal_threat`` scaled the same way): it
    is read as a style, not as rejection.
``communication`` (communicate openly)
    communication rises toward ``communication_target`` 0.8 (``trained_communication``).
``consistent_actions`` (reassure through words and consistent actions)
    the word/action mismatch disappears and unasked affection doubles (``actions_channel``,
    ``actions_affection``).
``address_fears`` (address the underlying fear)
    habituation gain and rebound halve (``fears_habituation``, ``fears_rebound``) and anxiety
    eases toward the population norm at ``fears_trait`` of therapy's strength (exposure-based work
    on reassurance seeking; Salkovskis & Kobori 2015).
``therapy`` (professional support, couple therapy)
    self-soothing gives relief without the partner (``self_soothing``) and anxiety and avoidance
    ease toward the population norms (``treated_trait``), bounded by ``max_trait_change``.

The sizes of these effects at full benefit are dynamics parameters (``sim.params.DYNAMICS``, from
``awareness_effect`` to ``fears_trait``), so that sweeps, sensitivity and calibration reach them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .params import INTERVENTIONS, closest

__all__ = [
    "DEFAULT_DOSE",
    "DEFAULT_WEEKS",
    "KINDS",
    "NEVER",
    "Intervention",
    "schedule_rows",
]

#: The intervention kinds, in the order of their rows in the kernel's parameter matrix.
KINDS: tuple[str, ...] = tuple(INTERVENTIONS)

#: Start day meaning "never".
NEVER = 1.0e9

#: Sessions a week by default: weekly therapy and fear work, twice-weekly practice of
#: communication and of reading each other's styles, daily practice of consistent actions.
DEFAULT_DOSE: dict[str, float] = {
    "style_awareness": 2.0,
    "communication": 2.0,
    "consistent_actions": 7.0,
    "address_fears": 1.0,
    "therapy": 1.0,
}
#: Weeks by default: couple therapy about 16 sessions (emotionally focused therapy runs 8 to 20;
#: Johnson et al. 1999), CBT for reassurance seeking about 12, shorter skills programmes 6 to 8.
DEFAULT_WEEKS: dict[str, float] = {
    "style_awareness": 6.0,
    "communication": 6.0,
    "consistent_actions": 8.0,
    "address_fears": 12.0,
    "therapy": 16.0,
}


@dataclass(frozen=True)
class Intervention:
    """One scheduled strategy.

    Parameters
    ----------
    kind : str
        One of ``KINDS``.
    day : int
        First day (0-based) of the treatment.
    dose : float, optional
        Sessions a week (0 to 14); default ``DEFAULT_DOSE[kind]``.
    weeks : float, optional
        Duration in weeks (0 to 520); default ``DEFAULT_WEEKS[kind]``.

    """

    kind: str
    day: int = 0
    dose: float | None = None
    weeks: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.day, np.integer):  # a day from a NumPy array is a whole number too
            object.__setattr__(self, "day", int(self.day))
        if self.kind not in INTERVENTIONS:
            raise ValueError(
                f"unknown intervention kind {self.kind!r}{closest(self.kind, INTERVENTIONS)}; "
                f"allowed: {', '.join(KINDS)}"
            )
        if isinstance(self.day, bool) or not isinstance(self.day, int) or self.day < 0:
            raise ValueError(f"intervention day must be a whole number >= 0, got {self.day!r}")
        for name, default, high in (("dose", DEFAULT_DOSE, 14.0), ("weeks", DEFAULT_WEEKS, 520.0)):
            value = getattr(self, name)
            if value is None:
                object.__setattr__(self, name, default[self.kind])
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (0.0 <= value <= high)
            ):
                unit = "sessions a week" if name == "dose" else "weeks"
                raise ValueError(
                    f"intervention {name} must be a number from 0 to {high:g} ({unit}), "
                    f"got {value!r}"
                )
            object.__setattr__(self, name, float(value))

    @property
    def end_day(self) -> float:
        """The first day after the treatment."""
        return self.day + 7.0 * float(self.weeks)  # type: ignore[arg-type]

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Intervention:
        """Build from a scenario file's ``[[interventions]]`` table."""
        return cls(
            kind=str(data["kind"]),
            day=data.get("day", 0),  # type: ignore[arg-type]
            dose=data.get("dose"),
            weeks=data.get("weeks"),
        )  # type: ignore[arg-type]


def schedule_rows(interventions: Iterable[Intervention]) -> list[float]:
    """Return the kernel's schedule rows: start day, end day and sessions a day of each kind.

    In ``KINDS`` order, three numbers per kind (``NEVER`` start and end where not scheduled). If a
    kind is scheduled twice, the earlier one counts.
    """
    chosen: dict[str, Intervention] = {}
    for item in interventions:
        if item.kind not in chosen or item.day < chosen[item.kind].day:
            chosen[item.kind] = item
    rows: list[float] = []
    for kind in KINDS:
        item = chosen.get(kind)
        if item is None:
            rows += [NEVER, NEVER, 0.0]
        else:
            rows += [float(item.day), item.end_day, float(item.dose) / 7.0]  # type: ignore[arg-type]
    return rows
