"""relsim calibrate: targets-file validation, the registry's statistics, recovery and resume."""

from __future__ import annotations

import csv
import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim import targets as tg
from sim.calibrate import (
    approximate_posterior,
    calibrate,
    check_values,
    evaluate,
    loss,
    open_study,
)
from sim.scenario import load_scenario
from sim.targets import load_targets

REPO = Path(__file__).resolve().parents[1]

# A small, fast targets file: every other file in these tests is a variation of it.
VALID = """\
[calibrate]
params = ["reassurance_frequency"]
ranges = { reassurance_frequency = [1.0, 12.0] }
seed = 3
replicates = 2

[[target]]
name = "anxious-requests"
statistic = "mean"
column = "requests"
style = "anxious"
scenario = "anxious-avoidant"
set = ["couples=30", "days=40"]
value = 150.0
se = 10.0
source = "made up for a test"
"""


def _write(folder: Path, text: str, name: str = "targets.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _target(body: str, calibrate: str = 'params = ["reassurance_frequency"]') -> str:
    return f"[calibrate]\n{calibrate}\n\n[[target]]\n{body}"


GOOD_TARGET = """\
name = "t"
statistic = "mean"
column = "requests"
scenario = "anxious-avoidant"
value = 1.0
se = 0.5
source = "test"
"""


def _replace(line: str, new: str | None) -> str:
    """GOOD_TARGET with the line starting ``line`` replaced by ``new`` (or removed)."""
    out = []
    for item in GOOD_TARGET.splitlines():
        if item.startswith(line):
            if new is not None:
                out.append(new)
        else:
            out.append(item)
    return "\n".join(out) + "\n"


# Each bad file: (text, fragments the message must contain).
BAD_FILES = {
    "not TOML": ("[[target]\nname = 1", ["targets.toml", "is not valid TOML"]),
    "unknown top-level key": (
        VALID + "\n[extra]\nx = 1\n",
        ["unknown key", "extra", "calibrate, target"],
    ),
    "no targets": ('[calibrate]\nparams = ["relief_decay"]\n', ["has no targets"]),
    "unknown statistic": (
        _target(_replace("statistic", 'statistic = "corelation"')),
        ["target 1 ('t')", "statistic", "corelation", "correlation"],
    ),
    "unknown column": (
        _target(_replace("column", 'column = "happiness"')),
        [
            "target 1 ('t')",
            "column",
            "happiness",
            "not a numeric per-person column",
            "satisfaction",
        ],
    ),
    "string column": (
        _target(_replace("column", 'column = "style"')),
        ["column", '"style"', "not a numeric per-person column"],
    ),
    "unknown scenario": (
        _target(_replace("scenario", 'scenario = "anxious-avoidnt"')),
        ["target 1 ('t')", "scenario", "anxious-avoidnt", "anxious-avoidant"],
    ),
    "together not a truth value": (
        _target(
            _replace(
                "statistic",
                'statistic = "correlation"\nx = "anxiety"\ny = "requests"\ntogether = "yes"',
            ).replace('column = "requests"\n', "")
        ),
        ["target 1 ('t')", "together", '"yes"', "is not true or false", "true or false"],
    ),
    "missing value": (_target(_replace("value", None)), ["target 1 ('t')", "value", "is missing"]),
    "missing name": (_target(_replace("name", None)), ["target 1", "name", "is missing"]),
    "missing uncertainty": (_target(_replace("se", None)), ["se", "interval", "is missing"]),
    "value of wrong type": (
        _target(_replace("value", 'value = "high"')),
        ["value", "must be a number", '"high"'],
    ),
    "interval upside down": (
        _target(_replace("se", "interval = [2.0, 0.5]")),
        ["interval", "low must be below high"],
    ),
    "interval missing the value": (
        _target(_replace("se", "interval = [2.0, 3.0]")),
        ["interval", "does not contain the published value 1"],
    ),
    "interval of one number": (
        _target(_replace("se", "interval = [2.0]")),
        ["interval", "must be [low, high]"],
    ),
    "negative se": (_target(_replace("se", "se = -1")), ["se", "must be above 0"]),
    "negative weight": (_target(GOOD_TARGET + "weight = -2\n"), ["weight", "must be 0 or more"]),
    "unknown key in a target": (
        _target(GOOD_TARGET + 'colour = "red"\n'),
        ["target 1 ('t')", "colour", "unknown key", "column"],
    ),
    "style the scenario lacks": (
        _target(GOOD_TARGET + 'style = "fearful"\n'),
        ["style", "has no fearful people", "anxious, avoidant"],
    ),
    "not a style": (_target(GOOD_TARGET + 'style = "clingy"\n'), ["style", "is not a style"]),
    "bad override": (
        _target(GOOD_TARGET + 'set = ["dynamics.relief_decay=99"]\n'),
        ["target 1 ('t')", "relief_decay", "out of range"],
    ),
    "unknown parameter to fit": (
        _target(GOOD_TARGET, 'params = ["relief_decy"]'),
        ["calibrate.params", "relief_decy", "relief_decay"],
    ),
    "no parameters to fit": (_target(GOOD_TARGET, "params = []"), ["no parameters to fit"]),
    "range outside the parameter's": (
        _target(GOOD_TARGET, 'params = ["relief_decay"]\nranges = { relief_decay = [0, 50] }'),
        ["calibrate.ranges.relief_decay", "not a range inside"],
    ),
    "bad outcome": (
        _target(_replace("column", 'outcomes = ["spiralling"]').replace('"mean"', '"share"')),
        ["outcomes", "spiralling", "stable"],
    ),
    "dissolution day past the run": (
        _target(_replace("column", "day = 365").replace('"mean"', '"dissolution_share"')),
        ["day", "runs 180 days", 'set = ["days=365"]'],
    ),
    "twin that is not a twin": (
        _target(_replace("statistic", 'statistic = "treatment_d"') + 'twin = "secure-secure"\n'),
        ["twin", "differs from", "common random numbers"],
    ),
    "twin without treatment": (
        _target(_replace("statistic", 'statistic = "treatment_d"') + 'twin = "anxious-avoidant"\n'),
        ["twin", "no treatment to measure"],
    ),
    "follow-up day past the run": (
        _target(_replace("column", "at_day = 200").replace('"mean"', '"relapse_share"')),
        ["at_day", "runs 180 days", "no follow-up after day 200"],
    ),
    "empty known miss": (
        _target(GOOD_TARGET + 'known_miss = " "\n'),
        ["known_miss", "must be text saying why"],
    ),
    "duplicate names": (
        _target(GOOD_TARGET) + "\n[[target]]\n" + GOOD_TARGET,
        ["target 2 ('t')", "name", "used by an earlier target"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_targets_file_exit_2_with_a_clear_message_and_nothing_written(case, tmp_path, relsim):
    text, fragments = BAD_FILES[case]
    path = _write(tmp_path, text)
    out = tmp_path / "out"
    before = sorted(p.name for p in tmp_path.iterdir())
    done = relsim("calibrate", path, "--out", out, "--budget", "2")
    assert done.status == 2, done.err
    assert done.err.startswith("relsim: error: "), done.err
    assert str(path) in done.err
    for fragment in fragments:
        assert fragment in done.err, (fragment, done.err)
    assert "Traceback" not in done.err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not out.exists()


@pytest.mark.parametrize("argv, fragment", [
    (["--params", "relief_decy"], "relief_decay"),
    (["--budget", "0"], "too small"),
    (["--resume"], "no study to resume"),
])  # fmt: skip
def test_bad_options_exit_2_and_nothing_written(argv, fragment, tmp_path, relsim):
    path = _write(tmp_path, VALID)
    out = tmp_path / "out"
    done = relsim("calibrate", path, "--out", out, *argv)
    assert done.status == 2, done.err
    assert fragment in done.err
    assert not out.exists()


def test_missing_targets_file_exit_2(tmp_path, relsim):
    done = relsim("calibrate", tmp_path / "nope.toml", "--out", tmp_path / "out")
    assert done.status == 2
    assert "nope.toml: no such targets file" in done.err
    assert not (tmp_path / "out").exists()


def test_valid_file_reads_with_defaults(tmp_path):
    found = load_targets(_write(tmp_path, VALID))
    (target,) = found.targets
    assert found.params == ["reassurance_frequency"]
    assert found.ranges == {"reassurance_frequency": (1.0, 12.0)}
    assert target.weight == 1.0
    assert target.low == pytest.approx(150.0 - tg.Z95 * 10.0)
    assert target.high == pytest.approx(150.0 + tg.Z95 * 10.0)
    assert target.known_miss == ""
    (target,) = load_targets(
        _write(tmp_path, VALID + 'known_miss = "no stress in the model"\n')
    ).targets
    assert target.known_miss == "no stress in the model"
    # An interval alone gives se = width / (2 * 1.96).
    text = VALID.replace("se = 10.0", "interval = [100.0, 200.0]")
    (target,) = load_targets(_write(tmp_path, text)).targets
    assert target.se == pytest.approx(100.0 / (2 * tg.Z95))


def test_twin_by_interventions_shares_the_runs_seed_and_people(tmp_path):
    text = _target(
        _replace("statistic", 'statistic = "treatment_d"')
        + 'interventions = [{kind = "therapy", day = 10}]\n'
    )
    found = load_targets(_write(tmp_path, text))
    (target,) = found.targets
    base, twin = found.runs[target.run], found.runs[target.twin_run]
    assert twin.interventions == [{"kind": "therapy", "day": 10}]
    assert (base.seed, base.couples, base.days) == (twin.seed, twin.couples, twin.days)
    assert base.interventions == []


# ----------------------------------------------------------------------------------------------
# The registry on hand-made tables

COUPLES = {
    "couple": np.array([0, 1]),
    "style_a": np.array(["anxious", "secure"]),
    "style_b": np.array(["avoidant", "anxious"]),
    "x_a": np.array([1.0, 2.0]),
    "x_b": np.array([3.0, 4.0]),
    "y_a": np.array([1.0, 3.0]),
    "y_b": np.array([2.0, 4.0]),
    "requests_a": np.array([30, 2]),
    "requests_b": np.array([0, 10]),
    "outcome": np.array(["spiraling", "stable"]),
    "dissolved_day": np.array([40, -1]),
}


def test_per_person_stacks_partners_and_adds_the_partners_values():
    people = tg.per_person(COUPLES)
    assert people["x"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert people["partner_x"].tolist() == [3.0, 4.0, 1.0, 2.0]
    assert people["style"].tolist() == ["anxious", "secure", "avoidant", "anxious"]
    assert people["outcome"].tolist() == ["spiraling", "stable", "spiraling", "stable"]
    assert people["partner"].tolist() == ["a", "a", "b", "b"]
    assert "x_a" not in people and "couple" in people


def test_correlation_is_pearson_over_both_partners():
    people = tg.per_person(COUPLES)
    # x = 1, 2, 3, 4 and y = 1, 3, 2, 4: sum dx dy = 4, sum dx² = sum dy² = 5, r = 0.8.
    assert tg.correlation(people, "x", "y") == pytest.approx(0.8, abs=1e-15)
    assert tg.correlation(people, "x", "partner_x") == pytest.approx(-0.6, abs=1e-15)
    with_gap = {**people, "y": np.array([1.0, np.nan, 2.0, 4.0])}
    # Rows with a missing value are left out: x = 1, 3, 4 and y = 1, 2, 4, so
    # dx = (-5, 1, 4) / 3, dy = (-4, -1, 5) / 3 and r = (39 / 9) / (42 / 9) = 13 / 14.
    assert tg.correlation(with_gap, "x", "y") == pytest.approx(13.0 / 14.0, abs=1e-15)
    assert math.isnan(tg.correlation(people, "x", "y", style="secure"))  # one person


def test_mean_share_dissolution_and_rate_ratio_exact():
    people = tg.per_person(COUPLES)
    assert tg.mean(people, "x") == 2.5
    assert tg.mean(people, "x", style="anxious") == 2.5  # persons with x = 1 and 4
    assert tg.mean(people, "requests", style="anxious") == 20.0  # 30 and 10
    assert math.isnan(tg.mean(people, "x", style="fearful"))
    assert tg.share(COUPLES, ["spiraling"]) == 0.5
    assert tg.share(COUPLES, ["spiraling", "stable"]) == 1.0
    assert tg.dissolution_share(COUPLES, 41) == 0.5  # dissolved on day 40
    assert tg.dissolution_share(COUPLES, 40) == 0.0
    assert tg.rate_ratio(people, "anxious", "secure") == 10.0  # 20 / 2
    assert tg.rate_ratio(people, "anxious", "avoidant", column="x") == 2.5 / 3.0
    assert math.isnan(tg.rate_ratio(people, "secure", "fearful"))


def test_relapse_share_counts_the_recovered_who_lost_it():
    early = {"outcome": np.array(["stable", "stable", "stable", "spiraling", "stable"])}
    late = {"outcome": np.array(["stable", "spiraling", "dissolved", "stable", "stable"])}
    # Four recovered early; two of them (couples 1 and 2) are not stable later.
    assert tg.relapse_share(early, late, ["stable"]) == 0.5
    assert tg.relapse_share(early, late, ["stable", "spiraling"]) == 0.2  # only couple 2
    assert math.isnan(tg.relapse_share(late, late, ["distant"]))


def test_treatment_d_uses_the_pooled_sd():
    base = {"partner": np.array(["a", "a"]), "s": np.array([0.0, 2.0])}
    twin = {"partner": np.array(["a", "a", "a"]), "s": np.array([1.0, 3.0, 5.0])}
    # Means 1 and 3; variances 2 and 4; pooled (1*2 + 2*4) / 3 = 10/3.
    assert tg.treatment_d(base, twin, "s") == pytest.approx(2.0 / math.sqrt(10.0 / 3.0), abs=1e-15)
    same = {"partner": np.array(["a", "a"]), "s": np.array([1.0, 1.0])}
    assert math.isnan(tg.treatment_d(same, same, "s"))


def test_loss_is_the_weighted_sum_of_squared_z(tmp_path):
    text = VALID + VALID[VALID.index("[[target]]") :].replace("anxious-requests", "second")
    text = text.replace("se = 10.0\nsource", "se = 10.0\nweight = 2\nsource", 1)
    first, second = load_targets(_write(tmp_path, text)).targets
    assert first.weight == 2.0 and second.weight == 1.0
    assert loss([first, second], {"anxious-requests": 170.0, "second": 120.0}) == 2 * 4 + 9
    # An undefined statistic counts z = 10.
    assert loss([second], {"second": math.nan}) == tg.UNDEFINED_Z**2


def test_posterior_weights_and_intervals_on_a_known_bowl():
    # Trials spread evenly over [0, 1]; loss ((x - 0.5) / 0.1)²: the posterior is a normal
    # with mean 0.5 and sd 0.1 cut to [0, 1], so its 95% interval is about 0.30 to 0.70.
    x = np.linspace(0.0, 1.0, 401)[:, None]
    losses = ((x[:, 0] - 0.5) / 0.1) ** 2
    post = approximate_posterior(x, losses, [(0.0, 1.0)], targets=3)
    (param,) = post["params"]
    assert post["tau"] == 1.0
    assert param["median"] == pytest.approx(0.5, abs=0.005)
    assert param["low"] == pytest.approx(0.5 - 1.96 * 0.1, abs=0.01)
    assert param["high"] == pytest.approx(0.5 + 1.96 * 0.1, abs=0.01)
    assert post["weights"].sum() == pytest.approx(1.0)
    # A best fit far worse than chance widens the kernel (tau = best loss / dof).
    post = approximate_posterior(x, losses + 40.0, [(0.0, 1.0)], targets=3)
    assert post["tau"] == pytest.approx(20.0)
    assert post["params"][0]["high"] - post["params"][0]["low"] > 0.5


# ----------------------------------------------------------------------------------------------
# Calibrating


def _recovery_file(folder: Path, true_value: float) -> Path:
    """Targets simulated from ``reassurance_frequency = true_value`` (common random numbers)."""
    path = _write(folder, VALID, "draft.toml")
    draft = load_targets(path)
    simulated = evaluate(draft, {"reassurance_frequency": true_value})
    text = VALID.replace("value = 150.0", f"value = {simulated['anxious-requests']!r}")
    text = text.replace("se = 10.0", f"se = {0.05 * simulated['anxious-requests']!r}")
    return _write(folder, text, "recovery.toml")


def test_parameter_recovery(tmp_path):
    """Targets made at reassurance_frequency = 8 are fitted back to within ±1 (9% of [1, 12])."""
    path = _recovery_file(tmp_path, 8.0)
    found = load_targets(path)
    folder = tmp_path / "cal"
    folder.mkdir()
    result = calibrate(found, folder, budget=20, seed=3)
    fitted = result.best["reassurance_frequency"]
    assert abs(fitted - 8.0) <= 1.0, fitted
    low, high = result.fitted()["params"]["reassurance_frequency"]["interval_95"]
    assert low <= 8.0 <= high


def test_check_values_reports_each_target_on_fresh_seeds(tmp_path):
    found = load_targets(_write(tmp_path, VALID))
    (row,) = check_values(found, {"reassurance_frequency": 2.0})
    runs = [evaluate(found, {"reassurance_frequency": 2.0}, seed_offset=k)["anxious-requests"]
            for k in (1, 2)]  # fmt: skip
    assert row["simulated"] == pytest.approx(np.mean(runs), rel=1e-12)
    assert row["mc_error"] == pytest.approx(np.std(runs, ddof=1) / math.sqrt(2), rel=1e-12)
    assert row["within"] == (row["low"] <= row["simulated"] <= row["high"])


def _trials(folder: Path) -> list[dict]:
    with (folder / "report" / "trials.csv").open(encoding="utf-8") as handle:
        # Optuna's trial numbers count failed trials too, so they are left out.
        return [{k: v for k, v in row.items() if k not in ("trial", "posterior_weight")}
                for row in csv.DictReader(handle)]  # fmt: skip


def test_resume_ends_where_an_uninterrupted_run_ends(tmp_path, relsim):
    path = _write(
        tmp_path,
        VALID.replace('["reassurance_frequency"]', '["reassurance_frequency", "exhaustion_rate"]'),
    )
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    done = relsim("calibrate", path, "--out", whole, "--budget", "12")
    assert done.status == 0, done.err
    assert relsim("calibrate", path, "--out", parts, "--budget", "6").status == 0
    again = relsim("calibrate", path, "--out", parts, "--budget", "6")
    assert again.status == 2 and "--resume" in again.err  # a second start is refused
    # An evaluation interrupted mid-trial leaves a failed trial; it must not change anything.
    study = open_study(parts, load_targets(path), 3, resume=True)
    import optuna

    trial = study.ask(
        {
            "reassurance_frequency": optuna.distributions.FloatDistribution(1, 12),
            "exhaustion_rate": optuna.distributions.FloatDistribution(0, 0.5),
        }
    )
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    assert relsim("calibrate", path, "--out", parts, "--budget", "12", "--resume").status == 0
    assert _trials(whole) == _trials(parts)
    fitted = [json.loads((f / "report" / "fitted.json").read_text()) for f in (whole, parts)]
    for item in fitted:
        item.pop("targets_file")
    assert fitted[0] == fitted[1]
    assert len(_trials(whole)) == 12

    # The report: every file, a scenario that loads, the per-target table.
    report = whole / "report"
    assert sorted(p.name for p in report.iterdir()) == sorted(
        (
            "fitted.json",
            "targets.csv",
            "trials.csv",
            "fit.png",
            "marginals.png",
            "convergence.png",
            "fitted-scenario.toml",
            "manifest.json",
        )
    )
    scenario = load_scenario(report / "fitted-scenario.toml")
    best = fitted[0]["params"]
    assert scenario.dynamics["reassurance_frequency"] == pytest.approx(
        best["reassurance_frequency"]["fitted"], rel=1e-5
    )
    assert scenario.couples == 30 and scenario.days == 40
    with (report / "targets.csv").open(encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["target"] == "anxious-requests"
    assert float(row["published"]) == 150.0
    assert row["within"] in ("true", "false")
    assert float(row["mc_error"]) >= 0
    manifest = json.loads((report / "manifest.json").read_text())
    assert manifest["kind"] == "calibration"
    assert manifest["budget"] == 12
    assert tomllib.loads((report / "fitted-scenario.toml").read_text())["seed"] == 3


def test_dask_scheduler_gives_the_same_study_as_local_workers(tmp_path):
    from distributed import LocalCluster

    path = _write(tmp_path, VALID)
    found = load_targets(path)
    local, remote = tmp_path / "local", tmp_path / "remote"
    local.mkdir()
    remote.mkdir()
    mine = calibrate(found, local, budget=4, seed=5, workers=2)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster:  # fmt: skip
        theirs = calibrate(found, remote, budget=4, seed=5, workers=2,
                           scheduler=cluster.scheduler_address)  # fmt: skip
    assert [t["params"] for t in mine.trials] == [t["params"] for t in theirs.trials]
    assert [t["loss"] for t in mine.trials] == [t["loss"] for t in theirs.trials]


def test_readme_example_targets_file_is_valid(tmp_path):
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("# my-targets.toml")
    example = text[start : text.index("```", start)]
    found = load_targets(_write(tmp_path, example, "my-targets.toml"))
    assert [t.statistic for t in found.targets] == ["correlation", "treatment_d"]


def test_literature_targets_file_is_valid():
    found = load_targets(REPO / "calibration" / "literature.toml")
    assert len(found.targets) >= 8
    assert all(t.source for t in found.targets)
    assert found.params


#: The targets of calibration/literature.toml the model misses for a structural reason, each
#: with its `known_miss` text (docs/ODD.md, "Calibration" and "Validation"). None since revision
#: 2.6 (anxiety-asking was one up to 2.5).
KNOWN_MISSES: set[str] = set()


def test_the_defaults_reproduce_the_literature_or_miss_it_knowingly():
    # The bundled literature calibration's summary (issue 12): at the defaults in sim/params.py,
    # as the mean over the check seeds (each scenario's seed + 1 to + replicates, the runs that
    # `relsim calibrate` reports), every target lies within its published interval, or it carries
    # a `known_miss` key that says why the model cannot reach it (docs/ODD.md, "Calibration").
    found = load_targets(REPO / "calibration" / "literature.toml")
    rows = {row["target"]: row for row in check_values(found)}
    known = {t.name for t in found.targets if t.known_miss}
    assert known == KNOWN_MISSES
    for name, row in rows.items():
        if name in known:
            # Still a miss: a known miss the model has come to reach loses its key.
            assert not row["within"], row
        else:
            assert row["within"], row
    # A known miss is reported, not fitted: it would drag the fit toward range bounds.
    assert all(t.weight == 0 for t in found.targets if t.known_miss)


def test_together_keeps_only_couples_still_together():
    from sim.targets import correlation

    # Six people in three couples; the third couple dissolved on day 5. Among the four people
    # still together the columns agree exactly (r = 1); the dissolved couple's two rows pull the
    # correlation over everyone below zero.
    people = {
        "partner": np.array(["a", "a", "a", "b", "b", "b"]),
        "x": np.array([1.0, 2.0, 9.0, 3.0, 4.0, 0.0]),
        "y": np.array([1.0, 2.0, 0.0, 3.0, 4.0, 9.0]),
        "dissolved_day": np.array([-1, -1, 5, -1, -1, 5]),
    }
    assert correlation(people, "x", "y", together=True) == pytest.approx(1.0)
    assert correlation(people, "x", "y") < 0.0
