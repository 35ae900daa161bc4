"""Directional tests of the mechanisms added in model revision 2 (docs/ODD.md, section 7).

Each test compares two runs that differ in one thing only: same seed, same couples, same draws
(common random numbers), so a difference is the mechanism's own doing. Each states its tolerance
and the value the current defaults give, so that a recalibration that keeps the direction passes
and one that loses it fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import Setup, simulate
from sim.engine import rules as r
from sim.engine.kernel import DAILY_VARS, p_row
from sim.outcomes import broken, seeker_partner
from sim.params import DYNAMICS
from sim.simulation import population, strategy_effects
from sim.styles import LITERATURE_MIX, classify

pytestmark = pytest.mark.slow


def run(a="anxious", b="secure", couples=300, days=180, seed=21, **kwargs):
    partner_a = a if isinstance(a, dict) else {"style": a}
    partner_b = b if isinstance(b, dict) else {"style": b}
    return simulate(Setup(partner_a=partner_a, partner_b=partner_b, couples=couples, days=days,
                          seed=seed, **kwargs))  # fmt: skip


# The reassurer's side -------------------------------------------------------------------------


def test_answering_costs_the_answerer():
    cheap = run(dynamics={"exhaustion_rate": 0.0})
    costly = run(dynamics={"exhaustion_rate": 0.3})
    # The answering partner ends more exhausted and less satisfied (defaults: 0.00 vs about
    # 0.4 exhaustion, satisfaction down by about 0.15); at least 0.05 either way.
    assert costly.couples["exhaustion_b"].mean() > cheap.couples["exhaustion_b"].mean() + 0.1
    assert (costly.couples["satisfaction_b"].mean()
            < cheap.couples["satisfaction_b"].mean() - 0.05)  # fmt: skip
    # ... and their answers turn colder (mean warmth received by the seeker falls by 0.05+).
    assert (np.nanmean(costly.couples["answer_warmth_a"])
            < np.nanmean(cheap.couples["answer_warmth_a"]) - 0.05)  # fmt: skip


def test_a_cold_answer_can_hurt_more_than_silence():
    # With the default hurts, a fully cold answer (warmth 0) raises threat more than a rebuff.
    hurt = DYNAMICS["secure_hurt"].default
    rebuffed = r.threat_after_rebuff(0.0, 1.0, 0.12, 0.85, hurt)
    cold = r.threat_after_cold_answer(0.0, 1.0, 0.0, 0.15, 0.85, hurt)
    warm = r.threat_after_cold_answer(0.0, 1.0, 1.0, 0.15, 0.85, hurt)
    assert cold > rebuffed > warm == 0.0


def test_exhaustion_feeds_withdrawal_even_in_a_secure_partner():
    # A request received by an exhausted secure person makes them pull back more than a rested one.
    ease = DYNAMICS["clear_ease"].default
    rested = r.withdrawal_after_request(0.0, 1.0, 0.12, 0.15, 0.0, 0.4, 0.2, ease)
    drained = r.withdrawal_after_request(0.0, 1.0, 0.12, 0.15, 0.8, 0.4, 0.2, ease)
    assert drained > 2 * rested


def test_being_pursued_lowers_an_avoidant_partners_satisfaction():
    # Same avoidant partners, pursued by an anxious seeker or living with a secure one.
    pursued = run(a="anxious", b="avoidant")
    left_alone = run(a="secure", b="avoidant")
    # Withdrawal is the avoidant partner's response to being pursued (defaults: about 0.3 vs
    # 0.0) and it costs them satisfaction (defaults: about 0.08 lower).
    assert pursued.couples["withdrawal_b"].mean() > left_alone.couples["withdrawal_b"].mean() + 0.1
    assert (pursued.couples["satisfaction_b"].mean()
            < left_alone.couples["satisfaction_b"].mean() - 0.03)  # fmt: skip


# Caregiving from one's own attachment ----------------------------------------------------------


def test_the_answerers_own_attachment_shapes_their_answers():
    # Same anxious seekers; the partner differs only in anxiety (then only in avoidance).
    calm = run(b={"style": "secure", "anxiety": 0.15, "avoidance": 0.15})
    anxious = run(b={"style": "secure", "anxiety": 0.9, "avoidance": 0.15})
    avoidant = run(b={"style": "secure", "anxiety": 0.15, "avoidance": 0.9})
    share = {
        name: res.couples["answered_a"].sum() / res.couples["requests_a"].sum()
        for name, res in (("calm", calm), ("anxious", anxious), ("avoidant", avoidant))
    }
    warmth = {
        name: np.nanmean(res.couples["answer_warmth_a"])
        for name, res in (("calm", calm), ("anxious", anxious), ("avoidant", avoidant))
    }
    # The revision-1 model answered identically whatever the answerer's anxiety; now an anxious
    # caregiver answers readily but less warmly and pays more (Kunce & Shaver 1994) ...
    assert not np.array_equal(calm.couples["answered_a"], anxious.couples["answered_a"])
    assert warmth["anxious"] < warmth["calm"] - 0.05, warmth
    assert anxious.couples["exhaustion_b"].mean() > calm.couples["exhaustion_b"].mean()
    # ... and an avoidant one answers less often and more coolly (defaults: about 0.95 vs 0.55
    # of requests answered).
    assert share["avoidant"] < share["calm"] - 0.2, share
    assert warmth["avoidant"] < warmth["calm"] - 0.1, warmth


# Healthy reassurance ---------------------------------------------------------------------------


def test_healthy_asking_by_style_with_the_same_partner():
    rates = {}
    for style in ("secure", "anxious", "avoidant"):
        res = run(a=style, b="secure")
        rates[style] = res.couples["requests_a"].mean() / 180
    # Secure people ask now and then: more than once a month, less than once a day (defaults:
    # about 0.07 a day); anxious people several times as often (at least 3x; defaults: about
    # 10x); avoidant people less than secure ones.
    assert 1 / 30 < rates["secure"] < 1.0, rates
    assert rates["anxious"] > 3 * rates["secure"], rates
    assert rates["avoidant"] < rates["secure"], rates
    # And asking helps the secure: their requests are answered and relief follows.
    res = run(a="secure", b="secure")
    assert res.couples["answered_a"].sum() > 0.85 * res.couples["requests_a"].sum()


# Fearful push-pull -----------------------------------------------------------------------------


def test_fearful_people_discount_answers_and_pull_back():
    # The push-pull rules themselves: discount and withdrawal after an answer rise with both traits.
    assert r.answer_discount(0.85, 0.85, 0.5) < r.answer_discount(0.85, 0.15, 0.5) < 1.0
    pullback = DYNAMICS["pullback"].default
    assert (r.withdrawal_after_answer(0.0, 1.0, 0.5, 0.85, 0.85, pullback)
            > 5 * r.withdrawal_after_answer(0.0, 1.0, 0.5, 0.85, 0.15, pullback))  # fmt: skip
    # In runs: a fearful person with a secure partner pulls back more after being answered than
    # with push-pull switched off, and their partner feels it (lower security).
    on = run(a="fearful", b="secure")
    off = run(a="fearful", b="secure", dynamics={"push_pull": 0.0})
    assert on.couples["withdrawal_a"].mean() > off.couples["withdrawal_a"].mean()
    assert on.couples["security_b"].mean() < off.couples["security_b"].mean()


# Culture ---------------------------------------------------------------------------------------


def test_cultures_set_expression_and_a_mismatch_acts():
    matched = Setup(partner_a={"style": "anxious", "culture": "expressive"},
                    partner_b={"style": "secure", "culture": "expressive"}, couples=300,
                    days=180, seed=22)  # fmt: skip
    mixed = Setup(partner_a={"style": "anxious", "culture": "expressive"},
                  partner_b={"style": "secure", "culture": "reserved"}, couples=300, days=180,
                  seed=22)  # fmt: skip
    pop = population(mixed)
    # Expression is drawn from each person's culture: words for expressive, actions for reserved.
    assert pop.expression[0].mean() < 0.4 < 0.6 < pop.expression[1].mean()
    assert pop.expression[0].std() > 0.05
    one, two = simulate(matched), simulate(mixed)
    # The same couples (common random numbers) fare worse across cultures: more broken
    # (defaults: about 5% vs 25%) and a less satisfied seeker.
    assert broken(two.labels).mean() > broken(one.labels).mean() + 0.05
    assert two.couples["satisfaction_a"].mean() < one.couples["satisfaction_a"].mean() - 0.02


# History -------------------------------------------------------------------------------------


def test_couples_start_from_a_drawn_history():
    pop = population(Setup(couples=1000, seed=23))
    for name in ("trust", "satisfaction", "commitment"):
        values = pop.people[name]
        # Spread as the parameters say around the mean: history_spread 0.12 (a little less after
        # clipping); starting satisfaction adds the lasting appraisal (sd 0.15), so its sd is
        # about sqrt(0.12² + 0.15²) = 0.19; seen through the start's idealisation (0.1 of the
        # gap to 1) its mean is about 0.7 + 0.1 (1 - 0.7) = 0.73 and its sd about 0.9 of that.
        expected = 0.9 * 0.19 if name == "satisfaction" else 0.12
        assert expected - 0.04 < values.std() < expected + 0.02, (name, values.std())
        assert abs(values.mean() - {"trust": 0.55, "satisfaction": 0.73,
                                    "commitment": 0.7}[name]) < 0.025  # fmt: skip
    # Partners share part of their history: their starting trust is correlated (about 0.5).
    assert np.corrcoef(pop.people["trust"])[0, 1] > 0.3
    # The lasting appraisal is there from day 1: it correlates with starting satisfaction
    # (about 0.78 = 0.15 / 0.19), so where a person starts predicts where they settle.
    assert (
        np.corrcoef(pop.people["appraisal"].ravel(), pop.people["satisfaction"].ravel())[0, 1] > 0.5
    )


def test_starting_trust_shapes_the_first_months():
    # Near the boundary (anxious seeker, partner halfway to avoidant) a better history means
    # fewer requests at first and fewer broken couples at the end (defaults: 1.2 vs 2.2 requests
    # a day in the first month; 65% vs 68% broken: the history's pull fades as the couple's own
    # dynamics take over, so at the end the difference is small but, with the same draws, real).
    near = {"style": "secure", "avoidance": 0.5}
    low = run(b=near, dynamics={"start_trust": 0.3})
    high = run(b=near, dynamics={"start_trust": 0.8})
    assert (high.couples["request_rate_first_30d_a"].mean()
            < low.couples["request_rate_first_30d_a"].mean() - 0.5)  # fmt: skip
    assert broken(low.labels).mean() > broken(high.labels).mean()


def test_satisfaction_is_off_its_ceiling_and_spreads():
    runs = [simulate(Setup(population={"mix": dict(LITERATURE_MIX), "couples": 3000}, days=365,
                           seed=seed)).couples for seed in (24, 25)]  # fmt: skip

    def pooled(name):
        return np.concatenate([c[f"{name}_{tag}"] for c in runs for tag in "ab"])

    satisfaction = pooled("satisfaction")
    # Fewer than 10% of people end above 0.97 and the spread is survey-like (sd above 0.1).
    assert np.mean(satisfaction > 0.97) < 0.10
    assert satisfaction.std() > 0.1
    # Own avoidance and own anxiety both go with lower satisfaction (Li & Chan 2012).
    anxiety, avoidance = pooled("anxiety"), pooled("avoidance")
    r_anxiety = np.corrcoef(anxiety, satisfaction)[0, 1]
    r_avoidance = np.corrcoef(avoidance, satisfaction)[0, 1]
    assert r_anxiety < -0.1, r_anxiety
    assert r_avoidance < -0.1, r_avoidance
    # ... avoidance at least as strongly. On the continuum the traits correlate +0.3 and the two
    # correlations come close (defaults, married, seeds 24 and 25 pooled: about -0.31 against
    # -0.32; Li & Chan find avoidance clearly stronger: a documented partial miss, docs/ODD.md
    # section 11). With 12,000 people the standard error of the difference is about 0.01.
    assert r_avoidance < r_anxiety, (r_anxiety, r_avoidance)
    res_couples = runs[0]
    # Satisfaction keeps part of its history: where a person started predicts where they are a
    # year later (defaults: r about 0.57; published one-year retest 0.6-0.8, Lavner & Bradbury
    # 2010: the model keeps less, see the ODD's misses), among couples still together.
    together = np.tile(res_couples["dissolved_day"] < 0, 2)
    start = np.concatenate([res_couples["start_satisfaction_a"],
                            res_couples["start_satisfaction_b"]])  # fmt: skip
    first = np.concatenate([res_couples["satisfaction_a"], res_couples["satisfaction_b"]])
    retest = np.corrcoef(start[together], first[together])[0, 1]
    assert retest > 0.25, retest


# Treatments --------------------------------------------------------------------------------------


def _therapy(**item):
    return Setup(
        partner_a={"style": "anxious"},
        partner_b={"style": "avoidant"},
        couples=300,
        days=240,
        seed=25,
        interventions=[{"kind": "therapy", "day": 30, **item}],
    )


def test_a_bigger_dose_helps_more():
    weak = simulate(_therapy(dose=0.25))
    strong = simulate(_therapy(dose=2.0))
    assert broken(strong.labels).mean() < broken(weak.labels).mean() - 0.1


def test_treatment_works_for_many_couples_not_all_and_stays_in_published_range():
    effects = strategy_effects(_therapy())
    # Couple therapy against no treatment: d about 0.6-1.3 (Shadish & Baldwin 2003); half to two
    # thirds of distressed couples recover (Johnson et al. 1999). Tolerances: d 0.5 to 2.0,
    # recovered 35% to 85% (defaults: about 1.4 and 60%).
    d = effects["seeker_satisfaction_d"]["total"]
    assert 0.5 < d < 2.0, effects
    assert 0.35 < effects["recovered_share"] < 0.85, effects
    # The split adds up, and therapy acts through both its own mechanism and trait change.
    points = effects["broken_points"]
    assert points["total"] == pytest.approx(points["own_mechanism"] + points["trait_change"])
    assert points["own_mechanism"] < 0 and points["trait_change"] < 0


def test_gains_fade_after_the_end_and_some_couples_relapse():
    # Follow the same couples two years, treated for 16 weeks from day 30.
    setup = _therapy()
    setup.days = 730
    res = simulate(setup)
    gain = res.kernel.C[2 + 4]  # the therapy benefit of each couple, at the end
    engagement = res.kernel.P[-2]
    relapses = res.kernel.P[-1] > 0.5
    # Relapsers have lost most of their gain, the others kept most of it.
    assert np.median(gain[relapses] / engagement[relapses]) < 0.1
    assert np.median(gain[~relapses] / engagement[~relapses]) > 0.4
    assert 0.15 < relapses.mean() < 0.45


def test_trait_change_is_bounded_toward_the_norm_and_spares_a_secure_partner():
    base, norm, cap = 0.9, 0.4, 0.2
    assert r.treated_trait(base, 1.0, norm, cap, 1.0) == pytest.approx(0.7)
    assert r.treated_trait(0.5, 1.0, norm, cap, 1.0) == pytest.approx(0.4)
    assert r.treated_trait(0.15, 1.0, norm, cap, 1.0) == 0.15
    # Treatment alone (the working model's revision by experience and by life events, 7.20, off:
    # they move anyone).
    still = {"working_model_change": 0.0, "life_events_spread": 0.0}
    res = simulate(Setup(partner_a={"style": "anxious"}, partner_b={"style": "secure"},
                         couples=100, days=200, seed=26, dynamics=still,
                         interventions=[{"kind": "therapy", "day": 0}]))  # fmt: skip
    c = res.couples
    np.testing.assert_array_equal(c["final_anxiety_b"], c["anxiety_b"])
    assert np.all(c["final_anxiety_a"] >= 0.4 - 1e-12)
    assert np.all(c["final_anxiety_a"] >= c["anxiety_a"] - 0.2 - 1e-12)


# Honest measures -------------------------------------------------------------------------------


def test_relief_hours_are_read_from_the_relief_state():
    # Without habituation and rebound, relief decays at a fixed rate, so its half-life (hours
    # until relief halves) must not shorten, however often people ask; the old measure (hours to
    # the next request) still follows the request rate.
    # Unasked affection is off too: a gesture adds relief during an episode and lengthens it.
    res = run(
        a="anxious",
        b="avoidant",
        dynamics={"habituation_gain": 0.0, "rebound": 0.0, "affection_rate": 0.0},
    )
    c = res.couples
    both = np.isfinite(c["relief_hours_first_30d_a"]) & np.isfinite(c["relief_hours_last_30d_a"])
    first = c["relief_hours_first_30d_a"][both].mean()
    last = c["relief_hours_last_30d_a"][both].mean()
    assert last == pytest.approx(first, rel=0.05)
    # ln 2 / relief_decay days is the half-life of an undisturbed relief: 16.6 hours; episodes
    # end at the first whole hour at or under half, so the mean lies within an hour of it.
    assert 16.0 < first < 18.5
    # Censored episodes are counted, not dropped.
    assert c["relief_censored_first_30d_a"].sum() > 0


def test_request_rate_slope_measures_the_trend():
    res = run(a="anxious", b="secure")
    seeker, _ = seeker_partner(res.couples, "request_rate_slope")
    first = res.couples["request_rate_first_30d_a"]
    last = res.couples["request_rate_last_30d_a"]
    # Buffered seekers ask less over time: the slope is negative on average, and it agrees in
    # sign with the change from the first month to the last for most couples.
    assert np.nanmean(seeker) < 0
    agree = np.sign(res.couples["request_rate_slope_a"]) == np.sign(last - first)
    assert agree.mean() > 0.6


def test_dissolution_depends_on_the_relationship():
    mix = {"mix": dict(LITERATURE_MIX), "couples": 2000}
    dating = simulate(Setup(population=mix, days=365, seed=27, relationship="dating"))
    married = simulate(Setup(population=mix, days=365, seed=27, relationship="married"))
    share = {
        name: np.mean(res.couples["dissolved_day"] >= 0)
        for name, res in (("dating", dating), ("married", married))
    }
    # One-year dissolution: married couples about 1-3% a year, unmarried far more (Rosenfeld
    # 2014). Tolerances: married below 5%, dating between 5% and 40%, dating well above married.
    assert share["married"] < 0.05, share
    assert 0.05 < share["dating"] < 0.40, share
    assert share["dating"] > 3 * share["married"], share


# Commitment, leaving and outside events (revision 2.2) ----------------------------------------


def _married_mix(seed, couples, **dynamics):
    """A married literature-mix population's couple table after one year."""
    mix = {"mix": dict(LITERATURE_MIX), "couples": couples}
    return simulate(Setup(population=mix, days=365, seed=seed, relationship="married",
                          dynamics=dynamics)).couples  # fmt: skip


def _both(c, column):
    """Partner A's and partner B's values of ``column`` (``<column>_a``, ``<column>_b``) in one."""
    return np.concatenate([c[f"{column}_a"], c[f"{column}_b"]])


def _dating_population(seed=41, couples=2000, **dynamics):
    mix = {"mix": dict(LITERATURE_MIX), "couples": couples}
    return simulate(Setup(population=mix, days=365, seed=seed, relationship="dating",
                          dynamics=dynamics))  # fmt: skip


def test_anxious_dependence_keeps_unhappy_anxious_people_committed():
    # Rule: with the same satisfaction, a more anxious person's commitment settles higher; with
    # no dependence anxiety changes nothing.
    settle = [
        r.commitment_step(0.0, 0.4, 0.0, anxiety, 0.0, 0.05, 0.4, 0.0, 1.0)
        for anxiety in (0.1, 0.9)
    ]
    assert settle[1] > settle[0] + 0.15, settle
    assert r.commitment_step(0.0, 0.4, 0.0, 0.9, 0.0, 0.05, 0.0, 0.0, 1.0) == r.commitment_step(
        0.0, 0.4, 0.0, 0.1, 0.0, 0.05, 0.0, 0.0, 1.0
    )
    # Population (dating, 2,000 couples, one year), the same draws with and without dependence.
    # With it, anxiety no longer lowers commitment once avoidance is held fixed, while avoidance
    # does (defaults: standardised betas about -0.01 and -0.15, smaller than before revision 2.4
    # because commitment now also carries the quality of alternatives, which neither trait
    # touches; without dependence anxiety's is about -0.13), and the zero-order r(anxiety,
    # commitment) rises. Tolerances: about a third of each effect.
    betas, zero_order = {}, {}
    for dep in (0.0, 0.4):
        c = _dating_population(anxious_dependence=dep).couples
        anxiety = np.concatenate([c["anxiety_a"], c["anxiety_b"]])
        avoidance = np.concatenate([c["avoidance_a"], c["avoidance_b"]])
        commitment = np.concatenate([c["commitment_a"], c["commitment_b"]])
        z = [(x - x.mean()) / x.std() for x in (anxiety, avoidance, commitment)]
        design = np.column_stack([np.ones_like(z[0]), z[0], z[1]])
        betas[dep] = np.linalg.lstsq(design, z[2], rcond=None)[0][1:]
        zero_order[dep] = np.corrcoef(anxiety, commitment)[0, 1]
    assert betas[0.4][0] > -0.05, betas
    assert betas[0.4][1] < -0.1, betas
    assert betas[0.4][0] > betas[0.0][0] + 0.08, betas
    assert zero_order[0.4] > zero_order[0.0] + 0.08, zero_order


def test_leaving_is_a_daily_hazard_not_a_fixed_day():
    # Rule: while a partner wants out, a couple ends on a day with chance 1/dissolution_days.
    draws = np.random.default_rng(0).random(200_000)
    assert abs(r.leaves(1.0, draws, 60).mean() - 1 / 60) < 0.001  # binomial sd 0.0003
    assert r.leaves(0.0, draws, 60).sum() == 0
    # Population (dating, one year): break-ups are spread over the year, not a wave a fixed time
    # after the start, and the hazard falls with time together (Rosenfeld 2014). Defaults give a
    # hazard of 10.0% in the first four months and 3.7% in the last four (benchmarks/
    # life_events.py; 8.5% and 5.6% before dating couples' investments grew, revision 2.5);
    # neither may be zero.
    day = _dating_population().couples["dissolved_day"]
    n = len(day)

    def hazard(lo, hi):
        at_risk = n - np.sum((day >= 0) & (day < lo))
        return np.sum((day >= lo) & (day < hi)) / at_risk

    early, late = hazard(0, 120), hazard(245, 365)
    assert early > 1.5 * late > 0, (early, late)


def test_investments_grow_with_time_together_and_hold_commitment_up():
    # Rule: a day closes the share satisfaction * (1 - exp(-1/days)) of the gap to 1; investments
    # never fall, and a person with no satisfaction adds nothing.
    grown = r.investment_after_day(0.2, 0.8, 365.0)
    assert grown == pytest.approx(0.2 + 0.8 * 0.8 * (1 - np.exp(-1 / 365)), abs=1e-15)
    assert r.investment_after_day(0.2, 0.0, 365.0) == 0.2
    assert r.investment_after_day(0.2, 0.3, 365.0) < grown
    level = 0.1
    for _ in range(3 * 365):
        level = r.investment_after_day(level, 1.0, 365.0)
    assert 0.95 < level < 1.0  # 1 - 0.9 exp(-3) = 0.955
    # The same satisfaction with more investments holds commitment higher, by the weight.
    low, high = (r.commitment_step(0.0, 0.4, 0.0, 0.3, inv, 0.05, 0.4, 0.3, 1.0) for inv in (0, 1))
    assert high == pytest.approx(low + 0.95 * 0.3, abs=1e-12)
    assert r.commitment_step(0.0, 0.4, 0.0, 0.3, 1.0, 0.05, 0.4, 0.0, 1.0) == pytest.approx(low)


def test_investments_make_dating_break_ups_fall_with_time_together():
    # Population (dating literature mix, 2,000 couples, three years, seed 44), the same draws
    # with the dating preset's investments and without them (investment_weight 0). Rusbult
    # (1983) and Rosenfeld (2014): investments grow and the break-up rate falls with time
    # together. Measured: 19.4%, 7.9%, 4.3% a year with investments; 25.4%, 20.3%, 18.3%
    # without. Tolerances: year three below a third of year one with investments, above half of
    # it without (wide: year three has a few dozen break-ups).
    mix = {"mix": dict(LITERATURE_MIX), "couples": 2000}

    def yearly(**dynamics):
        setup = Setup(population=mix, days=3 * 365, seed=44, relationship="dating",
                      dynamics=dynamics)  # fmt: skip
        day = simulate(setup).couples["dissolved_day"]
        left, rates = len(day), []
        for year in range(3):
            ended = np.sum((day >= 365 * year) & (day < 365 * (year + 1)))
            rates.append(ended / left)
            left -= ended
        return rates

    invested, none = yearly(), yearly(investment_weight=0.0)
    assert invested[2] < invested[1] < invested[0], invested
    assert invested[2] < invested[0] / 3, invested
    assert none[2] > none[0] / 2, none


def test_appraisal_is_a_slow_walk_with_a_steady_spread():
    # Rule: many people walked for ten years keep the spread and correlate exp(-365/2000) = 0.83
    # a year apart (tolerances 0.01 and 0.03: 5,000 people).
    rng = np.random.default_rng(1)
    start = 0.15 * rng.standard_normal(5000)
    a = start.copy()
    for day in range(3650):
        a = r.appraisal_after_day(a, rng.standard_normal(5000), 2000.0, 0.15)
        if day == 364:
            year = a.copy()
    assert abs(a.std() - 0.15) < 0.01
    assert abs(np.corrcoef(start, year)[0, 1] - np.exp(-365 / 2000)) < 0.03
    # Population (married, one year): the longer the appraisal holds, the more a person's
    # satisfaction at the start predicts it at the end (an appraisal that holds 300 days gives
    # 0.21, the default 2,000 days 0.49, one that never moves 0.56). Tolerance: at least 0.1
    # apart with the same draws.
    retest = {}
    for days in (300, 36500):
        c = _married_mix(42, 1500, appraisal_days=days)
        retest[days] = np.corrcoef(_both(c, "start_satisfaction"), _both(c, "satisfaction"))[0, 1]
    assert retest[36500] > retest[300] + 0.1, retest


# People on a continuum; fearful asking (revision 2.3) --------------------------------------------


def test_a_population_is_a_continuum_with_correlated_traits():
    from sim.styles import draw_population

    styles, anxiety, avoidance = draw_population(LITERATURE_MIX, 10_000, np.random.default_rng(5))
    styles, anxiety, avoidance = styles.ravel(), anxiety.ravel(), avoidance.ravel()
    # Each person lies in their style's quadrant, and the shares follow the mix (binomial sd with
    # 20,000 people about 0.003; tolerance 0.01).
    assert np.all(classify(anxiety, avoidance) == styles)
    for style, share in LITERATURE_MIX.items():
        assert abs(np.mean(styles == style) - share) < 0.01, style
    # The two dimensions correlate positively, as ECR scores do (+0.1 to +0.4, Cameron, Finnegan &
    # Morry 2012; defaults +0.35: the continuum's 0.3 plus the fearful share); presets jittered by
    # 0.07 gave -0.27 with no fearful people.
    assert 0.2 < np.corrcoef(anxiety, avoidance)[0, 1] < 0.45
    # No empty band between styles: with presets nobody had a trait between 0.4 and 0.6; on the
    # continuum about a third do (defaults 36% on anxiety, 30% on avoidance); at least a fifth.
    assert np.mean((anxiety > 0.4) & (anxiety < 0.6)) > 0.2
    assert np.mean((avoidance > 0.4) & (avoidance < 0.6)) > 0.2
    # A population too small to have someone of every style still draws (a style with no one).
    tiny_styles, tiny_anxiety, _ = draw_population(LITERATURE_MIX, 1, np.random.default_rng(0))
    assert tiny_anxiety.shape == (2, 1) and len(set(tiny_styles.ravel())) <= 2


def test_a_populations_people_differ_in_how_acceptable_they_find_asking(monkeypatch):
    import sim.simulation as simulation

    # A population's asking norms spread around the culture's (sd ASKING_NORM_SD = 0.3 before
    # clipping to [0, 1]: 5,000 couples give mean 0.59 and sd 0.27, tolerance 0.02); a pairing
    # scenario's people keep their culture's norm (0.6, neutral), and so does a partner whose
    # norm is set outright.
    mix = {"mix": dict(LITERATURE_MIX), "couples": 5000}
    norms = population(Setup(population=mix, seed=3)).people["asking_norm"]
    assert abs(norms.mean() - 0.6) < 0.02 and abs(norms.std() - 0.27) < 0.02, norms.std()
    pair = population(Setup(partner_a={"style": "anxious"}, couples=50, seed=3))
    assert np.all(pair.people["asking_norm"] == 0.6)
    fixed = population(Setup(population=mix, partner_a={"asking_norm": 0.2}, seed=3))
    assert (
        np.all(fixed.people["asking_norm"][0] == 0.2) and fixed.people["asking_norm"][1].std() > 0.2
    )
    # Population (classroom mix, dating, one year, 1,000 couples, seed 7), with the same people:
    # with the spread, attachment is not the only lasting difference in asking, and
    # r(anxiety, requests a day) falls (this seed: 0.46 against 0.54 without; the calibration
    # target's published interval is 0.10 to 0.50). Tolerance: a fall of at least 0.04.
    found = {}
    for sd in (0.0, 0.3):
        monkeypatch.setattr(simulation, "ASKING_NORM_SD", sd)
        setup = Setup(population={"mix": dict(LITERATURE_MIX), "couples": 1000}, days=365, seed=7,
                      relationship="dating")  # fmt: skip
        c = simulate(setup).couples
        found[sd] = np.corrcoef(_both(c, "anxiety"), _both(c, "request_rate"))[0, 1]
    assert found[0.3] < found[0.0] - 0.04, found
    assert 0.1 < found[0.3] < 0.5, found


def test_anxiety_overrides_avoidant_deactivation_of_asking():
    # Rule: at the dismissing point (anxiety 0.15, avoidance 0.85) the override lifts asking from
    # almost nothing to very little (2.2% to 6.7% of the unsuppressed rate: 3.0 times); at the
    # fearful point (0.85, 0.85) from 2.2% to 58% (26 times).
    def ask(anxiety, avoidance, fearful):
        return r.seek_probability(0.3, anxiety, avoidance, 0.0, 0.6, 0.5, 4.0, 0.6, 0.1, 0.08,
                                  0.0, 0.5, 0.5, 0.4, fearful, 1 / 24)  # fmt: skip

    assert ask(0.15, 0.85, 1.0) < 3.5 * ask(0.15, 0.85, 0.0)
    assert ask(0.85, 0.85, 1.0) > 15 * ask(0.85, 0.85, 0.0)
    # Population (married, 2,000 couples, 180 days, the same draws with and without the
    # override): fearful people ask more than secure ones, as preoccupied people do (Brennan &
    # Carnelley 1999; defaults 0.43 against 0.24 a day), dismissing people least (0.12); without
    # the override fearful people ask less than secure ones (0.14 against 0.22). Tolerance: about
    # a third of each gap.
    rates = {}
    for fearful in (0.0, 1.0):
        c = simulate(Setup(population={"mix": dict(LITERATURE_MIX), "couples": 2000}, days=180,
                           seed=43, dynamics={"fearful_asking": fearful})).couples  # fmt: skip
        styles = np.concatenate([c["style_a"], c["style_b"]])
        asks = np.concatenate([c["requests_a"], c["requests_b"]]) / 180
        rates[fearful] = {style: asks[styles == style].mean() for style in LITERATURE_MIX}
    on, off = rates[1.0], rates[0.0]
    assert on["fearful"] > 1.3 * on["secure"], on
    assert on["avoidant"] < 0.7 * on["secure"], on
    assert off["fearful"] < off["secure"], off


# Revision 2.4: the relationship's career -------------------------------------------------------


def _married_year(seed=51, couples=800, **dynamics):
    mix = {"mix": dict(LITERATURE_MIX), "couples": couples}
    return simulate(Setup(population=mix, days=365, seed=seed, relationship="married",
                          dynamics=dynamics), record_daily=True)  # fmt: skip


def test_outside_events_are_partly_shared_by_the_partners():
    # Rule: the daily walk keeps its spread whatever the mix of shared and own events, since the
    # mix of two independent standard normals is standard normal again: after many steps from 0
    # the spread is appraisal_spread (20,000 walks, sd of the sd about 0.0008).
    rng = np.random.default_rng(5)
    walk = np.zeros(20_000)
    for _ in range(1500):
        walk = r.appraisal_after_day(walk, rng.standard_normal(20_000), 300.0, 0.15)
    assert abs(walk.std() - 0.15 * np.sqrt(1 - np.exp(-2 * 1500 / 300))) < 0.004
    # Population (married, one year, the same draws): partners' satisfaction correlates about
    # 0.25 among couples still together when each partner's outside events are their own and
    # about 0.6 at the default half shared (Kenny, Kashy & Cook 2006: partners' satisfaction is
    # strongly interdependent). Tolerance: half the difference.
    found = {}
    for share in (0.0, 0.5):
        c = _married_year(shared_stress=share).couples
        together = c["dissolved_day"] < 0
        found[share] = np.corrcoef(c["satisfaction_a"][together], c["satisfaction_b"][together])[
            0, 1
        ]
    assert found[0.5] > found[0.0] + 0.15, found
    assert found[0.5] > 0.4, found


def test_alternatives_lower_commitment_and_let_couples_who_are_not_distressed_leave():
    # Rule: at the same satisfaction a better alternative lowers where commitment settles, by
    # (1 - floor) x the alternative's quality; and someone fairly satisfied (0.6) wants out only
    # when an alternative is better than 0.6 - threshold (0.42) and commitment is low.
    plain = r.commitment_step(0.0, 0.6, 0.0, 0.2, 0.0, 0.3, 0.0, 0.0, 1.0)
    tempted = r.commitment_step(0.0, 0.6, 0.2, 0.2, 0.0, 0.3, 0.0, 0.0, 1.0)
    assert plain - tempted == pytest.approx(0.7 * 0.2)
    assert r.wants_out(0.6, 0.0, 0.5, 0.42, 0.6) == 0.0
    assert r.wants_out(0.6, 0.25, 0.5, 0.42, 0.6) == 1.0
    assert r.wants_out(0.6, 0.25, 0.7, 0.42, 0.6) == 0.0  # committed enough to stay
    # Population (dating, one year): without alternatives commitment is a copy of satisfaction
    # (r about 0.97, revision 2.3); with them about 0.6, near Le & Agnew's (2003) 0.68.
    # Tolerance: well apart from both. Investments (7.21), the third base, are held off here so
    # that the test sees the alternatives alone.
    found = {}
    for spread in (0.0, 0.15):
        c = _dating_population(couples=1000, alternatives_spread=spread,
                               investment_weight=0.0).couples  # fmt: skip
        together = c["dissolved_day"] < 0
        s = np.concatenate([c["satisfaction_a"][together], c["satisfaction_b"][together]])
        k = np.concatenate([c["commitment_a"][together], c["commitment_b"][together]])
        found[spread] = np.corrcoef(s, k)[0, 1]
    assert found[0.0] > 0.9, found
    assert 0.45 < found[0.15] < 0.8, found


def test_idealization_fades_so_satisfaction_declines_in_couples_who_stay():
    # Rule: the rosy view closes a share of the gap to 1 and fades as exp(-day / days).
    assert r.idealization_left(0.3, 0.0, 365.0) == pytest.approx(0.3)
    assert r.idealization_left(0.3, 365.0, 365.0) == pytest.approx(0.3 / np.e)
    # Population (married, one year, the same draws): among couples still together mean
    # satisfaction falls from day 90 to day 365 with the default idealisation (about -0.02) and
    # does not without it (trust and the working model still grow); Lavner & Bradbury 2010.
    # Tolerance: a difference of 0.01, about half the measured one.
    change = {}
    for ideal in (0.0, 0.3):
        res = _married_year(idealization=ideal)
        together = res.couples["dissolved_day"] < 0
        satisfaction = res.daily[:, DAILY_VARS.index("satisfaction")]
        change[ideal] = satisfaction[364][:, together].mean() - satisfaction[89][:, together].mean()
    assert change[0.3] < 0.0, change
    assert change[0.3] < change[0.0] - 0.01, change


def test_experience_revises_attachment_slowly_toward_what_the_partner_shows():
    # Rule: a partner more available than expected (trust above 1 - mean trait) moves earned
    # security up, less available moves it down; the trait moves by working_model_change x it.
    up = r.working_model_after_day(0.0, 0.9, 0.8, 0.2, 365.0)
    down = r.working_model_after_day(0.0, 0.2, 0.8, 0.2, 365.0)
    assert up > 0.0 > down
    assert r.revised_trait(0.8, 0.3, 0.15, 0.0) == pytest.approx(0.8 - 0.045)
    # Couples (one year), the partner's part alone (life events off: their walk, clipped at 1 for
    # people near the top, moves an anxious group's mean by more than the partner does): an
    # anxious person with a secure partner ends less anxious than they began; with an avoidant
    # partner who seldom answers, more anxious; with the revision off too, exactly as they began
    # (defaults: about -0.02 and +0.01). With life events on, the same couples' difference
    # between the two partners keeps its sign (common random numbers: the same walks).
    quiet = {"life_events_spread": 0.0}
    secure = run("anxious", "secure", couples=200, days=365, seed=52, dynamics=quiet).couples
    avoidant = run("anxious", "avoidant", couples=200, days=365, seed=52, dynamics=quiet).couples
    still = {"working_model_change": 0.0, "life_events_spread": 0.0}
    frozen = run("anxious", "avoidant", couples=200, days=365, seed=52, dynamics=still).couples
    assert (secure["final_anxiety_a"] - secure["anxiety_a"]).mean() < -0.005
    assert (avoidant["final_anxiety_a"] - avoidant["anxiety_a"]).mean() > 0.002
    secure_l = run("anxious", "secure", couples=200, days=365, seed=52).couples
    avoidant_l = run("anxious", "avoidant", couples=200, days=365, seed=52).couples
    moved = {name: (c["final_anxiety_a"] - c["anxiety_a"]).mean()
             for name, c in (("secure", secure_l), ("avoidant", avoidant_l))}  # fmt: skip
    assert moved["avoidant"] - moved["secure"] > 0.01, moved
    np.testing.assert_array_equal(frozen["final_anxiety_a"], frozen["anxiety_a"])


def test_the_slow_walk_keeps_its_spread_and_forgets_on_its_time_scale():
    # Rule (7.15, 7.20): from 0, after many steps the walk's spread is ``spread`` and values
    # ``days`` apart correlate exp(-1). 4,000 independent walks, 600 steps of a 100-day walk:
    # the sd's standard error is about 1% and the correlation's about 0.015, so 5% and 0.05 are
    # several standard errors wide; the clip at +-0.5 is 4 sd away and changes nothing here.
    rng = np.random.default_rng(61)
    walk = np.zeros(4000)
    kept = []
    for day in range(600):
        walk = r.slow_walk(walk, rng.standard_normal(4000), 100.0, 0.12)
        if day in (499, 599):
            kept.append(walk.copy())
    assert np.std(kept[1]) == pytest.approx(0.12, rel=0.05)
    assert np.corrcoef(kept[0], kept[1])[0, 1] == pytest.approx(np.exp(-1.0), abs=0.05)


def test_life_events_make_attachment_moderately_stable_over_a_year():
    # Revision 2.5 (7.20): outside events move each person's anxiety and avoidance by a slow walk
    # around 0 (off by default). Literature mix, one year, 1,000 couples: at spread 0.12 a
    # person's anxiety at the start and after a year correlates about 0.85 (0.846 on 2,000
    # married couples, benchmarks/life_events.py; the bounds 0.78-0.91 hold that figure with
    # room for the sampling spread of 2,000 people); without the walk, 0.99 and more (the
    # working model alone). The walk does not move the mean: the mean change stays within 0.01
    # of the run without it (the working model's own -0.02).
    found = {}
    for spread in (0.0, 0.12):
        c = _married_mix(62, 1000, life_events_spread=spread)
        start, end = _both(c, "anxiety"), _both(c, "final_anxiety")
        found[spread] = (np.corrcoef(start, end)[0, 1], np.mean(end - start))
    assert found[0.0][0] > 0.99, found
    assert 0.78 < found[0.12][0] < 0.91, found
    assert abs(found[0.12][1] - found[0.0][1]) < 0.01, found


def test_couples_differ_in_their_barriers_and_low_barrier_couples_leave_more():
    # Married couples' commitment floors are drawn around the mean (barrier_spread 0.15, clipped
    # to 0-0.9); with no spread every couple has the same floor. Couples with fewer barriers
    # split more often (married, one year; defaults r(floor, dissolved) about -0.1; the bound
    # is half of it: about 2.5% of 1,500 couples dissolve, so the correlation is noisy).
    mix = {"mix": dict(LITERATURE_MIX), "couples": 1500}
    setup = Setup(population=mix, days=365, seed=53, relationship="married")
    floor = population(setup).params[p_row("commitment_floor")]
    assert 0.1 < np.std(floor) < 0.16 and np.all((floor >= 0.0) & (floor <= 0.9))
    flat = Setup(population=mix, days=365, seed=53, relationship="married",
                 dynamics={"barrier_spread": 0.0})  # fmt: skip
    same = population(flat).params[p_row("commitment_floor")]
    assert np.ptp(np.broadcast_to(same, (1500,))) == 0.0
    dissolved = simulate(setup).couples["dissolved_day"] >= 0
    assert np.corrcoef(floor, dissolved)[0, 1] < -0.05


def test_people_differ_in_caregiving_apart_from_attachment(monkeypatch):
    import sim.styles as styles
    from sim.engine import kernel as k

    # A population's care spreads around 1 (log care has sd CARE_SD = 0.2: 5,000 couples give
    # 0.200; tolerance 0.01); a pairing scenario's people have care 1 exactly.
    mix = {"mix": dict(LITERATURE_MIX), "couples": 5000}
    care = population(Setup(population=mix, seed=3)).people["care"]
    assert abs(np.log(care).std() - 0.2) < 0.01 and abs(np.median(care) - 1.0) < 0.01
    pair = population(Setup(partner_a={"style": "anxious"}, couples=50, seed=3))
    assert np.all(pair.people["care"] == 1.0)

    # Direction, with the same couples and draws: an anxious seeker whose secure partner has
    # care 1.3 is answered more often and more warmly than with care 0.7 (defaults, 200
    # couples, 120 days, seed 5: 1.00 against 0.56 of requests, warmth 1.00 against 0.58;
    # tolerance 0.1 each).
    n = 200
    setup = Setup(partner_a={"style": "anxious"}, partner_b={"style": "secure"}, couples=n,
                  days=120, seed=5)  # fmt: skip
    pop = population(setup)
    found = {}
    for value in (0.7, 1.3):
        people = dict(pop.people, care=np.vstack([np.ones(n), np.full(n, value)]))
        kern = k.Kernel(people, pop.params, seed=5, days=120)
        kern.advance(120)
        asked, answered = kern.R[k.REQUESTS, 0].sum(), kern.R[k.ANSWERED, 0].sum()
        found[value] = (answered / asked, kern.R[k.WARMTH_RECEIVED, 0].sum() / answered)
    assert found[1.3][0] > found[0.7][0] + 0.1, found
    assert found[1.3][1] > found[0.7][1] + 0.1, found

    # In a population the traits no longer set caregiving alone: r(answerer's avoidance, warmth
    # of the answers given) is far from -1 (married literature mix, 1,000 couples, one year,
    # seed 7: -0.93 without the spread, -0.47 with it; tolerance: at least 0.3 weaker,
    # and inside -0.6 to -0.3, about the published -0.3 to -0.45 corrected for unreliability).
    found = {}
    for sd in (0.0, 0.2):
        monkeypatch.setattr(styles, "CARE_SD", sd)
        c = simulate(Setup(population={"mix": dict(LITERATURE_MIX), "couples": 1000}, days=365,
                           seed=7, relationship="married")).couples  # fmt: skip
        giver = np.concatenate([c["avoidance_b"], c["avoidance_a"]])
        warmth = np.concatenate([c["answer_warmth_a"], c["answer_warmth_b"]])
        ok = np.isfinite(warmth)
        found[sd] = np.corrcoef(giver[ok], warmth[ok])[0, 1]
    assert found[0.2] > found[0.0] + 0.3, found
    assert -0.6 < found[0.2] < -0.3, found
