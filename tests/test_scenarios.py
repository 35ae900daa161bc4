"""Every bundled scenario loads, runs (shortened) and writes a folder that meets the contract."""

from __future__ import annotations

import csv
import json

import pytest

from sim.outcomes import LABELS
from sim.params import INTERVENTIONS
from sim.scenario import SCENARIO_DIR, find_scenario, list_scenarios, load_scenario
from sim.simulation import COUPLE_COLUMNS

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
        base.partner_a, base.partner_b, base.seed)


def test_special_scenarios_say_what_their_names_promise():
    mismatch = load_scenario("cultural-mismatch")
    assert mismatch.partner_a["expression"] == 0.1 and mismatch.partner_b["expression"] == 0.9
    classroom = load_scenario("classroom")
    assert classroom.couples == 500 and classroom.population["pairing"] == "random"
    assert classroom.population["mix"] == {"secure": 0.56, "avoidant": 0.25, "anxious": 0.19}
    phase = load_scenario("phase-anxiety-avoidance").sweep
    assert (phase.x.param, phase.y.param) == ("partner_a.anxiety", "partner_b.avoidance")
    assert (len(phase.x.values), len(phase.y.values), phase.replicates) == (21, 21, 50)
    levers = load_scenario("phase-levers").sweep
    assert (levers.x.param, levers.y.param) == ("dynamics.relief_decay", "dynamics.exhaustion_rate")
    assert load_scenario("high-stress").dynamics["stress_rate"] > 0.3


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
        "frequency", "emotional impact", "partner response", "long-term outcome"]
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
