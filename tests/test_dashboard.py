"""Headless tests of the dashboard: Solara renders the page in Python, no browser.

Buttons are clicked and fields typed through the widgets, as a user would; the model, the badge and
the healthy-versus-excessive table are read back from what the page shows.
"""

from __future__ import annotations

import gc
import re
import socket
import threading
import time
import weakref

import ipyvuetify as v
import numpy as np
import pytest
import solara
import solara.widgets

from sim.dashboard.app import (
    ENGINE,
    Dashboard,
    controls_from_query,
    controls_to_query,
    exposure_warning,
    port_problem,
    serve,
)
from sim.dashboard.background import phase_grid
from sim.dashboard.charts import _share_color, contrast, histogram, text_on
from sim.dashboard.state import (
    ReliefEpisodes,
    initial_controls,
    lever_names,
    model_kwargs,
    other_dynamics,
    parse_seed,
    slider_range,
)
from sim.dashboard.views import (
    _VERDICT_COLORS,
    Session,
    aspects_html,
    badge_html,
    followed_outcome,
    phase_chart,
)
from sim.model import RelationshipModel
from sim.net import is_loopback
from sim.palette import OUTCOME_COLORS
from sim.params import DYNAMICS


def render():
    ENGINE.start().ready.wait()
    _, rc = solara.render(solara.AppLayout(children=[Dashboard()]), handle_error=False)
    return rc


def html(rc, css_class: str) -> list[str]:
    """Return the inner HTML of every ``solara.HTML`` block carrying ``css_class``."""
    return [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
            if css_class in (w.attributes or {}).get("class", "")]  # fmt: skip


def badge(rc) -> str:
    (text,) = html(rc, "relsim-badge-box")
    return text


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def button(rc, label: str):
    return rc.find(v.Btn, children=[label]).widget


def day_text(rc) -> str:
    (text,) = html(rc, "relsim-day")
    return re.sub("<[^>]+>", "", text)


def status(rc) -> str:
    (text,) = html(rc, "relsim-status")
    return text


def widgets(rc):
    """Every widget on the page, depth first."""
    stack, seen = [rc.container], []
    while stack:
        widget = stack.pop()
        seen.append(widget)
        stack.extend(reversed([c for c in (getattr(widget, "children", None) or [])
                               if hasattr(c, "keys")]))  # fmt: skip
    return seen


def slider(rc, key: str):
    """The slider inside the block with class ``relsim-slider-<key>``."""
    (box,) = [w for w in widgets(rc) if isinstance(w, v.Html)
              and f"relsim-slider-{key}" in (w.class_ or "").split()]  # fmt: skip
    (found,) = [w for w in box.children if isinstance(w, v.Slider)]
    return found


def wait_until(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def style_toggle(rc, role: str):
    (toggle,) = [w for w in rc.find(v.BtnToggle).widgets
                 if f"relsim-style-{role}" in (w.class_ or "")]  # fmt: skip
    return toggle


def pick_style(rc, role: str, style: str) -> None:
    style_toggle(rc, role).v_model = ["secure", "anxious", "avoidant", "fearful"].index(style)


def test_every_control_is_on_the_page():
    rc = render()
    for label in ("Reset", "Step", "▶ Play", "Run to end"):
        assert rc.find(v.Btn, children=[label]).widgets, label
    assert len(rc.find(v.BtnToggle).widgets) >= 2  # a style preset per partner
    sidebar_text = " ".join(html(rc, "relsim-slider-label"))
    for words in ("Anxiety", "Avoidance", "Reassurance frequency", "Relief decay",
                  "Exhaustion rate", "Communication", "Stress"):  # fmt: skip
        assert words in sidebar_text, words
    checkboxes = [w.label for w in rc.find(v.Checkbox).widgets]
    assert {"Therapy", "Communicate openly", "Learn each other's styles"} <= set(checkboxes)
    # Every slider shows its current value, the run's sliders included.
    assert "Days to simulate: <b>180</b>" in sidebar_text
    assert "Couples (1 to 500; couple 1 is followed): <b>100</b>" in sidebar_text
    assert rc.find(v.Btn, children=["1 couple"]).widgets
    assert rc.find(v.TextField, label="Seed (whole number)").widget
    tabs = [w.children[0] for w in rc.find(v.Tab).widgets]
    assert tabs == ["Couple", "All couples", "Where you are", "Population", "Explain"]


def test_a_style_preset_moves_its_two_sliders():
    rc = render()
    pick_style(rc, "a", "fearful")
    labels = " ".join(html(rc, "relsim-slider-label"))
    assert "Anxiety (fear of being left), partner A: <b>0.85</b>" in labels
    assert "Avoidance (unease with closeness), partner A: <b>0.85</b>" in labels


def test_the_one_couple_button_and_the_couples_slider_show_their_value():
    rc = render()
    click(rc, "1 couple")
    assert "followed): <b>1</b>" in " ".join(html(rc, "relsim-slider-label"))
    assert slider(rc, "couples").v_model == 1
    click(rc, "Reset")
    assert "All " not in badge(rc)  # one couple: no population summary
    slider(rc, "couples").v_model = 37
    assert "followed): <b>37</b>" in " ".join(html(rc, "relsim-slider-label"))


def test_no_verdict_before_day_14_then_the_live_label():
    rc = render()
    text = badge(rc)
    assert 'data-outcome="too-early"' in text and "JUST STARTED" in text
    assert "verdict in 14 more days" in text and "Day 0 of 180" in text
    assert "All 100 couples: too early to tell" in text
    for word in ("DISTANT", "distant", "stable", "spiraling"):
        assert word not in text, word
    pick_style(rc, "a", "anxious")
    pick_style(rc, "b", "avoidant")
    click(rc, "Reset")
    for _ in range(3):
        click(rc, "Step")
    text = badge(rc)
    assert "JUST STARTED" in text and "verdict in 11 more days" in text
    (table,) = html(rc, "relsim-aspects-box")
    verdicts = re.findall(r'relsim-verdict"[^>]*>([a-z ]+)<', table)
    assert verdicts and set(verdicts) == {"too early"}
    assert "Values so far; too early for a verdict" in table
    for _ in range(11):
        click(rc, "Step")
    text = badge(rc)
    assert "Day 14 of 180" in text and "JUST STARTED" not in text
    assert re.search(r'data-outcome="(stable|spiraling|distant|dissolved)"', text)
    assert re.search(r"All 100 couples: \d+ stable", text)
    (table,) = html(rc, "relsim-aspects-box")
    assert "too early" not in table


def test_step_adds_one_day_and_reset_rebuilds_with_the_new_values():
    rc = render()
    assert "Day 0 of 180" in badge(rc)
    for _ in range(3):
        click(rc, "Step")
    assert "Day 3 of 180" in badge(rc)
    pick_style(rc, "a", "anxious")
    pick_style(rc, "b", "avoidant")
    slider(rc, "days").v_model = 60
    click(rc, "Reset")
    assert "Day 0 of 60" in badge(rc)
    for _ in range(45):
        click(rc, "Step")
    text = badge(rc)
    assert "Day 45 of 60" in text
    # With an anxious person and an avoidant partner at default levers most couples spiral
    # (MODEL.md phenomenon 2); seed 1 with 100 couples: far more than half.
    counts = dict(re.findall(r"(\d+) (stable|spiraling|distant|dissolved)", text))
    assert (
        int(next(k for k, name in counts.items() if name == "spiraling")) > 50
        or 'data-outcome="spiraling"' in text
    )


def test_a_seed_that_is_not_a_number_gives_a_message_not_a_crash():
    rc = render()
    rc.find(v.TextField, label="Seed (whole number)").widget.v_model = "seven"
    (message,) = html(rc, "relsim-error")
    assert "whole number" in message and "'seven'" in message
    click(rc, "Reset")  # keeps the last good seed
    click(rc, "Step")
    assert "Day 1 of 180" in badge(rc)
    rc.find(v.TextField, label="Seed (whole number)").widget.v_model = "42"
    assert html(rc, "relsim-error") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("7", 7), (" 12 ", 12), ("1_000", 1000), ("abc", None), ("", None), ("-3", None), ("2.5", None),
])  # fmt: skip
def test_parse_seed(text, expected):
    value, message = parse_seed(text)
    assert value == expected
    assert (message == "") == (expected is not None)


def _run(style_a: str, style_b: str, days: int = 90) -> RelationshipModel:
    controls = initial_controls()
    controls.update(style_a=style_a, style_b=style_b, couples=20, days=days)
    for role, style in (("a", style_a), ("b", style_b)):
        from sim.dashboard.state import preset_traits

        controls[f"anxiety_{role}"], controls[f"avoidance_{role}"] = preset_traits(style)
    model = RelationshipModel(**model_kwargs(controls, seed=3))
    for _ in range(days):
        model.step()
    return model


def test_badge_and_table_follow_the_dynamics():
    calm, spiral = _run("secure", "secure"), _run("anxious", "avoidant")
    assert followed_outcome(calm) == "stable"
    assert followed_outcome(spiral) in ("spiraling", "dissolved")
    assert 'data-outcome="stable"' in badge_html(calm)
    assert badge_html(calm) != badge_html(spiral)
    verdicts = [re.findall(r'relsim-verdict"[^>]*>([a-z ]+)<', aspects_html(m))
                for m in (calm, spiral)]  # fmt: skip
    assert verdicts[0][0] == "healthy"  # frequency: a secure couple rarely asks
    assert verdicts[1][0] != "healthy"


def test_relief_episodes_follow_the_same_couple_as_the_model():
    model = _run("anxious", "avoidant", days=40)
    episodes = ReliefEpisodes(model)
    episodes.sync()
    # Same people, parameters, seed and couple index: the same story, to the last bit.
    np.testing.assert_array_equal(episodes.kernel.S[:, :, 0], model.kernel.S[:, :, 0])
    assert episodes.days[0], "an anxious person with 40 days has relief episodes"
    assert all(hours > 0 for hours in episodes.hours[0])


def test_phase_grid_is_cached_and_marks_the_couple():
    kwargs = model_kwargs({**initial_controls(), "days": 60}, seed=2)
    first = phase_grid(kwargs)
    assert phase_grid({**kwargs, "couples": 7}) is first  # couples do not matter: cached
    assert first.share.shape == (11, 11)
    assert np.all((first.share >= 0) & (first.share <= 1))
    assert first.marker == (pytest.approx(0.15), pytest.approx(0.15))


def test_phase_grid_counts_couples_spiraling_or_dissolved():
    controls = {**initial_controls(), "days": 90}
    controls.update(style_a="anxious", style_b="avoidant", anxiety_a=0.85, avoidance_a=0.15,
                    anxiety_b=0.15, avoidance_b=0.85)  # fmt: skip
    grid = phase_grid(model_kwargs(controls, seed=4), "traits")
    # The far corner (most anxious A, most avoidant B) ends spiraling or dissolved: a couple
    # that spirals long enough dissolves, and both count, so the corner is not a false hole.
    assert grid.share[-1, -1] == 1.0
    assert grid.share[0, 0] == 0.0


def test_heat_map_uses_the_cividis_scale_and_the_figures_wording():
    svg = phase_chart(phase_grid(model_kwargs({**initial_controls(), "days": 60}, seed=2)))
    assert "share of couples spiraling or dissolved" in svg
    # Cividis ends: dark blue for none, yellow for all (as in sim.plots' figures).
    assert _share_color(0.0) == "rgb(0,34,78)"
    assert _share_color(1.0) == "rgb(254,232,56)"
    assert _share_color(0.5) == "rgb(125,124,120)"
    assert "rgb(255,255,255)" not in svg


@pytest.mark.parametrize("tallest", [1, 7, 43, 83, 100, 500])
def test_histogram_leaves_headroom_above_the_tallest_bar(tallest):
    svg = histogram([0.5] * tallest + [2.5], bins=np.linspace(0, 6, 13), x_label="x",
                    title="How often the seeker asks")  # fmt: skip
    bar_tops = [float(y) for y in re.findall(r'<rect x="[\d.]+" y="([\d.]+)"', svg)]
    plot_top = 58  # top of the plot area; the title sits above it at y = 22
    assert min(bar_tops) >= plot_top + 0.1 * (270 - 46 - plot_top) - 1e-6


# -- the run bar: stale settings, finished runs, speed, style highlight ------------------------


def test_changed_settings_are_flagged_until_reset():
    rc = render()
    assert "Settings changed" not in status(rc)
    slider(rc, "relief_decay").v_model = 2.0
    assert "Settings changed" in status(rc) and "Reset" in status(rc)
    click(rc, "Reset")
    assert "Settings changed" not in status(rc)
    # A seed being typed is a change too; a bad one keeps the last good seed (not a change).
    rc.find(v.TextField, label="Seed (whole number)").widget.v_model = "5"
    assert "Settings changed" in status(rc)


def test_a_style_button_is_lit_only_while_its_sliders_sit_on_the_preset():
    rc = render()
    pick_style(rc, "a", "anxious")
    assert style_toggle(rc, "a").v_model == 1
    slider(rc, "anxiety_a").v_model = 0.5
    assert style_toggle(rc, "a").v_model is None  # no longer describes the sliders
    pick_style(rc, "a", "anxious")
    assert style_toggle(rc, "a").v_model == 1


def test_run_to_end_shows_a_finished_run_with_its_verdict():
    rc = render()
    slider(rc, "days").v_model = 30
    click(rc, "Reset")
    click(rc, "Run to end")
    # The run bar and the views redraw one after the other in the play thread: wait for both.
    wait_until(lambda: "Finished" in day_text(rc) and 'data-finished="true"' in badge(rc))
    wait_until(lambda: rc.find(v.Btn, children=["▶ Play"]).widgets)  # the play loop has ended
    time.sleep(0.3)
    assert day_text(rc) == "Finished: day 30 of 30"
    text = badge(rc)
    assert 'data-finished="true"' in text and "Couple 1 at the end" in text
    assert "so far" not in text and "Finished: day 30 of 30" in text
    assert "Run finished on day 30" in status(rc)
    for label in ("▶ Play", "Step", "Run to end"):
        assert button(rc, label).disabled, label
    click(rc, "Reset")
    assert day_text(rc) == "Day 0 of 30" and not button(rc, "▶ Play").disabled


def test_play_advances_by_the_chosen_days_per_frame():
    rc = render()
    (speed,) = [w for w in rc.find(v.BtnToggle).widgets
                if "relsim-days-per-frame" in (w.class_ or "")]  # fmt: skip
    speed.v_model = 2  # the third choice: 5 days per frame
    slider(rc, "pause").v_model = 0
    click(rc, "▶ Play")
    wait_until(lambda: int(re.findall(r"\d+", day_text(rc))[0]) >= 20)
    click(rc, "❚❚ Pause")
    time.sleep(0.3)
    day = int(re.findall(r"\d+", day_text(rc))[0])
    assert day % 5 == 0, day
    time.sleep(0.5)
    assert int(re.findall(r"\d+", day_text(rc))[0]) == day, "the run went on after Pause"


def test_frames_stay_consistent_while_another_thread_steps():
    """Whatever the page reads while Play steps in a thread is one day's complete picture."""
    controls = {**initial_controls(), "couples": 50, "days": 120}
    session = Session(model_kwargs(controls, seed=2))
    stop = threading.Event()

    def play():
        while not stop.is_set() and not session.finished:
            session.advance(1)

    worker = threading.Thread(target=play)
    worker.start()
    seen = set()
    try:
        while worker.is_alive():
            frame = session.frame
            seen.add(frame.day)
            assert f"Day {frame.day} of 120" in frame.badge or "Finished" in frame.badge
            # Each line of the felt-security chart has one point per simulated day.
            points = re.findall(r'<polyline points="([^"]*)"', frame.couple["security"])
            assert all(len(p.split()) <= frame.day for p in points)
            assert sum(len(p.split()) for p in points[:1]) in (0, frame.day) or frame.day == 0
    finally:
        stop.set()
        worker.join()
    assert session.frame.day == 120 and len(seen) > 3


# -- safety: typed text is never markup, old models are freed ---------------------------------


def test_a_typed_seed_is_shown_as_text_never_as_markup():
    rc = render()
    attack = "<img src=/x onerror=document.title=document.domain>"
    rc.find(v.TextField, label="Seed (whole number)").widget.v_model = attack
    (message,) = html(rc, "relsim-error")
    assert "<img" not in message and "&lt;img src=/x onerror=" in message


def test_reset_frees_the_old_model():
    session = Session(model_kwargs({**initial_controls(), "couples": 20, "days": 30}, seed=1))
    session.advance(3)
    old = weakref.ref(session.model)
    session.reset(model_kwargs({**initial_controls(), "couples": 20, "days": 30}, seed=2))
    gc.collect()
    assert old() is None, "the model before Reset is still alive"


def test_a_session_that_goes_frees_its_model():
    """A closed tab's session, culled by Solara, must not leave its model behind (Mesa 3.3)."""
    session = Session(model_kwargs({**initial_controls(), "couples": 20, "days": 30}, seed=1))
    session.advance(5)
    model = weakref.ref(session.model)
    del session
    gc.collect()
    assert model() is None
    closed = Session(model_kwargs({**initial_controls(), "couples": 20, "days": 30}, seed=1))
    model = weakref.ref(closed.model)
    closed.close()  # the page's clean-up when Solara closes it
    gc.collect()
    assert model() is None


# -- settings from the parameter table and in the page's address ------------------------------


def test_every_dynamics_parameter_has_a_slider_with_the_tables_range():
    rc = render()
    click(rc, f"Show {len(other_dynamics())} more")
    assert set(lever_names()) | set(other_dynamics()) == set(DYNAMICS)
    for name, param in DYNAMICS.items():
        widget = slider(rc, name)
        assert (widget.min, widget.max) == (param.low, param.high), name
        low, high, step = slider_range(param)
        assert 0 < step <= (high - low) / 10, name
        ratio = (param.default - low) / step
        assert abs(ratio - round(ratio)) < 1e-6, f"{name}: the default is off the slider's grid"


def test_controls_take_label_step_and_lever_from_the_parameter_table(monkeypatch):
    import dataclasses

    from sim.dashboard import state
    from sim.dashboard.app import ControlSlider
    from sim.dashboard.background import LEVER_PAIRS

    flagged = [name for name, param in DYNAMICS.items() if param.lever]
    assert list(state.levers()) == flagged and len(flagged) >= 2
    assert lever_names()[: len(flagged)] == tuple(flagged)
    # Every pair of levers has a map, and nothing else does.
    assert {frozenset(pair) for pair in LEVER_PAIRS.values()} == {
        frozenset((x, y)) for i, x in enumerate(flagged) for y in flagged[i + 1 :]
    }
    # A new flag, label or step in the table reaches the controls without a change here.
    name = "burnout"
    changed = dataclasses.replace(DYNAMICS[name], lever=True, label="Burn-out", step=0.2)
    monkeypatch.setitem(DYNAMICS, name, changed)
    assert name in state.levers() and name not in other_dynamics()
    assert slider_range(changed) == (changed.low, changed.high, 0.2)
    controls = solara.reactive(initial_controls())
    _, rc = solara.render(ControlSlider(controls, name), handle_error=False)
    widget = slider(rc, name)
    assert (widget.min, widget.max, widget.step) == (changed.low, changed.high, 0.2)
    assert widget.label == f"Burn-out ({changed.unit})"


def test_no_dynamics_parameter_is_named_in_the_dashboards_code_outside_explain():
    from pathlib import Path

    from sim.dashboard import state

    explained = {driver for _, driver, _ in state.EXPLAIN}
    folder = Path(state.__file__).parent
    for path in sorted(folder.glob("*.py")):
        text = path.read_text()
        if path.name == "state.py":  # EXPLAIN is the one place that ties words to parameters
            start = text.index("EXPLAIN: tuple")
            text = text[:start]
        for name in DYNAMICS:
            assert f'"{name}"' not in text or name in ("communication",), (path.name, name)
    assert {"communication", "stress_rate"} <= explained


def test_derived_measures_come_from_sim(monkeypatch):
    from sim.dashboard import app, views
    from sim.outcomes import seeker_partner
    from sim.styles import LITERATURE_MIX

    assert app.mix_words() == "56% secure, 19% anxious, 11.5% avoidant, 13.5% fearful"
    assert set(LITERATURE_MIX) == {"secure", "anxious", "avoidant", "fearful"}
    model = RelationshipModel(
        **model_kwargs(
            {**initial_controls(), "style_a": "anxious", "anxiety_a": 0.8, "couples": 40}, seed=3
        )
    )
    model.kernel.advance(60)
    seen = {}

    def spy(values, **kwargs):
        seen["values"] = np.asarray(values)
        return ""

    monkeypatch.setattr(views, "histogram", spy)
    views.population_charts(model)
    expected, _ = seeker_partner(model.couples_table(), "request_rate_last_30d")
    np.testing.assert_array_equal(seen["values"], np.asarray(expected))


def test_a_moved_table_parameter_reaches_the_model():
    controls = {**initial_controls(), "burnout": 0.25, "relief_decay": 3.0}
    kwargs = model_kwargs(controls, seed=1)
    model = RelationshipModel(**kwargs)
    assert model.setup.dynamics["burnout"] == 0.25
    assert model.setup.dynamics["relief_decay"] == 3.0


def test_settings_travel_in_the_address_and_bad_values_are_ignored():
    controls = {**initial_controls(), "style_a": "anxious", "anxiety_a": 0.85, "days": 90,
                "therapy_on": True, "therapy_day": 20, "seed_text": "7"}  # fmt: skip
    query = controls_to_query(controls)
    assert "days=90" in query and "therapy_on=1" in query and "couples" not in query
    back, ignored = controls_from_query(query)
    assert back == controls and ignored == []
    back, ignored = controls_from_query("days=99999&style_a=<b>&relief_decay=abc&nope=1&"
                                        "couples=3&seed_text=x")  # fmt: skip
    assert back["days"] == initial_controls()["days"] and back["couples"] == 3
    assert back["seed_text"] == initial_controls()["seed_text"]
    assert set(ignored) == {"days", "style_a", "relief_decay", "nope"}


# -- readable and accessible content ----------------------------------------------------------


def test_chart_text_is_at_least_15_units_and_charts_at_most_460_wide():
    session = Session(model_kwargs({**initial_controls(), "couples": 30, "days": 40}, seed=1))
    frame = session.advance(20)
    svgs = [*frame.couple.values(), *frame.population.values()]
    for svg in svgs:
        sizes = [int(size) for size in re.findall(r'font-size="(\d+)"', svg)]
        assert sizes and min(sizes) >= 15
        assert int(re.search(r'viewBox="0 0 (\d+)', svg).group(1)) <= 460


def test_colours_of_text_meet_the_contrast_minimum():
    for color in _VERDICT_COLORS.values():
        assert contrast(color, "#FFFFFF") >= 4.5, color
    for color in OUTCOME_COLORS.values():
        assert contrast(color, text_on(color)) >= 4.5, color


def test_intervention_start_days_are_marked_on_the_time_charts():
    controls = {**initial_controls(), "therapy_on": True, "therapy_day": 25, "days": 60,
                "couples": 5}  # fmt: skip
    frame = Session(model_kwargs(controls, seed=1)).advance(10)
    for name in ("security", "relief", "exhaustion", "trust", "requests", "episodes"):
        assert "Therapy from day 25" in frame.couple[name], name


# -- serving -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("example.org", False),
])  # fmt: skip
def test_any_host_but_loopback_gets_a_warning(host, loopback):
    assert is_loopback(host) is loopback
    assert (exposure_warning(host) == "") is loopback
    if not loopback:
        assert "WARNING" in exposure_warning(host) and host in exposure_warning(host)


def test_a_busy_port_exits_2_naming_the_port(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert "already in use" in port_problem("127.0.0.1", port)
        assert serve(port=port) == 2
    err = capsys.readouterr().err
    assert f"port {port} is already in use" in err
    assert f"relsim dashboard --port {port + 1}" in err, err  # the hint names the next port
    assert "Traceback" not in err


def test_the_page_says_it_prepares_the_engine_and_waits_for_it(monkeypatch):
    import sim.dashboard.app

    class Loading:
        ready = threading.Event()

        def start(self):
            return self

    loading = Loading()
    monkeypatch.setattr(sim.dashboard.app, "ENGINE", loading)
    _, rc = solara.render(solara.AppLayout(children=[Dashboard()]), handle_error=False)
    assert "Preparing the engine" in status(rc)
    for label in ("Reset", "Step", "▶ Play", "Run to end"):
        assert button(rc, label).disabled, label
    loading.ready.set()
    wait_until(lambda: not button(rc, "Reset").disabled)
    time.sleep(0.5)  # let the watcher thread's render finish before clicking from this one
    assert "Preparing the engine" not in status(rc)
    click(rc, "Step")
    assert day_text(rc) == "Day 1 of 180", day_text(rc)


# -- teaching gaps: thresholds, a badge that does not flip, start days in short runs ----------


def test_a_strategy_ticked_in_a_short_run_starts_inside_it():
    rc = render()
    slider(rc, "days").v_model = 30
    (box,) = [w for w in rc.find(v.Checkbox).widgets if w.label == "Therapy"]
    box.v_model = True
    labels = " ".join(html(rc, "relsim-slider-label"))
    assert "Therapy: from day: <b>29</b>" in labels  # the default 60 is past the run
    assert any("starts on day 29" in text for text in html(rc, "relsim-help"))
    kwargs = model_kwargs({**initial_controls(), "days": 30, "therapy_on": True}, seed=1)
    assert kwargs["therapy_day"] == 29
    click(rc, "Reset")  # the model accepts it (a day past the run would be refused)
    (charts,) = html(rc, "relsim-couple-charts")
    security = charts.split('class="relsim-chart relsim-security"')[1].split("</svg>")[0]
    assert "Therapy from day 29" in security


def test_the_table_shows_its_thresholds_and_agrees_with_a_distant_badge():
    controls = {**initial_controls(), "couples": 1, "days": 120,
                "stress_rate": DYNAMICS["stress_rate"].high}  # fmt: skip
    for role in "ab":
        controls.update({f"style_{role}": "fearful", f"anxiety_{role}": 1.0,
                         f"avoidance_{role}": 1.0})  # fmt: skip
    frame = Session(model_kwargs(controls, seed=3)).advance(120)
    assert "healthy at most 1 a day, excessive from 2 a day" in frame.aspects
    rows = dict(re.findall(r"<tr><td><b>([a-z -]+)</b>.*?relsim-verdict[^>]*>([a-z ]+)<",
                           frame.aspects))  # fmt: skip
    assert "distance" in rows and len(rows) == 5
    if frame.outcome == "distant":  # the case: every reassurance row can read healthy
        assert rows["distance"] == "excessive"
    else:
        assert rows["distance"] == "healthy"


def test_the_badge_says_undecided_instead_of_flipping(monkeypatch):
    import sim.dashboard.views as views

    # Couple 1's label flips every day until day 21, then holds.
    monkeypatch.setattr(
        views,
        "followed_outcome",
        lambda model, couple=0: "stable" if model.day % 2 == 0 and model.day < 22 else "distant",
    )
    session = Session(model_kwargs({**initial_controls(), "couples": 3, "days": 60}, seed=1))
    session.advance(13)  # no verdict before day 14
    outcomes = {}
    for _ in range(15):
        frame = session.advance(1)
        outcomes[frame.day] = frame.outcome
    assert outcomes[14] == "stable"  # one day seen: nothing to weigh yet
    assert {outcomes[day] for day in range(15, 27)} == {"undecided"}
    assert outcomes[27] == outcomes[28] == "distant"  # held for 7 days: named again
    assert "UNDECIDED" not in session.frame.badge


def test_the_run_downloads_as_relsim_runs_csv_files():
    from sim.simulation import COUPLE_COLUMNS

    for couples, header in ((3, "day,couple,partner,style,"), (60, "day,partner,")):
        session = Session(model_kwargs({**initial_controls(), "couples": couples, "days": 20},
                                       seed=1))  # fmt: skip
        session.advance(10)
        lines = session.csv("couples").splitlines()
        assert lines[0].split(",") == list(COUPLE_COLUMNS) and len(lines) == couples + 1
        series = session.csv("timeseries").splitlines()
        assert series[0].startswith(header)
        per_day = couples * 2 if couples <= 50 else 2
        assert len(series) == 1 + 10 * per_day


def test_a_lever_map_keeps_the_couple_in_view():
    from sim.dashboard.background import lever_axis

    for name in ("reassurance_frequency", "relief_decay", "exhaustion_rate"):
        param = DYNAMICS[name]
        for value in (param.low, param.default, param.high):
            low, high = lever_axis(name, value)
            assert param.low == low < high <= param.high
            assert low <= value <= high


def test_one_day_hour_by_hour_tells_couple_1s_story():
    from sim.dashboard.background import day_hours
    from sim.engine import kernel as k

    controls = {**initial_controls(), "style_a": "anxious", "anxiety_a": 0.85,
                "style_b": "avoidant", "avoidance_b": 0.85, "couples": 20, "days": 60}  # fmt: skip
    session = Session(model_kwargs(controls, seed=3))
    session.advance(12)
    hours = day_hours(session.model.setup, 10)
    daily = session.episodes.kernel.daily  # couple 1's own daily record
    # The last hour of day 10 is the day's end state; the day's requests add up.
    np.testing.assert_allclose(hours.security[-1], daily[9, k.DAILY_VARS.index("security"), :, 0])
    np.testing.assert_array_equal(hours.asked.sum(axis=0),
                                  daily[9, k.DAILY_VARS.index("requests"), :, 0])  # fmt: skip
    rc = render()
    for _ in range(3):
        click(rc, "Step")
    slider(rc, "zoom-day").v_model = 2
    click(rc, "Show that day hour by hour")
    wait_until(lambda: html(rc, "relsim-hours"))
    assert "Day 2 hour by hour" in html(rc, "relsim-hours")[0]


def test_every_couple_has_a_tile_coloured_by_its_outcome():
    controls = {**initial_controls(), "couples": 40, "days": 30}
    session = Session(model_kwargs(controls, seed=1))
    early = session.advance(5).population["tiles"]
    assert early.count("<rect") == 40 and early.count("too early to tell") >= 40
    frame = session.advance(20)
    tiles = frame.population["tiles"]
    labels = re.findall(r"<title>couple (\d+): ([a-z]+)</title>", tiles)
    assert [int(n) for n, _ in labels] == list(range(1, 41))
    counts = {name: sum(1 for _, label in labels if label == name) for name in OUTCOME_COLORS}
    assert counts == session.model.outcome_counts()
    for _, label in labels:
        assert OUTCOME_COLORS[label] in tiles
    assert tiles.count('stroke="#111111" stroke-width="3"') == 1  # couple 1 outlined


def test_the_last_runs_of_a_page_are_kept_side_by_side():
    from sim.dashboard.views import KEPT_RUNS, run_summary, runs_html

    controls = {**initial_controls(), "couples": 10, "days": 30}
    session = Session(model_kwargs(controls, seed=1))
    session.advance(30)
    first = session.model.outcome_counts()
    session.reset(model_kwargs({**controls, "therapy_on": True, "therapy_day": 5}, seed=1))
    assert len(session.runs) == 1 and session.runs[0]["counts"] == first
    assert session.runs[0]["settings"] == "days 30, couples 10"
    session.advance(10)
    table = runs_html(session.runs, run_summary(session.model, session.applied))
    assert "therapy day 5" in table and "<td>now</td>" in table and "10 of 30" in table
    session.reset(session.applied)  # a run never stepped is not kept
    session.reset(session.applied)
    assert len(session.runs) == 2
    for _ in range(KEPT_RUNS + 2):
        session.advance(1)
        session.reset(session.applied)
    assert len(session.runs) == KEPT_RUNS


def test_every_chart_downloads_as_svg():
    import io
    import zipfile

    session = Session(model_kwargs({**initial_controls(), "couples": 5, "days": 20}, seed=1))
    session.advance(7)
    with zipfile.ZipFile(io.BytesIO(session.charts_zip())) as archive:
        names = archive.namelist()
        assert "day-7-couple-security.svg" in names and "day-7-population-tiles.svg" in names
        assert all(archive.read(name).startswith(b"<svg") for name in names)


def test_the_couple_view_can_follow_any_couple():
    controls = {**initial_controls(), "style_a": "anxious", "anxiety_a": 0.85, "couples": 12,
                "days": 40}  # fmt: skip
    session = Session(model_kwargs(controls, seed=5))
    session.advance(20)
    frame = session.follow(7)
    # The followed couple's own one-couple run is that couple of the model, to the last bit.
    np.testing.assert_array_equal(session.episodes.kernel.S[:, :, 0],
                                  session.model.kernel.S[:, :, 7])  # fmt: skip
    assert "Couple 8 so far" in frame.badge
    outlined = r'stroke="#111111" stroke-width="3"><title>couple 8:'
    assert re.search(outlined, frame.population["tiles"])
    session.advance(5)
    np.testing.assert_array_equal(session.episodes.kernel.S[:, :, 0],
                                  session.model.kernel.S[:, :, 7])  # fmt: skip
    session.reset(model_kwargs({**controls, "couples": 5}, seed=5))
    assert session.followed == 0  # couple 8 is not in a run of 5


def _anxious_secure() -> dict:
    from sim.dashboard.state import preset_traits

    anxiety, avoidance = preset_traits("anxious")
    return {**initial_controls(), "style_a": "anxious", "anxiety_a": anxiety,
            "avoidance_a": avoidance, "couples": 30}  # fmt: skip


def test_a_lever_diagram_has_both_stable_states_and_the_threshold_between():
    from sim.dashboard.background import lever_diagram

    diagram = lever_diagram(model_kwargs(_anxious_secure(), seed=1), "exhaustion_rate")
    both = diagram.bistable
    assert both.any() and not both.all()
    # Where both stable states exist, the spiral asks more than the calm state, and the
    # unstable threshold lies between them.
    assert np.all(diagram.spiral[both] > diagram.calm[both])
    for value, rate in diagram.unstable:
        (i,) = np.flatnonzero(np.isclose(diagram.values, value))
        assert diagram.calm[i] < rate < diagram.spiral[i]
    # The lever's own value is not part of the diagram: another setting of it is a cache hit.
    moved = lever_diagram(model_kwargs({**_anxious_secure(), "exhaustion_rate": 0.2}, seed=9),
                          "exhaustion_rate")  # fmt: skip
    assert moved is diagram


def test_where_you_are_shows_the_tipping_points_of_the_lever_moved_last():
    from sim.dashboard import app

    controls = solara.reactive(_anxious_secure())
    session = Session(model_kwargs(controls.value, seed=1))
    frame = session.advance(40)
    live: dict = {}
    lever = {"name": app.levers()[0], "seen": {}}

    @solara.component
    def Where():
        # As the page does: the lever whose slider moved last is the one drawn.
        for name in app.levers():
            if name in lever["seen"] and lever["seen"][name] != controls.value[name]:
                lever["name"] = name
            lever["seen"][name] = controls.value[name]
        app.TippingView(frame, live, controls, lever)

    _, rc = solara.render(Where(), handle_error=False)
    controls.value = {**controls.value, "exhaustion_rate": 0.1}
    wait_until(lambda: "Tipping points: exhaustion rate" in "".join(html(rc, "relsim-tipping")),
               180)  # fmt: skip
    (svg,) = html(rc, "relsim-tipping")
    assert svg.count('class="relsim-unstable"') >= 1 and 'class="relsim-bistable"' in svg
    assert "your 30 couples" in svg and "the couple followed" in svg
    line = re.search(r'class="relsim-setting" x1="([\d.]+)"', svg).group(1)
    # Moving the same lever again: the diagram comes from the cache and only the line moves.
    started = time.monotonic()
    controls.value = {**controls.value, "exhaustion_rate": 0.2}
    wait_until(lambda: re.search(r'class="relsim-setting" x1="([\d.]+)"',
                                 "".join(html(rc, "relsim-tipping")) or "x").group(1) != line,
               5)  # fmt: skip
    assert time.monotonic() - started < 5
    # Playing moves the run's dots without a render of the page.
    (widget, _how) = live["where:tipping"]
    before = widget.unsafe_innerHTML
    app.push_frame(live, session.advance(60))
    assert widget.unsafe_innerHTML != before
    assert re.findall(r'class="relsim-position" cx="[\d.]+" cy="([\d.]+)"', before) != re.findall(
        r'class="relsim-position" cx="[\d.]+" cy="([\d.]+)"', widget.unsafe_innerHTML
    )


def test_play_draws_only_the_parts_on_screen_and_everything_when_it_stops():
    from sim.dashboard.app import shown_parts

    live = {"day": None, "badge": None, "couple:security": None, "where:tipping": None}
    assert shown_parts(live) == {"badge", "couple"}
    session = Session(model_kwargs({**initial_controls(), "couples": 20}, seed=1))
    first = session.advance(20)
    playing = session.advance(5, parts=shown_parts(live))
    assert playing.couple["security"] != first.couple["security"]
    assert playing.population is first.population  # not on screen: not drawn again
    assert playing.aspects == first.aspects
    assert playing.where["population"] >= 0 and playing.day == 25
    full = session.advance(0)
    assert (
        full.population["tiles"] != first.population["tiles"]
        or full.population["outcomes"] != first.population["outcomes"]
    )
    assert "day 25" in full.population["outcomes"]


def test_the_frame_clock_waits_for_the_browser_only_when_there_is_one():
    from sim.dashboard.app import FrameClock

    clock = FrameClock()
    started = time.monotonic()
    clock.sent_one()
    clock.wait(2.0)  # no browser: no wait, nothing counted
    assert clock.sent == 0 and time.monotonic() - started < 0.5
    clock.alive = True
    clock.sent_one()
    threading.Timer(0.3, lambda: setattr(clock, "drawn", 1)).start()
    started = time.monotonic()
    clock.wait(5.0)
    assert clock.drawn == 1 and 0.2 < time.monotonic() - started < 3.0
    clock.sent_one()  # a browser that stops answering (a hidden tab) is not waited for long
    started = time.monotonic()
    clock.wait(0.4)
    assert 0.3 < time.monotonic() - started < 2.0
