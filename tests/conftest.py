"""Shared fixtures: run the ``relsim`` command in-process and capture what it prints."""

from __future__ import annotations

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
