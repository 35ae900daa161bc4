"""Shared fixtures: run ``relsim`` in-process and capture what it prints; free ports; servers.

``ChildServer`` starts a server (the dashboard, a class session) as a child process the way a
user would, waits until it answers, and stops it; ``browser`` is the headless Chromium the
browser tests drive.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The browser the browser tests drive (Debian's package; CI installs it with apt-get).
CHROMIUM = "/usr/bin/chromium"
#: What Debian's Chromium needs to run headless in a container, offline.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]  # fmt: skip


@dataclass
class CliRun:
    """What one ``relsim`` call returned and printed."""

    status: int
    out: str
    err: str


@pytest.fixture
def relsim(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    """Call ``sim.cli.main`` with the given arguments; return status, stdout and stderr."""
    from sim.cli import main

    def run(*argv: str) -> CliRun:
        capsys.readouterr()
        status = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return CliRun(status, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """Return a function that gives a free TCP port on 127.0.0.1 (for servers a test starts)."""
    from sim.net import free_port

    return free_port


def _default_hangup() -> None:
    """In a server's child process before it starts: SIGHUP back to its default (terminate)."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


class ChildServer:
    """A server run as ``python ARGV`` from the repository, its output written to ``log``."""

    def __init__(self, argv: Sequence[str], log: Path) -> None:
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w") as out:
            # The server starts with the default signal dispositions, as from a terminal: a test
            # run launched under nohup (as some CI harnesses do) would otherwise pass on an
            # ignored SIGHUP, and a hang-up that the tests send would then be ignored too.
            self.process = subprocess.Popen([sys.executable, *map(str, argv)], cwd=ROOT,
                                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                                            stdout=out, stderr=subprocess.STDOUT,
                                            preexec_fn=_default_hangup)  # fmt: skip

    def output(self) -> str:
        """Everything the server has printed so far."""
        return self.log.read_text()

    def wait(self, url: str | Callable[[], str | None], seconds: float) -> str:
        """Wait until ``url`` answers 200 (``url`` may be a function: None while unknown).

        Returns the address; raises, with the server's output, if it exits or stays silent.
        """
        deadline = time.monotonic() + seconds
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n"
                                   f"{self.output()[-3000:]}")  # fmt: skip
            address = url() if callable(url) else url
            if address:
                try:
                    with urllib.request.urlopen(address, timeout=5) as response:
                        if response.status == 200:
                            return address
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer within {seconds} s:\n"
                                   f"{self.output()[-3000:]}")  # fmt: skip
            time.sleep(0.3)

    def stop(self, seconds: float = 20) -> int:
        """Stop it with SIGTERM (as closing a terminal would; SIGKILL if it hangs); its status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        return self.process.returncode


@pytest.fixture(scope="session")
def child_server() -> type[ChildServer]:
    """Return :class:`ChildServer`, which starts a server as a child process (browser tests)."""
    return ChildServer


#: Seconds a server may take to answer: its first start may compile the engine (172 s seen under
#: load on the shared 2-core machine).
SERVER_START_SECONDS = 400


def _class_addresses(printed: str) -> tuple[str, str] | None:
    """The students' join address and the teacher's link, once ``relsim class`` printed both."""
    join = re.search(r"Students join at:\s+(\S+)", printed)
    teacher = re.search(r"(http://\S+/board\?key=\S+)", printed)
    return (join.group(1), teacher.group(1)) if join and teacher else None


def start_class(folder: Path, port: int, log: Path) -> tuple[ChildServer, str, str]:
    """Start ``relsim class --out folder``; return it, the join address and the teacher's link."""
    server = ChildServer(["-m", "sim", "class", "--port", port, "--out", folder], log)

    def join_page() -> str | None:
        found = _class_addresses(server.output())
        return found[0].split("?")[0] if found else None

    try:
        server.wait(join_page, SERVER_START_SECONDS)
    except BaseException:
        server.stop()
        raise
    join, teacher = _class_addresses(server.output())
    return server, join, teacher


@pytest.fixture(scope="session")
def class_session() -> Callable[[Path, int, Path], tuple[ChildServer, str, str]]:
    """Return :func:`start_class`, which starts a class session as a child process."""
    return start_class


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through Playwright, one per test module; a missing browser fails."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), (f"{CHROMIUM} is missing: install Debian's chromium "
                                     "(apt-get install -y chromium)")  # fmt: skip
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                                              headless=True)  # fmt: skip
        try:
            yield chromium
        finally:
            chromium.close()


#: Seconds a test marked ``slow`` may take (statistical runs, notebooks, a browser, a fresh
#: virtual environment); every other test has pyproject's ``timeout``.
SLOW_TIMEOUT = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give slow tests their longer timeout, unless a test names its own."""
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))
