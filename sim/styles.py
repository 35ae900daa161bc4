"""Attachment styles as presets on the anxiety × avoidance plane, and population mixes.

Adult attachment is measured on two continuous dimensions (ECR / ECR-R: Brennan, Clark & Shaver
1998; Fraley, Waller & Brennan 2000). We scale both to [0, 1]. The four named styles of
Bartholomew & Horowitz (1991) are corners of that plane; any point on it is a valid person.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LITERATURE_MIX",
    "STYLE_JITTER",
    "Style",
    "classify",
    "draw_population",
    "draw_traits",
]


@dataclass(frozen=True)
class _Preset:
    anxiety: float
    avoidance: float
    also_called: str


class Style(enum.Enum):
    """A named attachment style: a preset point (anxiety, avoidance) on the plane."""

    SECURE = _Preset(0.15, 0.15, "")
    ANXIOUS = _Preset(0.85, 0.15, "preoccupied")
    AVOIDANT = _Preset(0.15, 0.85, "dismissing")
    FEARFUL = _Preset(0.85, 0.85, "fearful-avoidant")

    @property
    def label(self) -> str:
        """The style's name as written in scenario files and on the command line."""
        return self.name.lower()

    @property
    def anxiety(self) -> float:
        """Preset anxiety in [0, 1]."""
        return self.value.anxiety

    @property
    def avoidance(self) -> float:
        """Preset avoidance in [0, 1]."""
        return self.value.avoidance

    @classmethod
    def from_label(cls, label: str) -> Style:
        """Return the style named ``label`` (case-insensitive); ``ValueError`` if there is none."""
        try:
            return cls[label.strip().upper()]
        except KeyError:
            allowed = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown attachment style {label!r}; allowed: {allowed}") from None

    @classmethod
    def labels(cls) -> list[str]:
        """All style names, in the order secure, anxious, avoidant, fearful."""
        return [s.label for s in cls]


#: Share of each style in a general adult population: about 56% secure, 25% avoidant, 19% anxious
#: (Hazan & Shaver 1987; Mickelson, Kessler & Shaver 1997 report 59% / 25% / 11% with the rest
#: unclassified). Fearful is not separated in those three-category studies, so it gets no share.
LITERATURE_MIX: Mapping[str, float] = {"secure": 0.56, "avoidant": 0.25, "anxious": 0.19}

#: Standard deviation of the per-person jitter around a preset, on the [0, 1] scale. Large enough
#: that no two people are identical, small enough that a jittered secure person stays secure.
STYLE_JITTER = 0.07


def classify(anxiety: np.ndarray | float, avoidance: np.ndarray | float) -> np.ndarray:
    """Name the quadrant of each (anxiety, avoidance) point, splitting both axes at 0.5.

    Returns an array of style labels (``"secure"``, ``"anxious"``, ``"avoidant"``, ``"fearful"``).
    """
    anx = np.asarray(anxiety) >= 0.5
    avo = np.asarray(avoidance) >= 0.5
    out = np.where(anx, np.where(avo, "fearful", "anxious"), np.where(avo, "avoidant", "secure"))
    return out


def draw_traits(
    style: Style, n: int, rng: np.random.Generator, jitter: float = STYLE_JITTER
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` people around a style's preset.

    Parameters
    ----------
    style : Style
        The preset to jitter around.
    n : int
        Number of people.
    rng : numpy.random.Generator
        The run's generator; no global random state is used.
    jitter : float
        Standard deviation of the normal jitter, clipped back into [0, 1].

    Returns
    -------
    anxiety, avoidance : numpy.ndarray
        Two arrays of shape ``(n,)`` in [0, 1].

    """
    anxiety = np.clip(style.anxiety + jitter * rng.standard_normal(n), 0.0, 1.0)
    avoidance = np.clip(style.avoidance + jitter * rng.standard_normal(n), 0.0, 1.0)
    return anxiety, avoidance


def draw_population(
    mix: Mapping[str, float], n_couples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``2 * n_couples`` people from a style mix and pair them at random.

    Parameters
    ----------
    mix : mapping of style label to weight
        Weights need not sum to one; they are normalised. Unknown labels raise ``ValueError``.
    n_couples : int
        Number of couples.
    rng : numpy.random.Generator
        The run's generator.

    Returns
    -------
    styles : numpy.ndarray of str, shape (2, n_couples)
        The style each person was drawn from (row 0 partner A, row 1 partner B).
    anxiety, avoidance : numpy.ndarray, shape (2, n_couples)
        Jittered traits.

    """
    labels = list(mix)
    styles_enum = [Style.from_label(label) for label in labels]
    weights = np.array([float(mix[label]) for label in labels])
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("population mix weights must be non-negative and not all zero")
    weights = weights / weights.sum()
    idx = rng.choice(len(labels), size=2 * n_couples, p=weights)
    anxiety = np.empty(2 * n_couples)
    avoidance = np.empty(2 * n_couples)
    for k, style in enumerate(styles_enum):
        sel = idx == k
        anxiety[sel], avoidance[sel] = draw_traits(style, int(sel.sum()), rng)
    # Random pairing: people are drawn independently, so consecutive draws are a random pairing.
    names = np.array([s.label for s in styles_enum])[idx]
    return (
        names.reshape(2, n_couples),
        anxiety.reshape(2, n_couples),
        avoidance.reshape(2, n_couples),
    )
