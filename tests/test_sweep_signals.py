"""A parallel sweep under signals: Ctrl-C at any moment, SIGKILL of the parent, `| cat` pipelines.

Each test runs ``python -m sim sweep`` in its own session (like a terminal's foreground job) and
looks at every process of that session through /proc, so a worker or helper process that
outlives the sweep is found, not just a hung parent.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads the process table from /proc (Linux)")  # fmt: skip

ROOT = Path(__file__).resolve().parent.parent
# 100 grid points x 100 couples x 2000 days, 10 chunks: far more than the 2 s the test waits.
SWEEP = [sys.executable, "-m", "sim", "sweep", "phase-anxiety-avoidance", "--workers", "2",
         "--days", "2000", "--set", "sweep.x.num=10", "--set", "sweep.y.num=10",
         "--set", "sweep.replicates=100"]  # fmt: skip


def _default_sigint() -> None:
    """In the child before exec: take Ctrl-C as a terminal does.

    A job started in the background by a non-interactive shell ignores SIGINT, and exec keeps
    it ignored, so a test run that way would otherwise send Ctrl-C to a deaf sweep.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _session(sid: int) -> dict[int, str]:
    """Live (not zombie) processes of session ``sid``: pid -> command line."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        state, _ppid, _group, session = stat.rsplit(")", 1)[1].split()[:4]
        if int(session) == sid and state != "Z":
            found[int(entry)] = command
    return found


def _states(sid: int) -> list[str]:
    """Each live process of session ``sid`` with its state and where the kernel has it wait."""
    states = []
    for pid, command in _session(sid).items():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            wchan = Path(f"/proc/{pid}/wchan").read_text()
        except OSError:
            continue
        states.append(f"{pid} {stat} {wchan} {command[:80]}")
    return states


def _wait_until_gone(sid: int, seconds: float) -> dict[int, str]:
    deadline = time.monotonic() + seconds
    while (left := _session(sid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _kill_session(sid: int) -> None:
    for pid in _session(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def warm_engine():
    """Compile (or load) the engine once, so no trial measures a first-run compile."""
    warm = "from sim.engine import kernel; kernel.warm_up()"
    subprocess.run([sys.executable, "-c", warm], cwd=ROOT, capture_output=True, timeout=900,
                   check=True)  # fmt: skip


@pytest.mark.slow
def test_ctrl_c_at_any_moment_ends_the_sweep_cleanly(tmp_path, warm_engine):
    """40 seeded trials: SIGINT to the whole group 0-2 s after the sweep began.

    Before the fix about 1 run in 34 hung for ever after Ctrl-C and 4 in 34 printed a worker's
    traceback (Ctrl-C while the workers started). 40 trials catch a 1-in-34 failure with
    probability 1 - (33/34)**40 = 70% per run (and the 4-in-34 tracebacks with 99%); every CI
    run adds 40 more. Every trial must end within 60 s, exit 130 (or 0 if it
    had already finished), print no traceback, and leave no process of its session behind.
    (Within 60 s, not the usual second: the hang was for ever, and a loaded CI machine is slow.)
    The clock starts when the sweep has made its checkpoint folder, after Python's imports: a
    Ctrl-C during the imports themselves can land in an import lock's clean-up, where CPython
    drops KeyboardInterrupt ("Exception ignored"), which no program can see (the sweep then
    runs on; a second Ctrl-C stops it). About 2 minutes on an idle 2-core machine.
    """
    rng = random.Random(34)
    outcomes = []
    started = time.monotonic()
    for trial in range(40):
        out = tmp_path / f"sweep-{trial}"
        partial = tmp_path / f"sweep-{trial}.partial"
        delay = rng.uniform(0.0, 2.0)
        process = subprocess.Popen([*SWEEP, "--out", str(out)], cwd=ROOT, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True, preexec_fn=_default_sigint)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not partial.exists() and process.poll() is None:
                assert time.monotonic() < deadline, f"trial {trial}: the sweep never began"
                time.sleep(0.01)
            time.sleep(delay)
            os.killpg(process.pid, signal.SIGINT)
            try:
                _, err = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"trial {trial}: still running 60 s after Ctrl-C at {delay:.2f} s: "
                            f"{_states(process.pid)}")  # fmt: skip
            left = _wait_until_gone(process.pid, 5)
            assert not left, f"trial {trial} (Ctrl-C at {delay:.2f} s) left {left}"
        finally:
            _kill_session(process.pid)
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode in (0, 130), (trial, delay, process.returncode, err)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, (trial, delay, err)
        if process.returncode == 130:
            assert "interrupted" in err and not out.exists(), (trial, err)
        outcomes.append(process.returncode)
    elapsed = time.monotonic() - started
    assert outcomes.count(130) >= 35, outcomes  # the interrupts did land while it ran
    print(f"40 Ctrl-C trials in {elapsed:.0f} s: {outcomes.count(130)} interrupted")


@pytest.mark.slow
def test_sigkill_of_a_sweep_ends_its_workers_and_a_pipeline(tmp_path, warm_engine):
    """`relsim sweep ... | cat`, SIGKILL of the sweep: workers gone, the pipeline finishes."""
    command = " ".join([*SWEEP, "--out", str(tmp_path / "sweep")]) + " | cat"
    shell = subprocess.Popen(["bash", "-c", command], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.1)
            workers = [pid for pid, cmd in _session(shell.pid).items() if "spawn_main" in cmd]
        assert len(workers) == 2, _session(shell.pid)
        time.sleep(1.0)  # the workers are busy with chunks
        (sweep,) = [pid for pid, cmd in _session(shell.pid).items()
                    if " sim sweep " in cmd and "spawn_main" not in cmd
                    and not cmd.startswith("bash")]  # fmt: skip
        killed = time.monotonic()
        os.kill(sweep, signal.SIGKILL)
        shell.communicate(timeout=15)  # cat sees the end of its input: every writer is gone
        finished = time.monotonic() - killed
        left = _wait_until_gone(shell.pid, 5)
    finally:
        _kill_session(shell.pid)
        if shell.poll() is None:
            shell.kill()
            shell.wait()
    assert not left, left
    assert finished < 10, finished
    print(f"pipeline finished {finished:.2f} s after SIGKILL of the sweep")
