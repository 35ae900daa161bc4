"""Fuzzing the scenario loader: whatever it is given, it either succeeds or says why.

Random documents (near-valid ones built from the real keys, and arbitrary ones), random
``--set`` overrides and random file bytes must never raise anything but ``ScenarioError``.
Hypothesis runs derandomized, so the examples are the same on every run (no flakes).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.params import DYNAMICS, INTERVENTIONS, PERSON
from sim.scenario import (
    TOP_LEVEL,
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_from_dict,
)

FUZZ = settings(derandomize=True, max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip

words = st.sampled_from(["secure", "anxious", "avoidant", "fearful", "anxous", "random", "",
                         *INTERVENTIONS, "therapie"]) | st.text(max_size=8)  # fmt: skip
numbers = (st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from([0, 1, 0.5, 20, 180, -1, 1.7, 2.5]))  # fmt: skip
scalars = numbers | words | st.booleans() | st.none()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                      max_leaves=12)  # fmt: skip
keys = st.sampled_from([*TOP_LEVEL, *PERSON, *DYNAMICS, "style", "kind", "day", "mix",
                        "pairing", "x", "y", "param", "values", "start", "stop", "num",
                        "replicates", "nonsense"])  # fmt: skip


def _partner():
    return st.fixed_dictionaries({}, optional={"style": words, **dict.fromkeys(PERSON, numbers)})


def _axis():
    params = st.sampled_from(["partner_a.anxiety", "partner_b.avoidance", "dynamics.burnout",
                              "dynamics.relief_decay", "partner_a.nothing", "speed"])  # fmt: skip
    return st.fixed_dictionaries({}, optional={
        "param": params | scalars, "values": st.lists(numbers, max_size=4) | scalars,
        "start": numbers, "stop": numbers, "num": numbers | scalars,
    })  # fmt: skip


near_valid = st.fixed_dictionaries({}, optional={
    "name": words | scalars,
    "description": words | scalars,
    "days": numbers | scalars,
    "seed": numbers,
    "couples": numbers,
    "partner_a": _partner() | scalars,
    "partner_b": _partner() | scalars,
    "dynamics": st.dictionaries(st.sampled_from([*DYNAMICS, "relief_decy"]), numbers | scalars,
                                max_size=4) | scalars,
    "interventions": st.lists(st.fixed_dictionaries(
        {}, optional={"kind": words, "day": numbers | scalars, "when": scalars}), max_size=3)
        | scalars,
    "population": st.fixed_dictionaries({}, optional={
        "couples": numbers, "mix": st.dictionaries(words, numbers | scalars, max_size=3) | scalars,
        "pairing": words}) | scalars,
    "sweep": st.fixed_dictionaries({}, optional={"x": _axis() | scalars, "y": _axis() | scalars,
                                                 "replicates": numbers | scalars}) | scalars,
})  # fmt: skip
anything = st.dictionaries(keys | st.text(max_size=6), values, max_size=6)
overrides = st.lists(
    st.builds(lambda k, v: f"{k}={v}", st.sampled_from(
        ["days", "partner_a.style", "partner_a.anxiety", "dynamics.relief_decay", "sweep.x.num",
         "population.couples", "interventions", "a..b", "", "partner_a.style.deep"]),
        st.sampled_from(["1", "-3", "1.7", "anxious", "anxous", "[1,", "true", "nan", "inf",
                         '[{kind="therapy"}]', "{}", "'x'", "1e999", "0x10", "a b"]))
    | st.text(max_size=12),
    max_size=3,
)  # fmt: skip


def _check(document, sets=()):
    try:
        scenario = scenario_from_dict(document, file="fuzz.toml", overrides=sets)
    except ScenarioError as error:
        assert str(error)  # a message a person can read
        return
    assert isinstance(scenario, Scenario)
    try:
        scenario.setup()
        scenario.resolved()
    except ScenarioError:
        pass


@FUZZ
@given(document=near_valid, sets=overrides)
def test_near_valid_documents_never_crash_the_loader(document, sets):
    _check(document, sets)


@FUZZ
@given(document=anything)
def test_arbitrary_documents_never_crash_the_loader(document):
    _check(document)


@FUZZ
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_arbitrary_file_contents_never_crash_the_loader(raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_bytes(raw)
        try:
            load_scenario(path)
        except ScenarioError as error:
            assert "fuzz.toml" in str(error)


@FUZZ
@given(depth=st.integers(min_value=0, max_value=3000), kind=st.sampled_from(["{a = ", "["]),
       where=st.sampled_from(["x", "dynamics.x", "sweep.x"]))  # fmt: skip
def test_any_nesting_depth_is_refused_or_read_never_a_recursion_error(depth, kind, where):
    closing = "}" if kind.startswith("{") else "]"
    text = f"{where} = " + kind * depth + "1" + closing * depth + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "deep.toml"
        path.write_text(text)
        try:
            load_scenario(path)
        except ScenarioError as error:
            assert "deep.toml" in str(error)
            if depth > 16:
                assert "levels deep" in str(error)


@FUZZ
@given(text=st.text(max_size=400))
def test_any_description_is_refused_or_prints_harmlessly(text):
    from sim.scenario import printable

    try:
        scenario = scenario_from_dict({"description": text}, file="fuzz.toml")
    except ScenarioError as error:
        assert "description" in str(error) and str(error).isprintable()
        return
    shown = printable(scenario.description)
    assert shown.isprintable() and "\n" not in shown and "\x1b" not in shown
    assert len(scenario.description) <= 300


@FUZZ
@given(document=anything.map(lambda d: {**d, "\x1b[2Jkey": "\x1b]0;x\x07"}))
def test_error_messages_are_always_printable(document):
    try:
        scenario_from_dict(document, file="fuzz.toml")
    except ScenarioError as error:
        assert str(error).isprintable()
