"""A sweep on a Dask cluster (a scheduler and two workers on 127.0.0.1) equals the local one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from distributed import Client

from sim.simulation import Setup
from sim.sweep import run_sweep

REPO = Path(__file__).resolve().parents[1]
BASE = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, days=30, seed=9)
SWEEP = {
    "x": {"param": "partner_a.anxiety", "values": [0.3, 0.9]},
    "y": {"param": "dynamics.relief_decay", "values": [0.5, 1.0, 2.0]},
    "replicates": 5,
}


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # lets dask close its connections cleanly
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def scheduler_address(free_port):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    # The workers unpickle sim's functions, so they must import sim from this checkout.
    paths = [str(REPO), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": REPO}
    dask = [sys.executable, "-m", "dask"]
    processes = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], **quiet)]  # fmt: skip
    try:
        for _ in range(2):
            processes.append(subprocess.Popen(
                [*dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                 "--no-dashboard", "--host", "127.0.0.1"], **quiet))  # fmt: skip
        deadline = time.monotonic() + 60
        while True:  # the scheduler may take a moment to listen
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(2, timeout=60)
                break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for process in reversed(processes):
            _stop(process)
        assert all(process.poll() is not None for process in processes)


def test_dask_sweep_equals_the_local_sweep_byte_for_byte(scheduler_address):
    local = run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=7).to_csv()
    seen = []
    remote = run_sweep(BASE, sweep=SWEEP, scheduler=scheduler_address, chunk_size=7,
                       progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert remote.to_csv() == local
    assert seen[0] == (0, 5)
    assert seen[-1] == (5, 5)


def test_dask_sweep_resumes_from_local_checkpoints(scheduler_address, tmp_path):
    folder = tmp_path / "chunks"
    local = run_sweep(BASE, sweep=SWEEP, workers=1, chunk_size=7, checkpoint_dir=folder)
    for path in sorted(folder.glob("chunk-*.npz"))[::2]:
        path.unlink()
    remote = run_sweep(BASE, sweep=SWEEP, scheduler=scheduler_address, chunk_size=7,
                       checkpoint_dir=folder)  # fmt: skip
    assert remote.to_csv() == local.to_csv()


def test_unreachable_scheduler_is_a_clear_error(free_port):
    with pytest.raises(ConnectionError, match="cannot reach the Dask scheduler"):
        run_sweep(BASE, sweep=SWEEP, scheduler=f"tcp://127.0.0.1:{free_port()}")
