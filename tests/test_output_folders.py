"""Output folders: where results go, what --force may replace, and what an interruption leaves.

Each case of issue 14 (items 6-10) and issue 10 (item 4) is a test here. Runs are tiny (a few
couples, a few days); the kill tests run ``relsim`` in a child process that kills itself with
SIGKILL at the named moment, so nothing is timed and nothing can flake.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sim.cli
import sim.results
from sim.results import RUN_FILES, is_relsim_folder, tidy_siblings

REPO = Path(__file__).resolve().parent.parent
TINY = ("--days", "5", "--couples", "4")


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if anything is simulated: a bad --out must be found before that."""

    def refuse(*args, **kwargs):
        raise AssertionError("simulated although the output folder is unusable")

    monkeypatch.setattr(sim.cli, "simulate_scenario", refuse)


def _run_in_child(script: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``script`` (which calls ``sim.cli.main``) in a new interpreter, NumPy engine."""
    env = {**os.environ, "RELSIM_ENGINE": "numpy", "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ----------------------------------------------------------------------------------------------
# Issue 10 item 4: the README's commands, in order, on a fresh clone


def _readme_run_commands() -> list[list[str]]:
    """The README's main command and its --set example, as argument lists after ``relsim``."""
    readme = (REPO / "README.md").read_text()
    main = next(line for line in readme.splitlines() if "relsim run anxious-avoidant" in line
                and "venv" in line)  # fmt: skip
    main_args = shlex.split(main.split(".venv/bin/relsim", 1)[1])
    example = next(line for line in readme.splitlines()
                   if line.startswith("relsim run anxious-avoidant --set"))  # fmt: skip
    example_args = shlex.split(example.split("#", 1)[0])[1:]
    return [main_args, main_args, example_args]


def test_readme_commands_run_in_order(relsim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first, again, example = _readme_run_commands()
    assert first[:2] == ["run", "anxious-avoidant"] and "--set" in example
    folders = []
    for argv in (first, again, example):
        result = relsim(*argv, *TINY)
        assert result.status == 0, result.err
        folders.append(next(line for line in result.out.splitlines()
                            if line.startswith("Files in ")))  # fmt: skip
    assert folders == [
        f"Files in {Path('results') / name}/"
        for name in ("anxious-avoidant", "anxious-avoidant-2", "anxious-avoidant-3")
    ]
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [
        "anxious-avoidant",
        "anxious-avoidant-2",
        "anxious-avoidant-3",
    ]
    summary = json.loads((tmp_path / "results/anxious-avoidant-3/summary.json").read_text())
    assert summary["overrides"][:2] == example[example.index("--set") + 1 :: 2][:2]


def test_default_folder_taken_goes_to_a_numbered_sibling_and_says_so(relsim, tmp_path,
                                                                      monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "secure-secure").mkdir(parents=True)
    (tmp_path / "results" / "secure-secure-2").write_text("a file, not free either")
    result = relsim("run", "secure-secure", *TINY)
    assert result.status == 0, result.err
    assert "results/secure-secure already exists; writing to results/secure-secure-3" in result.err
    assert (tmp_path / "results" / "secure-secure-3" / "summary.json").is_file()
    assert list((tmp_path / "results" / "secure-secure").iterdir()) == []  # untouched


def test_force_without_out_replaces_the_default_folder(relsim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert relsim("run", "secure-secure", *TINY).status == 0
    result = relsim("run", "secure-secure", *TINY, "--seed", "9", "--force")
    assert result.status == 0, result.err
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["secure-secure"]
    summary = json.loads((tmp_path / "results/secure-secure/summary.json").read_text())
    assert summary["seed"] == 9


def test_explicit_out_that_exists_is_still_refused(relsim, tmp_path):
    out = tmp_path / "mine"
    assert relsim("run", "secure-secure", *TINY, "--out", out).status == 0
    result = relsim("run", "secure-secure", *TINY, "--out", out)
    assert result.status == 2
    assert "already exists" in result.err and "--force" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


# ----------------------------------------------------------------------------------------------
# Item 6: a bad --out is found before simulating


@pytest.mark.parametrize(("make", "words"), [
    (lambda tmp: (tmp / "file").write_text("x") and tmp / "file" / "sub", ["is a file"]),
    (lambda tmp: Path("/proc/relsim-x"), ["cannot be created"]),
    (lambda tmp: (tmp / "link").symlink_to(tmp / "nowhere") or tmp / "link",
     ["symbolic link", "does not exist"]),
    (lambda tmp: (tmp / "real").mkdir() or (tmp / "alias").symlink_to(tmp / "real")
     or tmp / "alias", ["symbolic link"]),
    (lambda tmp: tmp / ("n" * 300), ["name is too long", "300 bytes"]),
    (lambda tmp: tmp / ("n" * 250), ["name is too long", "at most 241"]),
], ids=["under a file", "/proc", "dangling symlink", "symlink to a folder", "300 characters",
        "no room for the hidden siblings"])  # fmt: skip
def test_unusable_out_exits_2_before_simulating(relsim, tmp_path, no_simulation, make, words):
    out = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = relsim("run", "anxious-avoidant", *TINY, "--out", out)
    assert result.status == 2, result.err
    assert result.err.startswith("relsim: error: output")
    assert str(out) in result.err
    for word in words:
        assert word in result.err
    assert "Traceback" not in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def _without_root_override() -> None:
    """In the child, before exec: drop the capabilities that let root ignore permissions.

    ``chmod 555`` does not stop root, which holds CAP_DAC_OVERRIDE; removing it (and
    CAP_DAC_READ_SEARCH) from the bounding set makes root obey the folder's mode, as any user
    does. For a non-root user this is not needed and not done.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_read_only_parent_exits_2_before_simulating(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    script = f"""
        import sys
        import sim.cli
        def refuse(*args, **kwargs):
            sys.exit(99)
        sim.cli.simulate_scenario = refuse
        sys.exit(sim.cli.main(["run", "anxious-avoidant", "--out", {str(locked / "out")!r}]))
    """
    env = {**os.environ, "RELSIM_ENGINE": "numpy"}
    try:
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=300, check=False,
                              preexec_fn=_without_root_override if os.geteuid() == 0
                              else None)  # fmt: skip
    finally:
        locked.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert f"output folder {locked / 'out'} cannot be created in {locked}" in done.stderr
    assert "Permission denied" in done.stderr
    assert list(locked.iterdir()) == []


# ----------------------------------------------------------------------------------------------
# Item 7: --force replaces only what relsim wrote


def test_force_refuses_a_folder_relsim_did_not_write(relsim, tmp_path, no_simulation):
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    (project / "thesis.tex").write_text("chapter one")
    result = relsim("run", "anxious-avoidant", "--out", project, "--force")
    assert result.status == 2
    assert "not a relsim results folder" in result.err and "no manifest.json" in result.err
    assert sorted(p.name for p in project.iterdir()) == [".git", "thesis.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]


def test_force_refuses_a_relsim_folder_holding_a_users_file(relsim, tmp_path):
    out = tmp_path / "run"
    assert relsim("run", "secure-secure", *TINY, "--out", out).status == 0
    (out / "notes.txt").write_text("my notes")
    result = relsim("run", "secure-secure", *TINY, "--out", out, "--force")
    assert result.status == 2
    assert "files relsim did not write (notes.txt)" in result.err
    assert (out / "notes.txt").read_text() == "my notes"


def test_force_refuses_a_manifest_another_program_wrote(relsim, tmp_path, no_simulation):
    out = tmp_path / "other"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"program": "other", "files": []}))
    result = relsim("run", "secure-secure", "--out", out, "--force")
    assert result.status == 2 and "not one relsim wrote" in result.err


@pytest.mark.parametrize("out", ["", ".", "..", "./"])
def test_force_on_the_current_folder_is_refused_and_leaves_nothing(relsim, tmp_path,
                                                                   monkeypatch, no_simulation,
                                                                   out):  # fmt: skip
    here = tmp_path / "here"
    here.mkdir()
    (here / "keep.txt").write_text("x")
    monkeypatch.chdir(here)
    result = relsim("run", "anxious-avoidant", "--out", out, "--force")
    assert result.status == 2
    assert "is the current folder or one that holds it" in result.err
    assert sorted(p.name for p in here.iterdir()) == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here"]


def test_is_relsim_folder_reasons(tmp_path):
    assert is_relsim_folder(tmp_path) == (False, "it has no manifest.json written by relsim")
    (tmp_path / "manifest.json").write_text("{not json")
    assert is_relsim_folder(tmp_path)[1].endswith("(unreadable)")
    (tmp_path / "manifest.json").write_text(json.dumps({"program": "relsim",
                                                        "files": ["a.csv"]}))  # fmt: skip
    (tmp_path / "a.csv").write_text("")
    assert is_relsim_folder(tmp_path) == (True, "")
    (tmp_path / "sub").mkdir()
    assert is_relsim_folder(tmp_path) == (False, "it holds files relsim did not write (sub/)")


def test_sweep_never_deletes_a_users_file_in_partial(relsim, tmp_path):
    out = tmp_path / "sweep"
    partial = tmp_path / "sweep.partial"
    partial.mkdir()
    (partial / "notes.txt").write_text("mine")
    (partial / "chunk-00000.npz").write_bytes(b"a finished chunk")
    tiny = ("--days", "5", "--set", "sweep.x.num=2", "--set", "sweep.y.num=2",
            "--set", "sweep.replicates=2", "--workers", "1")  # fmt: skip
    result = relsim("sweep", "phase-levers", *tiny, "--out", out, "--force")
    assert result.status == 0, result.err
    assert "removed 1 finished chunks" in result.err
    assert f"kept {partial}: it holds files relsim did not write (notes.txt)" in result.err
    assert sorted(p.name for p in partial.iterdir()) == ["notes.txt"]
    assert (out / "sweep.csv").is_file()


# ----------------------------------------------------------------------------------------------
# Items 8 and 9: atomic replacement, and what a kill leaves


def test_force_swaps_in_one_exchange_where_the_system_has_one(relsim, tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert relsim("run", "secure-secure", *TINY, "--out", out).status == 0
    calls = []
    real = sim.results._exchange

    def spy(staging, target):
        swapped = real(staging, target)
        calls.append(swapped)
        return swapped

    monkeypatch.setattr(sim.results, "_exchange", spy)
    assert relsim("run", "secure-secure", *TINY, "--seed", "4", "--out", out,
                  "--force").status == 0  # fmt: skip
    if sys.platform.startswith("linux"):
        assert calls == [True]  # renameat2(RENAME_EXCHANGE) on tmpfs and ext4
    assert json.loads((out / "summary.json").read_text())["seed"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_force_without_an_exchange_rename_falls_back(relsim, tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert relsim("run", "secure-secure", *TINY, "--out", out).status == 0
    monkeypatch.setattr(sim.results, "_exchange", lambda staging, target: False)
    assert relsim("run", "secure-secure", *TINY, "--seed", "4", "--out", out,
                  "--force").status == 0  # fmt: skip
    assert json.loads((out / "summary.json").read_text())["seed"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


KILL_BETWEEN_RENAMES = """
    import os, signal, sys
    import sim.cli, sim.results
    sim.results._exchange = lambda staging, target: False   # the fallback: two renames
    renames = []
    real = os.rename
    def rename(source, destination):
        real(source, destination)
        renames.append(destination)
        if ".old-" in str(destination):
            os.kill(os.getpid(), signal.SIGKILL)   # between moving the old aside and the new in
    sim.results.os.rename = rename
    sim.cli.main(["run", "secure-secure", "--days", "5", "--couples", "4", "--seed", "8",
                  "--out", "run", "--force"])
"""

KILL_AFTER_EXCHANGE = """
    import os, signal
    import sim.cli, sim.results
    real = sim.results._exchange
    def exchange(staging, target):
        if real(staging, target):
            os.kill(os.getpid(), signal.SIGKILL)   # before the old folder is deleted
        return False
    sim.results._exchange = exchange
    sim.cli.main(["run", "secure-secure", "--days", "5", "--couples", "4", "--seed", "8",
                  "--out", "run", "--force"])
"""

KILL_WHILE_WRITING = """
    import os, signal
    import sim.cli, sim.results
    def save_figure(figure, path):
        os.kill(os.getpid(), signal.SIGKILL)   # summary.json and the CSV files are written
    sim.results.save_figure = save_figure
    sim.cli.main(["run", "secure-secure", "--days", "5", "--couples", "4", "--seed", "8",
                  "--out", "run"])
"""


def test_kill_between_the_two_renames_is_recovered_by_the_next_run(relsim, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert relsim("run", "secure-secure", *TINY, "--out", "run").status == 0
    done = _run_in_child(KILL_BETWEEN_RENAMES, tmp_path)
    assert done.returncode == -9, done.stderr
    assert not (tmp_path / "run").exists()
    (old,) = [name for name in _hidden(tmp_path) if name.startswith(".run.old-")]
    result = relsim("run", "secure-secure", *TINY, "--out", "run")
    assert f"note: recovered run from {old}" in result.err
    assert result.status == 2 and "already exists" in result.err  # the old folder is back
    assert json.loads((tmp_path / "run/summary.json").read_text())["seed"] == 1
    assert relsim("run", "secure-secure", *TINY, "--out", "run", "--force").status == 0
    assert _hidden(tmp_path) == []


def test_kill_after_the_exchange_keeps_the_new_folder_and_cleans_the_old(relsim, tmp_path,
                                                                         monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert relsim("run", "secure-secure", *TINY, "--out", "run").status == 0
    done = _run_in_child(KILL_AFTER_EXCHANGE, tmp_path)
    assert done.returncode == -9, done.stderr
    assert json.loads((tmp_path / "run/summary.json").read_text())["seed"] == 8  # the new one
    (left,) = _hidden(tmp_path)
    assert left.startswith(".run.tmp-")
    result = relsim("run", "secure-secure", *TINY, "--out", "other")
    assert result.status == 0  # another folder: run's siblings are not its business
    assert _hidden(tmp_path) == [left]
    result = relsim("run", "secure-secure", *TINY, "--out", "run", "--force")
    assert result.status == 0, result.err
    assert f"note: removed {left}: an old results folder left by an interrupted relsim" in (
        result.err
    )
    assert _hidden(tmp_path) == []


def test_kill_while_writing_leaves_debris_the_next_run_removes(relsim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    done = _run_in_child(KILL_WHILE_WRITING, tmp_path)
    assert done.returncode == -9, done.stderr
    (left,) = _hidden(tmp_path)
    assert left.startswith(".run.tmp-") and not (tmp_path / "run").exists()
    assert {"summary.json", "couples.csv"} <= {p.name for p in (tmp_path / left).iterdir()}
    result = relsim("run", "secure-secure", *TINY, "--out", "run")
    assert result.status == 0, result.err
    assert f"removed {left}: an unfinished results folder" in result.err
    assert _hidden(tmp_path) == [] and (tmp_path / "run/figure.png").is_file()


def test_a_sibling_a_running_relsim_holds_is_left_alone(tmp_path):
    busy = tmp_path / ".run.tmp-abcd1234"
    busy.mkdir()
    (busy / "summary.json").write_text("{}")
    handle = os.open(busy, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        assert tidy_siblings(tmp_path / "run") == []
        assert busy.is_dir()
    finally:
        os.close(handle)
    assert tidy_siblings(tmp_path / "run") == [
        f"removed {busy}: an unfinished results folder left by an interrupted relsim"
    ]


def test_debris_holding_more_than_files_is_left_alone(tmp_path):
    odd = tmp_path / ".run.old-abcd1234"
    (odd / "sub").mkdir(parents=True)
    (said,) = tidy_siblings(tmp_path / "run")
    assert said.startswith(f"left {odd} alone")
    assert (odd / "sub").is_dir()


def test_files_and_folders_are_flushed_before_the_rename(relsim, tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def fsync(handle):
        synced.append(os.readlink(f"/proc/self/fd/{handle}"))
        return real(handle)

    renamed = []
    real_rename = os.rename

    def rename(source, destination):
        renamed.append((len(synced), str(destination)))
        return real_rename(source, destination)

    monkeypatch.setattr(sim.results.os, "fsync", fsync)
    monkeypatch.setattr(sim.results.os, "rename", rename)
    monkeypatch.setattr(sim.results, "_libc_rename", lambda source, destination, flags: False)
    out = tmp_path / "run"
    assert relsim("run", "secure-secure", *TINY, "--out", out).status == 0
    ((before_rename, destination),) = renamed
    assert destination == str(out)
    staging = Path(synced[0]).parent
    assert staging.name.startswith(".run.tmp-")
    # every file and the folder (the figure is also synced once more as it is written)
    assert {str(staging / name) for name in RUN_FILES} | {str(staging)} <= set(
        synced[:before_rename]
    )
    assert synced[before_rename:] == [str(tmp_path)]  # the rename itself, made durable


# ----------------------------------------------------------------------------------------------
# Item 10: permissions follow the umask


@pytest.mark.parametrize(("umask", "folder", "file"), [(0o022, 0o755, 0o644),
                                                       (0o027, 0o750, 0o640),
                                                       (0o002, 0o775, 0o664)])  # fmt: skip
def test_permissions_follow_the_umask(relsim, tmp_path, umask, folder, file):
    out = tmp_path / "new" / "run"
    previous = os.umask(umask)
    try:
        assert relsim("run", "secure-secure", *TINY, "--out", out).status == 0
        assert relsim("run", "secure-secure", *TINY, "--out", out, "--force").status == 0
    finally:
        os.umask(previous)
    for path, expected in ((out.parent, folder), (out, folder),
                           *((out / name, file) for name in RUN_FILES)):  # fmt: skip
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


def test_sweep_folder_permissions_follow_the_umask(relsim, tmp_path):
    out = tmp_path / "sweep"
    previous = os.umask(0o022)
    try:
        result = relsim("sweep", "phase-levers", "--days", "5", "--set", "sweep.x.num=2",
                        "--set", "sweep.y.num=2", "--set", "sweep.replicates=2",
                        "--workers", "1", "--out", out)  # fmt: skip
    finally:
        os.umask(previous)
    assert result.status == 0, result.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
