"""The compiled kernel on several threads gives the one-thread run, bit for bit.

``Kernel.advance`` cuts the population into segments of ``kernel.SEGMENT`` couples (and runs of
at most ``kernel.PASS_DAYS`` days) and runs them side by side; each writes its couples'
end-of-day values to its own buffer, and the calling thread adds the buffers couple after
couple, in couple order. So nothing may move with the number of threads: not a couple's state,
not the population means. Segments are made small here (64 couples) so that a small, fast
population spans several of them.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from sim.cli import main
from sim.engine import kernel as k
from sim.simulation import Setup, couple_columns, population

SMALL_SEGMENT = 64  # four blocks of 16 couples


def _harsh(couples: int = 200, days: int = 60) -> Setup:
    # A mixed population with harsh dissolution rules: couples dissolve on different days in
    # different segments, so segments finish their work unevenly.
    return Setup(population={"mix": {"secure": 0.3, "anxious": 0.3, "avoidant": 0.2,
                                     "fearful": 0.2}, "couples": couples},
                 couples=couples, days=days, seed=7,
                 dynamics={"dissolution_days": 3, "dissolution_satisfaction": 0.8,
                           "dissolution_commitment": 0.9})  # fmt: skip


def _arrays(kern: k.Kernel) -> dict[str, np.ndarray]:
    return {"S": kern.S, "R": kern.R, "C": kern.C, "daily": kern.daily,
            "daily_mean": kern.daily_mean}  # fmt: skip


@pytest.fixture
def small_segments(monkeypatch):
    monkeypatch.setattr(k, "SEGMENT", SMALL_SEGMENT)


class _Spy:
    """Stands in for the compiled path: records the threads that run segments.

    With ``meet`` set, the first two segments wait for each other, so a pool of two or more
    threads must run them at once (and a pool that would not fails the test instead of passing
    by luck of scheduling).
    """

    def __init__(self, compiled) -> None:
        self.compiled = compiled
        self.seen: set[int] = set()
        self.calls = 0
        self.meet: threading.Barrier | None = None
        self.lock = threading.Lock()

    def reset(self, meet: bool) -> None:
        self.seen.clear()
        self.calls = 0
        self.meet = threading.Barrier(2) if meet else None

    def __call__(self, *args):
        with self.lock:
            self.seen.add(threading.get_ident())
            self.calls += 1
            first_two = self.calls <= 2
        if self.meet is not None and first_two:
            self.meet.wait(timeout=60)  # BrokenBarrierError if the other never comes
        return self.compiled(*args)


@pytest.fixture
def spy(monkeypatch):
    """The compiled path wrapped in a :class:`_Spy` (whatever ``RELSIM_ENGINE`` says)."""
    monkeypatch.delenv("RELSIM_ENGINE", raising=False)
    spy = _Spy(k.compile_blocks())  # loaded from Numba's cache once compiled
    monkeypatch.setattr(k, "_ADVANCE_COMPILED", spy)
    return spy


def _run(setup: Setup, threads: int, monkeypatch, *, steps=(None,)):
    monkeypatch.setenv(k.THREADS_ENV, str(threads))
    pop = population(setup)
    kern = k.Kernel(pop.people, pop.params, seed=setup.seed, days=setup.days,
                    record_daily=True)  # fmt: skip
    assert kern.threads == threads
    for days in steps:
        kern.advance(setup.days if days is None else days)
    return kern, couple_columns(kern, pop)


def test_one_two_and_three_threads_give_the_same_bits(small_segments, spy, monkeypatch):
    setup = _harsh()
    runs = {}
    for threads in (1, 2, 3):
        spy.reset(meet=threads > 1)
        runs[threads] = _run(setup, threads, monkeypatch)
        # 200 couples in segments of 64: four segments, on the calling thread alone for one
        # thread, else on at least two threads of the pool.
        if threads == 1:
            assert spy.seen == {threading.get_ident()}
        else:
            assert len(spy.seen) >= 2 and threading.get_ident() not in spy.seen
        assert spy.calls == 4 * -(-setup.days // k.PASS_DAYS)  # segments x passes
    one, one_cols = runs[1]
    dissolved = one.dissolved_day >= 0
    assert 0 < dissolved.sum() < one.n, "the setup should dissolve some couples, not all"
    assert len({int(c) // SMALL_SEGMENT for c in np.flatnonzero(dissolved)}) >= 3
    assert one.n > 3 * SMALL_SEGMENT
    for threads in (2, 3):
        kern, cols = runs[threads]
        for name, array in _arrays(one).items():
            assert array.tobytes() == _arrays(kern)[name].tobytes(), (threads, name)
        assert cols.keys() == one_cols.keys()
        for name, column in one_cols.items():
            np.testing.assert_array_equal(column, cols[name], err_msg=f"{threads} {name}")


def test_threads_day_by_day_equal_one_call(small_segments, monkeypatch):
    # Advancing in pieces (as the dashboard and progress reports do) changes nothing either.
    setup = _harsh(couples=150, days=12)
    whole, _ = _run(setup, 1, monkeypatch)
    pieces, _ = _run(setup, 2, monkeypatch, steps=(1, 5, 6))
    for name, array in _arrays(whole).items():
        assert array.tobytes() == _arrays(pieces)[name].tobytes(), name


def test_segments_and_passes_change_nothing(monkeypatch):
    # Segments and passes only cut the work: the population means add every couple in couple
    # order whatever the cut, so small segments and short passes give the same bytes as one
    # segment and one pass.
    setup = _harsh(couples=150, days=30)
    big, _ = _run(setup, 2, monkeypatch)
    monkeypatch.setattr(k, "SEGMENT", SMALL_SEGMENT)
    monkeypatch.setattr(k, "PASS_DAYS", 7)
    small, _ = _run(setup, 2, monkeypatch)
    for name, array in _arrays(big).items():
        assert array.tobytes() == _arrays(small)[name].tobytes(), name


def test_a_population_of_one_segment_runs_on_the_calling_thread(spy, monkeypatch):
    spy.reset(meet=False)
    _run(_harsh(couples=k.SEGMENT, days=2), 2, monkeypatch)
    assert spy.seen == {threading.get_ident()} and spy.calls == 1


def test_sweep_workers_run_one_engine_thread_each(monkeypatch):
    # The worker processes set the variable for themselves before they build any kernel.
    from sim import calibrate, sensitivity

    for initializer in (calibrate._ignore_interrupts, sensitivity._one_engine_thread):
        monkeypatch.setenv(k.THREADS_ENV, "5")
        if initializer is calibrate._ignore_interrupts:
            import signal

            monkeypatch.setattr(signal, "signal", lambda *args: None)  # not in this process
        initializer()
        assert k.default_threads() == 1


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "2 threads"])
def test_a_bad_relsim_threads_is_named_with_what_is_allowed(value, monkeypatch, capsys,
                                                            tmp_path):  # fmt: skip
    monkeypatch.setenv(k.THREADS_ENV, value)
    pop = population(Setup(couples=2, days=1, seed=0))
    with pytest.raises(ValueError, match=r"RELSIM_THREADS=.* whole number of at least 1"):
        k.Kernel(pop.people, pop.params, seed=0, days=1)
    out = tmp_path / "out"
    assert main(["run", "secure-secure", "--couples", "2", "--days", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"RELSIM_THREADS={value!r}" in err and "whole number of at least 1" in err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("threads", [0, -2, 1.5, True, "2"])
def test_a_bad_threads_argument_is_refused(threads):
    pop = population(Setup(couples=2, days=1, seed=0))
    with pytest.raises(ValueError, match="threads must be a whole number of at least 1"):
        k.Kernel(pop.people, pop.params, seed=0, days=1, threads=threads)


def test_threads_default_to_every_usable_core(monkeypatch):
    monkeypatch.delenv(k.THREADS_ENV, raising=False)
    assert k.default_threads() == k.usable_cores() >= 1
    monkeypatch.setenv(k.THREADS_ENV, " ")
    assert k.default_threads() == k.usable_cores()
    monkeypatch.setenv(k.THREADS_ENV, "3")
    assert k.default_threads() == 3
    pop = population(Setup(couples=2, days=1, seed=0))
    assert k.Kernel(pop.people, pop.params, seed=0, days=1, threads=2).threads == 2
