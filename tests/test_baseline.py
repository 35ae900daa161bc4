"""Regression: seed-pinned summary numbers must not change unless the model changes on purpose.

If this fails after an intended change (new defaults, a changed rule), look at what moved, then
regenerate the file and commit it with the change:

    python tests/regenerate_baseline.py
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
#: Absolute and relative tolerance. The runs are deterministic; 1e-9 only absorbs the last-digit
#: differences a different CPU or compiler could make in float64 sums, never a modelled effect.
TOLERANCE = 1e-9
HOW_TO_FIX = "if the model changed on purpose, run `python tests/regenerate_baseline.py`"


def _load_script():
    # Loaded by path, so the test works under any pytest import mode.
    spec = importlib.util.spec_from_file_location("regenerate_baseline",
                                                  HERE / "regenerate_baseline.py")  # fmt: skip
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _load_script()
BASELINE = json.loads((HERE / "baseline.json").read_text(encoding="utf-8"))


def _differences(expected, got, where: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(got, dict):
        found = (
            [f"{where}: keys {sorted(expected)} != {sorted(got)}"]
            if set(expected) != set(got)
            else []
        )
        for key in expected.keys() & got.keys():
            found += _differences(expected[key], got[key], f"{where}.{key}")
        return found
    if isinstance(expected, int | float) and isinstance(got, int | float):
        if math.isclose(expected, got, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
            return []
    elif expected == got:
        return []
    return [f"{where}: baseline {expected!r}, now {got!r}"]


def test_baseline_covers_every_case_of_the_script():
    assert list(BASELINE) == list(SCRIPT.CASES), HOW_TO_FIX
    for name, case in SCRIPT.CASES.items():
        assert BASELINE[name]["setup"] == json.loads(json.dumps(case["setup"])), (
            f"{name}: the setup in baseline.json differs from the script's; {HOW_TO_FIX}"
        )


@pytest.mark.parametrize("name", list(SCRIPT.CASES))
def test_summary_matches_the_baseline(name):
    got = json.loads(json.dumps(SCRIPT.summarise(BASELINE[name])))
    problems = _differences(BASELINE[name]["expected"], got, name)
    if problems:
        pytest.fail("\n".join([*problems, HOW_TO_FIX]), pytrace=False)


def test_differences_are_reported_with_their_place():
    assert _differences({"a": 1.0}, {"a": 1.0 + 1e-12}) == []
    assert _differences({"a": {"b": 2}}, {"a": {"b": 3}}) == [".a.b: baseline 2, now 3"]
    assert _differences({"a": None}, {"a": None}) == []
    assert _differences({"a": None}, {"a": 0.0}) == [".a: baseline None, now 0.0"]
