"""The sweep engine: grid layout, independence from workers and chunking, checkpoints, errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from sim.outcomes import LABELS
from sim.scenario import Scenario, SweepAxis, SweepSpec
from sim.simulation import Setup, simulate
from sim.sweep import METRIC_COLUMNS, run_sweep, sweep_setup

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


def test_sweep_matches_one_plain_run_of_the_same_population():
    setup, x, y = sweep_setup(BASE, "partner_a.anxiety", [0.2, 0.6, 0.95], "partner_b.avoidance",
                              [0.1, 0.9], 6)  # fmt: skip
    assert setup.couples == 36
    assert x.label == "Seeker's anxiety (partner A)"
    assert y.label == "Partner's avoidance (partner B)"
    labels = simulate(setup).labels.reshape(6, 6)
    table = run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=CHUNK)
    for point, row in enumerate(table.rows):
        assert row["share_spiraling"] == np.mean(labels[point] == "spiraling")
        assert row["share_stable"] == np.mean(labels[point] == "stable")


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
