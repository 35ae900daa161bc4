"""The engine: state arrays for every couple, the hourly tick that composes the rules, recorders.

Layout (struct of arrays; ``n`` couples, person 0 is partner A and person 1 partner B):

* ``S[var, person, couple]``: the live state (``STATE_VARS``), float64.
* ``P[row, couple]``: every dynamics parameter (``DYNAMICS`` order) and the start day of every
  intervention (``KINDS`` order), so that each couple may carry its own values (sweeps).
* ``R[var, person, couple]``: per-couple recorders (``RECORDER_VARS``).
* ``C[var, couple]``: couple state: the day it dissolved (-1 while together) and the current
  streak of days on which a partner wanted out.

``hour`` (one hour of every mechanism) and ``end_of_day`` are written once and run two ways:
compiled by Numba inside ``_advance_loop`` (a fused loop, one couple at a time, all its hours in
registers and cache), or from Python on whole arrays in ``_advance_numpy`` (every couple at once,
the reference path). Both give the same numbers up to the last bits of ``exp``
(tests/test_kernel_engines.py checks it).

Performance notes (benchmarks/kernel.py measures them): the compiled path reads a couple's
parameters once into a tuple and computes the day's context (interventions) once per day, and
the hourly functions are inlined into the loop, so the compiler keeps them in registers and
hoists every factor that depends on parameters only (``exp(-rate * dt)`` of the constant-rate
fades) out of the hourly loop. Only the two state-dependent fades (relief, exhaustion) call
``exp`` every hour, which sets the ceiling (about 12 ns per call here, four calls per
couple-hour). State and recorder rows are padded so that they never lie a multiple of 4 KiB
apart (``_padded``), and the compiled loop uses fast-math flags that keep results within a few
ulps (see ``_compile``).

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
    baseline_security,
    clip01,
    commitment_step,
    exhaustion_after_answering,
    exhaustion_recovery,
    fade,
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
    from numba.np.unsafe.ndarray import to_fixed_tuple as _to_tuple

    HAVE_NUMBA = True

    def _inline(func):
        # Inlined into the caller's Numba IR, so that LLVM sees the whole hourly loop at once
        # and hoists what does not change from hour to hour.
        return _jitable(inline="always")(func)

except ImportError:  # pragma: no cover - numba is a dependency

    def _jitable(func):
        return func

    _inline = _jitable

    def _to_tuple(array, length):
        return tuple(array)

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


@_jitable
def _mix(z):
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@_jitable
def uniform_pair(couple_key, t, purpose):
    """Two independent uniforms in [0, 1) for one couple, hour ``t`` and draw ``purpose``."""
    z = _mix(couple_key + (np.uint64(t) * _DRAWS + np.uint64(purpose)) * _STEP)
    return np.float64(z >> _S32) * _TO_UNIT, np.float64(z & _LOW32) * _TO_UNIT


@_jitable
def couple_key(key, couple_id):
    """Return the per-couple stream key: the run key mixed with the couple's global index."""
    return _mix(key + (couple_id + np.uint64(1)) * _GOLDEN)


@_inline
def _drift(S, par, ctx, i, p, dt, stress_u):
    """Everything that happens to person ``p`` alone during an hour: fading and stressors."""
    on_fears, on_therapy = ctx[CTX_ON_FEARS], ctx[CTX_ON_THERAPY]
    anxiety = S[ANXIETY, p, i]
    trait_rate = _THERAPY_TRAIT_RATE * on_therapy
    S[ANXIETY, p, i] = fade(anxiety, trait_rate + _FEARS_ANXIETY_RATE * on_fears, dt)
    S[AVOIDANCE, p, i] = fade(S[AVOIDANCE, p, i], trait_rate, dt)

    threat = fade(S[THREAT, p, i], par[THREAT_DECAY], dt)
    hit = 1.0 * (stress_u < par[STRESS_RATE] * dt)
    threat = threat_after_stressor(threat, hit, par[STRESS_SIZE], anxiety)

    habituation = S[HABITUATION, p, i]
    relief = S[RELIEF, p, i]
    faded = relief_fading(relief, par[RELIEF_DECAY], habituation, par[HABITUATION_SPEEDUP], dt)
    S[THREAT, p, i] = rebound_threat(threat, relief - faded, ctx[CTX_REBOUND], anxiety)
    S[RELIEF, p, i] = clip01(faded + on_therapy * _THERAPY_SELF_SOOTHING * dt * (1.0 - faded))

    S[HABITUATION, p, i] = fade(habituation, par[HABITUATION_DECAY], dt)
    S[WITHDRAWAL, p, i] = fade(S[WITHDRAWAL, p, i], par[WITHDRAWAL_DECAY], dt)
    S[EXHAUSTION, p, i] = exhaustion_recovery(
        S[EXHAUSTION, p, i], par[RECOVERY_RATE], par[BURNOUT], dt
    )


@_inline
def _security(S, par, i, p, q):
    base = baseline_security(S[ANXIETY, p, i], S[TRUST, p, i], par[TRUST_WEIGHT])
    return felt_security(
        base, S[RELIEF, p, i], S[THREAT, p, i], S[ANXIETY, p, i], S[WITHDRAWAL, q, i],
        par[WITHDRAWAL_THREAT],
    )  # fmt: skip


@_inline
def _decide(S, par, ctx, i, p, q, dt, ask_u, answer_u, affection_u):
    """Person ``p`` may ask; partner ``q`` may answer and may give unasked affection."""
    communication = ctx[CTX_COMMUNICATION]
    p_ask = seek_probability(
        S[SECURITY, p, i], S[ANXIETY, p, i], S[AVOIDANCE, p, i], par[REASSURANCE_FREQUENCY],
        par[SEEK_THRESHOLD], dt,
    )  # fmt: skip
    ask = 1.0 * (ask_u < p_ask)
    p_answer = answer_probability(
        ctx[CTX_RESPONSIVENESS], S[AVOIDANCE, q, i], S[EXHAUSTION, q, i], S[WITHDRAWAL, q, i],
        communication,
    )  # fmt: skip
    answered = ask * (answer_u < p_answer)
    p_affection = affection_probability(
        ctx[CTX_AFFECTION_RATE], S[AVOIDANCE, q, i], S[EXHAUSTION, q, i], S[WITHDRAWAL, q, i], dt
    )
    affection = 1.0 * (affection_u < p_affection)
    quality = answer_quality(
        communication, S[EXPRESSION, p, i], S[EXPRESSION, q, i], ctx[CTX_MISMATCH]
    )
    return ask, answered, affection, quality


@_inline
def _apply(S, par, ctx, R, i, p, q, t, ask, answered, affection, quality, in_first, in_last):
    """Consequences of ``p``'s request (answered or not) and of ``q``'s unasked affection."""
    communication = ctx[CTX_COMMUNICATION]
    rebuffed = ask - answered
    anxiety = S[ANXIETY, p, i]
    relief = relief_after_answer(
        S[RELIEF, p, i], answered, par[RELIEF_GAIN], quality, S[HABITUATION, p, i]
    )
    S[RELIEF, p, i] = relief_after_affection(relief, affection, par[AFFECTION_RELIEF], quality)
    S[HABITUATION, p, i] = habituation_after_reassurance(
        S[HABITUATION, p, i], answered, ctx[CTX_HABITUATION_GAIN], anxiety
    )
    S[THREAT, p, i] = threat_after_rebuff(S[THREAT, p, i], rebuffed, par[REBUFF_HURT], anxiety)
    trust = trust_update(S[TRUST, p, i], answered, rebuffed, par[TRUST_LEARNING_RATE])
    # Unasked affection teaches availability too, at half the rate of an answered request.
    S[TRUST, p, i] = trust_update(trust, affection, 0.0, 0.5 * par[TRUST_LEARNING_RATE])
    S[EXHAUSTION, q, i] = exhaustion_after_answering(
        S[EXHAUSTION, q, i], answered, par[EXHAUSTION_RATE], S[AVOIDANCE, q, i], communication
    )
    S[WITHDRAWAL, q, i] = withdrawal_after_request(
        S[WITHDRAWAL, q, i], ask, ctx[CTX_WITHDRAWAL_GAIN], S[AVOIDANCE, q, i], communication
    )

    # Recorders: requests by window, and relief episodes (answered request -> next request).
    R[REQUESTS, p, i] += ask
    R[ANSWERED, p, i] += answered
    R[REQUESTS_FIRST, p, i] += ask * in_first
    R[REQUESTS_LAST, p, i] += ask * in_last
    R[REQUESTS_TODAY, p, i] += ask
    R[ANSWERED_TODAY, p, i] += answered
    R[AFFECTION_RECEIVED, p, i] += affection
    pending = R[PENDING_TICK, p, i]
    closes = ask * (pending >= 0.0)
    hours = t - pending
    R[RELIEF_FIRST_SUM, p, i] += closes * R[PENDING_FIRST, p, i] * hours
    R[RELIEF_FIRST_N, p, i] += closes * R[PENDING_FIRST, p, i]
    R[RELIEF_LAST_SUM, p, i] += closes * R[PENDING_LAST, p, i] * hours
    R[RELIEF_LAST_N, p, i] += closes * R[PENDING_LAST, p, i]
    R[PENDING_TICK, p, i] = ask * (answered * t - rebuffed) + (1.0 - ask) * pending
    R[PENDING_FIRST, p, i] = ask * answered * in_first + (1.0 - ask) * R[PENDING_FIRST, p, i]
    R[PENDING_LAST, p, i] = ask * answered * in_last + (1.0 - ask) * R[PENDING_LAST, p, i]


@_inline
def day_context(par, day, first_end, last_start):
    """Return what holds for a whole day: interventions on (1.0) or not (0.0), and their effects.

    ``par`` is a couple's parameter column (``P[:, i]`` as a tuple of rows). Returns a tuple
    indexed by the ``CTX_*`` constants. Computed once per couple and day, so the hourly loop
    does not redo it (and the compiler can keep its values in registers).
    """
    on_awareness = 1.0 * (day >= par[START_STYLE_AWARENESS])
    on_communication = 1.0 * (day >= par[START_COMMUNICATION])
    on_actions = 1.0 * (day >= par[START_CONSISTENT_ACTIONS])
    on_fears = 1.0 * (day >= par[START_ADDRESS_FEARS])
    on_therapy = 1.0 * (day >= par[START_THERAPY])
    return (
        on_fears,
        on_therapy,
        np.maximum(par[COMMUNICATION], _COMMUNICATION_LEVEL * on_communication),
        clip01(par[RESPONSIVENESS] + _AWARENESS_RESPONSIVENESS * on_awareness),
        par[WITHDRAWAL_GAIN] * (1.0 - _AWARENESS_WITHDRAWAL * on_awareness),
        par[CHANNEL_MISMATCH] * (1.0 - on_actions),
        par[AFFECTION_RATE] * (1.0 + (_ACTIONS_AFFECTION - 1.0) * on_actions),
        par[HABITUATION_GAIN] * (1.0 - _FEARS_HABITUATION * on_fears),
        par[REBOUND] * (1.0 - _FEARS_REBOUND * on_fears),
        1.0 * (day < first_end),
        1.0 * (day >= last_start),
    )


@_inline
def hour(S, par, ctx, R, key, i, t):
    """Advance couples ``i`` by one hour ``t`` (absolute hour since the start of the run).

    ``i`` is one couple's index (compiled path) or an index array (NumPy path); ``par`` holds
    their parameters (one entry per row of ``P``), ``ctx`` the day's context (``day_context``)
    and ``key`` their random stream keys.
    """
    dt = DT
    stress_a, stress_b = uniform_pair(key, t, 0)
    ask_a, ask_b = uniform_pair(key, t, 1)
    answer_a, answer_b = uniform_pair(key, t, 2)
    affection_a, affection_b = uniform_pair(key, t, 3)

    _drift(S, par, ctx, i, 0, dt, stress_a)
    _drift(S, par, ctx, i, 1, dt, stress_b)
    S[SECURITY, 0, i] = _security(S, par, i, 0, 1)
    S[SECURITY, 1, i] = _security(S, par, i, 1, 0)
    # Both decisions are taken on the same state, so neither partner moves first.
    ask0, ans0, aff0, q0 = _decide(S, par, ctx, i, 0, 1, dt, ask_a, answer_a, affection_a)
    ask1, ans1, aff1, q1 = _decide(S, par, ctx, i, 1, 0, dt, ask_b, answer_b, affection_b)
    in_first, in_last = ctx[CTX_IN_FIRST], ctx[CTX_IN_LAST]
    _apply(S, par, ctx, R, i, 0, 1, t, ask0, ans0, aff0, q0, in_first, in_last)
    _apply(S, par, ctx, R, i, 1, 0, t, ask1, ans1, aff1, q1, in_first, in_last)

    for p in range(2):
        S[SATISFACTION, p, i] = satisfaction_step(
            S[SATISFACTION, p, i], S[SECURITY, p, i], S[TRUST, p, i], S[EXHAUSTION, p, i],
            par[SATISFACTION_RATE], dt,
        )  # fmt: skip
        S[COMMITMENT, p, i] = commitment_step(
            S[COMMITMENT, p, i], S[SATISFACTION, p, i], par[COMMITMENT_RATE], dt
        )


def columns(P, i):
    """Return the parameters of couples ``i`` as a tuple of rows of ``P`` (``par`` of ``hour``)."""
    return tuple(P[:, i])


def tick(S, P, R, keys, i, t, first_end, last_start):
    """Advance couples ``i`` (an index array) by one hour ``t``, from Python (NumPy path).

    A convenience over :func:`hour` for callers that step hour by hour (the teaching traces):
    it gathers the couples' parameters and the day's context itself.
    """
    par = columns(P, i)
    ctx = day_context(par, t // HOURS_PER_DAY, first_end, last_start)
    hour(S, par, ctx, R, keys[i], i, t)


@_jitable
def end_of_day(S, P, R, C, i, day, daily, row, full):
    """Close a day: record it (if ``full``), reset the day's counts, apply the dissolution rule.

    A person wants out on a day when satisfaction is below ``dissolution_satisfaction`` *and*
    commitment below ``dissolution_commitment``; after ``dissolution_days`` such days in a row
    (either partner) the couple dissolves (Le et al. 2010).
    """
    if full:
        for p in range(2):
            for v in range(SECURITY, COMMITMENT + 1):
                daily[row, v - SECURITY, p, i] = S[v, p, i]
            daily[row, N_DAILY - 2, p, i] = R[REQUESTS_TODAY, p, i]
            daily[row, N_DAILY - 1, p, i] = R[ANSWERED_TODAY, p, i]
    wants_out = 0.0 * S[SATISFACTION, 0, i]
    for p in range(2):
        unhappy = (S[SATISFACTION, p, i] < P[DISSOLUTION_SATISFACTION, i]) * (
            S[COMMITMENT, p, i] < P[DISSOLUTION_COMMITMENT, i]
        )
        wants_out = np.maximum(wants_out, 1.0 * unhappy)
    streak = (C[LOW_STREAK, i] + 1.0) * wants_out
    C[LOW_STREAK, i] = streak
    dissolves = (streak >= P[DISSOLUTION_DAYS, i]) * (C[DISSOLVED_DAY, i] < 0.0)
    C[DISSOLVED_DAY, i] = dissolves * day + (1.0 - dissolves) * C[DISSOLVED_DAY, i]


def _aggregate_numpy(S, R, i, agg, row):
    for v in range(SECURITY, COMMITMENT + 1):
        agg[row, v - SECURITY] += S[v][:, i].sum(axis=1)
    agg[row, N_DAILY - 2] += R[REQUESTS_TODAY][:, i].sum(axis=1)
    agg[row, N_DAILY - 1] += R[ANSWERED_TODAY][:, i].sum(axis=1)
    agg[row, N_DAILY] += i.size


def _advance_numpy(S, P, R, C, keys, day0, n_days, first_end, last_start, daily, agg, full):
    """Advance every couple ``n_days`` days, whole arrays at a time (the reference path)."""
    with np.errstate(over="ignore"):  # the hash relies on wrap-around uint64 arithmetic
        for row in range(n_days):
            day = day0 + row
            i = np.flatnonzero(C[DISSOLVED_DAY] < 0.0)
            par = columns(P, i)
            ctx = day_context(par, day, first_end, last_start)
            key = keys[i]
            for h in range(HOURS_PER_DAY):
                hour(S, par, ctx, R, key, i, day * HOURS_PER_DAY + h)
            end_of_day(S, P, R, C, i, day, daily, row, full)
            _aggregate_numpy(S, R, i, agg, row)
            R[REQUESTS_TODAY][:, i] = 0.0
            R[ANSWERED_TODAY][:, i] = 0.0


def _advance_loop(S, P, R, C, keys, day0, n_days, first_end, last_start, daily, agg, full):
    """Advance every couple ``n_days`` days, one couple at a time (compiled by Numba).

    The couple's parameters are read once into a tuple (registers, not memory), so the
    compiler hoists whatever depends on parameters only, such as decay factors, out of the
    hourly loop.
    """
    n = S.shape[2]
    for i in range(n):
        par = _to_tuple(P[:, i], N_P_ROWS)
        key = keys[i]
        for row in range(n_days):
            if C[DISSOLVED_DAY, i] >= 0.0:
                break
            day = day0 + row
            ctx = day_context(par, day, first_end, last_start)
            for h in range(HOURS_PER_DAY):
                hour(S, par, ctx, R, key, i, day * HOURS_PER_DAY + h)
            end_of_day(S, P, R, C, i, day, daily, row, full)
            for p in range(2):
                for v in range(SECURITY, COMMITMENT + 1):
                    agg[row, v - SECURITY, p] += S[v, p, i]
                agg[row, N_DAILY - 2, p] += R[REQUESTS_TODAY, p, i]
                agg[row, N_DAILY - 1, p] += R[ANSWERED_TODAY, p, i]
                R[REQUESTS_TODAY, p, i] = 0.0
                R[ANSWERED_TODAY, p, i] = 0.0
            agg[row, N_DAILY, 0] += 1.0
            agg[row, N_DAILY, 1] += 1.0


def _numba_cache_dir() -> str:
    """Return a cache folder keyed by the engine's source, so edited rules never meet stale code.

    Numba checks only the timestamp of the file that holds the compiled function, not of the
    functions it calls, so a change to rules.py alone would otherwise reuse old machine code.
    """
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("rules.py", "kernel.py", "interventions.py", "params.py"):
        digest.update((here / name).read_bytes())
    base = os.environ.get("RELSIM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "relsim"
    )
    return os.path.join(base, "numba-" + digest.hexdigest()[:16])


def _compile():
    if not HAVE_NUMBA or os.environ.get("RELSIM_ENGINE") == "numpy":
        return None
    import numba
    from numba.core import config

    previous = config.CACHE_DIR
    try:
        config.CACHE_DIR = _numba_cache_dir()
        # Fast-math without reassociation: fused multiply-adds, sign of zero, reciprocals, and
        # "no NaN or infinity" (every state is a finite number in [0, 1], which the invariant
        # tests check), so np.minimum/np.maximum compile to single instructions. Results move
        # by a few ulps (tests/test_kernel_engines.py); about 20% faster.
        fast = {"contract", "nsz", "arcp", "nnan", "ninf"}
        return numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=fast)(_advance_loop)
    finally:
        config.CACHE_DIR = previous


_ADVANCE_COMPILED = None


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
             self.last_start, daily, agg, full)  # fmt: skip
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
