"""The Solara dashboard: explore the reassurance dynamics in the browser, and teach them.

Start it with ``relsim dashboard`` or ``solara run sim/app.py``; it serves everything from this
machine (no network needed). It is built from Mesa's SolaraViz pieces: Mesa's ``ModelController``
gives Reset, Play/Pause and Step on a :class:`sim.model.RelationshipModel` (one step is one
simulated day), and custom Solara components give the controls SolaraViz has no widget for
(style presets that move two sliders, a checked seed field, interventions with a start day) and
the four views: Couple, Where you are, Population and Explain.

The live charts are SVG built by ``sim.dashboard_charts`` (about a millisecond each, so Play stays
smooth); phase diagrams and the mixed population run in a background thread on each Reset and
are cached by parameters, so nothing blocks the server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import solara
import solara.lab

from sim import kernel as _kernel
from sim.dashboard_state import (
    EXPLAIN,
    LEVER_PAIRS,
    MAX_COUPLES,
    SLIDER_RANGES,
    ReliefEpisodes,
    initial_controls,
    mixed_population,
    model_kwargs,
    parse_seed,
    phase_grid,
    preset_traits,
)
from sim.dashboard_views import (
    aspects_html,
    badge_html,
    couple_charts,
    mixed_population_chart,
    phase_chart,
    population_charts,
)
from sim.interventions import KINDS
from sim.model import RelationshipModel
from sim.params import DYNAMICS, INTERVENTIONS
from sim.styles import Style

# Importing Mesa's SolaraViz module trips Solara's rules-of-hooks checker (a use_state after an
# early return in Mesa's ComponentsView, which this page does not use). The warning is about
# Mesa's code, not ours, and only clutters the server log: that one component's warning is
# ignored, only while Mesa's visualisation modules are imported. (When warnings are errors, as
# under pytest, Solara reports the same finding as "Failed to validate hooks for component".)
with warnings.catch_warnings():
    for message in (r".*solara_viz\.py:\d+: ComponentsView: ",
                    "Failed to validate hooks for component ComponentsView"):  # fmt: skip
        warnings.filterwarnings("ignore", message=message, category=UserWarning)
    from mesa.visualization.solara_viz import ModelController
    from mesa.visualization.utils import update_counter

__all__ = ["Dashboard", "page", "serve"]

# Started with `solara run sim/app.py` on a machine where the engine was never compiled, the first
# click would wait half a minute; compile it in the background while the page loads instead.
# (`relsim dashboard` compiles before the server starts, so this finds the cache filled.)
if _kernel.needs_compiling():
    threading.Thread(target=_kernel.warm_up, name="relsim-compile", daemon=True).start()

_LABELS = {
    "anxiety": "Anxiety (fear of being left)",
    "avoidance": "Avoidance (unease with closeness)",
    "reassurance_frequency": "Reassurance frequency (most requests a day)",
    "relief_decay": "Relief decay (how fast relief fades, per day)",
    "exhaustion_rate": "Exhaustion rate (cost of one answer)",
    "communication": "Communication (needs explained, 0-1)",
    "stress_rate": "Stress (outside stressors a day)",
}
_KIND_WORDS = {
    "style_awareness": "Learn each other's styles",
    "communication": "Communicate openly",
    "consistent_actions": "Words and consistent actions",
    "address_fears": "Work on the underlying fear",
    "therapy": "Therapy",
}
_CSS = """
.v-application { font-size: 16px; }
.relsim-help { color: #444; font-size: 15px; line-height: 1.45; }
.relsim-error { color: #B00020; font-weight: 600; font-size: 15px; }
.v-slider__thumb-label, .v-input .v-label { font-size: 15px !important; }
.relsim-explain-row { border-bottom: 1px solid #e3e3e3; padding: 8px 0; }
.relsim-slider-label { font-size: 15px; margin-top: 6px; }
.v-input__slot { margin-bottom: 0 !important; }
"""


def _update(controls: solara.Reactive[dict], **changes: object) -> None:
    controls.value = {**controls.value, **changes}


@solara.component
def StylePicker(controls: solara.Reactive[dict], role: str):
    """Buttons for partner ``role``'s style; picking one moves the two trait sliders to it."""

    def pick(style: str) -> None:
        anxiety, avoidance = preset_traits(style)
        _update(controls, **{f"style_{role}": style, f"anxiety_{role}": anxiety,
                             f"avoidance_{role}": avoidance})  # fmt: skip

    solara.ToggleButtonsSingle(
        value=str(controls.value[f"style_{role}"]),
        values=Style.labels(),
        on_value=pick,
        dense=True,
        classes=[f"relsim-style-{role}"],
    )


@solara.component
def ControlSlider(controls: solara.Reactive[dict], key: str, range_key: str | None = None):
    """Show a slider bound to ``controls[key]``, labelled in plain words."""
    low, high, step = SLIDER_RANGES[range_key or key]
    base = range_key or key
    value = float(controls.value[key])
    solara.HTML(tag="div", classes=["relsim-slider-label"],
                unsafe_innerHTML=f"{_LABELS[base]}: <b>{value:g}</b>")  # fmt: skip
    with solara.Div(classes=[f"relsim-slider-{key}"]):
        solara.SliderFloat(
            "",
            value=value,
            min=low,
            max=high,
            step=step,
            on_value=lambda new: _update(controls, **{key: float(new)}),
        )


@solara.component
def PartnerControls(controls: solara.Reactive[dict], role: str):
    """Style preset plus anxiety and avoidance sliders for one partner."""
    # solara.HTML, not solara.Markdown: Solara's Markdown fetches KaTeX and Mermaid scripts
    # from its CDN path on mount, which this offline page does not serve.
    solara.HTML(tag="div", unsafe_innerHTML=f"<b>Partner {role.upper()}</b>",
                classes=["relsim-partner-title"])  # fmt: skip
    StylePicker(controls, role)
    ControlSlider(controls, f"anxiety_{role}", "anxiety")
    ControlSlider(controls, f"avoidance_{role}", "avoidance")


@solara.component
def InterventionControls(controls: solara.Reactive[dict]):
    """One switch and start-day slider per strategy of the source article."""
    days = int(controls.value["days"])
    for kind in KINDS:
        on = bool(controls.value[f"{kind}_on"])
        solara.Checkbox(
            label=_KIND_WORDS[kind],
            value=on,
            on_value=lambda value, kind=kind: _update(controls, **{f"{kind}_on": bool(value)}),
        )
        if on:
            solara.SliderInt(
                "from day",
                value=min(int(controls.value[f"{kind}_day"]), days - 1),
                min=0,
                max=max(days - 1, 1),
                on_value=lambda value, kind=kind: _update(controls, **{f"{kind}_day": value}),
                thumb_label=True,
            )


@solara.component
def IntSlider(value: int, label: str, css_key: str, low: int, high: int, step: int, on_value):
    """An integer slider with its label and current value written above it, like ControlSlider."""
    solara.HTML(tag="div", classes=["relsim-slider-label"],
                unsafe_innerHTML=f"{label}: <b>{value}</b>")  # fmt: skip
    with solara.Div(classes=[f"relsim-slider-{css_key}"]):
        solara.SliderInt("", value=value, min=low, max=high, step=step,
                         on_value=lambda new: on_value(int(new)))  # fmt: skip


@solara.component
def RunControls(controls: solara.Reactive[dict], seed_error: str):
    """Days, number of couples (with one-click choices) and the seed (checked before use)."""
    IntSlider(int(controls.value["days"]), "Days to simulate", "days", 30, 730, 10,
              lambda value: _update(controls, days=value))  # fmt: skip
    couples = int(controls.value["couples"])
    IntSlider(couples, f"Couples (1 to {MAX_COUPLES}; couple 1 is followed)", "couples",
              1, MAX_COUPLES, 1, lambda value: _update(controls, couples=value))  # fmt: skip
    with solara.Row(classes=["relsim-couples-choices"]):
        for choice in (1, 100, MAX_COUPLES):
            solara.Button(f"{choice} couple{'s' if choice > 1 else ''}", small=True,
                          outlined=choice != couples, color="primary",
                          on_click=lambda choice=choice: _update(controls, couples=choice))
    solara.InputText("Seed (whole number)", value=str(controls.value["seed_text"]),
                     on_value=lambda text: _update(controls, seed_text=text),
                     continuous_update=True, classes=["relsim-seed"])  # fmt: skip
    if seed_error:
        solara.HTML(tag="div", unsafe_innerHTML=seed_error, classes=["relsim-error"])


@solara.component
def Sidebar(controls, model, model_params, seed_error, play_interval):
    """Run buttons (Mesa's controller) and every setting; Reset applies the settings."""
    with solara.Card("Run", margin=0):
        ModelController(model, model_parameters=model_params, play_interval=play_interval,
                        render_interval=solara.use_reactive(1),
                        use_threads=solara.use_reactive(False))  # fmt: skip
        solara.SliderInt("Pause between days when playing (ms)", value=play_interval,
                         min=0, max=500, step=20)  # fmt: skip
        solara.HTML(tag="div", classes=["relsim-help"], unsafe_innerHTML=(
            "<b>Reset</b> applies the settings below. <b>Step</b> adds one day; "
            "<b>▶</b> plays, <b>❚❚</b> pauses."))  # fmt: skip
    with solara.Card("The two partners", margin=0):
        PartnerControls(controls, "a")
        PartnerControls(controls, "b")
    with solara.Card("The three levers", margin=0):
        for name in ("reassurance_frequency", "relief_decay", "exhaustion_rate"):
            ControlSlider(controls, name)
    with solara.Card("Communication and stress", margin=0):
        ControlSlider(controls, "communication")
        ControlSlider(controls, "stress_rate")
    with solara.Card("Help from outside", margin=0):
        InterventionControls(controls)
    with solara.Card("Run length, couples, seed", margin=0):
        RunControls(controls, seed_error)


def _svg(svg: str, name: str):
    return solara.HTML(tag="div", unsafe_innerHTML=svg, classes=["relsim-chart", f"relsim-{name}"])


@solara.component
def CoupleView(model, episodes):
    """Both partners over days, requests and answers, relief per episode, badge and table."""
    update_counter.get()
    charts = couple_charts(model, episodes)
    solara.HTML(tag="div", unsafe_innerHTML=badge_html(model), classes=["relsim-badge-box"])
    for left, right in (("security", "relief"), ("exhaustion", "trust"),
                        ("requests", "episodes")):  # fmt: skip
        with solara.Columns([1, 1]):
            _svg(charts[left], left)
            _svg(charts[right], right)
    solara.HTML(tag="div", unsafe_innerHTML=aspects_html(model), classes=["relsim-aspects-box"])


@solara.component
def WhereView(applied: dict):
    """Phase diagrams around the current settings, computed in the background on Reset."""
    which, set_which = solara.use_state(next(iter(LEVER_PAIRS)))
    traits = solara.lab.use_task(lambda: phase_grid(applied, "traits"),
                                 dependencies=[str(applied)], prefer_threaded=True)  # fmt: skip
    levers = solara.lab.use_task(lambda: phase_grid(applied, which),
                                 dependencies=[str(applied), which], prefer_threaded=True)
    solara.HTML(tag="div", classes=["relsim-help"], unsafe_innerHTML=(
        "Each square ran 3 couples for the whole run with your settings, changing only the two "
        "values on the axes. The colour is the share of couples spiraling or dissolved (a "
        "couple that spirals long enough dissolves): <b>dark blue</b> none, <b>yellow</b> all. "
        "The black dot is your couple. A narrow band where dark turns yellow is a "
        "<b>tipping point</b>."))  # fmt: skip
    with solara.Columns([1, 1]):
        with solara.Column():
            if traits.finished and traits.value is not None:
                _svg(phase_chart(traits.value), "phase-traits")
            else:
                solara.Text("Computing the anxiety × avoidance map…")
                solara.ProgressLinear(True)
        with solara.Column():
            solara.Select("Levers on the axes", value=which, values=list(LEVER_PAIRS),
                          on_value=set_which)  # fmt: skip
            if levers.finished and levers.value is not None:
                _svg(phase_chart(levers.value), "phase-levers")
            else:
                solara.Text("Computing the levers map…")
                solara.ProgressLinear(True)


@solara.component
def PopulationView(model, applied: dict):
    """Outcome shares and request rates of the run; outcomes by pairing in a mixed class."""
    update_counter.get()
    charts = population_charts(model)
    mixed = solara.lab.use_task(lambda: mixed_population(applied), dependencies=[str(applied)],
                                prefer_threaded=True)  # fmt: skip
    with solara.Columns([1, 1]):
        with solara.Column():
            _svg(charts["outcomes"], "population-outcomes")
            _svg(charts["requests"], "population-requests")
        with solara.Column():
            if mixed.finished and mixed.value is not None:
                _svg(mixed_population_chart(mixed.value), "population-pairings")
                solara.HTML(tag="div", classes=["relsim-help"], unsafe_innerHTML=(
                    f"{MAX_COUPLES} couples drawn from a typical adult population (56% secure, "
                    "25% avoidant, 19% anxious) and paired at random, with your levers, "
                    "communication, stress and help."))  # fmt: skip
            else:
                solara.Text("Computing a mixed class of couples…")
                solara.ProgressLinear(True)


@solara.component
def ExplainView(controls: solara.Reactive[dict]):
    """Each mechanism in plain words, next to the control that drives it (the same control)."""
    solara.HTML(tag="div", classes=["relsim-help"], unsafe_innerHTML=(
        "Move a control here or in the side panel (they are the same), then press "
        "<b>Reset</b> and <b>▶</b> to see what it does."))  # fmt: skip
    for title, driver, text in EXPLAIN:
        with solara.Columns([3, 2], classes=["relsim-explain-row"]):
            with solara.Column():
                solara.HTML(tag="div", unsafe_innerHTML=(
                    f"<div style='font-size:19px;font-weight:700'>{title}</div>"
                    f"<div style='font-size:17px;line-height:1.5'>{text}</div>"))  # fmt: skip
            with solara.Column():
                if driver == "style":
                    PartnerControls(controls, "a")
                elif driver == "avoidance":
                    ControlSlider(controls, "avoidance_b", "avoidance")
                elif driver in DYNAMICS:
                    ControlSlider(controls, driver)
                elif driver == "interventions":
                    InterventionControls(controls)
                elif driver == "trust":
                    solara.Text("Watch: the Trust chart in the Couple view.")
                else:
                    solara.Text("Watch: the coloured badge in the Couple view.")
    solara.HTML(tag="div", classes=["relsim-help"], unsafe_innerHTML="<br>".join(
        f"<b>{_KIND_WORDS[kind]}</b>: {INTERVENTIONS[kind]}" for kind in KINDS))


@solara.component
def Dashboard():
    """Lay out the page: a side panel of settings and the four views as tabs."""
    controls = solara.use_reactive(initial_controls())
    seed, seed_error = parse_seed(controls.value["seed_text"])
    good_seed = solara.use_reactive(seed if seed is not None else 1)
    if seed is not None and seed != good_seed.value:
        good_seed.set(seed)
    params = model_kwargs(controls.value, good_seed.value)
    model_params = solara.use_reactive(params)
    if model_params.value != params:
        model_params.set(params)
    first_model = solara.use_memo(lambda: RelationshipModel(**params), [])
    model = solara.use_reactive(first_model)
    play_interval = solara.use_reactive(100)
    # What the current model was built with (read right after Reset replaced it).
    applied = solara.use_memo(lambda: dict(model_params.value), [model.value])
    episodes = solara.use_memo(lambda: ReliefEpisodes(model.value), [model.value])

    solara.Style(_CSS)
    solara.Title("relsim: reassurance in couples")
    with solara.AppBar():
        solara.AppBarTitle("Reassurance in couples: an attachment simulation")
    with solara.Sidebar():
        Sidebar(controls, model, model_params, seed_error, play_interval)
    with solara.lab.Tabs(lazy=True):
        with solara.lab.Tab("Couple"):
            CoupleView(model.value, episodes)
        with solara.lab.Tab("Where you are"):
            WhereView(applied)
        with solara.lab.Tab("Population"):
            PopulationView(model.value, applied)
        with solara.lab.Tab("Explain"):
            ExplainView(controls)


#: Flags for ``solara run`` that keep it offline. Solara checks PyPI for a newer version of
#: itself when ``solara run`` starts, before this module is imported; the only switch is this
#: command-line flag (Solara 1.58 reads no setting or environment variable for it), so it cannot
#: be turned off from here: start the page with ``relsim dashboard`` (``serve``) or pass it.
SOLARA_OFFLINE_FLAGS = ("--no-check-version",)

#: What ``solara run sim/app.py`` shows.
page = Dashboard()


def serve(port: int = 8765, host: str = "127.0.0.1") -> int:
    """Serve the dashboard on ``http://host:port`` until interrupted; return an exit status.

    Runs ``solara run`` on this file in a child process (production mode: no auto-reload), so
    the page, its scripts and styles all come from this machine.

    Parameters
    ----------
    port : int
        TCP port, 1 to 65535.
    host : str
        Address to listen on; the default serves this machine only.

    Returns
    -------
    int
        0 after a clean stop (including Ctrl+C), 2 for a bad port, else the server's status.

    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        print(f"relsim dashboard: --port must be a whole number from 1 to 65535, got {port!r}",
              file=sys.stderr)  # fmt: skip
        return 2
    command = [sys.executable, "-m", "solara", "run", str(Path(__file__).resolve()),
               "--port", str(port), "--host", host, "--production",
               *SOLARA_OFFLINE_FLAGS]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")])}
    print(f"relsim dashboard: open http://{host}:{port} in a browser (Ctrl+C stops it)")
    process = subprocess.Popen(command, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        return 0
