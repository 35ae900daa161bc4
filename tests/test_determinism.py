"""Determinism: one seed gives one run, on either engine and under any chunking."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim import Setup, simulate
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
def test_same_seed_gives_identical_arrays(engine):
    setup = anxious_avoidant(interventions=[{"kind": "therapy", "day": 10}])
    first = arrays(simulate(setup, record_daily=True, engine=engine))
    second = arrays(simulate(anxious_avoidant(interventions=[{"kind": "therapy", "day": 10}]),
                             record_daily=True, engine=engine))  # fmt: skip
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
        assert first[name].tobytes() == second[name].tobytes(), f"{name}: same values, not bytes"


@pytest.mark.parametrize("engine", ENGINES)
def test_different_seeds_give_different_runs(engine):
    one = simulate(anxious_avoidant(seed=3), engine=engine)
    two = simulate(anxious_avoidant(seed=4), engine=engine)
    assert not np.array_equal(one.kernel.S, two.kernel.S)
    assert not np.array_equal(one.kernel.R, two.kernel.R)
    assert not np.array_equal(one.couples["anxiety_a"], two.couples["anxiety_a"])


def test_compiled_and_numpy_engines_agree():
    # Both engines evaluate the same rule functions in the same order on float64, so they agree
    # to rounding: Numba may fuse a multiply and an add or keep a value in a register where
    # NumPy rounds to memory, a few units in the last place per operation. 1e-9 allows that
    # drift to accumulate over 960 hours yet is far below any modelled effect. A random draw
    # compared with a probability could in principle flip on such a difference; the counts
    # (requests, answers, days) must still match exactly, which shows no decision flipped.
    setup = anxious_avoidant(couples=30, days=40, dynamics={"communication": 0.5},
                             interventions=[{"kind": "address_fears", "day": 5}])  # fmt: skip
    compiled = simulate(setup, record_daily=True, engine="compiled")
    numpy = simulate(setup, record_daily=True, engine="numpy")
    np.testing.assert_allclose(compiled.kernel.S, numpy.kernel.S, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(compiled.kernel.R[:2], numpy.kernel.R[:2])
    # dissolution day and streak exactly; the strategies' benefit (a float) to rounding
    np.testing.assert_array_equal(compiled.kernel.C[:2], numpy.kernel.C[:2])
    np.testing.assert_allclose(compiled.kernel.C[2:], numpy.kernel.C[2:], rtol=0, atol=1e-12)
    np.testing.assert_allclose(compiled.kernel.daily, numpy.kernel.daily, rtol=0, atol=1e-9)
    assert list(compiled.labels) == list(numpy.labels)


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
