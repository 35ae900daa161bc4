"""Parameter sweeps: a grid of two parameters × replicate couples, run as one population.

Every grid point contributes ``replicates`` couples to a single :class:`sim.simulation.Population`
whose per-couple parameters differ; the population is cut into chunks of a fixed size and the
chunks run in parallel, on local processes by default or on a Dask cluster when a scheduler is
named. A couple's random draws depend only on its global index (see ``sim.kernel``), and chunk
boundaries do not depend on the number of workers, so the table is the same, byte for byte,
whoever ran it.

>>> from sim.simulation import Setup
>>> base = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, days=60, seed=3)
>>> table = run_sweep(base, sweep={"x": {"param": "partner_a.anxiety", "values": [0.2, 0.8]},
...                                "y": {"param": "partner_b.avoidance", "values": [0.2, 0.8]},
...                                "replicates": 4}, workers=1)
>>> table.grid("share_spiraling").shape
(2, 2)

Couple order: grid point ``(i, j)`` (``i`` along x, ``j`` along y) owns couples
``(i * len(y) + j) * replicates`` to ``(i * len(y) + j + 1) * replicates - 1``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .outcomes import LABELS
from .params import DYNAMICS, PERSON, closest
from .simulation import Population, Setup, population, run_population

__all__ = [
    "CHUNK_COUPLES",
    "METRIC_COLUMNS",
    "CheckpointMismatchError",
    "SweepAxis",
    "SweepTable",
    "axis_label",
    "run_sweep",
    "sweep_setup",
]

#: Couples per chunk. Fixed (not derived from the worker count) so that checkpoints and results
#: never depend on how many workers ran the sweep.
CHUNK_COUPLES = 1024

#: Per-grid-point columns of a :class:`SweepTable`, after the two swept values.
METRIC_COLUMNS = (
    "couples",
    *(f"share_{label}" for label in LABELS),
    # Couples that spiral long enough dissolve; together they are the couples the cycle broke.
    "share_spiraling_or_dissolved",
    "mean_seeker_request_rate_first_30d",
    "mean_seeker_request_rate_last_30d",
    "mean_seeker_relief_hours_first_30d",
    "mean_seeker_relief_hours_last_30d",
    "answered_share",
    "mean_satisfaction",
    "mean_trust",
    "mean_exhaustion",
    "mean_seeker_trust",
    "mean_partner_exhaustion",
)

# What each chunk hands back per couple (and what a checkpoint file holds).
_CHUNK_COLUMNS = (
    "outcome_code", "seeker_request_rate_first_30d", "seeker_request_rate_last_30d",
    "seeker_relief_hours_first_30d", "seeker_relief_hours_last_30d", "requests", "answered",
    "satisfaction", "trust", "exhaustion", "seeker_trust", "partner_exhaustion",
)  # fmt: skip
_CHECKPOINT_FORMAT = "relsim-sweep-chunk-1"

_PLAIN_WORDS = {
    "anxiety": "anxiety",
    "avoidance": "avoidance",
    "expression": "preference for actions over words",
}


def axis_label(param: str) -> str:
    """Plain-words label of a swept parameter, e.g. ``"Seeker's anxiety (partner A)"``.

    Partner A is the one whose requests the bundled sweeps follow (the seeker); partner B is
    the one asked. Dynamics parameters get their meaning's name and unit from ``params.py``.
    """
    group, _, name = param.partition(".")
    if group in ("partner_a", "partner_b") and name in PERSON:
        who = "Seeker's" if group == "partner_a" else "Partner's"
        tag = "A" if group == "partner_a" else "B"
        return f"{who} {_PLAIN_WORDS.get(name, name)} (partner {tag})"
    if group == "dynamics" and name in DYNAMICS:
        spec = DYNAMICS[name]
        return f"{name.replace('_', ' ').capitalize()} ({spec.unit})"
    return param


@dataclass(frozen=True)
class SweepAxis:
    """One swept parameter: its dotted name and the values it takes.

    Attributes
    ----------
    param : str
        ``partner_a.<trait>``, ``partner_b.<trait>`` (traits: anxiety, avoidance, expression) or
        ``dynamics.<name>`` (any name of ``params.DYNAMICS``; a bare dynamics name is accepted).
    values : tuple of float
        The grid values, in order.

    """

    param: str
    values: tuple[float, ...]

    @property
    def label(self) -> str:
        """Plain-words axis label (see :func:`axis_label`)."""
        return axis_label(self.param)

    @classmethod
    def from_spec(cls, spec: object, where: str) -> SweepAxis:
        """Build from a mapping or an object with ``param`` and ``values`` (or start/stop/num)."""

        def get(key: str):
            if isinstance(spec, Mapping):
                return spec.get(key)
            return getattr(spec, key, None)

        param = get("param")
        if not isinstance(param, str) or not param:
            raise ValueError(f"{where}.param must name a parameter, e.g. 'partner_a.anxiety'")
        values = get("values")
        if values is None:
            start, stop, num = get("start"), get("stop"), get("num")
            if start is None or stop is None or num is None:
                raise ValueError(f"{where} needs 'values' or all of 'start', 'stop', 'num'")
            if isinstance(num, bool) or not isinstance(num, int) or num < 1:
                raise ValueError(f"{where}.num must be a whole number >= 1, got {num!r}")
            values = np.linspace(float(start), float(stop), num)
        values = tuple(float(v) for v in values)
        if not values:
            raise ValueError(f"{where}.values must not be empty")
        return cls(_canonical(param, where), values)


def _canonical(param: str, where: str) -> str:
    """Return ``param`` in its dotted form, or raise saying what may be swept."""
    group, dot, name = param.partition(".")
    if not dot and param in DYNAMICS:
        return f"dynamics.{param}"
    if group in ("partner_a", "partner_b"):
        if name in PERSON:
            return param
        raise ValueError(f"{where}.param: unknown trait {name!r}{closest(name, PERSON)}; "
                         f"allowed: {', '.join(PERSON)}")  # fmt: skip
    if group == "dynamics":
        if name in DYNAMICS:
            return param
        raise ValueError(f"{where}.param: unknown dynamics parameter {name!r}"
                         f"{closest(name, DYNAMICS)}")  # fmt: skip
    traits = ", ".join(PERSON)
    raise ValueError(f"{where}.param {param!r} cannot be swept; allowed: partner_a.<trait>, "
                     f"partner_b.<trait> (traits: {traits}) or dynamics.<name>")  # fmt: skip


def _check_values(axis: SweepAxis, where: str) -> None:
    group, _, name = axis.param.partition(".")
    spec = PERSON[name] if group in ("partner_a", "partner_b") else DYNAMICS[name]
    for value in axis.values:
        if not (math.isfinite(value) and spec.low <= value <= spec.high):
            raise ValueError(f"{where}.values: {value:g} is outside {spec.low:g} to "
                             f"{spec.high:g} ({spec.unit}) for {axis.param}")  # fmt: skip


def sweep_setup(
    base_setup: Setup,
    x_param: str,
    x_values: Sequence[float],
    y_param: str,
    y_values: Sequence[float],
    replicates: int,
) -> tuple[Setup, SweepAxis, SweepAxis]:
    """Turn ``base_setup`` into one population that covers the grid × replicates.

    Parameters
    ----------
    base_setup : Setup
        Styles, dynamics, interventions, days and seed of every couple; its ``couples`` is ignored.
    x_param, y_param : str
        Dotted names of the two swept parameters (see :class:`SweepAxis`); they must differ.
    x_values, y_values : sequence of float
        Grid values, each within the parameter's range.
    replicates : int
        Couples per grid point (at least 1).

    Returns
    -------
    setup : Setup
        ``len(x_values) * len(y_values) * replicates`` couples with per-couple arrays for the
        swept parameters, in the couple order given in the module docstring.
    x, y : SweepAxis

    """
    x = SweepAxis.from_spec({"param": x_param, "values": x_values}, "sweep.x")
    y = SweepAxis.from_spec({"param": y_param, "values": y_values}, "sweep.y")
    if x.param == y.param:
        raise ValueError(f"sweep.x and sweep.y both sweep {x.param}; choose two parameters")
    _check_values(x, "sweep.x")
    _check_values(y, "sweep.y")
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise ValueError(f"sweep.replicates must be a whole number >= 1, got {replicates!r}")
    nx, ny = len(x.values), len(y.values)
    per_couple = {
        x.param: np.repeat(np.asarray(x.values), ny * replicates),
        y.param: np.tile(np.repeat(np.asarray(y.values), replicates), nx),
    }
    partners = {
        "partner_a": {**base_setup.partner_a, "style": base_setup.partner_a["style"].label},
        "partner_b": {**base_setup.partner_b, "style": base_setup.partner_b["style"].label},
    }
    dynamics = dict(base_setup.dynamics)
    for param, values in per_couple.items():
        group, _, name = param.partition(".")
        if group == "dynamics":
            dynamics[name] = values
        else:
            if base_setup.population is not None:
                raise ValueError(f"cannot sweep {param} in a scenario with a [population] mix "
                                 "(its people are drawn from the mix); sweep a dynamics "
                                 "parameter instead")  # fmt: skip
            partners[group][name] = values
    setup = Setup(
        partner_a=partners["partner_a"],
        partner_b=partners["partner_b"],
        dynamics=dynamics,
        interventions=base_setup.interventions,
        couples=nx * ny * replicates,
        days=base_setup.days,
        seed=base_setup.seed,
        population=base_setup.population,
    )
    return setup, x, y


def _format(value: float, digits: int) -> str:
    if isinstance(value, int | np.integer):
        return str(int(value))
    if not math.isfinite(value):
        return ""
    text = format(float(value), f".{digits}g")
    return "0" if text == "-0" else text


@dataclass
class SweepTable:
    """The result of a sweep: one row per grid point.

    Attributes
    ----------
    x, y : SweepAxis
        The swept parameters; rows run over x (outer) then y (inner).
    rows : list of dict
        Per grid point: the two swept values (keys ``x.param`` and ``y.param``), then
        ``METRIC_COLUMNS``: ``couples``, the share of each outcome, and means over the grid
        point's couples (the *seeker* is the partner who asked more; relief hours are averaged
        over couples that have any, NaN where none has).
    replicates, days, seed : int
        Couples per grid point, simulated days, the run's seed.
    chunks : int
        Number of chunks the population was cut into.

    """

    x: SweepAxis
    y: SweepAxis
    rows: list[dict]
    replicates: int
    days: int
    seed: int
    chunks: int = 0
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = (self.x.param, self.y.param, *METRIC_COLUMNS)

    def grid(self, column: str) -> np.ndarray:
        """Values of ``column`` as a 2-D array of shape ``(len(y.values), len(x.values))``.

        Row ``j`` is ``y.values[j]`` and column ``i`` is ``x.values[i]``, ready for
        ``imshow(origin="lower")`` or ``pcolormesh(x.values, y.values, grid)``.
        """
        if column not in self.columns:
            raise KeyError(f"unknown column {column!r}; columns: {', '.join(self.columns)}")
        nx, ny = len(self.x.values), len(self.y.values)
        values = np.array([row[column] for row in self.rows], dtype=float)
        return values.reshape(nx, ny).T.copy()

    def to_csv(self, path: str | os.PathLike | None = None) -> str:
        """Write the table as CSV to ``path`` (atomically) and return the text.

        Numbers are formatted the same way every time (swept values with 10 significant digits,
        metrics with 6, counts as integers, NaN as an empty field), so equal tables give equal
        bytes.
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([_format(row[c], 10 if i < 2 else 6)
                             for i, c in enumerate(self.columns)])  # fmt: skip
        text = buffer.getvalue()
        if path is not None:
            _write_atomically(Path(path), text.encode())
        return text


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _run_chunk(pop: Population, seed: int, days: int, first_couple: int) -> dict[str, np.ndarray]:
    """Simulate one chunk and reduce it to the per-couple columns the sweep table needs."""
    _, cols = run_population(pop, seed=seed, days=days, first_couple=first_couple)
    a_seeks = cols["requests_a"] >= cols["requests_b"]

    def seeker(name: str, partner: bool = False) -> np.ndarray:
        mine, theirs = (f"{name}_b", f"{name}_a") if partner else (f"{name}_a", f"{name}_b")
        return np.where(a_seeks, cols[mine], cols[theirs]).astype(float)

    codes = np.zeros(pop.n, dtype=np.int8)
    for code, label in enumerate(LABELS):
        codes[cols["outcome"] == label] = code
    return {
        "outcome_code": codes,
        "seeker_request_rate_first_30d": seeker("request_rate_first_30d"),
        "seeker_request_rate_last_30d": seeker("request_rate_last_30d"),
        "seeker_relief_hours_first_30d": seeker("relief_hours_first_30d"),
        "seeker_relief_hours_last_30d": seeker("relief_hours_last_30d"),
        "requests": (cols["requests_a"] + cols["requests_b"]).astype(float),
        "answered": (cols["answered_a"] + cols["answered_b"]).astype(float),
        "satisfaction": (cols["satisfaction_a"] + cols["satisfaction_b"]) / 2,
        "trust": (cols["trust_a"] + cols["trust_b"]) / 2,
        "exhaustion": (cols["exhaustion_a"] + cols["exhaustion_b"]) / 2,
        "seeker_trust": seeker("trust"),
        "partner_exhaustion": seeker("exhaustion", partner=True),
    }


def _fingerprint(pop: Population, seed: int, days: int, chunk_size: int) -> str:
    """Digest everything a chunk's numbers depend on, to refuse stale checkpoints."""
    digest = hashlib.sha256(f"{_CHECKPOINT_FORMAT}|{seed}|{days}|{chunk_size}|{pop.n}".encode())
    for array in (pop.anxiety, pop.avoidance, pop.expression, pop.params):
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    digest.update("|".join(pop.styles.ravel().tolist()).encode())
    return digest.hexdigest()


class CheckpointMismatchError(ValueError):
    """A checkpoint folder holds chunks of another sweep (other scenario, seed, days or grid)."""


class _Checkpoints:
    """Finished chunks kept as ``chunk-NNNNN.npz`` files in one folder."""

    def __init__(self, folder: str | os.PathLike, fingerprint: str) -> None:
        self.folder = Path(folder)
        self.fingerprint = fingerprint
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, index: int) -> Path:
        return self.folder / f"chunk-{index:05d}.npz"

    def load(self, index: int, size: int) -> dict[str, np.ndarray] | None:
        path = self.path(index)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                stored = str(data["fingerprint"])
                columns = {name: data[name] for name in _CHUNK_COLUMNS}
        except (OSError, ValueError, KeyError):  # unreadable: run that chunk again
            return None
        if stored != self.fingerprint:
            raise CheckpointMismatchError(
                f"checkpoint folder {self.folder} holds chunks of a different sweep (other "
                "scenario, seed, days or grid); use an empty folder or delete its chunk files"
            )
        if any(len(values) != size for values in columns.values()):
            return None
        return columns

    def save(self, index: int, columns: Mapping[str, np.ndarray]) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, fingerprint=np.array(self.fingerprint), **columns)
        _write_atomically(self.path(index), buffer.getvalue())


def _aggregate(columns: Mapping[str, np.ndarray], x: SweepAxis, y: SweepAxis,
               replicates: int) -> list[dict]:  # fmt: skip
    points = len(x.values) * len(y.values)

    def per_point(name: str) -> np.ndarray:
        return np.asarray(columns[name], dtype=float).reshape(points, replicates)

    def mean(name: str) -> np.ndarray:
        return per_point(name).mean(axis=1)

    def nan_mean(name: str) -> np.ndarray:
        values = per_point(name)
        finite = np.isfinite(values)
        count = finite.sum(axis=1)
        total = np.where(finite, values, 0.0).sum(axis=1)
        return np.divide(total, count, out=np.full(points, np.nan), where=count > 0)

    codes = np.asarray(columns["outcome_code"]).reshape(points, replicates)
    requests = per_point("requests").sum(axis=1)
    answered = per_point("answered").sum(axis=1)
    metrics: dict[str, np.ndarray] = {
        f"share_{label}": (codes == code).mean(axis=1) for code, label in enumerate(LABELS)
    }
    metrics["share_spiraling_or_dissolved"] = (
        metrics["share_spiraling"] + metrics["share_dissolved"]
    )
    metrics["mean_seeker_request_rate_first_30d"] = mean("seeker_request_rate_first_30d")
    metrics["mean_seeker_request_rate_last_30d"] = mean("seeker_request_rate_last_30d")
    metrics["mean_seeker_relief_hours_first_30d"] = nan_mean("seeker_relief_hours_first_30d")
    metrics["mean_seeker_relief_hours_last_30d"] = nan_mean("seeker_relief_hours_last_30d")
    metrics["answered_share"] = np.divide(answered, requests, out=np.full(points, np.nan),
                                          where=requests > 0)  # fmt: skip
    metrics["mean_satisfaction"] = mean("satisfaction")
    metrics["mean_trust"] = mean("trust")
    metrics["mean_exhaustion"] = mean("exhaustion")
    metrics["mean_seeker_trust"] = mean("seeker_trust")
    metrics["mean_partner_exhaustion"] = mean("partner_exhaustion")
    rows = []
    for point in range(points):
        i, j = divmod(point, len(y.values))
        row: dict = {x.param: x.values[i], y.param: y.values[j], "couples": replicates}
        row.update({name: float(metrics[name][point]) for name in METRIC_COLUMNS[1:]})
        rows.append(row)
    return rows


def _sweep_spec(scenario: object, sweep: object | None):
    spec = sweep if sweep is not None else getattr(scenario, "sweep", None)
    if spec is None:
        name = getattr(scenario, "name", "this scenario")
        raise ValueError(f"{name} has no [sweep] table: add x = {{param, values}}, "
                         "y = {param, values} and replicates")  # fmt: skip

    def get(key: str):
        return spec.get(key) if isinstance(spec, Mapping) else getattr(spec, key, None)

    for key in ("x", "y"):
        if get(key) is None:
            raise ValueError(f"sweep.{key} is missing: give it as {{param = ..., values = [...]}}")
    replicates = get("replicates")
    return get("x"), get("y"), 1 if replicates is None else replicates


def _base_setup(scenario: object) -> Setup:
    if isinstance(scenario, Setup):
        return scenario
    make = getattr(scenario, "setup", None)
    if callable(make):
        return make()
    raise TypeError("run_sweep needs a Scenario (with .setup() and .sweep) or a Setup plus sweep=")


def _dask_client(scheduler: str):
    try:
        from distributed import Client
    except ImportError:
        raise RuntimeError(
            "running on a Dask cluster needs the 'distributed' package: pip install 'relsim[dask]'"
        ) from None
    try:
        return Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def run_sweep(
    scenario: object,
    *,
    sweep: object | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: Callable[[int, int], object] | None = None,
    chunk_size: int = CHUNK_COUPLES,
) -> SweepTable:
    """Run a scenario's sweep and return its :class:`SweepTable`.

    Parameters
    ----------
    scenario : Scenario or Setup
        Anything with ``.setup()`` (returning a :class:`Setup`) and ``.sweep``, or a ``Setup``
        together with ``sweep=``.
    sweep : mapping or object, optional
        ``{"x": {"param", "values"}, "y": {...}, "replicates": n}`` (axes may give ``start``,
        ``stop``, ``num`` instead of ``values``); default ``scenario.sweep``.
    workers : int, optional
        Local worker processes (spawned); default all cores. ``1`` runs in this process.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:port``); the chunks then run on
        that cluster and ``workers`` is ignored. Needs ``relsim[dask]``.
    checkpoint_dir : path, optional
        Folder where each finished chunk is saved; chunks already there are reused, so an
        interrupted sweep resumes where it stopped and gives the same table.
    progress : callable, optional
        Called as ``progress(done_chunks, total_chunks)`` at the start and after each chunk.
    chunk_size : int
        Couples per chunk (default ``CHUNK_COUPLES``); the table does not depend on it.

    """
    x_spec, y_spec, replicates = _sweep_spec(scenario, sweep)
    x = SweepAxis.from_spec(x_spec, "sweep.x")
    y = SweepAxis.from_spec(y_spec, "sweep.y")
    setup, x, y = sweep_setup(_base_setup(scenario), x.param, x.values, y.param, y.values,
                              replicates)  # fmt: skip
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):  # fmt: skip
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}")
    pop = population(setup)
    bounds = [(a, min(a + chunk_size, pop.n)) for a in range(0, pop.n, chunk_size)]
    total = len(bounds)
    store = None
    if checkpoint_dir is not None:
        store = _Checkpoints(checkpoint_dir, _fingerprint(pop, setup.seed, setup.days, chunk_size))
    results: dict[int, dict[str, np.ndarray]] = {}
    if store is not None:
        for index, (a, b) in enumerate(bounds):
            found = store.load(index, b - a)
            if found is not None:
                results[index] = found
    todo = [index for index in range(total) if index not in results]
    if progress is not None:
        progress(len(results), total)

    def finish(index: int, columns: dict[str, np.ndarray]) -> None:
        if store is not None:
            store.save(index, columns)
        results[index] = columns
        if progress is not None:
            progress(len(results), total)

    def task(index: int):
        a, b = bounds[index]
        return pop.chunk(a, b), setup.seed, setup.days, a

    if todo and scheduler is not None:
        client = _dask_client(scheduler)
        try:
            from distributed import as_completed

            futures = {client.submit(_run_chunk, *task(i), pure=False): i for i in todo}
            try:
                for future in as_completed(futures):
                    finish(futures[future], future.result())
            finally:
                client.cancel(list(futures))
        finally:
            client.close()
    elif todo:
        count = min(workers or os.cpu_count() or 1, len(todo))
        if count == 1:
            for index in todo:
                finish(index, _run_chunk(*task(index)))
        else:
            _run_local(todo, task, finish, count)
    merged = {name: np.concatenate([results[i][name] for i in range(total)])
              for name in _CHUNK_COLUMNS}  # fmt: skip
    rows = _aggregate(merged, x, y, replicates)
    return SweepTable(x, y, rows, replicates, setup.days, setup.seed, chunks=total)


def _ignore_interrupts() -> None:
    """Worker initializer: leave Ctrl-C to the parent, which stops the workers itself."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_local(todo, task, finish, count: int) -> None:
    """Run chunks on ``count`` spawned processes; stop promptly if anything raises.

    Workers ignore SIGINT (a Ctrl-C reaches the whole process group): only this process reacts.
    On any exception, including ``KeyboardInterrupt``, the queued chunks are cancelled and the
    workers are terminated, so the caller never waits for chunks in flight; chunks already
    handed to ``finish`` (and saved as checkpoints) are kept.
    """
    import multiprocessing
    import signal
    import threading

    pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_ignore_interrupts)  # fmt: skip
    pending: dict = {}
    try:
        pending = {pool.submit(_run_chunk, *task(i)): i for i in todo}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f]):
                finish(pending.pop(future), future.result())
    except BaseException:
        # A second Ctrl-C must not interrupt the clean-up itself.
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
        try:
            _stop_pool(pool, pending)
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)
        raise
    pool.shutdown(wait=True)


def _stop_pool(pool: ProcessPoolExecutor, pending: Mapping) -> None:
    """Cancel queued chunks, stop ``pool`` without waiting and end its worker processes."""
    for future in pending:
        future.cancel()
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
