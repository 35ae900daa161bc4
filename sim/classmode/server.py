"""The class server: join pages, the teacher's board, students' runs, pair games, the dashboard.

One Starlette application, served by Uvicorn in the ``relsim class`` process. Who may do what:

* every page and action needs the class code (a cookie set by the join address
  ``/?code=CODE`` or the join form); the board and the teacher's actions need the teacher key
  (``/board?key=KEY`` sets its cookie); anything else gets a page saying what is missing (403);
* the Solara dashboard is mounted under ``/dashboard/`` behind the same check, websocket included;
* students are counted (``MAX_STUDENTS``); each has a token bucket for runs and one for pair
  moves; runs go through one worker thread (``RUN_WORKERS``) with at most ``MAX_WAITING`` waiting,
  beyond which a student is told to try again in a few seconds;
* a request body is read up to ``MAX_BODY`` bytes; form values are checked by ``config`` and
  ``pair``; everything a student typed reaches a page only as escaped text (``board.esc``) or
  through ``textContent`` in the page's scripts.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
import os
import signal
import socket
import sys
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, quote

from .. import __version__, net
from . import CLASS_DIR_ENV
from . import board as bd
from . import pair as pg
from .config import (
    CONTROLS,
    ConfigError,
    Exercise,
    config_key,
    config_label,
    parse_config,
    run_config,
    scenario_choices,
    start_values,
)
from .store import Store

__all__ = ["ClassServer", "build_app", "group_name", "serve"]

MAX_STUDENTS = 120
MAX_PAIRS = 300
MAX_BODY = 8192
MAX_WAITING = 40
RUN_WORKERS = 1
#: Runs: a burst of RUN_BURST, then one every RUN_EVERY seconds, per student.
RUN_BURST, RUN_EVERY = 3, 6.0
#: Pair moves and pair games started, per student.
PAIR_BURST, PAIR_EVERY = 10, 0.5
#: Wrong codes, per address: a burst, then one every few seconds (guessing a code is hopeless).
JOIN_BURST, JOIN_EVERY = 10, 3.0
GROUP_MAX = 30
#: The session this process serves (the dashboard's send component finds it here).
ACTIVE: dict[str, ClassServer] = {}
COOKIE_CODE, COOKIE_STUDENT, COOKIE_TEACHER = "relsim_class", "relsim_student", "relsim_teacher"


def group_name(text: object) -> str:
    """Check a group name: 1 to 30 letters, digits, spaces and ``- _ . '``; return it tidied."""
    name = " ".join(unicodedata.normalize("NFC", str(text)).split())
    if not name:
        raise ConfigError("type a group name (letters, digits and spaces, up to 30)")
    if len(name) > GROUP_MAX:
        raise ConfigError(f"the group name has {len(name)} characters; at most {GROUP_MAX}")
    bad = sorted({c for c in name if not (c.isalnum() or c in " -_.'")})
    if bad:
        shown = " ".join(repr(c) for c in bad[:5])
        raise ConfigError(f"the group name may hold letters, digits, spaces and - _ . ' only, "
                          f"not {shown}")  # fmt: skip
    return name


class Bucket:
    """Token buckets by key, at most ``limit`` keys (the oldest are forgotten first)."""

    def __init__(self, burst: int, every: float, limit: int = 4096) -> None:
        self.burst, self.every, self.limit = burst, every, limit
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0 if allowed, else the seconds until the next one."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._state.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) / self.every)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) * self.every
            self._state[key] = (tokens, now)
            while len(self._state) > self.limit:
                self._state.popitem(last=False)
        return wait


# -- pages --------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1a1a1a;
 background:#fff;font-size:17px;line-height:1.45}
header{background:#0b3d5c;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.5rem;
 align-items:baseline;flex-wrap:wrap}
header h1{font-size:1.3rem;margin:0}header .join{font-size:1.05rem}
header .code{font-family:ui-monospace,monospace;font-size:1.6rem;letter-spacing:.15em;
 background:#fff;color:#0b3d5c;padding:0 .4rem;border-radius:4px}
main{padding:1rem 1.2rem;max-width:1400px}
h2{font-size:1.1rem;margin:.8rem 0 .4rem}
table{border-collapse:collapse;margin:.3rem 0 1rem}
th,td{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.group{font-weight:600}
.board-grid{display:grid;grid-template-columns:minmax(0,1.25fr) minmax(0,1fr);gap:1.5rem}
@media (max-width:1000px){.board-grid{grid-template-columns:minmax(0,1fr)}}
.bar{display:inline-block;position:relative;width:90px;height:12px;background:#eee;
 vertical-align:middle;margin-right:.3rem}
.bar .fill{position:absolute;left:0;top:0;bottom:0}
.bar .ci{position:absolute;top:4px;height:4px;background:#000}
.num small{color:#444}
svg{max-width:100%;height:auto}
.swatch{display:inline-block;width:12px;height:12px;vertical-align:middle}
form.inline{display:inline}
fieldset{border:1px solid #ccc;margin:.5rem 0;padding:.5rem .8rem}
label{display:inline-block;margin:.2rem .8rem .2rem 0}
input,select,button{font-size:1rem}
button{background:#0b3d5c;color:#fff;border:0;padding:.45rem .9rem;border-radius:4px;cursor:pointer}
button.secondary{background:#666}
.message{padding:.5rem .8rem;border-left:5px solid #0b3d5c;background:#eef5fa;margin:.5rem 0}
.error{border-left-color:#b00020;background:#fdecee}
.feel{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:.6rem;max-width:640px}
.feel div{background:#f3f6f8;padding:.5rem;border-radius:6px}
.feel strong{display:block;font-size:1.5rem}
.story{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.muted{color:#555}
a{color:#0b5c8c}
header details.qr{margin-left:auto}header details.qr summary{cursor:pointer}
header details.qr img{display:block;background:#fff;margin-top:.4rem}
"""


def _page(title: str, body: str, *, header: str = "", script: str = "",
          status: int = 200):  # fmt: skip
    from starlette.responses import HTMLResponse

    text = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><title>{bd.esc(title)}</title>'
            f"<style>{_CSS}</style></head><body><header><h1>relsim class</h1>{header}</header>"
            f'<main id="main">{body}</main>{script}</body></html>')  # fmt: skip
    return HTMLResponse(text, status_code=status, headers={
        "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store"})  # fmt: skip


def _download(content: str | bytes, filename: str, media_type: str):
    """A file the browser saves as ``filename`` rather than shows."""
    from starlette.responses import Response

    saved_as = f'attachment; filename="{filename}"'
    return Response(content, media_type=media_type, headers={"Content-Disposition": saved_as})


def _refusal(reason: str, status: int = 403):
    body = (
        f'<h2>Not allowed</h2><p class="message error" role="alert">{bd.esc(reason)}</p>'
        "<p>Join the class with the address your teacher shows (it carries the class code), "
        "or type the code here:</p>" + _join_form()
    )
    return _page("relsim class: not allowed", body, status=status)


def _join_form() -> str:
    return (
        '<form method="post" action="/join"><label>Class code <input name="code" '
        'autocomplete="off" maxlength="12" required size="8"></label> '
        '<button type="submit">Join</button></form>'
    )


def _options(choices, selected) -> str:
    return "".join(f'<option value="{bd.esc(c)}"{" selected" if c == selected else ""}>'
                   f"{bd.esc(c)}</option>" for c in choices)  # fmt: skip


def _control_input(name: str, value: object) -> str:
    control = CONTROLS[name]
    if control.kind == "choice":
        field = f'<select name="{name}">{_options(control.choices, value)}</select>'
    else:
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        field = (f'<input name="{name}" type="number" min="{control.low:g}" max="{control.high:g}"'
                 f' step="{control.step:g}" value="{bd.esc(shown)}" required>')  # fmt: skip
    return f"<label>{bd.esc(control.label)} {field}</label>"


_BOARD_SCRIPT = """<script>
(function(){
  var box=document.getElementById('live'), version=box.getAttribute('data-version');
  function poll(){
    fetch('/board/live?v='+encodeURIComponent(version),{credentials:'same-origin'})
    .then(function(r){ if(r.status===200){return r.text();} return null; })
    .then(function(html){
      if(html!==null){ box.innerHTML=html; var s=box.querySelector('.summary');
        if(s){version=s.getAttribute('data-version');} }
      setTimeout(poll,500);
    }).catch(function(){ setTimeout(poll,2000); });
  }
  setTimeout(poll,500);
})();
</script>"""

# The pair page draws from JSON with textContent only: nothing the server sends is read as markup.
_PAIR_SCRIPT = """<script>
(function(){
  var id=document.getElementById('pair-id').getAttribute('data-pair');
  var shown=-1;
  function el(tag,text,cls){var e=document.createElement(tag); if(text!==undefined){e.textContent=text;} if(cls){e.className=cls;} return e;}
  function num(v){return (Math.round(v*100)/100).toFixed(2);}
  function feelings(f){var box=el('div',undefined,'feel');
    ['security','relief','exhaustion','trust'].forEach(function(n){var d=el('div'); d.appendChild(el('span',n)); d.appendChild(el('strong',num(f[n]))); box.appendChild(d);}); return box;}
  var COLORS={security:'#0072B2',relief:'#009E73',exhaustion:'#D55E00',trust:'#CC79A7'};
  function chart(days,key){
    var NS='http://www.w3.org/2000/svg', w=420, h=170, l=36, b=24, t=8;
    var svg=document.createElementNS(NS,'svg'); svg.setAttribute('viewBox','0 0 '+w+' '+h);
    svg.setAttribute('width',w); svg.setAttribute('height',h); svg.setAttribute('role','img');
    svg.setAttribute('aria-label','feelings day by day'); svg.setAttribute('class','feelings-chart');
    function add(tag,attrs,text){var e=document.createElementNS(NS,tag); for(var a in attrs){e.setAttribute(a,attrs[a]);} if(text!==undefined){e.textContent=text;} svg.appendChild(e); return e;}
    var n=Math.max(days.length-1,1);
    function x(i){return l+(w-l-8)*i/n;} function y(v){return t+(h-t-b)*(1-v);}
    [0,0.5,1].forEach(function(v){add('line',{x1:l,x2:w-8,y1:y(v),y2:y(v),stroke:'#ddd'}); add('text',{x:l-4,y:y(v)+4,'font-size':11,'text-anchor':'end'},String(v));});
    add('text',{x:l,y:h-6,'font-size':11},'day 1'); add('text',{x:w-8,y:h-6,'font-size':11,'text-anchor':'end'},'day '+days.length);
    Object.keys(COLORS).forEach(function(name){
      var pts=days.map(function(d,i){return x(i).toFixed(1)+','+y(d[key][name]).toFixed(1);}).join(' ');
      add('polyline',{points:pts,fill:'none',stroke:COLORS[name],'stroke-width':2.5});});
    return svg;}
  function legend(){var p=el('p','', 'muted'); Object.keys(COLORS).forEach(function(name){var s=el('span','\u25a0 ','');
    s.style.color=COLORS[name]; p.appendChild(s); p.appendChild(document.createTextNode(name+'  '));}); return p;}
  function story(v){var wrap=el('div',undefined,'story');
    [['Your person','mine','my_choice'],['Your partner','theirs','their_choice']].forEach(function(side){
      var sec=el('section'); sec.appendChild(el('h3',side[0]));
      sec.appendChild(chart(v.history,side[1])); sec.appendChild(legend());
      var t=el('table'); var h=el('tr'); ['day','security','relief','exhaustion','trust','choice'].forEach(function(c){h.appendChild(el('th',c));}); t.appendChild(h);
      v.history.forEach(function(d){var r=el('tr'); r.appendChild(el('td',String(d.day)));
        ['security','relief','exhaustion','trust'].forEach(function(n){r.appendChild(el('td',num(d[side[1]][n])));});
        var c=d[side[2]]; r.appendChild(el('td', c? ('ask '+c.ask+', answer '+c.answer+(c.distance?', distance':'')) : 'model'));
        t.appendChild(r);});
      sec.appendChild(t); wrap.appendChild(sec);});
    return wrap;}
  function render(v){
    var s=document.getElementById('status'); s.textContent='';
    var info=document.getElementById('info'); info.textContent='';
    var form=document.getElementById('choose');
    if(!v.partner_joined){ s.textContent='Waiting for partner B to join with the pair code.'; form.hidden=true; return; }
    var last=v.history.length? v.history[v.history.length-1] : null;
    if(last){ info.appendChild(el('h2','After day '+last.day+': how your person feels'));
      info.appendChild(feelings(last.mine));
      var said=el('p'); said.textContent='Yesterday: you asked '+last.i_asked+' time(s) and were answered '+last.i_was_answered+' time(s); your partner asked '+last.they_asked+' time(s) and you answered '+last.they_were_answered+'; unasked affection you received: '+last.affection_received+'.'; info.appendChild(said); }
    if(v.finished){ form.hidden=true; s.textContent='The story is finished after '+v.history.length+' days: '+(v.outcome||'')+'. Both stories, side by side:';
      info.appendChild(story(v)); return; }
    if(v.waiting_for_partner){ s.textContent='Day '+(v.day+1)+' of '+v.days+': your choice is in; waiting for your partner.'; form.hidden=true; }
    else { s.textContent='Day '+(v.day+1)+' of '+v.days+': choose for your person ('+v.style+').'; form.hidden=false; }
  }
  function poll(){
    fetch('/pair/'+encodeURIComponent(id)+'/state',{credentials:'same-origin'}).then(function(r){return r.json();})
    .then(function(v){ var key=v.day*10+(v.waiting_for_partner?1:0)+(v.partner_joined?2:0)+(v.finished?5:0); if(key!==shown){shown=key; render(v);} setTimeout(poll,700); })
    .catch(function(){ setTimeout(poll,2000); });
  }
  document.getElementById('choose').addEventListener('submit',function(ev){
    ev.preventDefault(); var data=new URLSearchParams(new FormData(ev.target));
    var msg=document.getElementById('message'); msg.textContent='';
    fetch('/pair/'+encodeURIComponent(id)+'/choose',{method:'POST',body:data,credentials:'same-origin'})
    .then(function(r){return r.json();}).then(function(v){ if(v.error){msg.textContent=v.error;} else {shown=-1; render(v);} });
  });
  poll();
})();
</script>"""  # noqa: E501


class ClassServer:
    """The session: its store, limits and the Starlette application (``app``)."""

    def __init__(self, folder: Path, *, join_url: str = "", teacher_url: str = "") -> None:
        self.store = Store(folder)
        self.join_url = join_url
        self.teacher_url = teacher_url
        self.run_bucket = Bucket(RUN_BURST, RUN_EVERY)
        self.pair_bucket = Bucket(PAIR_BURST, PAIR_EVERY)
        self.join_bucket = Bucket(JOIN_BURST, JOIN_EVERY)
        self._students: set[str] = set()
        self._waiting = 0
        self._waiting_lock = threading.Lock()
        self._run_lock = threading.Semaphore(RUN_WORKERS)
        self._pair_lock = threading.Lock()
        self._board_cache: tuple[int, str] = (-1, "")
        self.errors = 0

    # -- who is asking ----------------------------------------------------------------------

    def role(self, cookies: Mapping[str, str]) -> str | None:
        """``teacher``, ``student`` or None, from the request's cookies."""
        key = cookies.get(COOKIE_TEACHER, "")
        if key and hmac.compare_digest(key, self.store.teacher_key):
            return "teacher"
        code = cookies.get(COOKIE_CODE, "")
        if code and hmac.compare_digest(code.upper(), self.store.class_code):
            student = cookies.get(COOKIE_STUDENT, "")
            if student in self._students or (student and self.store.has_student(student)):
                if len(self._students) < 4 * MAX_STUDENTS:
                    self._students.add(student)
                return "student"
        return None

    def who(self, request) -> str:
        """The student id, or ``teacher``."""
        return request.cookies.get(COOKIE_STUDENT) or "teacher"

    # -- the board --------------------------------------------------------------------------

    def board_fragment(self) -> str:
        """The board's live HTML, rebuilt only when the board changed."""
        version = self.store.version
        cached_version, text = self._board_cache
        if cached_version != version:
            text = bd.board_html(self.store.runs(), self.store.exercise(),
                                 students=self.store.student_count(), version=version,
                                 pairs=self.store.pairs())  # fmt: skip
            self._board_cache = (version, text)
        return text

    # -- runs -------------------------------------------------------------------------------

    async def run_and_store(self, student: str, form: Mapping[str, str]) -> dict[str, object]:
        """Check, run and store one configuration (in a worker thread); see :meth:`submit`."""
        return await asyncio.to_thread(self.submit, student, form)

    def submit(self, student: str, form: Mapping[str, str]) -> dict[str, object]:
        """Check, run and store one configuration; return ``{"run": n, "counts": ..., "label"}``.

        Runs go one at a time (``RUN_WORKERS``); with ``MAX_WAITING`` already waiting, raise
        :class:`Busy`.
        """
        group = group_name(form.get("group", ""))
        exercise = self.store.exercise()
        values = parse_config(exercise, form)
        with self._waiting_lock:
            if self._waiting >= MAX_WAITING:
                raise Busy("The class server is busy with other runs; try again in a few seconds.")
            self._waiting += 1
        try:
            with self._run_lock:
                counts = run_config(exercise, values)
        except ConfigError:
            raise
        except ValueError as error:  # the model refuses this combination: say why
            raise ConfigError(f"this configuration cannot run: {error}") from None
        finally:
            with self._waiting_lock:
                self._waiting -= 1
        run = self.store.add_run(student=student, group=group, kind="student",
                                 scenario=exercise.scenario, config=values,
                                 config_key=config_key(exercise, values),
                                 label=config_label(exercise, values), counts=counts)  # fmt: skip
        return {"run": run, "counts": counts, "label": config_label(exercise, values)}

    # -- pairs ------------------------------------------------------------------------------

    def finish_pair(self, game: Mapping[str, object]) -> None:
        """Send a finished pair game to the board, with simulated couples of the same styles."""
        config = pg.pair_config(game)
        label = pg.pair_label(game)
        key = json.dumps({"pair": label})
        self.store.add_run(student=str(game["player_a"]), group=str(game["grp"]), kind="pair",
                           scenario="pair game", config=config, config_key=key, label=label,
                           counts=pg.single_counts(str(game["outcome"])))  # fmt: skip
        with self._run_lock:
            counts = pg.simulated_counts(game)
        self.store.add_run(student="model", group="model", kind="simulated",
                           scenario="pair game", config=pg.pair_config(game, pg.SIMULATED_COUPLES),
                           config_key=key, label=label, counts=counts)  # fmt: skip


class Busy(Exception):
    """Too many runs are waiting."""


def _cookies(scope) -> dict[str, str]:
    from http.cookies import SimpleCookie

    out: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            jar = SimpleCookie()
            with contextlib.suppress(Exception):
                jar.load(value.decode("latin-1"))
            out.update({key: morsel.value for key, morsel in jar.items()})
    return out


#: Paths anyone may open: the join page and form, and the board's own key check.
_OPEN = ("/", "/join", "/board", "/favicon.ico")


class Gate:
    """ASGI middleware: every request but the join page needs the class code or teacher key."""

    def __init__(self, app, server: ClassServer) -> None:
        self.app, self.server = app, server

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        role = self.server.role(_cookies(scope))
        scope.setdefault("state", {})["role"] = role
        if role is None and scope["path"] not in _OPEN:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return None
            response = _refusal("This page needs the class code.")
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)


async def _form(request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise ConfigError(f"the form is too long (at most {MAX_BODY} bytes)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("the form is not UTF-8 text") from None
    fields: dict[str, str] = {}
    for key, values in parse_qs(text, keep_blank_values=True, max_num_fields=64).items():
        fields[key] = values[-1] if key != "allowed" else json.dumps(values)
    return fields


def _wants_json(request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def build_app(folder: Path, *, join_url: str = "", teacher_url: str = "",
              dashboard: bool = True):  # fmt: skip
    """Return ``(app, server)``: the class application on the session folder ``folder``."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import JSONResponse, RedirectResponse, Response
    from starlette.routing import Mount, Route

    server = ClassServer(folder, join_url=join_url, teacher_url=teacher_url)
    store = server.store
    ACTIVE["server"] = server
    os.environ[CLASS_DIR_ENV] = str(Path(folder).absolute())

    def header(role: str | None) -> str:
        if role != "teacher":
            return '<span class="join">Class session</span>'
        join = server.join_url or "/"
        qr = ""
        if server.join_url:
            qr = (f'<details class="qr"><summary>QR code</summary><img src="{qr_uri(join)}" '
                  'alt="QR code of the join address, with the class code" width="240" '
                  'height="240"></details>')  # fmt: skip
        return (
            f'<span class="join">Join: <strong>{bd.esc(join.split("?")[0])}</strong> with the '
            f'code</span> <span class="code" aria-label="class code">{store.class_code}</span>'
            f"{qr}"
        )

    def set_student_cookies(response, student: str) -> None:
        for name, value in ((COOKIE_CODE, store.class_code), (COOKIE_STUDENT, student)):
            response.set_cookie(name, value, httponly=True, samesite="lax", max_age=12 * 3600)

    async def join_with(request, code: str):
        code = code.strip().upper()
        address = request.client.host if request.client else "?"
        if not code:
            return _refusal("Type the class code your teacher shows.", 403)
        if not hmac.compare_digest(code.encode()[:32], store.class_code.encode()):
            wait = server.join_bucket.take(address)
            if wait:
                return _refusal(f"Too many wrong codes; wait {wait:.0f} seconds.", 429)
            return _refusal("That class code is not right; check it with your teacher.", 403)
        student = request.cookies.get(COOKIE_STUDENT, "")
        if not (student and store.has_student(student)):
            student = store.add_student(MAX_STUDENTS)
            if student is None:
                return _refusal(f"The class is full ({MAX_STUDENTS} students).", 403)
        response = RedirectResponse("/student", status_code=303)
        set_student_cookies(response, student)
        return response

    async def home(request):
        if "code" in request.query_params:
            return await join_with(request, request.query_params["code"][:32])
        role = request.scope["state"]["role"]
        if role == "student":
            return RedirectResponse("/student", status_code=303)
        if role == "teacher":
            return RedirectResponse("/board", status_code=303)
        return _page(
            "relsim class: join",
            "<h2>Join the class</h2><p>Type the class code your teacher shows.</p>" + _join_form(),
        )

    async def join(request):
        try:
            form = await _form(request)
        except ConfigError as error:
            return _refusal(str(error), 400)
        return await join_with(request, form.get("code", "")[:32])

    def student_page(request, message: str = "", error: bool = False, status: int = 200,
                     form: Mapping[str, str] | None = None):  # fmt: skip
        exercise = store.exercise()
        values = dict(start_values(exercise))
        if form:
            for name in exercise.allowed:
                if name in form:
                    values[name] = form[name]
        group = (form or {}).get("group", request.cookies.get("relsim_group", ""))
        note = f'<p class="message">{bd.esc(exercise.note)}</p>' if exercise.note else ""
        status_box = ""
        if message:
            status_box = (f'<p class="message{" error" if error else ""}" role="status" '
                          f'id="send-status">{bd.esc(message)}</p>')  # fmt: skip
        inputs = "".join(_control_input(name, values[name]) for name in exercise.allowed)
        fixed = ", ".join(f"{CONTROLS[n].label.lower()}" for n in CONTROLS
                          if n not in exercise.allowed)  # fmt: skip
        body = (f"<h2>Exercise: start from {bd.esc(exercise.scenario)}</h2>{note}{status_box}"
                '<form method="post" action="/send" id="send-form"><fieldset><legend>Your run'
                f"</legend>{inputs}</fieldset>"
                f'<p class="muted">Fixed by the teacher: {bd.esc(fixed)}.</p>'
                f'<label>Group name <input name="group" value="{bd.esc(group)}" maxlength="30" '
                'required autocomplete="off"></label> <button type="submit">Send to the class '
                "board</button></form>"
                '<h2>More</h2><ul><li><a href="/pair">Play a couple in pairs</a></li>'
                '<li><a href="/dashboard/">Open the dashboard</a> (its "Send to the class board" '
                "sends what you see)</li></ul>")  # fmt: skip
        return _page("relsim class: your run", body, header=header(None), status=status)

    async def student(request):
        return student_page(request)

    async def send_run(request):
        as_json = _wants_json(request)
        who = server.who(request)
        form: dict[str, str] = {}
        try:
            form = await _form(request)
            group_name(form.get("group", ""))  # a form that cannot run costs no token
            parse_config(store.exercise(), form)
            wait = server.run_bucket.take(who)
            if wait:
                message = f"Slow down: you can send again in {wait:.0f} seconds."
                if as_json:
                    return JSONResponse({"error": message}, status_code=429)
                return student_page(request, message, True, 429, form)
            result = await server.run_and_store(who, form)
        except ConfigError as error:
            if as_json:
                return JSONResponse({"error": str(error)}, status_code=400)
            return student_page(request, str(error), True, 400, form)
        except Busy as error:
            if as_json:
                return JSONResponse({"error": str(error)}, status_code=503)
            return student_page(request, str(error), True, 503, form)
        if as_json:
            return JSONResponse(result)
        counts = ", ".join(f"{v} {k}" for k, v in result["counts"].items())
        page = student_page(request, f"Sent to the class board (run {result['run']}: "
                            f"{result['label']}: {counts}).", form=form)  # fmt: skip
        page.set_cookie("relsim_group", quote(group_name(form.get("group", ""))),
                        httponly=True, samesite="lax")  # fmt: skip
        return page

    # -- the teacher --------------------------------------------------------------------------

    def not_the_teacher(request):
        """The refusal for anyone without the teacher key's cookie (None for the teacher)."""
        if request.scope["state"]["role"] != "teacher":
            return _refusal("This is the teacher's page: it needs the teacher key.")
        return None

    def teacher_only(handler):
        """Serve ``handler`` to the teacher; refuse everyone else."""

        @functools.wraps(handler)
        async def guarded(request):
            refused = not_the_teacher(request)
            return refused if refused is not None else await handler(request)

        return guarded

    async def board_page(request):
        key = request.query_params.get("key", "")
        if key:
            if not hmac.compare_digest(key.encode()[:64], store.teacher_key.encode()):
                return _refusal("That teacher key is not right.")
            response = RedirectResponse("/board", status_code=303)
            response.set_cookie(COOKIE_TEACHER, store.teacher_key, httponly=True, samesite="lax",
                                max_age=24 * 3600)  # fmt: skip
            return response
        refused = not_the_teacher(request)
        if refused:
            return refused
        exercise = store.exercise()
        message = request.query_params.get("done", "")
        notes = {"exercise": "The exercise is set.", "cleared": "The board is cleared (the "
                 "runs stay in the CSV export)."}  # fmt: skip
        shown = (f'<p class="message" role="status">{bd.esc(notes[message])}</p>'
                 if message in notes else "")  # fmt: skip
        checks = "".join(
            f'<label><input type="checkbox" name="allowed" value="{name}"'
            f'{" checked" if name in exercise.allowed else ""}> {bd.esc(c.label)}</label>'
            for name, c in CONTROLS.items())  # fmt: skip
        axis = {a: _options(list(CONTROLS), getattr(exercise, a)) for a in ("x", "y")}
        controls = (
            '<details><summary>Set the exercise, clear, export</summary>'
            '<form method="post" action="/teacher/exercise"><fieldset><legend>Exercise</legend>'
            '<label>Start from <select name="scenario">'
            f"{_options(scenario_choices(), exercise.scenario)}</select></label><br>"
            f"<span>Students may change:</span><br>{checks}<br>"
            f'<label>Phase diagram x <select name="x">{axis["x"]}</select></label>'
            f'<label>y <select name="y">{axis["y"]}</select></label><br>'
            f'<label>Note to students <input name="note" size="60" maxlength="200" '
            f'value="{bd.esc(exercise.note)}"></label></fieldset>'
            '<button type="submit">Set the exercise</button></form>'
            '<form method="post" action="/teacher/clear" class="inline" '
            "onsubmit=\"return confirm('Clear the board? The runs stay in the CSV export.')\">"
            '<button type="submit" class="secondary">Clear the board</button></form> '
            '<a href="/teacher/export.csv" download>Export CSV (every run)</a> · '
            '<a href="/teacher/pairs.csv" download>Pair games (CSV, day by day)</a> · '
            '<a href="/teacher/figures.png" download>Board figures (PNG)</a> · '
            '<a href="/teacher/phase.svg" download>Phase diagram (SVG)</a></details>')  # fmt: skip
        fragment = server.board_fragment()
        may = ", ".join(CONTROLS[n].label for n in exercise.allowed) or "nothing"
        body = (
            f"{shown}<p>Exercise: start from <strong>{bd.esc(exercise.scenario)}</strong>; "
            f"students may change: {bd.esc(may)}.</p>{controls}"
            f'<div id="live" aria-live="polite" data-version="{store.version}">'
            f"{fragment}</div>"
        )
        return _page("relsim class board", body, header=header("teacher"), script=_BOARD_SCRIPT)

    @teacher_only
    async def board_live(request):
        if request.query_params.get("v", "") == str(store.version):
            return Response(status_code=204)
        return Response(
            server.board_fragment(),
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-store"},
        )

    @teacher_only
    async def board_json(request):
        runs = store.runs()
        return JSONResponse({"version": store.version, "runs": len(runs),
                             "pooled": [{k: v for k, v in c.items()} for c in bd.pooled(runs)],
                             "groups": bd.group_table(runs)})  # fmt: skip

    @teacher_only
    async def set_exercise(request):
        try:
            form = await _form(request)
            if "allowed" in form:
                form = {**form, "allowed": json.loads(form["allowed"])}  # type: ignore[dict-item]
            store.set_exercise(Exercise.parse(form))
        except ConfigError as error:
            return _page("relsim class: exercise", f'<p class="message error" role="alert">'
                         f'{bd.esc(error)}</p><p><a href="/board">Back to the board</a></p>',
                         status=400)  # fmt: skip
        return RedirectResponse("/board?done=exercise", status_code=303)

    @teacher_only
    async def clear(request):
        store.clear_board()
        return RedirectResponse("/board?done=cleared", status_code=303)

    @teacher_only
    async def export_csv(request):
        return _download(bd.csv_text(store.runs(include_cleared=True)), "class-runs.csv",
                         "text/csv; charset=utf-8")  # fmt: skip

    @teacher_only
    async def export_pairs(request):
        text = bd.pairs_csv(store.pairs(include_cleared=True))
        return _download(text, "class-pair-games.csv", "text/csv; charset=utf-8")

    @teacher_only
    async def figures(request):
        png = await asyncio.to_thread(bd.figure_png, store.runs(), store.exercise())
        return _download(png, "class-board.png", "image/png")

    @teacher_only
    async def phase(request):
        exercise = store.exercise()
        svg = bd.phase_svg(bd.phase_points(store.runs(), exercise), exercise)
        return _download(svg, "class-phase.svg", "image/svg+xml")

    # -- pairs --------------------------------------------------------------------------------

    def pair_home_page(message: str = "", status: int = 200):
        styles = pg.Style.labels()
        error = (f'<p class="message error" role="alert">{bd.esc(message)}</p>'
                 if message else "")  # fmt: skip
        low, high = pg.DAYS_RANGE
        body = (f"<h2>Play a couple in pairs</h2>{error}<p>One of you starts a couple and plays "
                "partner A; the other joins with the pair code and plays partner B. Each day you "
                "each choose for your own person; you see only how your own person feels.</p>"
                '<form method="post" action="/pair/new"><fieldset><legend>Start a couple</legend>'
                f'<label>Partner A <select name="style_a">{_options(styles, "anxious")}</select>'
                f'</label><label>Partner B <select name="style_b">{_options(styles, "avoidant")}'
                f'</select></label><label>Days <input name="days" type="number" min="{low}" '
                f'max="{high}" value="10"></label><label>Group name <input name="group" '
                'maxlength="30" required></label></fieldset><button type="submit">Start as '
                'partner A</button></form><form method="post" action="/pair/join"><fieldset>'
                '<legend>Join a couple</legend><label>Pair code <input name="pair" maxlength="20" '
                'required autocomplete="off"></label></fieldset><button type="submit">Join as '
                "partner B</button></form>")  # fmt: skip
        return _page("relsim class: pair game", body, header=header(None), status=status)

    async def pair_home(request):
        return pair_home_page()

    async def pair_new(request):
        who = server.who(request)
        try:
            form = await _form(request)
            if server.pair_bucket.take(who):
                raise pg.PairError("Slow down a little; try again in a moment.")
            group = group_name(form.get("group", ""))
            try:
                days = int(form.get("days", "10"))
            except ValueError:
                raise pg.PairError("days must be a whole number") from None
            if store.pair_count() >= MAX_PAIRS:
                raise pg.PairError(f"the class has {MAX_PAIRS} pair games already")
            game = await asyncio.to_thread(pg.new_game, style_a=form.get("style_a", ""),
                                           style_b=form.get("style_b", ""), days=days,
                                           group=group, player_a=who)  # fmt: skip
        except (ConfigError, pg.PairError) as error:
            return pair_home_page(str(error), 400)
        while store.pair(str(game["id"])) is not None:  # a clash of codes: draw again
            game["id"] = pg.new_code(pg.PAIR_CODE_LENGTH)
        store.add_pair(game)
        return RedirectResponse(f"/pair/{game['id']}", status_code=303)

    async def pair_join(request):
        who = server.who(request)
        try:
            form = await _form(request)
        except ConfigError as error:
            return pair_home_page(str(error), 400)
        pair_id = form.get("pair", "").strip().upper()
        game = store.pair(pair_id) if 0 < len(pair_id) <= 20 else None
        if game is None:
            return pair_home_page("There is no couple with that pair code.", 404)
        if game["player_a"] == who:
            return RedirectResponse(f"/pair/{pair_id}", status_code=303)
        if game["player_b"] not in (None, who):
            return pair_home_page("That couple already has both partners.", 409)
        store.update_pair(pair_id, {"player_b": who})
        return RedirectResponse(f"/pair/{pair_id}", status_code=303)

    def pair_role(request) -> tuple[dict | None, str | None]:
        game = store.pair(request.path_params["pair"][:20])
        if game is None:
            return None, None
        who = server.who(request)
        role = "a" if game["player_a"] == who else "b" if game["player_b"] == who else None
        return game, role

    async def pair_page(request):
        game, role = pair_role(request)
        if game is None or role is None:
            return pair_home_page("You are not a partner in that couple; start one or join "
                                  "with its pair code.", 403)  # fmt: skip
        other = "B" if role == "a" else "A"
        code = (f'<p>Pair code for partner B: <strong class="code" id="pair-code">'
                f'{bd.esc(game["id"])}</strong></p>' if role == "a" else "")  # fmt: skip
        asks = _options(pg.ASKS, "model")
        answers = _options(pg.ANSWERS, "model")
        body = (f'<h2>You are partner {role.upper()} ({bd.esc(game[f"style_{role}"])}); your '
                f'partner {other} is {bd.esc(game["style_" + ("b" if role == "a" else "a")])}</h2>'
                f'{code}<p id="status" role="status" aria-live="polite"></p>'
                '<p id="message" class="muted" role="alert"></p>'
                '<form id="choose" hidden><fieldset><legend>Today, for your person</legend>'
                f'<label>Ask your partner for reassurance this evening <select name="ask">{asks}'
                '</select></label><br><label>If your partner asks, answer <select name="answer">'
                f'{answers}</select></label><br><label>Take distance today <select name="distance">'
                '<option value="no" selected>no</option><option value="yes">yes</option></select>'
                '</label></fieldset><button type="submit">Choose</button></form>'
                '<div id="info"></div><p class="muted">"model": let your person do what the model '
                "says people like them do.</p>")  # fmt: skip
        body += f'<div id="pair-id" hidden data-pair="{bd.esc(game["id"])}"></div>'
        return _page("relsim class: pair game", body, header=header(None), script=_PAIR_SCRIPT)

    async def pair_state(request):
        game, role = pair_role(request)
        if game is None or role is None:
            return JSONResponse({"error": "you are not a partner in that couple"}, 403)
        return JSONResponse(pg.view(game, role))

    async def pair_choose(request):
        game, role = pair_role(request)
        if game is None or role is None:
            return JSONResponse({"error": "you are not a partner in that couple"}, 403)
        try:
            form = await _form(request)
            if server.pair_bucket.take(server.who(request)):
                raise pg.PairError("Slow down a little; try again in a moment.")
            choice = pg.check_choice(form)

            def play():
                with server._pair_lock:  # one day at a time, so both choices are always seen
                    current = store.pair(str(game["id"]))
                    changes = pg.apply_choice(current, role, choice)
                    store.update_pair(str(game["id"]), changes)
                    current = store.pair(str(game["id"]))
                    if changes.get("finished"):
                        server.finish_pair(current)
                    return current

            current = await asyncio.to_thread(play)
        except (ConfigError, pg.PairError) as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse(pg.view(current, role))

    routes = [
        Route("/", home),
        Route("/join", join, methods=["POST"]),
        Route("/student", student),
        Route("/send", send_run, methods=["POST"]),
        Route("/api/send", send_run, methods=["POST"]),
        Route("/board", board_page),
        Route("/board/live", board_live),
        Route("/api/board", board_json),
        Route("/teacher/exercise", set_exercise, methods=["POST"]),
        Route("/teacher/clear", clear, methods=["POST"]),
        Route("/teacher/export.csv", export_csv),
        Route("/teacher/pairs.csv", export_pairs),
        Route("/teacher/figures.png", figures),
        Route("/teacher/phase.svg", phase),
        Route("/pair", pair_home),
        Route("/pair/new", pair_new, methods=["POST"]),
        Route("/pair/join", pair_join, methods=["POST"]),
        Route("/pair/{pair}", pair_page),
        Route("/pair/{pair}/state", pair_state),
        Route("/pair/{pair}/choose", pair_choose, methods=["POST"]),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
    ]
    lifespans = []
    if dashboard:
        solara_app, startup, shutdown = _solara()
        routes.append(Mount("/dashboard", app=solara_app))
        lifespans.append((startup, shutdown))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        for startup, _ in lifespans:
            startup()
        try:
            yield
        finally:
            for _, shutdown in lifespans:
                with contextlib.suppress(Exception):
                    shutdown()
            store.close()

    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(Gate, server=server)])  # fmt: skip
    return app, server


def dashboard_file() -> Path:
    """The dashboard module's file (the Solara page the class server mounts)."""
    import importlib.util

    for name in ("sim.dashboard.app", "sim.app"):
        with contextlib.suppress(ModuleNotFoundError):
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.origin:
                return Path(spec.origin)
    raise RuntimeError("the dashboard module is missing")


def _solara():
    """Solara's application for the dashboard, with its start and stop hooks."""
    os.environ.setdefault("SOLARA_APP", str(dashboard_file()))
    os.environ.setdefault("SOLARA_MODE", "production")
    os.environ["RELSIM_DASHBOARD_WARNED"] = "1"
    import solara.server.starlette as solara_starlette

    return solara_starlette.app, solara_starlette.on_startup, solara_starlette.on_shutdown


# -- serving --------------------------------------------------------------------------------------


def port_problem(host: str, port: int) -> str:
    """Why the class server cannot listen on ``host:port`` ("" when it can)."""
    return net.port_problem(host, port, holder="a class session", command="relsim class",
                            default=net.CLASS_PORT)  # fmt: skip


def _lan_address() -> str:
    """Return this machine's address on the network (the join link beyond loopback)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))  # no packet is sent for UDP connect
        return str(probe.getsockname()[0])
    return socket.gethostname()


def addresses(host: str, port: int, store: Store) -> tuple[str, str]:
    """The students' join address (with the code) and the teacher's link (with the key)."""
    shown = _lan_address() if host in ("0.0.0.0", "::", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    base = f"http://{shown}:{port}"
    teacher_base = base if host not in ("0.0.0.0", "::") else f"http://127.0.0.1:{port}"
    return f"{base}/?code={store.class_code}", f"{teacher_base}/board?key={store.teacher_key}"


def exposure_warning(host: str) -> str:
    """The warning printed when the class server listens beyond this machine ("" on loopback)."""
    return net.exposure_warning(host, "relsim class", "anyone on this network who has the class "
                                "code can join and run models on this computer. Use it only on a "
                                "network you trust (the classroom's), keep the teacher link to "
                                "yourself, and stop the session (Ctrl+C) after the "
                                "lesson.")  # fmt: skip


def qr_uri(url: str) -> str:
    """The join address as a QR code, an SVG data URI for the board's header."""
    import segno

    return str(segno.make(url, error="m").svg_data_uri(scale=6, border=2))


def qr_text(url: str) -> str:
    """The join address as a QR code drawn with text blocks, for a terminal."""
    import segno

    buffer = __import__("io").StringIO()
    segno.make(url, error="m").terminal(out=buffer, compact=True, border=2)
    return buffer.getvalue()


def start_problem(host: str, port: int, out: Path | str) -> str:
    """Why a session cannot start with these flags ("" when it can); nothing is written."""
    if net.port_number_problem(port):
        return net.port_number_problem(port)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        return f"--out {folder} is a file; give a folder (new, or a class session's)"
    if folder.is_dir() and any(folder.iterdir()) and not (folder / "class.sqlite").exists():
        return (f"--out {folder} holds other files and no class session; give a new folder "
                "or a class session's folder")  # fmt: skip
    return port_problem(host, port)


def serve(port: int = net.CLASS_PORT, host: str = "127.0.0.1", out: Path | str = "class-session",
          *, qr: bool = True) -> int:  # fmt: skip
    """Run a class session until stopped; return an exit status (0 clean stop, 2 bad input).

    Ctrl+C, SIGTERM and SIGHUP stop it cleanly: open requests finish, the database is closed.
    Starting again with the same ``out`` keeps the codes, the exercise, the board and pair games.
    """
    import uvicorn

    problem = start_problem(host, port, out)
    if problem:
        print(f"relsim class: {problem}", file=sys.stderr)
        return 2
    folder = Path(out)
    warning = exposure_warning(host)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    resumed = (folder / "class.sqlite").exists()
    app, server = build_app(folder)
    join_url, teacher_url = addresses(host, port, server.store)
    server.join_url, server.teacher_url = join_url, teacher_url
    runs = len(server.store.runs())
    print(f"relsim class {__version__}: session in {folder}/"
          f"{f' (resumed: {runs} runs on the board)' if resumed else ''}\n\n"
          f"Students join at:  {join_url}\n"
          f"  (or open {join_url.split('?')[0]} and type the class code "
          f"{server.store.class_code})\n", flush=True)  # fmt: skip
    if qr:
        print(qr_text(join_url), flush=True)
    print(f"Teacher's board (keep this link to yourself):\n  {teacher_url}\n\n"
          "Ctrl+C stops the session; start it again with the same --out to carry on.",
          flush=True)  # fmt: skip

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):
            """Stop cleanly on Ctrl+C, SIGTERM and SIGHUP (and raise nothing afterwards)."""

            def stop(number, frame):
                self.should_exit = True

            numbers = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
            previous = {n: signal.signal(n, stop) for n in numbers}
            try:
                yield
            finally:
                for n, handler in previous.items():
                    signal.signal(n, handler)

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=3, ws="auto")  # fmt: skip
    runner = _Server(config)
    try:
        runner.run()
    except KeyboardInterrupt:
        pass
    if not runner.started:
        print(f"relsim class: could not listen on {host}:{port}", file=sys.stderr)
        return 2
    print(f"relsim class: stopped; everything is in {folder / 'class.sqlite'}", flush=True)
    return 0
