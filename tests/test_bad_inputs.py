"""Bad input: each case exits with status 2, names the problem, shows no traceback, writes nothing.

Every case runs in an empty folder; ``bad.toml`` there holds the case's scenario file (if any).
After the call the folder must hold nothing but that file.
"""

from __future__ import annotations

import pytest

GOOD = """\
days = 20
couples = 5
[partner_a]
style = "anxious"
[partner_b]
style = "avoidant"
"""

# (case id, contents of bad.toml or None, command line, words the message must contain)
CASES = [
    ("malformed TOML", "days = = 3\n", ["run", "bad.toml"], ["bad.toml", "not valid TOML"]),
    ("not UTF-8", b"days = 3 \xff\n", ["run", "bad.toml"], ["bad.toml", "UTF-8"]),
    ("unknown top-level key", GOOD + "dayz = 3\n", ["run", "bad.toml"],
     ["dayz", "unknown key"]),
    ("unknown partner key", GOOD.replace('style = "anxious"', 'style = "anxious"\nanxeity = 1'),
     ["run", "bad.toml"], ["partner_a.anxeity", "did you mean 'anxiety'?"]),
    ("style typo", GOOD.replace('"anxious"', '"anxous"'), ["run", "bad.toml"],
     ["partner_a.style", '"anxous"', "did you mean 'anxious'?", "secure, anxious"]),
    ("negative days", GOOD.replace("days = 20", "days = -5"), ["run", "bad.toml"],
     ["days = -5", "out of range", "1 to 3650"]),
    ("fractional days", GOOD.replace("days = 20", "days = 2.5"), ["run", "bad.toml"],
     ["days", "whole number"]),
    ("anxiety 1.7", GOOD + "", ["run", "bad.toml", "--set", "partner_a.anxiety=1.7"],
     ["partner_a.anxiety = 1.7", "out of range", "0 to 1"]),
    ("anxiety in the file 1.7", GOOD.replace('"anxious"', '"anxious"\nanxiety = 1.7'),
     ["run", "bad.toml"], ["bad.toml", "partner_a.anxiety = 1.7"]),
    ("text where a number belongs", GOOD + "[dynamics]\nrelief_decay = \"fast\"\n",
     ["run", "bad.toml"], ["dynamics.relief_decay", "must be a number"]),
    ("unknown dynamics", GOOD + "[dynamics]\nrelief_decy = 1\n", ["run", "bad.toml"],
     ["dynamics.relief_decy", "did you mean 'relief_decay'?"]),
    ("unknown intervention", GOOD + '[[interventions]]\nkind = "therapie"\nday = 3\n',
     ["run", "bad.toml"], ["interventions[0].kind", "did you mean 'therapy'?"]),
    ("intervention on a negative day", GOOD + '[[interventions]]\nkind = "therapy"\nday = -1\n',
     ["run", "bad.toml"], ["interventions[0].day", "out of range"]),
    ("population with partners", GOOD + "[population]\nmix = { secure = 1 }\n",
     ["run", "bad.toml"], ["population", "cannot have both"]),
    ("unknown style in a mix", "[population]\nmix = { secure = 1, anxios = 1 }\n",
     ["run", "bad.toml"], ["population.mix", "did you mean 'anxious'?"]),
    ("unknown pairing", "[population]\nmix = { secure = 1 }\npairing = \"arranged\"\n",
     ["run", "bad.toml"], ["population.pairing", "random"]),
    ("missing file", None, ["run", "nowhere.toml"], ["nowhere.toml", "no such scenario file"]),
    ("unknown bundled name", None, ["run", "anxious-avoidnt"],
     ["anxious-avoidnt", "did you mean 'anxious-avoidant'?"]),
    ("bad --set key", None, ["run", "anxious-avoidant", "--set", "dynamic.relief_decay=2"],
     ["dynamic.relief_decay", "did you mean 'dynamics'?"]),
    ("bad --set nested key", None, ["run", "anxious-avoidant", "--set", "partner_a.style.x=1"],
     ["partner_a.style", "not a table"]),
    ("--set without =", None, ["run", "anxious-avoidant", "--set", "days"], ["KEY=VALUE"]),
    ("bad --set value", None, ["run", "anxious-avoidant", "--set", "days=[1,"],
     ["days", "cannot be read as a value"]),
    ("--set value of the wrong type", None, ["run", "anxious-avoidant", "--set", "days=true"],
     ["days = True", "must be a number"]),
    ("non-numeric --days", None, ["run", "anxious-avoidant", "--days", "ten"],
     ["--days", "'ten' is not a whole number"]),
    ("zero --couples", None, ["run", "anxious-avoidant", "--couples", "0"],
     ["--couples", "too small"]),
    ("negative --seed", None, ["run", "anxious-avoidant", "--seed", "-1"], ["--seed"]),
    ("unknown option", None, ["run", "anxious-avoidant", "--dayz", "3"],
     ["unrecognized arguments: --dayz"]),
    ("sweep without [sweep]", None, ["sweep", "anxious-avoidant"],
     ["no [sweep] table", "phase-levers"]),
    ("bad sweep param", None, ["sweep", "phase-levers", "--set", "sweep.x.param=dynamics.speed"],
     ["sweep.x.param", "is not a parameter that can be swept"]),
    ("sweep value out of range", None,
     ["sweep", "phase-levers", "--set", "sweep.x.values=[0.5, 11]", "--set", "sweep.x.start=0"],
     ["sweep.x", "either values"]),
    ("sweep axis values out of range", "[sweep]\nx = { param = \"partner_a.anxiety\", values = "
     "[0.2, 1.5] }\ny = { param = \"dynamics.relief_decay\", values = [1.0] }\n",
     ["sweep", "bad.toml"], ["sweep.x.values[1] = 1.5", "out of range"]),
    ("sweep axes the same", "[sweep]\nx = { param = \"dynamics.burnout\", values = [0.2] }\n"
     "y = { param = \"dynamics.burnout\", values = [0.3] }\n", ["sweep", "bad.toml"],
     ["sweep.y.param", "same"]),
    ("zero workers", None, ["sweep", "phase-levers", "--workers", "0"], ["--workers"]),
    ("bad scheduler address", None, ["sweep", "phase-levers", "--scheduler", "cluster"],
     ["--scheduler", "tcp://"]),
    ("compare with a typo", None, ["compare", "anxious-avoidant", "secure-secur"],
     ["did you mean 'secure-secure'?"]),
    ("unknown sensitivity method", None, ["sensitivity", "anxious-avoidant", "--method", "fast"],
     ["--method", "invalid choice"]),
    ("bad scenario name in file", 'name = "../escape"\n', ["run", "bad.toml"],
     ["name", "not a usable name"]),
    ("dynamics key without its table", None,
     ["run", "anxious-avoidant", "--set", "relief_decay=2"],
     ["relief_decay", "did you mean 'dynamics.relief_decay'?"]),
    ("too many couples, range in plain digits", None,
     ["run", "anxious-avoidant", "--couples", "100000000"], ["10000000"]),
    # issue 14, items 11-15
    ("inline tables 5000 deep", "x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n",
     ["run", "bad.toml"], ["bad.toml", "more than 16 levels deep"]),
    ("a header 3000 deep", "[" + ".".join(["a"] * 3000) + "]\n", ["run", "bad.toml"],
     ["bad.toml", "more than 16 levels deep"]),
    ("900 levels under dynamics", GOOD + "[dynamics" + ".x" * 900 + "]\n", ["run", "bad.toml"],
     ["bad.toml", "more than 16 levels deep"]),
    ("a --set list 5000 deep", None,
     ["run", "anxious-avoidant", "--set", "days=" + "[" * 5000 + "]" * 5000],
     ["--set", "days", "more than 16 levels deep"]),
    ("a --set list 20 deep", None,
     ["run", "anxious-avoidant", "--set", "days=" + "[" * 20 + "]" * 20],
     ["--set", "days", "more than 16 levels deep"]),
    ("a 1 MB description", ('description = "' + "x" * 1_000_000 + '"\n') + GOOD,
     ["run", "bad.toml"], ["description", "1000000 characters", "is too long", "at most 300"]),
    ("a name with a trailing newline", 'name = "abc\\n"\n' + GOOD, ["run", "bad.toml"],
     ["name", "not a usable name"]),
    ("a name of 101 characters", f'name = "{"n" * 101}"\n' + GOOD, ["run", "bad.toml"],
     ["name", "up to 100"]),
    ("an escape code in the description", 'description = "\\u001b[2J\\u001b[31mred"\n' + GOOD,
     ["run", "bad.toml"], ["description", "control character", "\\x1b", "plain text"]),
    ("a bell in a --set description", None,
     ["run", "anxious-avoidant", "--set", 'description="ding\\u0007"'],
     ["description", "control character", "\\x07"]),
    ("an intervention after the last day", GOOD.replace("days = 20", "days = 5")
     + '[[interventions]]\nkind = "communication"\nday = 1000\n', ["run", "bad.toml"],
     ["interventions[0].day = 1000", "after the last day", "days = 5", "0 to 4"]),
    ("therapy starting on day `days`", GOOD + '[[interventions]]\nkind = "therapy"\nday = 20\n',
     ["run", "bad.toml"], ["interventions[0].day = 20", "after the last day", "0 to 19"]),
    ("an intervention set after the last day", None,
     ["run", "anxious-avoidant", "--set", 'interventions=[{kind="therapy", day=400}]'],
     ["--set", "interventions[0].day = 400", "0 to 179"]),
    # outcome-label thresholds (sim.params.LABEL_THRESHOLDS, [labels])
    ("label threshold out of range", None,
     ["run", "anxious-secure", "--set", "labels.spiral_rate=-1"],
     ["labels.spiral_rate = -1", "out of range", "0 to 24 (requests per day, last 30 days)"]),
    ("label threshold in the file out of range", GOOD + "[labels]\nspiral_trust = 1.5\n",
     ["run", "bad.toml"], ["bad.toml", "labels.spiral_trust = 1.5", "0 to 1"]),
    ("label threshold typo", GOOD + "[labels]\ndistant_satisfation = 0.5\n", ["run", "bad.toml"],
     ["labels.distant_satisfation", "unknown key", "did you mean 'distant_satisfaction'?"]),
    ("label threshold as text", None,
     ["run", "anxious-secure", "--set", "labels.excessive_rate=often"],
     ["labels.excessive_rate", "must be a number"]),
    ("label threshold without its table", None,
     ["run", "anxious-secure", "--set", "spiral_rate=1.5"],
     ["spiral_rate", "did you mean 'labels.spiral_rate'?"]),
    ("labels not a table", "labels = 2\n" + GOOD, ["run", "bad.toml"],
     ["labels = 2", "must be a table"]),
    ("label threshold in a sensitivity run", None,
     ["sensitivity", "anxious-secure", "--set", "labels.distant_contact=1000"],
     ["labels.distant_contact = 1000", "0 to 100"]),
]  # fmt: skip


@pytest.mark.parametrize(("contents", "argv", "words"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])  # fmt: skip
def test_bad_input_exits_2_naming_the_problem(relsim, tmp_path, monkeypatch, contents, argv,
                                              words):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    if contents is not None:
        path = tmp_path / "bad.toml"
        if isinstance(contents, bytes):
            path.write_bytes(contents)
        else:
            path.write_text(contents)
    result = relsim(*argv)
    assert result.status == 2, result.err
    assert result.out == ""
    for word in words:
        assert word in result.err
    assert "Traceback" not in result.err
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == (["bad.toml"] if contents is not None else [])


def test_existing_output_folder_is_refused_before_running(relsim, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "precious.txt").write_text("do not touch")
    result = relsim("run", "anxious-avoidant", "--out", out)
    assert result.status == 2
    assert str(out) in result.err and "already exists" in result.err and "--force" in result.err
    assert [p.name for p in out.iterdir()] == ["precious.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_output_that_is_a_file_is_refused(relsim, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = relsim("run", "anxious-avoidant", "--out", target, "--force")
    assert result.status == 2
    assert "not a folder" in result.err
    assert target.read_text() == "x"


def test_error_messages_never_carry_a_raw_escape_code(relsim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.toml").write_text('description = "\\u001b]0;owned\\u0007 x"\n' + GOOD)
    result = relsim("run", "bad.toml")
    assert result.status == 2
    assert "\x1b" not in result.err and "\x07" not in result.err
    assert "\\x1b]0;owned\\x07" in result.err


def test_a_shortened_run_keeps_a_late_intervention_with_a_note(relsim, tmp_path):
    out = tmp_path / "run"
    result = relsim("run", "anxious-avoidant-therapy", "--days", "20", "--couples", "4",
                    "--out", out)  # fmt: skip
    assert result.status == 0, result.err
    assert ("note: interventions[0] (therapy from day 60) starts after the last day of this "
            "20-day run, so it has no effect") in result.err  # fmt: skip


def test_dollars_in_a_description_are_drawn_as_text(relsim, tmp_path, monkeypatch):
    import sim.results

    titles = []
    real = sim.results.save_figure

    def spy(figure, path):
        titles.extend(text.get_text() for text in figure.texts)
        real(figure, path)

    monkeypatch.setattr(sim.results, "save_figure", spy)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "odd.toml").write_text('description = "odd $^^$ text"\n' + GOOD)
    result = relsim("run", "odd.toml", "--days", "5", "--out", "out")
    assert result.status == 0, result.err
    assert "  odd $^^$ text" in result.out  # printed as written
    assert r"odd \$^^\$ text (with changes: days=5)" in titles  # escaped for Matplotlib
    assert (tmp_path / "out" / "figure.png").stat().st_size > 10_000


def test_numpy_numbers_are_accepted_from_python():
    import numpy as np

    from sim.scenario import scenario_from_dict

    scenario = scenario_from_dict(
        {
            "days": np.int64(30),
            "couples": np.int32(4),
            "partner_a": {"anxiety": np.float64(0.7)},
            "interventions": [{"kind": "therapy", "day": np.int64(3)}],
        }
    )
    assert (scenario.days, scenario.couples, scenario.interventions[0]["day"]) == (30, 4, 3)
    assert type(scenario.days) is int and type(scenario.partner_a["anxiety"]) is float


def test_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_range_messages_show_whole_numbers_without_an_exponent(relsim):
    result = relsim("run", "anxious-avoidant", "--couples", "100000000")
    assert result.status == 2
    assert "e+0" not in result.err
