"""Every figure of relsim, one function per picture, shared by the CLI, notebooks and dashboard.

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas, never through
``pyplot``, so that library code leaves no global state behind and works in worker processes,
notebooks and the Solara app alike. Style: large type for projectors, axis labels in plain words,
Okabe-Ito colours (distinguishable with the common colour-vision deficiencies, and the same as the
dashboard's live charts), no timestamps, so one input always gives the same PNG bytes.

Big pictures return a ``Figure``: :func:`run_overview` (a run at a glance) and
:func:`phase_diagram` (a sweep). The small pieces draw into a target and return its ``Axes``; the
target may be an ``Axes``, a ``Figure`` (one axes is added to it) or ``None`` (a new figure):
:func:`couple_timeseries`, :func:`outcome_bars`, :func:`aspects_table`,
:func:`request_rate_histogram`, :func:`outcome_shares_by_pairing`, :func:`intervention_comparison`.
The teaching notebooks' :func:`plot_hourly` and :func:`plot_relief_fading` draw an hourly trace
(``sim.teaching``), :func:`bifurcation_diagram` a tipping-point scan and
:func:`sensitivity_ranking` a sensitivity analysis. :func:`save` writes a PNG deterministically
(atomically, through ``sim.results.write_atomically``). The dashboard's live charts are SVG,
drawn by ``sim.dashboard`` for speed.
"""

from __future__ import annotations

import functools
import io
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.ticker
import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .engine.kernel import DAILY_VARS, HOURS_PER_DAY
from .outcomes import LABELS, seeker_is_a
from .palette import OUTCOME_COLORS, PARTNER_COLORS
from .results import write_atomically

if TYPE_CHECKING:
    from .sensitivity import SensitivityResult
    from .trace import HourlyTrace

__all__ = [
    "DPI",
    "OUTCOME_COLORS",
    "PARTNER_COLORS",
    "aspects_table",
    "bifurcation_diagram",
    "couple_timeseries",
    "intervention_comparison",
    "new_figure",
    "outcome_bars",
    "outcome_shares_by_pairing",
    "phase_diagram",
    "plot_hourly",
    "plot_relief_fading",
    "request_rate_histogram",
    "run_overview",
    "save",
    "sensitivity_ranking",
]

#: Resolution of saved PNGs (dots per inch).
DPI = 100

_VERDICT_COLORS = {"healthy": "#D8F0E6", "in between": "#FCEFD2", "excessive": "#F6D5D0"}
_GREY = "#666666"

# Projector-friendly type; applied only while a figure is being built (matplotlib.rc_context),
# so the caller's settings are left as they were.
_STYLE = {
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.titleweight": "bold",
    "axes.labelsize": 13,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.8,
    "lines.linewidth": 2.2,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.hashsalt": "relsim",
}

_PLAIN = {
    "security": "Felt security (0-1)",
    "relief": "Relief (0-1)",
    "habituation": "Habituation (0-1)",
    "threat": "Threat (0-1)",
    "exhaustion": "Exhaustion (0-1)",
    "withdrawal": "Withdrawal (0-1)",
    "trust": "Trust in the partner (0-1)",
    "satisfaction": "Satisfaction (0-1)",
    "commitment": "Commitment (0-1)",
    "requests": "Requests for reassurance per day",
    "answered": "Requests answered per day",
}


def new_figure(width: float = 8.0, height: float = 5.0) -> Figure:
    """Return an empty figure (inches) on the Agg canvas, laid out with constrained layout."""
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _target(target: Axes | Figure | None, width: float = 8.0, height: float = 5.0) -> Axes:
    if isinstance(target, Axes):
        return target
    fig = target if isinstance(target, Figure) else new_figure(width, height)
    with matplotlib.rc_context(_STYLE):
        return fig.add_subplot()


def save(fig: Figure, path: str | os.PathLike) -> Path:
    """Write ``fig`` as a PNG at ``DPI`` with no timestamp or software tag; return the path.

    The file is written to a temporary name and renamed into place, so a reader never sees half
    a picture. The same figure always gives the same bytes.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return write_atomically(path, buffer.getvalue())


# ----------------------------------------------------------------------------------------------
# Small pieces


def couple_timeseries(
    target: Axes | Figure | None,
    daily: np.ndarray,
    couple: int = 0,
    variable: str = "security",
    *,
    title: str | None = None,
) -> Axes:
    """Plot one variable of both partners over the days of a run.

    Parameters
    ----------
    target : Axes, Figure or None
        Where to draw (see the module docstring).
    daily : numpy.ndarray
        Either every couple's record, shape ``(days, len(DAILY_VARS), 2, couples)``
        (``Result.daily``, needs ``record_daily=True``), of which ``couple`` is drawn, or the
        population means, shape ``(days, len(DAILY_VARS) + 1, 2)`` (``Result.daily_mean``).
    couple : int
        Which couple of a per-couple record.
    variable : str
        One of ``kernel.DAILY_VARS`` (default ``"security"``).
    title : str, optional
        Panel title; default the variable in words.

    Returns
    -------
    Axes

    """
    if variable not in DAILY_VARS:
        raise ValueError(f"unknown variable {variable!r}; allowed: {', '.join(DAILY_VARS)}")
    daily = np.asarray(daily)
    v = DAILY_VARS.index(variable)
    if daily.ndim == 4:
        if not 0 <= couple < daily.shape[3]:
            raise ValueError(f"couple must be in 0..{daily.shape[3] - 1}, got {couple}")
        series = daily[:, v, :, couple]
    elif daily.ndim == 3:
        series = daily[:, v, :]
    else:
        raise ValueError("daily must have shape (days, vars, 2, couples) or (days, vars + 1, 2)")
    ax = _target(target)
    with matplotlib.rc_context(_STYLE):
        days = np.arange(1, series.shape[0] + 1)
        for p, name in enumerate(("Partner A", "Partner B")):
            ax.plot(days, series[:, p], color=PARTNER_COLORS[p], label=name)
        ax.set_xlabel("Day")
        label = _PLAIN[variable]
        ax.set_ylabel(
            label.split(" (")[0] if variable not in ("requests", "answered") else "Per day"
        )
        ax.set_title(title or label)
        if variable not in ("requests", "answered"):
            ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(1, max(series.shape[0], 2))
        ax.legend(loc="best")
    return ax


def outcome_bars(
    target: Axes | Figure | None,
    outcomes: Mapping[str, int],
    *,
    title: str = "How the couples ended",
) -> Axes:
    """Horizontal bars: how many couples ended in each outcome, with counts and percentages.

    Parameters
    ----------
    target : Axes, Figure or None
        Where to draw (see the module docstring).
    outcomes : mapping
        Count per label of ``outcomes.LABELS`` (``Result.outcomes``); missing labels count 0.
    title : str
        Panel title.

    Returns
    -------
    Axes

    """
    ax = _target(target, 7.0, 4.0)
    counts = [int(outcomes.get(label, 0)) for label in LABELS]
    total = max(sum(counts), 1)
    with matplotlib.rc_context(_STYLE):
        positions = np.arange(len(LABELS))[::-1]
        ax.barh(positions, counts, color=[OUTCOME_COLORS[label] for label in LABELS], height=0.7)
        ax.set_yticks(positions, [label.capitalize() for label in LABELS])
        ax.set_xlim(0, max(max(counts), 1) * 1.45)
        for y, count in zip(positions, counts, strict=True):
            ax.text(count + total * 0.01, y, f" {count} ({100 * count / total:.0f}%)",
                    va="center", fontsize=12)  # fmt: skip
        ax.set_xlabel("Couples")
        ax.set_title(title)
        ax.grid(axis="y", visible=False)
    return ax


def aspects_table(ax: Axes | Figure | None, rows: Sequence[Mapping[str, object]]) -> Axes:
    """Draw the healthy-versus-excessive table with the run's measured values and verdicts.

    Parameters
    ----------
    ax : Axes, Figure or None
        Where to draw; the axes' frame is hidden.
    rows : sequence of mapping
        ``Result.aspects()``: each with ``aspect``, ``healthy``, ``excessive``, ``measure``,
        ``value`` and ``verdict``.

    Returns
    -------
    Axes

    """
    ax = _target(ax, 13.0, 4.0)
    header = ["Aspect", "Healthy", "Excessive", "Measured in this run", "Verdict"]
    widths = [0.15, 0.19, 0.19, 0.34, 0.13]
    wraps = [14, 20, 20, 38, 12]
    cells, colours = [], []
    for row in rows:
        measured = f"{row['measure']}: {float(row['value']):.2f}"  # type: ignore[arg-type]
        texts = [str(row["aspect"]).capitalize(), str(row["healthy"]), str(row["excessive"]),
                 measured, str(row["verdict"])]  # fmt: skip
        cells.append(["\n".join(textwrap.wrap(t, w)) for t, w in zip(texts, wraps, strict=True)])
        verdict_colour = _VERDICT_COLORS.get(str(row["verdict"]), "white")
        colours.append(["white"] * 4 + [verdict_colour])
    with matplotlib.rc_context(_STYLE):
        ax.set_axis_off()
        ax.set_title("Healthy or excessive? (the source article's table)")
        if not cells:
            ax.text(0.5, 0.5, "no rows", ha="center", va="center", transform=ax.transAxes)
            return ax
        table = ax.table(cellText=cells, colLabels=header, cellColours=colours, colWidths=widths,
                         loc="upper center", cellLoc="left")  # fmt: skip
        table.auto_set_font_size(False)
        table.set_fontsize(11.5)
        lines = [max(c.count("\n") + 1 for c in row) for row in cells]
        unit = 1.0 / (sum(lines) + 1.2 * len(lines) + 1.5)
        for (r, _), cell in table.get_celld().items():
            height = 1.5 * unit if r == 0 else (lines[r - 1] + 1.2) * unit
            cell.set_height(height)
            cell.set_edgecolor("#BBBBBB")
            if r == 0:
                cell.set_facecolor("#EEEEEE")
                cell.get_text().set_fontweight("bold")
    return ax


def request_rate_histogram(
    target: Axes | Figure | None,
    couples: Mapping[str, np.ndarray],
    *,
    who: str = "seeker",
    bins: int = 24,
) -> Axes:
    """Histogram of requests per day, first 30 days against last 30, with the article's bands.

    Parameters
    ----------
    target : Axes, Figure or None
        Where to draw (see the module docstring).
    couples : mapping
        The per-couple table (``Result.couples``) with ``request_rate_first_30d_a`` etc.
    who : {"seeker", "a", "b"}
        Whose requests: the partner who asked more in each couple, or partner A or B.
    bins : int
        Number of bars.

    Returns
    -------
    Axes

    """
    if who not in ("seeker", "a", "b"):
        raise ValueError(f"who must be 'seeker', 'a' or 'b', got {who!r}")

    def rate(window: str) -> np.ndarray:
        a = np.asarray(couples[f"request_rate_{window}_30d_a"], dtype=float)
        b = np.asarray(couples[f"request_rate_{window}_30d_b"], dtype=float)
        if who == "a":
            return a
        if who == "b":
            return b
        return np.where(seeker_is_a(couples), a, b)

    first, last = rate("first"), rate("last")
    top = max(float(np.nanmax(np.concatenate([first, last]))) if first.size else 0.0, 3.0)
    edges = np.linspace(0.0, top * 1.02, bins + 1)
    ax = _target(target, 8.0, 5.0)
    with matplotlib.rc_context(_STYLE):
        ax.axvspan(0, 1, color=OUTCOME_COLORS["stable"], alpha=0.10, lw=0)
        ax.axvspan(2, edges[-1], color=OUTCOME_COLORS["spiraling"], alpha=0.08, lw=0)
        ax.hist(first, bins=edges, color="#56B4E9", alpha=0.75, label="First 30 days")
        ax.hist(last, bins=edges, histtype="step", color="#000000", lw=2.4, label="Last 30 days")
        ax.set_xlim(0, edges[-1])
        whose = {"seeker": "the seeker", "a": "partner A", "b": "partner B"}[who]
        ax.set_xlabel(f"Requests for reassurance per day ({whose})")
        ax.set_ylabel("Couples")
        ax.set_title("How often people ask")
        ymax = ax.get_ylim()[1]
        ax.text(0.5, ymax * 0.97, "healthy", ha="center", va="top", color="#00664A")
        ax.text(min(2 + (edges[-1] - 2) / 2, 2.6), ymax * 0.97, "excessive", ha="center",
                va="top", color="#8E2A20")  # fmt: skip
        ax.legend(loc="center right")
    return ax


def _shares(counts: Mapping[str, int] | float) -> dict[str, float]:
    total = sum(int(counts.get(label, 0)) for label in LABELS)  # type: ignore[union-attr]
    return {label: int(counts.get(label, 0)) / max(total, 1) for label in LABELS}  # type: ignore[union-attr]


def outcome_shares_by_pairing(
    target: Axes | Figure | None,
    data: Mapping[str, Mapping[str, int]] | Mapping[str, np.ndarray],
    *,
    title: str = "How couples end, by pairing",
) -> Axes:
    """Stacked horizontal bars: the share of each outcome for each pairing of styles.

    Parameters
    ----------
    target : Axes, Figure or None
        Where to draw (see the module docstring).
    data : mapping
        Either ``{pairing name: outcome counts}`` (e.g. one ``Result.outcomes`` per scenario),
        or a per-couple table with ``style_a``, ``style_b`` and ``outcome`` columns (a population
        run), which is grouped by pairing ("anxious + avoidant"; order of partners ignored).
    title : str
        Panel title.

    Returns
    -------
    Axes

    """
    if "outcome" in data and "style_a" in data:
        styles_a = np.asarray(data["style_a"]).astype(str)
        styles_b = np.asarray(data["style_b"]).astype(str)
        labels = np.asarray(data["outcome"]).astype(str)
        pairs = np.array([" + ".join(sorted(p)) for p in zip(styles_a, styles_b, strict=True)])
        groups = {
            pair: {label: int(np.sum(labels[pairs == pair] == label)) for label in LABELS}
            for pair in sorted(set(pairs.tolist()))
        }
    else:
        groups = {str(name): dict(counts) for name, counts in data.items()}  # type: ignore[call-overload]
    names = list(groups)
    ax = _target(target, 9.0, 1.2 + 0.6 * max(len(names), 1))
    with matplotlib.rc_context(_STYLE):
        positions = np.arange(len(names))[::-1]
        left = np.zeros(len(names))
        for label in LABELS:
            share = np.array([_shares(groups[n])[label] for n in names])
            ax.barh(positions, share, left=left, color=OUTCOME_COLORS[label], height=0.7,
                    label=label.capitalize())  # fmt: skip
            for y, start, width in zip(positions, left, share, strict=True):
                if width >= 0.08:
                    ax.text(start + width / 2, y, f"{100 * width:.0f}%", ha="center",
                            va="center", color="white", fontsize=12)  # fmt: skip
            left += share
        ax.set_yticks(positions, names)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel("Share of couples")
        ax.set_title(title)
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.02), ncols=4, borderaxespad=1.6)
    return ax


def intervention_comparison(
    target: Axes | Figure | None,
    scenarios: Mapping[str, Mapping[str, int] | float],
    *,
    outcome: str = "spiraling",
    baseline: str | None = None,
) -> Axes:
    """Bar chart of the share of couples in one outcome (default spiraling) per scenario.

    Parameters
    ----------
    target : Axes, Figure or None
        Where to draw (see the module docstring).
    scenarios : mapping
        ``{scenario name: outcome counts or the share itself (0-1)}``, in the order to show.
    outcome : str
        Which outcome's share (one of ``outcomes.LABELS``).
    baseline : str, optional
        Name of the scenario without intervention; its share is drawn as a dashed line and its
        bar in grey. Default: the first scenario.

    Returns
    -------
    Axes

    """
    if outcome not in LABELS:
        raise ValueError(f"unknown outcome {outcome!r}; allowed: {', '.join(LABELS)}")
    names = list(scenarios)
    shares = []
    for name in names:
        value = scenarios[name]
        shares.append(float(value) if isinstance(value, int | float) else _shares(value)[outcome])
    base = baseline if baseline is not None else (names[0] if names else None)
    ax = _target(target, 9.0, 1.5 + 0.6 * max(len(names), 1))
    with matplotlib.rc_context(_STYLE):
        positions = np.arange(len(names))[::-1]
        colours = [_GREY if n == base else OUTCOME_COLORS[outcome] for n in names]
        ax.barh(positions, shares, color=colours, height=0.7)
        right = max([*shares, 0.1])
        for y, share in zip(positions, shares, strict=True):
            inside = share >= 0.25 * right
            ax.text(share - 0.01 * right if inside else share + 0.01 * right, y,
                    f"{100 * share:.0f}%", va="center", ha="right" if inside else "left",
                    color="white" if inside else "#000000", fontsize=12)  # fmt: skip
        handles = []
        if base in names:
            ax.axvline(shares[names.index(base)], color="#000000", ls="--", lw=1.5)
            handles.append(Line2D([], [], color="#000000", ls="--", lw=1.5,
                                  label=f"{base} (no change)"))  # fmt: skip
        ax.set_yticks(positions, names)
        ax.set_xlim(0, min(1.0, right * 1.1 + 0.02))
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel(f"Share of couples {outcome}")
        ax.set_title(f"Share of couples {outcome}")
        if handles:
            ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.08),
                      borderaxespad=0)  # fmt: skip
        ax.grid(axis="y", visible=False)
    return ax


# ----------------------------------------------------------------------------------------------
# Big pictures


def _relief_panel(ax: Axes, couples: Mapping[str, np.ndarray]) -> None:
    """Mean hours of relief per answered request, first 30 days against last 30, per partner."""

    def mean_hours(name: str) -> float:
        values = np.asarray(couples[name], dtype=float)
        values = values[np.isfinite(values)]
        return float(values.mean()) if values.size else np.nan

    width = 0.36
    for p, tag in enumerate("ab"):
        means = [mean_hours(f"relief_hours_first_30d_{tag}"),
                 mean_hours(f"relief_hours_last_30d_{tag}")]  # fmt: skip
        positions = np.arange(2) + (p - 0.5) * width
        bars = ax.bar(positions, np.nan_to_num(means), width=width, color=PARTNER_COLORS[p],
                      label=f"Partner {tag.upper()}")  # fmt: skip
        for bar, value in zip(bars, means, strict=True):
            text = "none" if not np.isfinite(value) else f"{value:.0f} h"
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), text, ha="center",
                    va="bottom", fontsize=11)  # fmt: skip
    ax.set_xticks([0, 1], ["First 30 days", "Last 30 days"])
    ax.set_ylabel("Hours until relief halves")
    ax.set_title("Relief after an answer")
    ax.margins(y=0.35)  # room above the tallest bar's label for the legend
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper center", ncols=2)


def _requests_panel(ax: Axes, daily_mean: np.ndarray) -> None:
    days = np.arange(1, daily_mean.shape[0] + 1)
    r, a = DAILY_VARS.index("requests"), DAILY_VARS.index("answered")
    for p, tag in enumerate("AB"):
        ax.plot(days, daily_mean[:, r, p], color=PARTNER_COLORS[p], label=f"{tag} asks")
        ax.plot(days, daily_mean[:, a, p], color=PARTNER_COLORS[p], ls=":", lw=2.0,
                label=f"{tag} is answered")  # fmt: skip
    ax.set_xlabel("Day")
    ax.set_ylabel("Per person a day, couples together")
    ax.set_title("Requests and answers")
    ax.set_xlim(1, max(len(days), 2))
    top = float(np.nanmax(daily_mean[:, [r, a], :])) if daily_mean.size else 1.0
    ax.set_ylim(0, max(top, 0.5) * 1.55)
    ax.legend(loc="upper left", ncols=2, fontsize=11)


def run_overview(result, scenario: object = None) -> Figure:
    """Draw the overview of a run that a person reads at a glance (a run's ``figure.png``).

    Panels: both partners' felt security; requests and answers per day; hours of relief after an
    answer (first against last 30 days); exhaustion, trust and satisfaction over time (means over
    the couples still together); the outcome counts; the healthy-versus-excessive table.

    Parameters
    ----------
    result : sim.simulation.Result
        A finished run.
    scenario : object, optional
        Anything with ``name`` and ``description`` (a ``Scenario``) for the title.

    Returns
    -------
    Figure

    """
    fig = new_figure(18.0, 15.5)
    name = getattr(scenario, "name", None) or "relsim run"
    description = getattr(scenario, "description", "") or ""
    setup = result.setup
    daily_mean = np.asarray(result.daily_mean)
    with matplotlib.rc_context(_STYLE):
        fig.suptitle(f"{name}: {setup.couples} couples, {setup.days} days, seed {setup.seed}",
                     fontsize=19, fontweight="bold")  # fmt: skip
        grid = fig.add_gridspec(4, 3, height_ratios=[1, 1, 0.9, 1.25])
        if description:
            fig.text(0.5, 0.955, description, ha="center", va="top", fontsize=13, color="#333333")
            fig.get_layout_engine().set(rect=(0, 0, 1, 0.945))
        couple_timeseries(fig.add_subplot(grid[0, 0]), daily_mean, variable="security",
                          title="Felt security (mean)")  # fmt: skip
        _requests_panel(fig.add_subplot(grid[0, 1]), daily_mean)
        _relief_panel(fig.add_subplot(grid[0, 2]), result.couples)
        for col, variable in enumerate(("exhaustion", "trust", "satisfaction")):
            couple_timeseries(fig.add_subplot(grid[1, col]), daily_mean, variable=variable,
                              title=f"{variable.capitalize()} (mean)")  # fmt: skip
        outcome_bars(fig.add_subplot(grid[2, 0]), result.outcomes)
        together = fig.add_subplot(grid[2, 1:])
        days = np.arange(1, daily_mean.shape[0] + 1)
        together.plot(days, daily_mean[:, len(DAILY_VARS), 0], color="#000000")
        together.set_ylim(0, setup.couples * 1.05)
        together.set_xlim(1, max(len(days), 2))
        together.set_xlabel("Day")
        together.set_ylabel("Couples")
        together.set_title("Couples still together")
        aspects_table(fig.add_subplot(grid[3, :]), result.aspects())
    return fig


def phase_diagram(
    table, scenario: object = None, *, column: str = "share_spiraling_or_dissolved"
) -> Figure:
    """Map of a sweep: the share of couples spiraling on the grid, with the half-way line drawn.

    Parameters
    ----------
    table : sim.sweep.SweepTable
        The sweep (``x``, ``y`` axes and ``grid(column)``).
    scenario : object, optional
        Anything with ``name`` (a ``Scenario``) for the title.
    column : str
        Which column to map; shares are drawn on a fixed 0-100% scale and get the boundary line
        where half the couples are in that outcome.

    Returns
    -------
    Figure

    """
    values = table.grid(column)
    xs, ys = np.asarray(table.x.values, float), np.asarray(table.y.values, float)
    is_share = column.startswith("share_")
    fig = new_figure(9.5, 7.8)
    with matplotlib.rc_context(_STYLE):
        ax = fig.add_subplot()
        ax.grid(False)
        limits = {"vmin": 0.0, "vmax": 1.0} if is_share else {}
        mesh = ax.pcolormesh(xs, ys, values, shading="nearest", cmap="cividis", **limits)
        bar = fig.colorbar(mesh, ax=ax, shrink=0.9)
        words = column.replace("share_", "").replace("_", " ")
        if is_share:
            bar.formatter = matplotlib.ticker.PercentFormatter(1.0)
            bar.update_ticks()
            bar.set_label(f"Share of couples {words}")
        else:
            bar.set_label(words.capitalize())
        handles = []
        if is_share and len(xs) > 1 and len(ys) > 1 and values.min() < 0.5 < values.max():
            halo = [patheffects.withStroke(linewidth=5.5, foreground="#000000")]
            ax.contour(xs, ys, values, levels=[0.5], colors="white", linewidths=3.0)
            for collection in ax.collections[1:]:
                collection.set_path_effects(halo)
            handles.append(Line2D([], [], color="white", lw=3.0, path_effects=halo,
                                  label=f"Boundary: half the couples {words}"))  # fmt: skip
        # The boundary's uncertainty: where the share's 95% interval holds one half, the grid
        # cannot tell which side a point is on. The band is bounded by the lines where the
        # interval's low and high ends cross one half.
        bounds = (f"{column}_low", f"{column}_high")
        if is_share and len(xs) > 1 and len(ys) > 1 and set(bounds) <= set(table.columns):
            from matplotlib.patches import Patch

            low, high = table.grid(bounds[0]), table.grid(bounds[1])
            inside = np.minimum(0.5 - low, high - 0.5)  # > 0 where the interval holds 1/2
            if inside.max() > 0:
                ax.contourf(xs, ys, inside, levels=[0.0, max(float(inside.max()), 1e-9)],
                            colors=["white"], alpha=0.35)  # fmt: skip
                thin = [patheffects.withStroke(linewidth=3.0, foreground="#000000")]
                for edge in (low, high):
                    if edge.min() < 0.5 < edge.max():
                        lines = ax.contour(xs, ys, edge, levels=[0.5], colors="white",
                                           linewidths=1.5, linestyles="--")  # fmt: skip
                        lines.set_path_effects(thin)
                handles.append(Patch(facecolor=(1, 1, 1, 0.35), edgecolor="white",
                                     linestyle="--", label="95% interval holds one half: "
                                     "the boundary lies in this band"))  # fmt: skip
        ax.set_xlabel(table.x.label)
        ax.set_ylabel(table.y.label)
        name = getattr(scenario, "name", None)
        heading = f"Share of couples {words}" if is_share else words.capitalize()
        ax.set_title(heading + (f"\n{name}" if name else ""))
        note = f"{table.replicates} couples per point, {table.days} days, seed {table.seed}"
        changes = list(getattr(scenario, "overrides", None) or ())
        if changes:  # a map of changed dynamics must not pass for the default one
            note += "\n" + textwrap.fill("with changes: " + ", ".join(changes), 80)
        ax.text(0.0, -0.2, note, transform=ax.transAxes, fontsize=11, color=_GREY, va="top")
        if handles:
            legend = ax.legend(handles=handles, loc="upper right", bbox_to_anchor=(1.0, -0.09),
                               frameon=True, fontsize=12, borderaxespad=0)  # fmt: skip
            legend.get_frame().set_facecolor("#BBBBBB")
    return fig


def bifurcation_diagram(result) -> Figure:
    """The bifurcation diagram and the hysteresis experiment of one parameter (two panels).

    ``result`` is a :class:`sim.bifurcation.BifurcationResult`. Top: the mean-field equilibria,
    the seeker's expected requests a day at each (filled line: stable; dashed line with open
    circles: unstable), the grey band where two stable equilibria coexist. Bottom: the
    agent-based share of couples spiraling or dissolved, with the parameter held fixed for a run
    (black, with its Wilson 95% band), and in one population ramped up (orange) and then back
    down (blue), with the same bands.
    """
    from .outcomes import SPIRAL_RATE

    values = np.asarray(result.values, dtype=float)
    seeker = result.seeker
    calm = np.full(values.shape, np.nan)
    spiral = np.full(values.shape, np.nan)
    unstable_x, unstable_y = [], []
    unstable_line = np.full(values.shape, np.nan)
    for i, found in enumerate(result.equilibria):
        stable = [e.requests[seeker] for e in found if e.stable]
        if stable:
            low, high = min(stable), max(stable)
            if high >= SPIRAL_RATE or len(stable) > 1:
                spiral[i] = high
            if high < SPIRAL_RATE or len(stable) > 1:
                calm[i] = low
        for e in found:
            if not e.stable:
                unstable_x.append(values[i])
                unstable_y.append(e.requests[seeker])
                unstable_line[i] = e.requests[seeker]
    bistable = result.bistable()
    fig = new_figure(10.0, 9.0)
    ramp_up = [row for row in result.hysteresis if row["direction"] == "up"]
    ramp_down = [row for row in result.hysteresis if row["direction"] == "down"]
    with matplotlib.rc_context(_STYLE):
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1.0, 1.0])
        for ax in (top, bottom):
            for i in np.flatnonzero(bistable):
                step = np.diff(values).min() / 2 if len(values) > 1 else 0.0
                ax.axvspan(values[i] - step, values[i] + step, color="#DDDDDD", lw=0)
        top.plot(values, calm, color=OUTCOME_COLORS["stable"], marker="o", ms=5,
                 label="Stable: calm (few requests)")  # fmt: skip
        top.plot(values, spiral, color=OUTCOME_COLORS["spiraling"], marker="o", ms=5,
                 label="Stable: spiral")  # fmt: skip
        # One stable state on both sides of a change from calm to spiral: the same branch, so
        # the two points are joined (a thin grey line), not drawn as two branches.
        for i in range(len(values) - 1):
            ends = [[e for e in result.equilibria[n] if e.stable] for n in (i, i + 1)]
            if all(len(end) == 1 for end in ends) and np.isnan(calm[i]) != np.isnan(calm[i + 1]):
                top.plot(values[i:i + 2], [ends[0][0].requests[seeker],
                                           ends[1][0].requests[seeker]],
                         color=_GREY, lw=1.4)  # fmt: skip
        top.plot(values, unstable_line, color="#333333", ls="--", lw=1.6)
        top.plot(unstable_x, unstable_y, ls="none", marker="o", ms=7, mfc="white",
                 mec="#333333",
                 label="Unstable: the tipping threshold" if unstable_x else None)  # fmt: skip
        top.axhline(SPIRAL_RATE, color=_GREY, lw=1.0, ls=":")
        top.text(values[0], SPIRAL_RATE, f" {SPIRAL_RATE:g} request a day", color=_GREY,
                 fontsize=11, va="bottom")  # fmt: skip
        who = "seeker (partner A)" if seeker == 0 else "seeker (partner B)"
        top.set_ylabel(f"Requests a day of the {who}\nat equilibrium (mean field)")
        top.set_ylim(bottom=0.0)
        handles, _ = top.get_legend_handles_labels()
        if bistable.any():
            from matplotlib.patches import Patch

            handles.append(Patch(facecolor="#DDDDDD", label="Two stable states: bistable"))
        top.legend(handles=handles, loc="upper left", fontsize=11)
        top.set_title(f"Tipping point and hysteresis: {result.label}\n{result.scenario_name}")

        def band(ax, rows_or_x, share, low, high, color, label, marker):
            ax.fill_between(rows_or_x, low, high, color=color, alpha=0.18, lw=0)
            ax.plot(rows_or_x, share, color=color, marker=marker, ms=6, label=label)

        abm = result.abm
        band(bottom, values, abm["share"], abm["low"], abm["high"], "#222222",
             f"Held fixed for {result.days} days", "s")  # fmt: skip
        for rows, color, label, marker in (
            (ramp_up, "#E69F00", "Ramped up, step by step", ">"),
            (ramp_down, "#0072B2", "Then ramped back down", "<"),
        ):  # fmt: skip
            xs = np.array([row["value"] for row in rows])
            band(bottom, xs, np.array([row["share"] for row in rows]),
                 np.array([row["low"] for row in rows]), np.array([row["high"] for row in rows]),
                 color, label, marker)  # fmt: skip
        bottom.set_ylim(-0.02, 1.02)
        bottom.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        bottom.set_ylabel("Couples spiraling or dissolved\n(agent-based, 95% band)")
        bottom.set_xlabel(result.label)
        bottom.legend(loc="upper left", fontsize=11)
        note = (
            f"{result.couples} couples per value; ramp: {result.hold_days} days a step, "
            f"share from the last 30 days; seed {result.seed}"
        )
        bottom.text(0.0, -0.2, note, transform=bottom.transAxes, fontsize=11, color=_GREY,
                    va="top")  # fmt: skip
    return fig


# ----------------------------------------------------------------------------------------------
# Teaching figures (the notebooks' hourly strip and relief experiment) and the sensitivity ranking

#: Font sizes that stay readable on a classroom projector (the teaching figures).
_PROJECTOR = {"font.size": 14, "axes.titlesize": 16, "axes.labelsize": 14, "legend.fontsize": 12}


def _projector(plot):
    """Draw ``plot`` with fonts large enough for a classroom projector."""

    @functools.wraps(plot)
    def wrapped(*args, **kwargs):
        with matplotlib.rc_context(_PROJECTOR):
            return plot(*args, **kwargs)

    return wrapped


def _subplots(*args, **kwargs):
    # A Figure on the Agg canvas with its axes; the teaching figures keep matplotlib's own style
    # under the projector font sizes (not _STYLE), as they were first drawn.
    fig = Figure(figsize=kwargs.pop("figsize", None), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(*args, **kwargs)


@_projector
def plot_hourly(trace: HourlyTrace, couple: int = 0, person: int = 0, first_day: int = 0,
                last_day: int | None = None, title: str = ""):  # fmt: skip
    """Relief, threat and felt security of one person hour by hour, with their requests marked.

    Filled dots are requests the partner answered, open dots requests left unanswered.
    """
    last_day = trace.states.shape[0] // HOURS_PER_DAY if last_day is None else last_day
    window = slice(first_day * HOURS_PER_DAY, last_day * HOURS_PER_DAY)
    days = trace.hours[window] / HOURS_PER_DAY
    fig, ax = _subplots(figsize=(11, 4.5))
    for name, colour in (("security", "black"), ("relief", "#009E73"), ("threat", "#D55E00")):
        label = "felt security" if name == "security" else name
        ax.plot(days, trace.state(name)[window, person, couple], color=colour, lw=2, label=label)
    asked = trace.asked[window, person, couple]
    answered = trace.answered[window, person, couple]
    security = trace.state("security")[window, person, couple]
    ax.plot(days[answered], security[answered], "o", color="#0072B2", ms=9,
            label="asked, answered")  # fmt: skip
    ax.plot(days[asked & ~answered], security[asked & ~answered], "o", mfc="white",
            mec="#0072B2", mew=2, ms=9, label="asked, no answer")  # fmt: skip
    ax.set_xlabel("day")
    ax.set_ylabel("level (0 to 1)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title or "One person, hour by hour")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=12)
    return fig


@_projector
def plot_relief_fading(trace: HourlyTrace, anxiety: np.ndarray, habituation: np.ndarray):
    """Two panels: relief fading after one answer, and the doubt (threat) it leaves behind."""
    fig, (left, right) = _subplots(1, 2, figsize=(14, 5.5), sharex=True)
    hours = trace.hours
    styles = ["-", "--", ":", "-."]
    colours = dict(zip(np.unique(anxiety), ("#009E73", "#E69F00", "#D55E00", "#CC79A7"),
                       strict=False))  # fmt: skip
    h_levels = list(np.unique(habituation))
    shown = set()
    for c, (a, h) in enumerate(zip(anxiety, habituation, strict=True)):
        style = styles[h_levels.index(h) % len(styles)]
        if h not in shown:  # relief fades the same way whatever the anxiety: draw it once
            shown.add(h)
            left.plot(hours, trace.state("relief")[:, 0, c], style, color="black", lw=2.5,
                      label=f"habituation {h:.1f}")  # fmt: skip
        right.plot(hours, trace.state("threat")[:, 0, c], style, color=colours[a], lw=2.5,
                   label=f"anxiety {a:.1f}, habituation {h:.1f}")  # fmt: skip
    left.set_title("Relief after one answer fades")
    right.set_title("The doubt it leaves behind")
    left.set_ylabel("relief (0 to 1)")
    right.set_ylabel("threat (0 to 1)")
    for ax in (left, right):
        ax.set_xlabel("hours after the answer")
    left.legend(frameon=False)
    right.legend(frameon=False, fontsize=11)
    return fig


def sensitivity_ranking(result: SensitivityResult, title: str, top: int = 12) -> Figure:
    """Ranked bars of a sensitivity analysis, one panel per outcome (``relsim sensitivity``).

    Parameters
    ----------
    result : sim.sensitivity.SensitivityResult
        The analysis; its rows are already ranked per output.
    title : str
        What was analysed (the scenario's name), in front of the figure's title.
    top : int
        Parameters shown per panel; the control row is always added (grey).

    """
    from .sensitivity import CONTROL, OUTPUTS

    sobol = result.method == "sobol"
    key, ci = ("total_order", "total_order_ci") if sobol else ("mu_star", "mu_star_ci")
    fig = Figure(figsize=(5.0 * len(OUTPUTS), 6.5), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(OUTPUTS))
    for ax, output in zip(axes, OUTPUTS, strict=True):
        rows = [row for row in result.rows if row["output"] == output]
        shown = rows[:top]
        if not any(row["parameter"] == CONTROL for row in shown):
            shown.append(next(row for row in rows if row["parameter"] == CONTROL))
        labels = [row["parameter"].replace("_", " ") for row in shown][::-1]
        heights = [row[key] for row in shown][::-1]
        errors = [row[ci] for row in shown][::-1]
        colours = ["#999999" if row["parameter"] == CONTROL else "#0072B2" for row in shown][::-1]
        ax.barh(labels, heights, xerr=errors, color=colours, ecolor="#333333", capsize=2)
        ax.set_title(f"What moves the {OUTPUTS[output]}", fontsize=11)
        ax.set_xlabel("share of its variation explained (with interactions)" if sobol
                      else "mean size of the effect across the band")  # fmt: skip
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"{title}: which parameters matter most (grey: a control that does nothing)",
                 fontsize=12)  # fmt: skip
    fig.tight_layout()
    return fig
