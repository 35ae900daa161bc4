"""Class mode in a real browser: a teacher and students in separate browser contexts.

``relsim class`` runs as a child process on a free port with a fresh session folder. A teacher and
three students (each a separate Chromium context, so separate cookies) join with the printed
addresses; the teacher opens the exercise to couples and days, the students send runs, and the
board shows them without a reload. Missing and wrong codes are refused with a page that says so.
Two students play a couple for ten days. A student sends from the dashboard. Screenshots of the
board and the pair game at 1440×900 and 1280×720 go to test-artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).absolute().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
UI_MS = 60_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect.set_options(timeout=UI_MS)


@pytest.fixture(scope="module")
def session(tmp_path_factory, class_session, free_port):
    """A class session on a free port and a fresh folder, stopped with SIGTERM at the end."""
    ARTIFACTS.mkdir(exist_ok=True)
    folder = tmp_path_factory.mktemp("class") / "session"
    server, join, teacher = class_session(folder, free_port(), ARTIFACTS / "class-server.log")
    try:
        yield {"join": join, "teacher": teacher, "base": join.split("/?")[0], "folder": folder}
    finally:
        status = server.stop()
    assert status == 0, f"the class session stopped with {status}"


def _context(browser, width: int = 1440, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(UI_MS)
    return context


def _errors(page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # A refused form answers 400 on purpose; the browser logs that as a failed resource.
    page.on(
        "console",
        lambda m: (
            problems.append(f"console: {m.text}")
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    return problems


def _teacher(browser, session, width: int = 1440, height: int = 900):
    context = _context(browser, width, height)
    page = context.new_page()
    problems = _errors(page)
    page.goto(session["teacher"])
    expect(page.locator("header")).to_contain_text("Join:")
    return context, page, problems


def _student(browser, session):
    context = _context(browser, 1280, 720)
    page = context.new_page()
    problems = _errors(page)
    page.goto(session["join"])
    expect(page).to_have_url(re.compile(r"/student$"))
    return context, page, problems


def test_teacher_and_three_students_fill_the_board_live(browser, session):
    context, board, problems = _teacher(browser, session)
    board.get_by_text("Set the exercise, clear, export").click()
    for label in ("Couples", "Days"):
        board.get_by_label(label, exact=True).check()
    board.get_by_label("Note to students").fill("Compare the partner B styles")
    board.get_by_role("button", name="Set the exercise").click()
    expect(board.get_by_role("status")).to_contain_text("The exercise is set")
    expect(board.locator("#live .summary")).to_contain_text("0 runs")

    students = []
    for number, style in enumerate(("secure", "avoidant", "anxious"), start=1):
        ctx, page, student_problems = _student(browser, session)
        expect(page.locator("main")).to_contain_text("Compare the partner B styles")
        page.locator("select[name=style_b]").select_option(style)
        page.locator("input[name=couples]").fill("40")
        page.locator("input[name=days]").fill("90")
        page.locator("input[name=seed]").fill(str(number))
        page.get_by_label("Group name").fill(f"Team {number}")
        page.get_by_role("button", name="Send to the class board").click()
        expect(page.locator("#send-status")).to_contain_text("Sent to the class board")
        students.append((ctx, page, student_problems))
        # The board updates by itself (no reload), within a second or two of each run.
        expect(board.locator("#live .summary")).to_contain_text(
            f"{number} run{'s' if number > 1 else ''} from {number} group", timeout=5000
        )

    live = board.locator("#live")
    for number in (1, 2, 3):
        expect(live.locator("table.groups")).to_contain_text(f"Team {number}")
    for style in ("secure", "avoidant", "anxious"):
        expect(live.locator("table.pooled")).to_contain_text(f"A anxious × B {style}")
    expect(live.locator("svg .relsim-point")).to_have_count(3)
    expect(live.locator("table.pooled")).to_contain_text("40")  # couples per configuration

    # A group name with markup is refused and never shown; an apostrophe is fine, as text.
    _, page, _ = students[0]
    page.get_by_label("Group name").fill('<img src=x onerror="document.title=1">')
    page.get_by_role("button", name="Send to the class board").click()
    expect(page.locator("#send-status")).to_contain_text("may hold letters, digits")
    page.get_by_label("Group name").fill("Ana's group")
    page.get_by_role("button", name="Send to the class board").click()
    expect(page.locator("#send-status")).to_contain_text("Sent to the class board")
    expect(live.locator("table.groups")).to_contain_text("Ana's group", timeout=5000)
    assert live.locator("table.groups img").count() == 0

    ARTIFACTS.mkdir(exist_ok=True)
    board.screenshot(path=str(ARTIFACTS / "class-board-1440x900.png"))
    small = board.context.browser.new_context(viewport={"width": 1280, "height": 720})
    small_page = small.new_page()
    small_page.goto(session["teacher"])
    expect(small_page.locator("#live .summary")).to_contain_text("4 runs")
    small_page.screenshot(path=str(ARTIFACTS / "class-board-1280x720.png"))
    small.close()

    csv_text = board.request.get(session["base"] + "/teacher/export.csv").text()
    assert csv_text.count("\n") == 1 + 4
    assert "Team 2" in csv_text
    assert board.request.get(session["base"] + "/teacher/figures.png").body()[:4] == b"\x89PNG"
    for ctx, _, student_problems in students:
        assert student_problems == []
        ctx.close()
    assert problems == []
    context.close()


def test_missing_or_wrong_code_is_refused(browser, session):
    context = _context(browser)
    page = context.new_page()
    for path in ("/student", "/pair", "/dashboard/", "/board/live", "/teacher/export.csv"):
        response = page.goto(session["base"] + path)
        assert response.status == 403, path
        expect(page.locator("main")).to_contain_text("This page needs the class code")
    response = page.goto(session["base"] + "/?code=WRONG9")
    assert response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("That class code is not right")
    response = page.goto(session["base"] + "/board")
    assert response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("teacher key")
    response = page.goto(session["base"] + "/board?key=not-the-key")
    assert response.status == 403
    # The join form with a wrong code, then the right one.
    page.goto(session["base"] + "/")
    page.get_by_label("Class code").fill("ABC")
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    code = session["join"].rsplit("=", 1)[1]
    page.get_by_label("Class code").fill(code.lower())
    page.get_by_role("button", name="Join").click()
    expect(page).to_have_url(re.compile(r"/student$"))
    # A student is not the teacher.
    response = page.goto(session["base"] + "/board")
    assert response.status == 403
    assert page.request.post(session["base"] + "/teacher/clear").status == 403
    context.close()


def _choose(page, ask: str, answer: str, distance: str) -> None:
    form = page.locator("#choose")
    form.locator("select[name=ask]").select_option(ask)
    form.locator("select[name=answer]").select_option(answer)
    form.locator("select[name=distance]").select_option(distance)
    form.get_by_role("button", name="Choose").click()


def test_a_pair_plays_ten_days(browser, session):
    ctx_a, a, problems_a = _student(browser, session)
    ctx_b, b, problems_b = _student(browser, session)
    a.goto(session["base"] + "/pair")
    a.locator("select[name=style_a]").select_option("anxious")
    a.locator("select[name=style_b]").select_option("avoidant")
    a.locator("input[name=days]").fill("10")
    a.locator("input[name=group]").fill("Pair 1")
    a.get_by_role("button", name="Start as partner A").click()
    code = a.locator("#pair-code").inner_text()
    expect(a.locator("#status")).to_contain_text("Waiting for partner B")
    b.goto(session["base"] + "/pair")
    b.get_by_label("Pair code").fill(code)
    b.get_by_role("button", name="Join as partner B").click()
    expect(b.locator("h2").first).to_contain_text("You are partner B (avoidant)")
    for day in range(1, 11):
        expect(a.locator("#status")).to_contain_text(f"Day {day} of 10")
        expect(b.locator("#status")).to_contain_text(f"Day {day} of 10")
        _choose(a, "yes", "warm", "no")
        expect(a.locator("#status")).to_contain_text("waiting for your partner")
        _choose(b, "model", "brief" if day % 2 else "none", "yes" if day > 7 else "no")
        if day < 10:
            # Each sees only their own person's feelings, after the day.
            expect(a.locator("#info h2")).to_contain_text(f"After day {day}")
            expect(a.locator("#info .feel")).to_contain_text("exhaustion")
            assert a.locator("#info .story").count() == 0
        if day == 2:
            a.screenshot(path=str(ARTIFACTS / "class-pair-1280x720.png"))
    for page in (a, b):
        expect(page.locator("#status")).to_contain_text("The story is finished after 10 days")
        story = page.locator("#info .story")
        expect(story.locator("section")).to_have_count(2)
        expect(story.locator("section").nth(0).locator("tr")).to_have_count(11)
        expect(story.locator("section").nth(1).locator("tr")).to_have_count(11)
        expect(story.locator("svg.feelings-chart polyline")).to_have_count(8)
    expect(b.locator("#info .story section").nth(0)).to_contain_text("brief")
    expect(a.locator("#info .story section").nth(1)).to_contain_text("brief")
    b.set_viewport_size({"width": 1280, "height": 720})
    b.screenshot(path=str(ARTIFACTS / "class-pair-end-1280x720.png"))
    a.set_viewport_size({"width": 1440, "height": 900})
    a.screenshot(path=str(ARTIFACTS / "class-pair-end-1440x900.png"))
    # The couple went to the board, beside simulated couples of the same styles.
    _, board, _ = _teacher(browser, session)
    pooled = board.locator("#live table.pooled")
    expect(pooled).to_contain_text("A anxious × B avoidant, 10 days (pair game)")
    expect(pooled).to_contain_text("pair game (people)")
    expect(pooled).to_contain_text("the model's couples")
    expect(board.locator("#live svg .relsim-pair")).to_have_count(1)
    expect(board.locator("#live table.pairs")).to_contain_text("Pair 1")
    expect(board.locator("#live table.pairs")).to_contain_text("finished:")
    pairs_csv = board.request.get(session["base"] + "/teacher/pairs.csv").text()
    assert pairs_csv.count("\n") == 1 + 10 and "brief" in pairs_csv
    board.screenshot(path=str(ARTIFACTS / "class-board-pair-1440x900.png"))
    board.context.close()
    assert problems_a == [] and problems_b == []
    ctx_a.close()
    ctx_b.close()


def test_a_student_sends_from_the_dashboard(browser, session):
    context, page, _ = _student(browser, session)
    page.goto(session["base"] + "/dashboard/")
    send = page.get_by_role("button", name="Send to the class board")
    expect(send).to_be_visible(timeout=UI_MS)
    page.get_by_label("Group name").fill("Dashboard team")
    send.click()
    expect(page.get_by_text("Sent to the class board")).to_be_visible(timeout=UI_MS)
    _, board, _ = _teacher(browser, session)
    expect(board.locator("#live table.groups")).to_contain_text("Dashboard team")
    board.context.close()
    context.close()


def test_the_pages_pass_an_accessibility_scan(browser, session):
    from axe_playwright_python.sync_playwright import Axe

    found = {}
    _, board, _ = _teacher(browser, session)
    board.get_by_text("QR code").click()
    qr = board.get_by_alt_text("QR code of the join address, with the class code")
    expect(qr).to_be_visible()
    pages = [("board", board)]
    _, student, _ = _student(browser, session)
    pages.append(("student", student))
    _, pair, _ = _student(browser, session)
    pair.goto(session["base"] + "/pair")
    pages.append(("pair", pair))
    for name, page in pages:
        results = Axe().run(page)
        bad = [f"{v['impact']} {v['id']}: {v['help']} ({v['nodes'][0]['target']})"
               for v in results.response["violations"]
               if v["impact"] in ("critical", "serious")]  # fmt: skip
        if bad:
            found[name] = bad
    for _, page in pages:
        page.context.close()
    assert found == {}, found
