"""The package as a user gets it: a wheel built from the checkout, installed in a fresh venv.

What is honest here, and what it costs (measured on the project's 2-core machine):

- The wheel is built by pypa/build the way a release is: an sdist first, then the wheel from the
  unpacked sdist (so a file missing from the sdist is missing from the wheel too). About 5 s.
- The virtual environment is fresh: made by ``python -m venv`` from the test's interpreter, with
  no ``--system-site-packages`` and nothing from the checkout's ``.venv``. The wheel is installed
  *with* its dependencies, so the dependency list in pyproject.toml is what is tested. pip's
  download cache is reused (that is what makes it affordable: about 80 s); nothing else is.
- The commands run from an empty folder, so the bundled scenarios can only come from the wheel,
  and with an empty engine cache (``RELSIM_CACHE_DIR``), so the compiled engine is built from the
  installed files (about 45 s).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

import sim

REPO = Path(__file__).resolve().parent.parent
BUNDLED = sorted(path.stem for path in (REPO / "scenarios").glob("*.toml"))

pytestmark = pytest.mark.slow


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600):
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the wheel, install it into a fresh venv; yield (wheel, venv bin folder, env, home)."""
    root = tmp_path_factory.mktemp("packaging")
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}  # fmt: skip
    env["RELSIM_CACHE_DIR"] = str(root / "engine-cache")
    env["MPLBACKEND"] = "Agg"
    _run([sys.executable, "-m", "build", "--outdir", str(root / "dist"), str(REPO)], root, env)
    (wheel,) = (root / "dist").glob("relsim-*.whl")
    _run([sys.executable, "-m", "venv", str(root / "venv")], root, env)
    bin_dir = root / "venv" / "bin"
    _run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], root, env,
         timeout=1200)  # fmt: skip
    home = root / "user"
    home.mkdir()
    return wheel, bin_dir, env, home


def test_wheel_holds_the_scenarios_and_the_type_marker(installed):
    wheel = installed[0]
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"sim/scenarios/{name}.toml" for name in BUNDLED} <= names
    assert "sim/py.typed" in names
    sources = {path.relative_to(REPO).as_posix() for path in (REPO / "sim").rglob("*.py")}
    assert sources <= names, f"modules missing from the wheel: {sorted(sources - names)}"
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert f"Version: {sim.__version__}" in text  # single-sourced from sim/__init__.py
    requires = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    assert any(line.startswith("Requires-Dist: pandas") for line in requires)
    numba = next(line for line in requires if line.startswith("Requires-Dist: numba"))
    assert "<0." in numba  # capped at the tested minor


def test_the_venv_is_fresh(installed):
    _, bin_dir, env, home = installed
    done = _run([str(bin_dir / "python"), "-c",
                 "import sys, sim; print(sys.prefix != sys.base_prefix); print(sim.__file__); "
                 "import site; print(site.ENABLE_USER_SITE)"], home, env)  # fmt: skip
    is_venv, where, _ = done.stdout.splitlines()
    assert is_venv == "True"
    assert str(bin_dir.parent) in where and str(REPO) not in where
    config = (bin_dir.parent / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in config


def test_relsim_list_shows_every_bundled_scenario(installed):
    _, bin_dir, env, home = installed
    done = _run([str(bin_dir / "relsim"), "list"], home, env)
    listed = [line.split()[0] for line in done.stdout.splitlines()[1:] if line.strip()]
    assert listed == BUNDLED
    version = _run([str(bin_dir / "relsim"), "--version"], home, env).stdout.strip()
    assert version == f"relsim {sim.__version__}"


def test_relsim_run_from_the_wheel(installed):
    _, bin_dir, env, home = installed
    done = _run([str(bin_dir / "relsim"), "run", "anxious-avoidant", "--couples", "5",
                 "--days", "5"], home, env)  # fmt: skip
    out = home / "results" / "anxious-avoidant"
    assert f"Files in {Path('results') / 'anxious-avoidant'}/" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["couples"], summary["days"]) == (5, 5)
    assert sum(summary["outcomes"].values()) == 5
    assert (out / "figure.png").stat().st_size > 10_000


def test_relsim_dashboard_from_the_wheel_serves_the_page(installed, free_port):
    _, bin_dir, env, home = installed
    port = free_port()
    log = home / "dashboard.log"
    with log.open("wb") as sink:
        server = subprocess.Popen([str(bin_dir / "relsim"), "dashboard", "--port", str(port)],
                                  cwd=home, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                  start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        page = None
        while page is None and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    page = (answer.status, answer.read().decode("utf-8", "replace"))
            except OSError:
                time.sleep(0.5)
        assert page is not None, f"no answer within 300 s:\n{log.read_text()}"
        assert page[0] == 200 and "<html" in page[1].lower()
    finally:
        # The command and the Solara server it starts share one process group: stop both.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
