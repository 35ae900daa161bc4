"""Cultural norms of reassurance: how it is shown (words or actions) and how acceptable asking is.

The source article names cultural norms as one reason partners misread each other's reassurance.
A norm here is abstract and named for what it does, never after a real people:

``neutral``
    the default: expression spread around the middle, asking moderately acceptable.
``expressive``
    reassurance is mostly spoken and asking for it openly is accepted.
``reserved``
    reassurance is mostly shown through actions and asking outright is less acceptable.

Each person of a population draws their expression (0 = words, 1 = actions) from a normal
distribution around their culture's mean, clipped to [0, 1], and takes its asking norm. Partners
may come from different cultures (``partner_a.culture``); then the channel mismatch
(``rules.answer_quality``) and the weight of explicit asking (``rules.seek_probability``,
``rules.exhaustion_after_answering``) act. Display rules for emotion differ between cultures in
these two ways (Matsumoto 1990; Kim, Sherman & Taylor 2008 on explicit versus implicit support
seeking).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .params import closest

__all__ = ["CULTURES", "Culture", "culture_from"]


@dataclass(frozen=True)
class Culture:
    """A norm: the mean and spread of expression, and how acceptable explicit asking is."""

    name: str
    expression_mean: float
    expression_sd: float
    asking_norm: float

    def draw_expression(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` people's expression (0 = words, 1 = actions) from this norm."""
        draws = self.expression_mean + self.expression_sd * rng.standard_normal(n)
        return np.clip(draws, 0.0, 1.0)


#: The bundled norms.
CULTURES: dict[str, Culture] = {
    "neutral": Culture("neutral", 0.5, 0.15, 0.6),
    "expressive": Culture("expressive", 0.3, 0.15, 0.85),
    "reserved": Culture("reserved", 0.7, 0.15, 0.3),
}


def _unit(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{where} must be a number from 0 to 1, got {value!r}")
    return float(value)


def culture_from(spec: object, where: str = "culture") -> Culture:
    """Return the culture named or described by ``spec``.

    ``spec`` is a name from ``CULTURES``, a :class:`Culture`, or a mapping with ``name`` (a
    bundled norm to start from, or a new name) and optional ``expression = {mean, sd}`` and
    ``asking_norm`` overrides. Raises ``ValueError`` naming what is wrong and what is allowed.
    """
    if isinstance(spec, Culture):
        return spec
    if isinstance(spec, str):
        if spec not in CULTURES:
            raise ValueError(f"unknown culture {spec!r}{closest(spec, CULTURES)}; allowed: "
                             f"{', '.join(CULTURES)} (or a table with expression and "
                             "asking_norm)")  # fmt: skip
        return CULTURES[spec]
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where} must be a culture name or a table, got {spec!r}")
    allowed = ("name", "expression", "asking_norm")
    for key in spec:
        if key not in allowed:
            raise ValueError(f"unknown key {where}.{key}{closest(str(key), allowed)}; allowed: "
                             f"{', '.join(allowed)}")  # fmt: skip
    name = spec.get("name", "neutral")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}.name must be a text, got {name!r}")
    base = CULTURES.get(name, CULTURES["neutral"])
    mean, sd = base.expression_mean, base.expression_sd
    expression = spec.get("expression")
    if expression is not None:
        if not isinstance(expression, Mapping) or set(expression) - {"mean", "sd"}:
            raise ValueError(f"{where}.expression must be a table with mean and sd, "
                             f"got {expression!r}")  # fmt: skip
        mean = _unit(expression.get("mean", mean), f"{where}.expression.mean")
        sd = expression.get("sd", sd)
        if isinstance(sd, bool) or not isinstance(sd, int | float) or not 0.0 <= sd <= 0.5:
            raise ValueError(f"{where}.expression.sd must be a number from 0 to 0.5, got {sd!r}")
        sd = float(sd)
    asking = _unit(spec.get("asking_norm", base.asking_norm), f"{where}.asking_norm")
    return Culture(name, mean, sd, asking)
