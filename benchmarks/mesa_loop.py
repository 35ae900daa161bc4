"""A fair yardstick: the model as an ordinary per-agent Mesa model, timed against the kernel.

How a Mesa user would write relsim: ``Person`` agents whose state is plain Python floats, a
``model.step`` (one day) that loops over the couples every hour, ``math`` for exponentials and the
model's own ``random`` for every draw. Nothing in the loop touches NumPy (the old yardstick called
NumPy-based functions on scalars, paying NumPy's per-call overhead on every ``exp``).

**The same mechanisms as the kernel.** The rule functions are the lines of ``sim/engine/rules.py``
themselves, re-bound to ``math`` (``exp``, ``log1p``) and the builtins ``abs``, ``min`` and ``max``
(:func:`plain_rules`): a Mesa user who copied rules.py into a model would write exactly this. The
composition follows ``sim.engine.kernel``, step for step, listed in :data:`MECHANISMS`; when the
lead changes the hourly order in ``sim/engine/kernel.py`` (``hour``, ``_drift``, ``_security``,
``_decide``, ``_apply``, ``close_day``, ``day_context``), change the method named there. Mirrors
model revision 2 as committed in 95bf599 (sim/rules.py blob d8652ed, sim/kernel.py blob 8bba889:
closeness, warmth, push-pull, avoidant holdback, rebuff learning, treatment gains; the run here
schedules no strategy, so the strategies' gains stay 0). A rule whose signature changes shows up
at once as a TypeError; ``--check`` catches a changed composition.

The couples are the kernel's own (traits, appraisal, culture-drawn expression and asking norm,
parameters), read from ``sim.simulation.build_kernel``; the random numbers differ (``random`` here,
the kernel's counter-based hash there), so the two agree in distribution, not number for number.
``--check`` runs both on the same couples and compares the outcome shares: each share's
difference must lie within 3 standard errors of a difference of two proportions.

The ratio printed is the kernel's person-ticks per CPU-second (100,000 couples, one core) over the
Mesa loop's (a couple-tick is two person-ticks).

    python benchmarks/mesa_loop.py                    # time both, print the ratio
    python benchmarks/mesa_loop.py --check --couples 2000 --days 180   # and compare outcomes
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import types
from pathlib import Path

import mesa
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import kernel as kernel_bench
from sim.engine import kernel as k
from sim.engine import rules
from sim.outcomes import LABELS, classify_couples
from sim.simulation import Setup, build_kernel, couple_columns

TARGET_RATIO = 50.0
DT = k.DT
SETUP = {"partner_a": {"style": "anxious"}, "partner_b": {"style": "avoidant"}}

#: The kernel's composition, in order, and the method here that mirrors each step.
MECHANISMS = (
    ("day_context: strategies' gains (none here), treated traits, the day's dynamics",
     "Person.start_day, RelationshipLoop.context"),
    ("hour/_drift: threat fades, stressors, relief fades into rebound, self-soothing, "
     "habituation, withdrawal and closeness fade, exhaustion recovers", "Person.drift"),
    ("hour/_security: baseline security from anxiety and trust; felt security", "Person.feel"),
    ("hour/_decide: both decide on the same state: ask, answer (how warmly), affection, "
     "quality", "Person.decide"),
    ("hour/_apply: relief, habituation, threat (rebuff, cold answer), trust (answers and "
     "affection), closeness, withdrawal (push-pull, requests), the partner's exhaustion",
     "Person.apply"),
    ("hour/_record_hour: requests, answers, affection and requests by 30-day window",
     "Person.apply"),
    ("hour: satisfaction and commitment follow", "Person.settle"),
    ("close_day: the dissolution rule (wants_out, unhappy_streak, leaves); the daily steps of "
     "the appraisal (partly shared), the working model, the alternatives and the investments",
     "RelationshipLoop.close_day"),
)  # fmt: skip


def _clip01(x: float) -> float:
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


def plain_rules() -> types.SimpleNamespace:
    """Every function of ``sim.engine.rules``, re-bound to ``math`` and builtins (plain floats)."""
    shim = types.SimpleNamespace(abs=abs, log1p=math.log1p, minimum=min, maximum=max,
                                 exp=math.exp, sqrt=math.sqrt)  # fmt: skip
    namespace = {**vars(rules), "np": shim, "exp": math.exp, "clip01": _clip01}
    out = {}
    for name in rules.__all__:
        func = getattr(rules, name)
        if isinstance(func, types.FunctionType) and func.__module__ == rules.__name__:
            out[name] = types.FunctionType(func.__code__, namespace, name, func.__defaults__,
                                           func.__closure__)  # fmt: skip
    namespace.update(out)  # rules that call rules call the plain ones
    out["clip01"] = _clip01
    return types.SimpleNamespace(**out)


R = plain_rules()


class Person(mesa.Agent):
    """One partner; every state of ``sim.engine.kernel.STATE_VARS`` is an attribute (a float)."""

    def __init__(self, model: RelationshipLoop, state: dict[str, float]) -> None:
        super().__init__(model)
        for name, value in state.items():
            setattr(self, name, value)
        self.partner: Person | None = None
        self.requests = self.answered = self.affection_received = 0
        self.requests_first = self.requests_last = 0
        self.ask = self.got_answer = self.got_affection = self.quality = self.warmth = 0.0

    def start_day(self) -> None:
        """Traits under the strategies' benefit (all 0 here), revised by earned security."""
        p = self.model.p
        anxiety = R.treated_trait(self.anxiety_base, 0.0, p["anxiety_norm"],
                                  p["max_trait_change"], p["trait_change"])  # fmt: skip
        avoidance = R.treated_trait(self.avoidance_base, 0.0, p["avoidance_norm"],
                                    p["max_trait_change"], p["trait_change"])  # fmt: skip
        self.anxiety = R.revised_trait(anxiety, self.earned_security, p["working_model_change"],
                                       self.life_events)  # fmt: skip
        self.avoidance = R.revised_trait(avoidance, self.earned_security,
                                         p["working_model_change"], self.life_events)  # fmt: skip

    def drift(self) -> None:
        """``kernel._drift``: fading, stressors, relief into rebound, soothing, recovery."""
        p, x = self.model.p, self.model.context
        threat = self.threat * x["f_threat"]
        hit = 1.0 if self.random.random() < x["f_stress"] else 0.0
        threat = R.threat_after_stressor(threat, hit, p["stress_size"], self.anxiety,
                                         p["stress_floor"])  # fmt: skip
        faded = R.relief_fading(self.relief, p["relief_decay"], self.habituation,
                                p["habituation_speedup"], DT)  # fmt: skip
        self.threat = R.rebound_threat(threat, self.relief - faded, x["rebound"], self.anxiety)
        self.relief = R.self_soothing(faded, x["self_soothing"], DT)
        self.habituation *= x["f_habituation"]
        self.withdrawal *= x["f_withdrawal"]
        self.closeness *= x["f_closeness"]
        self.exhaustion = R.exhaustion_recovery(self.exhaustion, p["recovery_rate"],
                                                p["burnout"], DT)  # fmt: skip

    def feel(self) -> None:
        """``kernel._security``: felt security from baseline, relief, threat, the partner."""
        p = self.model.p
        base = R.baseline_security(self.anxiety, self.trust, p["trust_weight"],
                                   p["base_security"], p["anxiety_insecurity"])  # fmt: skip
        self.security = R.felt_security(
            base,
            self.relief,
            self.threat,
            self.anxiety,
            self.partner.withdrawal,
            p["withdrawal_threat"],
            p["secure_hurt"],
        )

    def decide(self) -> None:
        """``kernel._decide``: ask; the partner answers (how warmly) and gives affection."""
        p, x, q = self.model.p, self.model.context, self.partner
        rand = self.random.random
        p_ask = R.seek_probability(self.security, self.anxiety, self.avoidance, self.withdrawal,
                                   self.asking_norm, self.trust, p["reassurance_frequency"],
                                   p["seek_threshold"], p["seek_softness"],
                                   p["routine_asking"], p["discouragement"],
                                   p["secure_asking"], p["withdrawn_asking"],
                                   p["norm_asking"], p["fearful_asking"], DT)  # fmt: skip
        self.ask = 1.0 if rand() < p_ask else 0.0
        barrier = R.awareness_barrier(q.avoidance, p["avoidant_holdback"], x["awareness"],
                                      p["awareness_effect"])  # fmt: skip
        p_answer = R.answer_probability(
            p["responsiveness"],
            barrier,
            q.anxiety,
            q.exhaustion,
            q.withdrawal,
            q.security,
            x["communication"],
            p["exhaustion_reluctance"],
            p["withdrawn_answering"],
            p["clear_answering"],
            p["insecure_caregiving"],
            p["compulsive_caregiving"],
        )
        self.got_answer = self.ask * (1.0 if rand() < p_answer else 0.0)
        self.warmth = R.answer_warmth(q.exhaustion, q.avoidance, q.anxiety,
                                      p["exhaustion_coldness"], p["avoidant_coolness"],
                                      p["anxious_insensitivity"])  # fmt: skip
        p_affection = R.affection_probability(x["affection_rate"], q.avoidance, q.exhaustion,
                                              q.withdrawal, p["avoidant_reserve"],
                                              DT)  # fmt: skip
        self.got_affection = 1.0 if rand() < p_affection else 0.0
        self.quality = R.answer_quality(x["communication"], self.expression, q.expression,
                                        x["mismatch"], p["clear_quality"])  # fmt: skip

    def apply(self) -> None:
        """``kernel._apply`` and the counts of ``_record_hour`` that the outcomes need."""
        p, x, q = self.model.p, self.model.context, self.partner
        ask, answered, affection = self.ask, self.got_answer, self.got_affection
        quality, warmth = self.quality, self.warmth
        rebuffed = ask - answered
        anxiety, avoidance = self.anxiety, self.avoidance
        landed = quality * warmth * R.answer_discount(anxiety, avoidance, p["push_pull"])
        relief = R.relief_after_answer(self.relief, answered, p["relief_gain"], landed,
                                       self.habituation)  # fmt: skip
        self.relief = R.relief_after_affection(relief, affection, p["affection_relief"], quality)
        self.habituation = R.habituation_after_reassurance(
            self.habituation, answered, x["habituation_gain"], anxiety, p["secure_habituation"]
        )
        threat = R.threat_after_rebuff(self.threat, rebuffed, p["rebuff_hurt"], anxiety,
                                       p["secure_hurt"])  # fmt: skip
        self.threat = R.threat_after_cold_answer(threat, answered, warmth, p["cold_answer_hurt"],
                                                 anxiety, p["secure_hurt"])  # fmt: skip
        rate = p["trust_learning_rate"]
        trust = R.trust_update(self.trust, answered, rebuffed, warmth, rate, p["rebuff_learning"])
        fit = 1.0 - x["mismatch"] * abs(self.expression - q.expression)
        self.trust = R.trust_update(trust, affection, 0.0, fit, p["affection_learning"] * rate,
                                    0.0)  # fmt: skip
        self.closeness = R.closeness_after_exchange(
            self.closeness, answered * landed + affection * quality, p["closeness_gain"],
            avoidance)  # fmt: skip
        self.withdrawal = R.withdrawal_after_answer(self.withdrawal, answered, p["push_pull"],
                                                    anxiety, avoidance,
                                                    p["pullback"])  # fmt: skip
        exhaustion_q = q.exhaustion
        q.withdrawal = R.withdrawal_after_request(
            q.withdrawal, ask, x["withdrawal_gain"], q.avoidance, exhaustion_q,
            p["exhaustion_withdrawal"], x["communication"], p["clear_ease"])  # fmt: skip
        q.exhaustion = R.exhaustion_after_answering(
            exhaustion_q, answered, p["exhaustion_rate"], q.avoidance, q.anxiety,
            x["communication"], q.asking_norm, p["avoidant_burden"], p["anxious_burden"],
            p["clear_ease"], p["norm_burden"])  # fmt: skip
        self.requests += int(ask)
        self.answered += int(answered)
        self.affection_received += int(affection)
        self.requests_first += int(ask) if self.model.in_first else 0
        self.requests_last += int(ask) if self.model.in_last else 0

    def settle(self) -> None:
        """``kernel.hour``'s last lines: satisfaction and commitment follow."""
        p, x = self.model.p, self.model.context
        self.satisfaction = R.satisfaction_step(
            self.satisfaction, self.appraisal, self.security, self.trust, self.closeness,
            self.exhaustion, self.withdrawal, self.model.idealized, p["security_weight"],
            p["partner_trust_weight"], p["closeness_weight"], p["burden_weight"],
            p["pursuit_weight"], x["f_satisfaction"])  # fmt: skip
        self.commitment = R.commitment_step(
            self.commitment, self.satisfaction, self.alternatives, self.anxiety, self.investment,
            p["commitment_floor"], p["anxious_dependence"], p["investment_weight"],
            x["f_commitment"],
        )  # fmt: skip


class RelationshipLoop(mesa.Model):
    """Couples of ``Person`` agents; one step is one day of 24 hourly passes over the couples."""

    def __init__(self, *, couples: int = 200, days: int = 180, seed: int = 1) -> None:
        super().__init__(seed=seed)
        kern, _ = build_kernel(Setup(**SETUP, couples=couples, days=days, seed=seed),
                               engine="numpy")  # fmt: skip
        self.p = {name: float(kern.P[k.p_row(name), 0]) for name in k.P_ROWS}
        self.days, self.day = days, 0
        self.first_end, self.last_start = kern.first_end, kern.last_start
        self.in_first = self.in_last = False
        self.idealized = 0.0
        self.context = self._context()
        self.couples: list[tuple[Person, Person]] = []
        for c in range(couples):
            a, b = (Person(self, {name: float(kern.S[v, side, c])
                                  for v, name in enumerate(k.STATE_VARS)})
                    for side in (0, 1))  # fmt: skip
            a.partner, b.partner = b, a
            self.couples.append((a, b))
        self.streak = [0.0] * couples
        self.dissolved_day = [-1] * couples

    def _context(self) -> dict[str, float]:
        """The run's factors and the day's dynamics, every strategy's gain at 0.

        ``kernel.couple_factors`` and the ``X_*`` rows of ``kernel.day_context``.
        """
        p = self.p
        return {
            "f_threat": R.decay_factor(p["threat_decay"], DT),
            "f_habituation": R.decay_factor(p["habituation_decay"], DT),
            "f_withdrawal": R.decay_factor(p["withdrawal_decay"], DT),
            "f_closeness": R.decay_factor(p["closeness_decay"], DT),
            "f_satisfaction": R.approach_share(p["satisfaction_rate"], DT),
            "f_commitment": R.approach_share(p["commitment_rate"], DT),
            "f_stress": p["stress_rate"] * DT,
            "communication": R.trained_communication(p["communication"], 0.0,
                                                     p["communication_target"]),
            "withdrawal_gain": R.strategy_scale(p["withdrawal_gain"], 0.0,
                                                -p["awareness_effect"]),
            "awareness": 0.0,
            "mismatch": R.strategy_scale(p["channel_mismatch"], 0.0, -p["actions_channel"]),
            "affection_rate": R.strategy_scale(p["affection_rate"], 0.0, p["actions_affection"]),
            "habituation_gain": R.strategy_scale(p["habituation_gain"], 0.0,
                                                 -p["fears_habituation"]),
            "rebound": R.strategy_scale(p["rebound"], 0.0, -p["fears_rebound"]),
            "self_soothing": p["self_soothing"] * 0.0,
        }  # fmt: skip

    def step(self) -> None:
        """Advance one day: start it, 24 hours, close it (dissolved couples are left out)."""
        day = self.day
        self.in_first, self.in_last = day < self.first_end, day >= self.last_start
        self.idealized = R.idealization_left(
            self.p["idealization"], day, self.p["idealization_days"]
        )
        together = [pair for c, pair in enumerate(self.couples) if self.dissolved_day[c] < 0]
        for a, b in together:
            a.start_day()
            b.start_day()
        for _ in range(24):
            for a, b in together:
                a.drift()
                b.drift()
                a.feel()
                b.feel()
                a.decide()
                b.decide()
                a.apply()
                b.apply()
                a.settle()
                b.settle()
        self.close_day(day)
        self.day += 1

    def close_day(self, day: int) -> None:
        """``kernel.close_day``: the dissolution rule."""
        p = self.p
        for c, (a, b) in enumerate(self.couples):
            if self.dissolved_day[c] >= 0:
                continue
            limits = (p["dissolution_satisfaction"], p["dissolution_commitment"])
            either = max(R.wants_out(x.satisfaction, x.alternatives, x.commitment, *limits)
                         for x in (a, b))  # fmt: skip
            self.streak[c] = R.unhappy_streak(self.streak[c], either)
            if R.leaves(either, self.random.random(), p["dissolution_days"]):
                self.dissolved_day[c] = day
            # Outside events: a share of them the couple's own, the rest each partner's.
            shared = math.sqrt(p["shared_stress"]) * self.random.gauss(0.0, 1.0)
            alone = math.sqrt(1.0 - p["shared_stress"])
            for person in (a, b):
                person.appraisal = R.appraisal_after_day(
                    person.appraisal, shared + alone * self.random.gauss(0.0, 1.0),
                    p["appraisal_days"], p["appraisal_spread"],
                )  # fmt: skip
                person.earned_security = R.working_model_after_day(
                    person.earned_security, person.trust, person.anxiety_base,
                    person.avoidance_base, p["working_model_days"],
                )  # fmt: skip
                person.alternatives = R.alternatives_after_day(
                    person.alternatives, self.random.gauss(0.0, 1.0), p["alternatives_days"],
                    p["alternatives_spread"],
                )  # fmt: skip
                person.investment = R.investment_after_day(
                    person.investment, person.satisfaction, p["investment_days"]
                )
                if k.week_ends(day):  # life events: a step a week, as in the kernel
                    person.life_events = R.slow_walk(
                        person.life_events, self.random.gauss(0.0, 1.0),
                        p["life_events_days"] / k.WEEK, p["life_events_spread"],
                    )  # fmt: skip

    def columns(self) -> dict[str, np.ndarray]:
        """The columns ``sim.outcomes.classify_couples`` reads."""
        first_days = max(min(self.first_end, self.day), 1)
        last_days = max(min(self.day - self.last_start, self.days - self.last_start), 1)
        out = {"dissolved_day": np.array(self.dissolved_day)}
        for side, tag in enumerate("ab"):
            people = [pair[side] for pair in self.couples]
            for name in ("trust", "exhaustion", "satisfaction"):
                out[f"{name}_{tag}"] = np.array([getattr(x, name) for x in people])
            out[f"answered_{tag}"] = np.array([x.answered for x in people])
            out[f"affection_received_{tag}"] = np.array([x.affection_received for x in people])
            out[f"request_rate_first_30d_{tag}"] = (
                np.array([x.requests_first for x in people]) / first_days
            )
            out[f"request_rate_last_30d_{tag}"] = (
                np.array([x.requests_last for x in people]) / last_days
            )
        return out


def _shares(labels: np.ndarray) -> dict[str, float]:
    return {label: float(np.mean(labels == label)) for label in LABELS}


def check(couples: int = 2000, days: int = 180, seed: int = 1) -> list[dict]:
    """Run the Mesa loop and the kernel on the same couples; compare the outcome shares."""
    loop = RelationshipLoop(couples=couples, days=days, seed=seed)
    for _ in range(days):
        loop.step()
    mesa_shares = _shares(classify_couples(loop.columns(), days))
    kern, pop = build_kernel(Setup(**SETUP, couples=couples, days=days, seed=seed))
    kern.advance(days)
    kernel_shares = _shares(couple_columns(kern, pop)["outcome"])
    rows = []
    for label in LABELS:
        a, b = mesa_shares[label], kernel_shares[label]
        error = math.sqrt(a * (1 - a) / couples + b * (1 - b) / couples)
        z = 0.0 if error == 0 else (a - b) / error
        rows.append({"label": label, "mesa": a, "kernel": b, "z": z, "ok": abs(z) < 3.0})
    return rows


def measure(couples: int = 200, days: int = 3) -> dict[str, float]:
    """Time the Mesa loop and the kernel; return person-ticks per CPU-second and their ratio."""
    model = RelationshipLoop(couples=couples, days=max(days, 1))
    cpu = time.process_time()
    for _ in range(days):
        model.step()
    cpu = time.process_time() - cpu
    mesa_rate = 2 * couples * days * 24 / cpu
    kernel = kernel_bench.measure(100_000, 10)
    kernel_rate = 2 * kernel["cpu_rate"]
    return {"mesa_person_ticks": mesa_rate, "kernel_person_ticks": kernel_rate,
            "ratio": kernel_rate / mesa_rate}  # fmt: skip


def results() -> list[dict]:
    """Rows for ``run_all``."""
    m = measure()
    return [
        {
            "target": "kernel vs per-agent Mesa model (plain floats, math), per person-tick",
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
    parser.add_argument(
        "--check",
        action="store_true",
        help="also compare outcome shares with the kernel (same couples)",
    )
    args = parser.parse_args()
    print("mechanisms mirrored (kernel step -> method here):")
    for step, where in MECHANISMS:
        print(f"  {where:42s} {step}")
    m = measure(args.couples, min(args.days, 3) if args.check else args.days)
    print(f"Mesa per-agent model: {m['mesa_person_ticks']:.3g} person-ticks per CPU-second")
    print(f"kernel (100,000 couples): {m['kernel_person_ticks']:.3g} person-ticks per CPU-second")
    print(f"ratio: kernel {m['ratio']:.0f}x faster per person-tick (target >= {TARGET_RATIO:.0f}x)")
    if args.check:
        rows = check(args.couples, args.days)
        print(f"\noutcome shares, {args.couples} couples x {args.days} days, same couples:")
        for row in rows:
            print(
                f"  {row['label']:10s} Mesa {row['mesa']:6.1%}  kernel {row['kernel']:6.1%}  "
                f"z = {row['z']:+.2f}  {'ok' if row['ok'] else 'DIFFERS'}"
            )
        return 0 if all(row["ok"] for row in rows) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
