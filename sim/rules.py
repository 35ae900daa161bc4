"""The model's mechanisms, one pure function each: read this file top to bottom as the model.

Every function works elementwise: called from Python with NumPy arrays it updates every person of
a population at once; compiled by Numba it runs inside the fused kernel on one person at a time.
Both paths run these same lines (see ``sim.kernel``). Time is in days; one tick is ``dt = 1/24``
day (one hour). All states are in [0, 1]. Conditions are passed as 0.0/1.0 numbers (``happened``)
so that the same arithmetic serves arrays and scalars.

Names of persons: *self* is the person the state belongs to, *partner* the other one.
"""

from __future__ import annotations

import numpy as np

from .vexp import clip01, exp  # NumPy in Python, straight-line code under Numba

try:  # Numba compiles these functions into the kernel; without it they stay plain Python.
    from numba.extending import register_jitable

    # Inlined into the caller's Numba IR: a call left inside the kernel's loop over a block of
    # couples stops the compiler from vectorising that loop.
    def _jitable(func):
        return register_jitable(inline="always")(func)  # a fresh decorator each time
except ImportError:  # pragma: no cover - numba is a dependency; this keeps the rules importable

    def _jitable(func):
        return func


__all__ = [
    "affection_probability",
    "answer_probability",
    "answer_quality",
    "approach_share",
    "baseline_security",
    "clip01",
    "commitment_step",
    "decay_factor",
    "exhaustion_after_answering",
    "exhaustion_recovery",
    "fade",
    "felt_security",
    "habituation_after_reassurance",
    "rebound_threat",
    "relief_after_affection",
    "relief_after_answer",
    "relief_fading",
    "satisfaction_step",
    "seek_probability",
    "threat_after_rebuff",
    "threat_after_stressor",
    "trust_update",
    "withdrawal_after_request",
]


@_jitable
def decay_factor(rate, dt):
    """What is left of a state fading at ``rate`` per day after ``dt`` days: ``exp(-rate dt)``.

    The kernel computes this once per couple (or per day) for every fade whose rate does not
    change from hour to hour, and multiplies.
    """
    return exp(-rate * dt)


@_jitable
def fade(value, rate, dt):
    """Exponential fading at ``rate`` per day over ``dt`` days: ``value * exp(-rate dt)``."""
    return value * exp(-rate * dt)


@_jitable
def approach_share(rate, dt):
    """Share of the way to its target that a state covers in ``dt`` days at ``rate`` per day.

    ``1 - exp(-rate dt)``: exponential approach, the mirror image of :func:`fade`.
    """
    return 1.0 - exp(-rate * dt)


# 1. Stressors ---------------------------------------------------------------------------------


@_jitable
def threat_after_stressor(threat, happened, stress_size, anxiety):
    """A stressor (outside stress, an intrusive doubt) raises threat.

    Anxious people are shaken more: the hit is ``stress_size * (0.5 + anxiety)``, because
    hyperactivated vigilance amplifies ambiguous cues (Mikulincer & Shaver 2003). Threat then
    fades at ``threat_decay`` per day (applied with :func:`fade`).
    """
    return clip01(threat + happened * stress_size * (0.5 + anxiety))


# 2. Felt security ----------------------------------------------------------------------------


@_jitable
def baseline_security(anxiety, trust, trust_weight):
    """The security a person returns to when nothing happens.

    It falls with anxiety (an insecure working model of self) and moves with trust in this
    partner: a responsive partner earns security, an unresponsive one erodes it (earned security;
    Simpson & Overall 2014). ``0.85 - 0.35 * anxiety + trust_weight * (trust - 0.5)``: with trust
    at its neutral 0.5 a secure person (anxiety 0.15) sits at 0.80 and an anxious one (0.85) at
    0.55.
    """
    return 0.85 - 0.35 * anxiety + trust_weight * (trust - 0.5)


@_jitable
def felt_security(baseline, relief, threat, anxiety, partner_withdrawal, withdrawal_threat):
    """How safe the person feels right now.

    ``baseline + relief - threat - withdrawal_threat * (0.3 + 0.7 * anxiety) * partner_withdrawal``,
    clipped to [0, 1]: the partner's distance hurts anxious people most (demand-withdraw;
    Christensen & Heavey 1990).
    """
    hurt = withdrawal_threat * (0.3 + 0.7 * anxiety) * partner_withdrawal
    return clip01(baseline + relief - threat - hurt)


# 3. Seeking ----------------------------------------------------------------------------------


@_jitable
def seek_probability(security, anxiety, avoidance, reassurance_frequency, seek_threshold, dt):
    """Chance that the person asks for reassurance during this tick.

    The threshold is ``seek_threshold + 0.2 * anxiety``: anxiety lowers the bar to ask. Below it,
    the rate grows with the shortfall (full rate at 0.4 below the threshold) up to
    ``reassurance_frequency * (0.3 + 0.7 * anxiety)`` per day. Avoidance suppresses asking even
    when insecure (deactivation), by the factor ``(1 - avoidance) ** 2``.
    """
    threshold = seek_threshold + 0.2 * anxiety
    shortfall = clip01((threshold - security) / 0.4)
    openness = 1.0 - avoidance  # squared by hand: a power would compile to a loop
    rate = reassurance_frequency * (0.3 + 0.7 * anxiety) * (openness * openness) * shortfall
    return clip01(rate * dt)


# 4. Responding -------------------------------------------------------------------------------


@_jitable
def answer_probability(
    responsiveness, partner_avoidance, partner_exhaustion, partner_withdrawal, communication
):
    """Chance that the partner answers a request.

    It falls with the partner's avoidance, exhaustion and withdrawal; a clearly explained need
    (communication) is easier to meet. ``responsiveness * (1 - 0.9 avoidance²) * (1 - 0.8
    exhaustion) * (1 - 0.5 withdrawal) * (0.9 + 0.1 communication)``.
    """
    p = (
        responsiveness
        * (1.0 - 0.9 * partner_avoidance * partner_avoidance)
        * (1.0 - 0.8 * partner_exhaustion)
        * (1.0 - 0.5 * partner_withdrawal)
        * (0.9 + 0.1 * communication)
    )
    return clip01(p)


@_jitable
def answer_quality(communication, expression, partner_expression, channel_mismatch):
    """How well an answer lands: 0 to 1.

    Clear communication improves it (``0.6 + 0.4 communication``). Reassurance is given in the
    partner's own channel (words or actions) and read in the person's own: a mismatch of the two
    costs up to ``channel_mismatch`` of the quality (the source article's cultural norms).
    """
    mismatch = np.abs(expression - partner_expression)
    return (0.6 + 0.4 * communication) * (1.0 - channel_mismatch * mismatch)


# 5. Relief -----------------------------------------------------------------------------------


@_jitable
def relief_after_answer(relief, happened, relief_gain, quality, habituation):
    """An answer lifts relief by ``relief_gain * quality * (1 - habituation)`` toward 1.

    Habituation blunts each new reassurance (Salkovskis & Kobori 2015).
    """
    return clip01(relief + happened * relief_gain * quality * (1.0 - habituation) * (1.0 - relief))


@_jitable
def relief_fading(relief, relief_decay, habituation, habituation_speedup, dt):
    """Relief fades at ``relief_decay * (1 + habituation_speedup * habituation)`` per day.

    The more used to reassurance a person is, the shorter each relief lasts: **relief gets
    shorter each time**. Returns the faded relief; the caller turns what faded into rebound.
    """
    return fade(relief, relief_decay * (1.0 + habituation_speedup * habituation), dt)


@_jitable
def rebound_threat(threat, faded, rebound, anxiety):
    """Fading relief leaves doubt behind in anxious people.

    Threat rises by ``rebound * anxiety² * faded``. Low-anxiety people keep the relief and
    return to baseline; high-anxiety people rebound below where they started (Lucock et al. 1997;
    Salkovskis & Kobori 2015).
    """
    return clip01(threat + rebound * anxiety * anxiety * faded)


# 6. Habituation ------------------------------------------------------------------------------


@_jitable
def habituation_after_reassurance(habituation, happened, habituation_gain, anxiety):
    """Each answered request gets a person more used to reassurance.

    Habituation rises by ``habituation_gain * (0.2 + 0.8 anxiety)`` toward 1: anxious people
    habituate most. It fades at ``habituation_decay`` per day (weeks).
    """
    gain = habituation_gain * (0.2 + 0.8 * anxiety)
    return clip01(habituation + happened * gain * (1.0 - habituation))


# 7. Rebuff -----------------------------------------------------------------------------------


@_jitable
def threat_after_rebuff(threat, happened, rebuff_hurt, anxiety):
    """An unanswered request hurts: threat rises by ``rebuff_hurt * (0.3 + 0.7 anxiety)``.

    Excessive reassurance seeking invites rejection, and rejection feeds the need (Joiner et al.
    1999; Starr & Davila 2008).
    """
    return clip01(threat + happened * rebuff_hurt * (0.3 + 0.7 * anxiety))


# 8. Exhaustion -------------------------------------------------------------------------------


@_jitable
def exhaustion_after_answering(exhaustion, happened, exhaustion_rate, avoidance, communication):
    """Answering costs ``exhaustion_rate * (0.5 + avoidance) * (1 - 0.5 communication)``.

    Requests feel intrusive to avoidant partners, so they cost them more; an explained request
    costs less (the source article's "communicate openly").
    """
    cost = exhaustion_rate * (0.5 + avoidance) * (1.0 - 0.5 * communication)
    return clip01(exhaustion + happened * cost * (1.0 - exhaustion))


@_jitable
def exhaustion_recovery(exhaustion, recovery_rate, burnout, dt):
    """Exhaustion recovers at ``recovery_rate * (1 - burnout * exhaustion)`` per day.

    The more exhausted, the slower the recovery (burnout): past a point the partner cannot catch
    up, which makes the model tip.
    """
    return fade(exhaustion, recovery_rate * (1.0 - burnout * exhaustion), dt)


# 9. Withdrawal -------------------------------------------------------------------------------


@_jitable
def withdrawal_after_request(withdrawal, happened, withdrawal_gain, avoidance, communication):
    """A request received makes an avoidant person take distance.

    Withdrawal rises by ``withdrawal_gain * avoidance * (1 - 0.5 communication)`` toward 1
    (pursue-withdraw; Christensen & Heavey 1990). An explained need reads as collaboration rather
    than demand, so it crowds the partner less. Withdrawal fades at ``withdrawal_decay`` per day.
    """
    gain = withdrawal_gain * avoidance * (1.0 - 0.5 * communication)
    return clip01(withdrawal + happened * gain * (1.0 - withdrawal))


# 10. Trust -----------------------------------------------------------------------------------


@_jitable
def trust_update(trust, answered, rebuffed, trust_learning_rate):
    """Trust learns the partner's availability: toward 1 on an answer, toward 0 on a rebuff.

    A working model updated by experience (a learning rate, as in Rescorla-Wagner learning).
    """
    trust = trust + answered * trust_learning_rate * (1.0 - trust)
    return clip01(trust - rebuffed * trust_learning_rate * trust)


# 11. Unasked affection -----------------------------------------------------------------------


@_jitable
def affection_probability(affection_rate, avoidance, exhaustion, withdrawal, dt):
    """Chance that the person shows unasked affection to the partner this tick.

    ``affection_rate * (1 - 0.9 avoidance) * (1 - exhaustion) * (1 - withdrawal)`` per day:
    close, rested partners reassure without being asked.
    """
    rate = affection_rate * (1.0 - 0.9 * avoidance) * (1.0 - exhaustion) * (1.0 - withdrawal)
    return clip01(rate * dt)


@_jitable
def relief_after_affection(relief, happened, affection_relief, quality):
    """Unasked affection gives relief but feeds no habituation.

    Relief rises by ``affection_relief * quality`` toward 1. This is how a secure partner buffers
    an anxious one (Simpson & Overall 2014).
    """
    return clip01(relief + happened * affection_relief * quality * (1.0 - relief))


# 12. Satisfaction, commitment and dissolution ------------------------------------------------


@_jitable
def satisfaction_step(satisfaction, security, trust, exhaustion, share):
    """Satisfaction follows how the relationship feels.

    It moves toward ``0.4 security + 0.4 trust + 0.2 (1 - exhaustion)`` at ``satisfaction_rate``
    per day: how safe one feels, whether the partner is there, and the burden one carries.
    ``share`` is ``approach_share(satisfaction_rate, dt)``, the part of the gap closed in a tick.
    """
    target = 0.4 * security + 0.4 * trust + 0.2 * (1.0 - exhaustion)
    return clip01(satisfaction + (target - satisfaction) * share)


@_jitable
def commitment_step(commitment, satisfaction, share):
    """Commitment drifts toward ``0.2 + 0.8 satisfaction`` at ``commitment_rate`` per day.

    Satisfaction is the strongest predictor of commitment and of staying (Le et al. 2010);
    the 0.2 floor stands for investments and barriers that keep some unhappy couples together.
    ``share`` is ``approach_share(commitment_rate, dt)``.
    """
    target = 0.2 + 0.8 * satisfaction
    return clip01(commitment + (target - commitment) * share)
