"""Every teaching notebook runs from top to bottom without an error, and is committed clean.

The notebooks are executed with nbclient in a fresh kernel started from the interpreter that runs
the tests (jupyter_client swaps the kernelspec's ``python`` for ``sys.executable``), with the
non-interactive Matplotlib backend and the repository root on the path, so that a fresh checkout
needs no install step and no display.
"""

from __future__ import annotations

import os
import pathlib

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from sim import Setup, teaching
from sim.simulation import build_kernel, couple_columns

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED_TOPICS = (
    "01-reassurance-cycle",
    "02-why-relief-gets-shorter",
    "03-tipping-points",
    "04-what-helps",
    "05-classroom-population",
)
# A guard against a hung kernel, not a speed target: warm, each notebook takes 2-20 s here, but a
# cell that compiles the engine (Numba) on a loaded 2-core machine took more than two minutes.
SECONDS_PER_NOTEBOOK = 600


def test_hourly_trace_is_the_engine_hour_by_hour():
    # The trace steps sim.engine.kernel.tick itself, so after N days it must hold exactly the state
    # the engine reaches by advancing N days (same seed, same couples).
    setup = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, couples=3,
                  days=6, seed=4)  # fmt: skip
    trace = teaching.hourly_trace(setup)
    kern, _ = build_kernel(setup, engine="numpy")
    kern.advance(6)
    np.testing.assert_array_equal(trace.states[-1], kern.S)
    np.testing.assert_array_equal(trace.asked.sum(axis=0), kern.recorder("requests"))
    np.testing.assert_array_equal(trace.answered.sum(axis=0), kern.recorder("answered"))
    assert np.all(trace.answered <= trace.asked)


def test_traced_relief_episodes_are_the_engines_relief_hours():
    # relief_episodes reads the engine's own episode counter, so over a run shorter than the
    # engine's first window its mean is couples.csv's relief_hours_first_30d, couple by couple.
    setup = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, couples=3,
                  days=20, seed=3)  # fmt: skip
    trace = teaching.hourly_trace(setup)
    kern, pop = build_kernel(setup, engine="numpy")
    kern.advance(20)
    expected = couple_columns(kern, pop)["relief_hours_first_30d_a"]
    for couple in range(3):
        episodes = trace.relief_episodes(person=0, couple=couple)
        assert len(episodes) > 0
        assert episodes[:, 1].mean() == pytest.approx(expected[couple])
        assert np.all(episodes[:, 1] >= 1)
        answered_hours = np.flatnonzero(trace.answered[:, 0, couple])
        assert set(episodes[:, 0].astype(int)) <= set(answered_hours)
    waits = trace.hours_to_next_request(person=0, couple=0)
    assert set(waits[:, 0].astype(int)) <= set(np.flatnonzero(trace.answered[:, 0, 0]))


def test_relief_fades_faster_with_habituation_and_leaves_doubt_in_anxious_people():
    trace, anxiety, habituation = teaching.relief_experiment([0.1, 0.9], [0.0, 0.6], hours=48)
    relief = trace.state("relief")[:, 0]
    threat = trace.state("threat")[:, 0].max(axis=0)
    fresh, used = (anxiety == 0.9) & (habituation == 0.0), (anxiety == 0.9) & (habituation == 0.6)
    assert relief[24, used][0] < relief[24, fresh][0]
    calm = (anxiety == 0.1) & (habituation == 0.0)
    assert threat[fresh][0] > threat[calm][0]


def test_plain_tables_align_and_accept_no_rows():
    text = teaching.format_table([("a", 0.5)], ("name", "share"))
    assert text.splitlines()[2] == "a     0.50"
    assert teaching.format_table([], ("day", "hours")).splitlines()[0] == "day  hours"


def test_the_five_topics_are_there():
    names = [path.stem for path in NOTEBOOKS]
    for topic in EXPECTED_TOPICS:
        assert topic in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: strip outputs before committing"
            assert cell.execution_count is None, f"{path.name}: strip execution counts"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_goals_questions_and_answers(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                     if c.cell_type == "markdown")  # fmt: skip
    assert "Learning goals" in text
    assert "**Question 1.**" in text
    assert "Teacher notes" in text


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))  # fmt: skip
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(book, kernel_name="python3", timeout=SECONDS_PER_NOTEBOOK,
                            resources={"metadata": {"path": str(path.parent)}})  # fmt: skip
    client.execute()
    errors = [out for cell in book.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]  # fmt: skip
    assert errors == []
