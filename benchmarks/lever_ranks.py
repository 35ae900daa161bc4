"""Where the three levers rank in a global sensitivity analysis (issue 11's criterion).

For ``anxious-secure`` and ``anxious-avoidant`` this runs a Sobol analysis of every dynamics
parameter and outcome-label threshold (``sim.sensitivity.analyse``: each parameter from half to
one and a half times its default, a dummy ``control`` parameter as the noise floor, common random
numbers) and prints, for
the share of couples spiraling or dissolved, each lever's total-order index with its 95%
interval, its rank, and whether it is in the top third. Seeded; about two minutes a scenario on
one core at the defaults below.

    python benchmarks/lever_ranks.py [--samples 128] [--couples 48] [--workers 1]
"""

from __future__ import annotations

import argparse
import time

from sim.params import DYNAMICS
from sim.scenario import load_scenario
from sim.sensitivity import analyse

LEVERS = [name for name, param in DYNAMICS.items() if param.lever]
OUTPUT = "share_spiraling_or_dissolved"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=128, help="Sobol base sample (power of 2)")
    parser.add_argument("--couples", type=int, default=48, help="couples per parameter sample")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--scenarios", default="anxious-secure,anxious-avoidant")
    args = parser.parse_args()
    for name in args.scenarios.split(","):
        start = time.perf_counter()
        result = analyse(load_scenario(name).setup(), method="sobol", samples=args.samples,
                         couples=args.couples, workers=args.workers)  # fmt: skip
        rows = [row for row in result.rows if row["output"] == OUTPUT]
        third = len(rows) / 3
        control = next(row for row in rows if row["parameter"] == "control")
        print(
            f"{name}: {len(rows)} parameters (control included), {result.samples} samples x "
            f"{args.couples} couples, {time.perf_counter() - start:.0f} s; control ranks "
            f"{control['rank']} (ST {control['total_order']:.3f})"
        )
        for row in rows[:8]:
            print(
                f"  {row['rank']:3d} {row['parameter']:26s} ST {row['total_order']:.3f} "
                f"± {row['total_order_ci']:.3f}"
            )
        for row in rows:
            if row["parameter"] in LEVERS:
                top = "top third" if row["rank"] <= third else "NOT in the top third"
                print(
                    f"  lever {row['parameter']:22s} rank {row['rank']:3d} of {len(rows)}, "
                    f"ST {row['total_order']:.3f} ± {row['total_order_ci']:.3f}: {top}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
