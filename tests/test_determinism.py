"""Determinism: one seed gives one run, on either engine and under any chunking.

The compiled and NumPy engines' agreement is tested in tests/test_kernel_engines.py; the files a
run writes, byte for byte, in tests/test_cli.py.
"""

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
