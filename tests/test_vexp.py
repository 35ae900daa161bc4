"""The compiled ``exp`` and ``clip01`` of ``sim.engine.vexp`` agree with NumPy's.

Tolerance: the polynomial exp is within one unit in the last place of NumPy's (relative 2.3e-16,
with 2.2e-16 the spacing of doubles near 1); the bound is checked on 2 million points over the
range the model uses (arguments from -40 to 0) and at the clamped ends.
"""

from __future__ import annotations

import numba
import numpy as np

from sim.engine.vexp import clip01, exp


@numba.njit
def _exp_all(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = exp(x[i])
    return out


@numba.njit
def _clip_all(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = clip01(x[i])
    return out


def test_compiled_exp_is_within_one_ulp_of_numpy():
    x = np.linspace(-40.0, 0.0, 2_000_001)
    ref = np.exp(x)
    relative = np.abs(_exp_all(x) - ref) / ref
    assert relative.max() <= 2.3e-16
    assert _exp_all(np.array([0.0]))[0] == 1.0


def test_compiled_exp_handles_the_edges():
    x = np.array([-1000.0, -708.0, 5.0, 709.0, 1000.0])
    got = _exp_all(x)
    np.testing.assert_allclose(got[1:4], np.exp(x[1:4]), rtol=3e-16)
    assert got[0] == got[1] > 0.0  # clamped at exp(-708), still a normal number
    assert got[4] == got[3]


def test_python_calls_are_numpy():
    x = np.array([-3.0, -0.5, 0.0])
    np.testing.assert_array_equal(exp(x), np.exp(x))
    np.testing.assert_array_equal(clip01(np.array([-0.2, 0.4, 1.3])), [0.0, 0.4, 1.0])


def test_compiled_clip_matches_numpy():
    x = np.linspace(-2.0, 3.0, 10_001)
    np.testing.assert_array_equal(_clip_all(x), np.minimum(np.maximum(x, 0.0), 1.0))
