"""The dashboard's "Send to the class board": a group name and a button, shown in class mode only.

``ClassSend(controls)`` takes the dashboard's controls (a dict or a ``solara.Reactive`` of one:
``style_a``, ``anxiety_a``, ..., every dynamics parameter by name, ``days``, ``couples``,
``seed_text``, ``<kind>_on``). It renders nothing unless the page is served by ``relsim class``
(``CLASS_DIR_ENV`` set in the server's process). Sending checks the controls against the teacher's
exercise (what it fixes must be left as the exercise has it), runs the configuration on the
server (the same seed gives the numbers the dashboard shows at the run's end) and stores it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import solara

from ..params import DYNAMICS
from . import CLASS_DIR_ENV
from .config import CONTROLS, MAX_COUPLES, MAX_DAYS, ConfigError, parse_config, start_values

__all__ = ["ClassSend", "SendBox", "class_mode", "dashboard_form", "send_controls"]


def dashboard_form(controls: Mapping[str, object], exercise) -> dict[str, str]:
    """The class form of the dashboard's ``controls``, checked against what the class takes.

    Raises :class:`ConfigError` for a run larger than a class run, and for a dashboard setting
    that the class board cannot carry (a parameter outside the class controls, or an
    intervention) when it differs from the exercise's scenario.
    """
    from ..scenario import load_scenario

    days = int(controls.get("days", 0))  # type: ignore[call-overload]
    couples = int(controls.get("couples", 0))  # type: ignore[call-overload]
    if days > MAX_DAYS or couples > MAX_COUPLES:
        raise ConfigError(
            f"the class board takes runs of at most {MAX_COUPLES} couples and "
            f"{MAX_DAYS} days; this one has {couples} couples and {days} days"
        )
    scenario = load_scenario(exercise.scenario)
    for name, param in DYNAMICS.items():
        if name in CONTROLS or name not in controls:
            continue
        wanted = float(scenario.dynamics.get(name, param.default))
        if abs(float(controls[name]) - wanted) > 1e-9:  # type: ignore[arg-type]
            raise ConfigError(
                f"{name.replace('_', ' ')} is {controls[name]:g} here; this "
                f"exercise keeps it at {wanted:g} (set it back to send)"
            )
    planned = {str(item["kind"]) for item in scenario.interventions}
    for key, on in controls.items():
        if key.endswith("_on") and bool(on) != (key[:-3] in planned):
            raise ConfigError(
                f"the intervention {key[:-3].replace('_', ' ')} is "
                f"{'on' if on else 'off'} here; this exercise has it "
                f"{'on' if key[:-3] in planned else 'off'}"
            )
    form: dict[str, str] = {}
    start = start_values(exercise)
    for name in CONTROLS:
        if name == "seed":
            value: object = str(controls.get("seed_text", start["seed"])).strip()
        else:
            value = controls.get(name, start[name])
        form[name] = f"{value:.10g}" if isinstance(value, float) else str(value)
    return form


def send_controls(group: str, controls: Mapping[str, object], student: str) -> str:
    """Check, run and store the dashboard's configuration; return the message for the page."""
    from .server import ACTIVE, group_name

    server = ACTIVE.get("server")
    if server is None:
        raise ConfigError("this page is not part of a class session")
    name = group_name(group)
    exercise = server.store.exercise()
    form = {**dashboard_form(controls, exercise), "group": name}
    parse_config(exercise, form)  # says what the exercise fixes before a token is spent
    wait = server.run_bucket.take(student)
    if wait:
        raise ConfigError(f"slow down: you can send again in {wait:.0f} seconds")
    result = server.submit(student, form)
    counts = ", ".join(f"{v} {k}" for k, v in result["counts"].items())
    return f"Sent to the class board: {result['label']}: {counts}."


def class_mode() -> bool:
    """Whether this process serves a class session (``relsim class``)."""
    folder = os.environ.get(CLASS_DIR_ENV)
    return bool(folder) and Path(folder).is_dir()  # type: ignore[arg-type]


@solara.component
def ClassSend(controls):
    """Group name and "Send to the class board" (only on a page served by ``relsim class``)."""
    if class_mode():
        SendBox(controls)


@solara.component
def SendBox(controls):
    """The group name, the button and what happened (see :func:`ClassSend`)."""
    group = solara.use_reactive("")
    status = solara.use_reactive(("", False))
    busy = solara.use_reactive(False)
    values = controls.value if hasattr(controls, "value") else controls

    def send() -> None:
        cookies = {}
        try:
            cookies = dict(solara.lab.cookies.value or {})
        except Exception:  # not served (a notebook): no student id
            cookies = {}
        student = str(cookies.get("relsim_student") or f"dashboard-{solara.get_session_id()}")
        busy.set(True)
        try:
            status.set((send_controls(group.value, dict(values), student), False))
        except ConfigError as error:
            status.set((f"Not sent: {error}", True))
        except Exception as error:  # Busy, or anything unexpected: say so, keep the page
            status.set((f"Not sent: {error}", True))
        finally:
            busy.set(False)

    with solara.Column(classes=["relsim-class-send"]):
        solara.HTML(tag="h3", unsafe_innerHTML="Class board")
        solara.InputText("Group name", value=group, continuous_update=True)
        solara.Button("Send to the class board", on_click=send, disabled=busy.value,
                      color="primary")  # fmt: skip
        message, error = status.value
        if message:
            (solara.Error if error else solara.Success)(message)  # rendered as text, not markup
