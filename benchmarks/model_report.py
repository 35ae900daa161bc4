"""Print the model's headline behaviour against what relationship science reports.

A reviewer's look at the revised model (issue 11), in one command: healthy asking by style, the
spread of satisfaction and its correlations with the traits, both partners' side of a spiral, what
each lever does with a responsive partner, what each strategy does, the honest relief measure and
one-year dissolution by relationship type. Seeded, so the numbers are the same on every run;
about two minutes on one core.

    python benchmarks/model_report.py [--couples 400]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sim import Setup, simulate
from sim.outcomes import broken
from sim.simulation import strategy_effects
from sim.styles import LITERATURE_MIX


def pair(a, b, couples, days=180, seed=31, **kwargs):
    return simulate(Setup(partner_a={"style": a} if isinstance(a, str) else a,
                          partner_b={"style": b} if isinstance(b, str) else b,
                          couples=couples, days=days, seed=seed, **kwargs))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--couples", type=int, default=400)
    n = parser.parse_args().couples
    start = time.perf_counter()

    print("Healthy asking (requests a day over 180 days, with a secure partner):")
    rates = {}
    for style in ("secure", "anxious", "avoidant", "fearful"):
        res = pair(style, "secure", n)
        rates[style] = res.couples["requests_a"].mean() / 180
        answered = res.couples["answered_a"].sum() / max(res.couples["requests_a"].sum(), 1)
        print(
            f"  {style:9s} {rates[style]:.3f} a day ({30 * rates[style]:.1f} a month), "
            f"{100 * answered:.0f}% answered"
        )
    print(f"  anxious / secure = {rates['anxious'] / rates['secure']:.1f}x")

    mix = {"mix": dict(LITERATURE_MIX), "couples": 5 * n}
    print("\nLiterature-mix population, 365 days:")
    for relationship in ("dating", "married"):
        res = simulate(Setup(population=mix, days=365, seed=32, relationship=relationship))
        c = res.couples
        sat = np.concatenate([c["satisfaction_a"], c["satisfaction_b"]])
        anx = np.concatenate([c["anxiety_a"], c["anxiety_b"]])
        avo = np.concatenate([c["avoidance_a"], c["avoidance_b"]])
        dissolved = 100 * np.mean(c["dissolved_day"] >= 0)
        print(
            f"  {relationship}: one-year dissolution {dissolved:.1f}%; satisfaction mean "
            f"{sat.mean():.2f} sd {sat.std():.2f}, above 0.97 "
            f"{100 * np.mean(sat > 0.97):.1f}%; r(own anxiety, satisfaction) "
            f"{np.corrcoef(anx, sat)[0, 1]:+.2f}, r(own avoidance, satisfaction) "
            f"{np.corrcoef(avo, sat)[0, 1]:+.2f}; outcomes {res.outcomes}"
        )
        # Caregiving: the answerer's avoidance against the warmth of the answers they gave and
        # the share of the partner's requests they answered (people asked at least 3 times).
        giver = np.concatenate([c["avoidance_b"], c["avoidance_a"]])
        warmth = np.concatenate([c["answer_warmth_a"], c["answer_warmth_b"]])
        asked = np.concatenate([c["requests_a"], c["requests_b"]])
        answered = np.concatenate([c["answered_a"], c["answered_b"]]) / np.maximum(asked, 1)
        ok = (asked >= 3) & np.isfinite(warmth)
        print(
            f"    caregiving: r(answerer's avoidance, warmth of answers given) "
            f"{np.corrcoef(giver[ok], warmth[ok])[0, 1]:+.2f}, r(answerer's avoidance, share "
            f"answered) {np.corrcoef(giver[ok], answered[ok])[0, 1]:+.2f}"
        )

    res = pair("anxious", "avoidant", n)
    c = res.couples
    spiral = res.labels == "spiraling"
    print(f"\nAnxious with avoidant, 180 days: {100 * np.mean(broken(res.labels)):.0f}% broken")
    for tag, who in (("a", "seeker"), ("b", "withdrawer")):
        print(
            f"  {who}: satisfaction {c[f'start_satisfaction_{tag}'][spiral].mean():.2f} -> "
            f"{c[f'satisfaction_{tag}'][spiral].mean():.2f} in spiraling couples"
        )
    both = np.isfinite(c["relief_hours_first_30d_a"]) & np.isfinite(c["relief_hours_last_30d_a"])
    print(
        f"  seeker's relief half-life {c['relief_hours_first_30d_a'][both].mean():.1f} h -> "
        f"{c['relief_hours_last_30d_a'][both].mean():.1f} h; old measure (hours to the next "
        f"request) {np.nanmean(c['hours_to_next_request_first_30d_a']):.1f} h -> "
        f"{np.nanmean(c['hours_to_next_request_last_30d_a']):.1f} h"
    )
    flat = pair("anxious", "avoidant", n, dynamics={"habituation_gain": 0.0, "rebound": 0.0})
    f = flat.couples
    print(
        f"  with habituation and rebound off: relief half-life "
        f"{np.nanmean(f['relief_hours_first_30d_a']):.1f} h -> "
        f"{np.nanmean(f['relief_hours_last_30d_a']):.1f} h (must not shorten)"
    )

    print("\nLevers with a responsive (secure) partner, share broken / partner's exhaustion:")
    for lever, values in (("reassurance_frequency", (1.0, 4.0, 12.0)),
                          ("relief_decay", (0.25, 1.0, 10.0)),
                          ("exhaustion_rate", (0.0, 0.08, 0.5))):  # fmt: skip
        cells = []
        for value in values:
            res = pair("anxious", "secure", n, dynamics={lever: value})
            cells.append(
                f"{value:g}: {100 * np.mean(broken(res.labels)):.0f}% / "
                f"{res.couples['exhaustion_b'].mean():.2f}"
            )
        print(f"  {lever:22s} " + "   ".join(cells))

    print("\nStrategies on anxious-avoidant couples from day 60 (240 days):")
    for kind in ("style_awareness", "communication", "consistent_actions", "address_fears",
                 "therapy"):  # fmt: skip
        e = strategy_effects(Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"},
                                   couples=n, days=240, seed=33,
                                   interventions=[{"kind": kind, "day": 60}]))  # fmt: skip
        p, d = e["broken_points"], e["seeker_satisfaction_d"]
        recovered = e["recovered_share"]
        print(
            f"  {kind:18s} broken {100 * e['broken_share_without']:.0f}% -> "
            f"{100 * e['broken_share_with']:.0f}% ({p['own_mechanism']:+.0f} own, "
            f"{p['trait_change']:+.0f} traits); seeker satisfaction d {d['total']:+.2f}; "
            f"recovered {0 if recovered is None else 100 * recovered:.0f}%"
        )
    print(f"\n({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
