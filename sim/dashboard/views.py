"""What the dashboard's live views show, computed from a model: SVG charts, the badge, the table.

Plain functions (no widgets), so that ``benchmarks/dashboard_step.py`` can time one day's step
with every live figure and the tests can check the content without a browser.
"""

from __future__ import annotations

import csv
import dataclasses
import gc
import io
import math
import threading
import weakref
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from html import escape

import mesa
import numpy as np

from ..engine import kernel as k
from ..model import RelationshipModel
from ..outcomes import LABELS, SPIRAL_RATE, seeker_partner
from ..params import DYNAMICS
from .background import LeverDiagram, PhaseGrid
from .charts import (
    OUTCOME_COLORS,
    PARTNER_COLORS,
    Series,
    bifurcation_chart,
    heatmap,
    histogram,
    line_chart,
    stacked_bars,
    text_on,
    tile_grid,
)
from .state import ReliefEpisodes, param_label

__all__ = [
    "FRAME_PARTS",
    "KIND_WORDS",
    "OUTCOME_WORDS",
    "UNDECIDED_DAYS",
    "VERDICT_DAY",
    "Frame",
    "Session",
    "aspects_html",
    "badge_html",
    "couple_charts",
    "couple_tiles",
    "couples_csv",
    "days_until_verdict",
    "followed_outcome",
    "hours_chart",
    "intervention_events",
    "lever_chart",
    "mixed_population_chart",
    "phase_chart",
    "population_charts",
    "release_model",
    "run_summary",
    "runs_html",
    "settings_words",
    "timeseries_csv",
    "where_now",
]

#: The source article's strategies in the dashboard's words.
KIND_WORDS = {
    "style_awareness": "Learn each other's styles",
    "communication": "Communicate openly",
    "consistent_actions": "Words and consistent actions",
    "address_fears": "Work on the underlying fear",
    "therapy": "Therapy",
}

#: One sentence per outcome for the badge.
OUTCOME_WORDS = {
    "stable": "calm: few requests, and they work",
    "spiraling": "asking more and more, and it no longer helps",
    "distant": "no spiral, but they no longer reach for each other",
    "dissolved": "one of them left",
}

_TRAIT_AXES = {"anxiety_a": "Partner A's anxiety", "avoidance_b": "Partner B's avoidance"}


def axis_words(name: str) -> str:
    """A map's axis title: a partner's trait, or a dynamics parameter's label and unit."""
    return _TRAIT_AXES.get(name) or param_label(DYNAMICS[name])


#: First day on which the dashboard names an outcome or a verdict. Before it a few days of data
#: say nothing yet (on day 0 every couple would read "distant", after 3 days an anxious one
#: "spiraling"), so the badge says "just started", the counts "too early to tell", and the
#: table shows its values with a grey "too early" verdict.
VERDICT_DAY = 14

#: Days over which couple 1's label must hold before the badge names it (else "UNDECIDED").
UNDECIDED_DAYS = 7

_EARLY_COLOR = "#636363"
#: Verdict words on white: each at least 4.5:1 (WCAG AA for text).
_VERDICT_COLORS = {"healthy": "#00704F", "in between": "#805B00", "excessive": "#B0301F"}


def followed_outcome(model, couple: int = 0) -> str:
    """Outcome label so far of the followed couple (index ``couple``; couple 1 by default)."""
    return str(model.couples_table()["outcome"].iloc[couple])


def _followed(episodes: ReliefEpisodes, name: str) -> np.ndarray:
    """Daily values of ``name`` for couple 1, shape (days, 2), from its own one-couple run."""
    return episodes.kernel.daily[:, k.DAILY_VARS.index(name), :, 0]


def days_until_verdict(model) -> int:
    """Days still to simulate before the dashboard names outcomes (0 once it does)."""
    return max(min(VERDICT_DAY, model.days) - model.day, 0)


def _wait_words(model) -> str:
    left = days_until_verdict(model)
    return f"verdict in {left} more day{'s' if left != 1 else ''}, on day {model.day + left}"


def intervention_events(model) -> list[tuple[float, str]]:
    """``(day, words)`` of each intervention of the run, for the markers on time charts."""
    return [(float(iv.day), f"{KIND_WORDS.get(iv.kind, iv.kind)} from day {iv.day}")
            for iv in sorted(model.setup.interventions, key=lambda iv: iv.day)]  # fmt: skip


def couple_charts(model, episodes: ReliefEpisodes) -> dict[str, str]:
    """Return the Couple view's charts for the followed couple, by name, as SVG text."""
    episodes.sync()
    days = np.arange(1, model.day + 1)
    x_range = (0, model.days)
    events = intervention_events(model)
    charts = {}
    titles = {
        "security": ("Felt security", "how safe each feels (0-1)"),
        "relief": ("Relief from reassurance", "relief left (0-1)"),
        "exhaustion": ("Exhaustion from answering", "exhaustion (0-1)"),
        "trust": ("Trust in the partner", "trust (0-1)"),
    }
    for name, (title, y_label) in titles.items():
        values = _followed(episodes, name)
        series = [Series(f"Partner {tag}", days, values[:, p], PARTNER_COLORS[p], dashed=p == 1)
                  for p, tag in enumerate("AB")]  # fmt: skip
        charts[name] = line_chart(series, title=title, x_label="day", y_label=y_label,
                                  x_range=x_range, y_range=(0.0, 1.0), events=events)  # fmt: skip
    requests, answered = _followed(episodes, "requests"), _followed(episodes, "answered")
    series = []
    for p, tag in enumerate("AB"):
        series.append(Series(f"{tag} asks", days, requests[:, p], PARTNER_COLORS[p]))
        series.append(Series(f"{tag} is answered", days, answered[:, p], PARTNER_COLORS[p],
                             dashed=True))  # fmt: skip
    charts["requests"] = line_chart(series, title="Requests and answers per day",
                                    x_label="day", y_label="per day", x_range=x_range,
                                    events=events)  # fmt: skip
    series = [Series(f"Partner {tag}", episodes.days[p], episodes.hours[p], PARTNER_COLORS[p],
                     markers=True) for p, tag in enumerate("AB")]  # fmt: skip
    empty = not (episodes.days[0] or episodes.days[1])
    charts["episodes"] = line_chart(
        series, title="How long relief lasts (each episode)", x_label="day the episode ended",
        y_label="hours until asking again", x_range=x_range, events=events,
        note="no answered request yet" if empty else "",
    )  # fmt: skip
    return charts


def badge_html(model, undecided: tuple[str, ...] = (), couple: int = 0) -> str:
    """Return the followed couple's outcome badge, with the day and the population's counts.

    Before ``VERDICT_DAY`` the badge reads "JUST STARTED" and says how many days are left until
    a verdict, instead of naming an outcome from too little data. ``undecided`` names the
    labels couple 1 had over the last ``UNDECIDED_DAYS`` days when they differ (see
    :class:`Session`): the badge then reads "UNDECIDED" rather than flip from day to day. Once
    the last day is reached it says "Finished" and gives the verdict of the whole run.
    """
    early = days_until_verdict(model) > 0
    finished = model.day >= model.days
    if undecided and not early and not finished:
        label, color, outcome = "undecided", _EARLY_COLOR, "undecided"
        words = (f"on the boundary, {' and '.join(undecided)} in turn over the last "
                 f"{UNDECIDED_DAYS} days")  # fmt: skip
    else:
        label = "just started" if early else followed_outcome(model, couple)
        color = _EARLY_COLOR if early else OUTCOME_COLORS[label]
        words = (f"too early to tell ({_wait_words(model)})" if early
                 else OUTCOME_WORDS[label])  # fmt: skip
        outcome = "too-early" if early else label
    when = "at the end" if finished else "so far"
    status = (f"<b>Finished: day {model.day} of {model.days}</b>" if finished
              else f"<b>Day {model.day} of {model.days}</b>")  # fmt: skip
    text = (f'<div class="relsim-badge" data-outcome="{outcome}" '
            f'data-finished="{str(finished).lower()}" role="status" style="display:flex;'
            f'align-items:center;gap:14px;flex-wrap:wrap;font-size:18px">'
            f'<span class="relsim-badge-label" style="background:{color};color:{text_on(color)};'
            f"font-weight:700;font-size:22px;padding:6px 18px;border-radius:20px;"
            f'letter-spacing:1px">{label.upper()}</span>'
            f"<span>Couple {couple + 1} {when}: {escape(words)}. {status}.</span>")  # fmt: skip
    if model.setup.couples > 1:
        if early:
            parts = "too early to tell"
        else:
            counts = model.outcome_counts()
            parts = ", ".join(f"{counts[name]} {name}" for name in LABELS)
        text += f'<span style="color:#444">All {model.setup.couples} couples: {parts}.</span>'
    return text + "</div>"


#: The dashboard's row for the outcome the article's four aspects do not cover: couples who no
#: longer reach for each other (the "distant" label). Same thresholds as the long-term outcome.
DISTANCE_ROW = {
    "aspect": "distance",
    "healthy": "close, in touch",
    "excessive": "no longer reaching for each other",
    "measure": "share of couples distant (little contact or low satisfaction)",
    "rule": "healthy at most 20%, excessive from 50%",
}


def _share_verdict(share: float) -> str:
    return "healthy" if share <= 0.2 else "excessive" if share >= 0.5 else "in between"


def aspects_html(model) -> str:
    """Return the healthy-versus-excessive table with the values measured so far, as HTML.

    Each row shows its thresholds. Besides the source article's four aspects, a "distance" row
    counts couples labelled distant, so that the table agrees with a DISTANT badge (the four
    aspects measure reassurance, and a couple that stopped asking looks healthy on all four).
    Before ``VERDICT_DAY`` the values are shown but every verdict reads "too early".
    """
    rows = model.aspects().to_dict("records")
    counts = model.outcome_counts()
    distant = counts.get("distant", 0) / max(sum(counts.values()), 1)
    rows.append({**DISTANCE_ROW, "value": distant, "verdict": _share_verdict(distant)})
    early = days_until_verdict(model) > 0
    head = ("<tr><th>aspect</th><th>healthy</th><th>excessive</th><th>what we measure</th>"
            "<th>thresholds</th><th>value now</th><th>verdict</th></tr>")  # fmt: skip
    body = []
    for row in rows:
        value = float(row["value"])
        share = row["aspect"] in ("long-term outcome", "distance")
        shown = f"{value:.0%}" if share else f"{value:.2f}"
        verdict = "too early" if early else str(row["verdict"])
        color = _EARLY_COLOR if early else _VERDICT_COLORS.get(verdict, "#222")
        body.append(
            f"<tr><td><b>{escape(row['aspect'])}</b></td><td>{escape(row['healthy'])}</td>"
            f"<td>{escape(row['excessive'])}</td><td>{escape(row['measure'])}</td>"
            f"<td>{escape(str(row.get('rule', '')))}</td>"
            f'<td style="text-align:right">{shown}</td>'
            f'<td class="relsim-verdict" style="color:{color};font-weight:700;white-space:nowrap">'
            f"{escape(verdict)}</td></tr>"
        )  # fmt: skip
    style = (
        "<style>.relsim-aspects{border-collapse:collapse;font-size:16px;width:100%}"
        ".relsim-aspects td,.relsim-aspects th{border-bottom:1px solid #ddd;padding:6px 8px;"
        "text-align:left;vertical-align:top}.relsim-aspects th{background:#f3f3f3}</style>"
    )
    who = "couple 1" if model.setup.couples == 1 else f"the {model.setup.couples} couples"
    caption = (f"<caption style='caption-side:top;text-align:left;font-size:17px;"
               f"font-weight:600;padding:4px 0'>Healthy or excessive reassurance? "
               f"(measured on {who})</caption>")  # fmt: skip
    if early:
        caption = caption.replace(
            "</caption>",
            (
                f"<div style='font-weight:400;font-size:15px;color:{_EARLY_COLOR}'>Values so far; "
                f"too early for a verdict ({escape(_wait_words(model))}).</div></caption>"
            ),
        )
    return (f'{style}<table class="relsim-aspects">{caption}{head}{"".join(body)}'
            "</table>")  # fmt: skip


def where_now(table, couple: int = 0) -> dict[str, float]:
    """The run's position on a bifurcation diagram (see ``Frame.where``), from its couples table.

    The seeker of each couple is ``sim.outcomes``' (the partner who asked more so far).
    """
    rates, _ = seeker_partner(table, "request_rate_last_30d")
    rates = np.asarray(rates, dtype=float)
    return {"population": float(np.mean(rates)) if rates.size else math.nan,
            "couple": float(rates[couple]) if couple < rates.size else math.nan}  # fmt: skip


def population_charts(model, couple: int = 0, table=None) -> dict[str, str]:
    """Return the Population view's live charts: outcome shares so far, request rates.

    ``table`` is the model's ``couples_table()`` when the caller has it already.
    """
    counts = model.outcome_counts()
    total = max(sum(counts.values()), 1)
    pairing = " + ".join(sorted((str(model.setup.partner_a["style"].label),
                                 str(model.setup.partner_b["style"].label))))  # fmt: skip
    if days_until_verdict(model) > 0:
        outcome = stacked_bars([pairing], {"too early to tell": [1.0]},
                               {"too early to tell": _EARLY_COLOR}, counts=[total],
                               title=f"Your {total} couples: verdict on day "
                               f"{model.day + days_until_verdict(model)}")  # fmt: skip
    else:
        shares = {name: [counts[name] / total] for name in LABELS}
        outcome = stacked_bars([pairing], shares, OUTCOME_COLORS, counts=[total],
                               title=f"Your {total} couples so far (day {model.day})")  # fmt: skip
    table = model.couples_table() if table is None else table
    # The seeker is the partner who asked more over the run (sim.outcomes, as in the table).
    rates, _ = seeker_partner(table, "request_rate_last_30d")
    top = max(6.0, float(np.ceil(np.nanmax(rates)))) if len(rates) else 6.0
    bins = np.linspace(0.0, top, 25)
    request_chart = histogram(rates, bins=bins, x_label="requests per day (last 30 days)",
                              title="How often the seeker asks",
                              marker=SPIRAL_RATE, marker_label="spiral line")  # fmt: skip
    return {"outcomes": outcome, "requests": request_chart,
            "tiles": couple_tiles(model, couple)}  # fmt: skip


def couple_tiles(model, couple: int = 0) -> str:
    """Every couple of the run as a small tile coloured by its outcome so far, as SVG.

    The couple the Couple view follows (index ``couple``) is outlined. Before ``VERDICT_DAY``
    all tiles are grey. Each tile's tooltip names the couple and its label.
    """
    labels = [str(label) for label in model.couples_table()["outcome"]]
    if days_until_verdict(model) > 0:
        colors = [_EARLY_COLOR] * len(labels)
        labels = ["too early to tell"] * len(labels)
        legend = {"too early to tell": _EARLY_COLOR}
    else:
        colors = [OUTCOME_COLORS[label] for label in labels]
        legend = {name: OUTCOME_COLORS[name] for name in LABELS}
    return tile_grid(
        colors,
        [f"couple {i + 1}: {label}" for i, label in enumerate(labels)],
        legend=legend,
        outlined=couple,
        title=f"All {len(labels)} couples on day {model.day}",
    )


def mixed_population_chart(table: dict) -> str:
    """Stacked bars of outcome shares by pairing (``sim.dashboard.background.mixed_population``)."""
    pairs = sorted(table, key=lambda pair: -table[pair]["couples"])
    shares = {name: [table[pair][name] for pair in pairs] for name in LABELS}
    return stacked_bars(pairs, shares, OUTCOME_COLORS, counts=[table[p]["couples"] for p in pairs],
                        title="A mixed class: outcomes by pairing")  # fmt: skip


def phase_chart(grid: PhaseGrid) -> str:
    """Draw a phase diagram (share spiraling or dissolved) with the current couple marked."""
    title = ("Where you are: anxiety × avoidance" if grid.x_name == "anxiety_a"
             else "Where you are: two levers")  # fmt: skip
    return heatmap(grid.share, grid.x_values, grid.y_values, title=title,
                   x_label=axis_words(grid.x_name), y_label=axis_words(grid.y_name),
                   marker=grid.marker)  # fmt: skip


def lever_chart(
    diagram: LeverDiagram,
    setting: float,
    where: Mapping[str, float] | None = None,
    applied: float | None = None,
    couples: int = 0,
    day: int = 0,
) -> str:
    """The bifurcation diagram of a lever with your setting and your run marked, as SVG.

    ``diagram`` is a ``sim.dashboard.background.LeverDiagram``; ``setting`` the lever's slider;
    ``where`` the run's ``Frame.where`` (drawn at the lever's value of the run, ``applied``).
    """
    param = DYNAMICS[diagram.name]
    who = "A" if diagram.seeker == 0 else "B"
    points = []
    if where and applied is not None and day > 0:
        points.append((applied, where.get("population", math.nan),
                       f"your {couples} couples" if couples > 1 else "your couple",
                       "#1f3a5f"))  # fmt: skip
        if couples > 1:
            points.append((applied, where.get("couple", math.nan), "the couple followed",
                           PARTNER_COLORS[0]))  # fmt: skip
    return bifurcation_chart(
        diagram.values, diagram.calm, diagram.spiral, diagram.unstable, diagram.bistable,
        title=f"Tipping points: {param.title.lower()}", x_label=param_label(param),
        y_label=f"requests a day (partner {who})", setting=setting, threshold=SPIRAL_RATE,
        points=points,
    )  # fmt: skip


def hours_chart(hours) -> str:
    """One day of couple 1 hour by hour: each partner's relief, with requests and answers.

    ``hours`` is a ``sim.dashboard.background.DayHours``. A coloured dot marks each hour in which
    a partner asked (on that partner's relief line), a black dot the hours in which a request
    was answered, so what happens right after an answer (relief jumps, then fades) can be read
    hour by hour.
    """
    x = np.arange(1, 25)
    series = []
    answered = np.full(24, np.nan)
    for p, tag in enumerate("AB"):
        relief = hours.relief[:, p]
        series.append(Series(f"{tag}'s relief", x, relief, PARTNER_COLORS[p], dashed=p == 1))
        asked = np.where(hours.asked[:, p], relief, np.nan)
        series.append(Series(f"{tag} asks", x, asked, PARTNER_COLORS[p], markers=True))
        answered = np.where(hours.answered[:, p], relief, answered)
    series.append(Series("answered", x, answered, "#111111", markers=True))
    quiet = not hours.asked.any()
    return line_chart(series, title=f"Day {hours.day} hour by hour", x_label="hour of the day",
                      y_label="relief left (0-1)", x_range=(0, 24), y_range=(0.0, 1.0),
                      note="nobody asked this day" if quiet else "")  # fmt: skip


# -- the run's data, as relsim run writes it ---------------------------------------------------


def _csv(header: list[str], rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def couples_csv(model) -> str:
    """The run so far as ``couples.csv``: one row per couple, the same columns as ``relsim run``."""
    table = model.couples_table()
    return table.to_csv(index=False, lineterminator="\n")


def timeseries_csv(model) -> str:
    """The run so far as ``timeseries.csv``, in ``relsim run``'s layout.

    Runs of up to ``sim.results.PER_COUPLE_TIMESERIES_MAX`` couples get one row per day, couple
    and partner; larger runs the population means per day and partner.
    """
    from ..results import PER_COUPLE_TIMESERIES_MAX

    kernel = model.kernel
    if model.setup.couples <= PER_COUPLE_TIMESERIES_MAX:
        daily = kernel.daily
        styles = model.couples_table()[["style_a", "style_b"]].to_numpy()
        rows = ([day + 1, couple, tag, styles[couple][person],
                 *daily[day, :, person, couple].tolist()]
                for day in range(daily.shape[0]) for couple in range(daily.shape[3])
                for person, tag in enumerate("ab"))  # fmt: skip
        return _csv(["day", "couple", "partner", "style", *k.DAILY_VARS], rows)
    means = kernel.daily_mean
    rows = ([day + 1, tag, *means[day, : len(k.DAILY_VARS), person].tolist(),
             int(means[day, len(k.DAILY_VARS), person])]
            for day in range(means.shape[0]) for person, tag in enumerate("ab"))  # fmt: skip
    return _csv(["day", "partner", *k.DAILY_VARS, "couples_together"], rows)


# -- one page's run, drawn from consistent snapshots ------------------------------------------


#: The parts of a frame that ``Session.advance`` can leave undrawn while playing (see there).
FRAME_PARTS = ("badge", "aspects", "couple", "population")


@dataclass(frozen=True)
class Frame:
    """Everything the live views show at one moment, computed at once from the model.

    The page draws only from a frame, never from the model, so a day being simulated in the
    play thread can never meet a chart half-drawn from the day before.
    """

    generation: int
    day: int
    days: int
    couples: int
    finished: bool
    outcome: str
    badge: str
    aspects: str
    couple: Mapping[str, str]
    population: Mapping[str, str]
    applied: Mapping[str, object]
    #: Where the run is on a bifurcation diagram: the seekers' mean requests a day over the last
    #: 30 days (``population``) and the followed couple's seeker's (``couple``).
    where: Mapping[str, float] = dataclasses.field(default_factory=dict)


def release_model(model) -> None:
    """Let an old model be freed: drop its agents and Mesa's per-model id counter.

    Mesa 3.3 keeps a counter of agent ids per model in ``mesa.Agent._ids`` (a class attribute),
    which holds every model ever made alive (fixed in later Mesa releases). Without this, each
    Reset would keep the old model, its agents and its daily records (tens of MiB) for good.
    """
    try:
        model.remove_all_agents()
    except AttributeError:  # an older Mesa without remove_all_agents
        pass
    ids = getattr(mesa.Agent, "_ids", None)
    if ids is not None and hasattr(ids, "pop"):
        ids.pop(model, None)
    model.datacollector = None


#: Earlier runs of a page kept for comparison.
KEPT_RUNS = 5


def settings_words(applied: Mapping[str, object]) -> str:
    """What a run's settings changed from the page's defaults, in short words."""
    from .state import initial_controls, model_kwargs

    base = model_kwargs(initial_controls(), seed=1)
    words = []
    for key, value in applied.items():
        if key == "dynamics":
            words += [f"{name} {number:g}" for name, number in dict(value).items()]
        elif key == "rng":
            words += [] if value == 1 else [f"seed {value}"]
        elif value != base.get(key) and value is not None:
            words.append(f"{key.replace('_', ' ')} {value:g}" if isinstance(value, float)
                         else f"{key.replace('_', ' ')} {value}")  # fmt: skip
    return ", ".join(words) or "the defaults"


def run_summary(model, applied: Mapping[str, object]) -> dict:
    """A line for the comparison of runs: settings, days run, couples and outcome counts."""
    return {"settings": settings_words(applied), "day": model.day, "days": model.days,
            "couples": model.setup.couples, "counts": model.outcome_counts()}  # fmt: skip


def runs_html(runs: list[dict], current: dict) -> str:
    """The comparison table of this page's last runs and the current one, as HTML."""
    head = (
        "<tr><th>run</th><th>settings (changed from the defaults)</th><th>days</th>"
        "<th>couples</th>" + "".join(f"<th>{name}</th>" for name in LABELS) + "</tr>"
    )
    body = []
    for number, run in enumerate([*runs, current], start=1):
        name = "now" if run is current else str(number)
        cells = "".join(f'<td style="text-align:right">{run["counts"][label]}</td>'
                        for label in LABELS)  # fmt: skip
        body.append(
            f"<tr><td>{name}</td><td>{escape(run['settings'])}</td>"
            f"<td>{run['day']} of {run['days']}</td><td>{run['couples']}</td>{cells}</tr>"
        )
    return (f'<table class="relsim-aspects relsim-runs"><caption style="caption-side:top;'
            f'text-align:left;font-size:17px;font-weight:600">Your last runs on this page'
            f"</caption>{head}{''.join(body)}</table>")  # fmt: skip


def _release_all(models: list) -> None:
    for model in models:
        release_model(model)
    models.clear()


class Session:
    """One page's run: the model, its relief episodes, and the frame the page shows.

    Every change of the model (reset, steps) happens under ``lock`` and ends by computing a new
    :class:`Frame`; ``frame`` is replaced in one assignment, so readers always get a consistent
    snapshot of one day.

    Parameters
    ----------
    kwargs : mapping
        ``RelationshipModel`` keyword arguments (see ``sim.dashboard.state.model_kwargs``).

    """

    def __init__(self, kwargs: Mapping[str, object]) -> None:
        self.lock = threading.RLock()
        self.generation = 0
        self.model = None
        # Mesa keeps every model alive until it is released (see release_model): release the
        # current one when the session goes (a closed tab's session culled by Solara), or on
        # close(); the list always holds the current model.
        self._current: list = []
        #: Index of the couple the Couple view follows (0 is couple 1).
        self.followed = 0
        #: Summaries of this page's earlier runs (see ``run_summary``), oldest first.
        self.runs: list[dict] = []
        self._finalizer = weakref.finalize(self, _release_all, self._current)
        self.episodes: ReliefEpisodes | None = None
        self.applied: dict[str, object] = {}
        self.frame: Frame
        self.reset(kwargs)

    def reset(self, kwargs: Mapping[str, object]) -> Frame:
        """Build a new model from ``kwargs`` (freeing the old one) and return its first frame."""
        with self.lock:
            old = self.model
            if old is not None and old.day > 0:
                self.runs = [*self.runs, run_summary(old, self.applied)][-KEPT_RUNS:]
            self.model = None
            self.episodes = None
            if old is not None:
                release_model(old)
            del old
            # The model and its agents point at each other, so only the cycle collector frees
            # them; Python runs it rarely, and meanwhile each Reset would keep tens of MiB.
            gc.collect()
            self._current.clear()
            self.model = RelationshipModel(**kwargs)
            self._current.append(self.model)
            if self.followed >= self.model.setup.couples:
                self.followed = 0
            self.episodes = ReliefEpisodes(self.model, self.followed)
            self.applied = dict(kwargs)
            self.generation += 1
            self._labels: list[tuple[int, str]] = []
            return self._draw()

    def csv(self, which: str) -> str:
        """The run so far as ``couples.csv`` or ``timeseries.csv`` text (``which``)."""
        with self.lock:
            return couples_csv(self.model) if which == "couples" else timeseries_csv(self.model)

    def follow(self, couple: int) -> Frame:
        """Let the Couple view follow couple index ``couple`` (0-based) of the current run."""
        with self.lock:
            couple = min(max(int(couple), 0), self.model.setup.couples - 1)
            self.followed = couple
            self.episodes = ReliefEpisodes(self.model, couple)
            self._labels = []
            return self._draw()

    def charts_zip(self) -> bytes:
        """Every live chart of the current frame as an SVG file, in one zip archive."""
        frame = self.frame
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for view in ("couple", "population"):
                for name, svg in getattr(frame, view).items():
                    archive.writestr(f"day-{frame.day}-{view}-{name}.svg", svg)
        return out.getvalue()

    def close(self) -> None:
        """Release the model now (the page is gone); the session is not used afterwards.

        Solara may keep the closed page's objects (this session among them) a while longer;
        everything large is dropped here so that they cost nothing meanwhile.
        """
        with self.lock:
            self._finalizer()
            self.model = None
            self.episodes = None
            self.frame = replace(self.frame, couple={}, population={}, badge="", aspects="")
        gc.collect()

    @property
    def finished(self) -> bool:
        """Whether the run has reached its last day."""
        return self.model.day >= self.model.days

    def advance(self, days: int = 1, parts: Collection[str] | None = None) -> Frame:
        """Simulate up to ``days`` more days (not past the end) and return the new frame.

        The days go to the model's engine in one call. Mesa's ``DataCollector`` (which
        ``RelationshipModel.step`` fills with every agent's values each day) is skipped: no
        view reads it, and for 500 couples it cost four times the simulation itself.

        ``parts`` (names from ``FRAME_PARTS``) are the parts of the frame to draw anew, the
        ones on screen while playing; the others keep the previous frame's text. By default
        every part is drawn.
        """
        with self.lock:
            model = self.model
            days = min(max(int(days), 0), model.days - model.day)
            if days > 0:
                model.kernel.advance(days)
            model.running = model.day < model.days
            return self._draw(parts)

    def _undecided(self) -> tuple[str, ...]:
        """Couple 1's labels over the last ``UNDECIDED_DAYS`` days, when there were several.

        The label is noted on every frame; near a boundary it can change from one day to the
        next, and the badge then says "UNDECIDED" instead of flipping. With many days per frame
        there is one note a frame, so the badge names the current label.
        """
        model = self.model
        if days_until_verdict(model) > 0:
            return ()
        self._labels.append((model.day, followed_outcome(model, self.followed)))
        self._labels = [(day, label) for day, label in self._labels
                        if day > model.day - UNDECIDED_DAYS]  # fmt: skip
        seen = tuple(dict.fromkeys(label for _, label in self._labels))
        return seen if len(seen) > 1 else ()

    def _draw(self, parts: Collection[str] | None = None) -> Frame:
        model = self.model
        table = model.couples_table()
        previous = getattr(self, "frame", None)
        if previous is None or previous.generation != self.generation:
            parts = None

        def drawn(part: str, draw):
            return draw() if parts is None or part in parts else getattr(previous, part)

        undecided = self._undecided()
        finished = model.day >= model.days
        if days_until_verdict(model) > 0:
            outcome = "too-early"
        else:
            outcome = ("undecided" if undecided and not finished
                       else followed_outcome(model, self.followed))  # fmt: skip
        frame = Frame(
            generation=self.generation, day=model.day, days=model.days,
            couples=model.setup.couples, finished=finished, outcome=outcome,
            badge=drawn("badge", lambda: badge_html(model, undecided, self.followed)),
            aspects=drawn("aspects", lambda: aspects_html(model)),
            couple=drawn("couple", lambda: couple_charts(model, self.episodes)),
            population=drawn("population",
                             lambda: population_charts(model, self.followed, table)),
            applied=dict(self.applied), where=where_now(table, self.followed),
        )  # fmt: skip
        self.frame = frame
        return frame
