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
eight couples per instruction with AVX-512 (``vexp.prefer_wide_vectors``: LLVM would otherwise
use 256-bit registers, four couples), about five times the speed of one couple at a time, and
16 couples a step, two registers per operation (``loop_lanes``), so that the processor has two
independent chains of the hour to overlap.
What that needs, each checked by tests/test_kernel_engines.py or found the hard way:

* every rule and helper is inlined into Numba's IR (``inline="always"``); a single call left in
  the loop, even ``min``/``max`` or ``x ** 2``, stops the vectoriser;
* rates that do not change hourly are turned into factors once per block or day (``F_*``,
  ``X_*``), and the two state-dependent fades use the polynomial ``exp`` of ``sim.engine.vexp``;
* the table has a constant shape, so the compiler knows the rows never overlap, but the lane
  loop's trip count arrives as an argument: a loop of a known small count is fully unrolled
  and then no longer vectorised;
* the loop reads and writes one allocation only (the draw keys are the table's extra row):
  with a second array LLVM adds run-time overlap checks against each row, stops merging them
  past about 100 rows (``-memory-check-merge-threshold``) and then does not vectorise, which is
  what adding the rules' coefficients as parameter rows first did;
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

import ast
import hashlib
import os
import sys
import threading
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .. import interventions as iv
from ..params import DYNAMICS
from . import rules as r
from .rules import clip01
from .vexp import prefer_wide_vectors

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
    "P_ROWS",
    "RECORDER_VARS",
    "STATE_VARS",
    "Kernel",
    "run_key",
]

HOURS_PER_DAY = 24
DT = 1.0 / HOURS_PER_DAY


def _index(names: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(names)}


#: Each person's state. The traits come first (``anxiety`` and ``avoidance`` are the current
#: values, ``*_base`` the values before any treatment; ``care`` is how readily and warmly the
#: person answers and gives affection, apart from attachment: 1 for a named style's person,
#: drawn in populations, ``styles.CARE_SD``), the two slow walks of what happens outside
#: the couple (``appraisal``, ``alternatives``), the working model's revision by experience
#: (``earned_security``) and by what happens outside the couple (``life_events``), the
#: investments that time together builds (``investment``), then the live states that the daily
#: record keeps (``security`` to ``commitment``).
STATE_VARS = (
    "anxiety", "avoidance", "expression", "asking_norm", "care", "anxiety_base", "avoidance_base",
    "appraisal", "alternatives", "earned_security", "life_events", "investment", "security",
    "relief", "habituation", "threat", "exhaustion", "withdrawal", "closeness", "trust",
    "satisfaction", "commitment",
)  # fmt: skip
_S = _index(STATE_VARS)
ANXIETY, AVOIDANCE, EXPRESSION, ASKING_NORM, CARE = (_S[n] for n in STATE_VARS[:5])
ANXIETY_BASE, AVOIDANCE_BASE, APPRAISAL, ALTERNATIVES = (_S[n] for n in STATE_VARS[5:9])
EARNED_SECURITY, LIFE_EVENTS, INVESTMENT, SECURITY, RELIEF, HABITUATION, THREAT = (
    _S[n] for n in STATE_VARS[9:16])  # fmt: skip
EXHAUSTION, WITHDRAWAL, CLOSENESS, TRUST, SATISFACTION, COMMITMENT = (
    _S[n] for n in STATE_VARS[16:])  # fmt: skip

#: Per-person recorders. Relief episodes (``episode_*``) run from an answer until relief has
#: fallen to half its level just after the answer; ``wait_*`` is the older measure, hours from an
#: answered request to the person's next request. The hour counts requests and answers in
#: ``*_today``; ``close_day`` adds them to ``requests``, ``answered`` and the window counts.
RECORDER_VARS = (
    "requests", "answered", "requests_first", "requests_last", "affection_received",
    "warmth_received", "requests_today", "answered_today", "request_day_sum",
    "relief_first_sum", "relief_first_n", "relief_last_sum", "relief_last_n",
    "censored_first", "censored_last", "episode_tick", "episode_target", "episode_first",
    "episode_last", "wait_first_sum", "wait_first_n", "wait_last_sum", "wait_last_n",
    "pending_tick", "pending_first", "pending_last",
)  # fmt: skip
_R = _index(RECORDER_VARS)
REQUESTS, ANSWERED, REQUESTS_FIRST, REQUESTS_LAST = (_R[n] for n in RECORDER_VARS[:4])
AFFECTION_RECEIVED, WARMTH_RECEIVED = _R["affection_received"], _R["warmth_received"]
REQUESTS_TODAY, ANSWERED_TODAY = _R["requests_today"], _R["answered_today"]
REQUEST_DAY_SUM = _R["request_day_sum"]
RELIEF_FIRST_SUM, RELIEF_FIRST_N = _R["relief_first_sum"], _R["relief_first_n"]
RELIEF_LAST_SUM, RELIEF_LAST_N = _R["relief_last_sum"], _R["relief_last_n"]
CENSORED_FIRST, CENSORED_LAST = _R["censored_first"], _R["censored_last"]
EPISODE_TICK, EPISODE_TARGET = _R["episode_tick"], _R["episode_target"]
EPISODE_FIRST, EPISODE_LAST = _R["episode_first"], _R["episode_last"]
WAIT_FIRST_SUM, WAIT_FIRST_N = _R["wait_first_sum"], _R["wait_first_n"]
WAIT_LAST_SUM, WAIT_LAST_N = _R["wait_last_sum"], _R["wait_last_n"]
PENDING_TICK, PENDING_FIRST, PENDING_LAST = (_R[n] for n in RECORDER_VARS[-3:])

#: What the daily recorder keeps per person: the live state, then requests and answers that day.
DAILY_VARS = (*STATE_VARS[SECURITY:], "requests", "answered")
N_DAILY = len(DAILY_VARS)

#: Couple state: the day it dissolved (-1 while together), the streak of days on which a
#: partner wanted out, and the couple's current benefit from each strategy (``KINDS`` order).
COUPLE_VARS = ("dissolved_day", "low_streak", *(f"gain_{kind}" for kind in iv.KINDS))
N_C = len(COUPLE_VARS)
DISSOLVED_DAY, LOW_STREAK, GAIN = 0, 1, 2
GAIN_AWARENESS, GAIN_COMMUNICATION, GAIN_ACTIONS, GAIN_FEARS, GAIN_THERAPY = (
    GAIN + iv.KINDS.index(kind) for kind in
    ("style_awareness", "communication", "consistent_actions", "address_fears", "therapy")
)  # fmt: skip

#: Rows of the per-couple parameter matrix ``P``: every dynamics parameter (``DYNAMICS`` order),
#: then each strategy's schedule (start day, end day, sessions a day), then the couple's
#: engagement in treatment and whether it relapses after one ends (both drawn per couple).
P_ROWS = (
    *DYNAMICS,
    *(f"{what}_{kind}" for kind in iv.KINDS for what in ("start", "end", "sessions")),
    "engagement", "relapses",
)  # fmt: skip
N_P_ROWS = len(P_ROWS)
_P = _index(P_ROWS)
SCHEDULE = _P[f"start_{iv.KINDS[0]}"]  # start, end, sessions of kind i at SCHEDULE + 3 i
ENGAGEMENT, RELAPSES = _P["engagement"], _P["relapses"]

# The dynamics rows the kernel reads, by name.
REASSURANCE_FREQUENCY, RELIEF_DECAY, EXHAUSTION_RATE = (
    _P[n] for n in ("reassurance_frequency", "relief_decay", "exhaustion_rate")
)
STRESS_RATE, STRESS_SIZE, THREAT_DECAY, TRUST_WEIGHT = (
    _P[n] for n in ("stress_rate", "stress_size", "threat_decay", "trust_weight")
)
SEEK_THRESHOLD, SEEK_SOFTNESS = _P["seek_threshold"], _P["seek_softness"]
ROUTINE_ASKING, DISCOURAGEMENT = _P["routine_asking"], _P["discouragement"]
RESPONSIVENESS, COMMUNICATION = _P["responsiveness"], _P["communication"]
AVOIDANT_HOLDBACK = _P["avoidant_holdback"]
EXHAUSTION_COLDNESS, COLD_ANSWER_HURT = _P["exhaustion_coldness"], _P["cold_answer_hurt"]
RELIEF_GAIN, HABITUATION_GAIN, HABITUATION_DECAY, HABITUATION_SPEEDUP = (
    _P[n] for n in ("relief_gain", "habituation_gain", "habituation_decay",
                    "habituation_speedup"))  # fmt: skip
REBOUND, REBUFF_HURT, PUSH_PULL = _P["rebound"], _P["rebuff_hurt"], _P["push_pull"]
RECOVERY_RATE, BURNOUT, EXHAUSTION_WITHDRAWAL = (
    _P[n] for n in ("recovery_rate", "burnout", "exhaustion_withdrawal")
)
TRUST_LEARNING_RATE, REBUFF_LEARNING = _P["trust_learning_rate"], _P["rebuff_learning"]
WITHDRAWAL_GAIN, WITHDRAWAL_DECAY, WITHDRAWAL_THREAT = (
    _P[n] for n in ("withdrawal_gain", "withdrawal_decay", "withdrawal_threat")
)
AFFECTION_RATE, AFFECTION_RELIEF, CHANNEL_MISMATCH = (
    _P[n] for n in ("affection_rate", "affection_relief", "channel_mismatch")
)
CLOSENESS_GAIN, CLOSENESS_DECAY = _P["closeness_gain"], _P["closeness_decay"]
SECURITY_WEIGHT, PARTNER_TRUST_WEIGHT = _P["security_weight"], _P["partner_trust_weight"]
SATISFACTION_RATE, CLOSENESS_WEIGHT, BURDEN_WEIGHT, PURSUIT_WEIGHT = (
    _P[n] for n in ("satisfaction_rate", "closeness_weight", "burden_weight", "pursuit_weight")
)
COMMITMENT_RATE, COMMITMENT_FLOOR = _P["commitment_rate"], _P["commitment_floor"]
ANXIOUS_DEPENDENCE = _P["anxious_dependence"]
INVESTMENT_WEIGHT, INVESTMENT_DAYS = _P["investment_weight"], _P["investment_days"]
APPRAISAL_DAYS, APPRAISAL_SPREAD = _P["appraisal_days"], _P["appraisal_spread"]
SHARED_STRESS = _P["shared_stress"]
ALTERNATIVES_DAYS, ALTERNATIVES_SPREAD = _P["alternatives_days"], _P["alternatives_spread"]
IDEALIZATION, IDEALIZATION_DAYS = _P["idealization"], _P["idealization_days"]
WORKING_MODEL_CHANGE, WORKING_MODEL_DAYS = _P["working_model_change"], _P["working_model_days"]
LIFE_EVENTS_SPREAD, LIFE_EVENTS_DAYS = _P["life_events_spread"], _P["life_events_days"]
DISSOLUTION_SATISFACTION, DISSOLUTION_COMMITMENT, DISSOLUTION_DAYS = (
    _P[n] for n in ("dissolution_satisfaction", "dissolution_commitment", "dissolution_days")
)
SESSION_GAIN, GAIN_FADING, RELAPSE_FADING = (
    _P[n] for n in ("session_gain", "gain_fading", "relapse_fading")
)
ANXIETY_NORM, AVOIDANCE_NORM, MAX_TRAIT_CHANGE, TRAIT_CHANGE, SELF_SOOTHING = (
    _P[n] for n in ("anxiety_norm", "avoidance_norm", "max_trait_change", "trait_change",
                    "self_soothing"))  # fmt: skip
# The rules' coefficients (parameters like the others, so that sweeps, sensitivity and
# calibration reach them).
STRESS_FLOOR, BASE_SECURITY, ANXIETY_INSECURITY, SECURE_HURT = (
    _P[n] for n in ("stress_floor", "base_security", "anxiety_insecurity", "secure_hurt")
)
SECURE_ASKING, WITHDRAWN_ASKING, NORM_ASKING, FEARFUL_ASKING = (
    _P[n] for n in ("secure_asking", "withdrawn_asking", "norm_asking", "fearful_asking")
)
EXHAUSTION_RELUCTANCE, WITHDRAWN_ANSWERING, CLEAR_ANSWERING = (
    _P[n] for n in ("exhaustion_reluctance", "withdrawn_answering", "clear_answering")
)
INSECURE_CAREGIVING, COMPULSIVE_CAREGIVING = (
    _P["insecure_caregiving"], _P["compulsive_caregiving"]
)  # fmt: skip
AVOIDANT_COOLNESS, ANXIOUS_INSENSITIVITY = _P["avoidant_coolness"], _P["anxious_insensitivity"]
CLEAR_QUALITY, SECURE_HABITUATION, PULLBACK = (
    _P[n] for n in ("clear_quality", "secure_habituation", "pullback")
)
AVOIDANT_BURDEN, ANXIOUS_BURDEN, CLEAR_EASE, NORM_BURDEN = (
    _P[n] for n in ("avoidant_burden", "anxious_burden", "clear_ease", "norm_burden")
)
AFFECTION_LEARNING, AVOIDANT_RESERVE = _P["affection_learning"], _P["avoidant_reserve"]
# The strategies' effects at full benefit.
AWARENESS_EFFECT, COMMUNICATION_TARGET, ACTIONS_CHANNEL, ACTIONS_AFFECTION = (
    _P[n] for n in ("awareness_effect", "communication_target", "actions_channel",
                    "actions_affection"))  # fmt: skip
FEARS_HABITUATION, FEARS_REBOUND, FEARS_TRAIT = (
    _P[n] for n in ("fears_habituation", "fears_rebound", "fears_trait")
)
N_KINDS = len(iv.KINDS)

# SplitMix64 constants (Steele, Lea & Flood 2014): a counter hashed twice gives independent draws.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_STEP = np.uint64(0xD1B54A32D192ED03)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_TO_UNIT = 1.0 / 4294967296.0
_DRAWS = np.uint64(4)  # hashes per couple and hour, two uniforms each
_TWO_PI = 2.0 * np.pi
_DAY_DRAWS = 1 << 40  # the day's own draws use "hours" from here on, which no run reaches
_LIFE_DRAWS = 1 << 41  # and the life events' from here (a day's purposes 0-3 are used above)
WEEK = 7  # days: the life events take one step a week, at the close of its last day


@_jitable
def week_ends(day):
    """True on the last day of a week of the run (days 6, 13, 20, ...): the life events' step."""
    return day % WEEK == WEEK - 1


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
# ``BLOCK`` couples at a time into a small table that fits in the first-level data cache and runs
# the hourly loop across its lanes, which LLVM turns into SIMD instructions (several couples per
# instruction). The rows:
W_S = 0  # live state: W_S + 2 * var + person (STATE_VARS)
W_R = W_S + 2 * len(STATE_VARS)  # recorders: W_R + 2 * var + person (RECORDER_VARS)
W_C = W_R + 2 * len(RECORDER_VARS)  # couple state: W_C + COUPLE_VARS index
W_P = W_C + N_C  # parameters: W_P + row of P
W_F = W_P + N_P_ROWS  # per-couple factors, fixed for the run (F_*)
F_VARS = ("threat", "habituation", "withdrawal", "closeness", "satisfaction", "commitment",
          "stress")  # fmt: skip
F_THREAT, F_HABITUATION, F_WITHDRAWAL, F_CLOSENESS, F_SATISFACTION, F_COMMITMENT, F_STRESS = (
    W_F + i for i in range(len(F_VARS)))  # fmt: skip
W_X = W_F + len(F_VARS)  # the day's context, with strategies applied (X_*)
# The last four are per person (row + p): rules whose every argument is fixed for the day,
# evaluated once a day instead of every hour.
X_VARS = ("communication", "withdrawal_gain", "withdrawal_threat", "awareness", "mismatch",
          "affection_rate", "habituation_gain", "rebound", "self_soothing", "in_first",
          "in_last", "quality", "quality_b", "discount", "discount_b", "barrier", "barrier_b",
          "fit", "fit_b", "idealization")  # fmt: skip
(X_COMMUNICATION, X_WITHDRAWAL_GAIN, X_WITHDRAWAL_THREAT, X_AWARENESS, X_MISMATCH,
 X_AFFECTION_RATE, X_HABITUATION_GAIN, X_REBOUND, X_SELF_SOOTHING, X_IN_FIRST, X_IN_LAST,
 X_QUALITY, _, X_DISCOUNT, _, X_BARRIER, _, X_FIT, _, X_IDEALIZATION) = (
    W_X + i for i in range(len(X_VARS)))  # fmt: skip
W_U = W_X + len(X_VARS)  # the hour's uniform draws: W_U + 2 * purpose + person
U_VARS = ("stress", "ask", "answer", "affection")
U_STRESS, U_ASK, U_ANSWER, U_AFFECTION = (W_U + 2 * i for i in range(len(U_VARS)))
N_W = W_U + 2 * len(U_VARS)
#: Lanes of the compiled path's table: 16 couples, two AVX-512 registers a row. The table is then
#: (``N_W`` + 1) x 16 doubles, 32 KB, inside a core's 48 KB first-level data cache; at 32 lanes it
#: had grown to 65 KB, past that cache (the same numbers to the last bit either way; side by side,
#: ``benchmarks/kernel.py --against``, 16 lanes ran 1.09 times as fast in one run of 5 and 1.01
#: times in one of 8: on this shared machine the gain is within the noise).
BLOCK = 16

# Row of person p's state or recorder: S_<VAR> + p, R_<VAR> + p (plain integers, not calls,
# which keeps Numba's compile time down).
(S_ANXIETY, S_AVOIDANCE, S_EXPRESSION, S_ASKING_NORM, S_CARE, S_ANXIETY_BASE,
 S_AVOIDANCE_BASE, S_APPRAISAL, S_ALTERNATIVES, S_EARNED_SECURITY, S_LIFE_EVENTS, S_INVESTMENT,
 S_SECURITY, S_RELIEF, S_HABITUATION, S_THREAT, S_EXHAUSTION, S_WITHDRAWAL, S_CLOSENESS, S_TRUST,
 S_SATISFACTION, S_COMMITMENT) = (
    W_S + 2 * _S[n] for n in STATE_VARS)  # fmt: skip
(R_REQUESTS, R_ANSWERED, R_REQUESTS_FIRST, R_REQUESTS_LAST, R_AFFECTION_RECEIVED,
 R_WARMTH_RECEIVED, R_REQUESTS_TODAY, R_ANSWERED_TODAY, R_REQUEST_DAY_SUM, R_RELIEF_FIRST_SUM,
 R_RELIEF_FIRST_N, R_RELIEF_LAST_SUM, R_RELIEF_LAST_N, R_CENSORED_FIRST, R_CENSORED_LAST,
 R_EPISODE_TICK, R_EPISODE_TARGET, R_EPISODE_FIRST, R_EPISODE_LAST, R_WAIT_FIRST_SUM,
 R_WAIT_FIRST_N, R_WAIT_LAST_SUM, R_WAIT_LAST_N, R_PENDING_TICK, R_PENDING_FIRST,
 R_PENDING_LAST) = (W_R + 2 * _R[n] for n in RECORDER_VARS)  # fmt: skip
C_DISSOLVED_DAY, C_LOW_STREAK = W_C + DISSOLVED_DAY, W_C + LOW_STREAK

C_GAIN_AWARENESS, C_GAIN_COMMUNICATION, C_GAIN_ACTIONS, C_GAIN_FEARS, C_GAIN_THERAPY = (
    W_C + GAIN_AWARENESS, W_C + GAIN_COMMUNICATION, W_C + GAIN_ACTIONS, W_C + GAIN_FEARS,
    W_C + GAIN_THERAPY,
)  # fmt: skip


def p_row(name: str) -> int:
    """Return the row of ``P`` that holds parameter or schedule entry ``name``."""
    return _P[name]


@_inline
def couple_factors(W, j):
    """Fill the factors that hold for the whole run: constant-rate fades and shares, per lane."""
    W[F_THREAT, j] = r.decay_factor(W[W_P + THREAT_DECAY, j], DT)
    W[F_HABITUATION, j] = r.decay_factor(W[W_P + HABITUATION_DECAY, j], DT)
    W[F_WITHDRAWAL, j] = r.decay_factor(W[W_P + WITHDRAWAL_DECAY, j], DT)
    W[F_CLOSENESS, j] = r.decay_factor(W[W_P + CLOSENESS_DECAY, j], DT)
    W[F_SATISFACTION, j] = r.approach_share(W[W_P + SATISFACTION_RATE, j], DT)
    W[F_COMMITMENT, j] = r.approach_share(W[W_P + COMMITMENT_RATE, j], DT)
    W[F_STRESS, j] = W[W_P + STRESS_RATE, j] * DT


@_inline
def day_context(W, j, day, first_end, last_start):
    """Start ``day``: advance each strategy's benefit, set the traits, fill the day's context.

    Computed once per couple and day, so that the hourly loop does not redo it. Each strategy's
    benefit follows ``rules.treatment_gain``; the traits follow ``rules.treated_trait``; the
    context rows (``X_*``) hold the dynamics as the strategies change them.
    """
    for kind in range(N_KINDS):
        start = W[W_P + SCHEDULE + 3 * kind, j]
        end = W[W_P + SCHEDULE + 3 * kind + 1, j]
        on = 1.0 * (day >= start) * (day < end)
        after = 1.0 * (day >= end)
        W[W_C + GAIN + kind, j] = r.treatment_gain(
            W[W_C + GAIN + kind, j], on, after, W[W_P + SCHEDULE + 3 * kind + 2, j],
            W[W_P + ENGAGEMENT, j], W[W_P + RELAPSES, j], W[W_P + SESSION_GAIN, j],
            W[W_P + GAIN_FADING, j], W[W_P + RELAPSE_FADING, j],
        )  # fmt: skip
    therapy = W[C_GAIN_THERAPY, j]
    fears = W[C_GAIN_FEARS, j]
    awareness = W[C_GAIN_AWARENESS, j]
    actions = W[C_GAIN_ACTIONS, j]
    anxiety_gain = np.maximum(therapy, W[W_P + FEARS_TRAIT, j] * fears)
    for p in range(2):
        # Treatment first, then what experience with this partner and outside it has revised (the
        # working model).
        treated_anxiety = r.treated_trait(
            W[S_ANXIETY_BASE + p, j], anxiety_gain, W[W_P + ANXIETY_NORM, j],
            W[W_P + MAX_TRAIT_CHANGE, j], W[W_P + TRAIT_CHANGE, j],
        )  # fmt: skip
        treated_avoidance = r.treated_trait(
            W[S_AVOIDANCE_BASE + p, j], therapy, W[W_P + AVOIDANCE_NORM, j],
            W[W_P + MAX_TRAIT_CHANGE, j], W[W_P + TRAIT_CHANGE, j],
        )  # fmt: skip
        earned, life = W[S_EARNED_SECURITY + p, j], W[S_LIFE_EVENTS + p, j]
        W[S_ANXIETY + p, j] = r.revised_trait(
            treated_anxiety, earned, W[W_P + WORKING_MODEL_CHANGE, j], life
        )
        W[S_AVOIDANCE + p, j] = r.revised_trait(
            treated_avoidance, earned, W[W_P + WORKING_MODEL_CHANGE, j], life
        )
    W[X_COMMUNICATION, j] = r.trained_communication(
        W[W_P + COMMUNICATION, j], W[C_GAIN_COMMUNICATION, j], W[W_P + COMMUNICATION_TARGET, j]
    )
    # The strategies' effects: a share removed is a negative effect (``rules.strategy_scale``).
    awareness_effect = -W[W_P + AWARENESS_EFFECT, j]
    W[X_WITHDRAWAL_GAIN, j] = r.strategy_scale(
        W[W_P + WITHDRAWAL_GAIN, j], awareness, awareness_effect
    )
    W[X_WITHDRAWAL_THREAT, j] = r.strategy_scale(
        W[W_P + WITHDRAWAL_THREAT, j], awareness, awareness_effect
    )
    W[X_AWARENESS, j] = awareness
    W[X_MISMATCH, j] = r.strategy_scale(
        W[W_P + CHANNEL_MISMATCH, j], actions, -W[W_P + ACTIONS_CHANNEL, j]
    )
    W[X_AFFECTION_RATE, j] = r.strategy_scale(
        W[W_P + AFFECTION_RATE, j], actions, W[W_P + ACTIONS_AFFECTION, j]
    )
    W[X_HABITUATION_GAIN, j] = r.strategy_scale(
        W[W_P + HABITUATION_GAIN, j], fears, -W[W_P + FEARS_HABITUATION, j]
    )
    W[X_REBOUND, j] = r.strategy_scale(W[W_P + REBOUND, j], fears, -W[W_P + FEARS_REBOUND, j])
    W[X_SELF_SOOTHING, j] = W[W_P + SELF_SOOTHING, j] * therapy
    W[X_IN_FIRST, j] = 1.0 * (day < first_end)
    W[X_IN_LAST, j] = 1.0 * (day >= last_start)
    W[X_IDEALIZATION, j] = r.idealization_left(
        W[W_P + IDEALIZATION, j], day, W[W_P + IDEALIZATION_DAYS, j]
    )
    # Rules of day-constant quantities only (traits, expression, the day's context): person p
    # receiving from partner q (quality, discount, fit) or answering (barrier).
    for p in range(2):
        q = 1 - p
        W[X_QUALITY + p, j] = r.answer_quality(
            W[X_COMMUNICATION, j], W[S_EXPRESSION + p, j], W[S_EXPRESSION + q, j],
            W[X_MISMATCH, j], W[W_P + CLEAR_QUALITY, j],
        )  # fmt: skip
        W[X_DISCOUNT + p, j] = r.answer_discount(
            W[S_ANXIETY + p, j], W[S_AVOIDANCE + p, j], W[W_P + PUSH_PULL, j]
        )
        W[X_BARRIER + p, j] = r.awareness_barrier(
            W[S_AVOIDANCE + p, j], W[W_P + AVOIDANT_HOLDBACK, j], W[X_AWARENESS, j],
            W[W_P + AWARENESS_EFFECT, j],
        )  # fmt: skip
        # Unasked affection teaches availability as far as it is read as meant (the channel fit).
        W[X_FIT + p, j] = 1.0 - W[X_MISMATCH, j] * np.abs(
            W[S_EXPRESSION + p, j] - W[S_EXPRESSION + q, j]
        )


@_inline
def draws(W, keys, j, t):
    """Fill the hour's uniforms: stress, ask, answer, affection; one per person each."""
    for purpose in range(4):
        W[W_U + 2 * purpose, j], W[W_U + 2 * purpose + 1, j] = uniform_pair(keys[j], t, purpose)


@_inline
def _drift(W, j, p):
    """Everything that happens to person ``p`` alone during an hour: fading and stressors."""
    anxiety = W[S_ANXIETY + p, j]
    threat = W[S_THREAT + p, j] * W[F_THREAT, j]
    hit = 1.0 * (W[U_STRESS + p, j] < W[F_STRESS, j])
    threat = r.threat_after_stressor(
        threat, hit, W[W_P + STRESS_SIZE, j], anxiety, W[W_P + STRESS_FLOOR, j]
    )

    habituation = W[S_HABITUATION + p, j]
    relief = W[S_RELIEF + p, j]
    faded = r.relief_fading(
        relief, W[W_P + RELIEF_DECAY, j], habituation, W[W_P + HABITUATION_SPEEDUP, j], DT
    )
    W[S_THREAT + p, j] = r.rebound_threat(threat, relief - faded, W[X_REBOUND, j], anxiety)
    W[S_RELIEF + p, j] = r.self_soothing(faded, W[X_SELF_SOOTHING, j], DT)
    W[S_HABITUATION + p, j] = habituation * W[F_HABITUATION, j]
    W[S_WITHDRAWAL + p, j] = W[S_WITHDRAWAL + p, j] * W[F_WITHDRAWAL, j]
    W[S_CLOSENESS + p, j] = W[S_CLOSENESS + p, j] * W[F_CLOSENESS, j]
    W[S_EXHAUSTION + p, j] = r.exhaustion_recovery(
        W[S_EXHAUSTION + p, j], W[W_P + RECOVERY_RATE, j], W[W_P + BURNOUT, j], DT
    )


@_inline
def _security(W, j, p, q):
    base = r.baseline_security(
        W[S_ANXIETY + p, j], W[S_TRUST + p, j], W[W_P + TRUST_WEIGHT, j],
        W[W_P + BASE_SECURITY, j], W[W_P + ANXIETY_INSECURITY, j],
    )  # fmt: skip
    return r.felt_security(
        base, W[S_RELIEF + p, j], W[S_THREAT + p, j], W[S_ANXIETY + p, j],
        W[S_WITHDRAWAL + q, j], W[X_WITHDRAWAL_THREAT, j], W[W_P + SECURE_HURT, j],
    )  # fmt: skip


@_inline
def _decide(W, j, p, q):
    """Person ``p`` may ask; partner ``q`` may answer (how warmly) and may give affection."""
    communication = W[X_COMMUNICATION, j]
    p_ask = r.seek_probability(
        W[S_SECURITY + p, j], W[S_ANXIETY + p, j], W[S_AVOIDANCE + p, j],
        W[S_WITHDRAWAL + p, j], W[S_ASKING_NORM + p, j], W[S_TRUST + p, j],
        W[W_P + REASSURANCE_FREQUENCY, j], W[W_P + SEEK_THRESHOLD, j], W[W_P + SEEK_SOFTNESS, j],
        W[W_P + ROUTINE_ASKING, j], W[W_P + DISCOURAGEMENT, j], W[W_P + SECURE_ASKING, j],
        W[W_P + WITHDRAWN_ASKING, j], W[W_P + NORM_ASKING, j], W[W_P + FEARFUL_ASKING, j], DT,
    )  # fmt: skip
    ask = 1.0 * (W[U_ASK + p, j] < p_ask)
    barrier = W[X_BARRIER + q, j]  # rules.awareness_barrier, once a day
    care = W[S_CARE + q, j]  # the answerer's caregiving apart from attachment (1: none)
    p_answer = r.answer_probability(
        W[W_P + RESPONSIVENESS, j] * care, barrier, W[S_ANXIETY + q, j], W[S_EXHAUSTION + q, j],
        W[S_WITHDRAWAL + q, j], W[S_SECURITY + q, j], communication,
        W[W_P + EXHAUSTION_RELUCTANCE, j], W[W_P + WITHDRAWN_ANSWERING, j],
        W[W_P + CLEAR_ANSWERING, j], W[W_P + INSECURE_CAREGIVING, j],
        W[W_P + COMPULSIVE_CAREGIVING, j],
    )  # fmt: skip
    answered = ask * (W[U_ANSWER + p, j] < p_answer)
    warmth = clip01(care * r.answer_warmth(
        W[S_EXHAUSTION + q, j], W[S_AVOIDANCE + q, j], W[S_ANXIETY + q, j],
        W[W_P + EXHAUSTION_COLDNESS, j], W[W_P + AVOIDANT_COOLNESS, j],
        W[W_P + ANXIOUS_INSENSITIVITY, j],
    ))  # fmt: skip
    p_affection = r.affection_probability(
        W[X_AFFECTION_RATE, j] * care, W[S_AVOIDANCE + q, j], W[S_EXHAUSTION + q, j],
        W[S_WITHDRAWAL + q, j], W[W_P + AVOIDANT_RESERVE, j], DT,
    )  # fmt: skip
    affection = 1.0 * (W[U_AFFECTION + p, j] < p_affection)
    quality = W[X_QUALITY + p, j]  # rules.answer_quality, once a day
    return ask, answered, affection, quality, warmth


@_inline
def _apply(W, j, p, q, t, ask, answered, affection, quality, warmth):
    """Consequences of ``p``'s request (answered or not) and of ``q``'s unasked affection."""
    communication = W[X_COMMUNICATION, j]
    rebuffed = ask - answered
    anxiety = W[S_ANXIETY + p, j]
    avoidance = W[S_AVOIDANCE + p, j]
    landed = quality * warmth * W[X_DISCOUNT + p, j]  # rules.answer_discount, once a day
    relief_before = W[S_RELIEF + p, j]
    relief = r.relief_after_answer(
        relief_before, answered, W[W_P + RELIEF_GAIN, j], landed, W[S_HABITUATION + p, j]
    )
    W[S_RELIEF + p, j] = r.relief_after_affection(
        relief, affection, W[W_P + AFFECTION_RELIEF, j], quality
    )
    W[S_HABITUATION + p, j] = r.habituation_after_reassurance(
        W[S_HABITUATION + p, j], answered, W[X_HABITUATION_GAIN, j], anxiety,
        W[W_P + SECURE_HABITUATION, j],
    )  # fmt: skip
    secure_hurt = W[W_P + SECURE_HURT, j]
    threat = r.threat_after_rebuff(
        W[S_THREAT + p, j], rebuffed, W[W_P + REBUFF_HURT, j], anxiety, secure_hurt
    )
    W[S_THREAT + p, j] = r.threat_after_cold_answer(
        threat, answered, warmth, W[W_P + COLD_ANSWER_HURT, j], anxiety, secure_hurt
    )
    learning_rate = W[W_P + TRUST_LEARNING_RATE, j]
    trust = r.trust_update(
        W[S_TRUST + p, j], answered, rebuffed, warmth, learning_rate, W[W_P + REBUFF_LEARNING, j]
    )
    # Unasked affection teaches availability too, at ``affection_learning`` (half) the rate of an
    # answered request, as far as it is read as meant (the channel fit, ``X_FIT``).
    W[S_TRUST + p, j] = r.trust_update(trust, affection, 0.0, W[X_FIT + p, j],
                                       W[W_P + AFFECTION_LEARNING, j] * learning_rate,
                                       0.0)  # fmt: skip
    W[S_CLOSENESS + p, j] = r.closeness_after_exchange(
        W[S_CLOSENESS + p, j], answered * landed + affection * quality,
        W[W_P + CLOSENESS_GAIN, j], avoidance,
    )  # fmt: skip
    W[S_WITHDRAWAL + p, j] = r.withdrawal_after_answer(
        W[S_WITHDRAWAL + p, j], answered, W[W_P + PUSH_PULL, j], anxiety, avoidance,
        W[W_P + PULLBACK, j],
    )  # fmt: skip
    exhaustion_q = W[S_EXHAUSTION + q, j]
    clear_ease = W[W_P + CLEAR_EASE, j]
    W[S_WITHDRAWAL + q, j] = r.withdrawal_after_request(
        W[S_WITHDRAWAL + q, j], ask, W[X_WITHDRAWAL_GAIN, j], W[S_AVOIDANCE + q, j],
        exhaustion_q, W[W_P + EXHAUSTION_WITHDRAWAL, j], communication, clear_ease,
    )  # fmt: skip
    W[S_EXHAUSTION + q, j] = r.exhaustion_after_answering(
        exhaustion_q, answered, W[W_P + EXHAUSTION_RATE, j], W[S_AVOIDANCE + q, j],
        W[S_ANXIETY + q, j], communication, W[S_ASKING_NORM + q, j],
        W[W_P + AVOIDANT_BURDEN, j], W[W_P + ANXIOUS_BURDEN, j], clear_ease,
        W[W_P + NORM_BURDEN, j],
    )  # fmt: skip
    _record_hour(W, j, p, t, ask, answered, affection, warmth, relief_before)


@_inline
def _tally(W, j, sum_row, count_row, counted, hours):
    """Add ``counted`` (1 or 0) episodes of ``hours`` to a window's sum and count rows."""
    W[sum_row, j] = W[sum_row, j] + counted * hours
    W[count_row, j] = W[count_row, j] + counted


@_inline
def _record_hour(W, j, p, t, ask, answered, affection, warmth, relief_before):
    """Recorders: the day's requests and answers, warmth received, the two relief measures.

    The run's request and answer counts (in all and by window) take the day's at its close
    (``close_day``): the hour keeps only the day's own counts.
    """
    in_first, in_last = W[X_IN_FIRST, j], W[X_IN_LAST, j]
    W[R_REQUESTS_TODAY + p, j] = W[R_REQUESTS_TODAY + p, j] + ask
    W[R_ANSWERED_TODAY + p, j] = W[R_ANSWERED_TODAY + p, j] + answered
    W[R_AFFECTION_RECEIVED + p, j] = W[R_AFFECTION_RECEIVED + p, j] + affection
    W[R_WARMTH_RECEIVED + p, j] = W[R_WARMTH_RECEIVED + p, j] + answered * warmth

    # Relief episodes: from an answer until relief has fallen to half its level just after it.
    # An episode still open when the next answer comes cannot be told apart from the new
    # relief: it is counted as censored, in the window where it began.
    start = W[R_EPISODE_TICK + p, j]
    first, last = W[R_EPISODE_FIRST + p, j], W[R_EPISODE_LAST + p, j]
    is_open = 1.0 * (start >= 0.0)
    done = is_open * (relief_before <= W[R_EPISODE_TARGET + p, j])
    hours = t - start
    _tally(W, j, R_RELIEF_FIRST_SUM + p, R_RELIEF_FIRST_N + p, done * first, hours)
    _tally(W, j, R_RELIEF_LAST_SUM + p, R_RELIEF_LAST_N + p, done * last, hours)
    still_open = is_open - done
    censored = still_open * answered
    W[R_CENSORED_FIRST + p, j] = W[R_CENSORED_FIRST + p, j] + censored * first
    W[R_CENSORED_LAST + p, j] = W[R_CENSORED_LAST + p, j] + censored * last
    kept = still_open * start - (1.0 - still_open)  # -1 once closed
    W[R_EPISODE_TICK + p, j] = answered * t + (1.0 - answered) * kept
    W[R_EPISODE_TARGET + p, j] = (answered * 0.5 * W[S_RELIEF + p, j]
                                  + (1.0 - answered) * W[R_EPISODE_TARGET + p, j])  # fmt: skip
    W[R_EPISODE_FIRST + p, j] = answered * in_first + (1.0 - answered) * first
    W[R_EPISODE_LAST + p, j] = answered * in_last + (1.0 - answered) * last

    # The older measure: hours from an answered request to the person's next request.
    pending = W[R_PENDING_TICK + p, j]
    pending_first = W[R_PENDING_FIRST + p, j]
    pending_last = W[R_PENDING_LAST + p, j]
    closes = ask * (pending >= 0.0)
    wait = t - pending
    _tally(W, j, R_WAIT_FIRST_SUM + p, R_WAIT_FIRST_N + p, closes * pending_first, wait)
    _tally(W, j, R_WAIT_LAST_SUM + p, R_WAIT_LAST_N + p, closes * pending_last, wait)
    rebuffed = ask - answered
    W[R_PENDING_TICK + p, j] = ask * (answered * t - rebuffed) + (1.0 - ask) * pending
    W[R_PENDING_FIRST + p, j] = ask * answered * in_first + (1.0 - ask) * pending_first
    W[R_PENDING_LAST + p, j] = ask * answered * in_last + (1.0 - ask) * pending_last


@_inline
def hour(W, j, t, warmth_a=1.0, warmth_b=1.0):
    """Advance lanes ``j`` of the work table by one hour ``t`` (absolute hour since the start).

    ``j`` is one lane (compiled path) or an index array of lanes (NumPy path). The day's context
    (``day_context``) and the hour's draws (``draws``) must be in place. The order of events:
    fading and stressors; felt security; both partners decide on the same state (neither moves
    first); the consequences; satisfaction and commitment. ``warmth_a`` and ``warmth_b`` scale
    the warmth of an answer partner A and B receive: 1 in every run (an exact no-op); the class
    pair game's "brief" answer lowers it, so that game runs this very hour.
    """
    _drift(W, j, 0)
    _drift(W, j, 1)
    W[S_SECURITY + 0, j] = _security(W, j, 0, 1)
    W[S_SECURITY + 1, j] = _security(W, j, 1, 0)
    ask0, ans0, aff0, q0, w0 = _decide(W, j, 0, 1)
    ask1, ans1, aff1, q1, w1 = _decide(W, j, 1, 0)
    _apply(W, j, 0, 1, t, ask0, ans0, aff0, q0, w0 * warmth_a)
    _apply(W, j, 1, 0, t, ask1, ans1, aff1, q1, w1 * warmth_b)
    for p in range(2):
        W[S_SATISFACTION + p, j] = r.satisfaction_step(
            W[S_SATISFACTION + p, j], W[S_APPRAISAL + p, j], W[S_SECURITY + p, j],
            W[S_TRUST + p, j], W[S_CLOSENESS + p, j], W[S_EXHAUSTION + p, j],
            W[S_WITHDRAWAL + p, j], W[X_IDEALIZATION, j], W[W_P + SECURITY_WEIGHT, j],
            W[W_P + PARTNER_TRUST_WEIGHT, j], W[W_P + CLOSENESS_WEIGHT, j],
            W[W_P + BURDEN_WEIGHT, j], W[W_P + PURSUIT_WEIGHT, j], W[F_SATISFACTION, j],
        )  # fmt: skip
        W[S_COMMITMENT + p, j] = r.commitment_step(
            W[S_COMMITMENT + p, j], W[S_SATISFACTION + p, j], W[S_ALTERNATIVES + p, j],
            W[S_ANXIETY + p, j], W[S_INVESTMENT + p, j], W[W_P + COMMITMENT_FLOOR, j],
            W[W_P + ANXIOUS_DEPENDENCE, j], W[W_P + INVESTMENT_WEIGHT, j], W[F_COMMITMENT, j],
        )  # fmt: skip


@_jitable
def _life_events_week(W, keys, j, day):
    """Life events move attachment a step a week, at the close of the last day of each week.

    Every engine calls it before ``close_day`` on the days of ``week_ends``. The weekly normal
    draw (a logarithm and a sine per couple) costs a seventh of a daily one; in the compiled path
    it runs in a loop of its own, because inside ``close_day`` it slowed the whole kernel by
    about 8% (``benchmarks/kernel.py --against``). At the default spread of 0 the walk stays at 0.
    """
    u, v = uniform_pair(keys[j], _LIFE_DRAWS + day, 0)
    radius = np.sqrt(-2.0 * np.log(1.0 - u))
    weeks = W[W_P + LIFE_EVENTS_DAYS, j] / WEEK
    for p in range(2):
        normal = radius * (np.cos(_TWO_PI * v) if p == 0 else np.sin(_TWO_PI * v))
        W[S_LIFE_EVENTS + p, j] = r.slow_walk(
            W[S_LIFE_EVENTS + p, j], normal, weeks, W[W_P + LIFE_EVENTS_SPREAD, j]
        )


@_inline
def close_day(W, keys, j, day, first_end, last_start):
    """End ``day``: the dissolution rule; the day's requests and answers join the run's counts.

    The rule is ``rules.wants_out`` (either partner) and ``rules.leaves`` with the day's own
    uniform (a draw no hour uses); ``rules.unhappy_streak`` keeps the days in a row on which a
    partner wanted out.
    """
    either = np.maximum(
        r.wants_out(W[S_SATISFACTION, j], W[S_ALTERNATIVES, j], W[S_COMMITMENT, j],
                    W[W_P + DISSOLUTION_SATISFACTION, j], W[W_P + DISSOLUTION_COMMITMENT, j]),
        r.wants_out(W[S_SATISFACTION + 1, j], W[S_ALTERNATIVES + 1, j], W[S_COMMITMENT + 1, j],
                    W[W_P + DISSOLUTION_SATISFACTION, j], W[W_P + DISSOLUTION_COMMITMENT, j]),
    )  # fmt: skip
    streak = r.unhappy_streak(W[C_LOW_STREAK, j], either)
    W[C_LOW_STREAK, j] = streak
    draw, _ = uniform_pair(keys[j], _DAY_DRAWS + day, 0)
    ends = r.leaves(either, draw, W[W_P + DISSOLUTION_DAYS, j]) * (W[C_DISSOLVED_DAY, j] < 0.0)
    W[C_DISSOLVED_DAY, j] = ends * day + (1.0 - ends) * W[C_DISSOLVED_DAY, j]
    # The day's outside events: one standard normal per person and one for the couple (Box-Muller
    # on the day's pairs), mixed so that the partners' events correlate ``shared_stress``; and
    # one standard normal per person for the quality of their alternatives.
    u, v = uniform_pair(keys[j], _DAY_DRAWS + day, 1)
    radius = np.sqrt(-2.0 * np.log(1.0 - u))
    u2, v2 = uniform_pair(keys[j], _DAY_DRAWS + day, 2)
    radius2 = np.sqrt(-2.0 * np.log(1.0 - u2))
    u3, v3 = uniform_pair(keys[j], _DAY_DRAWS + day, 3)
    radius3 = np.sqrt(-2.0 * np.log(1.0 - u3))
    shared = W[W_P + SHARED_STRESS, j]
    together = np.sqrt(shared) * radius2 * np.cos(_TWO_PI * v2)
    alone = np.sqrt(1.0 - shared)
    for p in range(2):
        normal = radius * (np.cos(_TWO_PI * v) if p == 0 else np.sin(_TWO_PI * v))
        W[S_APPRAISAL + p, j] = r.appraisal_after_day(
            W[S_APPRAISAL + p, j], together + alone * normal, W[W_P + APPRAISAL_DAYS, j],
            W[W_P + APPRAISAL_SPREAD, j],
        )  # fmt: skip
        W[S_EARNED_SECURITY + p, j] = r.working_model_after_day(
            W[S_EARNED_SECURITY + p, j], W[S_TRUST + p, j], W[S_ANXIETY_BASE + p, j],
            W[S_AVOIDANCE_BASE + p, j], W[W_P + WORKING_MODEL_DAYS, j],
        )  # fmt: skip
        normal3 = radius3 * (np.cos(_TWO_PI * v3) if p == 0 else np.sin(_TWO_PI * v3))
        W[S_ALTERNATIVES + p, j] = r.alternatives_after_day(
            W[S_ALTERNATIVES + p, j], normal3, W[W_P + ALTERNATIVES_DAYS, j],
            W[W_P + ALTERNATIVES_SPREAD, j],
        )  # fmt: skip
        W[S_INVESTMENT + p, j] = r.investment_after_day(
            W[S_INVESTMENT + p, j], W[S_SATISFACTION + p, j], W[W_P + INVESTMENT_DAYS, j]
        )
    # Counted here, once a day, from the day's counts (the hour keeps only those): in all, by
    # 30-day window, and the request trend's running sum.
    in_first, in_last = 1.0 * (day < first_end), 1.0 * (day >= last_start)
    for p in range(2):
        asked = W[R_REQUESTS_TODAY + p, j]
        W[R_REQUESTS + p, j] = W[R_REQUESTS + p, j] + asked
        W[R_ANSWERED + p, j] = W[R_ANSWERED + p, j] + W[R_ANSWERED_TODAY + p, j]
        W[R_REQUESTS_FIRST + p, j] = W[R_REQUESTS_FIRST + p, j] + asked * in_first
        W[R_REQUESTS_LAST + p, j] = W[R_REQUESTS_LAST + p, j] + asked * in_last
        W[R_REQUEST_DAY_SUM + p, j] = W[R_REQUEST_DAY_SUM + p, j] + day * asked


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


def tick(S, P, R, C, keys, i, t, first_end, last_start):
    """Advance couples ``i`` (an index array) by one hour ``t``, from Python (NumPy path).

    A convenience over :func:`hour` for callers that step hour by hour (the teaching traces):
    it builds the couples' work table and, at the first hour of a day, starts the day.
    """
    W = _table(S, P, R, C, i)
    lanes = np.arange(len(i))
    day = t // HOURS_PER_DAY
    if t % HOURS_PER_DAY == 0:
        day_context(W, lanes, day, first_end, last_start)
    else:  # the strategies' benefit already moved at the day's first hour: only refill
        gains = W[W_C + GAIN : W_P].copy()
        day_context(W, lanes, day, first_end, last_start)
        W[W_C + GAIN : W_P] = gains
    draws(W, keys[i], lanes, t)
    hour(W, lanes, t)
    _untable(W, S, R, C, i)


def end_of_day(S, P, R, C, keys, i, day, daily, row, full, first_end, last_start):
    """Close ``day`` for couples ``i`` (an index array): record it if ``full``; dissolution.

    ``first_end`` and ``last_start`` are the 30-day windows of the request counts, as in
    :func:`tick`.
    """
    W = _table(S, P, R, C, i)
    lanes = np.arange(len(i))
    if full:
        _record_day(W, lanes, daily, row, i)
    if week_ends(day):
        _life_events_week(W, keys[i], lanes, day)
    close_day(W, keys[i], lanes, day, first_end, last_start)
    for p in range(2):
        W[R_REQUESTS_TODAY + p, lanes] = 0.0
        W[R_ANSWERED_TODAY + p, lanes] = 0.0
    _untable(W, S, R, C, i)


@_inline
def _record_day(W, j, daily, row, c):
    """Write lanes ``j``'s day into ``daily[row, :, :, c]`` (the per-couple daily record)."""
    for p in range(2):
        for v in range(SECURITY, COMMITMENT + 1):
            daily[row, v - SECURITY, p, c] = W[W_S + 2 * v + p, j]
        daily[row, N_DAILY - 2, p, c] = W[R_REQUESTS_TODAY + p, j]
        daily[row, N_DAILY - 1, p, c] = W[R_ANSWERED_TODAY + p, j]


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
            i = np.flatnonzero(W[C_DISSOLVED_DAY] < 0.0)
            day_context(W, i, day, first_end, last_start)
            for h in range(HOURS_PER_DAY):
                t = day * HOURS_PER_DAY + h
                draws(W, keys, i, t)
                hour(W, i, t)
            if full:
                _record_day(W, i, daily, row, i)
            if week_ends(day):
                _life_events_week(W, keys, i, day)
            close_day(W, keys, i, day, first_end, last_start)
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
    for v in range(N_C):
        W[W_C + v, j] = C[v, c]
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
    for v in range(N_C):
        C[v, c] = W[W_C + v, j]


def _advance_blocks(S, P, R, C, keys, day0, n_days, first_end, last_start, daily, values, full,
                    width, first, stop):  # fmt: skip
    """Advance couples ``first`` to ``stop - 1`` ``n_days`` days, ``width`` side by side (Numba).

    Each block is copied into a small work table; its hours run across the block's lanes in
    one branch-free loop, which the compiler vectorises. A lane whose couple has dissolved (or
    a spare lane at the end of the range, filled with a copy of the block's first couple)
    keeps being computed, because masking it out would cost more than it saves, but is never
    recorded nor copied back: a dissolved couple is copied back on the day it dissolves.

    Couple ``c``'s values at the end of day ``row`` (what the population means sum, and 1 for
    the count of couples together) go to ``values[c - first, row]``; a couple no longer
    together writes nothing. Calls on disjoint ranges touch disjoint columns of ``S``, ``R``,
    ``C`` and ``daily``, and the compiled function releases the GIL, so ``Kernel.advance`` runs
    them on several threads at once and sums ``values`` itself, couple after couple.
    """
    # The table's shape is a constant, so that the compiler knows every row's address relative
    # to the first and can prove that writing one row never changes another. ``width`` (at most
    # ``BLOCK``) comes in as an argument on purpose: LLVM fully unrolls a loop whose trip count
    # it knows to be small, and an unrolled loop is no longer vectorised.
    prefer_wide_vectors()  # 512-bit registers where the machine has them (LLVM prefers 256)
    stop = min(stop, S.shape[2])
    width = min(width, BLOCK)
    # The couples' draw keys live in the table's own allocation (one extra row, read as
    # uint64), so that the hourly loop touches a single array: LLVM then proves from the rows'
    # constant distances that no write reaches another row. A separate keys array needs run-time
    # overlap checks against every row, and past about 100 rows (LLVM's
    # -memory-check-merge-threshold) LLVM stops merging them and gives up vectorising.
    W = np.zeros((N_W + 1, BLOCK))
    kb = W[N_W].view(np.uint64)
    alive = np.zeros(BLOCK, dtype=np.bool_)
    for b0 in range(first, stop, width):
        lanes = min(width, stop - b0)
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
            if week_ends(day):
                for j in range(lanes):
                    if alive[j]:
                        _life_events_week(W, kb, j, day)
            for j in range(lanes):
                if not alive[j]:
                    continue
                c = b0 + j
                if full:
                    _record_day(W, j, daily, row, c)
                close_day(W, kb, j, day, first_end, last_start)
                for p in range(2):
                    for v in range(SECURITY, COMMITMENT + 1):
                        values[c - first, row, v - SECURITY, p] = W[W_S + 2 * v + p, j]
                    values[c - first, row, N_DAILY - 2, p] = W[R_REQUESTS_TODAY + p, j]
                    values[c - first, row, N_DAILY - 1, p] = W[R_ANSWERED_TODAY + p, j]
                    W[R_REQUESTS_TODAY + p, j] = 0.0
                    W[R_ANSWERED_TODAY + p, j] = 0.0
                values[c - first, row, N_DAILY, 0] = 1.0
                values[c - first, row, N_DAILY, 1] = 1.0
                if W[C_DISSOLVED_DAY, j] >= 0.0:
                    _store_lane(W, j, S, R, C, c)
                    alive[j] = False
                    together -= 1
        for j in range(lanes):
            if alive[j]:
                _store_lane(W, j, S, R, C, b0 + j)


def _engine_sources() -> list[Path]:
    """Return this folder's modules and every ``sim`` module they import, directly or not.

    Found by reading their relative imports (the engine imports ``sim`` modules only that way),
    so the list follows the code: a module the engine starts to import joins the cache key.
    """
    todo, found = sorted(Path(__file__).resolve().parent.glob("*.py")), set()
    while todo:
        path = todo.pop()
        if path in found:
            continue
        found.add(path)
        for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = path.parents[node.level - 1]
            names = [node.module] if node.module else [alias.name for alias in node.names]
            for name in names:
                target = base.joinpath(*name.split("."))
                candidates = (target.with_suffix(".py"), target / "__init__.py")
                todo += [module for module in candidates if module.is_file()]
    return sorted(found)


def _numba_cache_dir() -> str:
    """Return a cache folder keyed by the engine's source, so edited rules never meet stale code.

    Numba checks only the timestamp of the file that holds the compiled function, not of the
    functions it calls, so a change to rules.py alone would otherwise reuse old machine code. The
    key hashes every file of ``_engine_sources`` (name and bytes).
    """
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in _engine_sources():
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
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


def loop_lanes() -> int:
    """Lanes per step of the compiled hourly loop: two of this machine's vector registers.

    LLVM picks one register's worth (8 couples with AVX-512) and cannot interleave two steps:
    the table's rows lie ``BLOCK`` lanes apart, so it sees a dependence distance and keeps one
    register per operation. One register's worth of lanes leaves the hour one long chain of
    dependent operations (fade, felt security, the urge, the decisions, their consequences)
    that the processor cannot overlap; with two registers per operation it runs two
    independent chains side by side. 16 lanes are about 1.2 times faster than 8 on this
    project's machine (benchmarks/kernel.py); 32 (four registers) were slower, spilling.
    """
    import llvmlite.binding as llvm

    features = llvm.get_host_cpu_features().flatten()
    doubles = 8 if "+avx512f" in features else 4 if "+avx" in features else 2
    return min(2 * doubles, BLOCK)


@contextmanager
def _lanes_forced(lanes: int):
    """Compile, inside the block, with LLVM's loop vectoriser forced to ``lanes`` lanes.

    The setting is LLVM's process-wide ``-force-vector-width``; Numba's compiler lock keeps
    any other compilation out while it is set, and it is reset to LLVM's own choice after.
    """
    import llvmlite.binding as llvm
    from numba.core.compiler_lock import global_compiler_lock

    with global_compiler_lock, _c_stderr_silenced():
        llvm.set_option("relsim", f"-force-vector-width={lanes}")
        try:
            yield
        finally:
            llvm.set_option("relsim", "-force-vector-width=0")


@contextmanager
def _c_stderr_silenced():
    """Send what C code writes to standard error inside the block to the null device.

    With the width forced, LLVM writes a "remark: loop not vectorized" line for every small loop
    it leaves scalar (the day's bookkeeping, not the hourly loop) straight to file descriptor 2.
    They are not errors, and a person running ``relsim`` for the first time should see only
    relsim's own "compiling" line. Python errors are raised after the block, so they still show.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (some embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _signature():
    """The Numba types of the arguments ``Kernel.advance`` passes to the compiled path."""
    import numba

    S = _padded((len(STATE_VARS), 2), 1)
    R = _padded((len(RECORDER_VARS), 2), 1)
    C = _padded((N_C,), 1)
    daily = np.zeros((0, N_DAILY, 2, 1))
    values = np.zeros((1, 1, N_DAILY + 1, 2))
    args = (S, np.zeros((N_P_ROWS, 1)), R, C, np.zeros(1, np.uint64), 0, 1, 1, 0, daily, values,
            False, BLOCK, 0, 1)  # fmt: skip
    return tuple(numba.typeof(a) for a in args)


def _dispatcher(cache: bool = True):
    """Numba's dispatcher of ``_advance_blocks``, caching in ``_numba_cache_dir`` (not compiled)."""
    import numba
    from numba.core import config

    previous = config.CACHE_DIR
    try:
        config.CACHE_DIR = _numba_cache_dir()
        return numba.njit(cache=cache, **JIT_OPTIONS)(_advance_blocks)
    finally:
        config.CACHE_DIR = previous


def compile_blocks(cache: bool = True):
    """Return ``_advance_blocks`` compiled by Numba, ``loop_lanes()`` lanes a step.

    Loaded from Numba's cache when it holds this source's machine code (``cache``).
    """
    dispatcher = _dispatcher(cache)
    with _lanes_forced(loop_lanes()):
        dispatcher.compile(_signature())
    return dispatcher


def _compile():
    if not HAVE_NUMBA or os.environ.get("RELSIM_ENGINE") == "numpy":
        return None
    return compile_blocks()


_ADVANCE_COMPILED = None


def needs_compiling() -> bool:
    """Return whether the next compiled run will compile the engine (no valid cached machine code).

    Compiling takes about half a minute on a small machine. Numba keeps one cache index per
    source path inside the content-keyed folder (``_numba_cache_dir``) and checks the source
    file's stamp, so the check asks Numba's own index for this very file; if it cannot tell, it
    says the engine may compile. Callers use this to tell people why the first run waits.
    """
    if _ADVANCE_COMPILED is not None or not HAVE_NUMBA:
        return False
    if os.environ.get("RELSIM_ENGINE") == "numpy":
        return False
    try:
        dispatcher = _dispatcher()
        return not dispatcher._cache._cache_file._load_index()  # {} when missing or stale
    except Exception:  # a private Numba API: if it moved, assume the worst and say so
        return True


def warm_up() -> None:
    """Compile the engine now (or load it from the cache) by advancing one couple one day."""
    params = default_params(1)
    Kernel(
        {"anxiety": np.full((2, 1), 0.5), "avoidance": np.full((2, 1), 0.5)}, params, seed=0, days=1
    ).advance(1)


_COMPILE_LOCK = threading.Lock()


COMPILING_MESSAGE = (
    "relsim: compiling the simulation engine for this machine (first run after "
    "installing or updating; about 30-60 s, then cached)..."
)


def _compiled():
    global _ADVANCE_COMPILED
    with _COMPILE_LOCK:  # the dashboard warms up in a thread while a page may already run
        if _ADVANCE_COMPILED is None:
            # Said wherever it happens (the Python API, a notebook, a sweep worker), because
            # half a minute of silence looks like a hang.
            if needs_compiling():
                print(COMPILING_MESSAGE, file=sys.stderr, flush=True)
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


def default_params(n: int) -> np.ndarray:
    """Return a ``P`` matrix for ``n`` couples at the defaults, with no strategy scheduled."""
    P = np.empty((N_P_ROWS, n))
    for name, spec in DYNAMICS.items():
        P[_P[name]] = spec.default
    for kind in iv.KINDS:
        P[_P[f"start_{kind}"]] = iv.NEVER
        P[_P[f"end_{kind}"]] = iv.NEVER
        P[_P[f"sessions_{kind}"]] = 0.0
    P[ENGAGEMENT] = DYNAMICS["treatment_engagement"].default
    P[RELAPSES] = 0.0
    return P


#: Couples per task of the compiled path, a multiple of ``BLOCK``: the unit of work that
#: ``Kernel.advance`` hands to one thread. The population means do not depend on it, nor on the
#: number of threads: every couple's day is added in couple order (``Kernel._advance_segments``).
SEGMENT = 2048
#: Days per task of the compiled path: bounds the buffers of the couples' daily values
#: (``SEGMENT`` x ``PASS_DAYS`` x (``N_DAILY`` + 1) x 2 numbers, 6.8 MB today; one buffer per
#: task in flight, at most the threads + 4).
PASS_DAYS = 16

#: The environment variable that sets how many threads one kernel uses (default: every core).
THREADS_ENV = "RELSIM_THREADS"


def usable_cores() -> int:
    """Return the CPU cores this process may run on (its affinity; else ``os.cpu_count()``)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):  # no affinity call on this platform
        return max(os.cpu_count() or 1, 1)


def default_threads() -> int:
    """Return the threads a kernel uses unless told: ``RELSIM_THREADS`` if set, else every core.

    Raises ValueError, naming what is allowed, when ``RELSIM_THREADS`` is not a whole number of at
    least 1. Empty counts as unset. Processes that already run in parallel (sweep, sensitivity
    and calibration workers) set it to 1 for themselves.
    """
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return usable_cores()
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise ValueError(f"{THREADS_ENV}={value!r} is not a number of threads; allowed: a whole "
                         f"number of at least 1 (this machine has {usable_cores()} usable cores), "
                         f"or unset for all of them")  # fmt: skip
    return int(value)


class Kernel:
    """The state of ``n`` couples and the means to advance them day by day.

    Parameters
    ----------
    people : mapping of str to numpy.ndarray, shape (2, n)
        Each person's starting state by name (``STATE_VARS``; row 0 partner A, row 1 partner B).
        ``anxiety`` and ``avoidance`` are required. Missing entries start at: ``expression`` and
        ``asking_norm`` their ``PERSON`` defaults, ``care`` 1, ``anxiety_base`` and
        ``avoidance_base`` the traits, ``appraisal`` 0, ``trust``, ``satisfaction`` and
        ``commitment`` the couple's ``start_*`` parameters, everything else 0.
    params : numpy.ndarray, shape (len(P_ROWS), n)
        Per-couple dynamics parameters, strategy schedules and treatment draws (``P_ROWS``).
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
    threads : int, optional
        Threads of the compiled path (default ``default_threads()``: ``RELSIM_THREADS``, else
        every usable core). The population is cut into segments of ``SEGMENT`` couples and
        the segments run side by side; populations of fewer than two segments run on the
        calling thread. Results do not depend on it, to the last bit: the population means
        add every couple in couple order, as one thread does. The NumPy path runs on one
        thread.

    """

    WINDOW_DAYS = 30

    def __init__(self, people: Mapping[str, np.ndarray], params, *, seed, days, couple_ids=None,
                 record_daily=False, engine="compiled", threads=None):  # fmt: skip
        from ..params import PERSON

        n = params.shape[1]
        if params.shape[0] != N_P_ROWS:
            raise ValueError(f"params must have {N_P_ROWS} rows, got {params.shape[0]}")
        if engine not in ("compiled", "numpy"):
            raise ValueError(f"engine must be 'compiled' or 'numpy', got {engine!r}")
        unknown = set(people) - set(STATE_VARS)
        if unknown:
            raise ValueError(f"unknown person states {sorted(unknown)}; allowed: "
                             f"{', '.join(STATE_VARS)}")  # fmt: skip
        if threads is None:
            threads = default_threads()
        elif isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
            raise ValueError(f"threads must be a whole number of at least 1, got {threads!r}")
        self.threads = int(threads)
        self.n = n
        self.days = int(days)
        self.seed = int(seed)
        self.engine = engine
        self.record_daily = bool(record_daily)
        # Read once per couple by the compiled loop, so its layout does not matter: no copy.
        self.P = np.ascontiguousarray(params, dtype=np.float64)
        self.S = _padded((len(STATE_VARS), 2), n)
        start = {
            "expression": PERSON["expression"].default,
            "asking_norm": PERSON["asking_norm"].default,
            "care": 1.0,
            "anxiety_base": people["anxiety"],
            "avoidance_base": people["avoidance"],
            "trust": self.P[_P["start_trust"]],
            "satisfaction": self.P[_P["start_satisfaction"]],
            "commitment": self.P[_P["start_commitment"]],
            "investment": self.P[_P["start_investment"]],
        }
        for name in STATE_VARS:
            value = people.get(name, start.get(name, 0.0))
            self.S[_S[name]] = value
        self.S[SECURITY] = clip01(
            r.baseline_security(self.S[ANXIETY], self.S[TRUST], self.P[TRUST_WEIGHT],
                                self.P[BASE_SECURITY], self.P[ANXIETY_INSECURITY])
        )  # fmt: skip
        self.R = _padded((len(RECORDER_VARS), 2), n)
        self.R[PENDING_TICK] = -1.0
        self.R[EPISODE_TICK] = -1.0
        self.C = _padded((N_C,), n)
        self.C[DISSOLVED_DAY] = -1.0
        ids = np.arange(n, dtype=np.uint64) if couple_ids is None else couple_ids
        ids = np.asarray(ids, dtype=np.uint64)
        with np.errstate(over="ignore"):
            self.keys = couple_key(run_key(self.seed), ids)
        self.day = 0
        self.first_end = min(self.WINDOW_DAYS, self.days)
        self.last_start = max(self.days - self.WINDOW_DAYS, 0)
        # Every couple's daily record, kept in one buffer sized for the planned days (grown by
        # doubling if a caller runs past them), so reading it after each day costs nothing.
        self._daily = np.full((self.days if self.record_daily else 0, N_DAILY, 2, n), np.nan)
        self.mean_chunks: list[np.ndarray] = []

    def advance(self, n_days: int = 1, sums: np.ndarray | None = None) -> None:
        """Advance every couple by ``n_days`` simulated days (24 hourly ticks each).

        ``sums``, shape ``(n_days, len(DAILY_VARS) + 1, 2)``, holds each day's sums over couples
        run before these (and their count, last); this call adds its own couples to them and
        writes them back. The compiled path adds couples in index order, so a population run in
        chunks of couples this way (``simulation.run_population``) sums, and averages, exactly
        as one kernel over all of them: the means kept are those of every couple summed so far.
        """
        if n_days <= 0:
            return
        full = self.record_daily
        if full and self.day + n_days > self._daily.shape[0]:
            grown = max(self.day + n_days, 2 * self._daily.shape[0])
            buffer = np.full((grown, N_DAILY, 2, self.n), np.nan)
            buffer[: self.day] = self._daily[: self.day]
            self._daily = buffer
        daily = self._daily[self.day : self.day + n_days] if full else self._daily[:0]
        total = np.zeros((n_days, N_DAILY + 1, 2))
        if sums is not None:
            if sums.shape != total.shape:
                raise ValueError(f"sums must have shape {total.shape}, got {sums.shape}")
            total[...] = sums
        step = _compiled() if self.engine == "compiled" else _advance_numpy
        if step is _advance_numpy:  # the reference path: one table, one thread
            step(self.S, self.P, self.R, self.C, self.keys, self.day, n_days, self.first_end,
                 self.last_start, daily, total, full, BLOCK)  # fmt: skip
        else:
            self._advance_segments(step, n_days, daily, full, total)
        self.day += n_days
        if sums is not None:
            sums[...] = total
        alive = np.maximum(total[:, N_DAILY], 1.0)
        means = total[:, :N_DAILY] / alive[:, None, :]
        self.mean_chunks.append(np.concatenate([means, total[:, N_DAILY:]], axis=1))

    def _advance_segments(self, step, n_days: int, daily: np.ndarray, full: bool,
                          total: np.ndarray) -> None:  # fmt: skip
        """Run the compiled ``step`` on ``self.threads`` threads; add couples' days to ``total``.

        The work is cut into tasks of ``SEGMENT`` couples and at most ``PASS_DAYS`` days. A task
        writes each of its couples' end-of-day values to its own buffer (zeros for a couple no
        longer together). The calling thread adds the buffers to ``total`` task by task, in
        order, couple after couple (``np.add.accumulate``, a running sum): the very additions,
        in the very order, of one pass over every couple, whichever thread ran which task.
        """
        bounds = [(a, min(a + SEGMENT, self.n)) for a in range(0, self.n, SEGMENT)]
        if not bounds:
            return
        tasks = [(d, min(d + PASS_DAYS, n_days), a, b)
                 for d in range(0, n_days, PASS_DAYS) for a, b in bounds]  # fmt: skip
        workers = min(self.threads, len(bounds))
        # Tasks in flight or waiting to be added: a few more than the threads, so that a slow
        # task (the oldest, which is added first) does not leave the others idle; at most one
        # per segment, so that a segment's next days start only once its previous ones are done.
        window = min(workers + 4, len(bounds))
        size = min(SEGMENT, self.n) * min(PASS_DAYS, n_days) * (N_DAILY + 1) * 2
        free = [np.empty(size) for _ in range(window)]

        def run(task, flat: np.ndarray) -> np.ndarray:
            d0, d1, a, b = task
            values = flat[: (b - a) * (d1 - d0) * (N_DAILY + 1) * 2]
            values = values.reshape(b - a, d1 - d0, N_DAILY + 1, 2)
            values.fill(0.0)
            step(self.S, self.P, self.R, self.C, self.keys, self.day + d0, d1 - d0,
                 self.first_end, self.last_start, daily[d0:d1] if full else daily, values,
                 full, BLOCK, a, b)  # fmt: skip
            return values

        def add(task, values: np.ndarray) -> None:
            d0, d1 = task[:2]
            values[0] += total[d0:d1]
            np.add.accumulate(values, axis=0, out=values)
            total[d0:d1] = values[-1]

        if workers <= 1:
            for task in tasks:
                add(task, run(task, free[0]))
            return
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(workers, thread_name_prefix="relsim-kernel")
        pending: deque = deque()
        try:
            for task in tasks:
                if len(pending) == window:
                    done, flat, future = pending.popleft()
                    add(done, future.result())
                    free.append(flat)
                flat = free.pop()
                pending.append((task, flat, pool.submit(run, task, flat)))
            while pending:
                done, _, future = pending.popleft()
                add(done, future.result())
        finally:  # on Ctrl-C: drop the tasks not started, wait for the running ones
            pool.shutdown(wait=True, cancel_futures=True)

    @property
    def daily(self) -> np.ndarray:
        """Return every couple's daily record, shape ``(days, len(DAILY_VARS), 2, n)``.

        Entries are NaN for the days after the day a couple dissolved.
        """
        if not self.record_daily:
            raise RuntimeError("daily trajectories were not recorded (record_daily=False)")
        return self._daily[: self.day]

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
