"""docs/ODD.md stays in step with the code: its parameter tables and its list of mechanisms."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from sim.engine import rules

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"


def _table_script():
    path = ROOT / "docs" / "make_param_table.py"
    spec = importlib.util.spec_from_file_location("make_param_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_parameter_tables_are_the_generated_ones():
    # Section 9 must be exactly what docs/make_param_table.py writes from sim.params and the
    # intervention, culture, relationship and label constants: a default changed in the code
    # without rerunning `python docs/make_param_table.py --write` fails here.
    script = _table_script()
    assert script.region(ODD.read_text(encoding="utf-8")) == script.markdown()


def test_every_parameter_appears_in_the_odd_table():
    # Guards the generator itself: a parameter it left out would pass the test above.
    from sim.params import DYNAMICS, LABEL_THRESHOLDS, PERSON, RUN

    region = _table_script().region(ODD.read_text(encoding="utf-8"))
    for table in (PERSON, DYNAMICS, RUN, LABEL_THRESHOLDS):
        for name in table:
            assert f"`{name}`" in region, name


def test_region_without_markers_is_a_clear_error():
    with pytest.raises(ValueError, match="param-table:start"):
        _table_script().region("# no tables here\n")


@pytest.mark.parametrize("name", [n for n in rules.__all__ if n != "clip01"])
def test_every_rule_is_named_in_the_odd(name):
    # Every mechanism of sim/engine/rules.py is documented: named as code (`name`) in docs/ODD.md.
    text = ODD.read_text(encoding="utf-8")
    assert re.search(rf"`(rules\.)?{name}`", text), f"rules.{name} is not described in docs/ODD.md"
