"""The model's mechanisms, one pure function each: read this file top to bottom as the model.

Every function works elementwise: called from Python with NumPy arrays it updates every person of
a population at once; compiled by Numba it runs inside the fused kernel on one person at a time.
Both paths run these same lines (see ``sim.engine.kernel``). Time is in days; one tick is
``dt = 1/24`` day (one hour). All states are in [0, 1]. Conditions are passed as 0.0/1.0 numbers
(``happened``) so that the same arithmetic serves arrays and scalars.

Names of persons: *self* is the person the state belongs to, *partner* the other one. Units:
traits, states, probabilities and shares are numbers in [0, 1]; rates are per day; ``dt`` is in
days. The hourly order of events is ``sim.engine.kernel.hour``; everything that happens to a person
is a function here.
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
    "alternatives_after_day",
    "answer_discount",
    "answer_probability",
    "answer_quality",
    "answer_warmth",
    "appraisal_after_day",
    "approach_share",
    "awareness_barrier",
    "baseline_security",
    "clip01",
    "closeness_after_exchange",
    "commitment_step",
    "decay_factor",
    "exhaustion_after_answering",
    "exhaustion_recovery",
    "fade",
    "felt_security",
    "habituation_after_reassurance",
    "idealization_left",
    "idealized_view",
    "investment_after_day",
    "leaves",
    "rebound_threat",
    "relief_after_affection",
    "relief_after_answer",
    "relief_fading",
    "revised_trait",
    "satisfaction_step",
    "seek_probability",
    "self_soothing",
    "slow_walk",
    "strategy_scale",
    "threat_after_cold_answer",
    "threat_after_rebuff",
    "threat_after_stressor",
    "trained_communication",
    "treated_trait",
    "treatment_gain",
    "trust_update",
    "unhappy_streak",
    "wants_out",
    "withdrawal_after_answer",
    "withdrawal_after_request",
    "working_model_after_day",
]


@_jitable
def decay_factor(rate, dt):
    """What is left of a state fading at ``rate`` (per day) after ``dt`` days: ``exp(-rate dt)``.

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
def threat_after_stressor(threat, happened, stress_size, anxiety, stress_floor):
    """A stressor (outside stress, an intrusive doubt) raises threat.

    ``threat``, ``anxiety`` in [0, 1]; ``happened`` 1.0 or 0.0; ``stress_size`` threat per
    stressor. Anxious people are shaken more: the hit is ``stress_size * (stress_floor +
    anxiety)`` (``stress_floor`` 0.5: a fully anxious person is shaken three times as much as a
    secure one), because hyperactivated vigilance amplifies ambiguous cues (Mikulincer & Shaver
    2003). Threat then fades at ``threat_decay`` per day (applied with :func:`fade`).
    """
    return clip01(threat + happened * stress_size * (stress_floor + anxiety))


# 2. Felt security ----------------------------------------------------------------------------


@_jitable
def baseline_security(anxiety, trust, trust_weight, base_security, anxiety_insecurity):
    """The security a person returns to when nothing happens (0 to 1).

    It falls with anxiety (an insecure working model of self) and moves with trust in this
    partner: a responsive partner earns security, an unresponsive one erodes it (earned security;
    Simpson & Overall 2014). ``base_security - anxiety_insecurity anxiety + trust_weight (trust
    - 0.5)`` (defaults 0.8 and 0.3: a secure person with middling trust feels fairly safe, a fully
    anxious one sits at 0.5, near the urge to ask).
    """
    return base_security - anxiety_insecurity * anxiety + trust_weight * (trust - 0.5)


@_jitable
def felt_security(baseline, relief, threat, anxiety, partner_withdrawal, withdrawal_threat,
                  secure_hurt):  # fmt: skip
    """How safe the person feels right now (0 to 1).

    ``baseline + relief - threat - withdrawal_threat * (secure_hurt + (1 - secure_hurt) anxiety)
    * partner_withdrawal``, clipped: the partner's distance hurts anxious people most
    (demand-withdraw; Christensen & Heavey 1990). ``secure_hurt`` (0.3) is the share of a hurt
    that a person without anxiety feels, here and for rebuffs and cold answers.
    """
    hurt = withdrawal_threat * (secure_hurt + (1.0 - secure_hurt) * anxiety) * partner_withdrawal
    return clip01(baseline + relief - threat - hurt)


# 3. Seeking ----------------------------------------------------------------------------------


@_jitable
def seek_probability(security, anxiety, avoidance, withdrawal, asking_norm, trust,
                     reassurance_frequency, seek_threshold, seek_softness, routine_asking,
                     discouragement, secure_asking, withdrawn_asking, norm_asking,
                     fearful_asking, dt):  # fmt: skip
    """Chance that the person asks for reassurance during a tick of ``dt`` days.

    The urge to ask has two parts. A small routine part, ``routine_asking``, is there whatever
    the person feels: ordinary bids for connection ("do you still like me in this?") that
    happy couples make and answer every week (Gottman & Driver 2005). The rest rises smoothly
    as felt security falls, a logistic step centred on ``seek_threshold`` with width
    ``seek_softness`` (felt security units). Anxiety acts through a lower felt security
    (``baseline_security``, bigger stress hits, rebound) and a higher rate, not through the bar
    itself: everyone asks now and then, anxious people several times as often (Shaver,
    Schachner & Nalbone 2005; Evraire, Dozois & Wilde 2022). The full rate,
    ``reassurance_frequency`` requests a day, is scaled by ``secure_asking + (1 - secure_asking)
    anxiety`` (0.5: a secure person asks at most half as often); avoidance suppresses asking even
    when insecure (deactivation), by ``openness²`` with ``openness = 1 - avoidance (1 -
    fearful_asking anxiety avoidance)``: in a person who is anxious as well, the deactivating
    strategy gives way to the hyperactivating one, the more so the more deactivation there is to
    undo (the product with avoidance leaves an anxious person with little avoidance nearly
    as before), so fearful people ask (and then discount the answer or pull back: the
    push-pull), while dismissing people, avoidant without anxiety, hardly ask (Bartholomew &
    Horowitz 1991; Brennan & Carnelley 1999; Mikulincer & Shaver 2007); a person who has pulled
    back asks less, by ``1 - withdrawn_asking withdrawal`` (0.5; the fearful push-pull); where
    explicit asking is less acceptable people ask less, ``norm_asking + asking_norm`` (0.4: 1 at the
    default norm 0.6); and a person who has learned that asking goes unanswered asks less,
    ``1 - discouragement (1 - trust)``: bids that are turned away are rarely repeated (Gottman &
    Driver 2005), and protest gives way to despair (Bowlby 1973).
    """
    step = 1.0 / (1.0 + exp((security - seek_threshold) / seek_softness))
    urge = routine_asking + (1.0 - routine_asking) * step
    # Squared by hand below: a power would compile to a loop.
    openness = 1.0 - avoidance * (1.0 - fearful_asking * anxiety * avoidance)
    rate = (reassurance_frequency * (secure_asking + (1.0 - secure_asking) * anxiety)
            * (openness * openness) * urge
            * (1.0 - withdrawn_asking * withdrawal) * (norm_asking + asking_norm)
            * (1.0 - discouragement * (1.0 - trust)))  # fmt: skip
    return clip01(rate * dt)


# 4. Answering: caregiving from the answerer's own attachment -----------------------------------


@_jitable
def awareness_barrier(avoidance, avoidant_holdback, awareness, awareness_effect):
    """How much the answerer's avoidance holds back an answer.

    ``avoidant_holdback * avoidance² * (1 - awareness_effect awareness)``: avoidant caregivers
    answer less (Feeney & Collins 2001); style awareness at full benefit halves the barrier
    (``awareness_effect`` 0.5).

    ``awareness`` (0 to 1) is the benefit a couple has gained from recognising each other's
    styles: a request read as an attachment need, not criticism, is easier to meet (Mikulincer &
    Shaver 2003 on deactivation).
    """
    return avoidant_holdback * avoidance * avoidance * (1.0 - awareness_effect * awareness)


@_jitable
def answer_probability(responsiveness, barrier, partner_anxiety, partner_exhaustion,
                       partner_withdrawal, partner_security, communication,
                       exhaustion_reluctance, withdrawn_answering, clear_answering,
                       insecure_caregiving, compulsive_caregiving):  # fmt: skip
    """Chance that the partner answers a request (0 to 1).

    ``responsiveness * (1 - barrier) * (1 - exhaustion_reluctance exhaustion) * (1 -
    withdrawn_answering withdrawal) * (1 - clear_answering + clear_answering communication) *
    readiness``, where ``barrier`` is :func:`awareness_barrier` of the partner's avoidance and
    ``readiness = min(1, 1 - insecure_caregiving + insecure_caregiving security +
    compulsive_caregiving anxiety)`` (defaults 0.8, 0.5, 0.05, 0.25, 0.15): a drained or
    withdrawn partner answers less (Coyne 1976), a clearly explained need is a little easier to
    meet, a caregiver who feels insecure has less to give, while anxious caregivers answer
    readily (compulsive caregiving; Kunce & Shaver 1994; Feeney & Collins 2001).
    """
    readiness = clip01(1.0 - insecure_caregiving + insecure_caregiving * partner_security
                       + compulsive_caregiving * partner_anxiety)  # fmt: skip
    p = (
        responsiveness
        * (1.0 - barrier)
        * (1.0 - exhaustion_reluctance * partner_exhaustion)
        * (1.0 - withdrawn_answering * partner_withdrawal)
        * (1.0 - clear_answering + clear_answering * communication)
        * readiness
    )
    return clip01(p)


@_jitable
def answer_warmth(partner_exhaustion, partner_avoidance, partner_anxiety, exhaustion_coldness,
                  avoidant_coolness, anxious_insensitivity):  # fmt: skip
    """How warm and sensitive an answer is (0 = cold and dismissive, 1 = fully warm).

    ``(1 - exhaustion_coldness * exhaustion) * (1 - avoidant_coolness avoidance) * (1 -
    anxious_insensitivity anxiety)`` (0.4 and 0.2: avoidance cools an answer more than anxiety
    blunts it): a
    drained partner answers reluctantly or irritably, the interpersonal cost of repeated
    reassurance seeking (Coyne 1976; Joiner, Metalsky, Katz & Beach 1999); avoidant caregivers
    answer more coolly and anxious ones less sensitively (Kunce & Shaver 1994; Collins & Feeney
    2000).
    """
    return clip01(
        (1.0 - exhaustion_coldness * partner_exhaustion)
        * (1.0 - avoidant_coolness * partner_avoidance)
        * (1.0 - anxious_insensitivity * partner_anxiety)
    )


@_jitable
def answer_quality(communication, expression, partner_expression, channel_mismatch,
                   clear_quality):  # fmt: skip
    """How well an answer or gesture lands in the receiver's channel (0 to 1).

    Clear communication improves it (``1 - clear_quality + clear_quality communication``;
    ``clear_quality`` 0.4: an unexplained answer lands at 0.6 of a fully explained one).
    Reassurance is given in the partner's own channel (words or actions, ``expression`` 0 to 1)
    and read in the person's own: a mismatch of the two costs up to ``channel_mismatch`` of the
    quality (the source article's cultural norms).
    """
    mismatch = np.abs(expression - partner_expression)
    return (1.0 - clear_quality + clear_quality * communication) * (
        1.0 - channel_mismatch * mismatch
    )


@_jitable
def answer_discount(anxiety, avoidance, push_pull):
    """Share of an answer a person lets in: ``1 - push_pull * anxiety * avoidance``.

    Fearful people (high on both) want the reassurance and distrust it at once, so they discount
    it (Bartholomew & Horowitz 1991; Mikulincer & Shaver 2003).
    """
    return 1.0 - push_pull * anxiety * avoidance


# 5. Relief -----------------------------------------------------------------------------------


@_jitable
def relief_after_answer(relief, happened, relief_gain, quality, habituation):
    """An answer lifts relief by ``relief_gain * quality * (1 - habituation)`` toward 1.

    ``quality`` (0 to 1) is everything about how the answer landed (channel, warmth, discount).
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

    Threat rises by ``rebound * anxiety² * faded`` (``faded`` is the relief lost this tick).
    Low-anxiety people keep the relief and return to baseline; high-anxiety people rebound below
    where they started (Lucock et al. 1997; Salkovskis & Kobori 2015).
    """
    return clip01(threat + rebound * anxiety * anxiety * faded)


@_jitable
def self_soothing(relief, rate, dt):
    """Relief a person gives themself: ``rate * dt * (1 - relief)`` (``rate`` relief per day).

    Therapy teaches regulating one's own distress instead of seeking it from the partner (Johnson
    et al. 1999 on emotionally focused therapy; Salkovskis & Kobori 2015).
    """
    return clip01(relief + rate * dt * (1.0 - relief))


# 6. Habituation ------------------------------------------------------------------------------


@_jitable
def habituation_after_reassurance(habituation, happened, habituation_gain, anxiety,
                                  secure_habituation):  # fmt: skip
    """Each answered request gets a person more used to reassurance.

    Habituation rises by ``habituation_gain * (secure_habituation + (1 - secure_habituation)
    anxiety)`` toward 1: anxious people habituate most (``secure_habituation`` 0.2: a person
    without anxiety habituates at a fifth of the pace). It fades at ``habituation_decay`` per day
    (weeks).
    """
    gain = habituation_gain * (secure_habituation + (1.0 - secure_habituation) * anxiety)
    return clip01(habituation + happened * gain * (1.0 - habituation))


# 7. Rebuffs and cold answers -------------------------------------------------------------------


@_jitable
def threat_after_rebuff(threat, happened, rebuff_hurt, anxiety, secure_hurt):
    """An unanswered request hurts: by ``rebuff_hurt * (secure_hurt + (1 - secure_hurt) anx)``.

    Excessive reassurance seeking invites rejection, and rejection feeds the need (Joiner et al.
    1999; Starr & Davila 2008).
    """
    return clip01(threat + happened * rebuff_hurt * (secure_hurt + (1.0 - secure_hurt) * anxiety))


@_jitable
def threat_after_cold_answer(threat, happened, warmth, cold_answer_hurt, anxiety, secure_hurt):
    """A reluctant or irritated answer hurts, ``cold_answer_hurt * (1 - warmth)`` at full anxiety.

    The hurt is scaled by anxiety as a rebuff's is (``secure_hurt + (1 - secure_hurt) anxiety``).
    With ``cold_answer_hurt`` above ``rebuff_hurt`` a fully cold answer hurts more than silence:
    it is read as rejection that confirms the doubt (Joiner et al. 1999; Starr & Davila 2008).
    """
    felt = secure_hurt + (1.0 - secure_hurt) * anxiety
    return clip01(threat + happened * cold_answer_hurt * (1.0 - warmth) * felt)


# 8. Exhaustion: the answerer's cost ----------------------------------------------------------


@_jitable
def exhaustion_after_answering(exhaustion, happened, exhaustion_rate, avoidance, anxiety,
                               communication, asking_norm, avoidant_burden, anxious_burden,
                               clear_ease, norm_burden):  # fmt: skip
    """Answering a request costs the answerer exhaustion.

    The cost is ``exhaustion_rate * (0.5 + avoidant_burden avoidance + anxious_burden anxiety) *
    (1 - clear_ease communication) * (norm_burden - asking_norm)``, toward 1 (defaults 1, 0.5,
    0.5 and 1.6: a fully avoidant answerer pays three times a secure one's cost, a fully anxious
    one twice). Requests feel intrusive to avoidant partners, and anxious
    caregivers give with their own distress (compulsive caregiving), so both pay more (Kunce &
    Shaver 1994); an explained request costs less (the source article's "communicate openly");
    explicit asking weighs more on a person from a norm where asking is less acceptable (1 at the
    default norm 0.6).
    """
    cost = (exhaustion_rate * (0.5 + avoidant_burden * avoidance + anxious_burden * anxiety)
            * (1.0 - clear_ease * communication) * (norm_burden - asking_norm))  # fmt: skip
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
def withdrawal_after_request(withdrawal, happened, withdrawal_gain, avoidance, exhaustion,
                             exhaustion_withdrawal, communication, clear_ease):  # fmt: skip
    """A request received makes the partner take distance.

    Withdrawal rises by ``withdrawal_gain * (avoidance + exhaustion_withdrawal * exhaustion) *
    (1 - clear_ease communication)`` toward 1: avoidant partners pull back when pursued
    (Christensen & Heavey 1990), and so does anyone worn out by answering (Coyne 1976). An
    explained need reads as collaboration rather than demand, so it crowds the partner less
    (``clear_ease`` 0.5, as for the cost of answering). Withdrawal fades at
    ``withdrawal_decay`` per day.
    """
    drive = avoidance + exhaustion_withdrawal * exhaustion
    gain = withdrawal_gain * drive * (1.0 - clear_ease * communication)
    return clip01(withdrawal + happened * gain * (1.0 - withdrawal))


@_jitable
def withdrawal_after_answer(withdrawal, happened, push_pull, anxiety, avoidance, pullback):
    """Fearful push-pull: after getting the reassurance they asked for, fearful people pull back.

    Withdrawal rises by ``pullback * push_pull * anxiety * avoidance`` toward 1 on each answer
    received (``pullback`` 0.25: a quarter of the discount ``push_pull`` puts on the answer):
    closeness sought is then felt as a risk (Bartholomew & Horowitz 1991).
    """
    gain = pullback * push_pull * anxiety * avoidance
    return clip01(withdrawal + happened * gain * (1.0 - withdrawal))


# 10. Trust -----------------------------------------------------------------------------------


@_jitable
def trust_update(trust, answered, rebuffed, shown, trust_learning_rate, rebuff_learning):
    """Trust learns the partner's availability from each request.

    An answer moves trust toward what it showed (``shown``, 0 to 1: how warm it was) by
    ``trust_learning_rate`` of the gap, a rebuff toward 0 by ``rebuff_learning`` times that: a
    working model updated by experience, as in Rescorla-Wagner learning. A reluctant answer
    teaches little trust; an unanswered request is ambiguous (the partner may not have noticed),
    and people tend to read a partner charitably (Murray, Holmes & Griffin 1996), so a rebuff
    teaches less than an answer.
    """
    trust = trust + answered * trust_learning_rate * (shown - trust)
    return clip01(trust - rebuffed * rebuff_learning * trust_learning_rate * trust)


# 11. Unasked affection and closeness ----------------------------------------------------------


@_jitable
def affection_probability(affection_rate, avoidance, exhaustion, withdrawal, avoidant_reserve,
                          dt):  # fmt: skip
    """Chance that the person shows unasked affection to the partner this tick.

    ``affection_rate * (1 - avoidant_reserve avoidance) * (1 - exhaustion) * (1 - withdrawal)``
    per day: close, rested partners reassure without being asked; avoidant people give fewer
    gestures (Brennan, Wu & Loev 1998; ``avoidant_reserve`` 0.5: half as many when fully
    avoidant).
    """
    rate = (affection_rate * (1.0 - avoidant_reserve * avoidance) * (1.0 - exhaustion)
            * (1.0 - withdrawal))  # fmt: skip
    return clip01(rate * dt)


@_jitable
def relief_after_affection(relief, happened, affection_relief, quality):
    """Unasked affection gives relief but feeds no habituation.

    Relief rises by ``affection_relief * quality`` toward 1. This is how a secure partner buffers
    an anxious one (Simpson & Overall 2014).
    """
    return clip01(relief + happened * affection_relief * quality * (1.0 - relief))


@_jitable
def closeness_after_exchange(closeness, warmth_received, closeness_gain, avoidance):
    """Warm exchanges build felt closeness: ``+ closeness_gain * warmth * (1 - avoidance)``.

    ``warmth_received`` (0 to 2 in one tick) sums the warm answers and gestures received, each
    weighted by how well it landed. Avoidant people damp the experience of closeness
    (deactivation; Mikulincer & Shaver 2003), which is one reason avoidance goes with lower
    satisfaction (Li & Chan 2012). Closeness fades at ``closeness_decay`` per day.
    """
    gain = closeness_gain * warmth_received * (1.0 - avoidance)
    return clip01(closeness + gain * (1.0 - closeness))


# 12. Satisfaction, commitment and dissolution ------------------------------------------------


@_jitable
def satisfaction_step(satisfaction, appraisal, security, trust, closeness, exhaustion,
                      withdrawal, idealized, security_weight, partner_trust_weight,
                      closeness_weight, burden_weight, pursuit_weight, share):  # fmt: skip
    """Satisfaction follows how the relationship feels, for both partners.

    It moves toward ``appraisal + security_weight security + partner_trust_weight trust
    + closeness_weight closeness - burden_weight exhaustion - pursuit_weight withdrawal``
    (clipped), seen through what is left of the start's idealisation (``idealized``, from
    ``idealization_left``: the target closes that share of its gap to 1, ``target + idealized
    (1 - target)``), by ``share`` of the gap per tick (``approach_share(satisfaction_rate,
    dt)``). Security, trust and closeness are what a relationship gives; the burden of
    answering costs the answerer (Coyne 1976) and having to pull back from a pursuing partner
    costs the withdrawer, so demand-withdraw leaves both partners less satisfied (Schrodt, Witt &
    Shimkowski 2014). ``appraisal`` is a person's lasting offset (enduring vulnerabilities,
    outside stress and everything else the model leaves out; Karney & Bradbury 1995).
    """
    target = clip01(appraisal + security_weight * security + partner_trust_weight * trust
                    + closeness_weight * closeness
                    - burden_weight * exhaustion - pursuit_weight * withdrawal)  # fmt: skip
    return clip01(satisfaction + (idealized_view(target, idealized) - satisfaction) * share)


@_jitable
def idealized_view(satisfaction, idealized):
    """A satisfaction as seen through an idealisation: ``idealized`` of its gap to 1 closed.

    ``satisfaction + idealized (1 - satisfaction)``: a lift where there is room for one, none at
    the top. ``satisfaction_step`` sees its target so, and a couple's start (``simulation``'s
    history) is seen through the full idealisation, so that it starts where it is headed.
    """
    return satisfaction + idealized * (1.0 - satisfaction)


@_jitable
def idealization_left(idealization, day, idealization_days):
    """How much of the start's rosy view of the partner is left on ``day``.

    Partners begin with idealised views of each other and of their relationship, and these fade
    with time together: satisfaction declines on average, most steeply early on, in couples who
    stay together (disillusionment, Huston, Caughlin, Houts, Smith & George 2001; the decline,
    Lavner & Bradbury 2010 and the meta-analysis of Buehler, Krauss & Orth 2021; positive
    illusions, Murray, Holmes & Griffin 1996, who measure idealisation as seeing the partner
    closer to one's ideal than the partner sees themselves). ``idealization exp(-day /
    idealization_days)`` is the share of the gap between how the relationship is and an ideal one
    (satisfaction 1) that the rosy view closes (``satisfaction_step``): a lift where there is room
    for one, none at the top.
    """
    return idealization * exp(-day / idealization_days)


@_jitable
def commitment_step(commitment, satisfaction, alternatives, anxiety, investment, commitment_floor,
                    anxious_dependence, investment_weight, share):  # fmt: skip
    """Commitment drifts toward what satisfaction, alternatives, investments and dependence make it.

    The target is ``floor + (1 - floor) clip01(hold - alternatives + investment_weight
    investment)`` with ``hold = satisfaction + anxious_dependence anxiety (1 - satisfaction)``,
    approached by ``share`` per tick
    (``approach_share(commitment_rate, dt)``). In the investment model commitment rests on
    satisfaction, investments and the poor quality of alternatives (Rusbult 1983; meta-analysis:
    Le & Agnew 2003, where satisfaction correlates with commitment about .68, alternatives about
    -.48, investments about .46): ``alternatives`` is the person's current quality of
    alternatives to this relationship (``alternatives_after_day``), on the satisfaction scale, so
    an attractive alternative lowers commitment without any loss of satisfaction. ``investment``
    is what the person has put into the relationship and would lose by leaving (time, shared
    friends, a home, plans; ``investment_after_day``), which grows with time together. The floor
    stands for the barriers that keep some unhappy couples together whatever they feel (children,
    the law, beliefs about divorce), higher in marriage (Rosenfeld 2014). Anxious people
    depend on the relationship more: they fear being single and see fewer alternatives, so part
    of what dissatisfaction takes from their commitment is filled back (Spielmann et al. 2013;
    Davila & Bradbury 2001: anxious spouses stay in unhappy marriages; Etcheverry, Le, Wu & Wei
    2013: anxiety goes with dependence, avoidance with lower commitment, which here comes
    through avoidance's lower satisfaction).
    """
    hold = satisfaction + anxious_dependence * anxiety * (1.0 - satisfaction)
    target = commitment_floor + (1.0 - commitment_floor) * clip01(
        hold - alternatives + investment_weight * investment
    )
    return clip01(commitment + (target - commitment) * share)


@_jitable
def investment_after_day(investment, satisfaction, investment_days):
    """Investments grow a little each day of time together, faster when the person is satisfied.

    Time, effort, shared friends, possessions and plans accumulate while a couple is together
    and would be lost by leaving; in Rusbult's (1983) longitudinal study of dating couples,
    investments grew over seven months in the relationships that lasted, and growing
    satisfaction went with growing investment. Each day closes the share ``(1 - exp(-1 /
    investment_days)) satisfaction`` of the gap to 1: a satisfied person's investments come
    near their ceiling within a few ``investment_days``, a dissatisfied person's hardly grow.
    Investments are sunk: they never fall. They hold commitment up (``commitment_step``), which
    is one reason why the break-up hazard falls with time together (Rosenfeld 2014).
    """
    return investment + (1.0 - investment) * satisfaction * (1.0 - exp(-1.0 / investment_days))


@_jitable
def slow_walk(value, normal, days, spread):
    """One step of a slow mean-reverting walk around 0 (Ornstein-Uhlenbeck), kept in ±0.5.

    ``keep = exp(-1 / days)``; the value becomes ``value keep + sqrt(1 - keep^2) spread normal``,
    so its spread stays ``spread`` and values ``days`` steps apart correlate ``exp(-1)``.
    ``normal`` is the step's standard normal draw. The appraisal and the quality of alternatives
    take a step a day; the life events a step a week (``days`` in weeks, ``kernel.week_ends``).
    """
    keep = exp(-1.0 / days)
    step = np.sqrt(1.0 - keep * keep) * spread * normal
    return np.minimum(np.maximum(value * keep + step, -0.5), 0.5)


@_jitable
def appraisal_after_day(appraisal, normal, appraisal_days, appraisal_spread):
    """A person's lasting appraisal moves a little each day with what happens outside the couple.

    Stress from outside the relationship (work, money, health, family) spills over into how
    partners see their relationship (Karney & Bradbury 1995; Neff & Karney 2004), and
    satisfaction changes over years more than its one-year stability suggests (Lavner & Bradbury
    2010). The appraisal is a slow mean-reverting walk (``slow_walk``, one step a day) with
    spread ``appraisal_spread``: two values a year apart correlate ``exp(-365 /
    appraisal_days)``. ``normal`` is the day's standard normal draw.
    """
    return slow_walk(appraisal, normal, appraisal_days, appraisal_spread)


@_jitable
def alternatives_after_day(alternatives, normal, alternatives_days, alternatives_spread):
    """The quality of a person's alternatives to the relationship moves a little each day.

    Alternatives come and go without anything going wrong inside the couple: an attractive
    person met at work, a job offer in another city, friends or family who disapprove of the
    partner, a life transition (Rusbult 1983; Le, Dove, Agnew, Korn & Mutso 2010: commitment
    and its bases predict break-up better than satisfaction or attachment; Amato &
    Hohmann-Marriott 2007: about half of divorces end marriages that were not distressed). A
    slow mean-reverting walk like the appraisal's (``appraisal_after_day``): mean 0 (alternatives
    as good as the person usually sees them), spread ``alternatives_spread``, values
    ``alternatives_days`` apart correlating ``exp(-1)``. Positive values are better
    alternatives than usual, which lower commitment (``commitment_step``) and make leaving
    thinkable (``wants_out``).
    """
    return slow_walk(alternatives, normal, alternatives_days, alternatives_spread)


@_jitable
def wants_out(satisfaction, alternatives, commitment, dissolution_satisfaction,
              dissolution_commitment):  # fmt: skip
    """1.0 if the person would rather be out and is uncommitted enough to leave today, else 0.0.

    A person considers leaving when what the relationship gives them falls below what they
    could have elsewhere: ``satisfaction - alternatives`` below ``dissolution_satisfaction``
    (the comparison level for alternatives, Thibaut & Kelley 1959; Rusbult 1983), and acts on
    it only when commitment is below ``dissolution_commitment``. Attachment acts on staying only
    through satisfaction, alternatives and commitment (Le et al. 2010), so some unhappy but
    committed couples persist (Kirkpatrick & Davis 1994), and some couples who are not unhappy
    leave when an alternative is good enough (Amato & Hohmann-Marriott 2007).
    """
    return (1.0 * (satisfaction - alternatives < dissolution_satisfaction)
            * (commitment < dissolution_commitment))  # fmt: skip


@_jitable
def unhappy_streak(streak, either_wants_out):
    """Days in a row on which a partner wanted out: one more, or back to 0."""
    return (streak + 1.0) * either_wants_out


@_jitable
def leaves(either_wants_out, draw, dissolution_days):
    """1.0 if the couple ends today, else 0.0: a daily hazard while a partner wants out.

    Leaving is a decision that comes after a period of wanting out, at no fixed day: while a
    partner is both dissatisfied and uncommitted (``wants_out``), the couple ends on any given day
    with probability ``1 / dissolution_days`` (``draw`` is the day's uniform), so the wait is
    geometric with mean ``dissolution_days``. A fixed streak would end every such couple on the
    same day of its unhappiness and make break-ups a wave a fixed time after the start.
    Dissolution is a hazard that falls with time together (Rosenfeld 2014), which comes here from
    couples who recover or were never at risk.
    """
    return 1.0 * (either_wants_out > 0.0) * (draw * dissolution_days < 1.0)


# 13. Strategies as treatments ----------------------------------------------------------------


@_jitable
def treatment_gain(gain, on, after, sessions_per_day, engagement, relapses, session_gain,
                   gain_fading, relapse_fading):  # fmt: skip
    """A couple's benefit from one strategy (0 to 1), advanced by one day.

    While the strategy runs (``on``), each session closes ``session_gain`` of the gap to the
    couple's ``engagement`` (attendance and response, drawn per couple, so no strategy helps
    every couple); ``sessions_per_day`` is the dose. After it ends (``after``) the gain fades:
    slowly (``gain_fading`` per day) for most couples, fast (``relapse_fading``) for the couples
    who relapse (``relapses`` 1.0). Couple therapy helps about half to two thirds of distressed
    couples, and a minority relapse within two years (Shadish & Baldwin 2003; Jacobson,
    Schmaling & Holtzworth-Munroe 1987).
    """
    share = 1.0 - exp(sessions_per_day * np.log1p(-np.minimum(session_gain, 0.999999)))
    during = gain + (engagement - gain) * share
    later = gain * exp(-(gain_fading + relapses * relapse_fading))
    return on * during + after * later + (1.0 - on - after) * gain


@_jitable
def treated_trait(base, gain, norm, max_change, trait_change):
    """A trait after treatment: ``base - trait_change * gain * min(max_change, base - norm)``.

    Treatment moves a trait toward the population norm, never past it, by at most
    ``max_change``; a person already at or below the norm (a secure partner) is left alone.
    """
    room = np.minimum(np.maximum(base - norm, 0.0), max_change)
    return base - trait_change * gain * room


@_jitable
def working_model_after_day(earned, trust, anxiety_base, avoidance_base, working_model_days):
    """How much more (or less) available the partner has turned out than the person expected.

    Attachment orientations are working models: expectations of how available others will be,
    revised, slowly, by experience with a partner (Bowlby 1973; Collins & Read 1994). Security
    tends to rise over the first years of marriage and changes in satisfaction predict changes in
    attachment (Davila, Karney & Bradbury 1999); adult attachment is only moderately stable over
    a year (Fraley, Vicary, Brumbaugh & Roisman 2011); responsive partners move insecure people
    toward security (Arriaga, Kumashiro, Simpson & Overall 2018). The person expects availability
    ``1 - (anxiety_base + avoidance_base) / 2``; ``earned`` follows trust minus that expectation
    with time scale ``working_model_days`` (one step a day). Positive: the partner has been more
    available than expected (earned security); negative: less.
    """
    expected = 1.0 - 0.5 * (anxiety_base + avoidance_base)
    keep = exp(-1.0 / working_model_days)
    return earned * keep + (trust - expected) * (1.0 - keep)


@_jitable
def revised_trait(trait, earned, working_model_change, life_events):
    """A trait after the working model's revision: ``clip01(trait - change earned + life_events)``.

    Experience with the partner revises it (``earned``, ``working_model_after_day``), and so does
    what happens outside the couple: losses, illness, moves, a parent's death, friends and
    other relationships (Davila, Burge & Hammen 1997; Davila & Sargent 2003; Davila & Cobb
    2004). ``life_events`` is each person's slow walk of those (``slow_walk``, spread
    ``life_events_spread``, time scale ``life_events_days``), added to anxiety and avoidance
    alike: positive is less secure. Without it adult attachment would be nearly fixed over a
    year, where its measured one-year stability is moderate (Scharfe & Bartholomew 1994; Fraley,
    Vicary, Brumbaugh & Roisman 2011).
    """
    return clip01(trait - working_model_change * earned + life_events)


@_jitable
def trained_communication(communication, gain, communication_target):
    """Communication after practising open communication: ``+ gain * max(0, target - comm)``.

    ``communication_target`` (0.8) is where practice takes a couple at full benefit: clear, not
    perfect.
    """
    return communication + gain * np.maximum(communication_target - communication, 0.0)


@_jitable
def strategy_scale(value, gain, effect):
    """A quantity scaled by a strategy's benefit: ``value * (1 + effect * gain)``.

    The strategies' multiplicative effects: ``effect`` -0.5 halves the quantity at full benefit
    (withdrawal with style awareness; habituation and rebound with addressing the fears), -1
    removes it (channel mismatch with consistent actions), +1 doubles it (unasked affection).
    """
    return value * (1.0 + effect * gain)
