"""Determinism: one seed gives one run, on either engine and under any chunking.

The compiled and NumPy engines' agreement is tested in tests/test_kernel_engines.py; the files a
run writes, byte for byte, in tests/test_cli.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim import Setup, simulate
from sim.engine import kernel as k
from sim.simulation import population, run_population

ENGINES = ["compiled", "numpy"]


def anxious_avoidant(seed: int = 3, couples: int = 40, days: int = 40, **extra) -> Setup:
    return Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"},
                 couples=couples, days=days, seed=seed, **extra)  # fmt: skip


def arrays(result) -> dict[str, np.ndarray]:
    kern = result.kernel
    return {"S": kern.S, "R": kern.R, "C": kern.C, "daily": kern.daily,
            "daily_mean": kern.daily_mean}  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_gives_the_same_bytes_and_another_seed_differs(engine):
    # Every array the engine keeps (state, running totals, per-couple counters, daily records),
    # byte for byte; the engines' agreement with each other is tests/test_kernel_engines.py's.
    def run(seed: int):
        setup = anxious_avoidant(seed=seed, interventions=[{"kind": "therapy", "day": 10}])
        return simulate(setup, record_daily=True, engine=engine)

    first, again, other = run(3), run(3), run(4)
    for name, array in arrays(first).items():
        assert array.tobytes() == arrays(again)[name].tobytes(), name
    assert not np.array_equal(first.kernel.S, other.kernel.S)
    assert not np.array_equal(first.kernel.R, other.kernel.R)
    assert not np.array_equal(first.couples["anxiety_a"], other.couples["anxiety_a"])


@pytest.mark.parametrize(
    ("bounds", "engine"),
    [
        ((0, 17, 31, 50), "compiled"),
        ((0, 1, 49, 50), "compiled"),
        ((0, 25, 50), "compiled"),
        ((0, 17, 31, 50), "numpy"),  # the slower reference path: one chunking is enough
    ],
)
def test_chunked_runs_equal_the_whole_run_exactly(bounds, engine):
    setup = Setup(population={"mix": {"secure": 0.5, "anxious": 0.3, "avoidant": 0.2},
                              "couples": 50}, days=35, seed=12)  # fmt: skip
    pop = population(setup)
    whole_kernel, whole = run_population(pop, seed=setup.seed, days=setup.days, engine=engine)
    parts = [
        run_population(pop.chunk(start, stop), seed=setup.seed, days=setup.days,
                       first_couple=start, engine=engine)
        for start, stop in itertools.pairwise(bounds)
    ]  # fmt: skip
    for name, expected in whole.items():
        joined = np.concatenate([cols[name] for _, cols in parts])
        if expected.dtype.kind in "USO":
            assert list(joined) == list(expected), name
        else:
            np.testing.assert_array_equal(joined, expected, err_msg=name)
    np.testing.assert_array_equal(np.concatenate([kern.S for kern, _ in parts], axis=2),
                                  whole_kernel.S)  # fmt: skip


def test_a_population_run_in_chunks_equals_the_whole_run_bit_for_bit():
    # run_population's own chunking (the memory bound of a million couples), tried with small
    # chunks: every column, the daily means and the dissolutions are the same bytes as one run.
    # Dating couples with per-couple parameters and a treatment, so that couples dissolve in
    # several chunks and the parameter matrix has varying rows.
    n = 300
    dynamics = {"relief_decay": np.linspace(0.5, 3.0, n)}
    setup = Setup(population={"mix": {"secure": 0.4, "anxious": 0.35, "avoidant": 0.25},
                              "couples": n}, days=120, seed=21, relationship="dating",
                  dynamics=dynamics, interventions=[{"kind": "therapy", "day": 30}])  # fmt: skip
    pop = population(setup)
    whole_kernel, whole = run_population(pop, seed=setup.seed, days=setup.days, chunk=0)
    chunked = k._compiled() is not k._advance_numpy  # without Numba it runs whole (see there)
    dissolved = whole["dissolved_day"] >= 0
    assert dissolved[:100].any() and dissolved[200:].any()  # dissolutions in several chunks
    for size in (7, 64, 299):
        seen: list[int] = []
        kern, cols = run_population(pop, seed=setup.seed, days=setup.days, chunk=size,
                                    progress=seen.append)  # fmt: skip
        assert not chunked or (kern.chunks == -(-n // size) and kern.n == n)
        assert list(cols) == list(whole)
        for name, expected in whole.items():
            if expected.dtype.kind in "USO":
                assert list(cols[name]) == list(expected), name
            else:
                assert cols[name].dtype == expected.dtype, name
                assert cols[name].tobytes() == expected.tobytes(), name
        assert kern.daily_mean.tobytes() == whole_kernel.daily_mean.tobytes()
        assert seen == sorted(seen) and seen[-1] == setup.days  # the bar fills once, in order
    # Sweeps pass couple ids; a first_couple offset shifts every id: both survive chunking.
    ids = np.arange(n, dtype=np.uint64)[::-1].copy()
    one = run_population(pop, seed=setup.seed, days=setup.days, couple_ids=ids, chunk=0)[1]
    many = run_population(pop, seed=setup.seed, days=setup.days, couple_ids=ids, chunk=50)[1]
    for name in ("couple", "requests_a", "trust_b", "dissolved_day", "outcome"):
        assert list(many[name]) == list(one[name]), name


def test_a_chunked_run_says_it_kept_no_per_couple_state():
    setup = anxious_avoidant(couples=20, days=3)
    kern, _ = run_population(population(setup), seed=setup.seed, days=setup.days, chunk=8)
    assert kern.daily_mean.shape == (3, len(k.DAILY_VARS) + 1, 2)
    if k._compiled() is not k._advance_numpy:  # without Numba it runs whole (see there)
        with pytest.raises(AttributeError, match="chunk=0"):
            kern.S  # noqa: B018 - the attribute read is the test
    with pytest.raises(ValueError, match="chunk must be"):
        run_population(population(setup), seed=setup.seed, days=setup.days, chunk=-1)
    # Daily trajectories and the NumPy engine keep one kernel (their memory is per couple anyway).
    kern, _ = run_population(population(setup), seed=setup.seed, days=setup.days, chunk=8,
                             record_daily=True)  # fmt: skip
    assert isinstance(kern, k.Kernel)
