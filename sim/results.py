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
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "MANIFEST_SCHEMA_VERSION",
    "PER_COUPLE_TIMESERIES_MAX",
    "OutputExistsError",
    "atomic_folder",
    "check_target",
    "manifest",
    "write_json",
    "write_run",
    "write_sweep",
]

MANIFEST_SCHEMA_VERSION = 1
#: Runs with at most this many couples get one timeseries row per day, couple and partner;
#: larger runs get the population means per day and partner.
PER_COUPLE_TIMESERIES_MAX = 50
_LIBRARIES = ("numpy", "numba", "mesa", "matplotlib", "tqdm", "dask", "SALib")


class OutputExistsError(FileExistsError):
    """The output folder exists and replacing it was not asked for."""


def check_target(target: Path, *, force: bool) -> None:
    """Refuse a target that exists (unless ``force``) or that is not a folder.

    Raises
    ------
    OutputExistsError
        If ``target`` exists and ``force`` is false, or exists and is not a folder.

    """
    if target.exists() and not target.is_dir():
        raise OutputExistsError(f"output {target} exists and is not a folder; choose another --out")
    if target.exists() and not force:
        raise OutputExistsError(
            f"output folder {target} already exists; use --force to replace it or --out to "
            "choose another folder"
        )


@contextlib.contextmanager
def atomic_folder(target: Path, *, force: bool) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``target`` when the block ends without error.

    The temporary folder is created next to ``target`` (same file system, so the final rename is
    atomic). If the block raises, including ``KeyboardInterrupt``, the temporary folder is
    removed and ``target`` is left as it was. With ``force``, an existing ``target`` is moved
    aside, the new folder renamed into place, and the old one deleted.
    """
    target = Path(target)
    check_target(target, force=force)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield staging
        check_target(target, force=force)
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, retired / target.name)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


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


def _write_csv(path: Path, header: Sequence[str], rows: Iterator[Sequence[Any]]) -> None:
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
    """``scenario`` with its overrides appended to the description, for the figure's title."""
    import dataclasses

    overrides = list(getattr(scenario, "overrides", ()) or ())
    if not overrides or not dataclasses.is_dataclass(scenario) or isinstance(scenario, type):
        return scenario
    changes = f"(with changes: {', '.join(overrides)})"
    description = f"{scenario.description} {changes}" if scenario.description else changes
    return dataclasses.replace(scenario, description=description)


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
    from .kernel import DAILY_VARS

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
        _write_csv(staging / "couples.csv", COUPLE_COLUMNS, _couple_rows(result))
        header, rows = _timeseries(result)
        _write_csv(staging / "timeseries.csv", header, rows)
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

