"""The engine: state arrays for every couple, the hourly tick that composes the rules, recorders.

Layout (struct of arrays; ``n`` couples, person 0 is partner A and person 1 partner B):

* ``S[var, person, couple]``: the live state (``STATE_VARS``), float64.
* ``P[row, couple]``: every dynamics parameter (``DYNAMICS`` order) and the start day of every
  intervention (``KINDS`` order), so that each couple may carry its own values (sweeps).
* ``R[var, person, couple]``: per-couple recorders (``RECORDER_VARS``).
* ``C[var, couple]``: couple state: the day it dissolved (-1 while together) and the current
  streak of days on which a partner wanted out.

``tick`` and ``end_of_day`` are written once and run two ways: compiled by Numba inside
``_advance_compiled`` (a fused loop, one couple at a time, all its hours in registers and cache),
or from Python on whole arrays in ``_advance_numpy`` (every couple at once, the reference path).
Both give the same numbers (tests/test_kernel.py checks it).

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

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - numba is a dependency

    def _jitable(func):
        return func

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
P_ROWS = tuple(DYNAMICS) + tuple(f"start_{k}" for k in iv.KINDS)
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
    """The per-couple stream key: the run key mixed with the couple's global index."""
    return _mix(key + (couple_id + np.uint64(1)) * _GOLDEN)


@_jitable
def _drift(S, P, i, p, dt, stress_u, on_fears, on_therapy, rebound):
    """Everything that happens to person ``p`` alone during an hour: fading and stressors."""
    anxiety = S[ANXIETY, p, i]
    trait_rate = _THERAPY_TRAIT_RATE * on_therapy
    S[ANXIETY, p, i] = fade(anxiety, trait_rate + _FEARS_ANXIETY_RATE * on_fears, dt)
    S[AVOIDANCE, p, i] = fade(S[AVOIDANCE, p, i], trait_rate, dt)

    threat = fade(S[THREAT, p, i], P[THREAT_DECAY, i], dt)
    hit = 1.0 * (stress_u < P[STRESS_RATE, i] * dt)
    threat = threat_after_stressor(threat, hit, P[STRESS_SIZE, i], anxiety)

    habituation = S[HABITUATION, p, i]
    relief = S[RELIEF, p, i]
    faded = relief_fading(relief, P[RELIEF_DECAY, i], habituation, P[HABITUATION_SPEEDUP, i], dt)
    S[THREAT, p, i] = rebound_threat(threat, relief - faded, rebound, anxiety)
    S[RELIEF, p, i] = clip01(faded + on_therapy * _THERAPY_SELF_SOOTHING * dt * (1.0 - faded))

    S[HABITUATION, p, i] = fade(habituation, P[HABITUATION_DECAY, i], dt)
    S[WITHDRAWAL, p, i] = fade(S[WITHDRAWAL, p, i], P[WITHDRAWAL_DECAY, i], dt)
    S[EXHAUSTION, p, i] = exhaustion_recovery(
        S[EXHAUSTION, p, i], P[RECOVERY_RATE, i], P[BURNOUT, i], dt
    )


@_jitable
def _security(S, P, i, p, q):
    base = baseline_security(S[ANXIETY, p, i], S[TRUST, p, i], P[TRUST_WEIGHT, i])
    return felt_security(
        base, S[RELIEF, p, i], S[THREAT, p, i], S[ANXIETY, p, i], S[WITHDRAWAL, q, i],
        P[WITHDRAWAL_THREAT, i],
    )  # fmt: skip


@_jitable
def _decide(S, P, i, p, q, dt, ask_u, answer_u, affection_u, communication, responsiveness,
            mismatch, affection_rate):  # fmt: skip
    """Person ``p`` may ask; partner ``q`` may answer and may give unasked affection."""
    p_ask = seek_probability(
        S[SECURITY, p, i], S[ANXIETY, p, i], S[AVOIDANCE, p, i], P[REASSURANCE_FREQUENCY, i],
        P[SEEK_THRESHOLD, i], dt,
    )  # fmt: skip
    ask = 1.0 * (ask_u < p_ask)
    p_answer = answer_probability(
        responsiveness, S[AVOIDANCE, q, i], S[EXHAUSTION, q, i], S[WITHDRAWAL, q, i], communication
    )
    answered = ask * (answer_u < p_answer)
    p_affection = affection_probability(
        affection_rate, S[AVOIDANCE, q, i], S[EXHAUSTION, q, i], S[WITHDRAWAL, q, i], dt
    )
    affection = 1.0 * (affection_u < p_affection)
    quality = answer_quality(communication, S[EXPRESSION, p, i], S[EXPRESSION, q, i], mismatch)
    return ask, answered, affection, quality


@_jitable
def _apply(S, P, R, i, p, q, t, day, ask, answered, affection, quality, communication,
           habituation_gain, withdrawal_gain, first_end, last_start):  # fmt: skip
    """Consequences of ``p``'s request (answered or not) and of ``q``'s unasked affection."""
    rebuffed = ask - answered
    anxiety = S[ANXIETY, p, i]
    relief = relief_after_answer(
        S[RELIEF, p, i], answered, P[RELIEF_GAIN, i], quality, S[HABITUATION, p, i]
    )
    S[RELIEF, p, i] = relief_after_affection(relief, affection, P[AFFECTION_RELIEF, i], quality)
    S[HABITUATION, p, i] = habituation_after_reassurance(
        S[HABITUATION, p, i], answered, habituation_gain, anxiety
    )
    S[THREAT, p, i] = threat_after_rebuff(S[THREAT, p, i], rebuffed, P[REBUFF_HURT, i], anxiety)
    trust = trust_update(S[TRUST, p, i], answered, rebuffed, P[TRUST_LEARNING_RATE, i])
    # Unasked affection teaches availability too, at half the rate of an answered request.
    S[TRUST, p, i] = trust_update(trust, affection, 0.0, 0.5 * P[TRUST_LEARNING_RATE, i])
    S[EXHAUSTION, q, i] = exhaustion_after_answering(
        S[EXHAUSTION, q, i], answered, P[EXHAUSTION_RATE, i], S[AVOIDANCE, q, i], communication
    )
    S[WITHDRAWAL, q, i] = withdrawal_after_request(
        S[WITHDRAWAL, q, i], ask, withdrawal_gain, S[AVOIDANCE, q, i]
    )

    # Recorders: requests by window, and relief episodes (answered request -> next request).
    in_first = 1.0 * (day < first_end)
    in_last = 1.0 * (day >= last_start)
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


@_jitable
def tick(S, P, R, keys, i, t, first_end, last_start):
    """Advance couples ``i`` by one hour ``t`` (absolute hour since the start of the run).

    ``i`` is one couple's index (compiled path) or an index array (NumPy path). ``keys`` holds
    each couple's random stream key; ``first_end`` and ``last_start`` are the days bounding the
    first and last recording windows.
    """
    dt = DT
    day = t // HOURS_PER_DAY
    # Interventions switched on by now (1.0) or not (0.0).
    on_awareness = 1.0 * (day >= P[START_STYLE_AWARENESS, i])
    on_communication = 1.0 * (day >= P[START_COMMUNICATION, i])
    on_actions = 1.0 * (day >= P[START_CONSISTENT_ACTIONS, i])
    on_fears = 1.0 * (day >= P[START_ADDRESS_FEARS, i])
    on_therapy = 1.0 * (day >= P[START_THERAPY, i])
    communication = np.maximum(P[COMMUNICATION, i], _COMMUNICATION_LEVEL * on_communication)
    responsiveness = clip01(P[RESPONSIVENESS, i] + _AWARENESS_RESPONSIVENESS * on_awareness)
    withdrawal_gain = P[WITHDRAWAL_GAIN, i] * (1.0 - _AWARENESS_WITHDRAWAL * on_awareness)
    mismatch = P[CHANNEL_MISMATCH, i] * (1.0 - on_actions)
    affection_rate = P[AFFECTION_RATE, i] * (1.0 + (_ACTIONS_AFFECTION - 1.0) * on_actions)
    habituation_gain = P[HABITUATION_GAIN, i] * (1.0 - _FEARS_HABITUATION * on_fears)
    rebound = P[REBOUND, i] * (1.0 - _FEARS_REBOUND * on_fears)

    key = keys[i]
    stress_a, stress_b = uniform_pair(key, t, 0)
    ask_a, ask_b = uniform_pair(key, t, 1)
    answer_a, answer_b = uniform_pair(key, t, 2)
    affection_a, affection_b = uniform_pair(key, t, 3)

    _drift(S, P, i, 0, dt, stress_a, on_fears, on_therapy, rebound)
    _drift(S, P, i, 1, dt, stress_b, on_fears, on_therapy, rebound)
    S[SECURITY, 0, i] = _security(S, P, i, 0, 1)
    S[SECURITY, 1, i] = _security(S, P, i, 1, 0)
    # Both decisions are taken on the same state, so neither partner moves first.
    ask0, ans0, aff0, q0 = _decide(S, P, i, 0, 1, dt, ask_a, answer_a, affection_a,
                                   communication, responsiveness, mismatch, affection_rate)
    ask1, ans1, aff1, q1 = _decide(S, P, i, 1, 0, dt, ask_b, answer_b, affection_b,
                                   communication, responsiveness, mismatch, affection_rate)
    _apply(S, P, R, i, 0, 1, t, day, ask0, ans0, aff0, q0, communication, habituation_gain,
           withdrawal_gain, first_end, last_start)
    _apply(S, P, R, i, 1, 0, t, day, ask1, ans1, aff1, q1, communication, habituation_gain,
           withdrawal_gain, first_end, last_start)  # fmt: skip

    for p in range(2):
        S[SATISFACTION, p, i] = satisfaction_step(
            S[SATISFACTION, p, i], S[SECURITY, p, i], S[TRUST, p, i], S[EXHAUSTION, p, i],
            P[SATISFACTION_RATE, i], dt,
        )  # fmt: skip
        S[COMMITMENT, p, i] = commitment_step(
            S[COMMITMENT, p, i], S[SATISFACTION, p, i], P[COMMITMENT_RATE, i], dt
        )


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
            for hour in range(HOURS_PER_DAY):
                tick(S, P, R, keys, i, day * HOURS_PER_DAY + hour, first_end, last_start)
            end_of_day(S, P, R, C, i, day, daily, row, full)
            _aggregate_numpy(S, R, i, agg, row)
            R[REQUESTS_TODAY][:, i] = 0.0
            R[ANSWERED_TODAY][:, i] = 0.0


def _advance_loop(S, P, R, C, keys, day0, n_days, first_end, last_start, daily, agg, full):
    """Advance every couple ``n_days`` days, one couple at a time (compiled by Numba)."""
    n = S.shape[2]
    for i in range(n):
        for row in range(n_days):
            if C[DISSOLVED_DAY, i] >= 0.0:
                break
            day = day0 + row
            for hour in range(HOURS_PER_DAY):
                tick(S, P, R, keys, i, day * HOURS_PER_DAY + hour, first_end, last_start)
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
    """A cache folder keyed by the engine's source, so that edited rules never meet stale code.

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
        return numba.njit(cache=True, nogil=True)(_advance_loop)
    finally:
        config.CACHE_DIR = previous


_ADVANCE_COMPILED = None


def _compiled():
    global _ADVANCE_COMPILED
    if _ADVANCE_COMPILED is None:
        _ADVANCE_COMPILED = _compile() or _advance_numpy
    return _ADVANCE_COMPILED


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
        self.P = np.ascontiguousarray(params, dtype=np.float64)
        self.S = np.zeros((len(STATE_VARS), 2, n))
        self.S[ANXIETY] = anxiety
        self.S[AVOIDANCE] = avoidance
        self.S[EXPRESSION] = expression
        self.S[TRUST] = 0.5
        self.S[SATISFACTION] = 0.7
        self.S[COMMITMENT] = 0.7
        self.S[SECURITY] = baseline_security(self.S[ANXIETY], self.S[TRUST], self.P[TRUST_WEIGHT])
        self.R = np.zeros((len(RECORDER_VARS), 2, n))
        self.R[PENDING_TICK] = -1.0
        self.C = np.zeros((2, n))
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
        """Every couple's daily record, shape ``(days, len(DAILY_VARS), 2, n)`` (NaN once dissolved)."""
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
        """The live state ``name`` (one of ``STATE_VARS``), shape ``(2, n)``; a view."""
        return self.S[STATE_VARS.index(name)]

    def recorder(self, name: str) -> np.ndarray:
        """The recorder ``name`` (one of ``RECORDER_VARS``), shape ``(2, n)``; a view."""
        return self.R[RECORDER_VARS.index(name)]

    @property
    def dissolved_day(self) -> np.ndarray:
        """Day each couple dissolved, -1 while together; shape ``(n,)``."""
        return self.C[DISSOLVED_DAY]
