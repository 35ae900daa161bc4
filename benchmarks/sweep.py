"""The bundled ``phase-anxiety-avoidance`` sweep (21 x 21 grid, 50 replicates, 180 days).

Runs the sweep with 1 and with 2 local workers through ``sim.sweep.run_sweep`` and prints the
seconds of each and the speed-up (target: under 60 s on this 2-core machine). Each run starts
from a warm kernel (compiled or loaded from Numba's cache once beforehand). The two tables must
be identical: the workers do not change the numbers.

    python benchmarks/sweep.py [--workers 1 2] [--scenario NAME]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_SECONDS = 60.0
SCENARIO = "phase-anxiety-avoidance"


def measure(workers: int, scenario: str = SCENARIO):
    """Return ``(seconds, table)`` of one sweep with ``workers`` local processes."""
    from sim.scenario import load_scenario
    from sim.sweep import run_sweep

    loaded = load_scenario(scenario)
    start = time.perf_counter()
    table = run_sweep(loaded, workers=workers)
    return time.perf_counter() - start, table


def _same(rows_a: list[dict], rows_b: list[dict]) -> bool:
    """Return whether two sweep tables are equal, counting NaN (no data) as equal to NaN."""

    def key(value: object) -> object:
        return "nan" if isinstance(value, float) and math.isnan(value) else value

    return [{k: key(v) for k, v in row.items()} for row in rows_a] == [
        {k: key(v) for k, v in row.items()} for row in rows_b
    ]


def _warm_up() -> None:
    from sim.simulation import Setup, simulate

    simulate(Setup(couples=2, days=1))


def results(worker_counts: tuple[int, ...] = (1, 2)) -> list[dict]:
    """Rows for ``run_all``: one per worker count, the best judged against the target."""
    _warm_up()
    timings, tables = {}, {}
    for workers in worker_counts:
        timings[workers], tables[workers] = measure(workers)
    rows = []
    base = timings[worker_counts[0]]
    for workers, seconds in timings.items():
        same = _same(tables[workers].rows, tables[worker_counts[0]].rows)
        rows.append(
            {
                "target": f"sweep {SCENARIO} (21x21x50, 180 days), {workers} worker(s)",
                "goal": f"< {TARGET_SECONDS:.0f} s"
                if workers == max(worker_counts)
                else "(reported)",
                "measured": f"{seconds:.1f} s, speed-up {base / seconds:.2f}x"
                f"{'' if same else ', TABLE DIFFERS'}",
                "passed": (seconds < TARGET_SECONDS and same)
                if workers == max(worker_counts)
                else None,
                "value": seconds,
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    for row in results(tuple(args.workers)):
        print(f"{row['target']}: {row['measured']}  goal {row['goal']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
