"""The bundled ``phase-anxiety-avoidance`` sweep (21 x 21 grid, 50 replicates, 180 days).

Runs the sweep with 1 and with 2 local workers through ``sim.sweep.run_sweep`` and prints the
seconds of each and the speed-up (target: under 60 s on this 2-core machine). Each run starts
from a warm kernel (compiled or loaded from Numba's cache once beforehand). The two tables must
be identical: the workers do not change the numbers.

    python benchmarks/sweep.py [--workers 1 2] [--memory]

``--memory`` also prints the peak memory (resident set) of a sweep process for two grids, one
100 times the other (same couples per point, 5 days, one worker): a sweep's memory grows with
the chunks in flight and the table's rows, not with the couples simulated.
"""

from __future__ import annotations

import argparse
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


def _same(table_a, table_b) -> bool:
    """Return whether two sweep tables are equal, byte for byte as CSV."""
    return table_a.to_csv() == table_b.to_csv()


_MEMORY_SCRIPT = """
import resource, sys, time
from sim.simulation import Setup
from sim.sweep import run_sweep
n = int(sys.argv[1])
base = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, days=5, seed=1)
spec = {"x": {"param": "partner_a.anxiety", "start": 0.0, "stop": 1.0, "num": n},
        "y": {"param": "dynamics.relief_decay", "start": 0.5, "stop": 2.0, "num": n},
        "replicates": 10}
start = time.perf_counter()
run_sweep(base, sweep=spec, workers=1)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def memory(sides: tuple[int, ...] = (20, 200)) -> list[tuple[int, float, float]]:
    """Peak resident memory (MiB) and seconds of one-worker sweeps of ``side x side`` cells."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    rows = []
    for side in sides:
        done = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(side)], cwd=root,
                              capture_output=True, text=True, check=True)  # fmt: skip
        seconds, kib = done.stdout.split()
        rows.append((side, float(kib) / 1024, float(seconds)))
    return rows


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
        same = _same(tables[workers], tables[worker_counts[0]])
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
    parser.add_argument("--memory", action="store_true", help="also measure peak memory")
    args = parser.parse_args()
    for row in results(tuple(args.workers)):
        print(f"{row['target']}: {row['measured']}  goal {row['goal']}")
    if args.memory:
        for side, mib, seconds in memory():
            print(f"memory: {side}x{side} grid x 10 couples ({side * side * 10} couples, 5 days, "
                  f"1 worker): peak {mib:.0f} MiB, {seconds:.1f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
