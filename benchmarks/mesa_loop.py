"""The same rules as an ordinary per-agent Mesa loop, timed side by side with the kernel.

This is how the model would look written the usual way: ``Person`` agents with attributes, and a
``model.step`` (one day) that loops over the agents every hour, calling the same rule functions
of ``sim.rules`` on plain Python numbers and drawing from the model's ``random``. It lives in
benchmarks/ only and is never used by the package. No interventions are scheduled (neither run
has any), and only the request and answer counts are recorded.

The ratio printed is the kernel's person-ticks per second over the Mesa loop's (a couple-tick is
two person-ticks), both measured by CPU time of this process, on the same anxious-avoidant
couples.

    python benchmarks/mesa_loop.py [--couples N] [--days N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import mesa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import kernel as kernel_bench
from sim import rules
from sim.params import dynamics_defaults
from sim.simulation import Setup, population

TARGET_RATIO = 50.0
DT = 1.0 / 24.0


class Person(mesa.Agent):
    """One partner, with the live state as attributes."""

    def __init__(
        self, model: RelationshipLoop, anxiety: float, avoidance: float, expression: float
    ) -> None:
        super().__init__(model)
        self.anxiety, self.avoidance, self.expression = anxiety, avoidance, expression
        self.security = self.relief = self.habituation = self.threat = 0.0
        self.exhaustion = self.withdrawal = 0.0
        self.trust, self.satisfaction, self.commitment = 0.5, 0.7, 0.7
        self.partner: Person | None = None
        self.requests = self.answered = 0
        self.asked = self.got_answer = self.got_affection = 0.0
        self.quality = 0.0

    def drift(self) -> None:
        """Fading, stressors, relief fading into rebound, recovery."""
        p = self.model.p
        threat = rules.fade(self.threat, p["threat_decay"], DT)
        hit = 1.0 if self.random.random() < p["stress_rate"] * DT else 0.0
        threat = rules.threat_after_stressor(threat, hit, p["stress_size"], self.anxiety)
        faded = rules.relief_fading(
            self.relief, p["relief_decay"], self.habituation, p["habituation_speedup"], DT
        )
        self.threat = rules.rebound_threat(threat, self.relief - faded, p["rebound"], self.anxiety)
        self.relief = rules.clip01(faded)
        self.habituation = rules.fade(self.habituation, p["habituation_decay"], DT)
        self.withdrawal = rules.fade(self.withdrawal, p["withdrawal_decay"], DT)
        self.exhaustion = rules.exhaustion_recovery(
            self.exhaustion, p["recovery_rate"], p["burnout"], DT
        )

    def feel(self) -> None:
        """Felt security from baseline, relief, threat and the partner's distance."""
        p = self.model.p
        base = rules.baseline_security(self.anxiety, self.trust, p["trust_weight"])
        self.security = rules.felt_security(
            base,
            self.relief,
            self.threat,
            self.anxiety,
            self.partner.withdrawal,
            p["withdrawal_threat"],
        )

    def decide(self) -> None:
        """Maybe ask; the partner maybe answers and maybe gives unasked affection."""
        p, other = self.model.p, self.partner
        p_ask = rules.seek_probability(
            self.security,
            self.anxiety,
            self.avoidance,
            p["reassurance_frequency"],
            p["seek_threshold"],
            DT,
        )
        self.asked = 1.0 if self.random.random() < p_ask else 0.0
        p_answer = rules.answer_probability(
            p["responsiveness"],
            other.avoidance,
            other.exhaustion,
            other.withdrawal,
            p["communication"],
        )
        self.got_answer = self.asked * (1.0 if self.random.random() < p_answer else 0.0)
        p_aff = rules.affection_probability(
            p["affection_rate"], other.avoidance, other.exhaustion, other.withdrawal, DT
        )
        self.got_affection = 1.0 if self.random.random() < p_aff else 0.0
        self.quality = rules.answer_quality(
            p["communication"], self.expression, other.expression, p["channel_mismatch"]
        )

    def apply(self) -> None:
        """Consequences of this person's request and of the partner's affection."""
        p, other = self.model.p, self.partner
        rebuffed = self.asked - self.got_answer
        relief = rules.relief_after_answer(
            self.relief, self.got_answer, p["relief_gain"], self.quality, self.habituation
        )
        self.relief = rules.relief_after_affection(
            relief, self.got_affection, p["affection_relief"], self.quality
        )
        self.habituation = rules.habituation_after_reassurance(
            self.habituation, self.got_answer, p["habituation_gain"], self.anxiety
        )
        self.threat = rules.threat_after_rebuff(
            self.threat, rebuffed, p["rebuff_hurt"], self.anxiety
        )
        trust = rules.trust_update(self.trust, self.got_answer, rebuffed, p["trust_learning_rate"])
        self.trust = rules.trust_update(
            trust, self.got_affection, 0.0, 0.5 * p["trust_learning_rate"]
        )
        other.exhaustion = rules.exhaustion_after_answering(
            other.exhaustion,
            self.got_answer,
            p["exhaustion_rate"],
            other.avoidance,
            p["communication"],
        )
        other.withdrawal = rules.withdrawal_after_request(
            other.withdrawal, self.asked, p["withdrawal_gain"], other.avoidance, p["communication"]
        )
        self.requests += int(self.asked)
        self.answered += int(self.got_answer)

    def settle(self) -> None:
        """Satisfaction and commitment follow."""
        p = self.model.p
        self.satisfaction = rules.satisfaction_step(
            self.satisfaction,
            self.security,
            self.trust,
            self.exhaustion,
            rules.approach_share(p["satisfaction_rate"], DT),
        )
        self.commitment = rules.commitment_step(
            self.commitment, self.satisfaction, rules.approach_share(p["commitment_rate"], DT)
        )


class RelationshipLoop(mesa.Model):
    """Couples of ``Person`` agents; one step is one day of 24 hourly passes over the agents."""

    def __init__(self, *, couples: int = 100, seed: int = 1) -> None:
        super().__init__(seed=seed)
        self.p = dynamics_defaults()
        pop = population(
            Setup(
                partner_a={"style": "anxious"},
                partner_b={"style": "avoidant"},
                couples=couples,
                seed=seed,
            )
        )
        for c in range(couples):
            a = Person(self, pop.anxiety[0, c], pop.avoidance[0, c], pop.expression[0, c])
            b = Person(self, pop.anxiety[1, c], pop.avoidance[1, c], pop.expression[1, c])
            a.partner, b.partner = b, a

    def step(self) -> None:
        """Advance one day."""
        for _ in range(24):
            self.agents.do("drift")
            self.agents.do("feel")
            self.agents.do("decide")
            self.agents.do("apply")
            self.agents.do("settle")


def measure(couples: int = 200, days: int = 3) -> dict[str, float]:
    """Time the Mesa loop and the kernel on the same couples; return rates and their ratio."""
    model = RelationshipLoop(couples=couples)
    cpu = time.process_time()
    for _ in range(days):
        model.step()
    cpu = time.process_time() - cpu
    mesa_rate = 2 * couples * days * 24 / cpu
    kernel = kernel_bench.measure(100_000, 10)
    kernel_rate = 2 * kernel["cpu_rate"]
    return {
        "mesa_person_ticks": mesa_rate,
        "kernel_person_ticks": kernel_rate,
        "ratio": kernel_rate / mesa_rate,
    }


def results() -> list[dict]:
    """Rows for ``run_all``."""
    m = measure()
    return [
        {
            "target": "kernel vs per-agent Mesa loop, per person-tick",
            "goal": f">= {TARGET_RATIO:.0f}x",
            "measured": f"{m['ratio']:.0f}x ({m['kernel_person_ticks']:.3g} vs "
            f"{m['mesa_person_ticks']:.3g} person-ticks per CPU-s)",
            "passed": m["ratio"] >= TARGET_RATIO,
            "value": m["ratio"],
        }
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--couples", type=int, default=200)
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()
    m = measure(args.couples, args.days)
    print(f"Mesa per-agent loop: {m['mesa_person_ticks']:.3g} person-ticks per CPU-second")
    print(f"kernel (100,000 couples): {m['kernel_person_ticks']:.3g} person-ticks per CPU-second")
    print(f"ratio: kernel {m['ratio']:.0f}x faster per person-tick (target >= {TARGET_RATIO:.0f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
