"""The nine phenomena the model must show (docs/ODD.md, section 1), one test each.

Every test runs at least 200 couples with a fixed seed, so it is deterministic: it cannot flake.
The tolerances say how far the model may drift (after a deliberate recalibration) before the
phenomenon counts as lost; each is explained where it is used, next to the value the current
defaults give. "Broken" means spiraling or dissolved: a couple that spirals long enough
dissolves, so raising a lever may move couples from the first label to the second without making
anything better.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim import Setup, simulate
from sim.engine.rules import habituation_after_reassurance, seek_probability
from sim.outcomes import broken
from sim.params import DYNAMICS, INTERVENTIONS
from sim.simulation import build_kernel

pytestmark = pytest.mark.slow


def broken_share(result) -> float:
    return float(np.mean(broken(result.labels)))


def pairing(a: str, b: str, couples: int = 400, seed: int = 11, days: int = 180, **kwargs):
    return simulate(Setup(partner_a={"style": a}, partner_b={"style": b}, couples=couples,
                          days=days, seed=seed, **kwargs))  # fmt: skip


def test_1_secure_couples_are_stable_and_ask_now_and_then():
    result = pairing("secure", "secure")
    c = result.couples
    rate = (c["requests_a"] + c["requests_b"]) / 2 / 180
    # Healthy reassurance exists: a secure person asks more than once a month and less than once
    # a day on average (the source article's "occasional, natural"; defaults give about 0.14).
    assert 1 / 30 < rate.mean() < 1.0, rate.mean()
    # No sustained oscillation: nobody asks even daily in the last month.
    last = np.maximum(c["request_rate_last_30d_a"], c["request_rate_last_30d_b"])
    assert last.max() < 1.0, last.max()
    # Almost none dissolve (at most 2%: alternatives give every couple a small chance to split
    # that does not run through distress, about the married base rate of 1-3% a year, Rosenfeld
    # 2014; defaults 1.25%) and nearly all are stable (at least 95%).
    assert result.outcomes["dissolved"] <= 0.02 * len(rate), result.outcomes
    assert result.outcomes["stable"] >= 0.95 * len(rate), result.outcomes
    # Asking helps: answered requests are most of them, and trust ends above where it began.
    assert c["answered_a"].sum() > 0.8 * c["requests_a"].sum(), "most requests answered"
    assert np.median(c["trust_a"]) > np.median(c["start_trust_a"]), "trust grows"


def test_2_anxious_with_avoidant_escalates():
    result = pairing("anxious", "avoidant")
    c = result.couples
    together = c["dissolved_day"] < 0
    first, last = c["request_rate_first_30d_a"], c["request_rate_last_30d_a"]
    # The anxious partner asks at least as often at the end as at the start (defaults: 2.43 a
    # day in the first month, 2.57 in the last, close to the most an anxious person asks: the
    # spiral is reached within weeks), and far above a secure person's rate.
    assert last[together].mean() >= 0.95 * first[together].mean(), (first.mean(), last.mean())
    assert last[together].mean() > 1.0, last[together].mean()
    # Relief, read from the relief state, gets shorter: the mean hours until relief has halved
    # fall by at least 5% from the first month to the last (defaults: 14.6 to 12.4 hours, 15%).
    both = np.isfinite(c["relief_hours_first_30d_a"]) & np.isfinite(c["relief_hours_last_30d_a"])
    assert both.sum() > 200, f"only {both.sum()} seekers had relief episodes in both months"
    first_hours = c["relief_hours_first_30d_a"][both].mean()
    last_hours = c["relief_hours_last_30d_a"][both].mean()
    assert last_hours < 0.95 * first_hours, (first_hours, last_hours)
    # Trust erodes for the seeker (defaults: 0.54 to 0.32).
    assert c["trust_a"].mean() < c["start_trust_a"].mean() - 0.1, c["trust_a"].mean()
    # Most such couples spiral or dissolve (defaults: about 98%; the bound leaves room).
    assert broken_share(result) > 0.6, broken_share(result)


def test_3_secure_partner_buffers_anxious_one():
    result = pairing("anxious", "secure")
    c = result.couples
    first, last = c["request_rate_first_30d_a"], c["request_rate_last_30d_a"]
    # The anxious partner's requests fall over the months, by at least 20% on average
    # (defaults: 1.08 to 0.84 a day, 22%), and their trust ends above where it began (0.54 to
    # 0.83).
    assert first.mean() > 0.3, first.mean()
    assert last.mean() < 0.8 * first.mean(), (first.mean(), last.mean())
    assert c["trust_a"].mean() > c["start_trust_a"].mean() + 0.1, c["trust_a"].mean()
    # Buffered, not cured: the anxious person still asks several times as often as the secure
    # partner (at least three times; defaults: 6.7), and few couples break (defaults: 4%).
    ratio = c["requests_a"].sum() / max(c["requests_b"].sum(), 1)
    assert ratio > 3, ratio
    assert broken_share(result) < 0.2, broken_share(result)


LEVERS = {
    "reassurance_frequency": [1.0, 2.0, 4.0, 6.0, 9.0, 12.0],
    "relief_decay": [0.25, 0.5, 1.0, 2.0, 4.0, 10.0],
    "exhaustion_rate": [0.0, 0.04, 0.08, 0.15, 0.3, 0.5],
}


def _lever_shares(lever: str, partner: dict) -> list[float]:
    shares = []
    for value in LEVERS[lever]:
        result = simulate(
            Setup(
                partner_a={"style": "anxious"},
                partner_b=partner,
                dynamics={lever: value},
                couples=300,
                days=180,
                seed=3,
            )
        )
        shares.append(broken_share(result))
    return shares


@pytest.mark.parametrize("lever", list(LEVERS))
def test_4_each_lever_is_monotone(lever):
    # An anxious seeker with a partner halfway to avoidant, so that every lever has room to move
    # the outcome. Common random numbers: same seed, same couples, same draws; only the lever
    # differs. Monotone means never lower, with zero tolerance.
    shares = _lever_shares(lever, {"style": "secure", "avoidance": 0.5})
    assert all(b >= a for a, b in itertools.pairwise(shares)), shares
    # And the lever matters: across its range the share moves by at least 30 points.
    assert shares[-1] - shares[0] >= 0.3, shares


def test_5_plane_has_a_sharp_boundary():
    grid = np.linspace(0.0, 1.0, 11)
    reps = 20
    mesh = np.meshgrid(grid, grid, indexing="ij")
    anxiety, avoidance = (np.repeat(g.ravel(), reps) for g in mesh)
    n = anxiety.size
    result = simulate(Setup(
        partner_a={"style": "secure", "anxiety": anxiety, "avoidance": np.full(n, 0.15)},
        partner_b={"style": "secure", "anxiety": np.full(n, 0.15), "avoidance": avoidance},
        couples=n, days=180, seed=5,
    ))  # fmt: skip
    share = broken(result.labels).reshape(11, 11, reps).mean(axis=2)
    # Stable in the low corner, spiraling in the high corner. Pooled over the low corner's 320
    # couples at most 5% broken; no cell of 20 above 3 (alternatives give every couple a small
    # chance to split, about 1-3% a year, so 2 of 20 in one of 16 cells is ordinary binomial
    # noise: P(at least 2 of 20) is about 0.1 per cell at a 3% rate).
    assert share[:4, :4].mean() <= 0.05, share[:4, :4]
    assert share[:4, :4].max() <= 0.15, share[:4, :4]
    assert share[9:, 8:].min() >= 0.9, share[9:, 8:]
    # Sharp: along the row of a very anxious seeker (anxiety 0.9) the share climbs from at most
    # 10% to at least 90% within 0.4 of partner avoidance (four grid steps).
    row = share[9]
    low = np.max(np.flatnonzero(row <= 0.1))
    high = np.min(np.flatnonzero(row >= 0.9))
    assert 0 < high - low <= 4, row

    # The boundary runs diagonally: a more anxious seeker tips at a lower partner avoidance.
    def tipping(r):
        return int(np.argmax(share[r] >= 0.5)) if np.any(share[r] >= 0.5) else 11

    assert tipping(10) <= tipping(8) <= tipping(6), (tipping(10), tipping(8), tipping(6))
    assert tipping(10) < tipping(6), (tipping(10), tipping(6))


def test_6_low_anxiety_keeps_relief_high_anxiety_rebounds():
    # 200 couples: partner A low anxiety (0.1), partner B high anxiety (0.9), both after the same
    # history of 20 answered requests. No stress, no asking, no affection: one reassurance pulse
    # (relief 0.35) and nothing else, so the test reads the relief and rebound rules alone.
    n = 200
    kern, _ = build_kernel(Setup(
        partner_a={"style": "secure", "anxiety": 0.1, "avoidance": 0.1},
        partner_b={"style": "anxious", "anxiety": 0.9, "avoidance": 0.1},
        dynamics={"stress_rate": 0.0, "reassurance_frequency": 0.0, "affection_rate": 0.0},
        couples=n, days=10, seed=1,
    ))  # fmt: skip
    anxiety = kern.state("anxiety")
    habituation = np.zeros((2, n))
    for _ in range(20):
        habituation = habituation_after_reassurance(
            habituation, 1.0, 0.03, anxiety, DYNAMICS["secure_habituation"].default
        )
    kern.state("habituation")[:] = habituation
    kern.state("trust")[:] = 0.2  # keeps the secure person's security off its ceiling of 1
    kern.advance(1)  # settle security on its own baseline first
    baseline = kern.state("security").copy()
    kern.state("relief")[:] = 0.35
    excess = []
    for _ in range(5):
        kern.advance(1)
        excess.append(kern.state("security") - baseline)
    excess = np.array(excess)  # (day, partner, couple)
    # Low anxiety keeps the relief: after a day still at least twice the lift of the
    # high-anxiety partner, and never more than a rounding hair below its start.
    assert excess[:, 0].min() >= -1e-3, excess[:, 0].min()
    assert np.all(excess[0, 0] > 2 * np.maximum(excess[0, 1], 1e-6)), "low anxiety keeps relief"
    # High anxiety rebounds: within five days felt security dips below its starting level
    # (defaults: a dip of about 0.003; the bound 0.002 is far above float rounding).
    assert np.all(excess[:, 1].min(axis=0) < -0.002), excess[:, 1].min(axis=0).max()
    # And the rebound matters: the dip brings the anxious person closer to asking again.
    # (anxiety, avoidance, withdrawal, asking norm, trust, frequency, threshold, softness,
    # routine asking, discouragement, the four asking coefficients, dt), at the defaults
    names = ("secure_asking", "withdrawn_asking", "norm_asking", "fearful_asking")
    coefficients = tuple(DYNAMICS[n].default for n in names)
    args = (0.9, 0.1, 0.0, 0.6, 0.2, 4.0, 0.6, 0.1, 0.05, 0.0, *coefficients, 1 / 24)
    before = seek_probability(baseline[1], *args)
    dip = seek_probability(baseline[1] + excess[:, 1].min(axis=0), *args)
    assert np.all(dip > before), "the rebound's dip does not raise asking"


@pytest.mark.parametrize("kind", list(INTERVENTIONS))
def test_7_each_intervention_helps_some_couples_not_all(kind):
    # Common random numbers: same seed, same 400 couples; the strategy starts on day 60.
    base = pairing("anxious", "avoidant", seed=7)
    helped = pairing("anxious", "avoidant", seed=7, interventions=[{"kind": kind, "day": 60}])
    before, after = broken_share(base), broken_share(helped)
    # Lower by at least 1 percentage point (4 couples of 400): with identical draws the
    # difference is the strategy's own doing. On this pairing, nearly every couple broken at
    # default levers, the four strategies other than therapy move only 1 to 3 points and therapy
    # about 45 (a documented weakness, docs/ODD.md section 11).
    assert after <= before - 0.01, (kind, before, after)
    # Not for every couple: some couples stay broken even with help.
    assert after >= 0.1, (kind, after)


def test_8_levers_tip_a_responsive_partners_couple_through_exhaustion():
    # The source article's own cycle: an anxious seeker and a secure, responsive partner.
    for lever in LEVERS:
        shares, exhaustion = [], []
        for value in (LEVERS[lever][0], LEVERS[lever][-1]):
            result = simulate(Setup(partner_a={"style": "anxious"},
                                    partner_b={"style": "secure"}, dynamics={lever: value},
                                    couples=300, days=180, seed=4))  # fmt: skip
            shares.append(broken_share(result))
            exhaustion.append(result.couples["exhaustion_b"].mean())
        # From mostly stable to broken for many across the lever's range (defaults: about 0.0 to
        # 0.5 for relief decay, 0.0-0.1 to 0.9-1.0 for the other two) ...
        assert shares[0] < 0.25 and shares[1] > 0.4, (lever, shares)
        # ... through the partner's exhaustion: it ends at least twice as high.
        assert exhaustion[1] > 2 * exhaustion[0] + 0.02, (lever, exhaustion)


def test_9_in_a_spiral_both_partners_end_less_satisfied_than_they_began():
    result = pairing("anxious", "avoidant", seed=9)
    c = result.couples
    spiral = result.labels == "spiraling"
    assert spiral.sum() > 100, spiral.sum()
    for tag in "ab":
        begin = c[f"start_satisfaction_{tag}"][spiral].mean()
        end = c[f"satisfaction_{tag}"][spiral].mean()
        # Both the seeker and the withdrawing partner lose at least 0.05 (defaults: 0.71 to 0.31
        # for the seeker, 0.71 to 0.46 for the partner).
        assert end < begin - 0.05, (tag, begin, end)
