"""Figures: the expected panels and words, no pyplot state, deterministic PNG bytes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim import plots
from sim.simulation import Setup, simulate
from sim.sweep import METRIC_COLUMNS, SweepAxis, SweepTable

REPO = Path(__file__).resolve().parents[1]


class _Named:
    name = "anxious-avoidant"
    description = "An anxious partner asks, an avoidant one pulls back."


@pytest.fixture(scope="module")
def result():
    setup = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, couples=20,
                  days=45, seed=4)  # fmt: skip
    return simulate(setup, record_daily=True)


@pytest.fixture(scope="module")
def table() -> SweepTable:
    # A hand-made grid whose spiraling share rises with both axes, crossing one half.
    x = SweepAxis("partner_a.anxiety", (0.0, 0.5, 1.0))
    y = SweepAxis("partner_b.avoidance", (0.0, 0.5, 1.0))
    rows = []
    for ax_value in x.values:
        for ay_value in y.values:
            share = (ax_value + ay_value) / 2
            row = {x.param: ax_value, y.param: ay_value}
            row.update(dict.fromkeys(METRIC_COLUMNS, 0.0))
            row.update(
                couples=10,
                share_spiraling=share,
                share_stable=1 - share,
                share_spiraling_or_dissolved=share,
            )
            rows.append(row)
    return SweepTable(x, y, rows, replicates=10, days=90, seed=1)


def _png(fig: Figure, path: Path) -> bytes:
    return plots.save(fig, path).read_bytes()


def _texts(fig: Figure) -> str:
    return " | ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


def test_run_overview_has_every_panel(result):
    fig = plots.run_overview(result, _Named())
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes]
    for expected in ("Felt security (mean)", "Requests and answers", "Relief after an answer",
                     "Exhaustion (mean)", "Trust (mean)", "Satisfaction (mean)",
                     "How the couples ended", "Couples still together"):  # fmt: skip
        assert expected in titles
    assert any(t.startswith("Healthy or excessive?") for t in titles)
    words = _texts(fig)
    assert "anxious-avoidant: 20 couples, 45 days, seed 4" in words
    assert "An anxious partner asks" in words
    assert "Day" in [ax.get_xlabel() for ax in fig.axes]


def test_run_overview_without_a_scenario(result, tmp_path):
    fig = plots.run_overview(result)
    assert "relsim run" in fig.get_suptitle()
    assert _png(fig, tmp_path / "a.png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_phase_diagram_axes_in_plain_words_boundary_and_colour_bar(table):
    fig = plots.phase_diagram(table, _Named())
    main, colour_bar = fig.axes
    assert main.get_xlabel() == "Seeker's anxiety (partner A)"
    assert main.get_ylabel() == "Partner's avoidance (partner B)"
    assert colour_bar.get_ylabel() == "Share of couples spiraling or dissolved"
    assert "anxious-avoidant" in main.get_title()
    assert len(main.collections) == 2  # the grid and the boundary at one half
    assert "Boundary: half the couples spiraling or dissolved" in _texts(fig)


def test_phase_diagram_of_another_metric(table):
    fig = plots.phase_diagram(table, column="mean_trust")
    assert fig.axes[1].get_ylabel() == "Mean trust"
    assert len(fig.axes[0].collections) == 1  # no boundary for a non-share


def test_small_pieces_return_labelled_axes(result):
    ax = plots.couple_timeseries(None, result.daily, couple=2, variable="trust")
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() == "Day"
    assert [line.get_label() for line in ax.get_lines()] == ["Partner A", "Partner B"]
    assert len(ax.get_lines()[0].get_xdata()) == 45
    mean_ax = plots.couple_timeseries(plots.new_figure(), result.daily_mean)
    assert mean_ax.get_title() == "Felt security (0-1)"

    bars = plots.outcome_bars(None, result.outcomes)
    assert [t.get_text() for t in bars.get_yticklabels()] == [
        "Stable",
        "Spiraling",
        "Distant",
        "Dissolved",
    ]
    assert bars.get_xlabel() == "Couples"

    hist = plots.request_rate_histogram(None, result.couples)
    assert hist.get_xlabel() == "Requests for reassurance per day (the seeker)"
    assert hist.get_ylabel() == "Couples"

    table_ax = plots.aspects_table(None, result.aspects())
    cells = {
        key: cell.get_text().get_text() for key, cell in table_ax.tables[0].get_celld().items()
    }
    assert cells[(0, 0)] == "Aspect"
    assert cells[(0, 4)] == "Verdict"
    assert cells[(1, 0)] == "Frequency"
    assert cells[(1, 4)] in ("healthy", "in between", "excessive")


def test_outcome_shares_by_pairing_from_counts_and_from_a_table(result):
    counts = {"secure + secure": {"stable": 9, "distant": 1}, "anxious + avoidant": result.outcomes}
    ax = plots.outcome_shares_by_pairing(None, counts)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["secure + secure", "anxious + avoidant"]
    assert ax.get_xlabel() == "Share of couples"
    grouped = plots.outcome_shares_by_pairing(None, result.couples)
    assert [t.get_text() for t in grouped.get_yticklabels()] == ["anxious + avoidant"]


def test_intervention_comparison_shows_each_scenario_share():
    ax = plots.intervention_comparison(None, {"baseline": {"spiraling": 8, "stable": 2},
                                              "therapy": 0.1})  # fmt: skip
    assert [t.get_text() for t in ax.get_yticklabels()] == ["baseline", "therapy"]
    assert [round(p.get_width(), 6) for p in ax.patches] == [0.8, 0.1]
    assert ax.get_xlabel() == "Share of couples spiraling"
    with pytest.raises(ValueError, match="unknown outcome"):
        plots.intervention_comparison(None, {"a": 0.1}, outcome="happy")


def test_png_bytes_are_deterministic(result, table, tmp_path):
    first = _png(plots.run_overview(result, _Named()), tmp_path / "one.png")
    second = _png(plots.run_overview(result, _Named()), tmp_path / "two.png")
    assert first == second
    assert b"Software" not in first and b"matplotlib" not in first.lower()
    assert _png(plots.phase_diagram(table), tmp_path / "p1.png") == _png(
        plots.phase_diagram(table), tmp_path / "p2.png"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.png", "p1.png", "p2.png", "two.png"]


def test_figures_leave_global_settings_alone(result):
    before = dict(matplotlib.rcParams)
    plots.run_overview(result)
    assert dict(matplotlib.rcParams) == before


def test_plots_never_import_pyplot():
    code = ("import sys, sim.plots, sim.simulation as s; "
            "sim.plots.run_overview(s.simulate(s.Setup(couples=3, days=5))); "
            "assert 'matplotlib.pyplot' not in sys.modules")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


def test_bad_inputs_are_clear(result):
    with pytest.raises(ValueError, match="unknown variable"):
        plots.couple_timeseries(None, result.daily, variable="mood")
    with pytest.raises(ValueError, match="couple must be in"):
        plots.couple_timeseries(None, result.daily, couple=99)
    with pytest.raises(ValueError, match="who must be"):
        plots.request_rate_histogram(None, result.couples, who="c")
    assert np.isfinite(result.daily_mean).all()
