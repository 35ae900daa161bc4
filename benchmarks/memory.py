"""Peak memory of a large run: 1,000,000 couples for 365 days within 2 GB.

A child process draws the population, runs the compiled kernel with the default recorders
(per-couple counters that stream, plus population means per day; no per-couple daily
trajectories) and builds the per-couple table, then reports its peak resident memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``).

Memory does not grow with the number of days beyond the daily means (a few kilobytes a day), so
``--days`` may be lowered to keep the measurement short; the full year takes several CPU-minutes.

    python benchmarks/memory.py [--couples N] [--days N]

What keeps it small: the population's parameter matrix is compact (``sim.simulation.Params``:
a row that is the same for every couple is one number, so 2 of its 112 rows are arrays), and
``run_population`` runs the couples ``CHUNK_COUPLES`` (131,072) at a time, so that the engine's
states, recorders and full parameter matrix exist for one chunk only. The numbers are the same
bit for bit (tests/test_determinism.py). Measured on the shared 2-core machine, model
revision 2.3 (2026-11-30):

* ``python benchmarks/memory.py --days 30``: peak 1.21 GB (before chunking: 2.47 GB);
* ``python benchmarks/memory.py --days 365``: peak 1.24 GB, 360 s in the child (niced, load ~2).

Re-measured on model revision 2.5 (session 6, 2026-11-30; three more person states and two more
parameter rows since 2.3): ``--days 365`` peak 1.26 GB, 242 s in the child; ``--days 30`` 1.25 GB
(``benchmarks/run_all.py --quick``).

Where the 1.21 GB goes: Python, NumPy and the loaded engine 0.15 GB; the population (traits,
histories, styles, cultures) 0.29 GB, with a passing peak of 0.70 GB while it is drawn; the
per-couple table 0.60 GB (66 columns); one chunk's kernel about 0.2 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_BYTES = 2 * 1024**3

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from sim.simulation import Setup, population, run_population
start = time.perf_counter()
setup = Setup(population={{"mix": {{"secure": 0.56, "avoidant": 0.25, "anxious": 0.19}},
                           "couples": {couples}}}, couples={couples}, days={days}, seed=1)
kern, cols = run_population(population(setup), seed=1, days={days})
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"peak_bytes": peak, "seconds": time.perf_counter() - start,
                  "together": int((cols["dissolved_day"] < 0).sum())}}))
"""


def measure(couples: int = 1_000_000, days: int = 365) -> dict[str, float]:
    """Run the child and return ``{"peak_bytes", "seconds", "together"}``."""
    # A first tiny run fills Numba's cache, so that the measured child loads the machine code
    # instead of compiling it (compiling alone takes a few hundred megabytes).
    warm = CHILD.format(root=str(ROOT), couples=2, days=1)
    subprocess.run([sys.executable, "-c", warm], capture_output=True, text=True, check=True)
    code = CHILD.format(root=str(ROOT), couples=couples, days=days)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["wall_seconds"] = time.perf_counter() - start
    return out


def results(days: int = 365) -> list[dict]:
    """Rows for ``run_all``."""
    m = measure(1_000_000, days)
    return [
        {
            "target": f"peak memory, 1,000,000 couples x {days} days",
            "goal": "<= 2 GB",
            "measured": f"{m['peak_bytes'] / 1024**3:.2f} GB ({m['seconds']:.0f} s)",
            "passed": m["peak_bytes"] <= LIMIT_BYTES,
            "value": m["peak_bytes"],
        }
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--couples", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    m = measure(args.couples, args.days)
    verdict = "PASS" if m["peak_bytes"] <= LIMIT_BYTES else "FALLS SHORT"
    print(
        f"{args.couples:,} couples x {args.days} days: peak {m['peak_bytes'] / 1024**3:.2f} GB "
        f"(limit 2 GB, {verdict}); {m['seconds']:.1f} s in the child"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
