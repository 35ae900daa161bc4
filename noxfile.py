"""The test suite on every supported Python, each with the Mesa line pip gives it.

``nox`` (what ``bash tests/run.sh`` and ``.ci/run`` call) runs the session ``tests`` twice:

- ``tests-3.11``: Python 3.11, where pip installs Mesa 3.3;
- ``tests-3.12``: Python 3.12, where pip installs Mesa 3.5.

Each gets its own virtual environment in ``.nox/`` with ``pip install -e ".[test]"`` (kept between
runs, so a second run only checks the installed versions). Arguments after ``--`` go to pytest::

    .venv/bin/nox                                   # the whole suite on both Pythons
    .venv/bin/nox -s tests-3.12 -- tests/test_cli.py -x
    .venv/bin/nox -s tests-3.11 -- -m "not slow"

Python versions installed with pyenv (``~/.pyenv/versions/3.12.x``) are found even when pyenv's
shims do not expose them. A missing interpreter fails the run in CI (``CI=true``) and is reported
and skipped elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

#: The supported Pythons; keep in step with ``requires-python`` and the README.
PYTHONS = ["3.11", "3.12"]

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = os.environ.get("CI", "").lower() == "true"


def _put_pyenv_pythons_on_path() -> None:
    """Put each supported Python that pyenv installed on PATH, newest patch release first."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = []
    for version in PYTHONS:
        candidates = sorted(root.glob(f"{version}.*/bin/python{version}"),
                            key=lambda path: [int(part) for part in
                                              path.parent.parent.name.split(".")
                                              if part.isdigit()])  # fmt: skip
        if candidates:
            found.append(str(candidates[-1].parent))
    if found:
        os.environ["PATH"] = os.pathsep.join([*found, os.environ.get("PATH", "")])


_put_pyenv_pythons_on_path()


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Install relsim with its test extra and run pytest (arguments after ``--`` go to pytest)."""
    session.install("--quiet", "--upgrade", "pip")
    session.install("--quiet", "-e", ".[test]")
    session.run("python", "-c", "import sys, mesa, numba; print(f'Python {sys.version.split()[0]}"
                ", Mesa {mesa.__version__}, Numba {numba.__version__}')", silent=False)  # fmt: skip
    session.env["MPLBACKEND"] = "Agg"
    session.run("python", "-m", "pytest", *session.posargs)
