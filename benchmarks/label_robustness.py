"""How much the outcome shares move when a label threshold or the starting history changes.

Issue 11 item 11: outcome labels should describe attractors, not cut-offs that a small change
flips. This script measures it on two bundled scenarios (the classroom population and
anxious-secure, each with its own seed, couples and days):

* each threshold of ``sim.outcomes`` (``SPIRAL_RATE``, ``EXCESSIVE_RATE``, ``SPIRAL_TRUST``,
  ``SPIRAL_EXHAUSTION``, ``DISTANT_SATISFACTION``, ``DISTANT_CONTACT``) at 75% and 125% of its
  value, the same couples relabelled (the labels are a function of the end state, so no new run
  is needed);
* the starting history: ``start_trust`` ±0.1 and ``history_spread`` 0 and 0.2, each a new run
  with the same seed (common random numbers: same people, same hourly draws).

It prints, per scenario, the share of each label (percent) in every variant and the largest
change of any share against the baseline, in percentage points. docs/ODD.md (section 8, "Label
robustness") quotes its output.

    python benchmarks/label_robustness.py [--scenarios classroom,anxious-secure]
        [--engine compiled|numpy]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from sim import outcomes
from sim.params import DYNAMICS
from sim.scenario import load_scenario
from sim.simulation import simulate

THRESHOLDS = ("SPIRAL_RATE", "EXCESSIVE_RATE", "SPIRAL_TRUST", "SPIRAL_EXHAUSTION",
              "DISTANT_SATISFACTION", "DISTANT_CONTACT")  # fmt: skip
FACTORS = (0.75, 1.25)


def shares(labels: np.ndarray) -> dict[str, float]:
    """Percent of couples with each label of ``outcomes.LABELS``."""
    return {label: 100.0 * float(np.mean(labels == label)) for label in outcomes.LABELS}


def relabel(columns: dict, days: int, name: str, value: float) -> np.ndarray:
    """Labels of ``columns`` with threshold ``name`` (``SPIRAL_RATE`` ...) set to ``value``.

    The constant's parameter (``spiral_rate`` ..., ``sim.params.LABEL_THRESHOLDS``) is handed to
    the labelling function; the others keep their defaults.
    """
    return outcomes.classify_couples(columns, days, {name.lower(): value})


def variants(scenario: str, engine: str) -> list[tuple[str, dict[str, float]]]:
    """Every variant's label shares for one scenario, the baseline first."""
    scen = load_scenario(scenario)
    setup = scen.setup()
    base = simulate(setup, engine=engine)
    rows = [("baseline", shares(base.labels))]
    for name in THRESHOLDS:
        value = getattr(outcomes, name)
        for factor in FACTORS:
            labels = relabel(base.couples, setup.days, name, value * factor)
            rows.append((f"{name} x{factor:g} ({value * factor:g})", shares(labels)))
    default_trust = setup.dynamics_value("start_trust")
    changes = [("start_trust", round(default_trust - 0.1, 4)),
               ("start_trust", round(default_trust + 0.1, 4)),
               ("history_spread", 0.0), ("history_spread", 0.2)]  # fmt: skip
    for name, value in changes:
        DYNAMICS[name].check(value)
        changed = scen.setup(dynamics={**setup.dynamics, name: value})
        rows.append((f"{name} = {value:g}", shares(simulate(changed, engine=engine).labels)))
    return rows


def report(scenario: str, rows: list[tuple[str, dict[str, float]]], couples: int,
           days: int) -> str:  # fmt: skip
    """The table for one scenario, as text."""
    base = rows[0][1]
    head = f"{'variant':38s}" + "".join(f"{label:>11s}" for label in outcomes.LABELS)
    lines = [f"{scenario}: {couples} couples, {days} days (percent of couples; "
             "max |change| in points)", head + f"{'max |d|':>10s}"]  # fmt: skip
    for name, share in rows:
        moved = max(abs(share[label] - base[label]) for label in outcomes.LABELS)
        lines.append(f"{name:38s}" + "".join(f"{share[label]:11.1f}" for label in outcomes.LABELS)
                     + f"{moved:10.1f}")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the label-robustness table of each scenario."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenarios",
        default="classroom,anxious-secure",
        help="comma-separated bundled scenario names or files",
    )
    parser.add_argument("--engine", choices=("compiled", "numpy"), default="compiled")
    args = parser.parse_args(argv)
    for scenario in args.scenarios.split(","):
        setup = load_scenario(scenario).setup()
        print(report(scenario, variants(scenario, args.engine), setup.couples, setup.days))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
