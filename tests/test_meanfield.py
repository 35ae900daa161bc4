"""The mean-field model: the kernel's hour in expectation, its fixed points and their stability."""

from __future__ import annotations

import numpy as np
import pytest

from sim import meanfield as mf
from sim.engine import kernel as k
from sim.scenario import load_scenario
from sim.simulation import Setup

#: Exhaustion rates searched for two stable equilibria side by side (anxious-secure).
BISTABLE_SEARCH = (0.2, 0.25, 0.3, 0.4, 0.5)


def _model(lanes=None, **setup):
    base = {"partner_a": {"style": "anxious"}, "partner_b": {"style": "avoidant"},
            "couples": 1, "days": 30}  # fmt: skip
    base.update(setup)
    return mf.mean_couple(Setup(**base), lanes=lanes)


def test_one_mean_field_hour_is_the_expected_kernel_hour():
    # From one state, 40000 copies of the couple take one agent-based hour with their own draws;
    # the mean field's hour must be their average, within the Monte Carlo error (the mean field
    # is exact for one hour up to products of events that exclude each other, ~1e-4 at most).
    model = _model(lanes={"reassurance_frequency": [12.0]})
    x = 0.5 * (mf.calm_state() + mf.distressed_state())
    n = 40_000
    W = np.repeat(model.template, n, axis=1)
    W[mf._ROWS] = np.repeat(x.T, n, axis=1)
    lanes = np.arange(n)
    with np.errstate(over="ignore"):
        keys = k.couple_key(k.run_key(7), np.arange(n, dtype=np.uint64))
        k.draws(W, keys, lanes, 5)
    k.hour(W, lanes, 5)
    drawn = W[mf._ROWS]
    expected = model.template.copy()
    expected[mf._ROWS] = x.T
    mf._hour(expected, slice(None), 5)
    error = drawn.std(axis=1) / np.sqrt(n)
    gap = np.abs(drawn.mean(axis=1) - expected[mf._ROWS][:, 0])
    assert np.all(gap <= 5 * error + 2e-4), dict(
        zip([f"{s}_{t}" for s in mf.STATE for t in "ab"], gap.round(5), strict=True)
    )
    # Something did happen in that hour: requests, answers, stressors.
    assert drawn.std(axis=1).max() > 0.01


def test_the_daily_map_counts_expected_requests():
    model = _model(lanes={"reassurance_frequency": [0.0, 4.0, 8.0]})
    _, requests = model.day(model.start)
    assert requests[0, 0] == 0.0
    assert 0.0 < requests[1, 0] < requests[2, 0] <= 8.0


def test_bad_names_are_refused():
    with pytest.raises(ValueError, match="unknown mean-field state"):
        mf.state_index("mood", 0)
    with pytest.raises(ValueError, match="population"):
        mf.mean_couple(load_scenario("classroom").setup())
    with pytest.raises(ValueError, match="unknown lane parameter"):
        _model(lanes={"partner_c.anxiety": [0.5]})


def test_interventions_are_left_out_with_a_note():
    model = mf.mean_couple(load_scenario("anxious-avoidant-therapy").setup())
    assert any("without strategies" in note for note in model.notes)


@pytest.fixture(scope="module")
def bistable():
    """The anxious-secure mean couple at the first exhaustion rate with two stable states."""
    setup = load_scenario("anxious-secure").setup()
    model = mf.mean_couple(setup, lanes={"exhaustion_rate": np.array(BISTABLE_SEARCH)})
    found = mf.equilibria_many(model)
    for i, equilibria in enumerate(found):
        if sum(e.stable for e in equilibria) >= 2:
            return model.lanes(i), equilibria
    pytest.fail(
        f"no exhaustion rate of {BISTABLE_SEARCH} gives two stable equilibria: "
        f"{[[(round(e.requests[0], 2), e.stable) for e in f] for f in found]}"
    )


def test_fixed_points_satisfy_the_daily_map(bistable):
    model, equilibria = bistable
    assert len(equilibria) >= 3  # two attractors and the threshold between them
    for e in equilibria:
        assert e.residual < 1e-9
        assert np.max(np.abs(model.residual(e.state[None, :]))) < 1e-9
        assert e.state.min() >= 0.0 and e.state.max() <= 1.0
    assert sum(not e.stable for e in equilibria) >= 1


def test_stability_matches_direct_iteration(bistable):
    # Started a little off each equilibrium along its slowest (or unstable) direction, the map
    # returns toward a stable one and leaves an unstable one.
    model, equilibria = bistable
    offset = 2e-3
    starts = []
    for e in equilibria:
        values, vectors = np.linalg.eig(model.jacobian(e.state))
        v = np.real(vectors[:, np.argmax(np.abs(values))])
        v /= np.max(np.abs(v))
        start = e.state + offset * v
        if start.min() < 0.0 or start.max() > 1.0:
            start = e.state - offset * v
        starts.append(start)
    ends, _ = model.tiled(len(starts)).day(np.array(starts), days=120)
    for e, end in zip(equilibria, ends, strict=True):
        distance = np.max(np.abs(end - e.state))
        if e.stable:
            assert distance < offset / 2, (e.radius, distance)
        else:
            assert distance > 2 * offset, (e.radius, distance)


def test_where_a_couple_starts_decides_where_it_ends(bistable):
    # Bistability: the same couple settles calm from a calm start and in a spiral from a
    # distressed one.
    model, equilibria = bistable
    stable = [e for e in equilibria if e.stable]
    starts = np.concatenate([mf.calm_state(), mf.distressed_state()])
    # 400 days: the seeker's trust is learned request by request and approaches its level
    # slowly (after 200 days it was still 0.012 away).
    ends, _ = mf.settle(model.tiled(2), starts, days=400)
    # The fast states of the cycle. Satisfaction and commitment follow slowly (and feed nothing
    # back), and so does the secure partner's trust, learned from their own rare requests.
    core = [
        mf.state_index(name, p)
        for name in ("relief", "habituation", "threat", "exhaustion", "withdrawal")
        for p in (0, 1)
    ]
    core.append(mf.state_index("trust", 0))
    for end, near, far in ((ends[0], stable[0], stable[-1]), (ends[1], stable[-1], stable[0])):
        assert np.max(np.abs(end[core] - near.state[core])) < 0.01
        assert np.max(np.abs(end[core] - far.state[core])) > 0.05
    assert stable[-1].requests[0] > 2 * stable[0].requests[0]


def test_scipy_root_finds_the_same_point_as_newton(bistable):
    model, equilibria = bistable
    e = equilibria[0]
    x = mf.find_fixed_point(model, e.state + 1e-3)
    assert x is not None
    assert np.max(np.abs(x - e.state)) < 1e-6
