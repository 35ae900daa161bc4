"""The entry point of a sweep's local worker process: small, so that it starts protected.

A spawned worker imports the module of its target before running it. This module imports only
the standard library, so the worker ignores Ctrl-C and ties its life to its parent's before it
imports NumPy, Numba and the model (about a second), and a parent killed meanwhile takes the
worker with it at once. The chunks themselves are run by :mod:`sim.sweep`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time


def main(conn, parent: int) -> None:  # pragma: no cover - runs in the worker process
    """Serve chunk tasks from ``conn`` until told to stop or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked by the parent while it started us
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    die_with_parent(parent)
    # The workers already share the cores: one engine thread each (sim.engine.kernel's default
    # would be every core, in every worker).
    os.environ["RELSIM_THREADS"] = "1"
    try:
        from .sweep import _run_chunk  # the heavy imports, now that we are protected

        plan = conn.recv()
        while True:
            task = conn.recv()
            if task is None:
                return
            index, start, stop = task
            try:
                message = ("done", index, _run_chunk(plan, start, stop))
            except Exception as error:  # handed to the parent, which raises it
                message = ("error", index, portable(error))
            conn.send(message)
    except (EOFError, OSError):  # the parent closed the pipe or is gone: nothing left to do
        return


def portable(error: Exception) -> Exception:
    """``error`` itself if it survives pickling, else a RuntimeError that says what it was."""
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def die_with_parent(parent: int) -> None:  # pragma: no cover - runs in the worker process
    """End this process as soon as ``parent`` is gone (even after a SIGKILL of the parent).

    Linux: the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``). Everywhere: a
    thread checks twice a second that the parent is still this process's parent.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="relsim-parent-watch", daemon=True).start()
