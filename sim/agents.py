"""The people of the Mesa face: each :class:`Person` is a window onto one row of the kernel.

The kernel (``sim.engine.kernel.Kernel``) keeps every couple's state in a few arrays and advances
all of them at once. A ``Person`` stores only *where* it lives in those arrays (its role and its
couple) and reads everything else from the kernel when asked, so an agent is never out of date and
never holds a copy of the state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from .engine.kernel import RECORDER_VARS, STATE_VARS
from .styles import classify

if TYPE_CHECKING:
    from .model import RelationshipModel

__all__ = ["ROLES", "Person"]

#: Partner labels, in the order of the kernel's person axis (row 0 is A, row 1 is B).
ROLES = ("a", "b")


def _state(name: str, doc: str) -> property:
    """Make a read-only property that reads this person's live state ``name`` from ``kernel.S``."""
    var = STATE_VARS.index(name)  # looked up once: DataCollector reads this for every agent

    def read(self: Person) -> float:
        return float(self.model.kernel.S[var, self.row, self.couple])

    return property(read, doc=doc)


def _count(name: str, doc: str) -> property:
    """Make a read-only property that reads this person's count ``name`` from ``kernel.R``."""
    var = RECORDER_VARS.index(name)

    def read(self: Person) -> int:
        return int(self.model.kernel.R[var, self.row, self.couple])

    return property(read, doc=doc)


class Person(mesa.Agent):
    """One partner of one couple, as a view onto the kernel's arrays.

    Parameters
    ----------
    model : RelationshipModel
        The model that owns the kernel.
    role : {"a", "b"}
        Which partner of the couple this person is.
    couple : int
        The couple's index in the kernel (0-based).

    Notes
    -----
    Traits (``anxiety``, ``avoidance``, ``expression``) and the live state are properties that
    read the kernel each time; ``partner`` is the other ``Person`` of the couple. All values are
    on the [0, 1] scale except the counts ``requests``, ``answered`` and ``affection_received``.

    """

    model: RelationshipModel

    def __init__(self, model: RelationshipModel, role: str, couple: int) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be 'a' or 'b', got {role!r}")
        super().__init__(model)
        self.role = role
        #: Index on the kernel's person axis (0 for partner A, 1 for partner B).
        self.row = ROLES.index(role)
        #: The couple's index on the kernel's couple axis.
        self.couple = int(couple)
        self.partner: Person | None = None

    @property
    def style(self) -> str:
        """Quadrant of the current (anxiety, avoidance): secure, anxious, avoidant or fearful.

        Therapy and addressing fears move the traits, so the style can change during a run.
        """
        return str(classify(self.anxiety, self.avoidance))

    @property
    def preset(self) -> str:
        """The style this person was drawn from at the start of the run."""
        return str(self.model.population.styles[self.row, self.couple])

    @property
    def together(self) -> bool:
        """Whether the couple is still together (the dissolution rule has not fired)."""
        return bool(self.model.kernel.dissolved_day[self.couple] < 0)

    anxiety = _state("anxiety", "Fear of abandonment, 0-1 (eases under some interventions).")
    avoidance = _state("avoidance", "Discomfort with closeness, 0-1 (eases under therapy).")
    expression = _state("expression", "How reassurance is shown and read: 0 words, 1 actions.")
    asking_norm = _state("asking_norm", "How acceptable explicit asking is to this person, 0-1.")
    care = _state("care", "Caregiving apart from attachment: scales answers, warmth (1 typical).")
    anxiety_base = _state("anxiety_base", "Anxiety before any treatment, 0-1.")
    avoidance_base = _state("avoidance_base", "Avoidance before any treatment, 0-1.")
    appraisal = _state("appraisal", "Slow offset of satisfaction from outside events, -0.5 to 0.5.")
    alternatives = _state(
        "alternatives", "Quality of alternatives to this relationship against the usual, -0.5-0.5."
    )
    earned_security = _state(
        "earned_security", "How much more available the partner has been than expected, -1 to 1."
    )
    life_events = _state(
        "life_events", "How far outside events have moved this person's attachment, -0.5-0.5."
    )
    investment = _state(
        "investment", "What this person has put into the relationship and would lose, 0-1."
    )
    security = _state("security", "Felt security this hour, 0-1.")
    relief = _state("relief", "Relief left from recent reassurance, 0-1.")
    habituation = _state("habituation", "How used to reassurance this person is, 0-1.")
    threat = _state("threat", "Accumulated stress, doubt and hurt, 0-1.")
    exhaustion = _state("exhaustion", "Exhaustion from answering the partner's requests, 0-1.")
    withdrawal = _state("withdrawal", "How far this person has pulled back from the partner, 0-1.")
    closeness = _state("closeness", "Felt closeness from warm exchanges received, 0-1.")
    trust = _state("trust", "Trust that the partner is there when needed, 0-1 (drawn history).")
    satisfaction = _state("satisfaction", "Satisfaction with the relationship, 0-1.")
    commitment = _state("commitment", "Commitment to the relationship, 0-1.")
    requests = _count("requests", "Requests for reassurance made so far.")
    answered = _count("answered", "Requests of this person that the partner answered so far.")
    affection_received = _count("affection_received", "Unasked gestures received so far.")

    def step(self) -> None:
        """Do nothing: the kernel advances every person of every couple in one vectorised call.

        ``RelationshipModel.step`` moves the whole population by one day (24 hourly ticks in which
        both partners act on the same state); stepping people one by one would be slower and
        would let one partner move before the other.
        """

    def __repr__(self) -> str:
        return f"Person(couple={self.couple}, role={self.role!r}, style={self.style!r})"
