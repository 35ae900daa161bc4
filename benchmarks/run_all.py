"""Run every benchmark and print each target with its measured figure and PASS or FALLS SHORT.

    python benchmarks/run_all.py [--quick]

``--quick`` shortens the memory run to 30 days (memory does not grow with days; see
benchmarks/memory.py) and skips nothing else. The whole pass takes several minutes on this
2-core machine; other work running at the same time lowers the wall-clock figures. The kernel
has two rows at 100,000 couples, each with its own verdict: one core, per CPU-second (what one
core delivers, whatever else runs), and all cores, per wall-second (one run on every usable
core, ``kernel.Kernel``'s threads; this one drops when other work shares the cores).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import dashboard_step, kernel, memory, mesa_loop, startup, sweep


def _verdict(passed: bool | None) -> str:
    return "" if passed is None else ("PASS" if passed else "FALLS SHORT")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="memory run of 30 days, not 365")
    args = parser.parse_args()
    steps = [
        ("kernel", kernel.results),
        ("mesa", mesa_loop.results),
        ("memory", lambda: memory.results(30 if args.quick else 365)),
        ("sweep", sweep.results),
        ("startup", startup.results),
        ("dashboard", dashboard_step.results),
    ]
    rows = []
    for name, step in steps:
        start = time.perf_counter()
        try:
            found = step()
        except Exception as error:  # a benchmark that cannot run is reported, not fatal
            found = [
                {"target": name, "goal": "", "measured": f"could not run: {error}", "passed": False}
            ]
        for row in found:
            rows.append(row)
            print(
                f"[{time.perf_counter() - start:6.1f} s] {row['target']}: {row['measured']}",
                flush=True,
            )
    print()
    width = max(len(row["target"]) for row in rows)
    for row in rows:
        print(
            f"{row['target']:<{width}}  {row['goal']:<28} {row['measured']:<60} "
            f"{_verdict(row['passed'])}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
