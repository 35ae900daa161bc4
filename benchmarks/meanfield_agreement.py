"""How often the mean-field model predicts the agent-based majority: share of grid cells that agree.

Two planes, each the grid of a bundled sweep scenario (coarsened with ``--num``):

* ``phase-anxiety-avoidance``: seeker anxiety x partner avoidance;
* ``phase-levers``: relief decay x exhaustion rate (the levers' plane).

A cell agrees when the mean field (``sim.meanfield.regime`` of the cell's mean couple) predicts
spiraling or dissolved exactly where at least half of the cell's agent-based couples end
spiraling or dissolved (``sim.bifurcation.grid_agreement``). Prints, per plane, the agreement,
the cells where they disagree (with the agent-based share) and the seconds taken.

    python benchmarks/meanfield_agreement.py [--num 6] [--replicates 40]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sim.bifurcation import grid_agreement
from sim.scenario import load_scenario

PLANES = ("phase-anxiety-avoidance", "phase-levers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num", type=int, default=6, help="values per axis (default 6)")
    parser.add_argument(
        "--replicates", type=int, default=40, help="agent-based couples per cell (default 40)"
    )
    args = parser.parse_args()
    for name in PLANES:
        scenario = load_scenario(name)
        spec = scenario.sweep
        xs = np.linspace(spec.x.values[0], spec.x.values[-1], args.num)
        ys = np.linspace(spec.y.values[0], spec.y.values[-1], args.num)
        started = time.perf_counter()
        out = grid_agreement(scenario, spec.x.param, xs, spec.y.param, ys,
                             replicates=args.replicates)  # fmt: skip
        seconds = time.perf_counter() - started
        cells = out["agree"].size
        print(
            f"{name}: {spec.x.param} x {spec.y.param}, {args.num} x {args.num} cells, "
            f"{args.replicates} couples each, {scenario.days} days, seed {scenario.seed}"
        )
        print(
            f"  agreement {out['agreement']:.3f} ({int(out['agree'].sum())} of {cells} cells); "
            f"mean field spiraling or dissolved in {int(out['mean_field'].sum())} cells, "
            f"agent-based majority in {int((out['abm_share'] >= 0.5).sum())}; {seconds:.1f} s"
        )
        for iy, ix in zip(*np.nonzero(~out["agree"]), strict=True):
            print(
                f"    disagree at {spec.x.param} = {xs[ix]:.3g}, {spec.y.param} = {ys[iy]:.3g}: "
                f"agent-based share {out['abm_share'][iy, ix]:.2f}, mean field "
                f"{'spiraling or dissolved' if out['mean_field'][iy, ix] else 'not'}"
            )


if __name__ == "__main__":
    main()
