"""What the life-events walk of attachment changes (docs/ODD.md 7.20, revision 2.5).

For ``life_events_spread`` 0 (the default), 0.07 and 0.12 prints, seeded: how a person's anxiety at
the start and after a year correlates (married literature mix, 2,000 couples, seed 32); the dating
literature mix's break-ups in a year and its hazard early and late (2,000 couples, seed 41); and an
anxious person's requests with a secure partner in the first and last month (400 couples, 180 days,
seed 11, phenomenon 3's run). ODD 7.20's table quotes these numbers. About a minute on one core.

    python benchmarks/life_events.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim import Setup, simulate
from sim.styles import LITERATURE_MIX

SPREADS = (0.0, 0.07, 0.12)


def stability(spread: float) -> float:
    """r(anxiety at the start, anxiety after a year), both partners, married literature mix."""
    mix = {"mix": dict(LITERATURE_MIX), "couples": 2000}
    c = simulate(Setup(population=mix, days=365, seed=32, relationship="married",
                       dynamics={"life_events_spread": spread})).couples  # fmt: skip
    start = np.concatenate([c["anxiety_a"], c["anxiety_b"]])
    end = np.concatenate([c["final_anxiety_a"], c["final_anxiety_b"]])
    return float(np.corrcoef(start, end)[0, 1])


def dating_hazard(spread: float) -> tuple[float, float, float]:
    """Share dissolved in a year; hazard in days 0-120 and in days 245-365 (of those left)."""
    mix = {"mix": dict(LITERATURE_MIX), "couples": 2000}
    setup = Setup(population=mix, days=365, seed=41, relationship="dating",
                  dynamics={"life_events_spread": spread})  # fmt: skip
    day = simulate(setup).couples["dissolved_day"]

    def hazard(lo: int, hi: int) -> float:
        at_risk = len(day) - np.sum((day >= 0) & (day < lo))
        return float(np.sum((day >= lo) & (day < hi)) / at_risk)

    return float(np.mean(day >= 0)), hazard(0, 120), hazard(245, 365)


def buffering(spread: float) -> tuple[float, float]:
    """An anxious person's requests a day with a secure partner, first and last 30 days."""
    c = simulate(Setup(partner_a={"style": "anxious"}, partner_b={"style": "secure"},
                       couples=400, days=180, seed=11,
                       dynamics={"life_events_spread": spread})).couples  # fmt: skip
    return float(c["request_rate_first_30d_a"].mean()), float(c["request_rate_last_30d_a"].mean())


def main() -> None:
    for spread in SPREADS:
        r = stability(spread)
        dissolved, early, late = dating_hazard(spread)
        first, last = buffering(spread)
        print(f"life_events_spread {spread:g}: anxiety r(start, a year on) {r:.3f} | dating: "
              f"dissolved {dissolved:.1%}, hazard days 0-120 {early:.1%} vs 245-365 {late:.1%} | "
              f"anxious with a secure partner: {first:.2f} -> {last:.2f} requests a day "
              f"({1 - last / first:.0%} fewer)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
