"""Start-up time of the command line: ``relsim --help`` in a fresh process (target < 0.5 s).

Runs the installed ``relsim`` (or ``python -m sim`` when it is not on PATH) several times and
prints the median wall time; the first run is a warm-up (file-system cache, bytecode).

    python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 0.5


def command() -> list[str]:
    """Return the command that prints the help: ``relsim --help`` or its module form."""
    found = shutil.which("relsim") or shutil.which("relsim", path=str(Path(sys.executable).parent))
    return [found, "--help"] if found else [sys.executable, "-m", "sim", "--help"]


def measure(runs: int = 7) -> dict[str, float]:
    """Return the median and best wall time of ``relsim --help`` over ``runs`` runs."""
    cmd = command()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    times = []
    for attempt in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
        if attempt:  # the first run warms the caches
            times.append(time.perf_counter() - start)
    return {"median": statistics.median(times), "best": min(times), "command": " ".join(cmd)}


def results() -> list[dict]:
    """Rows for ``run_all``."""
    m = measure()
    return [
        {
            "target": "start-up: relsim --help",
            "goal": f"< {TARGET_SECONDS} s",
            "measured": f"{m['median']:.3f} s median (best {m['best']:.3f} s)",
            "passed": m["median"] < TARGET_SECONDS,
            "value": m["median"],
        }
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    m = measure(args.runs)
    print(
        f"{m['command']}: median {m['median']:.3f} s, best {m['best']:.3f} s "
        f"(target < {TARGET_SECONDS} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
