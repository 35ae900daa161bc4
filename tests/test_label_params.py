"""The outcome labels' thresholds as parameters (``sim.params.LABEL_THRESHOLDS``, ``[labels]``).

A threshold is applied to a run's end state, so changing it relabels the same couples: every test
here compares labels of one seeded run, which makes the directions exact (a set of couples, not
a noisy share). The runs use the NumPy engine: small, and no compilation to wait for.
"""

from __future__ import annotations

import itertools
import json
import textwrap
from dataclasses import replace

import numpy as np
import pytest

from sim import outcomes as oc
from sim.params import DYNAMICS, LABEL_THRESHOLDS, PERSON, RUN
from sim.simulation import Setup, simulate

ENGINE = "numpy"
#: A mixed population whose partner A is highly anxious, so that every threshold has couples on
#: both sides of some value (people drawn on the continuum are too mild for the spiral rate). Few
#: couples have a failing cycle at under 2 requests a day, which is all the spiral rate decides:
#: 80 couples over 60 days had none once a population's asking norms spread (revision 2.6); 200
#: couples over 90 days have 5 (the fewest of any threshold; every other has dozens).
SETUP = Setup(population={"mix": {"secure": 1, "anxious": 1, "avoidant": 1, "fearful": 1}},
              partner_a={"anxiety": 0.9}, couples=200, days=90, seed=12)  # fmt: skip


@pytest.fixture(scope="module")
def run():
    return simulate(SETUP, engine=ENGINE)


def _spiraling(columns, days, **thresholds) -> np.ndarray:
    return oc.classify_couples(columns, days, thresholds) == "spiraling"


def _distant(columns, days, **thresholds) -> np.ndarray:
    return oc.classify_couples(columns, days, thresholds) == "distant"


def test_the_table_holds_the_former_constants_as_defaults():
    assert {name: p.default for name, p in LABEL_THRESHOLDS.items()} == {
        "spiral_rate": oc.SPIRAL_RATE,
        "excessive_rate": oc.EXCESSIVE_RATE,
        "spiral_trust": oc.SPIRAL_TRUST,
        "spiral_exhaustion": oc.SPIRAL_EXHAUSTION,
        "distant_satisfaction": oc.DISTANT_SATISFACTION,
        "distant_contact": oc.DISTANT_CONTACT,
    }
    assert (oc.SPIRAL_RATE, oc.EXCESSIVE_RATE, oc.SPIRAL_TRUST) == (1.0, 2.0, 0.45)
    assert (oc.SPIRAL_EXHAUSTION, oc.DISTANT_SATISFACTION, oc.DISTANT_CONTACT) == (0.5, 0.45, 1.0)
    for p in LABEL_THRESHOLDS.values():
        assert p.low <= p.default <= p.high and p.unit and p.meaning, p.name
    # One namespace: a bare name in a message or a sensitivity table is never ambiguous.
    assert not set(LABEL_THRESHOLDS) & (set(DYNAMICS) | set(PERSON) | set(RUN))


def test_defaults_label_as_before(run):
    days = SETUP.days
    defaults = {name: p.default for name, p in LABEL_THRESHOLDS.items()}
    assert np.array_equal(oc.classify_couples(run.couples, days), run.labels)
    assert np.array_equal(oc.classify_couples(run.couples, days, defaults), run.labels)
    given = simulate(replace(SETUP, labels=defaults), engine=ENGINE)
    for name, column in run.couples.items():
        assert np.array_equal(given.couples[name], column, equal_nan=column.dtype.kind == "f"), name


# (threshold, outcome it governs, +1 if raising it labels more couples so, -1 if fewer)
DIRECTIONS = [
    ("spiral_rate", _spiraling, -1),
    ("excessive_rate", _spiraling, -1),
    ("spiral_trust", _spiraling, +1),
    ("spiral_exhaustion", _spiraling, -1),
    ("distant_satisfaction", _distant, +1),
    ("distant_contact", _distant, +1),
]


@pytest.mark.parametrize(("name", "governed", "sign"), DIRECTIONS, ids=[d[0] for d in DIRECTIONS])
def test_a_threshold_moves_its_label_one_way_on_the_same_run(run, name, governed, sign):
    spec = LABEL_THRESHOLDS[name]
    values = np.linspace(spec.low, spec.high, 41)
    sets = [governed(run.couples, SETUP.days, **{name: value}) for value in values]
    for lower, higher in itertools.pairwise(sets):
        # The couples labelled at the higher value are a subset (or superset) of the lower's.
        smaller, larger = (higher, lower) if sign < 0 else (lower, higher)
        assert not np.any(smaller & ~larger), name
    assert sets[0].sum() != sets[-1].sum(), f"{name} changed no label over its whole range"
    # Dissolution is not a threshold's business.
    for value in (spec.low, spec.high):
        labels = oc.classify_couples(run.couples, SETUP.days, {name: value})
        assert np.array_equal(labels == "dissolved", run.labels == "dissolved")


def test_a_higher_spiral_rate_never_labels_more_couples_spiraling(run):
    counts = [_spiraling(run.couples, SETUP.days, spiral_rate=v, excessive_rate=24).sum()
              for v in np.linspace(0, 24, 97)]  # fmt: skip
    assert all(a >= b for a, b in itertools.pairwise(counts))
    assert counts[0] > counts[-1] == 0


def test_per_couple_thresholds_label_each_couple_with_its_own(run):
    n = SETUP.couples
    per_couple = np.where(np.arange(n) % 2 == 0, 0.0, 24.0)
    mixed = oc.classify_couples(run.couples, SETUP.days, {"distant_contact": per_couple})
    low = oc.classify_couples(run.couples, SETUP.days, {"distant_contact": 0.0})
    high = oc.classify_couples(run.couples, SETUP.days, {"distant_contact": 24.0})
    assert np.array_equal(mixed, np.where(per_couple == 0.0, low, high))
    assert not np.array_equal(low, high)


def test_a_run_with_thresholds_relabels_the_same_couples(run):
    changed = simulate(replace(SETUP, labels={"distant_satisfaction": 0.7, "spiral_trust": 0.6}),
                       engine=ENGINE)  # fmt: skip
    expected = oc.classify_couples(run.couples, SETUP.days,
                                   {"distant_satisfaction": 0.7, "spiral_trust": 0.6})  # fmt: skip
    assert np.array_equal(changed.labels, expected)
    assert not np.array_equal(changed.labels, run.labels)
    for name in ("satisfaction_a", "trust_b", "requests_a", "dissolved_day"):
        assert np.array_equal(changed.couples[name], run.couples[name])
    # The healthy-versus-excessive table reads the run's request-rate thresholds.
    rule = simulate(replace(SETUP, labels={"spiral_rate": 1.5}), engine=ENGINE).aspects()[0]
    assert rule["rule"] == "healthy at most 1.5 a day, excessive from 2 a day"


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"spiral_rate": 30.0}, "labels.spiral_rate = 30 is out of range; allowed: 0 to 24"),
        ({"spiral_rat": 1.0}, "did you mean 'spiral_rate'?"),
        ({"spiral_trust": "low"}, "labels.spiral_trust must be a number"),
        ({"spiral_trust": np.array([0.5, 0.5])}, "one per couple"),
        ({"spiral_trust": np.full(SETUP.couples, 1.5)}, "outside 0 to 1"),
    ],
)
def test_setup_refuses_bad_thresholds(labels, message):
    with pytest.raises(ValueError, match=message.replace("?", r"\?")):
        replace(SETUP, labels=labels)


def test_classify_refuses_an_unknown_threshold(run):
    with pytest.raises(ValueError, match="did you mean 'distant_contact'"):
        oc.classify_couples(run.couples, SETUP.days, {"distant_contacts": 1.0})


def test_set_on_the_command_line_reaches_the_labels_and_the_manifest(relsim, tmp_path,
                                                                      monkeypatch):  # fmt: skip
    monkeypatch.setenv("RELSIM_ENGINE", ENGINE)
    common = ["--days", "30", "--couples", "40", "--seed", "3"]
    assert relsim("run", "anxious-avoidant", *common, "--out", tmp_path / "plain").status == 0
    result = relsim("run", "anxious-avoidant", *common, "--set", "labels.spiral_rate=0",
                    "--set", "labels.excessive_rate=24", "--out", tmp_path / "set")  # fmt: skip
    assert result.status == 0, result.err
    info = json.loads((tmp_path / "set" / "manifest.json").read_text(encoding="utf-8"))
    labels = info["scenario"]["labels"]
    assert labels == {**{n: p.default for n, p in LABEL_THRESHOLDS.items()},
                      "spiral_rate": 0.0, "excessive_rate": 24.0}  # fmt: skip
    plain = json.loads((tmp_path / "plain" / "manifest.json").read_text(encoding="utf-8"))
    assert plain["scenario"]["labels"] == {n: p.default for n, p in LABEL_THRESHOLDS.items()}

    def outcomes(folder):
        summary = json.loads((tmp_path / folder / "summary.json").read_text(encoding="utf-8"))
        return summary["outcomes"]

    assert outcomes("set") != outcomes("plain")
    assert outcomes("set")["dissolved"] == outcomes("plain")["dissolved"]


def test_a_scenario_file_sets_thresholds_in_its_labels_table(tmp_path):
    from sim.scenario import load_scenario

    path = tmp_path / "mine.toml"
    path.write_text(textwrap.dedent("""\
        days = 20
        couples = 5
        [partner_a]
        style = "anxious"
        [labels]
        distant_satisfaction = 0.6
        distant_contact = 2
    """))  # fmt: skip
    scenario = load_scenario(path, ["labels.distant_contact=3"])
    assert scenario.labels == {"distant_satisfaction": 0.6, "distant_contact": 3.0}
    assert scenario.setup().labels == {"distant_satisfaction": 0.6, "distant_contact": 3.0}


# ----------------------------------------------------------------------------------------------
# Sensitivity: thresholds are parameters of the analysis, and add no simulations


def _small_setup() -> Setup:
    return Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, couples=12,
                 days=45, seed=4)  # fmt: skip


def test_sobol_gives_a_threshold_an_index_on_the_outcome_it_governs(monkeypatch):
    from sim.sensitivity import analyse, analysed_params, bands

    monkeypatch.setenv("RELSIM_ENGINE", ENGINE)
    names = ["reassurance_frequency", "excessive_rate", "distant_satisfaction"]
    result = analyse(_small_setup(), method="sobol", samples=8, names=names, couples=12)
    assert result.index("share_spiraling_or_dissolved", "excessive_rate") > 0.0
    assert result.index("share_distant", "distant_satisfaction") > 0.0
    # A threshold changes only labels: exactly no effect on satisfaction, and the distance
    # threshold none on the broken share (it labels only couples that are not spiraling).
    assert result.index("mean_satisfaction", "excessive_rate") == 0.0
    assert result.index("mean_satisfaction", "distant_satisfaction") == 0.0
    assert result.index("share_spiraling_or_dissolved", "distant_satisfaction") == 0.0
    # By default the analysis varies every dynamics parameter and every threshold.
    assert list(analysed_params()) == [*DYNAMICS, *LABEL_THRESHOLDS]
    for name, (low, high) in bands().items():
        spec = analysed_params()[name]
        assert spec.low <= low < high <= spec.high, name


def test_samples_differing_only_in_thresholds_share_one_simulation(monkeypatch):
    from sim import sensitivity
    from sim.outcomes import broken

    monkeypatch.setenv("RELSIM_ENGINE", ENGINE)
    simulated = []
    real = sensitivity.k.Kernel

    def counting(people, params, **kwargs):
        simulated.append(params.shape[1])
        return real(people, params, **kwargs)

    monkeypatch.setattr(sensitivity.k, "Kernel", counting)
    # Anxious-secure couples: some on each side of both thresholds (anxious-avoidant ones all
    # spiral at any trust threshold).
    setup = Setup(partner_a={"style": "anxious"}, partner_b={"style": "secure"}, couples=10,
                  days=45, seed=4)  # fmt: skip
    couples = 10
    names = ["spiral_trust", "distant_satisfaction", sensitivity.CONTROL]
    X = np.array([[0.3, 0.3, 0.1], [0.8, 0.3, 0.9], [0.45, 0.8, 0.5], [0.3, 0.3, 0.2]])
    Y = sensitivity._evaluate_block(setup, names, X, couples)
    assert simulated == [couples]  # one run: no dynamics parameter varies
    plain = simulate(replace(setup, couples=couples), engine=ENGINE)
    for row, (trust, satisfaction, _) in enumerate(X):
        labels = oc.classify_couples(plain.couples, setup.days,
                                     {"spiral_trust": trust,
                                      "distant_satisfaction": satisfaction})  # fmt: skip
        assert Y[row, 0] == pytest.approx(broken(labels).mean())
        assert Y[row, 2] == pytest.approx(np.mean(labels == "distant"))
    assert Y[0, 0] < Y[1, 0] and Y[0, 2] < Y[2, 2]
    # With a dynamics parameter among them, one run per distinct dynamics value.
    simulated.clear()
    X2 = np.array([[2.0, 0.45], [2.0, 0.6], [6.0, 0.45], [6.0, 0.3]])
    sensitivity._evaluate_block(setup, ["reassurance_frequency", "spiral_trust"], X2, couples)
    assert simulated == [2 * couples]


def test_sensitivity_couples_option_reaches_the_analysis(relsim, monkeypatch, tmp_path):
    import sys
    import types

    seen = []
    fake = types.ModuleType("sim.sensitivity")
    fake.analyse_scenario = lambda scenario, **options: seen.append(options) or 0
    monkeypatch.setitem(sys.modules, "sim.sensitivity", fake)
    assert relsim("sensitivity", "anxious-avoidant", "--couples", "48").status == 0
    assert seen[0]["couples_per_sample"] == 48
    result = relsim("sensitivity", "anxious-avoidant", "--couples", "0")
    assert result.status == 2 and "--couples" in result.err
    assert len(seen) == 1


def test_sensitivity_command_records_threshold_bands(tmp_path, monkeypatch):
    from sim.sensitivity import analyse_scenario

    monkeypatch.setenv("RELSIM_ENGINE", ENGINE)
    status = analyse_scenario("anxious-avoidant", out=tmp_path / "sens", method="morris",
                              samples=2, couples_per_sample=3,
                              settings=["days=15", "labels.spiral_rate=1.5"])  # fmt: skip
    assert status == 0
    info = json.loads((tmp_path / "sens" / "manifest.json").read_text(encoding="utf-8"))
    assert info["bands"]["spiral_rate"] == [0.5, 1.5]
    assert info["scenario"]["labels"]["spiral_rate"] == 1.5
    assert info["couples_per_sample"] == 3


# ----------------------------------------------------------------------------------------------
# Calibration: targets that count outcomes honour the thresholds, and can fit them


TARGETS = """\
[calibrate]
params = ["distant_satisfaction"]
seed = 1
replicates = 2

[[target]]
name = "distant"
statistic = "share"
outcomes = "distant"
scenario = "anxious-secure"
set = ["couples=30", "days=40"]
value = 0.2
se = 0.05
source = "made up for a test"

[[target]]
name = "distant-strict"
statistic = "share"
outcomes = ["distant"]
scenario = "anxious-secure"
set = ["couples=30", "days=40", "labels.distant_satisfaction=0.9"]
value = 0.2
se = 0.05
source = "made up for a test"
"""


def test_calibration_targets_count_outcomes_with_the_thresholds(tmp_path, monkeypatch):
    from sim.calibrate import evaluate
    from sim.targets import load_targets

    monkeypatch.setenv("RELSIM_ENGINE", ENGINE)
    path = tmp_path / "targets.toml"
    path.write_text(TARGETS, encoding="utf-8")
    found = load_targets(path)
    assert len(found.runs) == 2  # the thresholds make it another run
    low = evaluate(found, {"distant_satisfaction": 0.2}, engine=ENGINE)
    high = evaluate(found, {"distant_satisfaction": 0.7}, engine=ENGINE)
    assert low["distant"] < high["distant"]
    # A scenario's own threshold wins over the fitted one, as a scenario's dynamics do.
    assert low["distant-strict"] == high["distant-strict"] > high["distant"]
    with pytest.raises(ValueError, match="not a dynamics parameter or label threshold"):
        load_targets(path, params=["distant_satisfation"])


def test_calibration_fits_a_threshold_and_writes_it_under_labels(tmp_path, monkeypatch):
    import tomllib

    from sim.calibrate import calibrate, fitted_scenario_toml
    from sim.scenario import scenario_from_dict
    from sim.targets import load_targets

    monkeypatch.setenv("RELSIM_ENGINE", ENGINE)
    path = tmp_path / "targets.toml"
    path.write_text(TARGETS.split('[[target]]\nname = "distant-strict"')[0], encoding="utf-8")
    found = load_targets(path)
    folder = tmp_path / "cal"
    folder.mkdir()
    result = calibrate(found, folder, budget=3, seed=1, engine=ENGINE)
    assert 0.0 <= result.best["distant_satisfaction"] <= 1.0
    text = fitted_scenario_toml(result)
    data = tomllib.loads(text)
    assert data["labels"]["distant_satisfaction"] == pytest.approx(
        result.best["distant_satisfaction"], rel=1e-5
    )
    assert "distant_satisfaction" not in data.get("dynamics", {})
    assert scenario_from_dict(data, name="fitted").labels["distant_satisfaction"] > 0
