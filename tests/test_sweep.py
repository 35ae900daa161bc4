"""The sweep engine: grid layout, independence from workers and chunking, checkpoints, errors."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

from sim.outcomes import LABELS
from sim.scenario import Scenario, SweepAxis, SweepSpec
from sim.simulation import Population, Setup, population, simulate
from sim.sweep import (
    METRIC_COLUMNS,
    SHARE_COLUMNS,
    _axes,
    _Plan,
    run_sweep,
    sweep_setup,
    wilson_interval,
)

BASE = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, days=40, seed=5)
SWEEP = {
    "x": {"param": "partner_a.anxiety", "values": [0.2, 0.6, 0.95]},
    "y": {"param": "partner_b.avoidance", "values": [0.1, 0.9]},
    "replicates": 6,
}
CHUNK = 8  # 36 couples -> 5 chunks, the last one short


@pytest.fixture(scope="module")
def serial_csv() -> str:
    return run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK).to_csv()


def test_grid_shape_columns_and_order():
    table = run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK)
    assert table.columns == ("partner_a.anxiety", "partner_b.avoidance", *METRIC_COLUMNS)
    assert len(table.rows) == 6
    assert table.chunks == 5
    # Rows run over x (outer) then y (inner).
    assert [(r["partner_a.anxiety"], r["partner_b.avoidance"]) for r in table.rows] == [
        (0.2, 0.1), (0.2, 0.9), (0.6, 0.1), (0.6, 0.9), (0.95, 0.1), (0.95, 0.9),
    ]  # fmt: skip
    for row in table.rows:
        assert row["couples"] == 6
        assert sum(row[f"share_{label}"] for label in LABELS) == pytest.approx(1.0, abs=1e-12)
    grid = table.grid("share_spiraling")
    assert grid.shape == (2, 3)  # (len(y), len(x))
    assert grid[1, 2] == table.rows[5]["share_spiraling"]
    assert grid[0, 1] == table.rows[2]["share_spiraling"]
    with pytest.raises(KeyError, match="unknown column"):
        table.grid("share_happy")


def test_each_cell_is_a_plain_run_of_its_replicates():
    """Common random numbers: cell (i, j) is `relsim run` of its replicates with its values."""
    table = run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK)
    assert table.x.label == "Seeker's anxiety (partner A)"
    assert table.y.label == "Partner's avoidance (partner B)"
    for row in table.rows:
        cell = Setup(partner_a={"style": "anxious", "anxiety": row["partner_a.anxiety"]},
                     partner_b={"style": "avoidant", "avoidance": row["partner_b.avoidance"]},
                     couples=6, days=40, seed=5)  # fmt: skip
        result = simulate(cell)
        for label in LABELS:
            assert row[f"share_{label}"] == np.mean(result.labels == label)
        trust = (result.couples["trust_a"] + result.couples["trust_b"]) / 2
        assert row["mean_trust"] == pytest.approx(trust.mean(), rel=1e-12)


def test_the_same_replicate_draws_the_same_numbers_in_every_cell():
    # Two cells with the same values are the same couples: equal rows, not two noisy samples.
    spec = {"x": {"param": "dynamics.relief_decay", "values": [1.0, 1.0]},
            "y": {"param": "partner_b.avoidance", "values": [0.3, 0.3]},
            "replicates": 7}  # fmt: skip
    table = run_sweep(BASE, sweep=spec, workers=1, chunk_size=5)
    first = table.rows[0]
    for row in table.rows[1:]:
        assert row == first
    # The plan: replicate r of every cell has draw id r and the same unswept traits.
    plan = _Plan(BASE, *_axes(BASE, SWEEP["x"], SWEEP["y"]), 6)
    for fast in (False, True):
        plan = dataclasses.replace(plan, fast=fast)
        pop, reps = plan.chunk(0, plan.couples)
        assert reps.tolist() == list(range(6)) * 6
        assert plan.chunk(4, 15)[1].tolist() == [4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2]
        cells = pop.anxiety[1].reshape(6, 6)  # partner B's anxiety: not swept, jittered
        assert np.ptp(cells, axis=0).max() == 0.0 and np.ptp(cells[0]) > 0
        assert pop.anxiety[0].reshape(6, 6)[:, 0].tolist() == [0.2, 0.2, 0.6, 0.6, 0.95, 0.95]
        assert pop.avoidance[1].reshape(6, 6)[:, 0].tolist() == [0.1, 0.9] * 3
    assert plan.with_fast_path().fast  # traits are written in exactly


def test_sweep_setup_lays_out_the_grid_as_one_population():
    setup, x, y = sweep_setup(BASE, "partner_a.anxiety", [0.2, 0.6, 0.95], "partner_b.avoidance",
                              [0.1, 0.9], 6)  # fmt: skip
    assert setup.couples == 36
    assert setup.partner_a["anxiety"].tolist() == [0.2] * 12 + [0.6] * 12 + [0.95] * 12
    assert setup.partner_b["avoidance"].tolist() == ([0.1] * 6 + [0.9] * 6) * 3
    assert (x.param, y.param) == ("partner_a.anxiety", "partner_b.avoidance")


def test_share_intervals_hold_their_share_and_are_wilson():
    table = run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK)
    for row in table.rows:
        for name in SHARE_COLUMNS:
            assert 0.0 <= row[f"{name}_low"] <= row[name] <= row[f"{name}_high"] <= 1.0
            low, high = wilson_interval(round(row[name] * 6), 6)
            assert (row[f"{name}_low"], row[f"{name}_high"]) == (low, high)
    low, high = wilson_interval(0, 6)
    assert low == 0.0 and high == pytest.approx(0.390, abs=1e-3)  # textbook value for 0 of 6
    low, high = wilson_interval(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)


@pytest.mark.parametrize("replicates", [20, 50, 200])
def test_share_intervals_cover_the_true_share_at_their_stated_rate(replicates):
    # Seeded binomial cells at 19 true shares from 5% to 95%, 2000 cells each. Averaged over the
    # shares the 95% intervals cover the truth 94-96.5% of the time; Wilson's coverage wobbles
    # with the share (Brown, Cai & DasGupta 2001) but never falls below 92% here.
    rng = np.random.default_rng(2024)
    coverage = []
    for true_share in np.linspace(0.05, 0.95, 19):
        successes = rng.binomial(replicates, true_share, size=2000)
        low, high = wilson_interval(successes, replicates)
        coverage.append(np.mean((low <= true_share) & (true_share <= high)))
    assert 0.94 <= np.mean(coverage) <= 0.965, coverage
    assert min(coverage) >= 0.92, coverage


def test_intervals_cover_the_models_share_in_a_seeded_check():
    # The truth: the share spiraling or dissolved of the cell nearest one half on a scan,
    # measured over 3000 couples. 30 small sweeps of 40 couples with other seeds' couples:
    # about 95% of their intervals must hold it; at 95%, 30 intervals miss it 0 to 5 times in
    # all but 1 in 300 cases.
    name = "share_spiraling_or_dissolved"
    x = {"param": "partner_a.anxiety", "start": 0.0, "stop": 1.0, "num": 11}
    y = {"param": "partner_b.avoidance", "values": [0.3, 0.7]}
    scan = run_sweep(BASE, workers=1, sweep={"x": x, "y": y, "replicates": 100})
    row = min(scan.rows, key=lambda row: abs(row[name] - 0.5))
    cell = {"x": {**x, "values": [row[x["param"]]]}, "y": {**y, "values": [row[y["param"]]]}}
    share = run_sweep(BASE, sweep={**cell, "replicates": 3000}, workers=1).rows[0][name]
    assert 0.1 < share < 0.9  # a share with room to miss on both sides
    misses = 0
    for seed in range(30):
        base = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, days=40,
                     seed=100 + seed)  # fmt: skip
        row = run_sweep(base, sweep={**cell, "replicates": 40}, workers=1).rows[0]
        misses += not row[f"{name}_low"] <= share <= row[f"{name}_high"]
    assert misses <= 5


def test_high_anxiety_and_avoidance_spiral_more_than_secure_corner():
    # Directional check of the phase diagram's corners (the model's central claim).
    table = run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK)
    grid = table.grid("share_spiraling")
    assert grid[1, 2] > grid[0, 0]


def test_workers_one_and_two_give_the_same_bytes(serial_csv):
    parallel = run_sweep(BASE, sweep=SWEEP, workers=2, chunk_size=CHUNK).to_csv()
    assert parallel == serial_csv


def test_chunk_size_does_not_change_the_table(serial_csv):
    assert run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=36).to_csv() == serial_csv
    assert run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=5).to_csv() == serial_csv


def test_to_csv_writes_the_same_text(tmp_path, serial_csv):
    table = run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK)
    path = tmp_path / "out" / "sweep.csv"
    assert table.to_csv(path) == serial_csv
    assert path.read_text() == serial_csv
    assert serial_csv.splitlines()[0].startswith("partner_a.anxiety,partner_b.avoidance,couples,")
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_checkpoint_resume_after_deleting_chunks(tmp_path, serial_csv):
    folder = tmp_path / "chunks"
    calls = []
    first = run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK, checkpoint_dir=folder,
                      progress=lambda done, total: calls.append((done, total)))  # fmt: skip
    assert first.to_csv() == serial_csv
    assert calls == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    files = sorted(folder.glob("chunk-*.npz"))
    assert len(files) == 5
    files[1].unlink()
    files[3].unlink()
    calls.clear()
    again = run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK, checkpoint_dir=folder,
                      progress=lambda done, total: calls.append((done, total)))  # fmt: skip
    assert again.to_csv() == serial_csv
    assert calls[0] == (3, 5)  # three chunks reused
    assert len(calls) == 3


class _Interrupt(Exception):
    pass


@pytest.mark.parametrize("workers", [1, 2])
def test_interrupted_sweep_resumes_to_the_same_table(tmp_path, serial_csv, workers):
    folder = tmp_path / "chunks"

    def stop_after_two(done: int, total: int) -> None:
        if done >= 2:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        run_sweep(BASE, sweep=SWEEP, workers=workers, chunk_size=CHUNK, checkpoint_dir=folder,
                  progress=stop_after_two)  # fmt: skip
    kept = len(list(folder.glob("chunk-*.npz")))
    assert 2 <= kept < 5
    assert not list(folder.glob(".*.tmp"))
    resumed = run_sweep(BASE, sweep=SWEEP, workers=workers, chunk_size=CHUNK,
                        checkpoint_dir=folder)  # fmt: skip
    assert resumed.to_csv() == serial_csv


def test_checkpoints_of_another_sweep_are_refused(tmp_path):
    folder = tmp_path / "chunks"
    run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK, checkpoint_dir=folder)
    other = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, days=40, seed=6)
    with pytest.raises(ValueError, match="different sweep"):
        run_sweep(other, sweep=SWEEP, workers=1, chunk_size=CHUNK, checkpoint_dir=folder)


def test_a_scenario_object_with_a_sweep_spec():
    scenario = Scenario(
        name="tiny",
        days=30,
        seed=2,
        partner_a={"style": "anxious"},
        partner_b={"style": "secure"},
        sweep=SweepSpec(
            SweepAxis("dynamics.relief_decay", (0.5, 2.0)),
            SweepAxis("dynamics.exhaustion_rate", (0.02, 0.2, 0.4)),
            3,
        ),
    )
    table = run_sweep(scenario, workers=1)
    assert table.columns[:2] == ("dynamics.relief_decay", "dynamics.exhaustion_rate")
    assert table.grid("mean_trust").shape == (3, 2)
    assert table.x.label == "Relief decay (per day)"


def test_start_stop_num_axes():
    spec = {"x": {"param": "relief_decay", "start": 0.5, "stop": 1.5, "num": 3},
            "y": {"param": "partner_b.avoidance", "values": [0.2]}, "replicates": 2}  # fmt: skip
    table = run_sweep(BASE, sweep=spec, workers=1)
    assert table.x.param == "dynamics.relief_decay"
    assert table.x.values == (0.5, 1.0, 1.5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x": {"param": "partner_a.anxeity", "values": [0.1]}}, "anxiety"),
        ({"x": {"param": "days", "values": [10]}}, "cannot be swept"),
        ({"x": {"param": "dynamics.relief_dekay", "values": [1.0]}}, "relief_decay"),
        ({"x": {"param": "partner_a.anxiety", "values": [1.7]}}, "outside 0 to 1"),
        ({"x": {"param": "partner_a.anxiety", "values": []}}, "must not be empty"),
        ({"x": {"param": "partner_b.avoidance", "values": [0.1]}}, "both sweep"),
        ({"replicates": 0}, "replicates"),
        ({"y": None}, "sweep.y is missing"),
    ],
)
def test_bad_sweeps_are_clear_errors(change, message):
    spec = {**SWEEP, **change}
    with pytest.raises(ValueError, match=message):
        run_sweep(BASE, sweep=spec, workers=1)


def test_bad_workers_and_missing_sweep():
    with pytest.raises(ValueError, match="workers must be"):
        run_sweep(BASE, sweep=SWEEP, workers=0)
    with pytest.raises(ValueError, match="has no \\[sweep\\] table"):
        run_sweep(Scenario(name="plain"), workers=1)


def test_population_mix_cannot_sweep_a_partner_trait():
    mixed = Setup(population={"mix": {"secure": 1.0}, "couples": 10}, days=10)
    with pytest.raises(ValueError, match="population"):
        run_sweep(mixed, sweep=SWEEP, workers=1)


def test_missing_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(RuntimeError, match=r"relsim\[dask\]"):
        run_sweep(BASE, sweep=SWEEP, scheduler="tcp://127.0.0.1:1")


def test_ctrl_c_twice_stops_a_parallel_sweep_promptly(tmp_path):
    """Ctrl-C reaches the whole process group; the sweep must exit, not hang on its workers."""
    import os
    import signal
    import subprocess
    import time
    from pathlib import Path

    out = tmp_path / "sweep"
    partial = tmp_path / "sweep.partial"
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", "phase-anxiety-avoidance", "--workers", "2",
         "--days", "1500", "--out", str(out)],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
        # and Ctrl-C taken as a terminal does, even if this test runs in a background job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not partial.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert partial.exists(), "the sweep never started"
        time.sleep(1.5)  # let the spawned workers start on their chunks
        os.killpg(process.pid, signal.SIGINT)
        time.sleep(0.3)
        os.killpg(process.pid, signal.SIGINT)
        started = time.monotonic()
        _, err = process.communicate(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, err
    assert elapsed < 60
    assert "--resume" in err and "Traceback" not in err
    assert partial.is_dir() and not out.exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",  # zero length
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b"not a zip file at all" * 10,  # garbage
        lambda data: data[:-30] + bytes(30),  # a damaged end (central directory)
    ],
)
def test_unreadable_checkpoints_are_run_again(tmp_path, serial_csv, capsys, damage):
    folder = tmp_path / "chunks"
    run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK, checkpoint_dir=folder)
    bad = folder / "chunk-00003.npz"
    bad.write_bytes(damage(bad.read_bytes()))
    capsys.readouterr()
    calls = []
    again = run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK, checkpoint_dir=folder,
                      progress=lambda done, total: calls.append(done))  # fmt: skip
    assert again.to_csv() == serial_csv
    assert calls == [4, 5]  # four chunks reused, the bad one run again
    err = capsys.readouterr().err
    assert "1 unreadable checkpoint file(s)" in err and "chunk-00003.npz" in err
    assert "run again" in err
    with np.load(bad) as data:  # and saved again, whole
        assert len(data["outcome_code"]) == CHUNK


def test_workers_are_capped_at_the_cores_and_the_chunks(monkeypatch, capsys, serial_csv):
    import sim.sweep

    seen = []
    real = sim.sweep._run_local

    def counting(plan, tasks, bounds, count):
        seen.append(count)
        yield from real(plan, tasks, bounds, count)

    monkeypatch.setattr(sim.sweep, "_run_local", counting)
    monkeypatch.setattr(sim.sweep, "_usable_cpus", lambda: 2)
    table = run_sweep(BASE, sweep=SWEEP, workers=1000, chunk_size=CHUNK)
    assert table.to_csv() == serial_csv
    assert seen == [2]
    err = capsys.readouterr().err
    assert "using 2 worker processes, not 1000: this machine has 2 usable CPU cores" in err
    monkeypatch.setattr(sim.sweep, "_usable_cpus", lambda: 64)
    run_sweep(BASE, sweep=SWEEP, workers=1000, chunk_size=CHUNK)
    assert seen == [2, 5]  # five chunks: five workers at most
    assert "using 5 worker processes, not 1000: the sweep has 5 chunk(s)" in capsys.readouterr().err
    run_sweep(BASE, sweep=SWEEP, workers=2, chunk_size=CHUNK)
    assert capsys.readouterr().err == ""  # nothing capped, nothing said


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        (
            ["sweep.replicates=100000"],
            ["21 values", "100000", "44100000 couples", "at most 22675"],
        ),
        (
            ["sweep.x.num=1000", "sweep.y.num=1000", "sweep.replicates=100000"],
            ["1000 values", "100000000000 couples", "at most 10"],
        ),
    ],
)
def test_a_sweep_over_the_limit_is_refused_before_anything_runs(relsim, tmp_path, changes, words):
    import time

    out = tmp_path / "sweep"
    sets = [item for change in changes for item in ("--set", change)]
    started = time.perf_counter()
    result = relsim("sweep", "phase-anxiety-avoidance", *sets, "--out", out)
    assert time.perf_counter() - started < 5
    assert result.status == 2, result.err
    assert result.err.startswith("relsim: error: the sweep is too large")
    for word in ("sweep.x", "sweep.y", "sweep.replicates", "10000000", *words):
        assert word in result.err, word
    assert "Traceback" not in result.err and "ValueError" not in result.err
    assert list(tmp_path.iterdir()) == []  # no results folder, no .partial


def test_the_sweep_size_limit_is_the_run_limit():
    from sim.params import RUN
    from sim.sweep import MAX_SWEEP_COUPLES, SweepTooLargeError, check_sweep_size

    assert MAX_SWEEP_COUPLES == RUN["couples"].high
    spec = {**SWEEP, "replicates": MAX_SWEEP_COUPLES // 6}
    assert check_sweep_size(BASE, spec) == 6 * (MAX_SWEEP_COUPLES // 6)
    with pytest.raises(SweepTooLargeError, match=r"sweep\.replicates"):
        run_sweep(BASE, sweep={**SWEEP, "replicates": MAX_SWEEP_COUPLES // 6 + 1}, workers=1)


@pytest.mark.slow
def test_memory_grows_with_the_chunks_in_flight_not_with_the_grid():
    """A sweep at the size limit (a 1000 x 1000 grid, 10 couples each): 10 million couples.

    The old engine laid out every couple before running anything (4 GB for this grid); now the
    chunks are built as they run and folded in as they finish, so only the table (one row per
    grid point) and a chunk or two are ever held.
    """
    import tracemalloc

    class Enough(Exception):
        pass

    def stop(done: int, total: int) -> None:
        if done >= 3:
            raise Enough

    spec = {"x": {"param": "partner_a.anxiety", "start": 0.0, "stop": 1.0, "num": 1000},
            "y": {"param": "dynamics.relief_decay", "start": 0.5, "stop": 2.0, "num": 1000},
            "replicates": 10}  # fmt: skip
    small = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, days=2, seed=1)
    tracemalloc.start()
    try:
        with pytest.raises(Enough):
            run_sweep(small, sweep=spec, workers=1, progress=stop)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 15 per-cell statistics x 1,000,000 cells x 8 bytes = 120 MB is the table itself.
    assert peak < 250 * 2**20, f"{peak / 2**20:.0f} MiB"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_that_python_swallows_still_stops_the_sweep(tmp_path):
    """A Ctrl-C whose KeyboardInterrupt CPython drops still stops the sweep at the next chunk.

    Raised inside a weakref callback (as in an import lock's clean-up), KeyboardInterrupt is
    printed as "Exception ignored in ..." and dropped; the sweep remembers the signal anyway.
    """
    import os
    import signal
    import weakref

    class Thing:
        pass

    seen = []

    def swallowed(_ref) -> None:  # Ctrl-C handled here is printed and dropped by CPython
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10_000):  # give the interpreter a chance to run the handler here
            seen.append(None)
            seen.pop()

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done == 1:
            thing = Thing()
            ref = weakref.ref(thing, swallowed)
            del thing  # the callback runs now, and KeyboardInterrupt dies with it
            assert ref() is None

    folder = tmp_path / "chunks"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK, checkpoint_dir=folder,
                  progress=progress)  # fmt: skip
    assert seen == [0, 1]  # stopped right after the chunk during which Ctrl-C came
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_the_written_in_shortcut_is_taken_only_where_it_is_exact():
    # For every dynamics parameter: on a 3 x 3 grid the shortcut is checked on the corners and
    # the middle; the other four cells must then equal their own plain draw either way.
    from sim.params import DYNAMICS

    fields = [f.name for f in dataclasses.fields(Population)]
    for name, spec in DYNAMICS.items():
        values = np.linspace(spec.low, spec.high, 3)
        if getattr(spec, "integer", False):
            values = np.round(values)
        x = {"param": f"dynamics.{name}", "values": values.tolist()}
        y = {"param": "partner_a.anxiety", "values": [0.1, 0.5, 0.9]}
        plan = _Plan(BASE, *_axes(BASE, x, y), 4).with_fast_path()
        for cell in (1, 3, 5, 7):
            pop, _ = plan.chunk(cell * 4, cell * 4 + 4)
            drawn = population(plan.cell_setup(cell))
            for field in fields:
                mine, theirs = getattr(pop, field), getattr(drawn, field)
                pairs = ([(mine[k], theirs[k]) for k in theirs] if isinstance(theirs, dict)
                         else [(mine, theirs)])  # fmt: skip
                for a, b in pairs:
                    assert np.array_equal(a, b), (name, plan.fast, cell, field)


def test_phase_diagram_draws_the_boundary_with_its_uncertainty_band():
    from sim.plots import phase_diagram
    from sim.sweep import SweepAxis, SweepTable

    x = SweepAxis("partner_a.anxiety", (0.0, 0.25, 0.5, 0.75, 1.0))
    y = SweepAxis("partner_b.avoidance", (0.0, 0.5, 1.0))
    rows = []
    for a in x.values:
        for b in y.values:
            row = {x.param: a, y.param: b, **dict.fromkeys(METRIC_COLUMNS, 0.0)}
            share = 0.9 * a + 0.05
            low, high = wilson_interval(round(share * 20), 20)
            name = "share_spiraling_or_dissolved"
            row.update({name: share, f"{name}_low": float(low), f"{name}_high": float(high)})
            rows.append(row)
    fig = phase_diagram(SweepTable(x, y, rows, replicates=20, days=90, seed=1))
    main = fig.axes[0]
    # The grid, the boundary, the band and the two dashed ends of the interval.
    assert len(main.collections) == 5
    texts = [t.get_text() for t in main.get_legend().get_texts()]
    assert texts == ["Boundary: half the couples spiraling or dissolved",
                     "95% interval holds one half: the boundary lies in this band"]  # fmt: skip
