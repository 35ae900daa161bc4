"""The population's parameter matrix kept compact (``sim.simulation.Params``).

A row that is the same for every couple is one number; the kernel gets the full matrix only for
the couples it runs. These tests check that the compact form reads, writes and slices as the
matrix it stands for, so that sweeps, sensitivity runs and the dashboard see no difference.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import Setup
from sim.engine import kernel as k
from sim.params import DYNAMICS
from sim.simulation import Params, population


def test_a_population_keeps_only_its_varying_rows_as_arrays():
    n = 50
    setup = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, couples=n,
                  seed=4, dynamics={"relief_decay": np.linspace(0.5, 2.0, n), "rebound": 0.3},
                  interventions=[{"kind": "therapy", "day": 10}])  # fmt: skip
    P = population(setup).params
    assert isinstance(P, Params) and P.shape == (k.N_P_ROWS, n)
    varying = {k.P_ROWS[i] for i in P.varying()}
    assert varying == {"relief_decay", "engagement", "relapses"}
    full = np.asarray(P)
    assert full.shape == (k.N_P_ROWS, n) and full.dtype == np.float64
    for name in DYNAMICS:
        np.testing.assert_array_equal(full[k.p_row(name)], setup.dynamics_value(name))
    assert full[k.p_row("start_therapy")][0] == 10
    # Rows of one number read as a broadcast that refuses writes (a write would be lost).
    with pytest.raises(ValueError, match="read-only"):
        P[k.p_row("rebound")][3] = 1.0


def test_rows_are_set_as_in_the_matrix_and_a_chunk_is_its_couples():
    n = 6
    P = Params.defaults(n)
    np.testing.assert_array_equal(np.asarray(P), k.default_params(n))
    P[0] = 0.25  # one number: stays one number
    P[1] = np.arange(n)  # one value per couple
    P[2:4] = np.array([[7.0], [8.0]])  # a value per row, as population() writes schedules
    P[-1, 2] = 1.0  # one couple's entry makes the row vary
    assert P.varying() == [1, k.N_P_ROWS - 1]
    full = np.asarray(P)
    expected = k.default_params(n)
    expected[0], expected[1], expected[2], expected[3] = 0.25, np.arange(n), 7.0, 8.0
    expected[-1, 2] = 1.0
    np.testing.assert_array_equal(full, expected)
    part = P[:, 2:5]
    assert isinstance(part, Params) and part.shape == (k.N_P_ROWS, 3)
    np.testing.assert_array_equal(np.asarray(part), expected[:, 2:5])
    np.testing.assert_array_equal(P[:, [0, 5]], expected[:, [0, 5]])  # other indexes: the matrix
    np.testing.assert_array_equal(np.tile(P, (1, 2)), np.tile(expected, (1, 2)))
    copy = P.copy()
    copy[1] = 0.0
    assert P[1][5] == 5.0
    with pytest.raises(TypeError, match="params\\[row\\]"):
        P[[0, 1]] = 1.0
