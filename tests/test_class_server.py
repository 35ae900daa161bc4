"""Class mode without a browser.

Input checks, the board's numbers, the store, the pair game's engine, the command's bad flags,
and a restart that keeps the board.
"""

from __future__ import annotations

import csv
import http.cookiejar
import io
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from sim.classmode import board as bd
from sim.classmode import pair as pg
from sim.classmode.config import ConfigError, Exercise, parse_config, start_values
from sim.classmode.server import Bucket, group_name
from sim.classmode.store import CODE_ALPHABET, Store
from sim.engine import kernel as k
from sim.sweep import wilson_interval

# -- what students type ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Team 1", "Ana's group", "Équipe 3", "  spaced   out  ", "a-b_c.d"]
)
def test_group_names_that_are_fine(name):
    assert group_name(name) == " ".join(name.split())


@pytest.mark.parametrize(("name", "words"), [
    ("", "type a group name"),
    ("   ", "type a group name"),
    ("x" * 31, "at most 30"),
    ("<b>Team</b>", "'/' '<' '>'"),
    ('Team"1', "'\"'"),
    ("a;b", "';'"),
    ("=HYPERLINK(1)", "'(' ')' '='"),
])  # fmt: skip
def test_group_names_that_are_refused_say_why(name, words):
    with pytest.raises(ConfigError, match="group name") as error:
        group_name(name)
    assert words in str(error.value)


def test_a_fixed_control_cannot_be_changed_and_ranges_are_checked():
    exercise = Exercise()  # styles and seed open
    values = parse_config(exercise, {"style_b": "secure", "seed": "5"})
    assert values["style_b"] == "secure" and values["seed"] == 5
    with pytest.raises(ConfigError, match="Days is fixed in this exercise"):
        parse_config(exercise, {"days": "30"})
    open_days = Exercise(allowed=("style_a", "days"))
    with pytest.raises(ConfigError, match="outside the allowed range 10 to 365"):
        parse_config(open_days, {"days": "9999"})
    with pytest.raises(ConfigError, match="not a whole number"):
        parse_config(open_days, {"days": "1e3"})
    with pytest.raises(ConfigError, match="not one of secure, anxious, avoidant, fearful"):
        parse_config(exercise, {"style_a": "<script>"})
    with pytest.raises(ConfigError, match="nan is outside the allowed range 0 to 1"):
        parse_config(Exercise(allowed=("anxiety_a",)), {"anxiety_a": "nan"})
    with pytest.raises(ConfigError, match="'half' is not a number"):
        parse_config(Exercise(allowed=("anxiety_a",)), {"anxiety_a": "half"})


def test_traits_that_are_not_open_follow_the_style():
    exercise = Exercise()  # anxious-avoidant: A anxious
    start = start_values(exercise)
    same = parse_config(exercise, {"style_a": "anxious"})
    assert same["anxiety_a"] == start["anxiety_a"]
    secure = parse_config(exercise, {"style_a": "secure", "anxiety_a": "0.15"})  # the preset
    assert secure["anxiety_a"] == pytest.approx(0.15)
    with pytest.raises(ConfigError, match="Partner A's anxiety is fixed"):
        parse_config(exercise, {"style_a": "secure", "anxiety_a": "0.5"})


def test_the_teachers_exercise_is_checked():
    with pytest.raises(ConfigError, match="is not available"):
        Exercise.parse({"scenario": "classroom", "allowed": ["style_a"]})  # a population mix
    with pytest.raises(ConfigError, match="not a class control"):
        Exercise.parse({"scenario": "anxious-secure", "allowed": ["style_a", "rm -rf"]})
    with pytest.raises(ConfigError, match="two different controls"):
        Exercise.parse({"scenario": "anxious-secure", "allowed": ["days"], "x": "days",
                        "y": "days"})  # fmt: skip
    exercise = Exercise.parse({"scenario": "anxious-secure", "allowed": ["days", "style_b"]})
    assert exercise.allowed == ("style_b", "days")  # the page's order
    assert (exercise.x, exercise.y) == ("style_b", "days")
    assert Exercise.from_json(exercise.to_json()) == exercise


# -- the board -----------------------------------------------------------------------------------


def _run(group: str, label: str, counts: dict[str, int], kind: str = "student",
         **config) -> dict:  # fmt: skip
    full = {"style_a": "anxious", "style_b": "secure", **config}
    return {"id": 1, "created": 0.0, "grp": group, "kind": kind, "scenario": "s",
            "config": json.dumps(full), "config_key": label, "label": label, "couples": 1,
            "days": 1, "seed": 0, "cleared": 0, **counts}  # fmt: skip


def test_pooled_shares_use_the_projects_wilson_interval():
    runs = [
        _run("A", "one", {"stable": 30, "spiraling": 8, "distant": 0, "dissolved": 2}),
        _run("B", "one", {"stable": 10, "spiraling": 0, "distant": 10, "dissolved": 0}),
        _run("C", "two", {"stable": 5, "spiraling": 0, "distant": 0, "dissolved": 0}),
    ]
    cells = {c["label"]: c for c in bd.pooled(runs)}
    one = cells["one"]
    assert one["couples"] == 60 and one["groups"] == 2 and one["runs"] == 2
    low, high = wilson_interval(10, 60)
    assert one["shares"]["broken"] == pytest.approx((10 / 60, float(low), float(high)))
    assert cells["two"]["shares"]["stable"][0] == 1.0 and cells["two"]["shares"]["stable"][1] < 1
    table = bd.group_table(runs)
    assert [row["group"] for row in table] == ["A", "B", "C"]
    assert table[0]["broken"] == pytest.approx(10 / 40)


def test_the_board_escapes_what_students_typed():
    runs = [
        _run(
            "<script>alert(1)</script>",
            'A "x" <b>',
            {"stable": 1, "spiraling": 0, "distant": 0, "dissolved": 0},
        )
    ]
    page = bd.board_html(runs, Exercise(), students=1, version=3)
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    svg = bd.phase_svg(bd.phase_points(runs, Exercise()), Exercise())
    assert "<b>" not in svg and "&lt;b&gt;" in svg


def test_the_csv_export_keeps_every_run_and_defuses_formulas():
    runs = [_run("-cmd", "one", {"stable": 1, "spiraling": 2, "distant": 3, "dissolved": 4}),
            {**_run("Team", "two", {"stable": 0, "spiraling": 0, "distant": 0, "dissolved": 1}),
             "cleared": 1}]  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(bd.csv_text(runs))))
    assert [r["group"] for r in rows] == ["'-cmd", "Team"]
    assert rows[0]["dissolved"] == "4" and rows[1]["cleared"] == "1"
    assert tuple(rows[0]) == bd.CSV_COLUMNS
    assert json.loads(rows[0]["config_json"])["style_a"] == "anxious"


def test_the_board_figure_is_a_png():
    runs = [
        _run("A", "one", {"stable": 3, "spiraling": 1, "distant": 0, "dissolved": 0}),
        _run("P", "one", {"stable": 0, "spiraling": 1, "distant": 0, "dissolved": 0}, "pair"),
    ]
    assert bd.figure_png(runs, Exercise())[:8] == b"\x89PNG\r\n\x1a\n"


# -- the store and the limits ------------------------------------------------------------------


def test_the_store_keeps_everything_across_a_reopen(tmp_path):
    store = Store(tmp_path)
    code, key = store.class_code, store.teacher_key
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET) and len(key) >= 20
    student = store.add_student(limit=2)
    assert store.add_student(limit=2) is not None
    assert store.add_student(limit=2) is None  # the class is full
    config = {"couples": 10, "days": 30, "seed": 1}
    counts = {"stable": 7, "spiraling": 2, "distant": 1, "dissolved": 0}
    for group in ("A", "B"):
        store.add_run(student=student, group=group, kind="student", scenario="s", config=config,
                      config_key="k", label="l", counts=counts)  # fmt: skip
    store.set_exercise(Exercise(scenario="anxious-secure"))
    version = store.version
    store.close()
    again = Store(tmp_path)
    assert (again.class_code, again.teacher_key, again.version) == (code, key, version)
    assert [r["grp"] for r in again.runs()] == ["A", "B"]
    assert again.exercise().scenario == "anxious-secure"
    assert again.has_student(student) and not again.has_student("someone")
    game = pg.new_game(style_a="anxious", style_b="secure", days=5, group="P", player_a=student,
                       seed=1)  # fmt: skip
    again.add_pair(game)
    again.update_pair(str(game["id"]), {"finished": 1, "day": 5})
    assert [p["grp"] for p in again.pairs()] == ["P"]
    assert again.clear_board() == 2
    assert again.runs() == [] and len(again.runs(include_cleared=True)) == 2
    assert again.pairs() == [] and len(again.pairs(include_cleared=True)) == 1
    again.close()
    assert (tmp_path / "class.sqlite").exists()


def test_a_bucket_allows_a_burst_then_asks_to_wait():
    bucket = Bucket(burst=3, every=60.0, limit=2)
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert 50 < bucket.take("a") <= 60
    assert bucket.take("b") == 0.0
    bucket.take("c")  # "a" is forgotten: the table holds at most two keys
    assert bucket.take("a") == 0.0


# -- the pair game -------------------------------------------------------------------------------


def test_pair_hour_with_no_choices_is_the_engines_hour():
    """With every decision left to the model, the pair game's day is the engine's own day."""
    ours, _ = pg._kernel("anxious", "avoidant", 6, 11)
    engine, _ = pg._kernel("anxious", "avoidant", 6, 11)
    for day in range(6):
        pg.run_day(ours, day, [None, None])
        pg.run_day(engine, day, [None, None], hour_step=lambda W, j, t, c: k.hour(W, j, t))
    np.testing.assert_array_equal(np.asarray(ours.S), np.asarray(engine.S))
    np.testing.assert_array_equal(np.asarray(ours.R), np.asarray(engine.R))
    model = {"ask": "model", "answer": "model", "distance": False}
    chosen, _ = pg._kernel("anxious", "avoidant", 6, 11)
    for day in range(6):
        pg.run_day(chosen, day, [model, model])
    np.testing.assert_array_equal(np.asarray(chosen.S), np.asarray(engine.S))


def test_pair_choices_decide_requests_and_answers():
    kern, _ = pg._kernel("anxious", "secure", 5, 2)
    asks = {"ask": "yes", "answer": "warm", "distance": False}
    refuses = {"ask": "no", "answer": "none", "distance": True}
    records = [pg.run_day(kern, day, [asks, refuses]) for day in range(5)]
    assert [r["requests_a"] for r in records] == [1.0] * 5  # once each evening
    assert [r["answered_a"] for r in records] == [0.0] * 5  # B never answers
    assert all(r["requests_b"] == 0.0 for r in records)  # B never asks
    assert all(r["affection_received_a"] == 0.0 for r in records)  # B keeps distance
    kind, _ = pg._kernel("anxious", "secure", 5, 2)
    warm = {"ask": "no", "answer": "warm", "distance": False}
    kind_records = [pg.run_day(kind, day, [asks, warm]) for day in range(5)]
    assert [r["answered_a"] for r in kind_records] == [1.0] * 5
    # A asked and was answered warmly every evening: A trusts more than when rebuffed.
    assert kind_records[-1]["trust_a"] > records[-1]["trust_a"]
    brief = {"ask": "no", "answer": "brief", "distance": False}
    brief_kernel, _ = pg._kernel("anxious", "secure", 5, 2)
    brief_records = [pg.run_day(brief_kernel, day, [asks, brief]) for day in range(5)]
    assert 0 < brief_records[0]["warmth_received_a"] < kind_records[0]["warmth_received_a"]
    # The first day is the same until the evening's answer: a brief one is BRIEF_WARMTH of it.
    assert brief_records[0]["warmth_received_a"] == pytest.approx(
        pg.BRIEF_WARMTH * kind_records[0]["warmth_received_a"], abs=1e-4)  # fmt: skip


def game_trust_b(game) -> float:
    return json.loads(game["history"])[-1]["trust_b"]


def test_a_player_sees_only_their_own_feelings_until_the_end():
    game = pg.new_game(style_a="anxious", style_b="avoidant", days=5, group="G", player_a="p1",
                       seed=4)  # fmt: skip
    game["player_b"] = "p2"
    choice = pg.check_choice({"ask": "yes", "answer": "warm", "distance": "no"})
    game.update(pg.apply_choice(game, "a", choice))
    assert pg.view(game, "a")["waiting_for_partner"] and game["day"] == 0
    game.update(pg.apply_choice(game, "b", choice))
    seen = pg.view(game, "a")
    assert game["day"] == 1 and not seen["waiting_for_partner"]
    assert set(seen["history"][0]["mine"]) == set(pg.FEELINGS)
    assert "theirs" not in seen["history"][0]
    for _ in range(4):
        for role in ("a", "b"):
            game.update(pg.apply_choice(game, role, choice))
    assert game["finished"] and game["outcome"] in ("stable", "spiraling", "distant", "dissolved")
    assert "theirs" in pg.view(game, "b")["history"][-1]
    listed = {**game, "joined": True}
    rows = list(csv.DictReader(io.StringIO(bd.pairs_csv([listed]))))
    assert [int(r["day"]) for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["choice_a"] == "ask yes; answer warm; distance no"
    assert float(rows[-1]["trust_b"]) == pytest.approx(game_trust_b(game))
    assert f"finished: {game['outcome']}" in bd.pairs_html([listed])
    with pytest.raises(pg.PairError, match="finished"):
        pg.apply_choice(game, "a", choice)
    with pytest.raises(pg.PairError, match="ask must be one of yes, no, model"):
        pg.check_choice({"ask": "maybe", "answer": "warm"})
    with pytest.raises(pg.PairError, match="5 to 30 days"):
        pg.new_game(style_a="anxious", style_b="secure", days=99, group="G", player_a="p")


# -- the command -------------------------------------------------------------------------------


def test_bad_flags_exit_2_and_write_nothing(relsim, tmp_path):
    for argv, words in ((["--port", "0"], "too small"), (["--port", "70000"], "65535"),
                        (["--port", "x"], "not a whole number")):  # fmt: skip
        run = relsim("class", *argv, "--out", tmp_path / "never")
        assert run.status == 2 and words in run.err
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    run = relsim("class", "--out", a_file)
    assert run.status == 2 and "is a file" in run.err
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    run = relsim("class", "--out", tmp_path / "other")
    assert run.status == 2 and "no class session" in run.err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = relsim("class", "--port", port, "--out", tmp_path / "never")
    assert run.status == 2 and "already in use" in run.err
    assert f"relsim class --port {port + 1}" in run.err, run.err  # the hint names a free port
    run = relsim("class", "--host", "no such host.invalid", "--out", tmp_path / "never")
    assert run.status == 2 and "cannot listen on host" in run.err
    assert not (tmp_path / "never").exists()


def _client():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def _get(opener, url: str, data: bytes | None = None) -> bytes:
    with opener.open(url, data) as response:
        return response.read()


def test_restart_keeps_the_board(tmp_path, class_session, free_port):
    folder = tmp_path / "lesson"
    port = free_port()
    server, join, teacher = class_session(folder, port, tmp_path / "first.log")
    try:
        student, staff = _client(), _client()
        _get(student, join)
        for seed in (1, 2):
            body = urllib.parse.urlencode({"group": f"Team {seed}", "style_b": "secure",
                                           "seed": seed}).encode()  # fmt: skip
            sent = _get(student, join.split("/?")[0] + "/api/send", body)
            assert json.loads(sent)["run"] == seed
        _get(staff, teacher)
        base = join.split("/?")[0]
        before_csv = _get(staff, base + "/teacher/export.csv").decode()
        before = json.loads(_get(staff, base + "/api/board"))
    finally:
        assert server.stop() == 0  # stopped mid-session, with a signal
    assert "stopped; everything is in" in (tmp_path / "first.log").read_text()
    server, join_again, teacher_again = class_session(folder, port, tmp_path / "second.log")
    try:
        assert (join_again, teacher_again) == (join, teacher)  # the same codes
        assert "resumed: 2 runs on the board" in (tmp_path / "second.log").read_text()
        staff = _client()
        _get(staff, teacher)
        after = json.loads(_get(staff, base + "/api/board"))
        assert after["runs"] == 2 and after["groups"] == before["groups"]
        assert _get(staff, base + "/teacher/export.csv").decode() == before_csv
        assert b"Send to the class board" in _get(_client(), join)  # the same code lets one in
        with pytest.raises(urllib.error.HTTPError) as refused:
            _get(_client(), base + "/student")
        assert refused.value.code == 403
        refused.value.close()
    finally:
        assert server.stop() == 0
    assert Path(folder / "class.sqlite").exists()


# -- addresses, warnings and the dashboard's send -------------------------------------------------


def test_only_a_requested_host_beyond_loopback_warns(tmp_path):
    from sim.classmode.server import addresses, exposure_warning

    assert exposure_warning("127.0.0.1") == "" and exposure_warning("localhost") == ""
    assert "WARNING: listening on 0.0.0.0" in exposure_warning("0.0.0.0")
    store = Store(tmp_path)
    join, teacher = addresses("127.0.0.1", 8766, store)
    assert join == f"http://127.0.0.1:8766/?code={store.class_code}"
    assert teacher == f"http://127.0.0.1:8766/board?key={store.teacher_key}"
    join, teacher = addresses("0.0.0.0", 9000, store)
    assert "0.0.0.0" not in join and join.endswith(f":9000/?code={store.class_code}")
    assert teacher.startswith("http://127.0.0.1:9000/board?key=")  # the teacher's own machine
    store.close()


def test_the_dashboards_settings_are_checked_before_sending():
    from sim.classmode.send import dashboard_form
    from sim.dashboard.state import initial_controls

    exercise = Exercise(allowed=("style_a", "style_b", "seed"))
    controls = {
        **initial_controls(),
        "style_a": "anxious",
        "style_b": "avoidant",
        "anxiety_a": 0.85,
        "avoidance_a": 0.15,
        "anxiety_b": 0.15,
        "avoidance_b": 0.85,
    }
    form = dashboard_form(controls, exercise)
    values = parse_config(exercise, form)
    assert (values["style_a"], values["style_b"]) == ("anxious", "avoidant")
    with pytest.raises(ConfigError, match="at most 200 couples and 365 days"):
        dashboard_form({**controls, "couples": 500}, exercise)
    hidden = "rebuff_hurt"  # a dynamics parameter the class controls do not offer
    with pytest.raises(ConfigError, match="this exercise keeps it at"):
        dashboard_form({**controls, hidden: float(controls[hidden]) + 0.1}, exercise)
    with pytest.raises(ConfigError, match="intervention therapy is on here"):
        dashboard_form({**controls, "therapy_on": True}, exercise)
