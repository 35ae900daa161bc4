"""Play a couple in pairs: two students are partners A and B; the engine runs everything else.

Each simulated day both players choose, for their own person:

* **ask**: ask the partner for reassurance this evening (``yes``), not today (``no``), or let the
  model's asking rule decide hour by hour (``model``);
* **answer**, if the partner asks: ``warm``, ``brief``, ``none`` (do not answer), or ``model``;
* **distance**: take distance today (no unasked affection, and one pull-back by the model's own
  withdrawal rule in the evening).

The day is then run hour by hour with the engine's own pieces (``sim.engine.kernel``: the day's
context, the hour's draws, each person's drift and felt security, the decision and consequence
steps) and the rules of ``sim.engine.rules``; the players' choices replace only the decisions they
name. Each player sees only their own person's feelings (security, relief, exhaustion, trust); what
was said between them (asked, answered, how warmly) both can see. At the end both see the whole
story side by side, and the couple goes to the class board beside simulated couples of the same
styles.

Documented simplifications (until the kernel offers a hook for decisions taken outside it; the
exact need is in the project notes, class-to-lead):

* a chosen request happens once, at ``EVENING`` (20:00); at other hours that person does not ask;
* ``warm`` gives the warmth the model's answer-warmth rule allows the answerer (exhaustion makes
  it cooler); ``brief`` gives ``BRIEF_WARMTH`` of that;
* forcing a request or an answer sets that hour's uniform draw for it (to -1 or 2), so the
  engine's own comparison gives the chosen decision; a brief answer scales the warmth that the
  decision step returns (``kernel.hour``'s warmth arguments). ``pair_hour`` runs
  ``kernel.hour`` itself; tests/test_class_server.py checks that with every choice left to the
  model it gives exactly the engine's own day.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from collections.abc import Mapping

import numpy as np

from ..engine import kernel as k
from ..engine import rules as r
from ..outcomes import LABELS, classify_couples, count_outcomes
from ..params import DYNAMICS
from ..simulation import Setup, build_kernel, couple_columns, simulate
from ..styles import Style
from .store import new_code

__all__ = [
    "ANSWERS",
    "ASKS",
    "BRIEF_WARMTH",
    "DAYS_RANGE",
    "EVENING",
    "FEELINGS",
    "PairError",
    "apply_choice",
    "new_game",
    "pair_config",
    "pair_hour",
    "run_day",
    "simulated_counts",
    "view",
]

ASKS = ("yes", "no", "model")
ANSWERS = ("warm", "brief", "none", "model")
EVENING = 20
BRIEF_WARMTH = 0.4
DAYS_RANGE = (5, 30)
#: What each player sees of their own person, in order.
FEELINGS = ("security", "relief", "exhaustion", "trust")
#: Simulated couples of the same styles that go to the board beside a finished pair game.
SIMULATED_COUPLES = 100
ROLES = ("a", "b")
#: Pair codes are short, in the class code's unmistakable letters (the server retries a clash).
PAIR_CODE_LENGTH = 6


class PairError(ValueError):
    """A pair action that is not allowed now; the message says why."""


def _setup(style_a: str, style_b: str, days: int, seed: int, couples: int = 1) -> Setup:
    return Setup(partner_a={"style": style_a}, partner_b={"style": style_b}, couples=couples,
                 days=days, seed=seed)  # fmt: skip


def _kernel(style_a: str, style_b: str, days: int, seed: int):
    kern, pop = build_kernel(_setup(style_a, style_b, days, seed), engine="numpy")
    return kern, pop


def _pack(kern) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, S=np.asarray(kern.S), R=np.asarray(kern.R), C=np.asarray(kern.C))
    return buffer.getvalue()


def _unpack(kern, blob: bytes) -> None:
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        kern.S[...] = data["S"]
        kern.R[...] = data["R"]
        kern.C[...] = data["C"]


def new_game(*, style_a: str, style_b: str, days: int, group: str, player_a: str,
             seed: int | None = None) -> dict[str, object]:  # fmt: skip
    """A new pair game's database record (``Store.add_pair``), partner A taken by ``player_a``."""
    styles = Style.labels()
    for role, style in (("A", style_a), ("B", style_b)):
        if style not in styles:
            raise PairError(f"partner {role}'s style must be one of {', '.join(styles)}")
    low, high = DAYS_RANGE
    if not low <= days <= high:
        raise PairError(f"a pair game lasts {low} to {high} days, not {days}")
    seed = secrets.randbelow(10**6) if seed is None else seed
    kern, _ = _kernel(style_a, style_b, days, seed)
    return {"id": new_code(PAIR_CODE_LENGTH), "created": time.time(), "style_a": style_a,
            "style_b": style_b, "days": days, "seed": seed, "day": 0, "player_a": player_a,
            "player_b": None, "grp": group, "choices": "{}", "history": "[]",
            "state": _pack(kern), "finished": 0, "outcome": None}  # fmt: skip


def check_choice(form: Mapping[str, object]) -> dict[str, object]:
    """A player's day choice from a form: ask, answer, distance; raise PairError if not allowed."""
    ask = str(form.get("ask", "")).strip()
    answer = str(form.get("answer", "")).strip()
    distance = str(form.get("distance", "no")).strip()
    if ask not in ASKS:
        raise PairError(f"ask must be one of {', '.join(ASKS)}")
    if answer not in ANSWERS:
        raise PairError(f"answer must be one of {', '.join(ANSWERS)}")
    if distance not in ("yes", "no"):
        raise PairError("distance must be yes or no")
    return {"ask": ask, "answer": answer, "distance": distance == "yes"}


def pair_hour(W, j, t, choices) -> None:
    """One hour of the engine for one couple, the players' ``choices`` (``[a, b]``) applied.

    ``choices[p]`` is None (everything by the model) or a mapping as from :func:`check_choice`.
    The hour is ``kernel.hour`` itself, its draws set first for the choices made; a chosen
    distance then pulls that person back once in the evening.
    """
    evening = t % k.HOURS_PER_DAY == EVENING
    for p, q in ((0, 1), (1, 0)):
        mine, theirs = choices[p], choices[q]
        if mine is not None and mine["ask"] != "model":
            W[k.U_ASK + p, j] = -1.0 if (mine["ask"] == "yes" and evening) else 2.0
        if theirs is not None and theirs["answer"] in ("warm", "brief"):
            W[k.U_ANSWER + p, j] = -1.0
        elif theirs is not None and theirs["answer"] == "none":
            W[k.U_ANSWER + p, j] = 2.0
        if theirs is not None and theirs["distance"]:
            W[k.U_AFFECTION + p, j] = 2.0
    # A brief answer gives BRIEF_WARMTH of the warmth the model's answer would have had.
    brief = [choices[q] is not None and choices[q]["answer"] == "brief" for q in (1, 0)]
    k.hour(W, j, t, *(BRIEF_WARMTH if scaled else 1.0 for scaled in brief))
    if evening:
        for p in range(2):
            if choices[p] is not None and choices[p]["distance"]:
                W[k.S_WITHDRAWAL + p, j] = r.withdrawal_after_request(
                    W[k.S_WITHDRAWAL + p, j], 1.0, W[k.X_WITHDRAWAL_GAIN, j],
                    W[k.S_AVOIDANCE + p, j], W[k.S_EXHAUSTION + p, j],
                    W[k.W_P + k.EXHAUSTION_WITHDRAWAL, j], W[k.X_COMMUNICATION, j],
                    W[k.W_P + k.CLEAR_EASE, j],
                )  # fmt: skip


_COUNTED = ("requests", "answered", "affection_received", "warmth_received")


def run_day(kern, day: int, choices, *, hour_step=pair_hour) -> dict[str, object]:
    """Advance the kernel's one couple by ``day`` with ``choices``; return the day's record."""
    S, P, R, C = kern.S, kern.P, kern.R, kern.C
    lanes = np.arange(kern.n)
    rows = [k.RECORDER_VARS.index(name) for name in _COUNTED]
    before = R[rows].copy()
    with np.errstate(over="ignore"):  # the engine's hash relies on wrap-around arithmetic
        W = k._table(S, P, R, C, lanes)
        k.day_context(W, lanes, day, kern.first_end, kern.last_start)
        for h in range(k.HOURS_PER_DAY):
            t = day * k.HOURS_PER_DAY + h
            k.draws(W, kern.keys[lanes], lanes, t)
            hour_step(W, lanes, t, choices)
        k._untable(W, S, R, C, lanes)
        no_daily = np.empty((0, k.N_DAILY, 2, kern.n))
        k.end_of_day(
            S, P, R, C, kern.keys, lanes, day, no_daily, 0, False, kern.first_end, kern.last_start
        )
    kern.day = day + 1
    delta = R[rows] - before
    record: dict[str, object] = {"day": day + 1}
    for p, role in enumerate(ROLES):
        for name in FEELINGS:
            record[f"{name}_{role}"] = round(float(S[k.STATE_VARS.index(name), p, 0]), 4)
        for i, name in enumerate(_COUNTED):
            record[f"{name}_{role}"] = round(float(delta[i, p, 0]), 4)
        choice = choices[p]
        record[f"choice_{role}"] = dict(choice) if choice is not None else None
    record["dissolved"] = bool(C[k.DISSOLVED_DAY, 0] >= 0)
    return record


def _kernel_of(game: Mapping[str, object]):
    kern, pop = _kernel(
        str(game["style_a"]), str(game["style_b"]), int(game["days"]), int(game["seed"])
    )  # type: ignore[call-overload]
    _unpack(kern, game["state"])  # type: ignore[arg-type]
    kern.day = int(game["day"])  # type: ignore[call-overload]
    return kern, pop


def apply_choice(game: Mapping[str, object], role: str,
                 choice: Mapping[str, object]) -> dict[str, object]:  # fmt: skip
    """Record ``role``'s choice for today; when both chose, run the day. Return the changes."""
    if game["finished"]:
        raise PairError("this couple's story is finished")
    if game["player_b"] is None:
        raise PairError("wait for partner B to join (give them the pair code)")
    choices = json.loads(str(game["choices"]))
    choices[role] = dict(choice)
    if not all(r_ in choices for r_ in ROLES):
        return {"choices": json.dumps(choices)}
    kern, pop = _kernel_of(game)
    day = int(game["day"])  # type: ignore[call-overload]
    record = run_day(kern, day, [choices["a"], choices["b"]])
    history = [*json.loads(str(game["history"])), record]
    finished = day + 1 >= int(game["days"]) or record["dissolved"]  # type: ignore[call-overload]
    changes: dict[str, object] = {"choices": "{}", "history": json.dumps(history),
                                  "state": _pack(kern), "day": day + 1,
                                  "finished": int(bool(finished))}  # fmt: skip
    if finished:
        labels = classify_couples(couple_columns(kern, pop), kern.day)
        changes["outcome"] = str(labels[0])
    return changes


def outcome_of(game: Mapping[str, object]) -> str:
    """The finished couple's outcome label (the model's own classification)."""
    kern, pop = _kernel_of(game)
    return str(classify_couples(couple_columns(kern, pop), kern.day)[0])


def pair_config(game: Mapping[str, object], couples: int = 1) -> dict[str, object]:
    """A pair game as a class configuration (styles, presets, default levers, days, couples)."""
    config: dict[str, object] = {}
    for role in ROLES:
        style = Style.from_label(str(game[f"style_{role}"]))
        config[f"style_{role}"] = style.label
        config[f"anxiety_{role}"] = style.anxiety
        config[f"avoidance_{role}"] = style.avoidance
    for name, p in DYNAMICS.items():
        config[name] = p.default
    config.update(
        days=int(game["days"]),
        couples=couples,  # type: ignore[call-overload]
        seed=int(game["seed"]),
    )  # type: ignore[call-overload]
    return config


def pair_label(game: Mapping[str, object]) -> str:
    """The board's label of a pair game and of its simulated twins."""
    return f"A {game['style_a']} × B {game['style_b']}, {game['days']} days (pair game)"


def simulated_counts(game: Mapping[str, object]) -> dict[str, int]:
    """Outcomes of ``SIMULATED_COUPLES`` model couples of the pair's styles and days."""
    result = simulate(
        _setup(
            str(game["style_a"]),
            str(game["style_b"]),
            int(game["days"]),
            int(game["seed"]),
            SIMULATED_COUPLES,
        )
    )  # type: ignore[call-overload]
    return {label: int(result.outcomes.get(label, 0)) for label in LABELS}


def single_counts(outcome: str) -> dict[str, int]:
    """The counts of one couple with label ``outcome``."""
    return count_outcomes(np.array([outcome]))


def view(game: Mapping[str, object], role: str) -> dict[str, object]:
    """What the player of ``role`` may see (JSON-ready).

    Their own person's feelings and what passed between the two; at the end, the whole story of
    both.
    """
    history = json.loads(str(game["history"]))
    other = "b" if role == "a" else "a"
    finished = bool(game["finished"])
    choices = json.loads(str(game["choices"]))
    days = []
    for rec in history:
        entry = {"day": rec["day"],
                 "mine": {name: rec[f"{name}_{role}"] for name in FEELINGS},
                 "i_asked": rec[f"requests_{role}"], "i_was_answered": rec[f"answered_{role}"],
                 "they_asked": rec[f"requests_{other}"],
                 "they_were_answered": rec[f"answered_{other}"],
                 "affection_received": rec[f"affection_received_{role}"],
                 "my_choice": rec[f"choice_{role}"]}  # fmt: skip
        if finished:
            entry["theirs"] = {name: rec[f"{name}_{other}"] for name in FEELINGS}
            entry["their_choice"] = rec[f"choice_{other}"]
        days.append(entry)
    return {"role": role, "style": game[f"style_{role}"],
            "partner_style": game[f"style_{other}"], "day": game["day"], "days": game["days"],
            "partner_joined": game["player_b"] is not None, "finished": finished,
            "waiting_for_partner": role in choices, "history": days,
            "outcome": game.get("outcome") if finished else None}  # fmt: skip
