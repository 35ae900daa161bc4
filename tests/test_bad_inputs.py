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


def test_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_range_messages_show_whole_numbers_without_an_exponent(relsim):
    result = relsim("run", "anxious-avoidant", "--couples", "100000000")
    assert result.status == 2
    assert "e+0" not in result.err
