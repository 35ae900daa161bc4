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
    "ASKING_NORM_SD",
    "CARE_SD",
    "LITERATURE_MIX",
    "STYLE_ALIASES",
    "STYLE_JITTER",
    "TRAIT_NORMS",
    "Style",
    "classify",
    "draw_care",
    "draw_continuum",
    "draw_population",
    "draw_traits",
    "mix_in_words",
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
        """Return the style named ``label``; ``ValueError`` if there is none.

        Case-insensitive; the literature's other names (``STYLE_ALIASES``) are understood too.
        """
        word = label.strip().lower()
        try:
            return cls[STYLE_ALIASES.get(word, word).upper()]
        except KeyError:
            allowed = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown attachment style {label!r}; allowed: {allowed}") from None

    @classmethod
    def labels(cls) -> list[str]:
        """All style names, in the order secure, anxious, avoidant, fearful."""
        return [s.label for s in cls]


#: The literature's other names of the four styles (Bartholomew & Horowitz 1991 name the
#: quadrants secure, preoccupied, dismissing and fearful; "-avoidant" and "dismissive" are common
#: variants), accepted wherever a style is named and read as relsim's own name.
STYLE_ALIASES: Mapping[str, str] = {
    "preoccupied": "anxious",
    "anxious-preoccupied": "anxious",
    "dismissing": "avoidant",
    "dismissive": "avoidant",
    "dismissing-avoidant": "avoidant",
    "dismissive-avoidant": "avoidant",
    "fearful-avoidant": "fearful",
}

#: Share of each style in a general adult population. Hazan & Shaver (1987) found about 56% secure,
#: 25% avoidant and 19% anxious (Mickelson, Kessler & Shaver 1997: 59% / 25% / 11%, the rest
#: unclassified). Their three categories have no fearful one: their "avoidant" description (being
#: uncomfortable close to others, finding it hard to trust and depend on them) covers both
#: Bartholomew & Horowitz's (1991) fearful and dismissing people, whom they found in the ratio
#: 21 : 18. The 25% is split in that ratio: 13.5% fearful, 11.5% avoidant (dismissing).
LITERATURE_MIX: Mapping[str, float] = {
    "secure": 0.56,
    "anxious": 0.19,
    "avoidant": 0.115,
    "fearful": 0.135,
}

#: The continuum a population's people are drawn from, on the [0, 1] scale of the plane (an ECR-R
#: score s from 1 to 7 is (s - 1) / 6): in community and student samples attachment anxiety
#: averages about 3.5 and avoidance about 3, each with a standard deviation a little over 1
#: (Fraley, Waller & Brennan 2000; Sibley, Fischer & Liu 2005), and the two correlate positively,
#: about .1 to .4 by instrument (Cameron, Finnegan & Morry 2012). Attachment is dimensional, not
#: a set of types (Fraley & Waller 1998): the style of a population's person is the quadrant they
#: fall in, and within it their traits follow this distribution (``draw_population``).
TRAIT_NORMS: Mapping[str, float] = {
    "anxiety_mean": 0.42,
    "anxiety_sd": 0.19,
    "avoidance_mean": 0.33,
    "avoidance_sd": 0.19,
    "correlation": 0.3,
}

#: How much a population's people differ, within their culture, in how acceptable they find asking
#: for reassurance outright (the standard deviation of each person's ``asking_norm`` around their
#: culture's, clipped to [0, 1]). Values and norms vary far more between the people of one culture
#: than between cultures (Fischer & Schwartz 2011), so the spread within a culture is set about as
#: large as the gap between the bundled norms and the neutral one (expressive 0.85 and reserved
#: 0.3 around 0.6). It is the one lasting difference in asking that is not attachment: people
#: also differ in a disposition to seek reassurance that goes with depression and low self-esteem
#: (Joiner, Metalsky, Katz & Beach 1999; Starr & Davila 2008). Drawn in population runs only,
#: like the continuum of traits; a pair scenario's people are their style's typical person.
ASKING_NORM_SD = 0.3

#: How much a population's people differ in caregiving apart from attachment: each person's
#: ``care`` multiplies how readily they answer a request, how warm the answer is and how often they
#: show affection unasked (clipped at full readiness and warmth). Caregiving follows attachment
#: only moderately: avoidance goes with less responsive care at about r -0.3 to -0.45, anxiety
#: with more intrusive, less sensitive care (Kunce & Shaver 1994; Feeney & Collins 2001), and much
#: of it follows empathy, agreeableness and a prosocial orientation (Feeney & Collins 2001) that
#: the traits do not hold. Without this spread the model's caregiving was set by the traits
#: alone: r(avoidance, warmth of the answers given) was -0.92. ``care`` is ``exp(CARE_SD z)``
#: with z standard normal (median 1); a pair scenario's people have care 1 (docs/ODD.md,
#: sections 5 and 7.4).
CARE_SD = 0.2

#: Standard deviation of the per-person jitter around a preset, on the [0, 1] scale. Large enough
#: that no two people are identical, small enough that a jittered secure person stays secure.
STYLE_JITTER = 0.07


def mix_in_words(mix: Mapping[str, float]) -> str:
    """A style mix as shares in words: "56% secure, 19% anxious, 11.5% avoidant, 13.5% fearful".

    Weights are normalised; a share is shown to one decimal only where it has one, so that the
    shares shown add up to 100.
    """
    total = sum(float(w) for w in mix.values())
    parts = []
    for style, weight in mix.items():
        share = f"{100 * float(weight) / total:.1f}".removesuffix(".0")
        parts.append(f"{share}% {style}")
    return ", ".join(parts)


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


def draw_continuum(
    style: Style, n: int, rng: np.random.Generator, norms: Mapping[str, float] = TRAIT_NORMS
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` people from the population's continuum, restricted to ``style``'s quadrant.

    Anxiety and avoidance are a bivariate normal with ``norms``' means, standard deviations and
    correlation, clipped to [0, 1]; draws outside the quadrant (``classify``) are rejected, so
    the people of a style are the part of the continuum that falls in its quadrant.

    Returns
    -------
    anxiety, avoidance : numpy.ndarray
        Two arrays of shape ``(n,)`` in [0, 1], each point classified as ``style``.

    """
    rho = norms["correlation"]
    kept_anx: list[np.ndarray] = [np.empty(0)]  # n may be 0: a style no one was drawn from
    kept_avo: list[np.ndarray] = [np.empty(0)]
    found = 0
    while found < n:
        batch = 4 * (n - found) + 64
        z = rng.standard_normal((2, batch))
        anxiety = np.clip(norms["anxiety_mean"] + norms["anxiety_sd"] * z[0], 0.0, 1.0)
        avoidance = np.clip(
            norms["avoidance_mean"]
            + norms["avoidance_sd"] * (rho * z[0] + np.sqrt(1.0 - rho * rho) * z[1]),
            0.0,
            1.0,
        )
        inside = classify(anxiety, avoidance) == style.label
        kept_anx.append(anxiety[inside])
        kept_avo.append(avoidance[inside])
        found += int(inside.sum())
    return np.concatenate(kept_anx)[:n], np.concatenate(kept_avo)[:n]


def draw_population(
    mix: Mapping[str, float], n_couples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``2 * n_couples`` people from a style mix and pair them at random.

    The mix sets how many people fall in each style's quadrant; within it, a person's anxiety
    and avoidance are drawn from the population's continuum (``draw_continuum``, ``TRAIT_NORMS``),
    not jittered around the style's preset: a population has people of every degree, and the
    two dimensions correlate. (Couples of named styles, ``draw_traits``, keep the presets.)

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
        Traits, each point in its style's quadrant.

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
        anxiety[sel], avoidance[sel] = draw_continuum(style, int(sel.sum()), rng)
    # Random pairing: people are drawn independently, so consecutive draws are a random pairing.
    names = np.array([s.label for s in styles_enum])[idx]
    return (
        names.reshape(2, n_couples),
        anxiety.reshape(2, n_couples),
        avoidance.reshape(2, n_couples),
    )


def draw_care(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Each person's caregiving apart from attachment: ``exp(CARE_SD z)``, median 1."""
    return np.exp(CARE_SD * rng.standard_normal(shape))
