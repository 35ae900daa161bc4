"""The engine: state arrays for every couple, the hourly tick that composes the rules, recorders.

Layout (struct of arrays; ``n`` couples, person 0 is partner A and person 1 partner B):

* ``S[var, person, couple]``: the live state (``STATE_VARS``), float64.
* ``P[row, couple]``: every dynamics parameter (``DYNAMICS`` order) and the start day of every
  intervention (``KINDS`` order), so that each couple may carry its own values (sweeps).
* ``R[var, person, couple]``: per-couple recorders (``RECORDER_VARS``).
* ``C[var, couple]``: couple state: the day it dissolved (-1 while together) and the current
  streak of days on which a partner wanted out.

``hour`` (one hour of every mechanism) and ``close_day`` are written once, on a work table
``W[row, lane]`` (a lane is a couple; rows ``W_*`` below), and run two ways: compiled by Numba in
``_advance_blocks``, which copies ``BLOCK`` couples at a time into a small table, or from Python
in ``_advance_numpy``, where the whole population is one table and every line runs on whole rows
(the reference path). Both give the same numbers up to the last bits of ``exp``
(tests/test_kernel_engines.py checks it).

Performance notes (benchmarks/kernel.py measures them). The compiled path runs each hour as one
loop across the lanes of a block, with no branch and no call left in it, so LLVM vectorises it:
eight couples per instruction with AVX-512, about five times the speed of one couple at a time.
What that needs, each checked by tests/test_kernel_engines.py or found the hard way:

* every rule and helper is inlined into Numba's IR (``inline="always"``); a single call left in
  the loop, even ``min``/``max`` or ``x ** 2``, stops the vectoriser;
* rates that do not change hourly are turned into factors once per block or day (``F_*``,
  ``X_*``), and the two state-dependent fades use the polynomial ``exp`` of ``sim.vexp``;
* the table has a constant shape, so the compiler knows the rows never overlap, but the lane
  loop's trip count arrives as an argument: a loop of a known small count is fully unrolled
  and then no longer vectorised;
* dissolved couples and the spare lanes of the last block are computed like the others (masking
  would cost more) but never recorded nor copied back.

State and recorder rows are padded so that they never lie a multiple of 4 KiB apart
(``_padded``), and the compiled loop uses fast-math flags that keep results within a few ulps
(see ``_compile``).

Random numbers come from a counter-based generator: the draw for couple ``c``, hour ``t`` and
purpose ``k`` is a hash of (run key, ``c``, ``t``, ``k``). A couple's draws therefore do not depend
on how the population is chunked, on how many workers ran it, or on the other couples' parameters
(common random numbers for free).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from . import interventions as iv
from .params import DYNAMICS
from .rules import (
    affection_probability,
    answer_probability,
    answer_quality,
    approach_share,
    baseline_security,
    clip01,
    commitment_step,
    decay_factor,
    exhaustion_after_answering,
    exhaustion_recovery,
    felt_security,
    habituation_after_reassurance,
    rebound_threat,
    relief_after_affection,
    relief_after_answer,
    relief_fading,
    satisfaction_step,
    seek_probability,
    threat_after_rebuff,
    threat_after_stressor,
    trust_update,
    withdrawal_after_request,
)

try:
    from numba.extending import register_jitable as _jitable

    HAVE_NUMBA = True

    def _inline(func):
        # Inlined into the caller's Numba IR, so that LLVM sees the whole hourly loop body at
        # once, with no calls left in it, and can vectorise it across the lanes of a block.
        return _jitable(inline="always")(func)

except ImportError:  # pragma: no cover - numba is a dependency

    def _jitable(func):
        return func

    _inline = _jitable

    HAVE_NUMBA = False

__all__ = [
    "DAILY_VARS",
    "HOURS_PER_DAY",
    "RECORDER_VARS",
    "STATE_VARS",
    "Kernel",
    "run_key",
]

HOURS_PER_DAY = 24
DT = 1.0 / HOURS_PER_DAY

STATE_VARS = (
    "anxiety", "avoidance", "expression", "security", "relief", "habituation", "threat",
    "exhaustion", "withdrawal", "trust", "satisfaction", "commitment",
)  # fmt: skip
(ANXIETY, AVOIDANCE, EXPRESSION, SECURITY, RELIEF, HABITUATION, THREAT, EXHAUSTION, WITHDRAWAL,
 TRUST, SATISFACTION, COMMITMENT) = range(len(STATE_VARS))  # fmt: skip

RECORDER_VARS = (
    "requests", "answered", "requests_first", "requests_last", "relief_first_sum",
    "relief_first_n", "relief_last_sum", "relief_last_n", "pending_tick", "pending_first",
    "pending_last", "affection_received", "requests_today", "answered_today",
)  # fmt: skip
(REQUESTS, ANSWERED, REQUESTS_FIRST, REQUESTS_LAST, RELIEF_FIRST_SUM, RELIEF_FIRST_N,
 RELIEF_LAST_SUM, RELIEF_LAST_N, PENDING_TICK, PENDING_FIRST, PENDING_LAST, AFFECTION_RECEIVED,
 REQUESTS_TODAY, ANSWERED_TODAY) = range(len(RECORDER_VARS))  # fmt: skip

#: What the daily recorder keeps per person: the state, then requests and answers of that day.
DAILY_VARS = (*STATE_VARS[SECURITY:], "requests", "answered")
N_DAILY = len(DAILY_VARS)

DISSOLVED_DAY, LOW_STREAK = 0, 1

# Rows of P, in the order of params.DYNAMICS, then one start-day row per intervention kind.
(REASSURANCE_FREQUENCY, RELIEF_DECAY, EXHAUSTION_RATE, RECOVERY_RATE, BURNOUT, COMMUNICATION,
 STRESS_RATE, STRESS_SIZE, THREAT_DECAY, SEEK_THRESHOLD, RESPONSIVENESS, RELIEF_GAIN,
 HABITUATION_GAIN, HABITUATION_DECAY, HABITUATION_SPEEDUP, REBOUND, REBUFF_HURT,
 TRUST_LEARNING_RATE, TRUST_WEIGHT, WITHDRAWAL_GAIN, WITHDRAWAL_DECAY, WITHDRAWAL_THREAT,
 AFFECTION_RATE, AFFECTION_RELIEF, CHANNEL_MISMATCH, SATISFACTION_RATE, COMMITMENT_RATE,
 DISSOLUTION_SATISFACTION, DISSOLUTION_COMMITMENT, DISSOLUTION_DAYS) = range(30)  # fmt: skip
START_STYLE_AWARENESS, START_COMMUNICATION, START_CONSISTENT_ACTIONS, START_ADDRESS_FEARS, \
    START_THERAPY = range(30, 35)  # fmt: skip
# Entries of a day's context (``day_context``).
(CTX_ON_FEARS, CTX_ON_THERAPY, CTX_COMMUNICATION, CTX_RESPONSIVENESS, CTX_WITHDRAWAL_GAIN,
 CTX_MISMATCH, CTX_AFFECTION_RATE, CTX_HABITUATION_GAIN, CTX_REBOUND, CTX_IN_FIRST,
 CTX_IN_LAST) = range(11)  # fmt: skip
P_ROWS = tuple(DYNAMICS) + tuple(f"start_{k}" for k in iv.KINDS)
N_P_ROWS = len(P_ROWS)
assert len(DYNAMICS) == 30 and P_ROWS[DISSOLUTION_DAYS] == "dissolution_days", "P rows drifted"
assert P_ROWS[START_THERAPY] == "start_therapy", "intervention rows drifted"

# Intervention effects, copied to module constants so that Numba compiles them in.
_AWARENESS_WITHDRAWAL = iv.AWARENESS_WITHDRAWAL
_AWARENESS_RESPONSIVENESS = iv.AWARENESS_RESPONSIVENESS
_COMMUNICATION_LEVEL = iv.COMMUNICATION_LEVEL
_ACTIONS_AFFECTION = iv.ACTIONS_AFFECTION
_FEARS_HABITUATION = iv.FEARS_HABITUATION
_FEARS_REBOUND = iv.FEARS_REBOUND
_FEARS_ANXIETY_RATE = iv.FEARS_ANXIETY_RATE
_THERAPY_TRAIT_RATE = iv.THERAPY_TRAIT_RATE
_THERAPY_SELF_SOOTHING = iv.THERAPY_SELF_SOOTHING

# SplitMix64 constants (Steele, Lea & Flood 2014): a counter hashed twice gives independent draws.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_STEP = np.uint64(0xD1B54A32D192ED03)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_TO_UNIT = 1.0 / 4294967296.0
_DRAWS = np.uint64(4)  # hashes per couple and hour, two uniforms each


def run_key(seed: int) -> np.uint64:
    """Expand a run's seed into the 64-bit key of its counter-based draws (``SeedSequence``)."""
    return np.uint64(np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)[0])


@_inline
def _mix(z):
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@_inline
def uniform_pair(couple_key, t, purpose):
    """Two independent uniforms in [0, 1) for one couple, hour ``t`` and draw ``purpose``."""
    z = _mix(couple_key + (np.uint64(t) * _DRAWS + np.uint64(purpose)) * _STEP)
    return np.float64(z >> _S32) * _TO_UNIT, np.float64(z & _LOW32) * _TO_UNIT


@_jitable
def couple_key(key, couple_id):
    """Return the per-couple stream key: the run key mixed with the couple's global index."""
    return _mix(key + (couple_id + np.uint64(1)) * _GOLDEN)


# The work table -------------------------------------------------------------------------------
#
# Both engines advance couples held in one table ``W[row, lane]``: a lane is a couple, a row one
# quantity. The NumPy path uses one lane per couple of the population; the compiled path copies
# ``BLOCK`` couples at a time into a small table that stays in the first-level cache and runs
# the hourly loop across its lanes, which LLVM turns into SIMD instructions (several couples per
# instruction). The rows:
W_S = 0  # live state: W_S + 2 * var + person (STATE_VARS)
W_R = W_S + 2 * len(STATE_VARS)  # recorders: W_R + 2 * var + person (RECORDER_VARS)
W_C = W_R + 2 * len(RECORDER_VARS)  # couple state: dissolved day, streak of unhappy days
W_P = W_C + 2  # parameters: W_P + row of P
W_F = W_P + N_P_ROWS  # per-couple factors, fixed for the run (F_*)
(F_THREAT, F_HABITUATION, F_WITHDRAWAL, F_SATISFACTION, F_COMMITMENT, F_STRESS) = range(
    W_F, W_F + 6
)  # fmt: skip
W_X = W_F + 6  # the day's context: W_X + CTX_*, then the day's trait fading factors
X_ANXIETY = W_X + 11
X_AVOIDANCE = W_X + 12
W_U = W_X + 13  # the hour's uniform draws: W_U + 2 * purpose + person
N_W = W_U + 8
BLOCK = 16  # lanes of the compiled path's table: 16 couples, 15 KiB, two AVX-512 registers


# Row of person p's state or recorder: S_<VAR> + p, R_<VAR> + p (plain integers, not calls,
# which keeps Numba's compile time down).
(S_ANXIETY, S_AVOIDANCE, S_EXPRESSION, S_SECURITY, S_RELIEF, S_HABITUATION, S_THREAT,
 S_EXHAUSTION, S_WITHDRAWAL, S_TRUST, S_SATISFACTION, S_COMMITMENT) = range(
    W_S, W_S + 2 * len(STATE_VARS), 2)  # fmt: skip
(R_REQUESTS, R_ANSWERED, R_REQUESTS_FIRST, R_REQUESTS_LAST, R_RELIEF_FIRST_SUM,
 R_RELIEF_FIRST_N, R_RELIEF_LAST_SUM, R_RELIEF_LAST_N, R_PENDING_TICK, R_PENDING_FIRST,
 R_PENDING_LAST, R_AFFECTION_RECEIVED, R_REQUESTS_TODAY, R_ANSWERED_TODAY) = range(
    W_R, W_R + 2 * len(RECORDER_VARS), 2)  # fmt: skip
assert S_COMMITMENT == W_S + 2 * COMMITMENT and R_ANSWERED_TODAY == W_R + 2 * ANSWERED_TODAY


@_inline
def couple_factors(W, j):
    """Fill the factors that hold for the whole run: constant-rate fades and shares, per lane."""
    W[F_THREAT, j] = decay_factor(W[W_P + THREAT_DECAY, j], DT)
    W[F_HABITUATION, j] = decay_factor(W[W_P + HABITUATION_DECAY, j], DT)
    W[F_WITHDRAWAL, j] = decay_factor(W[W_P + WITHDRAWAL_DECAY, j], DT)
    W[F_SATISFACTION, j] = approach_share(W[W_P + SATISFACTION_RATE, j], DT)
    W[F_COMMITMENT, j] = approach_share(W[W_P + COMMITMENT_RATE, j], DT)
    W[F_STRESS, j] = W[W_P + STRESS_RATE, j] * DT


@_inline
def day_context(W, j, day, first_end, last_start):
    """Fill what holds for a whole day: interventions on (1.0) or not (0.0), and their effects.

    Computed once per couple and day, so that the hourly loop does not redo it: the ``CTX_*``
    rows, and the day's fading factors of the traits (therapy, addressing the fears).
    """
    on_awareness = 1.0 * (day >= W[W_P + START_STYLE_AWARENESS, j])
    on_communication = 1.0 * (day >= W[W_P + START_COMMUNICATION, j])
    on_actions = 1.0 * (day >= W[W_P + START_CONSISTENT_ACTIONS, j])
    on_fears = 1.0 * (day >= W[W_P + START_ADDRESS_FEARS, j])
    on_therapy = 1.0 * (day >= W[W_P + START_THERAPY, j])
    W[W_X + CTX_ON_FEARS, j] = on_fears
    W[W_X + CTX_ON_THERAPY, j] = on_therapy
    W[W_X + CTX_COMMUNICATION, j] = np.maximum(
        W[W_P + COMMUNICATION, j], _COMMUNICATION_LEVEL * on_communication
    )
    W[W_X + CTX_RESPONSIVENESS, j] = clip01(
        W[W_P + RESPONSIVENESS, j] + _AWARENESS_RESPONSIVENESS * on_awareness
    )
    W[W_X + CTX_WITHDRAWAL_GAIN, j] = W[W_P + WITHDRAWAL_GAIN, j] * (
        1.0 - _AWARENESS_WITHDRAWAL * on_awareness
    )
    W[W_X + CTX_MISMATCH, j] = W[W_P + CHANNEL_MISMATCH, j] * (1.0 - on_actions)
    W[W_X + CTX_AFFECTION_RATE, j] = W[W_P + AFFECTION_RATE, j] * (
        1.0 + (_ACTIONS_AFFECTION - 1.0) * on_actions
    )
    W[W_X + CTX_HABITUATION_GAIN, j] = W[W_P + HABITUATION_GAIN, j] * (
        1.0 - _FEARS_HABITUATION * on_fears
    )
    W[W_X + CTX_REBOUND, j] = W[W_P + REBOUND, j] * (1.0 - _FEARS_REBOUND * on_fears)
    W[W_X + CTX_IN_FIRST, j] = 1.0 * (day < first_end)
    W[W_X + CTX_IN_LAST, j] = 1.0 * (day >= last_start)
    trait_rate = _THERAPY_TRAIT_RATE * on_therapy
    W[X_ANXIETY, j] = decay_factor(trait_rate + _FEARS_ANXIETY_RATE * on_fears, DT)
    W[X_AVOIDANCE, j] = decay_factor(trait_rate, DT)


@_inline
def draws(W, keys, j, t):
    """Fill the hour's uniforms: stress, ask, answer, affection; one per person each."""
    for purpose in range(4):
        W[W_U + 2 * purpose, j], W[W_U + 2 * purpose + 1, j] = uniform_pair(keys[j], t, purpose)


@_inline
def _drift(W, j, p):
    """Everything that happens to person ``p`` alone during an hour: fading and stressors."""
    anxiety = W[S_ANXIETY + p, j]
    W[S_ANXIETY + p, j] = anxiety * W[X_ANXIETY, j]
    W[S_AVOIDANCE + p, j] = W[S_AVOIDANCE + p, j] * W[X_AVOIDANCE, j]

    threat = W[S_THREAT + p, j] * W[F_THREAT, j]
    hit = 1.0 * (W[W_U + p, j] < W[F_STRESS, j])
    threat = threat_after_stressor(threat, hit, W[W_P + STRESS_SIZE, j], anxiety)

    habituation = W[S_HABITUATION + p, j]
    relief = W[S_RELIEF + p, j]
    faded = relief_fading(
        relief, W[W_P + RELIEF_DECAY, j], habituation, W[W_P + HABITUATION_SPEEDUP, j], DT
    )
    W[S_THREAT + p, j] = rebound_threat(threat, relief - faded, W[W_X + CTX_REBOUND, j], anxiety)
    W[S_RELIEF + p, j] = clip01(
        faded + W[W_X + CTX_ON_THERAPY, j] * _THERAPY_SELF_SOOTHING * DT * (1.0 - faded)
    )
    W[S_HABITUATION + p, j] = habituation * W[F_HABITUATION, j]
    W[S_WITHDRAWAL + p, j] = W[S_WITHDRAWAL + p, j] * W[F_WITHDRAWAL, j]
    W[S_EXHAUSTION + p, j] = exhaustion_recovery(
        W[S_EXHAUSTION + p, j], W[W_P + RECOVERY_RATE, j], W[W_P + BURNOUT, j], DT
    )


@_inline
def _security(W, j, p, q):
    base = baseline_security(W[S_ANXIETY + p, j], W[S_TRUST + p, j], W[W_P + TRUST_WEIGHT, j])
    return felt_security(
        base, W[S_RELIEF + p, j], W[S_THREAT + p, j], W[S_ANXIETY + p, j],
        W[S_WITHDRAWAL + q, j], W[W_P + WITHDRAWAL_THREAT, j],
    )  # fmt: skip


@_inline
def _decide(W, j, p, q):
    """Person ``p`` may ask; partner ``q`` may answer and may give unasked affection."""
    communication = W[W_X + CTX_COMMUNICATION, j]
    p_ask = seek_probability(
        W[S_SECURITY + p, j], W[S_ANXIETY + p, j], W[S_AVOIDANCE + p, j],
        W[W_P + REASSURANCE_FREQUENCY, j], W[W_P + SEEK_THRESHOLD, j], DT,
    )  # fmt: skip
    ask = 1.0 * (W[W_U + 2 + p, j] < p_ask)
    p_answer = answer_probability(
        W[W_X + CTX_RESPONSIVENESS, j], W[S_AVOIDANCE + q, j], W[S_EXHAUSTION + q, j],
        W[S_WITHDRAWAL + q, j], communication,
    )  # fmt: skip
    answered = ask * (W[W_U + 4 + p, j] < p_answer)
    p_affection = affection_probability(
        W[W_X + CTX_AFFECTION_RATE, j], W[S_AVOIDANCE + q, j], W[S_EXHAUSTION + q, j],
        W[S_WITHDRAWAL + q, j], DT,
    )  # fmt: skip
    affection = 1.0 * (W[W_U + 6 + p, j] < p_affection)
    quality = answer_quality(
        communication, W[S_EXPRESSION + p, j], W[S_EXPRESSION + q, j], W[W_X + CTX_MISMATCH, j]
    )
    return ask, answered, affection, quality


@_inline
def _apply(W, j, p, q, t, ask, answered, affection, quality):
    """Consequences of ``p``'s request (answered or not) and of ``q``'s unasked affection."""
    communication = W[W_X + CTX_COMMUNICATION, j]
    in_first, in_last = W[W_X + CTX_IN_FIRST, j], W[W_X + CTX_IN_LAST, j]
    rebuffed = ask - answered
    anxiety = W[S_ANXIETY + p, j]
    relief = relief_after_answer(
        W[S_RELIEF + p, j], answered, W[W_P + RELIEF_GAIN, j], quality, W[S_HABITUATION + p, j]
    )
    W[S_RELIEF + p, j] = relief_after_affection(
        relief, affection, W[W_P + AFFECTION_RELIEF, j], quality
    )
    W[S_HABITUATION + p, j] = habituation_after_reassurance(
        W[S_HABITUATION + p, j], answered, W[W_X + CTX_HABITUATION_GAIN, j], anxiety
    )
    W[S_THREAT + p, j] = threat_after_rebuff(
        W[S_THREAT + p, j], rebuffed, W[W_P + REBUFF_HURT, j], anxiety
    )
    learning_rate = W[W_P + TRUST_LEARNING_RATE, j]
    trust = trust_update(W[S_TRUST + p, j], answered, rebuffed, learning_rate)
    # Unasked affection teaches availability too, at half the rate of an answered request.
    W[S_TRUST + p, j] = trust_update(trust, affection, 0.0, 0.5 * learning_rate)
    W[S_EXHAUSTION + q, j] = exhaustion_after_answering(
        W[S_EXHAUSTION + q, j], answered, W[W_P + EXHAUSTION_RATE, j], W[S_AVOIDANCE + q, j],
        communication,
    )  # fmt: skip
    W[S_WITHDRAWAL + q, j] = withdrawal_after_request(
        W[S_WITHDRAWAL + q, j], ask, W[W_X + CTX_WITHDRAWAL_GAIN, j], W[S_AVOIDANCE + q, j],
        communication,
    )  # fmt: skip

    # Recorders: requests by window, and relief episodes (answered request -> next request).
    W[R_REQUESTS + p, j] = W[R_REQUESTS + p, j] + ask
    W[R_ANSWERED + p, j] = W[R_ANSWERED + p, j] + answered
    W[R_REQUESTS_FIRST + p, j] = W[R_REQUESTS_FIRST + p, j] + ask * in_first
    W[R_REQUESTS_LAST + p, j] = W[R_REQUESTS_LAST + p, j] + ask * in_last
    W[R_REQUESTS_TODAY + p, j] = W[R_REQUESTS_TODAY + p, j] + ask
    W[R_ANSWERED_TODAY + p, j] = W[R_ANSWERED_TODAY + p, j] + answered
    W[R_AFFECTION_RECEIVED + p, j] = W[R_AFFECTION_RECEIVED + p, j] + affection
    pending = W[R_PENDING_TICK + p, j]
    pending_first = W[R_PENDING_FIRST + p, j]
    pending_last = W[R_PENDING_LAST + p, j]
    closes = ask * (pending >= 0.0)
    hours = t - pending
    W[R_RELIEF_FIRST_SUM + p, j] = W[R_RELIEF_FIRST_SUM + p, j] + closes * pending_first * hours
    W[R_RELIEF_FIRST_N + p, j] = W[R_RELIEF_FIRST_N + p, j] + closes * pending_first
    W[R_RELIEF_LAST_SUM + p, j] = W[R_RELIEF_LAST_SUM + p, j] + closes * pending_last * hours
    W[R_RELIEF_LAST_N + p, j] = W[R_RELIEF_LAST_N + p, j] + closes * pending_last
    W[R_PENDING_TICK + p, j] = ask * (answered * t - rebuffed) + (1.0 - ask) * pending
    W[R_PENDING_FIRST + p, j] = ask * answered * in_first + (1.0 - ask) * pending_first
    W[R_PENDING_LAST + p, j] = ask * answered * in_last + (1.0 - ask) * pending_last


@_inline
def hour(W, j, t):
    """Advance lanes ``j`` of the work table by one hour ``t`` (absolute hour since the start).

    ``j`` is one lane (compiled path) or an index array of lanes (NumPy path). The day's context
    (``day_context``) and the hour's draws (``draws``) must be in place.
    """
    _drift(W, j, 0)
    _drift(W, j, 1)
    W[S_SECURITY + 0, j] = _security(W, j, 0, 1)
    W[S_SECURITY + 1, j] = _security(W, j, 1, 0)
    # Both decisions are taken on the same state, so neither partner moves first.
    ask0, ans0, aff0, q0 = _decide(W, j, 0, 1)
    ask1, ans1, aff1, q1 = _decide(W, j, 1, 0)
    _apply(W, j, 0, 1, t, ask0, ans0, aff0, q0)
    _apply(W, j, 1, 0, t, ask1, ans1, aff1, q1)
    for p in range(2):
        W[S_SATISFACTION + p, j] = satisfaction_step(
            W[S_SATISFACTION + p, j], W[S_SECURITY + p, j], W[S_TRUST + p, j],
            W[S_EXHAUSTION + p, j], W[F_SATISFACTION, j],
        )  # fmt: skip
        W[S_COMMITMENT + p, j] = commitment_step(
            W[S_COMMITMENT + p, j], W[S_SATISFACTION + p, j], W[F_COMMITMENT, j]
        )


@_inline
def close_day(W, j, day):
    """Apply the dissolution rule at the end of ``day``.

    A person wants out on a day when satisfaction is below ``dissolution_satisfaction`` *and*
    commitment below ``dissolution_commitment``; after ``dissolution_days`` such days in a row
    (either partner) the couple dissolves (Le et al. 2010).
    """
    wants_out = 0.0 * W[W_C + LOW_STREAK, j]
    for p in range(2):
        unhappy = (W[S_SATISFACTION + p, j] < W[W_P + DISSOLUTION_SATISFACTION, j]) * (
            W[S_COMMITMENT + p, j] < W[W_P + DISSOLUTION_COMMITMENT, j]
        )
        wants_out = np.maximum(wants_out, 1.0 * unhappy)
    streak = (W[W_C + LOW_STREAK, j] + 1.0) * wants_out
    W[W_C + LOW_STREAK, j] = streak
    dissolves = (streak >= W[W_P + DISSOLUTION_DAYS, j]) * (W[W_C + DISSOLVED_DAY, j] < 0.0)
    W[W_C + DISSOLVED_DAY, j] = dissolves * day + (1.0 - dissolves) * W[W_C + DISSOLVED_DAY, j]


# The NumPy path: the whole population is one table ---------------------------------------------


def _table(S, P, R, C, i):
    """Return a work table of couples ``i`` (an index array), with the run's factors filled."""
    W = np.empty((N_W, len(i)))
    W[W_S:W_R] = S[:, :, i].reshape(-1, len(i))
    W[W_R:W_C] = R[:, :, i].reshape(-1, len(i))
    W[W_C:W_P] = C[:, i]
    W[W_P:W_F] = P[:, i]
    couple_factors(W, slice(None))
    return W


def _untable(W, S, R, C, i):
    S[:, :, i] = W[W_S:W_R].reshape(len(STATE_VARS), 2, -1)
    R[:, :, i] = W[W_R:W_C].reshape(len(RECORDER_VARS), 2, -1)
    C[:, i] = W[W_C:W_P]


def tick(S, P, R, keys, i, t, first_end, last_start):
    """Advance couples ``i`` (an index array) by one hour ``t``, from Python (NumPy path).

    A convenience over :func:`hour` for callers that step hour by hour (the teaching traces):
    it builds the couples' work table and the day's context itself.
    """
    C = np.full((2, S.shape[2]), -1.0)  # the hour does not touch the couple state
    W = _table(S, P, R, C, i)
    lanes = np.arange(len(i))
    day_context(W, lanes, t // HOURS_PER_DAY, first_end, last_start)
    draws(W, keys[i], lanes, t)
    hour(W, lanes, t)
    _untable(W, S, R, C, i)


def end_of_day(S, P, R, C, i, day, daily, row, full):
    """Close ``day`` for couples ``i`` (an index array): record it if ``full``; dissolution."""
    W = _table(S, P, R, C, i)
    lanes = np.arange(len(i))
    if full:
        _record_numpy(W, lanes, i, daily, row)
    close_day(W, lanes, day)
    C[:, i] = W[W_C:W_P]


def _record_numpy(W, lanes, i, daily, row):
    for p in range(2):
        for v in range(SECURITY, COMMITMENT + 1):
            daily[row, v - SECURITY, p, i] = W[W_S + 2 * v + p, lanes]
        daily[row, N_DAILY - 2, p, i] = W[R_REQUESTS_TODAY + p, lanes]
        daily[row, N_DAILY - 1, p, i] = W[R_ANSWERED_TODAY + p, lanes]


def _advance_numpy(S, P, R, C, keys, day0, n_days, first_end, last_start, daily, agg, full,
                   width):  # fmt: skip
    """Advance every couple ``n_days`` days, whole arrays at a time (the reference path).

    ``width`` (the compiled path's block width) does not apply: the whole population is one table.
    """
    everyone = np.arange(S.shape[2])
    W = _table(S, P, R, C, everyone)
    with np.errstate(over="ignore"):  # the hash relies on wrap-around uint64 arithmetic
        for row in range(n_days):
            day = day0 + row
            i = np.flatnonzero(W[W_C + DISSOLVED_DAY] < 0.0)
            day_context(W, i, day, first_end, last_start)
            for h in range(HOURS_PER_DAY):
                t = day * HOURS_PER_DAY + h
                draws(W, keys, i, t)
                hour(W, i, t)
            if full:
                _record_numpy(W, i, i, daily, row)
            close_day(W, i, day)
            for p in range(2):
                for v in range(SECURITY, COMMITMENT + 1):
                    agg[row, v - SECURITY, p] += W[W_S + 2 * v + p, i].sum()
                agg[row, N_DAILY - 2, p] += W[R_REQUESTS_TODAY + p, i].sum()
                agg[row, N_DAILY - 1, p] += W[R_ANSWERED_TODAY + p, i].sum()
                W[R_REQUESTS_TODAY + p, i] = 0.0
                W[R_ANSWERED_TODAY + p, i] = 0.0
            agg[row, N_DAILY] += i.size
    _untable(W, S, R, C, everyone)


# The compiled path: blocks of couples in a small table ------------------------------------------


@_jitable
def _load_lane(W, kb, j, S, P, R, C, keys, c):
    for v in range(len(STATE_VARS)):
        for p in range(2):
            W[W_S + 2 * v + p, j] = S[v, p, c]
    for v in range(len(RECORDER_VARS)):
        for p in range(2):
            W[W_R + 2 * v + p, j] = R[v, p, c]
    W[W_C + DISSOLVED_DAY, j] = C[DISSOLVED_DAY, c]
    W[W_C + LOW_STREAK, j] = C[LOW_STREAK, c]
    for row in range(N_P_ROWS):
        W[W_P + row, j] = P[row, c]
    kb[j] = keys[c]


@_jitable
def _store_lane(W, j, S, R, C, c):
    for v in range(len(STATE_VARS)):
        for p in range(2):
            S[v, p, c] = W[W_S + 2 * v + p, j]
    for v in range(len(RECORDER_VARS)):
        for p in range(2):
            R[v, p, c] = W[W_R + 2 * v + p, j]
    C[DISSOLVED_DAY, c] = W[W_C + DISSOLVED_DAY, j]
    C[LOW_STREAK, c] = W[W_C + LOW_STREAK, j]


def _advance_blocks(S, P, R, C, keys, day0, n_days, first_end, last_start, daily, agg, full,
                    width):  # fmt: skip
    """Advance every couple ``n_days`` days, ``width`` couples side by side (compiled by Numba).

    Each block is copied into a small work table; its hours run across the block's lanes in
    one branch-free loop, which the compiler vectorises. A lane whose couple has dissolved (or
    a spare lane at the end of the population, filled with a copy of the block's first couple)
    keeps being computed, because masking it out would cost more than it saves, but is never
    recorded nor copied back: a dissolved couple is copied back on the day it dissolves.
    """
    # The table's shape is a constant, so that the compiler knows every row's address relative
    # to the first and can prove that writing one row never changes another. ``width`` (at most
    # ``BLOCK``) comes in as an argument on purpose: LLVM fully unrolls a loop whose trip count
    # it knows to be small, and an unrolled loop is no longer vectorised.
    n = S.shape[2]
    width = min(width, BLOCK)
    W = np.zeros((N_W, BLOCK))
    kb = np.zeros(BLOCK, dtype=np.uint64)
    alive = np.zeros(BLOCK, dtype=np.bool_)
    for b0 in range(0, n, width):
        lanes = min(width, n - b0)
        together = 0
        for j in range(width):
            c = b0 + j if j < lanes else b0
            _load_lane(W, kb, j, S, P, R, C, keys, c)
            alive[j] = j < lanes and C[DISSOLVED_DAY, c] < 0.0
            together += alive[j]
        if together == 0:
            continue
        for j in range(width):
            couple_factors(W, j)
        for row in range(n_days):
            if together == 0:
                break
            day = day0 + row
            for j in range(width):
                day_context(W, j, day, first_end, last_start)
            for h in range(HOURS_PER_DAY):
                t = day * HOURS_PER_DAY + h
                for j in range(width):
                    draws(W, kb, j, t)
                    hour(W, j, t)
            for j in range(lanes):
                if not alive[j]:
                    continue
                c = b0 + j
                if full:
                    for p in range(2):
                        for v in range(SECURITY, COMMITMENT + 1):
                            daily[row, v - SECURITY, p, c] = W[W_S + 2 * v + p, j]
                        daily[row, N_DAILY - 2, p, c] = W[R_REQUESTS_TODAY + p, j]
                        daily[row, N_DAILY - 1, p, c] = W[R_ANSWERED_TODAY + p, j]
                close_day(W, j, day)
                for p in range(2):
                    for v in range(SECURITY, COMMITMENT + 1):
                        agg[row, v - SECURITY, p] += W[W_S + 2 * v + p, j]
                    agg[row, N_DAILY - 2, p] += W[R_REQUESTS_TODAY + p, j]
                    agg[row, N_DAILY - 1, p] += W[R_ANSWERED_TODAY + p, j]
                    W[R_REQUESTS_TODAY + p, j] = 0.0
                    W[R_ANSWERED_TODAY + p, j] = 0.0
                agg[row, N_DAILY, 0] += 1.0
                agg[row, N_DAILY, 1] += 1.0
                if W[W_C + DISSOLVED_DAY, j] >= 0.0:
                    _store_lane(W, j, S, R, C, c)
                    alive[j] = False
                    together -= 1
        for j in range(lanes):
            if alive[j]:
                _store_lane(W, j, S, R, C, b0 + j)


def _numba_cache_dir() -> str:
    """Return a cache folder keyed by the engine's source, so edited rules never meet stale code.

    Numba checks only the timestamp of the file that holds the compiled function, not of the
    functions it calls, so a change to rules.py alone would otherwise reuse old machine code.
    """
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("rules.py", "kernel.py", "interventions.py", "params.py", "vexp.py"):
        digest.update((here / name).read_bytes())
    base = os.environ.get("RELSIM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "relsim"
    )
    return os.path.join(base, "numba-" + digest.hexdigest()[:16])


#: How the compiled path is compiled. Fast-math without reassociation (so that vectorising does
#: not reorder any sum): fused multiply-adds, sign of zero, reciprocals, and "no NaN or infinity"
#: (every state is a finite number in [0, 1], which the invariant tests check), so np.minimum and
#: np.maximum compile to single instructions. Results move by a few ulps
#: (tests/test_kernel_engines.py).
JIT_OPTIONS = {
    "nogil": True,
    "error_model": "numpy",
    "fastmath": {"contract", "nsz", "arcp", "nnan", "ninf"},
}


def _compile():
    if not HAVE_NUMBA or os.environ.get("RELSIM_ENGINE") == "numpy":
        return None
    import numba
    from numba.core import config

    previous = config.CACHE_DIR
    try:
        config.CACHE_DIR = _numba_cache_dir()
        return numba.njit(cache=True, **JIT_OPTIONS)(_advance_blocks)
    finally:
        config.CACHE_DIR = previous


_ADVANCE_COMPILED = None


def needs_compiling() -> bool:
    """Return whether the next compiled run will compile the engine (nothing in Numba's cache).

    Compiling takes about half a minute on a small machine, once per installed version of the
    engine; callers use this to tell people why the first run waits.
    """
    if _ADVANCE_COMPILED is not None or not HAVE_NUMBA:
        return False
    if os.environ.get("RELSIM_ENGINE") == "numpy":
        return False
    for _folder, _dirs, files in os.walk(_numba_cache_dir()):
        if any(f.startswith("kernel._advance_blocks") and f.endswith(".nbi") for f in files):
            return False
    return True


def warm_up() -> None:
    """Compile the engine now (or load it from the cache) by advancing one couple one day."""
    params = np.array([[p.default] for p in DYNAMICS.values()] + [[iv.NEVER]] * len(iv.KINDS))
    traits = np.full((2, 1), 0.5)
    Kernel(traits, traits, traits, params, seed=0, days=1).advance(1)


def _compiled():
    global _ADVANCE_COMPILED
    if _ADVANCE_COMPILED is None:
        _ADVANCE_COMPILED = _compile() or _advance_numpy
    return _ADVANCE_COMPILED


def _padded(leading: tuple[int, ...], n: int) -> np.ndarray:
    """Return zeros of shape ``(*leading, n)`` whose rows start an odd number of cache lines apart.

    The compiled loop touches every row of a couple's column at once. With rows a multiple of
    4 KiB apart (``n`` = 512, 1024, ...: common chunk sizes) they all fall into the same cache
    sets and evict each other, which made the kernel six times slower. Rows of ``m`` floats
    with ``m / 8`` odd spread over all sets; the array is a view of the first ``n`` columns.
    """
    m = n + (-n) % 8
    if (m // 8) % 2 == 0:
        m += 8
    if m == n:  # keep every population a strided view, so Numba compiles one loop, not two
        m += 16
    return np.zeros((*leading, m))[..., :n]


class Kernel:
    """The state of ``n`` couples and the means to advance them day by day.

    Parameters
    ----------
    anxiety, avoidance, expression : numpy.ndarray, shape (2, n)
        Each person's traits, in [0, 1] (row 0 partner A, row 1 partner B).
    params : numpy.ndarray, shape (len(P_ROWS), n)
        Per-couple dynamics parameters and intervention start days (see ``P_ROWS``).
    seed : int
        The run's seed; draws are expanded from it with ``numpy.random.SeedSequence``.
    days : int
        Planned length of the run; sets the last 30-day recording window.
    couple_ids : numpy.ndarray of uint64, optional
        Global index of each couple in its population (default ``0..n-1``). Chunks of one
        population pass their slice, so that a couple's draws do not depend on chunking.
    record_daily : bool
        Keep every couple's daily state (``daily``); the population means (``daily_mean``) are
        always kept.
    engine : {"compiled", "numpy"}
        Numba's fused loop (default) or the whole-array NumPy reference path.

    """

    WINDOW_DAYS = 30

    def __init__(self, anxiety, avoidance, expression, params, *, seed, days, couple_ids=None,
                 record_daily=False, engine="compiled"):  # fmt: skip
        n = params.shape[1]
        if params.shape[0] != len(P_ROWS):
            raise ValueError(f"params must have {len(P_ROWS)} rows, got {params.shape[0]}")
        if engine not in ("compiled", "numpy"):
            raise ValueError(f"engine must be 'compiled' or 'numpy', got {engine!r}")
        self.n = n
        self.days = int(days)
        self.seed = int(seed)
        self.engine = engine
        self.record_daily = bool(record_daily)
        # Read once per couple by the compiled loop, so its layout does not matter: no copy.
        self.P = np.ascontiguousarray(params, dtype=np.float64)
        self.S = _padded((len(STATE_VARS), 2), n)
        self.S[ANXIETY] = anxiety
        self.S[AVOIDANCE] = avoidance
        self.S[EXPRESSION] = expression
        self.S[TRUST] = 0.5
        self.S[SATISFACTION] = 0.7
        self.S[COMMITMENT] = 0.7
        self.S[SECURITY] = baseline_security(self.S[ANXIETY], self.S[TRUST], self.P[TRUST_WEIGHT])
        self.R = _padded((len(RECORDER_VARS), 2), n)
        self.R[PENDING_TICK] = -1.0
        self.C = _padded((2,), n)
        self.C[DISSOLVED_DAY] = -1.0
        ids = np.arange(n, dtype=np.uint64) if couple_ids is None else couple_ids
        ids = np.asarray(ids, dtype=np.uint64)
        with np.errstate(over="ignore"):
            self.keys = couple_key(run_key(self.seed), ids)
        self.day = 0
        self.first_end = min(self.WINDOW_DAYS, self.days)
        self.last_start = max(self.days - self.WINDOW_DAYS, 0)
        self.daily_chunks: list[np.ndarray] = []
        self.mean_chunks: list[np.ndarray] = []

    def advance(self, n_days: int = 1) -> None:
        """Advance every couple by ``n_days`` simulated days (24 hourly ticks each)."""
        if n_days <= 0:
            return
        full = self.record_daily
        daily = np.full((n_days if full else 0, N_DAILY, 2, self.n), np.nan)
        agg = np.zeros((n_days, N_DAILY + 1, 2))
        step = _compiled() if self.engine == "compiled" else _advance_numpy
        step(self.S, self.P, self.R, self.C, self.keys, self.day, n_days, self.first_end,
             self.last_start, daily, agg, full, BLOCK)  # fmt: skip
        self.day += n_days
        if full:
            self.daily_chunks.append(daily)
        alive = np.maximum(agg[:, N_DAILY], 1.0)
        means = agg[:, :N_DAILY] / alive[:, None, :]
        self.mean_chunks.append(np.concatenate([means, agg[:, N_DAILY:]], axis=1))

    @property
    def daily(self) -> np.ndarray:
        """Return every couple's daily record, shape ``(days, len(DAILY_VARS), 2, n)``.

        Entries are NaN for the days after the day a couple dissolved.
        """
        if not self.record_daily:
            raise RuntimeError("daily trajectories were not recorded (record_daily=False)")
        if not self.daily_chunks:
            return np.empty((0, N_DAILY, 2, self.n))
        if len(self.daily_chunks) > 1:
            self.daily_chunks = [np.concatenate(self.daily_chunks)]
        return self.daily_chunks[0]

    @property
    def daily_mean(self) -> np.ndarray:
        """Population means per day, shape ``(days, len(DAILY_VARS) + 1, 2)``.

        The means are over couples still together that day; the last variable is their count.
        """
        if not self.mean_chunks:
            return np.empty((0, N_DAILY + 1, 2))
        if len(self.mean_chunks) > 1:
            self.mean_chunks = [np.concatenate(self.mean_chunks)]
        return self.mean_chunks[0]

    def state(self, name: str) -> np.ndarray:
        """Return the live state ``name`` (one of ``STATE_VARS``), shape ``(2, n)``; a view."""
        return self.S[STATE_VARS.index(name)]

    def recorder(self, name: str) -> np.ndarray:
        """Return the recorder ``name`` (one of ``RECORDER_VARS``), shape ``(2, n)``; a view."""
        return self.R[RECORDER_VARS.index(name)]

    @property
    def dissolved_day(self) -> np.ndarray:
        """Day each couple dissolved, -1 while together; shape ``(n,)``."""
        return self.C[DISSOLVED_DAY]
