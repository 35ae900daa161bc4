"""The compiled kernel and the NumPy reference path agree, and the compiled loop stays vectorised.

Determinism (same seed, same bytes; chunking changes no couple) is tests/test_determinism.py's.

Tolerance: the two engines run the same rule functions; they may differ only in the last bits of
``exp`` (NumPy's vectorised exp against the C library's), so states agree to 1e-9. Decisions are
comparisons of a uniform draw with a probability: a flip would need a draw within ~1e-15 of the
threshold, which these seeds do not produce, so counts must agree exactly.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from sim.engine import kernel as k
from sim.simulation import Setup, population, run_population

STATE_TOLERANCE = 1e-9


def _setup(couples=60, days=40, seed=3, interventions=()):
    return Setup(
        population={"mix": {"secure": 0.4, "anxious": 0.3, "avoidant": 0.2, "fearful": 0.1},
                    "couples": couples},
        couples=couples, days=days, seed=seed, interventions=interventions,
    )  # fmt: skip


def _run(setup, engine, record_daily=False):
    return run_population(population(setup), seed=setup.seed, days=setup.days, engine=engine,
                          record_daily=record_daily)  # fmt: skip


EVERY_INTERVENTION = (
    {"kind": "therapy", "day": 10},
    {"kind": "consistent_actions", "day": 5},
    {"kind": "style_awareness", "day": 20},
    {"kind": "address_fears", "day": 15},
    {"kind": "communication", "day": 25},
)


@pytest.mark.parametrize("interventions", [(), EVERY_INTERVENTION], ids=["plain", "every"])
def test_engines_agree(interventions):
    setup = _setup(interventions=interventions)
    fast, fast_cols = _run(setup, "compiled", record_daily=True)
    ref, ref_cols = _run(setup, "numpy", record_daily=True)
    np.testing.assert_allclose(fast.S, ref.S, rtol=0, atol=STATE_TOLERANCE)
    np.testing.assert_array_equal(
        fast.R[[k.REQUESTS, k.ANSWERED, k.AFFECTION_RECEIVED]],
        ref.R[[k.REQUESTS, k.ANSWERED, k.AFFECTION_RECEIVED]],
    )
    np.testing.assert_allclose(fast.R, ref.R, rtol=1e-12, atol=STATE_TOLERANCE)
    # The whole couple table: its day counts exactly, the strategies' gains like the states.
    counts = [k.DISSOLVED_DAY, k.LOW_STREAK]
    np.testing.assert_array_equal(fast.C[counts], ref.C[counts])
    np.testing.assert_allclose(fast.C, ref.C, rtol=0, atol=STATE_TOLERANCE)
    np.testing.assert_allclose(fast.daily, ref.daily, rtol=0, atol=STATE_TOLERANCE)
    np.testing.assert_allclose(fast.daily_mean, ref.daily_mean, rtol=0, atol=STATE_TOLERANCE)
    np.testing.assert_array_equal(fast_cols["outcome"], ref_cols["outcome"])


def test_engines_agree_on_dissolving_couples():
    # Harsh dynamics so that some couples dissolve early: dissolved couples must stop in both.
    # Life events on (off by default): their weekly step runs in a loop of its own in the
    # compiled path and must land on the same days, couples and values as in NumPy's.
    setup = Setup(partner_a={"style": "fearful"}, partner_b={"style": "avoidant"}, couples=40,
                  days=90, seed=5, dynamics={"dissolution_days": 3, "dissolution_satisfaction": 0.9,
                                             "dissolution_commitment": 0.95,
                                             "life_events_spread": 0.12})  # fmt: skip
    fast, _ = _run(setup, "compiled")
    ref, _ = _run(setup, "numpy")
    assert np.any(fast.dissolved_day >= 0), "the setup should dissolve some couples"
    lived = (fast.dissolved_day < 0) | (fast.dissolved_day >= 6)  # together when day 6 closed
    assert np.any(lived), "some couples should live a week"
    assert np.all(fast.state("life_events")[:, lived] != 0.0), "a week's step was missed"
    assert np.all(fast.state("life_events")[:, ~lived] == 0.0), "a step after the break-up"
    np.testing.assert_array_equal(fast.dissolved_day, ref.dissolved_day)
    np.testing.assert_allclose(fast.S, ref.S, rtol=0, atol=STATE_TOLERANCE)


def test_daily_means_count_couples_together():
    kern, _ = _run(_setup(couples=30, days=10), "compiled")
    means = kern.daily_mean
    assert means.shape == (10, k.N_DAILY + 1, 2)
    assert np.all(means[:, k.N_DAILY] <= 30)
    assert np.all(np.isfinite(means))


def test_tick_steps_like_the_day_loop():
    # The hour-by-hour helper (used by teaching traces) gives what advance() gives.
    setup = _setup(couples=20, days=3)
    pop = population(setup)
    ref = k.Kernel(pop.people, pop.params, seed=setup.seed,
                   days=setup.days, engine="numpy")  # fmt: skip
    ref.advance(1)
    kern = k.Kernel(pop.people, pop.params, seed=setup.seed,
                    days=setup.days, engine="numpy")  # fmt: skip
    together = np.arange(kern.n)
    with np.errstate(over="ignore"):
        for t in range(k.HOURS_PER_DAY):
            k.tick(kern.S, kern.P, kern.R, kern.C, kern.keys, together, t, kern.first_end,
                   kern.last_start)  # fmt: skip
        # The day's end belongs to the day: dissolution and the appraisal's daily step.
        k.end_of_day(kern.S, kern.P, kern.R, kern.C, kern.keys, together, 0,
                     np.empty((0, k.N_DAILY, 2, kern.n)), 0, False, kern.first_end,
                     kern.last_start)  # fmt: skip
    np.testing.assert_array_equal(kern.S, ref.S)
    # The request counts join the run's totals and windows at the day's close.
    np.testing.assert_array_equal(kern.R, ref.R)
    assert kern.recorder("requests").sum() > 0


@pytest.mark.parametrize("n", [1, 512, 1000, 1024, 4096])
def test_state_rows_never_sit_a_multiple_of_4_kib_apart(n):
    # Rows a multiple of 4 KiB apart share cache sets and made 1024-couple chunks 6x slower.
    setup = Setup(couples=n, days=1, seed=0)
    pop = population(setup)
    kern = k.Kernel(pop.people, pop.params, seed=0, days=1)
    for array in (kern.S, kern.R):
        row_bytes = array.strides[-2]
        assert row_bytes % 4096 != 0
        assert array.shape[-1] == n


def test_the_work_table_fits_in_a_first_level_cache():
    # Every hour reads and writes the whole work table of a block. Each mechanism adds rows; at
    # 32 lanes the table had grown to 65 KB, past the 48 KB first-level data cache of this
    # project's machine. Rows added later must not undo that silently: 40 KB leaves room for the
    # loop's own spills.
    table_bytes = (k.N_W + 1) * k.BLOCK * np.dtype(np.float64).itemsize
    assert table_bytes <= 40 * 1024, f"the work table is {table_bytes} bytes"
    assert k.BLOCK % k.loop_lanes() == 0  # whole vector steps: no scalar remainder in a block


def test_the_hourly_loop_is_vectorised():
    # The compiled path is fast because LLVM runs the hour across a block's lanes in SIMD
    # registers. Small changes silently undo that (a call left in the loop, a power, a loop of a
    # known small trip count), and every other test would still pass, five times slower. The
    # hash of the draws is only computed inside the hourly loop: if that loop is vectorised,
    # its 64-bit multiplies are vector multiplies.
    import llvmlite.binding as llvm

    advance = k.compile_blocks(cache=False)  # not cached: the IR can be read
    setup = _setup(couples=40, days=2)
    pop = population(setup)
    kern = k.Kernel(pop.people, pop.params, seed=1, days=2)
    daily = np.zeros((0, k.N_DAILY, 2, kern.n))
    values = np.zeros((kern.n, 2, k.N_DAILY + 1, 2))
    advance(kern.S, kern.P, kern.R, kern.C, kern.keys, 0, 2, kern.first_end, kern.last_start,
            daily, values, False, k.BLOCK, 0, kern.n)  # fmt: skip
    assert values[:, :, k.N_DAILY].sum() > 0  # the range covered the couples
    ir = "\n".join(advance.inspect_llvm().values())
    vector_multiplies = re.findall(r"= mul (?:nuw |nsw )*<(\d+) x i64>", ir)
    assert vector_multiplies, "the hourly loop was not vectorised (no vector 64-bit multiply)"
    assert re.search(r"fma\.v\d+f64", ir), "the polynomial exp was not vectorised"
    # The widest registers: LLVM's default of 256 bits on AVX-512 machines halves the lanes.
    assert '"prefer-vector-width"="512"' in ir
    if "+avx512f" in llvm.get_host_cpu_features().flatten():
        assert re.search(r"<8 x double>|<16 x double>", ir), "AVX-512, yet fewer than 8 lanes"
    # Two registers per operation (kernel.loop_lanes): two independent chains of the hour.
    assert re.search(rf"<{k.loop_lanes()} x double>", ir), "not two registers per operation"
