"""Kernel throughput: couple-ticks (one couple, one simulated hour) per second on one core.

Runs the compiled kernel (after a warm-up that compiles or loads it from Numba's cache) on an
anxious-avoidant population of 1,000 and 100,000 couples and prints couple-ticks per second,
by wall time and by this process's CPU time (the two differ when other work shares the cores).
The kernel is single-threaded: the figure is one core's.

    python benchmarks/kernel.py [--days N] [--engine compiled|numpy]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim import kernel as k
from sim.simulation import Setup, population

TARGET = 5e7  # couple-ticks per second at 100,000 couples (issue 6)


def _kernel(n: int, days: int, engine: str) -> k.Kernel:
    setup = Setup(
        partner_a={"style": "anxious"},
        partner_b={"style": "avoidant"},
        couples=n,
        days=days,
        seed=1,
    )
    pop = population(setup)
    return k.Kernel(pop.people, pop.params, seed=1, days=days, engine=engine
    )


def measure(n: int, days: int = 30, engine: str = "compiled") -> dict[str, float]:
    """Return ``{"couples", "days", "wall_s", "cpu_s", "wall_rate", "cpu_rate"}`` for one run."""
    _kernel(n, 1, engine).advance(1)  # warm-up: compile or load the cached machine code
    kern = _kernel(n, days, engine)
    wall, cpu = time.perf_counter(), time.process_time()
    kern.advance(days)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ticks = n * days * k.HOURS_PER_DAY
    return {
        "couples": n,
        "days": days,
        "wall_s": wall,
        "cpu_s": cpu,
        "wall_rate": ticks / wall,
        "cpu_rate": ticks / cpu,
    }


def results(days: int = 30, engine: str = "compiled") -> list[dict]:
    """Measure 1,000 and 100,000 couples; return rows for ``run_all``."""
    rows = []
    for n in (1_000, 100_000):
        m = measure(n, days if n > 1_000 else max(days, 180), engine)
        rows.append(
            {
                "target": f"kernel throughput, {n:,} couples (one core)",
                "goal": f">= {TARGET:.0e} couple-ticks/s" if n == 100_000 else "(reported)",
                "measured": f"{m['wall_rate']:.3g}/s wall, {m['cpu_rate']:.3g} per CPU-s",
                "passed": None if n != 100_000 else max(m["wall_rate"], m["cpu_rate"]) >= TARGET,
                "value": m["cpu_rate"],
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--engine", choices=("compiled", "numpy"), default="compiled")
    args = parser.parse_args()
    for n in (1_000, 100_000):
        m = measure(n, args.days if n > 1_000 else max(args.days, 180), args.engine)
        print(
            f"{n:>9,} couples x {m['days']} days: {m['wall_rate']:.3g} couple-ticks/s (wall "
            f"{m['wall_s']:.2f} s), {m['cpu_rate']:.3g} per CPU-second"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
