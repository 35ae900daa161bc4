"""relsim bifurcation: parameters, agreement with the agent-based model, hysteresis, the folder."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from sim import bifurcation as bf
from sim.cli import main
from sim.params import DYNAMICS
from sim.scenario import load_scenario

#: The agreement test's grid (seeker anxiety x partner avoidance) and its stated tolerance: the
#: mean-field regime must match the agent-based majority on at least this share of the cells.
AGREEMENT_GRID = (0.0, 0.35, 0.7, 1.0)
AGREEMENT_AT_LEAST = 0.75

#: The hysteresis test: anxious-secure ramped over exhaustion_rate; on the way down more couples
#: are spiraling or dissolved than on the way up at every value of this range.
HYSTERESIS_VALUES = np.linspace(0.0, 0.48, 9)
HYSTERESIS_RANGE = (0.12, 0.36)


def test_parameters_resolve_with_clear_errors():
    assert bf.resolve_param("exhaustion_rate") == ("exhaustion_rate", DYNAMICS["exhaustion_rate"])
    assert bf.resolve_param("dynamics.relief_decay")[0] == "relief_decay"
    assert bf.resolve_param("partner_a.anxiety")[0] == "partner_a.anxiety"
    with pytest.raises(ValueError, match="did you mean 'exhaustion_rate'"):
        bf.resolve_param("exhaustion_rat")
    with pytest.raises(ValueError, match="allowed"):
        bf.resolve_param("partner_c.anxiety")
    rule = DYNAMICS["exhaustion_rate"]
    assert bf.parse_range("0.1:0.3", "exhaustion_rate", rule) == (0.1, 0.3)
    for text, problem in (("0.3", "LOW:HIGH"), ("a:b", "numbers"), ("0.3:0.1", "below"),
                          ("0:0.9", "leaves the range"), ("nan:1", "finite")):  # fmt: skip
        with pytest.raises(ValueError, match=problem):
            bf.parse_range(text, "exhaustion_rate", rule)
    low, high = bf.default_range("exhaustion_rate", rule)
    assert low == rule.low and high == min(rule.high, 6 * rule.default)


def test_wilson_interval_known_values():
    low, high = bf.wilson(np.array([0, 5, 10]), 10)
    assert low[0] == pytest.approx(0.0) and high[0] == pytest.approx(0.2775, abs=1e-4)
    assert low[1] == pytest.approx(0.2366, abs=1e-4) and high[1] == pytest.approx(0.7634, abs=1e-4)
    assert high[2] == pytest.approx(1.0) and low[2] == pytest.approx(0.7225, abs=1e-4)


def test_mean_field_agrees_with_the_agent_based_majority():
    scenario = load_scenario("phase-anxiety-avoidance")
    out = bf.grid_agreement(scenario, "partner_a.anxiety", AGREEMENT_GRID, "partner_b.avoidance",
                            AGREEMENT_GRID, replicates=30)  # fmt: skip
    assert out["agreement"] >= AGREEMENT_AT_LEAST, (out["abm_share"], out["mean_field"])
    # Both regimes occur on the grid, so the agreement is not that of a constant guess.
    assert out["mean_field"].any() and not out["mean_field"].all()


@pytest.fixture(scope="module")
def ramp():
    scenario = load_scenario("anxious-secure")
    return bf.hysteresis(scenario, "exhaustion_rate", HYSTERESIS_VALUES, couples=200,
                         hold_days=30)  # fmt: skip


def test_ramp_records_every_step_up_and_down(ramp):
    assert [row["direction"] for row in ramp] == ["up"] * 9 + ["down"] * 9
    assert [row["value"] for row in ramp] == [*HYSTERESIS_VALUES, *HYSTERESIS_VALUES[::-1]]
    days = [row["day"] for row in ramp]
    assert days == sorted(days) and days[1] - days[0] == 30
    for row in ramp:
        assert row["low"] <= row["share"] <= row["high"]
        assert row["share"] == pytest.approx(row["share_spiraling"] + row["share_dissolved"])


def test_going_back_is_not_enough(ramp):
    up = {row["value"]: row for row in ramp if row["direction"] == "up"}
    down = {row["value"]: row for row in ramp if row["direction"] == "down"}
    low, high = HYSTERESIS_RANGE
    inside = [v for v in HYSTERESIS_VALUES if low - 1e-9 <= v <= high + 1e-9]
    assert len(inside) >= 4
    for value in inside:
        assert down[value]["share"] > up[value]["share"], value
    # Not only the couples who split up (dissolution is absorbing): couples still together
    # are spiraling more on the way down too, over the range as a whole.
    assert sum(down[v]["share_spiraling"] - up[v]["share_spiraling"] for v in inside) > 0.1


# ----------------------------------------------------------------------------------------------
# The command


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "exhaustion_rat"], "did you mean 'exhaustion_rate'"),
        (["--param", "exhaustion_rate", "--range", "0.3:0.1"], "LOW must be below HIGH"),
        (["--param", "exhaustion_rate", "--range", "0:2"], "leaves the range"),
        (["--param", "exhaustion_rate", "--range", "zero:1"], "must be numbers"),
        (["--param", "dissolution_days"], "whole number"),
        (["--param", "exhaustion_rate", "--steps", "2"], "too small"),
        (["--param", "exhaustion_rate", "--steps", "500"], "allowed: 3 to 201"),
        ([], "--param"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    status = main(["bifurcation", "anxious-secure", *args, "--out", str(out)])
    assert status == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_population_scenario_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["bifurcation", "classroom", "--param", "exhaustion_rate", "--out", str(out)]) == 2
    assert "needs a couple" in capsys.readouterr().err
    assert not out.exists()


def test_command_writes_the_folder(tmp_path, capsys):
    out = tmp_path / "bif"
    status = main(["bifurcation", "anxious-secure", "--param", "reassurance_frequency",
                   "--range", "2:10", "--steps", "3", "--couples", "20", "--hold-days", "3",
                   "--out", str(out)])  # fmt: skip
    assert status == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        "bifurcation.csv",
        "bifurcation.png",
        "hysteresis.csv",
        "manifest.json",
    ]
    with (out / "bifurcation.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {float(row["reassurance_frequency"]) for row in rows} == {2.0, 6.0, 10.0}
    assert {"stable", "spectral_radius", "requests_a", "trust_a", "abm_share"} <= set(rows[0])
    for row in rows:
        assert (row["stable"] == "true") == (float(row["spectral_radius"]) < 1.0)
    with (out / "hysteresis.csv").open() as handle:
        ramp = list(csv.DictReader(handle))
    assert list(ramp[0]) == list(bf.HYSTERESIS_COLUMNS)
    assert [row["direction"] for row in ramp] == ["up"] * 3 + ["down"] * 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "bifurcation"
    assert manifest["bifurcation"]["param"] == "reassurance_frequency"
    # A second run without --force refuses to replace the folder.
    assert main(["bifurcation", "anxious-secure", "--param", "reassurance_frequency",
                 "--out", str(out)]) == 2  # fmt: skip
