"""Print the relationship-career measures a family scientist checks first (model revision 2.4).

On the literature mix, married and dating (2,000 couples, 365 days, seed 32, daily states kept):
how strongly partners' satisfaction is linked, how far commitment is more than satisfaction, which
of the two predicts later break-up better, how many couples who split were not distressed eight
weeks before, how satisfaction moves in couples who stay, the dating hazard by 60-day window,
break-up by pairing, and how far attachment moved. Then yearly dissolution over three years
(seed 44). docs/ODD.md section 11 ("Revision 2.4") quotes these numbers. Seeded: the same numbers
on every run; well under a minute on one core.

    python benchmarks/career_report.py [--couples 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sim import Setup, simulate
from sim.engine.kernel import DAILY_VARS
from sim.styles import LITERATURE_MIX


def corr(x, y) -> float:
    return float(np.corrcoef(np.ravel(x), np.ravel(y))[0, 1])


def one_year(relationship: str, couples: int, seed: int = 32) -> None:
    mix = {"mix": dict(LITERATURE_MIX), "couples": couples}
    result = simulate(Setup(population=mix, days=365, seed=seed, relationship=relationship),
                      record_daily=True)  # fmt: skip
    c, daily = result.couples, result.daily
    sat = daily[:, DAILY_VARS.index("satisfaction")]  # (days, 2, couples)
    com = daily[:, DAILY_VARS.index("commitment")]
    day_out = np.asarray(c["dissolved_day"])
    split, stay = day_out >= 0, day_out < 0
    anxiety = np.stack([c["anxiety_a"], c["anxiety_b"]])
    final_anxiety = np.stack([c["final_anxiety_a"], c["final_anxiety_b"]])
    print(f"{relationship}: {couples} couples, one year, seed {seed}; dissolved {split.mean():.1%}")
    end_s, end_c = sat[-1][:, stay], com[-1][:, stay]
    print(f"  r(partner A's satisfaction, partner B's), couples together: "
          f"{corr(end_s[0], end_s[1]):.2f}")  # fmt: skip
    print(f"  r(satisfaction, commitment), people together: {corr(end_s, end_c):.2f}")
    alive = (day_out < 0) | (day_out >= 90)
    later = (day_out >= 90)[alive].astype(float)
    print(f"  later break-up (after day 90) from the couple's day-90 minimum: commitment r "
          f"{corr(com[89][:, alive].min(axis=0), later):+.2f}, satisfaction r "
          f"{corr(sat[89][:, alive].min(axis=0), later):+.2f}")  # fmt: skip
    # Couples that split after at least nine weeks: where their mean satisfaction stood eight
    # weeks before, among the couples still together then and after.
    share_below = []
    for i, d in enumerate(day_out):
        if d >= 63:
            stayers = sat[d - 56][:, (day_out < 0) | (day_out > d)].mean(axis=0)
            share_below.append(np.mean(stayers < sat[d - 56][:, i].mean()))
    if share_below:
        share_below = np.asarray(share_below)
        not_distressed = np.mean(share_below > 0.25)
        print(f"  of {share_below.size} couples who split after nine weeks, above the "
              f"stayers' 25th percentile of satisfaction eight weeks before: "
              f"{not_distressed:.0%}")  # fmt: skip
    days = np.arange(89, 365)
    slopes = np.polyfit(days / 365.0, sat[89:][:, :, stay].reshape(days.size, -1), 1)[0]
    print(f"  couples who stay: satisfaction change a year over days 90-365 {slopes.mean():+.3f}, "
          f"{np.mean(slopes < 0):.0%} of people declining")  # fmt: skip
    left, hazards = couples, []
    for start in range(0, 360, 60):
        ended = int(np.sum((day_out >= start) & (day_out < start + 60)))
        hazards.append(f"{ended / max(left, 1):.1%}")
        left -= ended
    print(f"  hazard per 60 days: {', '.join(hazards)}")
    pairing = np.array(["+".join(sorted(p)) for p in zip(c["style_a"], c["style_b"], strict=True)])
    for name in ("secure+secure", "anxious+avoidant"):
        print(f"  {name}: {split[pairing == name].mean():.1%} dissolved "
              f"({int(np.sum(pairing == name))} couples)")  # fmt: skip
    print(f"  anxiety at the start and the end: r {corr(anxiety, final_anxiety):.3f}, mean change "
          f"{np.mean(final_anxiety - anxiety):+.3f}")  # fmt: skip
    above97 = np.stack([c["satisfaction_a"], c["satisfaction_b"]]) > 0.97
    print(f"  satisfaction above 0.97 at the end: {above97.mean():.1%}")


def three_years(relationship: str, couples: int, seed: int = 44) -> None:
    mix = {"mix": dict(LITERATURE_MIX), "couples": couples}
    setup = Setup(population=mix, days=3 * 365, seed=seed, relationship=relationship)
    day_out = np.asarray(simulate(setup).couples["dissolved_day"])
    left, rates = couples, []
    for year in range(3):
        ended = int(np.sum((day_out >= 365 * year) & (day_out < 365 * (year + 1))))
        rates.append(f"{ended / max(left, 1):.1%}")
        left -= ended
    print(f"{relationship}: yearly dissolution over three years (seed {seed}): {' / '.join(rates)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--couples", type=int, default=2000, help="couples per run")
    args = parser.parse_args()
    start = time.perf_counter()
    for relationship in ("married", "dating"):
        one_year(relationship, args.couples)
    for relationship in ("married", "dating"):
        three_years(relationship, args.couples)
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
