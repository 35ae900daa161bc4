"""Shared fixtures: run the ``relsim`` command in-process and capture what it prints; free ports."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

import pytest


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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))  # the system picks a port nobody is listening on
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """Return a function that gives a free TCP port on 127.0.0.1 (for servers a test starts)."""
    return _free_port


#: Seconds a test marked ``slow`` may take (statistical runs, notebooks, a browser, a fresh
#: virtual environment); every other test has pyproject's ``timeout``.
SLOW_TIMEOUT = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give slow tests their longer timeout, unless a test names its own."""
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))
