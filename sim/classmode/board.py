"""The class board's numbers and drawings: table, pooled shares, phase diagram, CSV, figures.

Everything students typed (group names) reaches the page only through :func:`esc`, as text; the
drawings are SVG written here from numbers and escaped labels.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
from collections.abc import Iterable, Mapping

import numpy as np

from ..outcomes import BROKEN, LABELS
from ..palette import OUTCOME_COLORS
from ..sweep import wilson_interval
from .config import CONTROLS, Exercise

__all__ = [
    "CSV_COLUMNS",
    "board_html",
    "csv_text",
    "esc",
    "figure_png",
    "group_table",
    "phase_points",
    "phase_svg",
    "pooled",
]

#: Columns of the CSV export, in order: one row per run ever sent (cleared runs included).
CSV_COLUMNS = ("run", "sent_utc", "group", "kind", "scenario", "configuration", "couples", "days",
               "seed", *LABELS, "cleared", "config_json")  # fmt: skip


def esc(text: object) -> str:
    """``text`` as HTML text (quotes included), so that nothing typed is read as markup."""
    return html.escape(str(text), quote=True)


def _counts(rows: Iterable[Mapping[str, object]]) -> dict[str, int]:
    out = dict.fromkeys(LABELS, 0)
    for row in rows:
        for label in LABELS:
            out[label] += int(row[label])  # type: ignore[call-overload]
    return out


def group_table(runs: list[dict[str, object]]) -> list[dict[str, object]]:
    """One row per (group, configuration): runs, couples, outcome counts, share broken."""
    cells: dict[tuple[str, str], list[dict[str, object]]] = {}
    for run in runs:
        cells.setdefault((str(run["grp"]), str(run["config_key"])), []).append(run)
    rows = []
    for (group, _), members in sorted(cells.items(), key=lambda item: item[0]):
        counts = _counts(members)
        couples = sum(counts.values())
        rows.append({"group": group, "label": members[0]["label"], "kind": members[0]["kind"],
                     "runs": len(members), "couples": couples, **counts,
                     "broken": sum(counts[b] for b in BROKEN) / max(couples, 1)})  # fmt: skip
    return rows


def pooled(runs: list[dict[str, object]]) -> list[dict[str, object]]:
    """Per configuration, all groups pooled: couples, each outcome's share and 95% Wilson bounds.

    Pair games (kind ``pair``) are pooled apart from simulated runs of the same configuration,
    so the board shows the people next to the model.
    """
    cells: dict[tuple[str, str], list[dict[str, object]]] = {}
    for run in runs:
        kind = "pair" if run["kind"] == "pair" else "model"
        cells.setdefault((str(run["label"]), kind), []).append(run)
    out = []
    for (label, kind), members in sorted(cells.items()):
        counts = _counts(members)
        n = sum(counts.values())
        if n == 0:
            continue
        shares = {}
        for name in (*LABELS, "broken"):
            k = sum(counts[b] for b in BROKEN) if name == "broken" else counts[name]
            low, high = wilson_interval(k, n)
            shares[name] = (k / n, float(low), float(high))
        out.append({"label": label, "kind": kind, "runs": len(members), "couples": n,
                    "groups": len({m["grp"] for m in members}), "shares": shares,
                    "simulated": all(m["kind"] == "simulated" for m in members)})  # fmt: skip
    return out


def _axis_value(name: str, config: Mapping[str, object]) -> float:
    """Position of a configuration on an axis, from 0 to 1 (a style's place in the list)."""
    control = CONTROLS[name]
    value = config.get(name)
    if control.kind == "choice":
        return (control.choices.index(str(value)) + 0.5) / len(control.choices)
    span = control.high - control.low
    return (float(value) - control.low) / span if span else 0.5  # type: ignore[arg-type]


def phase_points(runs: list[dict[str, object]], exercise: Exercise) -> list[dict[str, object]]:
    """One point per configuration tried: place on the exercise's axes, couples, share broken."""
    cells: dict[tuple[float, float, str], list[dict[str, object]]] = {}
    for run in runs:
        config = json.loads(str(run["config"]))
        kind = "pair" if run["kind"] == "pair" else "model"
        key = (_axis_value(exercise.x, config), _axis_value(exercise.y, config), kind)
        cells.setdefault(key, []).append(run)
    points = []
    for (x, y, kind), members in sorted(cells.items()):
        counts = _counts(members)
        n = sum(counts.values())
        broken = sum(counts[b] for b in BROKEN)
        points.append({"x": x, "y": y, "kind": kind, "couples": n, "runs": len(members),
                       "broken": broken / max(n, 1), "label": members[0]["label"]})  # fmt: skip
    return points


def _ramp(share: float) -> str:
    """Green (none broken) through yellow to red (all broken)."""
    stops = ((0.0, (0, 158, 115)), (0.5, (240, 200, 60)), (1.0, (192, 57, 43)))
    for (s0, c0), (s1, c1) in itertools.pairwise(stops):
        if share <= s1:
            t = (share - s0) / (s1 - s0)
            rgb = tuple(round(a + t * (b - a)) for a, b in zip(c0, c1, strict=True))
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#c0392b"


def _ticks(name: str) -> list[tuple[float, str]]:
    control = CONTROLS[name]
    if control.kind == "choice":
        n = len(control.choices)
        return [((i + 0.5) / n, choice) for i, choice in enumerate(control.choices)]
    return [(t, f"{control.low + t * (control.high - control.low):g}") for t in (0, 0.5, 1)]


def phase_svg(points: list[dict[str, object]], exercise: Exercise, width: int = 520,
              height: int = 400) -> str:  # fmt: skip
    """The phase diagram as SVG, one mark per configuration.

    A disc (a diamond for a pair game) coloured by its share spiraling or dissolved, its area
    growing with its couples.
    """
    left, right, top, bottom = 110, 20, 20, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    xlabel, ylabel = CONTROLS[exercise.x].label, CONTROLS[exercise.y].label
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="Phase diagram: '
           f'{esc(ylabel)} against {esc(xlabel)}, share spiraling or dissolved">',
           f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" '
           'stroke="#888"/>']  # fmt: skip
    for t, text in _ticks(exercise.x):
        x = left + t * plot_w
        out.append(f'<line x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" y2="{top + plot_h + 5}" '
                   f'stroke="#555"/><text x="{x:.1f}" y="{top + plot_h + 20}" font-size="13" '
                   f'text-anchor="middle">{esc(text)}</text>')  # fmt: skip
    for t, text in _ticks(exercise.y):
        y = top + (1 - t) * plot_h
        out.append(f'<line x1="{left - 5}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="#555"/>'
                   f'<text x="{left - 8}" y="{y + 4:.1f}" font-size="13" '
                   f'text-anchor="end">{esc(text)}</text>')  # fmt: skip
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 15}" font-size="14" '
        f'text-anchor="middle">{esc(xlabel)}</text>'
    )
    out.append(
        f'<text x="16" y="{top + plot_h / 2:.1f}" font-size="14" text-anchor="middle" '
        f'transform="rotate(-90 16 {top + plot_h / 2:.1f})">{esc(ylabel)}</text>'
    )
    biggest = max([int(p["couples"]) for p in points] or [1])  # type: ignore[call-overload]
    for p in points:
        x = left + float(p["x"]) * plot_w  # type: ignore[arg-type]
        y = top + (1 - float(p["y"])) * plot_h  # type: ignore[arg-type]
        radius = 5 + 13 * np.sqrt(int(p["couples"]) / biggest)  # type: ignore[call-overload]
        colour = _ramp(float(p["broken"]))  # type: ignore[arg-type]
        title = (
            f"{p['label']}: {100 * float(p['broken']):.0f}% spiraling or dissolved of "
            f"{p['couples']} couples ({p['runs']} runs)"
        )  # type: ignore[arg-type]
        if p["kind"] == "pair":
            x += 10  # beside the simulated couples of the same styles
            r = max(radius * 0.8, 9.0)
            out.append(f'<path d="M{x:.1f},{y - r:.1f} L{x + r:.1f},{y:.1f} L{x:.1f},{y + r:.1f} '
                       f'L{x - r:.1f},{y:.1f} Z" fill="{colour}" stroke="#000" '
                       f'stroke-width="2" class="relsim-point relsim-pair">'
                       f'<title>{esc("pair game: " + title)}</title></path>')  # fmt: skip
        else:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{colour}" '
                       f'fill-opacity="0.85" stroke="#333" class="relsim-point">'
                       f'<title>{esc(title)}</title></circle>')  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def _share_bar(share: tuple[float, float, float], colour: str) -> str:
    value, low, high = share
    return (f'<span class="bar" aria-hidden="true"><span class="fill" '
            f'style="width:{100 * value:.1f}%;background:{colour}"></span>'
            f'<span class="ci" style="left:{100 * low:.1f}%;'
            f'width:{100 * (high - low):.1f}%"></span></span>'
            f'<span class="num">{100 * value:.0f}% <small>({100 * low:.0f}–{100 * high:.0f})'
            '</small></span>')  # fmt: skip


def pairs_html(pairs: list[dict[str, object]]) -> str:
    """The pair games and how far each is, as an HTML section ("" when there is none)."""
    if not pairs:
        return ""
    rows = []
    for game in pairs:
        if game["finished"]:
            state = f"finished: {game['outcome']}"
        elif not game["joined"]:
            state = "waiting for partner B"
        else:
            state = f"day {int(game['day']) + 1} of {game['days']}"  # type: ignore[call-overload]
        rows.append(
            f'<tr><td class="group">{esc(game["grp"])}</td><td>A {esc(game["style_a"])} '
            f"× B {esc(game['style_b'])}</td><td>{esc(state)}</td></tr>"
        )
    return ('<section aria-labelledby="pairs-h"><h2 id="pairs-h">Pair games</h2>'
            '<table class="pairs"><thead><tr><th scope="col">Group</th><th scope="col">Couple'
            '</th><th scope="col">Where they are</th></tr></thead><tbody>' + "".join(rows)
            + "</tbody></table></section>")  # fmt: skip


PAIR_CSV_COLUMNS = ("pair", "group", "style_a", "style_b", "days", "seed", "outcome", "day",
                    "security_a", "relief_a", "exhaustion_a", "trust_a", "requests_a",
                    "answered_a", "affection_received_a", "warmth_received_a", "choice_a",
                    "security_b", "relief_b", "exhaustion_b", "trust_b", "requests_b",
                    "answered_b", "affection_received_b", "warmth_received_b", "choice_b",
                    "dissolved")  # fmt: skip


def pairs_csv(pairs: list[dict[str, object]]) -> str:
    """Every pair game's story as CSV: one row per game and day (both people, their choices)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PAIR_CSV_COLUMNS)
    for game in pairs:
        group = str(game["grp"])
        group = "'" + group if group[:1] in ("=", "+", "-", "@") else group
        for record in json.loads(str(game["history"])):
            fixed = [game["id"], group, game["style_a"], game["style_b"], game["days"],
                     game["seed"], game["outcome"] or ""]  # fmt: skip
            values = []
            for name in PAIR_CSV_COLUMNS[7:]:
                value = record.get(name)
                if isinstance(value, dict):
                    value = (
                        f"ask {value['ask']}; answer {value['answer']}; distance "
                        f"{'yes' if value['distance'] else 'no'}"
                    )
                values.append("model" if value is None and name.startswith("choice") else value)
            writer.writerow([*fixed, *values])
    return buffer.getvalue()


def board_html(runs: list[dict[str, object]], exercise: Exercise, *, students: int,
               version: int, pairs: list[dict[str, object]] | None = None) -> str:  # fmt: skip
    """The board's live part (table, pooled shares, phase diagram) as an HTML fragment."""
    table = group_table(runs)
    groups = len({row["group"] for row in table})
    parts = [f'<p class="summary" data-version="{version}" data-runs="{len(runs)}">'
             f'<strong>{len(runs)}</strong> {"run" if len(runs) == 1 else "runs"} from '
             f'<strong>{groups}</strong> {"group" if groups == 1 else "groups"} '
             f'(<strong>{students}</strong> {"student" if students == 1 else "students"} '
             "joined).</p>"]  # fmt: skip
    if not runs:
        parts.append(
            '<p class="empty">No runs yet. Students: choose a group name, change what '
            'the exercise lets you change and press "Send to the class board".</p>'
        )
        parts.append(pairs_html(pairs or []))
        return "".join(parts)
    parts.append('<div class="board-grid"><section aria-labelledby="pooled-h">'
                 '<h2 id="pooled-h">Pooled outcome shares (95% Wilson interval)</h2>'
                 '<table class="pooled"><thead><tr><th scope="col">Configuration</th>'
                 '<th scope="col">Couples</th>')  # fmt: skip
    for label in LABELS:
        parts.append(f'<th scope="col">{esc(label)}</th>')
    parts.append("</tr></thead><tbody>")
    for cell in pooled(runs):
        if cell["kind"] == "pair":
            who = "pair game (people)"
        elif cell["simulated"]:
            who = "the model's couples"
        else:
            who = _count(int(cell["groups"]), "group")  # type: ignore[call-overload]
        parts.append(
            f'<tr><th scope="row">{esc(cell["label"])}<br><small>{esc(who)}, '
            f"{_count(int(cell['runs']), 'run')}</small></th>"  # type: ignore[call-overload]
            f"<td>{cell['couples']}</td>"
        )
        for label in LABELS:
            parts.append(f"<td>{_share_bar(cell['shares'][label], OUTCOME_COLORS[label])}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table></section>")
    parts.append(
        '<section aria-labelledby="phase-h"><h2 id="phase-h">Configurations tried: '
        "share spiraling or dissolved</h2>"
    )
    parts.append(phase_svg(phase_points(runs, exercise), exercise))
    parts.append(
        '<p class="legend"><span class="swatch" style="background:#009e73"></span> none '
        '<span class="swatch" style="background:#f0c83c"></span> half '
        '<span class="swatch" style="background:#c0392b"></span> all broken; '
        "disc: simulated couples, diamond: a pair game. Larger: more couples.</p>"
        "</section></div>"
    )
    parts.append('<section aria-labelledby="groups-h"><h2 id="groups-h">By group and '
                 'configuration</h2><table class="groups"><thead><tr><th scope="col">Group</th>'
                 '<th scope="col">Configuration</th><th scope="col">Runs</th>'
                 '<th scope="col">Couples</th>')  # fmt: skip
    for label in LABELS:
        parts.append(f'<th scope="col">{esc(label)}</th>')
    parts.append('<th scope="col">Spiraling or dissolved</th></tr></thead><tbody>')
    for row in table:
        parts.append(
            f'<tr><td class="group">{esc(row["group"])}</td><td>{esc(row["label"])}</td>'
            f"<td>{row['runs']}</td><td>{row['couples']}</td>"
        )
        for label in LABELS:
            parts.append(f"<td>{row[label]}</td>")
        parts.append(f"<td>{100 * float(row['broken']):.0f}%</td></tr>")  # type: ignore[arg-type]
    parts.append("</tbody></table></section>")
    parts.append(pairs_html(pairs or []))
    return "".join(parts)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def csv_text(runs: list[dict[str, object]]) -> str:
    """Every run ever sent as CSV (:data:`CSV_COLUMNS`), cleared ones marked, oldest first.

    A cell that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@`` first) gets a
    leading apostrophe, so a group name can never run in the teacher's spreadsheet.
    """
    import datetime as dt

    def cell(value: object) -> object:
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            return "'" + value
        return value

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for run in runs:
        sent = dt.datetime.fromtimestamp(float(run["created"]), dt.UTC)  # type: ignore[arg-type]
        writer.writerow([cell(v) for v in (
            run["id"], sent.strftime("%Y-%m-%dT%H:%M:%SZ"), run["grp"], run["kind"],
            run["scenario"], run["label"], run["couples"], run["days"], run["seed"],
            *(run[label] for label in LABELS), run["cleared"], run["config"])])  # fmt: skip
    return buffer.getvalue()


def figure_png(runs: list[dict[str, object]], exercise: Exercise) -> bytes:
    """The board's figures as one PNG: pooled shares with intervals, and the phase diagram."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    cells = pooled(runs)
    points = phase_points(runs, exercise)
    fig = Figure(figsize=(12, 5.2), layout="constrained")
    bars, phase = fig.subplots(1, 2, width_ratios=(1.3, 1))
    if cells:
        names = [f"{c['label']}{' (pair)' if c['kind'] == 'pair' else ''}" for c in cells]
        y = np.arange(len(cells))
        left = np.zeros(len(cells))
        for label in LABELS:
            values = np.array([c["shares"][label][0] for c in cells])
            bars.barh(y, values, left=left, color=OUTCOME_COLORS[label], label=label)
            left += values
        broken = np.array([c["shares"]["broken"] for c in cells])
        spiral_start = np.array([c["shares"]["stable"][0] for c in cells])
        bars.errorbar(spiral_start + broken[:, 0], y,
                      xerr=[broken[:, 0] - broken[:, 1], broken[:, 2] - broken[:, 0]],
                      fmt="none", ecolor="black", capsize=3,
                      label="spiraling or dissolved: 95% interval")  # fmt: skip
        bars.set_yticks(
            y, [f"{n}\n{c['couples']} couples" for n, c in zip(names, cells, strict=True)]
        )
        bars.invert_yaxis()
        bars.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, fontsize=8)
    bars.set_xlim(0, 1)
    bars.set_xlabel("share of couples")
    for p in points:
        marker = "D" if p["kind"] == "pair" else "o"
        size = 40 + 360 * np.sqrt(int(p["couples"]) / max(int(q["couples"]) for q in points))
        phase.scatter(float(p["x"]) + (0.02 if p["kind"] == "pair" else 0.0),
                      float(p["y"]), s=size, c=_ramp(float(p["broken"])), marker=marker,
                      edgecolors="black")  # fmt: skip
    for axis, name in (("x", exercise.x), ("y", exercise.y)):
        ticks = _ticks(name)
        getattr(phase, f"set_{axis}ticks")([t for t, _ in ticks], [s for _, s in ticks])
        getattr(phase, f"set_{axis}label")(CONTROLS[name].label)
        getattr(phase, f"set_{axis}lim")(0, 1)
    phase.set_title("Configurations tried (colour: share spiraling or dissolved;\n"
                    "disc: simulated, diamond: pair game)", fontsize=10)  # fmt: skip
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()
