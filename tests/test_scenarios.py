"""Every bundled scenario loads, runs and meets the contract, and shows what it says it shows.

The contract tests run each scenario shortened; the claim tests (at the end) run each scenario
whose description makes a directional claim as it is bundled and check the claim.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from dataclasses import replace

import numpy as np
import pytest

from sim.outcomes import LABELS, broken
from sim.params import DYNAMICS, INTERVENTIONS
from sim.scenario import SCENARIO_DIR, find_scenario, list_scenarios, load_scenario
from sim.simulation import COUPLE_COLUMNS, Setup, simulate, strategy_effects
from sim.styles import LITERATURE_MIX

#: Options that make any bundled run take well under a second.
TINY = ("--days", "20", "--couples", "10")
BUNDLED = sorted(path.stem for path in SCENARIO_DIR.glob("*.toml"))
REQUIRED = {
    "secure-secure", "anxious-secure", "anxious-avoidant", "anxious-anxious", "avoidant-avoidant",
    "fearful-secure", "fearful-avoidant", "anxious-avoidant-therapy",
    "anxious-avoidant-communication", "anxious-avoidant-consistent-actions",
    "anxious-avoidant-address-fears", "anxious-avoidant-style-awareness", "cultural-mismatch",
    "high-stress", "classroom", "phase-anxiety-avoidance", "phase-levers",
}  # fmt: skip
SUMMARY_KEYS = {"scenario", "seed", "days", "couples", "outcomes", "aspects", "metrics"}
ASPECT_KEYS = {"aspect", "healthy", "excessive", "value", "verdict"}


def test_every_required_scenario_is_bundled():
    assert REQUIRED <= set(BUNDLED)


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenario_is_described_for_students(name):
    scenario = load_scenario(name)
    assert scenario.name == name
    assert 20 <= len(scenario.description) <= 120
    assert "\n" not in scenario.description
    assert scenario.days == 180
    assert find_scenario(name) == SCENARIO_DIR / f"{name}.toml"


@pytest.mark.parametrize("kind", sorted(INTERVENTIONS))
def test_one_scenario_per_intervention(kind):
    scenario = load_scenario(f"anxious-avoidant-{kind.replace('_', '-')}")
    base = load_scenario("anxious-avoidant")
    assert scenario.interventions == [{"kind": kind, "day": 60}]
    assert (scenario.partner_a, scenario.partner_b, scenario.seed) == (
        base.partner_a,
        base.partner_b,
        base.seed,
    )


def test_special_scenarios_say_what_their_names_promise():
    mismatch = load_scenario("cultural-mismatch")
    assert (mismatch.partner_a["culture"].name, mismatch.partner_b["culture"].name) == (
        "expressive",
        "reserved",
    )
    assert load_scenario("classroom").relationship == "dating"
    classroom = load_scenario("classroom")
    assert classroom.couples == 500 and classroom.population["pairing"] == "random"
    assert classroom.population["mix"] == dict(LITERATURE_MIX)
    phase = load_scenario("phase-anxiety-avoidance").sweep
    assert (phase.x.param, phase.y.param) == ("partner_a.anxiety", "partner_b.avoidance")
    assert (len(phase.x.values), len(phase.y.values), phase.replicates) == (21, 21, 50)
    levers = load_scenario("phase-levers").sweep
    assert (levers.x.param, levers.y.param) == ("dynamics.relief_decay", "dynamics.exhaustion_rate")
    stress = load_scenario("high-stress").dynamics
    assert stress["stress_rate"] > DYNAMICS["stress_rate"].default
    assert stress["stress_size"] > DYNAMICS["stress_size"].default


def test_list_scenarios_matches_the_folder():
    assert [s.name for s in list_scenarios()] == BUNDLED


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenario_runs_and_meets_the_contract(relsim, tmp_path, name):
    out = tmp_path / name
    result = relsim("run", name, *TINY, "--out", out)
    assert result.status == 0, result.err

    summary = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert (summary["scenario"], summary["days"], summary["couples"]) == (name, 20, 10)
    assert list(summary["outcomes"]) == list(LABELS)
    assert sum(summary["outcomes"].values()) == 10
    assert [row["aspect"] for row in summary["aspects"]] == [
        "frequency",
        "emotional impact",
        "partner response",
        "long-term outcome",
    ]
    for row in summary["aspects"]:
        assert ASPECT_KEYS <= set(row)
        assert row["verdict"] in ("healthy", "in between", "excessive")

    with (out / "couples.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10
    assert tuple(rows[0]) == COUPLE_COLUMNS
    for row in rows:
        assert row["outcome"] in LABELS
        assert (row["dissolved_day"] == "") == (row["outcome"] != "dissolved")
        assert int(row["answered_a"]) <= int(row["requests_a"])
        assert 0.0 <= float(row["trust_b"]) <= 1.0

    assert (out / "timeseries.csv").stat().st_size > 0
    assert (out / "figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["name"] == name


@pytest.mark.parametrize("name", ["phase-anxiety-avoidance", "phase-levers"])
def test_bundled_sweeps_run_on_a_small_grid(relsim, tmp_path, name):
    out = tmp_path / name
    result = relsim("sweep", name, "--days", "20", "--set", "sweep.x.num=2", "--set",
                    "sweep.y.num=2", "--set", "sweep.replicates=2", "--workers", "1",
                    "--out", out)  # fmt: skip
    assert result.status == 0, result.err
    with (out / "sweep.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    for row in rows:
        shares = sum(float(row[f"share_{label}"]) for label in LABELS)
        assert shares == pytest.approx(1.0, abs=1e-5)  # written with 6 significant digits
    assert (out / "phase_diagram.png").read_bytes()[:4] == b"\x89PNG"


# ---------------------------------------------------------------------------------------------
# Each description's claim, measured. Every run is the bundled scenario itself (its own couples,
# days and seed), so the numbers are the ones `relsim run NAME` prints; a comparison runs the same
# couples with one thing changed (same seed: common random numbers), so the difference is that
# thing's effect, not chance. The runs are seeded and deterministic: a tolerance below says how
# far the defaults may move before the description stops being true and must be rewritten.


@functools.cache
def _run(name: str, **changes):
    return simulate(load_scenario(name).setup(**changes))


def _with(name: str, **partner_changes) -> Setup:
    """The scenario's setup with some partner keys changed (``partner_b={"style": "secure"}``)."""
    setup = load_scenario(name).setup()
    parts = {}
    for tag, change in partner_changes.items():
        spec = dict(getattr(setup, tag))
        spec["style"] = spec["style"].label
        spec.update(change)
        parts[tag] = spec
    return replace(setup, **parts)


def _broken(result) -> float:
    """Share of couples spiraling or dissolved."""
    return float(np.mean(broken(result.labels)))


def _share(result, label: str) -> float:
    return float(np.mean(result.labels == label))


def _asks_per_day(result, tag: str) -> float:
    """Mean requests a day of partner ``tag`` over the whole run."""
    return float(np.mean(result.couples[f"requests_{tag}"]) / result.setup.days)


def _answered(result, tag: str) -> float:
    """Share of partner ``tag``'s requests that were answered."""
    c = result.couples
    return float(c[f"answered_{tag}"].sum() / max(c[f"requests_{tag}"].sum(), 1))


def test_secure_secure_ask_now_and_then_are_answered_and_stay_stable():
    result = _run("secure-secure")
    for tag in "ab":
        # "now and then, more than once a month": between 1/30 and 1 a day (issue 11, item 4).
        assert 1 / 30 < _asks_per_day(result, tag) < 1.0
        assert _answered(result, tag) >= 0.8
    assert _share(result, "stable") >= 0.95


def test_anxious_anxious_both_ask_both_answer_and_spiral_far_more_than_with_a_secure_partner():
    result = _run("anxious-anxious")
    for tag in "ab":
        assert _asks_per_day(result, tag) >= 0.5
        assert _answered(result, tag) >= 0.5
    with_secure = simulate(_with("anxious-anxious", partner_b={"style": "secure"}))
    assert _broken(result) - _broken(with_secure) >= 0.25  # "far more": 25 points at least


def test_anxious_avoidant_nearly_all_spiral_or_split():
    assert _broken(_run("anxious-avoidant")) >= 0.85


@pytest.mark.parametrize("kind", ["style-awareness", "communication", "consistent-actions",
                                  "address-fears"])  # fmt: skip
def test_one_skill_on_its_own_frees_few_anxious_avoidant_couples(kind):
    effect = strategy_effects(load_scenario(f"anxious-avoidant-{kind}").setup())
    # "On its own it frees few couples": it does not make things worse (1 point of slack for the
    # odd couple that a changed answer sends the other way), and fewer than 15% of the couples
    # that broke down without help are spiraling-free with it.
    assert effect["broken_points"]["total"] <= 1.0
    assert effect["recovered_share"] < 0.15


def test_therapy_frees_many_couples_mostly_through_trait_change():
    effect = strategy_effects(load_scenario("anxious-avoidant-therapy").setup())
    assert effect["broken_points"]["total"] <= -20.0  # "many recover": 20 points at least
    assert effect["broken_points"]["trait_change"] < effect["broken_points"]["own_mechanism"]


def test_anxious_secure_asking_falls_and_most_stay_stable():
    result = _run("anxious-secure")
    metrics = result.headline()
    assert metrics["seeker_request_rate_last_30d"] < metrics["seeker_request_rate_first_30d"]
    assert metrics["seeker_request_rate_slope"] < 0
    assert _share(result, "stable") >= 0.6  # "most"


def test_avoidant_partners_hardly_ask_nobody_spirals_some_drift_apart():
    result = _run("avoidant-avoidant")
    for tag in "ab":
        # "hardly anyone asks": under one in five days (defaults: 0.02 a day each).
        assert _asks_per_day(result, tag) < 0.2
    # "nobody spirals", give or take a couple in 50.
    assert _share(result, "spiraling") <= 0.02
    # "3 in 5 stay stable, 3 in 10 drift apart" (defaults: 62%, 31%); "a few split up" (defaults:
    # 7%; outside events and alternatives part a few couples anyway), read as at most 12%.
    # Revision 2.7 (closeness weighs more in satisfaction) moved it from 75% and 20.5%.
    assert 0.52 <= _share(result, "stable") <= 0.72, _share(result, "stable")
    assert 0.2 <= _share(result, "distant") <= 0.4, _share(result, "distant")
    assert 0 < _share(result, "dissolved") <= 0.12, _share(result, "dissolved")


def test_fearful_avoidant_fearful_asks_and_pulls_back_many_drift_spiral_or_split():
    result = _run("fearful-avoidant")
    # "A fearful partner asks", "an avoidant one hardly asks" (defaults: 1.6 and 0.03 a day):
    # anxiety overrides the fearful partner's deactivation, not the dismissing partner's.
    assert _asks_per_day(result, "a") >= 0.5
    assert _asks_per_day(result, "b") < 0.2
    # "and pulls back": the fearful partner withdraws far more than an anxious partner would in
    # the same couples (same seed; defaults: 0.13 against 0.036).
    anxious = simulate(_with("fearful-avoidant", partner_a={"style": "anxious"}))
    pulled = float(np.mean(result.couples["withdrawal_a"]))
    assert pulled >= 2 * float(np.mean(anxious.couples["withdrawal_a"])), pulled
    # "4 in 10 drift apart, a third spiral, 1 in 5 split" (defaults: 38.5%, 33%, 19.5%).
    assert 0.28 <= _share(result, "distant") <= 0.47, _share(result, "distant")
    assert 0.25 <= _share(result, "spiraling") <= 0.45, _share(result, "spiraling")
    assert 0.1 <= _share(result, "dissolved") <= 0.25, _share(result, "dissolved")


def test_fearful_secure_asks_and_pulls_back_2_in_3_stable_3_in_10_drift_apart():
    result = _run("fearful-secure")
    # "asks": far more than the routine asking of a secure person (defaults: 0.67 a day; the
    # secure partner 0.31, a secure-secure partner 0.18).
    assert _asks_per_day(result, "a") >= 0.4, _asks_per_day(result, "a")
    # "and pulls back" (defaults: withdrawal 0.11 against the secure partner's 0.021).
    c = result.couples
    assert np.mean(c["withdrawal_a"]) >= 3 * np.mean(c["withdrawal_b"])
    # "2 in 3 stable, 3 in 10 drift apart" (defaults: 66% stable, 29.5% distant, 0.5%
    # spiraling, 4% dissolved; 72.5% and 23% before revision 2.7 weighed closeness more).
    assert 0.56 <= _share(result, "stable") <= 0.76, _share(result, "stable")
    assert 0.2 <= _share(result, "distant") <= 0.4, _share(result, "distant")
    assert _broken(result) < 0.12


def test_high_stress_tips_many_more_couples_than_ordinary_stress():
    result = _run("high-stress")
    ordinary = simulate(replace(load_scenario("high-stress").setup(), dynamics={}))
    assert _broken(result) - _broken(ordinary) >= 0.2  # "many more": 20 points at least


def test_classroom_outcomes_depend_on_the_pairing():
    from sim.teaching import outcomes_by_pairing

    table = outcomes_by_pairing(_run("classroom"))

    def broken_share(pairs) -> float:
        couples = sum(table[p]["couples"] for p in pairs)
        return sum(table[p]["couples"] * (table[p]["spiraling"] + table[p]["dissolved"])
                   for p in pairs) / couples  # fmt: skip

    with_secure = [p for p in table if "secure" in p.split(" + ")]
    insecure = [p for p in table if p not in with_secure]
    # "with a secure partner, under half as many spiral or split" (defaults at 180 days: 13.5% of
    # the 407 couples with a secure partner, 33% of the 93 of two insecure partners; overall 82%
    # stable, 1% distant, 2% spiraling, 15% dissolved: dating couples part for outside
    # reasons too, so no pairing is free of breakups).
    assert broken_share(with_secure) < 0.5 * broken_share(insecure)
    # Secure pairs do not spiral (defaults: none of 152; 14% dissolved).
    assert table["secure + secure"]["spiraling"] <= 0.02
    assert table["secure + secure"]["spiraling"] + table["secure + secure"]["dissolved"] <= 0.2
    # "how they fare depends on the pairing": among pairings of at least 10 couples the share
    # broken ranges widely (defaults: 13% anxious + secure to 44% avoidant + fearful).
    big = [v["spiraling"] + v["dissolved"] for v in table.values() if v["couples"] >= 10]
    assert max(big) - min(big) >= 0.2


def test_cultural_mismatch_numbers_in_its_description_are_measured():
    scenario = load_scenario("cultural-mismatch")
    found = re.search(r"(\d+)% spiral or split, (\d+)% if both expressive", scenario.description)
    assert found, scenario.description
    mixed = _broken(_run("cultural-mismatch"))
    matched = _broken(simulate(_with("cultural-mismatch", partner_b={"culture": "expressive"})))
    # The description rounds to whole percent; 3 points of slack let the defaults settle a
    # little before it must be rewritten.
    assert abs(100 * mixed - int(found[1])) <= 3
    assert abs(100 * matched - int(found[2])) <= 3
    assert mixed - matched >= 0.2
