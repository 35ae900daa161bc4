"""Regenerate tests/baseline.json, the seed-pinned summary numbers that test_baseline.py checks.

Run it only when the model changes on purpose (new defaults, a changed rule), then look at the
diff of baseline.json and commit it together with the change::

    python tests/regenerate_baseline.py

Each case is a small fixed setup; its summary holds the outcome counts, the headline metrics and
the measured values of the healthy-versus-excessive table. One case runs through the Mesa model to
pin that face too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from a checkout without installing
    sys.path.insert(0, str(ROOT))

from sim import Setup, simulate  # noqa: E402 - needs the path above
from sim.model import RelationshipModel  # noqa: E402

BASELINE = Path(__file__).with_name("baseline.json")

#: The setups, as keyword arguments of ``sim.Setup`` (kind "api") or of ``RelationshipModel``
#: (kind "model"). Small on purpose: the whole file regenerates and checks in seconds.
CASES: dict[str, dict] = {
    "secure-secure": {"kind": "api", "setup": {
        "partner_a": {"style": "secure"}, "partner_b": {"style": "secure"},
        "couples": 60, "days": 90, "seed": 101}},
    "anxious-avoidant": {"kind": "api", "setup": {
        "partner_a": {"style": "anxious"}, "partner_b": {"style": "avoidant"},
        "couples": 60, "days": 90, "seed": 102}},
    "anxious-secure": {"kind": "api", "setup": {
        "partner_a": {"style": "anxious"}, "partner_b": {"style": "secure"},
        "couples": 60, "days": 90, "seed": 103}},
    "fearful-avoidant, fast relief decay": {"kind": "api", "setup": {
        "partner_a": {"style": "fearful"}, "partner_b": {"style": "avoidant"},
        "dynamics": {"relief_decay": 3.0, "exhaustion_rate": 0.2},
        "couples": 60, "days": 90, "seed": 104}},
    "anxious-avoidant with interventions": {"kind": "api", "setup": {
        "partner_a": {"style": "anxious"}, "partner_b": {"style": "avoidant"},
        "interventions": [{"kind": "style_awareness", "day": 20},
                          {"kind": "address_fears", "day": 30}],
        "couples": 60, "days": 90, "seed": 105}},
    "literature mix": {"kind": "api", "setup": {
        "population": {"mix": {"secure": 0.56, "avoidant": 0.25, "anxious": 0.19}},
        "couples": 80, "days": 90, "seed": 106}},
    "expressive and reserved partners, married": {"kind": "api", "setup": {
        "partner_a": {"style": "anxious", "culture": "expressive"},
        "partner_b": {"style": "secure", "culture": "reserved"}, "relationship": "married",
        "couples": 60, "days": 90, "seed": 108}},
    "therapy with a dose, dating population": {"kind": "api", "setup": {
        "population": {"mix": {"secure": 0.56, "avoidant": 0.25, "anxious": 0.19}},
        "relationship": "dating",
        "interventions": [{"kind": "therapy", "day": 10, "dose": 2.0, "weeks": 6}],
        "couples": 80, "days": 90, "seed": 109}},
    "Mesa model, therapy from day 20": {"kind": "model", "setup": {
        "style_a": "anxious", "style_b": "avoidant", "couples": 30, "days": 60,
        "therapy_day": 20, "rng": 107}},
}  # fmt: skip


def summarise(case: dict) -> dict:
    """Run one case and return its summary numbers (plain JSON types; ``None`` where undefined)."""
    if case["kind"] == "api":
        summary = simulate(Setup(**case["setup"])).summary()
        return {
            "outcomes": summary["outcomes"],
            "metrics": summary["metrics"],
            "aspects": {row["aspect"]: row["value"] for row in summary["aspects"]},
        }
    model = RelationshipModel(**case["setup"])
    model.run_model()
    final = model.datacollector.get_model_vars_dataframe().iloc[-1]
    return {
        "outcomes": model.outcome_counts(),
        "series": {name: _plain(value) for name, value in final.items()},
        "aspects": {row.aspect: row.value for row in model.aspects().itertuples()},
    }


def _plain(value):
    value = float(value)
    return None if value != value else value  # NaN (nobody asked) is stored as null


def compute() -> dict:
    """Summaries of every case, by name."""
    return {name: {**case, "expected": summarise(case)} for name, case in CASES.items()}


def main(argv: list[str] | None = None) -> int:
    """Write the baseline file (atomically) and print where it went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=BASELINE, help="where to write the file")
    args = parser.parse_args(argv)
    text = json.dumps(compute(), indent=2, sort_keys=False) + "\n"
    partial = args.output.with_suffix(".json.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, args.output)
    print(f"wrote {len(CASES)} cases to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
