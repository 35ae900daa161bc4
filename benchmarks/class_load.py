"""Load on a class session: many students sending runs while the teacher's board updates.

Run from the repository root::

    python benchmarks/class_load.py            # 60 students, runs spread over 5 minutes, 10 pairs
    python benchmarks/class_load.py --quick    # 20 students over 40 seconds, 3 pairs

It starts ``relsim class`` on 127.0.0.1 (a free port, a fresh session folder), lets every
simulated student join with the class code (each with their own cookies) and send
``--runs-each`` runs of the default exercise (100 couples, 180 days, each student its own
partner B style and seed) at random moments spread over ``--seconds``, within the per-student
rate limit. Meanwhile ``--pairs`` pairs of further students each play a 10-day couple (every
move a request, one to three seconds apart), and a teacher polls the board the way the board
page does and records how long each fetch takes and how soon each stored run shows on it.
Every second the server's resident memory (RSS) is sampled. It stops by itself (a hard
deadline of ``--seconds`` + 120 s), stops the server with SIGTERM, and prints:

* runs sent, stored and shown; errors (any answer but 200, a refused or failed request);
* the time a run takes to answer (p50, p95, max), and a pair game's move;
* board: fetch time (p50, p95, max) and the delay from a run's answer to the board showing it
  (p50, p95, max; the teacher here polls every 0.1 s, the board page every 0.5 s);
* the server's memory: at start, peak, at the end; the bound checked is ``BOUND_MIB``.

The exit status is 0 when there was no error, every run showed within a second, and memory
stayed under the bound; else 1.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.net import free_port  # noqa: E402

#: The stated bound on the server's resident memory during the load (MiB).
BOUND_MIB = 600.0
#: A run must show on the board within this many seconds of its answer (the page polls at 0.5 s).
SHOW_WITHIN = 1.0
MIB = 1024 * 1024
STYLES = ("secure", "anxious", "avoidant", "fearful")


def _client():
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def _get(opener, url: str, data: bytes | None = None, timeout: float = 60) -> tuple[int, bytes]:
    try:
        with opener.open(url, data, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        body = error.read()
        error.close()
        return error.code, body


def _start(folder: Path, port: int, log_path: Path):
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "class", "--port", str(port), "--out", str(folder)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log,
        stderr=subprocess.STDOUT)  # fmt: skip
    log.close()
    deadline = time.monotonic() + 400  # a first start may compile the engine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"relsim class exited: {log_path.read_text()}")
        text = log_path.read_text()
        join = re.search(r"Students join at:\s+(\S+)", text)
        teacher = re.search(r"(http://\S+/board\?key=\S+)", text)
        if join and teacher:
            try:
                with urllib.request.urlopen(join.group(1).split("?")[0], timeout=5):
                    return process, join.group(1), teacher.group(1)
            except OSError:
                pass
        time.sleep(0.3)
    process.kill()
    raise SystemExit("relsim class did not start within 400 s")


def _quantiles(values: list[float]) -> str:
    if not values:
        return "none"
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return (f"p50 {1000 * statistics.median(values):.0f} ms, p95 {1000 * p95:.0f} ms, "
            f"max {1000 * values[-1]:.0f} ms")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--runs-each", type=int, default=5)
    parser.add_argument(
        "--pairs",
        type=int,
        default=10,
        help="pairs of further students playing a 10-day couple meanwhile",
    )
    parser.add_argument("--quick", action="store_true", help="20 students over 40 seconds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.students, args.seconds, args.runs_each, args.pairs = 20, 40.0, 2, 3
    if not (
        1 <= args.students <= 120 - 2 * args.pairs
        and 10 <= args.seconds <= 900
        and 1 <= args.runs_each <= 20
        and 0 <= args.pairs <= 20
    ):
        parser.error(
            "allowed: --students 1 to 120 (less two per pair), --seconds 10 to 900, "
            "--runs-each 1 to 20, --pairs 0 to 20"
        )
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="relsim-class-load-"))
    process, join, teacher = _start(work / "session", free_port(), work / "server.log")
    base = join.split("/?")[0]
    server = psutil.Process(process.pid)
    start_rss = server.memory_info().rss / MIB
    lock = threading.Lock()
    answered: dict[int, float] = {}  # run number -> when its answer arrived
    run_seconds: list[float] = []
    errors: list[str] = []
    fetch_seconds: list[float] = []
    shown: dict[int, float] = {}
    rss: list[float] = [start_rss]
    stop = threading.Event()
    hard_deadline = time.monotonic() + args.seconds + 120

    def joined(who: str):
        """A new browser (its own cookies) that joined with the class code; None if refused."""
        opener = _client()
        status, _ = _get(opener, join)
        if status == 200:
            return opener
        with lock:
            errors.append(f"{who} could not join: {status}")
        return None

    def student(number: int, moments: list[float], began: float) -> None:
        opener = joined(f"student {number}")
        if opener is None:
            return
        for i, moment in enumerate(moments):
            time.sleep(max(0.0, began + moment - time.monotonic()))
            if time.monotonic() > hard_deadline:
                return
            form = {"group": f"Group {number % 15 + 1}", "style_b": STYLES[number % 4],
                    "seed": 1000 * number + i}  # fmt: skip
            sent = time.monotonic()
            try:
                status, body = _get(opener, base + "/api/send",
                                    urllib.parse.urlencode(form).encode())  # fmt: skip
            except OSError as error:
                with lock:
                    errors.append(f"student {number}: {error}")
                continue
            done = time.monotonic()
            with lock:
                if status == 200:
                    answered[int(json.loads(body)["run"])] = done
                    run_seconds.append(done - sent)
                else:
                    errors.append(f"student {number}: {status} {body[:120]!r}")

    pair_seconds: list[float] = []
    pairs_done: list[int] = []

    def pair(number: int, start: float, began: float) -> None:
        a = joined(f"pair {number}")
        b = joined(f"pair {number}") if a else None
        if a is None or b is None:
            return
        time.sleep(max(0.0, began + start - time.monotonic()))
        form = {"style_a": STYLES[number % 4], "style_b": STYLES[(number + 2) % 4], "days": 10,
                "group": f"Pair {number}"}  # fmt: skip
        with a.open(base + "/pair/new", urllib.parse.urlencode(form).encode()) as response:
            code = response.url.rsplit("/", 1)[1]
        status, _ = _get(b, base + "/pair/join", urllib.parse.urlencode({"pair": code}).encode())
        if status != 200:
            with lock:
                errors.append(f"pair {number} could not pair up: {status}")
            return
        for day in range(10):
            for role, opener in (("a", a), ("b", b)):
                choice = {
                    "ask": ("yes", "no", "model")[(day + number) % 3],
                    "answer": ("warm", "brief", "none", "model")[day % 4],
                    "distance": "yes" if (day + (role == "b")) % 5 == 0 else "no",
                }
                sent = time.monotonic()
                status, body = _get(opener, f"{base}/pair/{code}/choose",
                                    urllib.parse.urlencode(choice).encode())  # fmt: skip
                with lock:
                    if status == 200:
                        pair_seconds.append(time.monotonic() - sent)
                    else:
                        errors.append(f"pair {number} day {day}: {status} {body[:120]!r}")
                        return
                time.sleep(rng_pause[number])
        with lock:
            pairs_done.append(number)

    rng_pause = [1.0 + rng.uniform(0, 2) for _ in range(args.pairs)]

    def watcher() -> None:
        opener = _client()
        _get(opener, teacher)
        version = ""
        while not stop.is_set() and time.monotonic() < hard_deadline:
            began = time.monotonic()
            status, body = _get(opener, f"{base}/board/live?v={version}", timeout=30)
            took = time.monotonic() - began
            with lock:
                fetch_seconds.append(took)
                if status == 200:
                    match = re.search(rb'data-version="(\d+)" data-runs="(\d+)"', body)
                    if match:
                        version = match.group(1).decode()
                        for run in range(1, int(match.group(2)) + 1):
                            shown.setdefault(run, time.monotonic())
                elif status != 204:
                    errors.append(f"board: {status}")
            time.sleep(max(0.0, 0.1 - took))

    def sampler() -> None:
        while not stop.is_set():
            try:
                value = server.memory_info().rss / MIB
            except psutil.Error:
                return
            with lock:
                rss.append(value)
            stop.wait(1.0)

    print(f"class load: {args.students} students, {args.runs_each} runs each over "
          f"{args.seconds:.0f} s, on {base}", flush=True)  # fmt: skip
    began = time.monotonic() + 1.0
    threads = [threading.Thread(target=watcher, daemon=True),
               threading.Thread(target=sampler, daemon=True)]  # fmt: skip
    for number in range(args.students):
        moments = sorted(rng.uniform(0, args.seconds) for _ in range(args.runs_each))
        threads.append(threading.Thread(target=student, args=(number, moments, began),
                                        daemon=True))  # fmt: skip
    for number in range(args.pairs):
        start = rng.uniform(0, max(0.0, args.seconds - 60))
        threads.append(threading.Thread(target=pair, args=(number, start, began), daemon=True))
    try:
        for thread in threads:
            thread.start()
        for thread in threads[2:]:
            thread.join(timeout=max(0.0, hard_deadline - time.monotonic()))
        time.sleep(1.5)  # the last run reaches the board
        stop.set()
        for thread in threads[:2]:
            thread.join(timeout=10)
        end_rss = server.memory_info().rss / MIB
    finally:
        stop.set()
        process.send_signal(signal.SIGTERM)
        try:
            status = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            status = process.wait()
    delays = [shown[run] - at for run, at in answered.items() if run in shown]
    late = [d for d in delays if d > SHOW_WITHIN]
    missing = [run for run in answered if run not in shown]
    print(
        f"  runs: {args.students * args.runs_each} planned, {len(answered)} stored, "
        f"{len(delays)} seen on the board (and {2 * len(pairs_done)} from pair games)"
    )
    print(f"  errors: {len(errors)}" + "".join(f"\n    {e}" for e in errors[:10]))
    print(f"  a run's answer: {_quantiles(run_seconds)}")
    print(
        f"  pair games: {len(pairs_done)} of {args.pairs} played 10 days; a move's answer: "
        f"{_quantiles(pair_seconds)}"
    )
    print(f"  board fetch: {_quantiles(fetch_seconds)} ({len(fetch_seconds)} fetches)")
    print(
        f"  from a run's answer to the board showing it (teacher polls every 0.1 s): "
        f"{_quantiles(delays)}; later than {SHOW_WITHIN:g} s: {len(late)}"
    )
    print(
        f"  server memory (RSS): {start_rss:.0f} MiB at start, peak {max(rss):.0f} MiB, "
        f"{end_rss:.0f} MiB at the end (bound {BOUND_MIB:.0f} MiB)"
    )
    print(f"  server stopped with status {status}; session folder {work / 'session'}")
    ok = (not errors and not late and not missing and len(pairs_done) == args.pairs
          and len(answered) == args.students * args.runs_each
          and max(rss) < BOUND_MIB and status == 0)  # fmt: skip
    print("  result: " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
