"""The Solara dashboard: explore the reassurance dynamics in the browser, and teach them.

Start it with ``relsim dashboard`` or ``solara run sim/app.py`` (a thin file that shows this
page); it serves everything from this machine (no network needed). The page has a settings
column, a run bar that stays in view (Reset, Step, Play/Pause, Run to end, days per frame, the
day), and five views: Couple, All couples, Where you are, Population and Explain.

One :class:`sim.dashboard.views.Session` per page owns the model. Play runs in a thread that
simulates a few days under the session's lock and then computes a complete
:class:`~sim.dashboard.views.Frame` (every chart, the badge and the table, as text); the page
draws only from frames, so it never reads a model that is being stepped. Phase diagrams and the
mixed population run in background threads on each Reset and are cached by parameters.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import warnings
from html import escape
from pathlib import Path

import ipyvuetify
import solara
import solara.lab
import solara.server.settings as _solara_settings
import traitlets

from sim import net
from sim.classmode.send import ClassSend
from sim.dashboard.background import (
    LEVER_PAIRS,
    day_hours,
    lever_diagram,
    mixed_population,
    phase_grid,
)
from sim.dashboard.state import (
    COUPLES_RANGE,
    DAYS_RANGE,
    EXPLAIN,
    MAX_COUPLES,
    dynamics_of,
    initial_controls,
    intervention_day,
    lever_names,
    levers,
    model_kwargs,
    other_dynamics,
    param_label,
    parse_seed,
    preset_traits,
    slider_range,
)
from sim.dashboard.views import (
    FRAME_PARTS,
    KIND_WORDS,
    Frame,
    Session,
    hours_chart,
    lever_chart,
    mixed_population_chart,
    phase_chart,
    run_summary,
    runs_html,
)
from sim.engine import kernel as _kernel
from sim.interventions import KINDS
from sim.params import DYNAMICS, INTERVENTIONS, PERSON
from sim.styles import LITERATURE_MIX, Style, mix_in_words

__all__ = ["Dashboard", "Page", "page", "serve"]

#: What the browser tab says.
TITLE = "relsim"

# -- the server around the page ---------------------------------------------------------------

# Solara's defaults for a public website do not fit a page served from a teacher's laptop: its
# "This website runs on Solara" banner covers the charts' axes, the tab would read "Solara", and
# a closed tab would keep its session (a model of tens of MiB) for 24 hours. An environment
# variable set by the user (SOLARA_KERNEL_CULL_TIMEOUT, ...) still wins.
_solara_settings.theme.show_banner = False
_solara_settings.theme.title = TITLE
if "SOLARA_KERNEL_CULL_TIMEOUT" not in os.environ:
    _solara_settings.kernel.cull_timeout = "60s"

# Serving on 127.0.0.1 (not the name "localhost"), Solara warns on every page load that its
# session cookie falls back to SameSite=lax. That is right for this page (never embedded in
# another site), so the warning is only noise in the log.
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https",
                        category=UserWarning)  # fmt: skip


def exposure_warning(host: str) -> str:
    """The warning printed when the dashboard listens beyond this machine ("" on loopback)."""
    return net.exposure_warning(host, "relsim dashboard", "anyone who can reach this computer "
                                "on the network can open the page and run models on it (there "
                                "is no password). In a classroom, share it only on a network you "
                                "trust, and stop it (Ctrl+C) after the lesson; see "
                                "docs/teaching.md, 'Sharing the dashboard'.")  # fmt: skip


# `solara run` sets SERVER_NAME to the host it binds before it imports this module.
if os.environ.get("SERVER_NAME") and not os.environ.get("RELSIM_DASHBOARD_WARNED"):
    _warning = exposure_warning(os.environ["SERVER_NAME"])
    if _warning:
        print(_warning, file=sys.stderr, flush=True)


class _Engine:
    """The compiled engine, loaded (or compiled, once per installation) in a background thread.

    Compiling takes about 40 s on a small machine; loading it from the cache about a second.
    Until it is ready the page says "Preparing the engine…" and keeps its run buttons off, so
    the first click never freezes the page.
    """

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.error = ""
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> _Engine:
        """Start loading the engine in the background (once); return self."""
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self._load, name="relsim-engine",
                                                daemon=True)  # fmt: skip
                self._thread.start()
        return self

    def _load(self) -> None:
        try:
            _kernel.warm_up()
        except Exception as error:  # the page then says what failed; NumPy still works
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.ready.set()


ENGINE = _Engine()
# Under `solara run` (which sets SOLARA_APP before importing this module) start at once, so the
# engine is ready before the first visitor; elsewhere (tests, `serve` in the parent process,
# notebooks) the first page shown starts it.
if os.environ.get("SOLARA_APP"):
    ENGINE.start()

# -- settings, and how they travel in the page's address ---------------------------------------

_KIND_WORDS = KIND_WORDS
_TRAIT_WORDS = {"anxiety": "Anxiety (fear of being left)",
                "avoidance": "Avoidance (unease with closeness)"}  # fmt: skip
_SPEEDS = (1, 2, 5, 10, 30)
#: Days simulated per frame by "Run to end" (a frame about every half second).
RUN_TO_END_DAYS = 30
#: Shortest time between two frames while playing: a breath for the server's other threads.
#: The browser's own pace is kept by ``FrameClock``.
MIN_FRAME_SECONDS = 0.005
#: Longest wait for the browser to say it drew a frame (a slow or hidden tab is not waited for).
FRAME_WAIT_SECONDS = 1.0


def controls_to_query(controls: dict) -> str:
    """Encode the controls that differ from the defaults as a URL query string."""
    defaults = initial_controls()
    changed = {key: controls[key] for key in defaults if controls.get(key) != defaults[key]}
    return urllib.parse.urlencode({key: ("1" if value is True else "0" if value is False
                                         else f"{value:g}" if isinstance(value, float)
                                         else str(value))
                                   for key, value in changed.items()})  # fmt: skip


def controls_from_query(query: str | None) -> tuple[dict, list[str]]:
    """Read controls from a URL query; return them and what was ignored (unknown or bad).

    Every value is checked against the same ranges as the sliders, so a link can only set what
    the page itself offers.
    """
    controls = initial_controls()
    ignored = []
    for key, raw in urllib.parse.parse_qsl(query or "", keep_blank_values=True):
        if key not in controls:
            ignored.append(key)
            continue
        default = controls[key]
        try:
            if isinstance(default, bool):
                if raw not in ("0", "1"):
                    raise ValueError
                value: object = raw == "1"
            elif key in ("style_a", "style_b"):
                Style.from_label(raw)
                value = raw
            elif key == "seed_text":
                value = raw if parse_seed(raw)[0] is not None else default
            else:
                number = float(raw)
                low, high = _range_of(key)
                if not low <= number <= high:
                    raise ValueError
                value = int(number) if isinstance(default, int) else number
        except (ValueError, KeyError):
            ignored.append(key)
            continue
        controls[key] = value
    return controls, ignored


def _range_of(key: str) -> tuple[float, float]:
    if key == "days":
        return DAYS_RANGE[0], DAYS_RANGE[1]
    if key == "couples":
        return COUPLES_RANGE[0], COUPLES_RANGE[1]
    if key.endswith("_day"):
        return 0, DAYS_RANGE[1]
    if key in DYNAMICS:
        return slider_range(DYNAMICS[key])[:2]
    trait = key.rsplit("_", 1)[0]
    return slider_range(PERSON[trait])[:2]


def mix_words() -> str:
    """The literature's style mix in words ("56% secure, 19% anxious, 11.5% avoidant, ...")."""
    return mix_in_words(LITERATURE_MIX)


def _update(controls: solara.Reactive[dict], **changes: object) -> None:
    controls.value = {**controls.value, **changes}


def style_matches(controls: dict, role: str) -> bool:
    """Whether partner ``role``'s two trait sliders sit on their style's preset."""
    anxiety, avoidance = preset_traits(str(controls[f"style_{role}"]))
    return (abs(float(controls[f"anxiety_{role}"]) - anxiety) < 1e-9
            and abs(float(controls[f"avoidance_{role}"]) - avoidance) < 1e-9)  # fmt: skip


# -- controls ----------------------------------------------------------------------------------


@solara.component
def LabelledSlider(label: str, value: float, css_key: str, low: float, high: float, step: float,
                   on_value, integer: bool = False):  # fmt: skip
    """A slider named ``label`` (for screen readers too) with its current value written above."""
    shown = f"{int(value)}" if integer else f"{value:g}"
    solara.HTML(tag="div", classes=["relsim-slider-label"],
                unsafe_innerHTML=f"{escape(label)}: <b>{shown}</b>")  # fmt: skip
    with solara.Div(classes=["relsim-slider", f"relsim-slider-{css_key}"]):
        solara.v.Slider(
            v_model=value, min=low, max=high, step=step, label=label, hide_details=True,
            dense=True, on_v_model=lambda new: on_value(int(new) if integer else float(new)),
        )  # fmt: skip


@solara.component
def ControlSlider(controls: solara.Reactive[dict], key: str):
    """A slider for a dynamics parameter or a partner's trait, from the parameter table."""
    if key in DYNAMICS:
        param = DYNAMICS[key]
        label = param_label(param)
    else:
        trait = key.rsplit("_", 1)[0]
        param = PERSON[trait]
        label = f"{_TRAIT_WORDS.get(trait, param_label(param))}, partner {key[-1].upper()}"
    low, high, step = slider_range(param)
    LabelledSlider(label, float(controls.value[key]), key, low, high, step,
                   lambda new: _update(controls, **{key: new}), integer=param.integer)  # fmt: skip


@solara.component
def StylePicker(controls: solara.Reactive[dict], role: str):
    """Buttons for partner ``role``'s style; picking one moves the two trait sliders to it.

    A button is shown as chosen only while both sliders sit on that style's preset.
    """

    def pick(style: str | None) -> None:
        if style is None:
            return
        anxiety, avoidance = preset_traits(style)
        _update(controls, **{f"style_{role}": style, f"anxiety_{role}": anxiety,
                             f"avoidance_{role}": avoidance})  # fmt: skip

    chosen = str(controls.value[f"style_{role}"]) if style_matches(controls.value, role) else None
    with solara.Div(classes=["relsim-style-group"],
                    style={"margin": "4px 0"}):  # fmt: skip
        solara.ToggleButtonsSingle(value=chosen, values=Style.labels(), on_value=pick, dense=True,
                                   classes=[f"relsim-style-{role}"])  # fmt: skip


@solara.component
def PartnerControls(controls: solara.Reactive[dict], role: str):
    """Style preset plus anxiety and avoidance sliders for one partner."""
    solara.HTML(tag="h3", unsafe_innerHTML=f"Partner {role.upper()}", classes=["relsim-h3"])
    StylePicker(controls, role)
    ControlSlider(controls, f"anxiety_{role}")
    ControlSlider(controls, f"avoidance_{role}")


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
            day = intervention_day(controls.value, kind)
            LabelledSlider(f"{_KIND_WORDS[kind]}: from day", day, f"{kind}-day", 0,
                           max(days - 1, 1), 1,
                           lambda value, kind=kind: _update(controls, **{f"{kind}_day": value}),
                           integer=True)  # fmt: skip
            if day < int(controls.value[f"{kind}_day"]):
                solara.HTML(
                    tag="div",
                    classes=["relsim-help"],
                    unsafe_innerHTML=(
                        f"(The run has only {days} days, so it starts on day {day}, the last.)"
                    ),
                )


@solara.component
def RunSettings(controls: solara.Reactive[dict], seed_error: str):
    """Days, number of couples (with one-click choices) and the seed (checked before use)."""
    LabelledSlider("Days to simulate", int(controls.value["days"]), "days", *DAYS_RANGE,
                   lambda value: _update(controls, days=value), integer=True)  # fmt: skip
    couples = int(controls.value["couples"])
    LabelledSlider(f"Couples (1 to {MAX_COUPLES}; couple 1 is followed)", couples, "couples",
                   *COUPLES_RANGE, lambda value: _update(controls, couples=value),
                   integer=True)  # fmt: skip
    with solara.Div(classes=["relsim-couples-choices"]):
        for choice in (1, 100, MAX_COUPLES):
            solara.Button(
                f"{choice} couple{'s' if choice > 1 else ''}",
                small=True,
                outlined=choice != couples,
                color="primary",
                on_click=lambda choice=choice: _update(controls, couples=choice),
            )
    solara.InputText("Seed (whole number)", value=str(controls.value["seed_text"]),
                     on_value=lambda text: _update(controls, seed_text=text),
                     continuous_update=True, classes=["relsim-seed"])  # fmt: skip
    if seed_error:
        # Whatever was typed is escaped: the message shows it as text, never as markup.
        solara.HTML(tag="div", unsafe_innerHTML=escape(seed_error, quote=False),
                    classes=["relsim-error"],
                    attributes={"role": "alert"})  # fmt: skip


@solara.component
def Settings(controls: solara.Reactive[dict], seed_error: str):
    """Every setting; Reset applies them."""
    solara.HTML(tag="h2", unsafe_innerHTML="Settings", classes=["relsim-h2"])
    solara.HTML(
        tag="p",
        classes=["relsim-help"],
        unsafe_innerHTML=("Change anything here, then press <b>Reset</b> to start a run with it."),
    )
    with solara.Card(margin=0, classes=["relsim-card"]):
        solara.HTML(tag="h2", unsafe_innerHTML="The two partners", classes=["relsim-h2"])
        PartnerControls(controls, "a")
        PartnerControls(controls, "b")
    with solara.Card(margin=0, classes=["relsim-card"]):
        solara.HTML(tag="h2", unsafe_innerHTML="The levers, communication and stress",
                    classes=["relsim-h2"])  # fmt: skip
        for name in lever_names():
            ControlSlider(controls, name)
    with solara.Card(margin=0, classes=["relsim-card"]):
        solara.HTML(tag="h2", unsafe_innerHTML="Help from outside", classes=["relsim-h2"])
        InterventionControls(controls)
    with solara.Card(margin=0, classes=["relsim-card"]):
        solara.HTML(tag="h2", unsafe_innerHTML="Run length, couples, seed",
                    classes=["relsim-h2"])  # fmt: skip
        RunSettings(controls, seed_error)
    with solara.Card(margin=0, classes=["relsim-card"]):
        solara.HTML(tag="h2", unsafe_innerHTML="Every other parameter", classes=["relsim-h2"])
        MoreParameters(controls)


@solara.component
def MoreParameters(controls: solara.Reactive[dict]):
    """The rest of the parameter table, behind a button (drawn only when opened)."""
    shown, set_shown = solara.use_state(False)
    solara.Button("Hide them" if shown else f"Show {len(other_dynamics())} more",
                  on_click=lambda: set_shown(not shown), small=True, outlined=True,
                  classes=["relsim-more"])  # fmt: skip
    if shown:
        for name in other_dynamics():
            ControlSlider(controls, name)


# -- live blocks: redrawn by the play loop without a render of the page ----------------------


def day_html(frame: Frame) -> str:
    """The run bar's day counter."""
    return f"{'Finished: d' if frame.finished else 'D'}ay <b>{frame.day}</b> of {frame.days}"


def live_content(frame: Frame, key: str) -> str:
    """What the live block ``key`` shows in ``frame``."""
    if key == "day":
        return day_html(frame)
    if key in ("badge", "aspects"):
        return getattr(frame, key)
    view, name = key.split(":", 1)
    return getattr(frame, view)[name]


@solara.component
def LiveHTML(live: dict, key: str, content: str, classes: list[str], tag: str = "div",
             render=None):  # fmt: skip
    """A block of HTML the play loop updates in place (see ``push_frame``).

    ``render(frame)`` gives the block's text for a frame; by default it is ``live_content``
    (a chart, the badge or the table already in the frame).

    Rendering the page walks every one of its few hundred components, about a tenth of a
    second or more per frame; writing the new text straight into these few widgets costs
    nothing, so Play runs as fast as the model and the charts are computed. The page itself
    is rendered again when playing stops, so everything ends consistent.
    """
    element = solara.HTML(tag=tag, unsafe_innerHTML=content, classes=classes)
    how = solara.use_memo(dict, [])
    how["render"] = render or (lambda frame: live_content(frame, key))  # the latest, each render

    def register():
        live[key] = (solara.get_widget(element), how)
        return lambda: live.pop(key, None)

    solara.use_effect(register, [])
    return element


def shown_parts(live: dict) -> set[str]:
    """The parts of a frame (``FRAME_PARTS``) that the live blocks on screen show."""
    return {key.split(":", 1)[0] for key in list(live)} & set(FRAME_PARTS)


def push_frame(live: dict, frame: Frame) -> None:
    """Write ``frame`` into every live block on the page."""
    for key, entry in list(live.items()):
        if key == "clock":
            continue
        widget, how = entry
        try:
            widget.unsafe_innerHTML = how["render"](frame)
        except (KeyError, AttributeError):  # a block of a view being closed
            continue


# -- the run bar -------------------------------------------------------------------------------


@solara.component
def RunBar(session: Session, version: solara.Reactive[int], live: dict, pending: dict,
           playing: solara.Reactive[bool], to_end: solara.Reactive[bool],
           per_frame: solara.Reactive[int], pause_ms: solara.Reactive[int],
           engine_ready: bool, on_reset, on_step):  # fmt: skip
    """Reset, Step, Play/Pause, Run to end, speed and the day: always in view (sticky)."""
    version.value  # noqa: B018 (redraw on every new frame)
    frame: Frame = session.frame
    stale = pending != dict(frame.applied)
    busy = not engine_ready
    with solara.Div(classes=["relsim-runbar"]):
        with solara.Div(classes=["relsim-runrow"]):
            solara.Button("Reset", on_click=on_reset, color="primary", disabled=busy,
                          classes=["relsim-reset"])  # fmt: skip
            solara.Button("Step", on_click=on_step, outlined=True,
                          disabled=busy or frame.finished)  # fmt: skip
            if playing.value:
                solara.Button("❚❚ Pause", on_click=lambda: (playing.set(False), to_end.set(False)),
                              outlined=True, classes=["relsim-pause"])  # fmt: skip
            else:
                solara.Button("▶ Play", on_click=lambda: playing.set(True), outlined=True,
                              disabled=busy or frame.finished,
                              classes=["relsim-play"])  # fmt: skip
            solara.Button("Run to end", outlined=True, disabled=busy or frame.finished,
                          on_click=lambda: (to_end.set(True), playing.set(True)))  # fmt: skip
            LiveHTML(live, "day", day_html(frame), ["relsim-day"], tag="span")
            with solara.Div(classes=["relsim-speed"]):
                solara.HTML(tag="span", unsafe_innerHTML="Days per frame:",
                            classes=["relsim-speed-label"])  # fmt: skip
                solara.ToggleButtonsSingle(
                    value=per_frame.value,
                    values=list(_SPEEDS),
                    on_value=lambda value: per_frame.set(int(value or 1)),
                    dense=True,
                    classes=["relsim-days-per-frame"],
                )
        with solara.Div(classes=["relsim-runrow"]):
            with solara.Div(classes=["relsim-pause-box"]):
                solara.HTML(tag="span", classes=["relsim-slider-label"], unsafe_innerHTML=(
                    f"Pause between frames: <b>{pause_ms.value} ms</b>"))  # fmt: skip
                with solara.Div(classes=["relsim-slider", "relsim-slider-pause"]):
                    solara.v.Slider(
                        v_model=pause_ms.value,
                        min=0,
                        max=500,
                        step=20,
                        label="Pause between frames (ms)",
                        hide_details=True,
                        dense=True,
                        on_v_model=lambda new: pause_ms.set(int(new)),
                    )
            status = []
            if busy:
                status.append('<span class="relsim-preparing">Preparing the engine… (the '
                              "first start on a computer compiles it, about 40 s; later "
                              "starts take a second)</span>")  # fmt: skip
            if stale:
                status.append(
                    '<span class="relsim-stale">Settings changed: the charts still '
                    "show the old run. Press <b>Reset</b> to apply them.</span>"
                )
            if frame.finished:
                status.append(f'<span class="relsim-finished">Run finished on day {frame.days}. '
                              "Reset to run again.</span>")  # fmt: skip
            solara.HTML(tag="div", classes=["relsim-status"], unsafe_innerHTML=" ".join(status),
                        attributes={"role": "status", "aria-live": "polite"})  # fmt: skip
        if busy:
            solara.ProgressLinear(True)


# -- the page as a whole -----------------------------------------------------------------------


class PageFixes(ipyvuetify.VuetifyTemplate):
    """Set what Solara's page template gets wrong for this page, once the page is shown.

    Solara's template has no ``lang`` on ``<html>`` (screen readers then guess the language)
    and a viewport that forbids zooming (``user-scalable=no``, ``maximum-scale=1``), which
    people with low vision need on tablets and phones. Both are set here, in the browser, and
    every progress bar that appears (Solara's busy bar, a map being computed) gets a name.
    """

    template = traitlets.Unicode("""
<template><span class="relsim-page-fixes" style="display:none"></span></template>
<script>
module.exports = {
  mounted() {
    document.documentElement.setAttribute("lang", "en");
    const viewport = document.querySelector('meta[name="viewport"]');
    if (viewport) {
      viewport.setAttribute("content", "width=device-width, initial-scale=1");
    }
    // Progress bars (Solara's "busy" bar, the maps being computed) come and go: name each.
    const name = () => {
      for (const bar of document.querySelectorAll('[role="progressbar"]:not([aria-label])')) {
        bar.setAttribute("aria-label", "Working…");
      }
    };
    name();
    this.observer = new MutationObserver(name);
    this.observer.observe(document.body, {childList: true, subtree: true});
  },
  beforeDestroy() {
    if (this.observer) {
      this.observer.disconnect();
    }
  },
};
</script>
""").tag(sync=True)


class FrameClock(ipyvuetify.VuetifyTemplate):
    """The browser's word that it has drawn the last frame sent, so Play never outruns it.

    The play loop raises ``sent`` after writing a frame into the page; the browser answers
    with ``drawn`` once that frame is on screen (after the next paint). The loop computes the
    next frame meanwhile, but sends it only when the browser has drawn the one before: at most
    one frame is on its way, so the page keeps pace with whatever the browser and the network
    manage, and stays free to take a click on Pause. ``alive`` says a browser is
    there at all (in a notebook without a front end, or in the tests, nobody answers and the
    loop does not wait).
    """

    sent = traitlets.Int(0).tag(sync=True)
    drawn = traitlets.Int(0).tag(sync=True)
    alive = traitlets.Bool(False).tag(sync=True)
    template = traitlets.Unicode("""
<template><span class="relsim-frame-clock" style="display:none"></span></template>
<script>
module.exports = {
  mounted() {
    this.alive = true;
  },
  watch: {
    sent(value) {
      // The animation frame runs just before the paint; the timeout right after it.
      requestAnimationFrame(() => setTimeout(() => { this.drawn = value; }, 0));
    },
  },
};
</script>
""").tag(sync=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.answered = threading.Event()
        self.observe(lambda _change: self.answered.set(), names=["drawn"])

    def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` s until the browser has drawn every frame sent so far."""
        deadline = time.monotonic() + timeout
        while self.alive and self.drawn < self.sent and time.monotonic() < deadline:
            self.answered.wait(max(deadline - time.monotonic(), 0.0))
            self.answered.clear()

    def sent_one(self) -> None:
        """Note that a frame was written into the page."""
        if self.alive:
            self.sent += 1


class PngButton(ipyvuetify.VuetifyTemplate):
    """A button that saves one chart of the page as a PNG picture (drawn by the browser).

    The charts are SVG in the page; the browser draws the chart found by ``selector`` on a
    canvas at twice its size, on white, and downloads it as ``filename``. Nothing goes to the
    server and nothing new is installed.
    """

    selector = traitlets.Unicode("").tag(sync=True)
    filename = traitlets.Unicode("chart.png").tag(sync=True)
    label = traitlets.Unicode("PNG").tag(sync=True)
    template = traitlets.Unicode("""
<template>
  <v-btn small outlined class="relsim-png" @click="save" :aria-label="'Save ' + label + ' as PNG'">
    {{ label }}
  </v-btn>
</template>
<script>
module.exports = {
  methods: {
    save() {
      const svg = document.querySelector(this.selector + " svg");
      if (!svg) {
        return;
      }
      const box = svg.viewBox.baseVal;
      const scale = 2;
      const copy = svg.cloneNode(true);
      copy.setAttribute("width", box.width * scale);
      copy.setAttribute("height", box.height * scale);
      const text = new XMLSerializer().serializeToString(copy);
      const picture = new Image();
      const name = this.filename;
      picture.onload = () => {
        const canvas = document.createElement("canvas");
        canvas.width = box.width * scale;
        canvas.height = box.height * scale;
        const pen = canvas.getContext("2d");
        pen.fillStyle = "white";
        pen.fillRect(0, 0, canvas.width, canvas.height);
        pen.drawImage(picture, 0, 0, canvas.width, canvas.height);
        canvas.toBlob((blob) => {
          const link = document.createElement("a");
          link.href = URL.createObjectURL(blob);
          link.download = name;
          document.body.appendChild(link);
          link.click();
          link.remove();
          setTimeout(() => URL.revokeObjectURL(link.href), 10000);
        }, "image/png");
      };
      picture.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
    },
  },
};
</script>
""").tag(sync=True)


@solara.component
def ChartPngs(charts: list[tuple[str, str]]):
    """One PNG button per chart ``(label, css class of its block)`` of a view."""
    with solara.Div(classes=["relsim-downloads"]):
        solara.HTML(tag="span", unsafe_innerHTML="Save a chart as PNG:", classes=["relsim-help"])
        for label, css in charts:
            PngButton.element(
                selector=f".{css}",
                label=label,
                filename=f"relsim-{css.removeprefix('relsim-')}.png",
            )


# -- the views ---------------------------------------------------------------------------------


def _svg(svg: str, name: str):
    return solara.HTML(tag="div", unsafe_innerHTML=svg, classes=["relsim-chart", f"relsim-{name}"])


def couple_grid(frame: Frame) -> str:
    """The Couple view's charts of ``frame`` in one block, each in its own ``relsim-<name>``."""
    return "".join(f'<div class="relsim-chart relsim-{name}">{svg}</div>'
                   for name, svg in frame.couple.items())  # fmt: skip


@solara.component
def CoupleView(frame: Frame, live: dict, session: Session):
    """Both partners over days, requests and answers, relief per episode, badge and table."""
    LiveHTML(live, "badge", frame.badge, ["relsim-badge-box"])
    # The six charts travel as one block: one message per frame instead of six, which is what
    # a browser pays most for while playing.
    LiveHTML(live, "couple:charts", couple_grid(frame), ["relsim-charts", "relsim-couple-charts"],
             render=couple_grid)  # fmt: skip
    LiveHTML(live, "aspects", frame.aspects, ["relsim-aspects-box"])
    HourZoom(session, frame.days, frame.generation)
    Downloads(session)
    ChartPngs(
        [(name.capitalize(), f"relsim-{name}") for name in frame.couple]
        + [("Hour by hour", "relsim-hours")]
    )


@solara.component
def HourZoom(session: Session, days: int, generation: int):
    """Zoom into one day of couple 1, hour by hour (the engine's own hourly trace).

    The day slider spans the whole run (the page is not redrawn every simulated day); a day
    not simulated yet is replaced by the last one simulated when the button is pressed.
    """
    chosen, set_chosen = solara.use_state(1)
    shown, set_shown = solara.use_state(0)
    note, set_note = solara.use_state("")
    setup = session.model.setup if session.model is not None else None

    def trace():
        return day_hours(setup, shown) if shown and setup is not None else None

    result = solara.lab.use_task(trace, dependencies=[shown, generation], prefer_threaded=True)
    solara.use_effect(lambda: set_shown(0), [generation])  # a new run: nothing zoomed yet

    def show() -> None:
        simulated = session.frame.day
        if simulated < 1:
            set_note("Step or play a few days first.")
            return
        set_note(
            ""
            if chosen <= simulated
            else f"Day {chosen} has not been simulated yet: showing day {simulated}."
        )
        set_shown(min(chosen, simulated))

    solara.HTML(tag="h2", unsafe_innerHTML="Hour by hour", classes=["relsim-h2"])
    with solara.Div(classes=["relsim-zoom"]):
        with solara.Div(style={"min-width": "260px", "flex": "1"}):
            LabelledSlider("Day to zoom into", min(chosen, days), "zoom-day", 1, max(days, 2), 1,
                           set_chosen, integer=True)  # fmt: skip
        solara.Button("Show that day hour by hour", outlined=True, on_click=show)
    if note:
        solara.HTML(tag="p", classes=["relsim-help"], unsafe_innerHTML=escape(note))
    if shown and (result.pending or result.value is None):
        solara.Text(f"Replaying couple 1 hour by hour up to day {shown}…")
        solara.ProgressLinear(True)
    elif shown and result.value is not None:
        _svg(hours_chart(result.value), "hours")


@solara.component
def Downloads(session: Session):
    """The run so far as the two CSV files ``relsim run`` writes (same columns)."""
    with solara.Div(classes=["relsim-downloads"]):
        solara.HTML(tag="span", unsafe_innerHTML="Download this run so far:",
                    classes=["relsim-help"])  # fmt: skip
        for which in ("couples", "timeseries"):
            solara.FileDownload(lambda which=which: session.csv(which).encode(),
                                filename=f"{which}.csv", label=f"{which}.csv",
                                mime_type="text/csv")  # fmt: skip
        solara.FileDownload(
            session.charts_zip,
            filename="relsim-charts.zip",
            label="every chart (SVG, zip)",
            mime_type="application/zip",
        )


@solara.component
def AllCouplesView(frame: Frame, live: dict, session: Session, on_follow):
    """Every couple as a tile coloured by its outcome so far, and which one the Couple view follows.

    Like Mesa's agent views: the whole population at a glance.
    """
    solara.HTML(tag="p", classes=["relsim-help"], unsafe_innerHTML=(
        "One square per couple, coloured by its outcome so far; hover over a square for its "
        "number. The outlined one is the couple the Couple view follows."))  # fmt: skip
    if frame.couples > 1:
        with solara.Div(style={"max-width": "520px"}):
            LabelledSlider("Couple the Couple view follows", session.followed + 1, "follow", 1,
                           frame.couples, 1, lambda number: on_follow(number - 1),
                           integer=True)  # fmt: skip
    LiveHTML(live, "population:tiles", frame.population["tiles"],
             ["relsim-chart", "relsim-tiles"])  # fmt: skip


@solara.component
def TippingView(frame: Frame, live: dict, controls: solara.Reactive[dict], lever: dict):
    """The bifurcation diagram of the lever being moved, with your setting and your run on it.

    The mean field (``sim.meanfield``) of your couple, solved in the background and cached, so
    moving the lever's own slider only moves the line; the run's couples are drawn where they
    are now (updated while playing).
    """
    picked = solara.use_reactive(0)  # a click on a lever button redraws the view
    picked.value  # noqa: B018
    name = lever["name"] if lever["name"] in levers() else levers()[0]
    pending = model_kwargs(controls.value, 0)
    # Only what the mean field reads: the lever's own value, days, seed and strategies are out.
    key = str(
        sorted(
            (k, v)
            for k, v in pending.items()
            if k != name and not k.endswith("_day") and k not in ("days", "rng")
        )
    )
    diagram = solara.lab.use_task(lambda: lever_diagram(pending, name), dependencies=[key, name],
                                  prefer_threaded=True)  # fmt: skip
    setting = float(controls.value[name])
    applied = dict(frame.applied)
    ran_at = float(dynamics_of(applied).get(name, DYNAMICS[name].default))

    def pick(value) -> None:
        if value:
            lever["name"] = value
            picked.set(picked.value + 1)

    solara.HTML(tag="h2", unsafe_innerHTML="Tipping points of a lever", classes=["relsim-h2"])
    with solara.Div(classes=["relsim-charts"]):
        with solara.Column():
            titles = {DYNAMICS[lever_name].title: lever_name for lever_name in levers()}
            solara.ToggleButtonsSingle(
                value=DYNAMICS[name].title,
                values=list(titles),
                on_value=lambda title: pick(titles.get(title)),
                dense=True,
                classes=["relsim-lever-pairs", "relsim-tipping-lever"],
            )
            if diagram.finished and diagram.value is not None and diagram.value.name == name:
                shown = diagram.value

                def render(latest: Frame) -> str:
                    return lever_chart(shown, setting, latest.where, ran_at, latest.couples,
                                       latest.day)  # fmt: skip

                LiveHTML(live, "where:tipping", render(frame), ["relsim-chart", "relsim-tipping"],
                         render=render)  # fmt: skip
            else:
                solara.Text(f"Solving the average couple over {DYNAMICS[name].title.lower()}…")
                solara.ProgressLinear(True)
        solara.HTML(tag="p", classes=["relsim-help"], unsafe_innerHTML=(
            "The <b>average couple</b> of your settings (the mean-field model: no chance, no "
            "strategies) settles where its lines are: <b>green</b> calm, <b>red</b> a spiral. "
            "Open circles on the dashed line are the <b>tipping threshold</b> between them; in "
            "the grey band both are possible, and where a couple ends depends on where it "
            "starts. The black line is your setting of the lever (the diagram follows the "
            "lever you moved last); the dots are your run now: the seekers' requests a day "
            "over the last 30 days. Once a couple has tipped into the spiral, moving the lever "
            "back a little is not enough to bring it back."))  # fmt: skip


@solara.component
def WhereView(applied: dict):
    """Phase diagrams around the current settings, computed in the background on Reset."""
    which, set_which = solara.use_state(next(iter(LEVER_PAIRS)))
    traits = solara.lab.use_task(lambda: phase_grid(applied, "traits"),
                                 dependencies=[str(applied)], prefer_threaded=True)  # fmt: skip
    lever_map = solara.lab.use_task(
        lambda: phase_grid(applied, which), dependencies=[str(applied), which], prefer_threaded=True
    )
    solara.HTML(tag="h2", unsafe_innerHTML="Maps: your run with two values changed",
                classes=["relsim-h2"])  # fmt: skip
    solara.HTML(tag="p", classes=["relsim-help"], unsafe_innerHTML=(
        "Each square ran 3 couples for the whole run with your settings, changing only the two "
        "values on the axes. The colour is the share of couples spiraling or dissolved (a "
        "couple that spirals long enough dissolves): <b>dark blue</b> none, <b>yellow</b> all. "
        "The black dot is your couple (as last Reset). A narrow band where dark turns yellow "
        "is a <b>tipping point</b>."))  # fmt: skip
    with solara.Div(classes=["relsim-charts"]):
        with solara.Column():
            if traits.finished and traits.value is not None:
                _svg(phase_chart(traits.value), "phase-traits")
            else:
                solara.Text("Computing the anxiety × avoidance map…")
                solara.ProgressLinear(True)
        with solara.Column():
            solara.HTML(tag="div", unsafe_innerHTML="Levers on the axes:",
                        classes=["relsim-help"])  # fmt: skip
            solara.ToggleButtonsSingle(value=which, values=list(LEVER_PAIRS),
                                       on_value=lambda value: set_which(value or which),
                                       dense=True, classes=["relsim-lever-pairs"])  # fmt: skip
            if lever_map.finished and lever_map.value is not None:
                _svg(phase_chart(lever_map.value), "phase-levers")
            else:
                solara.Text("Computing the levers map…")
                solara.ProgressLinear(True)
    ChartPngs([("Tipping points", "relsim-tipping"), ("Traits map", "relsim-phase-traits"),
               ("Levers map", "relsim-phase-levers")])  # fmt: skip


@solara.component
def PopulationView(frame: Frame, live: dict, session: Session):
    """Outcome shares and request rates of the run; outcomes by pairing in a mixed class."""
    applied = dict(frame.applied)
    mixed = solara.lab.use_task(lambda: mixed_population(applied), dependencies=[str(applied)],
                                prefer_threaded=True)  # fmt: skip
    with solara.Div(classes=["relsim-charts"]):
        for name in ("outcomes", "requests"):
            LiveHTML(live, f"population:{name}", frame.population[name],
                     ["relsim-chart", f"relsim-population-{name}"])  # fmt: skip
        with solara.Column():
            if mixed.finished and mixed.value is not None:
                _svg(mixed_population_chart(mixed.value), "population-pairings")
                solara.HTML(tag="p", classes=["relsim-help"], unsafe_innerHTML=(
                    f"{MAX_COUPLES} couples drawn from a typical adult population "
                    f"({mix_words()}) and paired at random, with your levers, communication, "
                    "stress and help."))  # fmt: skip
            else:
                solara.Text("Computing a mixed class of couples…")
                solara.ProgressLinear(True)
    ChartPngs([("Outcomes", "relsim-population-outcomes"),
               ("Requests", "relsim-population-requests"),
               ("Pairings", "relsim-population-pairings")])  # fmt: skip
    if session.runs and session.model is not None:
        with session.lock:
            current = run_summary(session.model, session.applied)
        solara.HTML(tag="div", classes=["relsim-runs-box"],
                    unsafe_innerHTML=runs_html(session.runs, current))  # fmt: skip


@solara.component
def ExplainView(controls: solara.Reactive[dict]):
    """Each mechanism in plain words, next to the control that drives it (the same control)."""
    solara.HTML(tag="p", classes=["relsim-help"], unsafe_innerHTML=(
        "Move a control here or in the settings column (they are the same), then press "
        "<b>Reset</b> and <b>▶ Play</b> to see what it does."))  # fmt: skip
    for title, driver, text in EXPLAIN:
        with solara.Columns([3, 2], classes=["relsim-explain-row"]):
            with solara.Column():
                solara.HTML(tag="h3", unsafe_innerHTML=escape(title), classes=["relsim-h3"])
                solara.HTML(tag="p", unsafe_innerHTML=text, classes=["relsim-explain-text"])
            with solara.Column():
                if driver == "style":
                    PartnerControls(controls, "a")
                elif driver == "avoidance":
                    ControlSlider(controls, "avoidance_b")
                elif driver in DYNAMICS:
                    ControlSlider(controls, driver)
                elif driver == "interventions":
                    InterventionControls(controls)
                elif driver == "trust":
                    solara.Text("Watch: the Trust chart in the Couple view.")
                else:
                    solara.Text("Watch: the coloured badge in the Couple view.")
    solara.HTML(
        tag="p",
        classes=["relsim-help"],
        unsafe_innerHTML="<br>".join(
            f"<b>{_KIND_WORDS[kind]}</b>: {escape(INTERVENTIONS[kind])}" for kind in KINDS
        ),
    )


@solara.component
def Views(session: Session, version: solara.Reactive[int], live: dict,
          controls: solara.Reactive[dict], on_follow, lever: dict):  # fmt: skip
    """The tabs, drawn from the session's latest frame."""
    version.value  # noqa: B018 (redraw on every new frame)
    frame: Frame = session.frame
    with solara.lab.Tabs(lazy=True):
        with solara.lab.Tab("Couple"):
            CoupleView(frame, live, session)
        with solara.lab.Tab("All couples"):
            AllCouplesView(frame, live, session, on_follow)
        with solara.lab.Tab("Where you are"):
            TippingView(frame, live, controls, lever)
            WhereView(dict(frame.applied))
        with solara.lab.Tab("Population"):
            PopulationView(frame, live, session)
        with solara.lab.Tab("Explain"):
            ExplainView(controls)


_CSS = """
.v-application { font-size: 16px; }
.v-application .relsim-h1 { font-size: 24px; font-weight: 700; margin: 0; line-height: 1.2; }
.v-application .relsim-h2 { font-size: 18px; font-weight: 700; margin: 4px 0; }
.v-application .relsim-h3 { font-size: 17px; font-weight: 700; margin: 6px 0 2px; }
.relsim-header { padding: 6px 16px; background: #1f3a5f; color: white; display: flex;
  align-items: baseline; gap: 16px; flex-wrap: wrap; }
.relsim-header .relsim-sub { font-size: 16px; margin: 0; }
.relsim-layout { display: grid; grid-template-columns: 320px minmax(0, 1fr); }
.relsim-settings { position: sticky; top: 0; align-self: start; max-height: 100vh;
  overflow-y: auto; padding: 8px 10px; border-right: 1px solid #ccc; background: #fafafa; }
.relsim-card { padding: 6px 10px !important; margin-bottom: 8px !important; }
.relsim-main { padding: 0 12px 24px; min-width: 0; }
.relsim-runbar { position: sticky; top: 0; z-index: 6; background: white;
  border-bottom: 2px solid #1f3a5f; padding: 6px 0; }
.relsim-runrow { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; }
.relsim-speed { display: flex; align-items: center; gap: 6px; }
.relsim-pause-box { display: flex; align-items: center; gap: 6px; width: 420px; }
.relsim-pause-box .relsim-slider-label { margin: 0; white-space: nowrap; }
.relsim-pause-box .relsim-slider { flex: 1; min-width: 90px; }
.relsim-day { font-size: 18px; margin: 0 6px; white-space: nowrap; }
.relsim-style-group .v-btn { min-width: 0 !important; padding: 0 9px !important;
  letter-spacing: 0 !important; text-transform: none; font-size: 15px; }
.relsim-couples-choices { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0; }
.relsim-couples-choices .v-btn { font-size: 15px !important; text-transform: none;
  letter-spacing: 0 !important; }
.v-application .v-btn--outlined { color: #1f3a5f !important; }
.relsim-couples-choices .v-btn:not(.v-btn--outlined) { background-color: #1f3a5f !important;
  color: white !important; }
.relsim-lever-pairs { flex-wrap: wrap; height: auto !important; }
.relsim-lever-pairs .v-btn { text-transform: none; letter-spacing: 0 !important;
  font-size: 15px !important; }
.relsim-downloads { display: flex; gap: 10px; align-items: center; flex-wrap: wrap;
  margin: 8px 0; }
.relsim-tiles { max-width: 640px; }
.relsim-zoom { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
.relsim-days-per-frame .v-btn { min-width: 36px !important; padding: 0 8px !important; }
.relsim-status { font-size: 16px; min-height: 0; }
.relsim-stale { background: #FFF4CC; color: #4A3800; padding: 2px 8px; border-radius: 4px;
  display: inline-block; }
.relsim-finished { background: #E3F1EA; color: #0B3D2A; padding: 2px 8px; border-radius: 4px;
  display: inline-block; font-weight: 600; }
.relsim-preparing { font-weight: 600; color: #1f3a5f; }
.relsim-help { color: #333; font-size: 16px; line-height: 1.45; margin: 4px 0; }
.relsim-error, .relsim-warning { color: #A0001C; font-weight: 600; font-size: 16px; }
.relsim-slider-label { font-size: 16px; margin-top: 6px; }
.relsim-slider .v-label { position: absolute !important; width: 1px; height: 1px;
  overflow: hidden; clip: rect(0 0 0 0); }
.relsim-charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr));
  gap: 6px 14px; align-items: start; }
.relsim-chart svg { display: block; }
.relsim-explain-row { border-bottom: 1px solid #ddd; padding: 8px 0; }
.relsim-explain-text { font-size: 17px; line-height: 1.5; margin: 0; }
.v-application *:focus-visible, .v-application .v-btn:focus-visible,
.v-application .v-slider__thumb-container:focus { outline: 3px solid #0B57D0 !important;
  outline-offset: 2px; }
.v-application .v-btn:focus::before { opacity: 0 !important; }
.v-application .v-btn.v-btn--active { background-color: #1f3a5f !important;
  color: white !important; }
.v-application .v-btn.v-btn--active::before { opacity: 0 !important; }
.v-slider__thumb-label { font-size: 15px !important; }
.v-input__slot { margin-bottom: 0 !important; }
@media (max-width: 1000px) { .relsim-layout { grid-template-columns: 280px minmax(0, 1fr); } }
@media (max-width: 700px) {
  .relsim-layout { grid-template-columns: minmax(0, 1fr); }
  .relsim-settings { position: static; max-height: none; order: 2; border-right: 0; }
  .relsim-charts { grid-template-columns: minmax(0, 1fr); }
}
"""


@solara.component
def Dashboard():
    """Lay out the page: a header, the settings column, the run bar and the views."""
    router = solara.use_router()
    first_controls, _ = solara.use_memo(lambda: controls_from_query(router.search), [])
    controls = solara.use_reactive(first_controls)
    seed, seed_error = parse_seed(controls.value["seed_text"])
    good_seed = solara.use_reactive(seed if seed is not None else 1)
    if seed is not None and seed != good_seed.value:
        good_seed.set(seed)
    pending = model_kwargs(controls.value, good_seed.value)
    # The lever moved last: the "Where you are" view draws its bifurcation diagram.
    lever = solara.use_memo(lambda: {"name": levers()[0], "seen": {}}, [])
    for name in levers():
        if name in lever["seen"] and lever["seen"][name] != controls.value[name]:
            lever["name"] = name
        lever["seen"][name] = controls.value[name]
    session = solara.use_memo(lambda: Session(pending), [])
    solara.use_effect(lambda: session.close, [])  # the page closed: free its model at once
    version = solara.use_reactive(0)
    live = solara.use_memo(dict, [])
    playing = solara.use_reactive(False)
    to_end = solara.use_reactive(False)
    per_frame = solara.use_reactive(1)
    pause_ms = solara.use_reactive(100)
    engine_ready = solara.use_reactive(ENGINE.start().ready.is_set())

    def wait_for_engine():
        ENGINE.ready.wait()
        engine_ready.set(True)

    solara.use_thread(wait_for_engine, dependencies=[])

    def redraw() -> None:
        version.set(version.value + 1)

    # Each start of the play task takes a new number; an older loop still sleeping sees that it
    # is no longer the current one and ends, so a quick Pause then Play never runs two loops.
    loops = solara.use_memo(lambda: {"current": 0}, [])

    def play() -> None:
        loops["current"] += 1
        mine = loops["current"]
        while playing.value and loops["current"] == mine:
            started = time.monotonic()
            days = RUN_TO_END_DAYS if to_end.value else per_frame.value
            frame = session.advance(days, parts=shown_parts(live))
            clock = live.get("clock")
            if clock is not None:
                clock.wait(FRAME_WAIT_SECONDS)  # the frame before is on screen
            push_frame(live, frame)
            if clock is not None:
                clock.sent_one()
            if frame.finished:
                playing.set(False)
                to_end.set(False)
                break
            pause = 0.0 if to_end.value else pause_ms.value / 1000
            time.sleep(max(pause - (time.monotonic() - started), MIN_FRAME_SECONDS))
        if loops["current"] == mine:
            session.advance(0)  # every part of the frame, for the views not on screen
            redraw()  # playing stopped: render the whole page once from the latest frame

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    def reset() -> None:
        playing.set(False)
        to_end.set(False)
        session.reset(pending)
        if getattr(router, "set_path", None) is not None:  # served (not in a notebook)
            query = controls_to_query(controls.value)
            router.push(f"{router.path}?{query}" if query else router.path)
        redraw()

    def follow(couple: int) -> None:
        session.follow(couple)
        redraw()

    def step() -> None:
        if playing.value:
            playing.set(False)
        frame = session.advance(1)
        push_frame(live, frame)
        if frame.finished:
            redraw()

    solara.Style(_CSS)
    solara.Title(TITLE)
    PageFixes.element()
    clock = FrameClock.element()

    def keep_clock():
        live["clock"] = solara.get_widget(clock)
        return lambda: live.pop("clock", None)

    solara.use_effect(keep_clock, [])
    # Solara puts the page inside its own <main>: the parts here are named regions inside it.
    with solara.v.Html(tag="div", class_="relsim-header"):
        solara.HTML(tag="h1", unsafe_innerHTML="relsim: reassurance in couples",
                    classes=["relsim-h1"])  # fmt: skip
        solara.HTML(
            tag="p",
            classes=["relsim-sub"],
            unsafe_innerHTML=(
                "An attachment simulation: how asking for and giving reassurance shapes a couple."
            ),
        )
    with solara.Div(classes=["relsim-layout"]):
        with solara.v.Html(tag="section", class_="relsim-settings",
                           attributes={"aria-label": "Settings"}):  # fmt: skip
            Settings(controls, seed_error)
            ClassSend(controls)  # class mode only: sim/classmode/send.py
        with solara.v.Html(tag="section", class_="relsim-main",
                           attributes={"aria-label": "Run and views"}):  # fmt: skip
            RunBar(session, version, live, pending, playing, to_end, per_frame, pause_ms,
                   engine_ready.value, reset, step)  # fmt: skip
            Views(session, version, live, controls, follow, lever)


#: Solara's name for the page of a module (``solara run sim/app.py``).
Page = Dashboard

#: Flags for ``solara run`` that keep it offline. Solara checks PyPI for a newer version of
#: itself when ``solara run`` starts, before this module is imported; the only switch is this
#: command-line flag (Solara 1.58 reads no setting or environment variable for it), so it cannot
#: be turned off from here: start the page with ``relsim dashboard`` (``serve``) or pass it.
SOLARA_OFFLINE_FLAGS = ("--no-check-version",)

#: What ``solara run sim/app.py`` shows.
page = Dashboard()

# -- serving -----------------------------------------------------------------------------------

#: The file ``solara run`` serves: ``sim/app.py``, which shows this module's page.
ENTRY = Path(__file__).absolute().parent.parent / "app.py"

#: Exit status for a bad port or a port in use (as for any bad input of ``relsim``).
EXIT_BAD_INPUT = 2


def port_problem(host: str, port: int) -> str:
    """Return why the dashboard cannot listen on ``host:port`` ("" when it can)."""
    return net.port_problem(host, port, holder="a dashboard", command="relsim dashboard",
                            default=net.DASHBOARD_PORT)  # fmt: skip


def _die_with_parent(parent: int):
    """Return a function for the child that asks Linux for SIGTERM when ``parent`` dies.

    It runs in the child between fork and exec, so the server stops even when the parent is
    killed without a chance to clean up (SIGKILL). If the parent died before the request took
    effect, the child leaves at once.
    """

    def arrange() -> None:  # pragma: no cover - runs in the child before exec
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
        except (OSError, AttributeError):
            return  # not Linux: the parent's signal handlers still stop the child
        if os.getppid() != parent:
            os._exit(0)

    return arrange


def serve(port: int = net.DASHBOARD_PORT, host: str = "127.0.0.1") -> int:
    """Serve the dashboard on ``http://host:port`` until stopped; return an exit status.

    Runs ``solara run`` on this file in a child process (production mode: no auto-reload), so
    the page, its scripts and styles all come from this machine. The child stops with the
    parent: on Ctrl+C, SIGTERM or SIGHUP the parent stops it and waits for it, and on Linux the
    child also gets SIGTERM if the parent dies without a word (SIGKILL).

    Parameters
    ----------
    port : int
        TCP port, 1 to 65535.
    host : str
        Address to listen on; the default serves this machine only. Any other address prints
        a warning: anyone on the network can then open the page.

    Returns
    -------
    int
        0 after a clean stop (Ctrl+C, SIGTERM or SIGHUP included), 2 for a bad or busy port,
        else the server's status.

    """
    problem = net.port_number_problem(port) or port_problem(host, port)
    if problem:
        print(f"relsim dashboard: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    warning = exposure_warning(host)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    command = [sys.executable, "-m", "solara", "run", str(ENTRY),
               "--port", str(port), "--host", host, "--production",
               *SOLARA_OFFLINE_FLAGS]  # fmt: skip
    env = {
        **os.environ,
        "RELSIM_DASHBOARD_WARNED": "1",
        "PYTHONPATH": os.pathsep.join([str(ENTRY.parent.parent), os.environ.get("PYTHONPATH", "")]),
    }

    def on_signal(number, _frame) -> None:
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, on_signal)
                for number in (signal.SIGTERM, signal.SIGHUP)}  # fmt: skip
    process = None
    try:
        process = subprocess.Popen(command, env=env, preexec_fn=_die_with_parent(os.getpid()))
        print(f"relsim dashboard: open http://{host}:{port} in a browser (Ctrl+C stops it)",
              flush=True)  # fmt: skip
        status = process.wait()
        if status == 3:  # uvicorn could not bind: someone took the port in the meantime
            print(f"relsim dashboard: {port_problem(host, port) or f'port {port} is busy'}",
                  file=sys.stderr)  # fmt: skip
            return EXIT_BAD_INPUT
        return status
    except KeyboardInterrupt:
        return 0
    finally:
        # A second signal while the server shuts down must not cut the clean-up short.
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous.setdefault(number, signal.getsignal(number))
            signal.signal(number, signal.SIG_IGN)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for number, handler in previous.items():
            signal.signal(number, handler)
