"""A run's folder and a sweep's folder, written atomically, with a manifest.

Everything is first written into a temporary folder next to the target and then renamed into
place, so that an interrupted run (Ctrl-C, a crash, a full disk) leaves either the old folder or
the new one, never half of one. An existing folder is kept unless the caller asks to replace it.

The files and their columns are described in results/README.md. The same seed gives the same
files byte for byte, apart from the ``timings`` of ``manifest.json``: JSON keys keep a fixed
order, floats are written with a fixed format, and figures are saved without a timestamp or
software tag.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import platform
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "MANIFEST_SCHEMA_VERSION",
    "PER_COUPLE_TIMESERIES_MAX",
    "OutputError",
    "OutputExistsError",
    "atomic_folder",
    "check_target",
    "is_relsim_folder",
    "manifest",
    "next_free_sibling",
    "tidy_siblings",
    "write_atomically",
    "write_csv",
    "write_json",
    "write_run",
    "write_sweep",
]

#: 3: request_rate_* (revision 2.3); 2: model revision 2 (new columns, the relief measure).
MANIFEST_SCHEMA_VERSION = 3
#: Runs with at most this many couples get one timeseries row per day, couple and partner;
#: larger runs get the population means per day and partner.
PER_COUPLE_TIMESERIES_MAX = 50
_LIBRARIES = ("numpy", "numba", "mesa", "matplotlib", "tqdm", "dask", "SALib")


class OutputError(ValueError):
    """The output location cannot be used; the message names the path and why (exit status 2)."""


class OutputExistsError(OutputError, FileExistsError):
    """The output folder exists and replacing it was not asked for (or is not allowed)."""


#: Hidden siblings of a target ``T`` that relsim makes while writing: ``.T.tmp-XXXXXXXX`` (the
#: new folder being written, or the old one just swapped out) and ``.T.old-XXXXXXXX`` (the old
#: folder during a replacement on systems without an exchange rename).
_STAGING, _RETIRED = ".tmp-", ".old-"
#: Room a target's name leaves for those siblings: "." + name + ".tmp-" + 8 random characters.
_SIBLING_EXTRA = 14


def _shown(target: Path) -> str:
    text = str(target)
    return repr(text) if not text or text != text.strip() or not text.isprintable() else text


def _umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: the classic read-and-restore
    os.umask(mask)
    return mask


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def is_relsim_folder(folder: Path) -> tuple[bool, str]:
    """Whether ``folder`` is a results folder relsim wrote, holding nothing else.

    A relsim folder has a ``manifest.json`` written by relsim (``"program": "relsim"``) and holds
    only the files that manifest lists. Returns ``(True, "")`` or ``(False, why not)``.
    """
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file() or manifest_path.is_symlink():
        return False, "it has no manifest.json written by relsim"
    try:
        info = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False, "its manifest.json is not one relsim wrote (unreadable)"
    if not isinstance(info, dict) or info.get("program") != "relsim":
        return False, "its manifest.json is not one relsim wrote"
    listed = {str(name) for name in info.get("files") or ()} | {"manifest.json"}
    foreign = []
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        if entry.name not in listed or entry.is_symlink() or not entry.is_file():
            foreign.append(entry.name + ("/" if entry.is_dir(follow_symlinks=False) else ""))
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        return False, f"it holds files relsim did not write ({shown})"
    return True, ""


def _nearest_existing(path: Path) -> Path:
    probe = path
    while not (probe.exists() or probe.is_symlink()):
        if probe.parent == probe:
            break
        probe = probe.parent
    return probe


def _check_location(target: Path) -> None:
    """Raise :class:`OutputError` unless ``target`` could be created (before any work is done)."""
    shown = _shown(target)
    text = str(target)
    absolute = Path(os.path.abspath(target))
    here = Path.cwd().resolve()
    if not text.strip() or target.name in ("", ".", "..") or absolute in (here, *here.parents):
        raise OutputError(
            f"output folder {shown} is the current folder or one that holds it; "
            "name a new folder for the results, e.g. --out results/mine"
        )
    base = _nearest_existing(absolute.parent)
    limit = _name_max(base if base.is_dir() else Path("/")) - _SIBLING_EXTRA
    if len(os.fsencode(target.name)) > limit:
        raise OutputError(
            f"output folder {shown}: the name is too long "
            f"({len(os.fsencode(target.name))} bytes; at most {limit})"
        )
    if target.is_symlink():
        link = os.readlink(target)
        if not target.exists():
            raise OutputError(
                f"output folder {shown} is a symbolic link to {link}, which does "
                "not exist; remove the link or choose another --out"
            )
        raise OutputError(
            f"output folder {shown} is a symbolic link (to {link}); give the "
            "folder itself, or choose another --out"
        )
    if not target.exists():
        if not base.is_dir():
            raise OutputError(
                f"output folder {shown} cannot be created: {base} is a file, not a folder"
            )
        try:  # the honest test of "can I create it": create a probe folder there, remove it
            os.rmdir(tempfile.mkdtemp(prefix=".relsim-probe-", dir=base))
        except OSError as error:
            raise OutputError(
                f"output folder {shown} cannot be created in {base}: {error.strerror or error}"
            ) from None


def check_target(target: Path, *, force: bool) -> None:
    """Refuse a target that cannot be written, before anything is simulated.

    Raises
    ------
    OutputExistsError
        If ``target`` exists and ``force`` is false; if it exists and is not a folder; if
        ``force`` is given but ``target`` is not a relsim results folder (see
        :func:`is_relsim_folder`): relsim never deletes what it did not write.
    OutputError
        If ``target`` is the current folder, a symbolic link, a name that is too long, or a
        place where no folder can be created (read-only, under a file, ``/proc``, ...).

    """
    target = Path(target)
    shown = _shown(target)
    try:
        _check_location(target)
    except OutputError:
        raise
    except OSError as error:  # e.g. a part of the path longer than the system allows
        raise OutputError(
            f"output folder {shown} cannot be used: {error.strerror or error}"
        ) from None
    if target.exists() and not target.is_dir():
        raise OutputExistsError(f"output {shown} exists and is not a folder; choose another --out")
    if target.exists() and not force:
        raise OutputExistsError(
            f"output folder {shown} already exists; use --force to replace it or --out to "
            "choose another folder"
        )
    if target.exists():
        ours, why = is_relsim_folder(target)
        if not ours:
            raise OutputExistsError(
                f"output folder {shown} exists and is not a relsim results folder ({why}); "
                "--force only replaces folders relsim wrote. Move it away or choose another --out"
            )


# ----------------------------------------------------------------------------------------------
# Locks, debris, the exchange


def _lock(folder: Path | str) -> int | None:
    """Open ``folder`` and take an exclusive lock on it; ``None`` if another process holds it.

    The lock lives as long as the returned descriptor (or the process): a folder whose lock can be
    taken belongs to no running relsim. Without ``fcntl`` (Windows) every folder counts as locked,
    so nothing is ever cleaned there.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    try:
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(handle)
        return None
    return handle


def _close(handle: int | None) -> None:
    if handle is not None:
        with contextlib.suppress(OSError):
            os.close(handle)


def _only_files(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return all(entry.is_file(follow_symlinks=False) for entry in entries)
    except OSError:
        return False


def tidy_siblings(target: Path) -> list[str]:
    """Recover or remove the hidden siblings of ``target`` that an interrupted relsim left.

    ``.T.old-*`` (the previous folder, moved aside by a replacement that was cut short) is moved
    back to ``T`` when ``T`` is missing and removed otherwise; ``.T.tmp-*`` (an unfinished new
    folder, or an old one swapped out) is removed. A sibling that a running relsim holds (it is
    locked) is left alone, and so is one holding anything but plain files. Returns one line per
    action, in words, for the caller to print.
    """
    target = Path(target)
    folder = target.parent
    said: list[str] = []
    try:
        if not target.name or not folder.is_dir():
            return said
    except OSError:
        return said
    prefix = f".{target.name}"
    try:
        with os.scandir(folder) as entries:
            names = sorted(entry.name for entry in entries if entry.name.startswith(prefix)
                           and entry.name[len(prefix):len(prefix) + 5] in (_STAGING, _RETIRED)
                           and entry.is_dir(follow_symlinks=False))  # fmt: skip
    except OSError:
        return said
    for name in sorted(names, key=lambda n: (not n[len(prefix) :].startswith(_RETIRED), n)):
        debris = folder / name
        handle = _lock(debris)
        if handle is None:
            continue  # a running relsim is writing it
        try:
            if not _only_files(debris):
                said.append(f"left {debris} alone: relsim made it, but it now holds more than "
                            "plain files; remove it yourself if it is not needed")  # fmt: skip
                continue
            retired = name[len(prefix) :].startswith(_RETIRED)
            if retired and not (target.exists() or target.is_symlink()):
                os.rename(debris, target)
                said.append(f"recovered {target} from {debris}, where an interrupted --force "
                            "had left it")  # fmt: skip
                continue
            finished = retired or (debris / "manifest.json").exists()
            shutil.rmtree(debris)
            what = "an old results folder" if finished else "an unfinished results folder"
            said.append(f"removed {debris}: {what} left by an interrupted relsim")
        except OSError as error:
            said.append(f"could not clean {debris}: {error.strerror or error}")
        finally:
            _close(handle)
    return said


def _libc_rename(source: Path, destination: Path, flags: int) -> bool:
    """``renameat2(source, destination, flags)`` through libc; ``False`` if not supported here.

    Raises ``OSError`` for a real failure (e.g. the destination appeared).
    """
    import ctypes
    import errno

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    call.restype = ctypes.c_int
    if call(at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(destination), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False  # an old kernel or a file system without it
    raise OSError(code, os.strerror(code), str(destination))


_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2


def _exchange(staging: Path, target: Path) -> bool:
    """Swap two folders in one atomic step; ``False`` where the system cannot."""
    return _libc_rename(staging, target, _RENAME_EXCHANGE)


def _fsync(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir()
                     else os.O_RDONLY)  # fmt: skip
    try:
        os.fsync(handle)
    except OSError:  # some file systems cannot sync a folder; the data was synced
        if not path.is_dir():
            raise
    finally:
        os.close(handle)


def _seal(staging: Path) -> None:
    """Give every file and the folder the umask's permissions, and flush them to disk."""
    mask = _umask()
    with os.scandir(staging) as listing:
        entries = list(listing)
    for entry in entries:
        if entry.is_file(follow_symlinks=False):
            os.chmod(entry.path, 0o666 & ~mask)
            _fsync(Path(entry.path))
    os.chmod(staging, 0o777 & ~mask)
    _fsync(staging)


def write_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to the file ``path`` through a temporary sibling, flushed, then renamed.

    The one writer of single files (a figure, a sweep's table or part), as :func:`atomic_folder`
    is for folders: a reader never sees half a file, and after a crash ``path`` holds either the
    old bytes or the new ones. The file gets the umask's permissions, like a plain ``open()``.
    Missing parent folders are made. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the system can
        _fsync(path.parent)
    return path


def next_free_sibling(target: Path) -> Path:
    """Return ``target`` with the first suffix ``-2``, ``-3``, ... that names nothing yet."""
    target = Path(target)
    number = 2
    while True:
        candidate = target.with_name(f"{target.name}-{number}")
        if not (candidate.exists() or candidate.is_symlink()):
            return candidate
        number += 1


@contextlib.contextmanager
def atomic_folder(target: Path, *, force: bool) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``target`` when the block ends without error.

    The temporary folder ``.<name>.tmp-XXXXXXXX`` is created next to ``target`` (same file
    system, so the final rename is atomic) and locked while this process uses it. If the block
    raises, including ``KeyboardInterrupt``, it is removed and ``target`` is left as it was.
    Before the rename every file and the folder get the umask's permissions and are flushed to
    disk, so that a power cut cannot leave a valid name in front of an empty file.

    With ``force``, an existing ``target`` (which must be a relsim results folder) is replaced:
    with one atomic exchange where the system has one (Linux ``renameat2``), else by moving it
    aside to ``.<name>.old-XXXXXXXX`` first, which :func:`tidy_siblings` recovers if the process
    dies in between. Either way the old folder is deleted last.
    """
    target = Path(target)
    check_target(target, force=force)
    target.parent.mkdir(parents=True, exist_ok=True)  # 0777 less the umask, like every folder
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{_STAGING}", dir=target.parent))
    lock = _lock(staging)
    try:
        yield staging
        _seal(staging)
        check_target(target, force=force)
        if target.exists():
            old_lock = _lock(target)
            try:
                if _exchange(staging, target):
                    shutil.rmtree(staging, ignore_errors=True)  # now the old folder
                else:
                    retired = target.with_name(f".{target.name}{_RETIRED}{secrets.token_hex(4)}")
                    os.rename(target, retired)
                    os.rename(staging, target)
                    shutil.rmtree(retired, ignore_errors=True)
            finally:
                _close(old_lock)
        elif not _libc_rename(staging, target, _RENAME_NOREPLACE):
            os.rename(staging, target)
        _fsync(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        _close(lock)


# ----------------------------------------------------------------------------------------------
# Fixed formats


def _plain(value: Any) -> Any:
    """Turn NumPy scalars, tuples and non-finite floats into JSON-safe Python values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float):
        return _round(value)
    return value


def _round(value: float) -> float | None:
    """Round to 12 significant digits (a fixed, platform-stable format); ``None`` if not finite."""
    if not math.isfinite(value):
        return None
    return float(f"{value:.12g}")


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON with keys in the given order and a final newline."""
    text = json.dumps(_plain(data), indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def _cell(value: Any) -> str:
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.10g}"
    return str(value)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV table in relsim's fixed format (floats ``.10g``, empty where not finite).

    Booleans are ``true``/``false`` and NumPy scalars are written as Python's, so the same
    numbers always give the same bytes.
    """
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell(v) for v in row])


def save_figure(figure: Any, path: Path) -> None:
    """Save a figure with ``sim.plots.save``: fixed resolution, no timestamp, same bytes."""
    from .plots import save

    save(figure, path)


# ----------------------------------------------------------------------------------------------
# Manifest


def _git_commit() -> str | None:
    """Return the commit of the source tree the package runs from, or ``None`` when unknown."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True,
            text=True, timeout=5, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and len(commit) == 40 else None


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def manifest(
    scenario: Any,
    *,
    argv: Sequence[str] | None,
    timings: Mapping[str, float],
    kind: str,
    files: Sequence[str],
    extra: Mapping[str, Any] | None = None,
) -> dict:
    """Describe how a folder was made.

    Parameters
    ----------
    scenario : sim.scenario.Scenario
        The scenario as run (overrides applied).
    argv : sequence of str or None
        The command line (``None`` for calls from Python).
    timings : mapping
        Seconds spent per phase; the only part that differs between identical runs.
    kind : {"run", "sweep"}
        What the folder holds.
    files : sequence of str
        The files written next to the manifest.
    extra : mapping, optional
        More entries (e.g. the number of workers of a sweep).

    """
    from . import __version__

    out: dict[str, Any] = {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "kind": kind,
        "program": "relsim",
        "version": __version__,
    }
    commit = _git_commit()
    if commit:
        out["git_commit"] = commit
    out["versions"] = _versions()
    out["command"] = None if argv is None else ["relsim", *argv]
    out["scenario"] = scenario.resolved()
    out["seed"] = scenario.seed
    out["files"] = list(files)
    if extra:
        out.update(extra)
    out["timings"] = {name: round(float(t), 3) for name, t in timings.items()}
    return out


# ----------------------------------------------------------------------------------------------
# A run's folder

RUN_FILES = ("summary.json", "couples.csv", "timeseries.csv", "figure.png", "manifest.json")


def summary(result: Any, scenario: Any) -> dict[str, Any]:
    """Return the body of ``summary.json``: the scenario's name first, then ``Result.summary()``.

    ``overrides`` lists the changes made to the scenario file for this run, in order (the
    ``--set`` strings, then ``--seed``/``--days``/``--couples`` as ``KEY=VALUE``); empty if none.
    """
    return {"scenario": scenario.name, "description": scenario.description,
            "overrides": list(getattr(scenario, "overrides", ()) or ()),
            **result.summary()}  # fmt: skip


def _titled(scenario: Any) -> Any:
    """``scenario`` for the figure's title: overrides appended, text drawn as plain text.

    Matplotlib reads ``$...$`` as mathematics (and fails on text like ``odd $^^$``), so every
    dollar sign is escaped; control characters and line breaks are shown as in the terminal.
    """
    import dataclasses

    from .scenario import printable

    if not dataclasses.is_dataclass(scenario) or isinstance(scenario, type):
        return scenario
    overrides = list(getattr(scenario, "overrides", ()) or ())
    description = printable(scenario.description or "")
    if overrides:
        changes = printable(f"(with changes: {', '.join(overrides)})")
        description = f"{description} {changes}" if description else changes
    return dataclasses.replace(scenario, description=description.replace("$", r"\$"))


def _couple_rows(result: Any) -> Iterator[list[Any]]:
    from .simulation import COUPLE_COLUMNS

    columns = [result.couples[name] for name in COUPLE_COLUMNS]
    for values in zip(*columns, strict=True):
        row = list(values)
        dissolved = COUPLE_COLUMNS.index("dissolved_day")
        if row[dissolved] is not None and int(row[dissolved]) < 0:
            row[dissolved] = ""
        yield row


def _timeseries(result: Any) -> tuple[list[str], Iterator[list[Any]]]:
    from .engine.kernel import DAILY_VARS

    if result.daily is None:
        rows = result.daily_rows()
        header = list(rows[0]) if rows else ["day", "partner", *DAILY_VARS, "couples_together"]
        return header, ([row[h] for h in header] for row in rows)

    daily = result.daily  # (days, vars, partner, couple)
    styles = (result.couples["style_a"], result.couples["style_b"])
    header = ["day", "couple", "partner", "style", *DAILY_VARS]

    def rows() -> Iterator[list[Any]]:
        for day in range(daily.shape[0]):
            for couple in range(daily.shape[3]):
                for person, tag in enumerate("ab"):
                    values = daily[day, :, person, couple]
                    yield [day + 1, couple, tag, styles[person][couple], *values.tolist()]

    return header, rows()


def write_run(target: Path, result: Any, scenario: Any, *, argv: Sequence[str] | None = None,
              timings: Mapping[str, float] | None = None, force: bool = False,
              figure: Callable[[Any, Any], Any] | None = None) -> Path:  # fmt: skip
    """Write a run's folder atomically to ``target``.

    The folder holds ``summary.json``, ``couples.csv``, ``timeseries.csv``, ``figure.png`` and
    ``manifest.json`` (see results/README.md).

    Parameters
    ----------
    target : pathlib.Path
        The folder to create (e.g. ``results/anxious-avoidant``).
    result : sim.simulation.Result
        The finished run; ``record_daily=True`` gives a per-couple timeseries.
    scenario : sim.scenario.Scenario
        The scenario as run.
    argv : sequence of str, optional
        The command line, for the manifest.
    timings : mapping, optional
        Seconds per phase so far (writing time is added).
    force : bool
        Replace an existing folder.
    figure : callable, optional
        ``figure(result, scenario) -> matplotlib Figure``; default ``sim.plots.run_overview``.

    Returns
    -------
    pathlib.Path
        ``target``.

    """
    import time

    from .simulation import COUPLE_COLUMNS

    started = time.perf_counter()
    timings = dict(timings or {})
    with atomic_folder(Path(target), force=force) as staging:
        write_json(staging / "summary.json", summary(result, scenario))
        write_csv(staging / "couples.csv", COUPLE_COLUMNS, _couple_rows(result))
        header, rows = _timeseries(result)
        write_csv(staging / "timeseries.csv", header, rows)
        if figure is None:
            from .plots import run_overview as figure
        save_figure(figure(result, _titled(scenario)), staging / "figure.png")
        timings["write_seconds"] = time.perf_counter() - started
        write_json(staging / "manifest.json",
                   manifest(scenario, argv=argv, timings=timings, kind="run", files=RUN_FILES,
                            extra={"timeseries": "per couple" if result.daily is not None
                                   else "population means"}))  # fmt: skip
    return Path(target)


# ----------------------------------------------------------------------------------------------
# A sweep's folder

SWEEP_FILES = ("sweep.csv", "phase_diagram.png", "manifest.json")


def write_sweep(target: Path, table: Any, scenario: Any, *, argv: Sequence[str] | None = None,
                timings: Mapping[str, float] | None = None, force: bool = False,
                extra: Mapping[str, Any] | None = None) -> Path:  # fmt: skip
    """Write a sweep's folder (``sweep.csv``, ``phase_diagram.png``, ``manifest.json``).

    ``table`` is what ``sim.sweep.run_sweep`` returns (it writes itself with ``to_csv``); the
    figure is ``sim.plots.phase_diagram(table, scenario)``.
    """
    import time

    from .plots import phase_diagram

    started = time.perf_counter()
    timings = dict(timings or {})
    with atomic_folder(Path(target), force=force) as staging:
        table.to_csv(staging / "sweep.csv")
        save_figure(phase_diagram(table, scenario), staging / "phase_diagram.png")
        timings["write_seconds"] = time.perf_counter() - started
        write_json(staging / "manifest.json",
                   manifest(scenario, argv=argv, timings=timings, kind="sweep",
                            files=SWEEP_FILES, extra=extra))  # fmt: skip
    return Path(target)
