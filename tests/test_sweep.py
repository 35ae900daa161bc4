"""The sweep engine: grid layout, independence from workers and chunking, checkpoints, errors."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest

from sim.outcomes import LABELS
from sim.scenario import Scenario, SweepAxis, SweepSpec
from sim.simulation import Setup, simulate
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
    segments = plan.segments(0, plan.couples)
    assert [(low, high) for low, high, _ in segments] == [(0, 6)] * 6
    assert [(low, high) for low, high, _ in plan.segments(4, 15)] == [(4, 6), (0, 6), (0, 3)]
    pop = SimpleNamespace(
        anxiety=np.concatenate([p.anxiety for _, _, p in segments], axis=1),
        avoidance=np.concatenate([p.avoidance for _, _, p in segments], axis=1),
    )
    cells = pop.anxiety[1].reshape(6, 6)  # partner B's anxiety: not swept, jittered
    assert np.ptp(cells, axis=0).max() == 0.0 and np.ptp(cells[0]) > 0
    assert pop.anxiety[0].reshape(6, 6)[:, 0].tolist() == [0.2, 0.2, 0.6, 0.6, 0.95, 0.95]
    assert pop.avoidance[1].reshape(6, 6)[:, 0].tolist() == [0.1, 0.9] * 3


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
    # The truth: one cell's share spiraling or dissolved over 3000 couples. 30 small sweeps of
    # 40 couples with other seeds' couples (different draw ids): about 95% of their intervals
    # must hold it; at 95%, 30 intervals miss it 0 to 5 times in all but 1 in 300 cases.
    cell = {"x": {"param": "partner_a.anxiety", "values": [0.8]},
            "y": {"param": "partner_b.avoidance", "values": [0.7]}}  # fmt: skip
    truth = run_sweep(BASE, sweep={**cell, "replicates": 3000}, workers=1).rows[0]
    share = truth["share_spiraling_or_dissolved"]
    assert 0.1 < share < 0.9  # a share with room to miss on both sides
    misses = 0
    for seed in range(30):
        base = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, days=40,
                     seed=100 + seed)  # fmt: skip
        row = run_sweep(base, sweep={**cell, "replicates": 40}, workers=1).rows[0]
        name = "share_spiraling_or_dissolved"
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
