"""Parameter sweeps: a grid of two parameters × replicate couples, with common random numbers.

Every grid point (a *cell*) holds ``replicates`` couples. Replicate ``r`` of every cell is the
same couple: it has the same people (the same trait jitter, except for a trait the sweep sets)
and draws the same random numbers every hour (its draws are keyed by ``r``, see
``sim.engine.kernel``). So two cells differ only by their parameters, and a map of the shares has no
noise islands: cell ``(i, j)`` is exactly ``relsim run`` of ``replicates`` couples with the two
swept values set.

The couples are cut into chunks of a fixed size, which run one after another, on local worker
processes or on a Dask cluster; only a bounded number of chunks is in flight at once, and each
finished chunk is folded into the table as it arrives, so memory grows with the chunks in flight,
not with the grid. Chunk boundaries do not depend on the number of workers and each cell is
reduced from its replicates in order, so the table is the same, byte for byte, however it ran.

>>> from sim.simulation import Setup
>>> base = Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, days=60, seed=3)
>>> table = run_sweep(base, sweep={"x": {"param": "partner_a.anxiety", "values": [0.2, 0.8]},
...                                "y": {"param": "partner_b.avoidance", "values": [0.2, 0.8]},
...                                "replicates": 4}, workers=1)
>>> table.grid("share_spiraling").shape
(2, 2)

Couple order: cell ``(i, j)`` (``i`` along x, ``j`` along y) owns couples
``(i * len(y) + j) * replicates`` to ``(i * len(y) + j + 1) * replicates - 1``; couple ``g`` is
replicate ``g % replicates`` of its cell.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import inspect
import io
import itertools
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .outcomes import LABELS, seeker_partner
from .params import DYNAMICS, PERSON, RUN
from .results import write_atomically
from .scenario import SweepAxis, axis_label
from .simulation import Population, Setup, population, run_population

__all__ = [
    "CHUNK_COUPLES",
    "CONFIDENCE",
    "MAX_SWEEP_COUPLES",
    "METRIC_COLUMNS",
    "SHARE_COLUMNS",
    "CheckpointMismatchError",
    "SweepAxis",
    "SweepTable",
    "SweepTooLargeError",
    "axis_label",
    "check_sweep_size",
    "run_sweep",
    "sweep_setup",
    "wilson_interval",
]

#: Couples per chunk. Fixed (not derived from the worker count) so that checkpoints and results
#: never depend on how many workers ran the sweep.
CHUNK_COUPLES = 1024

#: Most couples one sweep may simulate in all (grid points × replicates): a run's own limit.
MAX_SWEEP_COUPLES = int(RUN["couples"].high)

#: Confidence level of the share intervals (Wilson score intervals).
CONFIDENCE = 0.95
_Z = 1.959963984540054  # the standard normal quantile of (1 + CONFIDENCE) / 2

#: Every share column of a :class:`SweepTable`; each has ``<name>_low`` and ``<name>_high``.
SHARE_COLUMNS = (
    *(f"share_{label}" for label in LABELS),
    # Couples that spiral long enough dissolve; together they are the couples the cycle broke.
    "share_spiraling_or_dissolved",
)

#: Per-grid-point columns of a :class:`SweepTable`, after the two swept values.
METRIC_COLUMNS = (
    "couples",
    *(name + suffix for name in SHARE_COLUMNS for suffix in ("", "_low", "_high")),
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
_CHECKPOINT_FORMAT = "relsim-sweep-chunk-2"  # 2: common random numbers across cells

#: Chunks handed to each local worker at once: one running, one waiting, so it never idles.
_DEPTH = 2


def _check_values(axis: SweepAxis, where: str) -> None:
    group, _, name = axis.param.partition(".")
    spec = PERSON[name] if group in ("partner_a", "partner_b") else DYNAMICS[name]
    for value in axis.values:
        # the table's rule, whole numbers aside: an integer parameter is swept as a real number
        if spec.problem(value) not in (None, "must be a whole number"):
            raise ValueError(f"{where}.values: {value:g} is outside {spec.low:g} to "
                             f"{spec.high:g} ({spec.unit}) for {axis.param}")  # fmt: skip


def _check_replicates(replicates: object) -> int:
    whole = isinstance(replicates, int | np.integer) and not isinstance(replicates, bool)
    if not whole or replicates < 1:
        raise ValueError(f"sweep.replicates must be a whole number >= 1, got {replicates!r}")
    return int(replicates)


def sweep_setup(
    base_setup: Setup,
    x_param: str,
    x_values: Sequence[float],
    y_param: str,
    y_values: Sequence[float],
    replicates: int,
) -> tuple[Setup, SweepAxis, SweepAxis]:
    """Turn ``base_setup`` into one population that covers the grid × replicates.

    This is the grid as one plain :class:`Setup` (each couple with its own random draws), for
    quick maps drawn in one call of ``simulate``; :func:`run_sweep` runs the same grid with
    common random numbers across cells instead.

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
    x, y = _axes(base_setup, {"param": x_param, "values": x_values},
                 {"param": y_param, "values": y_values})  # fmt: skip
    replicates = _check_replicates(replicates)
    nx, ny = len(x.values), len(y.values)
    per_couple = {
        x.param: np.repeat(np.asarray(x.values), ny * replicates),
        y.param: np.tile(np.repeat(np.asarray(y.values), replicates), nx),
    }
    setup = dataclasses.replace(base_setup, **_set(base_setup, per_couple),
                                couples=nx * ny * replicates)  # fmt: skip
    return setup, x, y


def _set(base: Setup, values: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """``dataclasses.replace`` arguments that give ``base`` the swept ``values`` (dotted names).

    Each value is a number or one per couple; the partners and the dynamics are copied, so
    ``base`` is left as it was.
    """
    changed = {"partner_a": dict(base.partner_a), "partner_b": dict(base.partner_b),
               "dynamics": dict(base.dynamics)}  # fmt: skip
    for param, value in values.items():
        group, _, name = param.partition(".")
        changed[group][name] = value
    return changed


def _axes(base_setup: Setup, x_spec: object, y_spec: object) -> tuple[SweepAxis, SweepAxis]:
    x = SweepAxis.from_spec(x_spec, "sweep.x")
    y = SweepAxis.from_spec(y_spec, "sweep.y")
    if x.param == y.param:
        raise ValueError(f"sweep.x and sweep.y both sweep {x.param}; choose two parameters")
    _check_values(x, "sweep.x")
    _check_values(y, "sweep.y")
    for axis in (x, y):
        if base_setup.population is not None and not axis.param.startswith("dynamics."):
            raise ValueError(f"cannot sweep {axis.param} in a scenario with a [population] mix "
                             "(its people are drawn from the mix); sweep a dynamics "
                             "parameter instead")  # fmt: skip
    return x, y


# ----------------------------------------------------------------------------------------------
# Uncertainty of a share


def wilson_interval(successes, trials, z: float = _Z) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial share (95% by default), elementwise.

    Parameters
    ----------
    successes, trials : array_like of int
        Couples in the outcome and couples in the cell (``trials >= 1``).
    z : float
        Standard normal quantile of the two-sided level (1.96 for 95%).

    Returns
    -------
    low, high : numpy.ndarray
        Bounds in [0, 1]. Unlike the plain ``p ± z·se`` interval, it stays inside [0, 1] and
        does not collapse to a point when a share is 0 or 1 (Wilson 1927; Brown, Cai and
        DasGupta 2001 recommend it for small samples).

    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


# ----------------------------------------------------------------------------------------------
# The sweep's size


class SweepTooLargeError(ValueError):
    """The sweep would simulate more couples than :data:`MAX_SWEEP_COUPLES`."""


def _axis_size(spec: object) -> int | None:
    def get(key: str):
        return spec.get(key) if isinstance(spec, Mapping) else getattr(spec, key, None)

    values = get("values")
    if values is not None:
        try:
            return len(values)
        except TypeError:
            return None
    num = get("num")
    return num if isinstance(num, int) and not isinstance(num, bool) else None


def check_sweep_size(scenario: object, sweep: object | None = None) -> int:
    """Return the sweep's number of couples, or raise :class:`SweepTooLargeError`.

    Cheap (nothing is drawn or run), so callers can refuse a sweep before touching any file.
    """
    x_spec, y_spec, replicates = _sweep_spec(scenario, sweep)
    nx, ny = _axis_size(x_spec), _axis_size(y_spec)
    if nx is None or ny is None or not isinstance(replicates, int):
        return 0  # malformed: run_sweep names the problem
    couples = nx * ny * replicates
    if couples > MAX_SWEEP_COUPLES:
        most = MAX_SWEEP_COUPLES // max(nx * ny, 1)
        fix = (f"lower sweep.replicates to at most {most}, or use fewer values on sweep.x or "
               "sweep.y" if most >= 1 else "use fewer values on sweep.x or sweep.y")  # fmt: skip
        raise SweepTooLargeError(
            f"the sweep is too large: sweep.x ({nx} values) × sweep.y ({ny} values) × "
            f"sweep.replicates ({replicates}) = {couples} couples, but a sweep may simulate at "
            f"most {MAX_SWEEP_COUPLES} couples in all; {fix}"
        )
    return couples


# ----------------------------------------------------------------------------------------------
# The table


def _format(value: float, digits: int) -> str:
    if isinstance(value, int | np.integer):
        return str(int(value))
    if not math.isfinite(value):
        return ""
    text = format(float(value), f".{digits}g")
    return "0" if text == "-0" else text


class _Rows(Sequence):
    """The rows of a sweep table held as columns (one array each), handed out as dicts."""

    def __init__(self, columns: Mapping[str, np.ndarray], names: Sequence[str]) -> None:
        self.columns = dict(columns)
        self.names = tuple(names)
        self._n = len(next(iter(self.columns.values()))) if self.columns else 0

    def __len__(self) -> int:
        return self._n

    def _row(self, index: int) -> dict:
        return {name: self.columns[name][index].item() for name in self.names}

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(self._n))]
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError("row index out of range")
        return self._row(index)


@dataclass
class SweepTable:
    """The result of a sweep: one row per grid point.

    Attributes
    ----------
    x, y : SweepAxis
        The swept parameters; rows run over x (outer) then y (inner).
    rows : sequence of dict
        Per grid point: the two swept values (keys ``x.param`` and ``y.param``), then
        ``METRIC_COLUMNS``: ``couples``, the share of each outcome with the bounds of its 95%
        Wilson interval (``<share>_low``, ``<share>_high``), and means over the grid point's
        couples (the *seeker* is the partner who asked more; relief hours are averaged over
        couples that have any, NaN where none has).
    replicates, days, seed : int
        Couples per grid point, simulated days, the run's seed.
    chunks : int
        Number of chunks the population was cut into.

    """

    x: SweepAxis
    y: SweepAxis
    rows: Sequence[dict]
    replicates: int
    days: int
    seed: int
    chunks: int = 0
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = (self.x.param, self.y.param, *METRIC_COLUMNS)

    def column(self, name: str) -> np.ndarray:
        """All values of column ``name``, one per row."""
        if name not in self.columns:
            raise KeyError(f"unknown column {name!r}; columns: {', '.join(self.columns)}")
        if isinstance(self.rows, _Rows):
            return np.asarray(self.rows.columns[name])
        return np.array([row[name] for row in self.rows])

    def grid(self, column: str) -> np.ndarray:
        """Values of ``column`` as a 2-D array of shape ``(len(y.values), len(x.values))``.

        Row ``j`` is ``y.values[j]`` and column ``i`` is ``x.values[i]``, ready for
        ``imshow(origin="lower")`` or ``pcolormesh(x.values, y.values, grid)``.
        """
        nx, ny = len(self.x.values), len(self.y.values)
        values = np.asarray(self.column(column), dtype=float)
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
        formatted = []
        for i, name in enumerate(self.columns):
            digits = 10 if i < 2 else 6
            values = self.column(name).tolist()
            if name == "couples":
                values = [int(v) for v in values]
            formatted.append([_format(v, digits) for v in values])
        writer.writerows(zip(*formatted, strict=True))
        text = buffer.getvalue()
        if path is not None:
            write_atomically(Path(path), text.encode())
        return text


# ----------------------------------------------------------------------------------------------
# The plan: what any chunk needs, small enough to send to every worker once


_LAST_CELL: list = [None, -1, None]  # (plan, cell, population) of the last cell built


@dataclass(frozen=True, eq=False)
class _Plan:
    """A sweep, reduced to what is needed to build and run any of its chunks.

    ``fast`` says that a cell's people are cell 0's with the swept values written in (checked
    on several cells by :meth:`with_fast_path`); otherwise each cell is drawn on its own.
    """

    base: Setup
    x: SweepAxis
    y: SweepAxis
    replicates: int
    fast: bool = False

    @property
    def points(self) -> int:
        return len(self.x.values) * len(self.y.values)

    @property
    def couples(self) -> int:
        return self.points * self.replicates

    def cell_setup(self, cell: int) -> Setup:
        """The plain run that cell ``cell`` is: the base with the two swept values set."""
        i, j = divmod(cell, len(self.y.values))
        base = self.base
        values = {self.x.param: self.x.values[i], self.y.param: self.y.values[j]}
        mix = None if base.population is None else {**base.population,
                                                    "couples": self.replicates}  # fmt: skip
        return dataclasses.replace(base, **_set(base, values), couples=self.replicates,
                                   population=mix)  # fmt: skip

    def cell_population(self, cell: int) -> Population:
        """The people of cell ``cell`` drawn as a plain run (the last one is kept)."""
        if _LAST_CELL[0] is self and _LAST_CELL[1] == cell:
            return _LAST_CELL[2]
        pop = population(self.cell_setup(cell))
        _LAST_CELL[:] = [self, cell, pop]
        return pop

    def _written(self, cells: np.ndarray, reps: np.ndarray) -> Population:
        """Cell 0's people at replicates ``reps``, with the swept values of ``cells`` written in."""
        if _FIRST_CELL[0] is not self:
            _FIRST_CELL[:] = [self, population(self.cell_setup(0))]
        base = _FIRST_CELL[1]
        pop = Population(**{f.name: _taken(getattr(base, f.name), reps)
                            for f in dataclasses.fields(Population)})  # fmt: skip
        i, j = np.divmod(cells, len(self.y.values))
        for axis, index in ((self.x, i), (self.y, j)):
            values = np.asarray(axis.values, dtype=float)[index]
            group, _, name = axis.param.partition(".")
            if group == "dynamics":
                pop.params[_param_row(name)] = values
                continue
            row = 0 if group == "partner_a" else 1
            people = getattr(pop, "people", None)
            if isinstance(people, Mapping) and name in people:
                people[name][row] = values
            elif isinstance(getattr(pop, name, None), np.ndarray):
                getattr(pop, name)[row] = values
            else:
                raise LookupError(f"no {name} in a population")
        return pop

    def with_fast_path(self) -> _Plan:
        """The plan with ``fast`` set if writing values in gives exactly each cell's draw.

        Some parameters change what is drawn (a treatment's uptake is drawn around its mean),
        so the shortcut is taken only when it reproduces :func:`population` exactly on the
        corner cells and the middle one; drawing each cell costs about a millisecond more.
        """
        nx, ny = len(self.x.values), len(self.y.values)
        probes = {0, ny - 1, (nx - 1) * ny, nx * ny - 1, (nx // 2) * ny + ny // 2}
        reps = np.arange(self.replicates)
        try:
            for cell in sorted(probes):
                written = self._written(np.full(self.replicates, cell), reps)
                drawn = population(self.cell_setup(cell))
                for f in dataclasses.fields(Population):
                    mine = list(_arrays(getattr(written, f.name)))
                    theirs = list(_arrays(getattr(drawn, f.name)))
                    if len(mine) != len(theirs) or not all(
                        a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
                        for a, b in zip(mine, theirs, strict=True)
                    ):
                        return self
        except (LookupError, ValueError, TypeError):
            return self
        return dataclasses.replace(self, fast=True)

    def chunk(self, start: int, stop: int) -> tuple[Population, np.ndarray]:
        """The people of couples ``start`` to ``stop - 1`` and each one's replicate (draw id).

        Cell by cell they are the people of :func:`sim.simulation.population` of the cell's
        :meth:`cell_setup`, so a cell is exactly a plain run of ``replicates`` couples.
        """
        couples = np.arange(start, stop)
        cells, reps = np.divmod(couples, self.replicates)
        if self.fast:
            return self._written(cells, reps), reps
        parts = []
        for cell in range(int(cells[0]), int(cells[-1]) + 1):
            low = max(start - cell * self.replicates, 0)
            high = min(stop - cell * self.replicates, self.replicates)
            parts.append(self.cell_population(cell).chunk(low, high))
        return Population(**{f.name: _joined([getattr(p, f.name) for p in parts])
                             for f in dataclasses.fields(Population)}), reps  # fmt: skip


_FIRST_CELL: list = [None, None]  # (plan, population of cell 0) for the written-in shortcut


def _param_row(name: str) -> int:
    from .engine import kernel as k

    row = getattr(k, "p_row", None)
    return row(name) if callable(row) else k.P_ROWS.index(name)


def _taken(value, reps: np.ndarray):
    """``value`` (an array or a dict of arrays, couples last) at couples ``reps``, copied."""
    if isinstance(value, Mapping):
        return {name: _taken(part, reps) for name, part in value.items()}
    return np.asarray(value)[..., reps].copy()


def _simulate_chunk(pop: Population, reps: np.ndarray, seed: int, days: int) -> dict:
    """The per-couple columns of ``pop`` run for ``days`` days, couple ``i`` drawing as ``reps[i]``.

    With ``couple_ids`` where ``run_population`` takes them (one call for the chunk), else one
    call per run of consecutive replicates (a cell's part of the chunk) with ``first_couple``.
    """
    if "couple_ids" in inspect.signature(run_population).parameters:
        ids = reps.astype(np.uint64)
        return run_population(pop, seed=seed, days=days, couple_ids=ids)[1]
    breaks = np.flatnonzero(np.diff(reps) != 1) + 1
    edges = [0, *breaks.tolist(), len(reps)]
    parts = [run_population(pop.chunk(a, b), seed=seed, days=days, first_couple=int(reps[a]))[1]
             for a, b in itertools.pairwise(edges)]  # fmt: skip
    return _joined(parts)


def _joined(parts: list):
    """Concatenate arrays (or dicts of arrays) along their last axis, the couples."""
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], Mapping):
        return {name: _joined([part[name] for part in parts]) for name in parts[0]}
    return np.concatenate(parts, axis=-1)


def _run_chunk(plan: _Plan, start: int, stop: int) -> dict[str, np.ndarray]:
    """Simulate couples ``start`` to ``stop - 1``; reduce them to the columns the table needs."""
    pop, reps = plan.chunk(start, stop)
    cols = _simulate_chunk(pop, reps, plan.base.seed, plan.base.days)

    def seeker(name: str, partner: bool = False) -> np.ndarray:
        return seeker_partner(cols, name)[1 if partner else 0].astype(float)

    codes = np.zeros(stop - start, dtype=np.int8)
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


def _arrays(value) -> Iterator[np.ndarray]:
    if isinstance(value, Mapping):
        for name in sorted(value):
            yield from _arrays(value[name])
    else:
        yield np.asarray(value)


def _fingerprint(plan: _Plan, chunk_size: int) -> str:
    """Digest everything a chunk's numbers depend on, to refuse stale checkpoints."""
    base = plan.base
    digest = hashlib.sha256(f"{_CHECKPOINT_FORMAT}|{base.seed}|{base.days}|{chunk_size}|"
                            f"{plan.replicates}".encode())  # fmt: skip
    for axis in (plan.x, plan.y):
        digest.update(f"|{axis.param}|".encode())
        digest.update(np.asarray(axis.values, dtype=np.float64).tobytes())
    first = population(plan.cell_setup(0))  # the replicates' people and every parameter
    for array in _arrays({f.name: getattr(first, f.name) for f in dataclasses.fields(Population)}):
        if array.dtype.kind in "fiub":
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        else:
            digest.update("|".join(map(str, array.ravel().tolist())).encode())
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------------
# Checkpoints


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

    def load(self, index: int, size: int) -> dict[str, np.ndarray] | bool | None:
        """The chunk's columns; ``None`` if there is no file; ``False`` if it is unreadable."""
        path = self.path(index)
        if not path.exists():
            return None
        try:
            raw = io.BytesIO(path.read_bytes())  # no file left open if it fails to parse
            with np.load(raw, allow_pickle=False) as data:
                stored = str(data["fingerprint"])
                if stored != self.fingerprint:
                    raise CheckpointMismatchError(
                        f"checkpoint folder {self.folder} holds chunks of a different sweep "
                        "(other scenario, seed, days or grid); use an empty folder or delete "
                        "its chunk files"
                    )
                columns = {name: data[name] for name in _CHUNK_COLUMNS}
        except CheckpointMismatchError:
            raise
        except Exception:  # empty, truncated or damaged (EOFError, BadZipFile, zlib, ...)
            return False
        if any(values.shape != (size,) for values in columns.values()):
            return False
        return columns

    def save(self, index: int, columns: Mapping[str, np.ndarray]) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, fingerprint=np.array(self.fingerprint), **columns)
        write_atomically(self.path(index), buffer.getvalue())


# ----------------------------------------------------------------------------------------------
# Folding chunks into the table as they arrive


class _Aggregate:
    """Per-cell statistics, filled chunk by chunk in any order.

    A cell that a chunk holds whole is reduced at once; the replicates of a cell split across
    chunks wait in a buffer until the cell is complete. Either way a cell is reduced from its
    replicates in order by the same code, so the numbers do not depend on chunking.
    """

    def __init__(self, plan: _Plan) -> None:
        self.replicates = plan.replicates
        points = plan.points
        self.counts = {label: np.zeros(points, dtype=np.int64) for label in SHARE_COLUMNS}
        self.means = {name: np.full(points, np.nan) for name in METRIC_COLUMNS
                      if not name.startswith("share_") and name != "couples"}  # fmt: skip
        self.waiting: dict[int, list] = {}  # cell -> [couples filled, {column: array}]

    def add(self, start: int, columns: Mapping[str, np.ndarray]) -> None:
        r = self.replicates
        stop = start + len(columns["outcome_code"])
        whole_first, whole_stop = -(-start // r), stop // r  # cells inside [start, stop)
        if whole_stop > whole_first:
            offset = whole_first * r - start
            span = slice(offset, offset + (whole_stop - whole_first) * r)
            self._reduce(whole_first, {name: np.ascontiguousarray(values[span]).reshape(-1, r)
                                       for name, values in columns.items()})  # fmt: skip
        for cell in {start // r, (stop - 1) // r}:
            if whole_first <= cell < whole_stop:
                continue
            low, high = max(start, cell * r), min(stop, (cell + 1) * r)
            entry = self.waiting.setdefault(
                cell, [0, {name: np.empty(r, dtype=values.dtype)
                           for name, values in columns.items()}])  # fmt: skip
            into, out_of = slice(low - cell * r, high - cell * r), slice(low - start, high - start)
            for name, values in columns.items():
                entry[1][name][into] = values[out_of]
            entry[0] += high - low
            if entry[0] >= r:
                del self.waiting[cell]
                self._reduce(cell, {name: values.reshape(1, r)
                                    for name, values in entry[1].items()})  # fmt: skip

    def _reduce(self, first: int, block: Mapping[str, np.ndarray]) -> None:
        """Statistics of cells ``first``, ``first + 1``, ... from ``block[name][cell, rep]``."""
        cells = slice(first, first + block["outcome_code"].shape[0])
        codes = block["outcome_code"]
        for code, label in enumerate(LABELS):
            self.counts[f"share_{label}"][cells] = (codes == code).sum(axis=1)
        self.counts["share_spiraling_or_dissolved"][cells] = (
            self.counts["share_spiraling"][cells] + self.counts["share_dissolved"][cells]
        )

        def mean(name: str) -> np.ndarray:
            return np.asarray(block[name], dtype=float).mean(axis=1)

        def nan_mean(name: str) -> np.ndarray:
            values = np.asarray(block[name], dtype=float)
            finite = np.isfinite(values)
            count = finite.sum(axis=1)
            total = np.where(finite, values, 0.0).sum(axis=1)
            return np.divide(total, count, out=np.full(len(count), np.nan), where=count > 0)

        requests = np.asarray(block["requests"], dtype=float).sum(axis=1)
        answered = np.asarray(block["answered"], dtype=float).sum(axis=1)
        means = self.means
        means["mean_seeker_request_rate_first_30d"][cells] = mean("seeker_request_rate_first_30d")
        means["mean_seeker_request_rate_last_30d"][cells] = mean("seeker_request_rate_last_30d")
        means["mean_seeker_relief_hours_first_30d"][cells] = nan_mean(
            "seeker_relief_hours_first_30d")  # fmt: skip
        means["mean_seeker_relief_hours_last_30d"][cells] = nan_mean(
            "seeker_relief_hours_last_30d")  # fmt: skip
        means["answered_share"][cells] = np.divide(answered, requests,
                                                   out=np.full(len(requests), np.nan),
                                                   where=requests > 0)  # fmt: skip
        means["mean_satisfaction"][cells] = mean("satisfaction")
        means["mean_trust"][cells] = mean("trust")
        means["mean_exhaustion"][cells] = mean("exhaustion")
        means["mean_seeker_trust"][cells] = mean("seeker_trust")
        means["mean_partner_exhaustion"][cells] = mean("partner_exhaustion")

    def table(self, plan: _Plan, chunks: int) -> SweepTable:
        if self.waiting:  # a bug, not a user error: every chunk must have been added
            raise RuntimeError(f"sweep incomplete: {len(self.waiting)} cells lack replicates")
        r, ny = plan.replicates, len(plan.y.values)
        cell = np.arange(plan.points)
        columns: dict[str, np.ndarray] = {
            plan.x.param: np.asarray(plan.x.values, dtype=float)[cell // ny],
            plan.y.param: np.asarray(plan.y.values, dtype=float)[cell % ny],
            "couples": np.full(plan.points, r, dtype=np.int64),
        }
        for name, count in self.counts.items():
            columns[name] = count / r
            columns[f"{name}_low"], columns[f"{name}_high"] = wilson_interval(count, r)
        columns.update(self.means)
        names = (plan.x.param, plan.y.param, *METRIC_COLUMNS)
        return SweepTable(plan.x, plan.y, _Rows(columns, names), r, plan.base.days,
                          plan.base.seed, chunks=chunks)  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Running


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


def _usable_cpus() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _note(text: str) -> None:
    print(f"relsim sweep: {text}", file=sys.stderr, flush=True)


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
        ``stop``, ``num`` instead of ``values``); default ``scenario.sweep``. At most
        ``MAX_SWEEP_COUPLES`` couples in all.
    workers : int, optional
        Local worker processes (spawned); default all usable cores. More than the cores or the
        chunks left to run is capped (with a note on stderr). ``1`` runs in this process.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:port``); the chunks then run on
        that cluster and ``workers`` is ignored. Needs ``relsim[dask]``.
    checkpoint_dir : path, optional
        Folder where each finished chunk is saved; chunks already there are reused, so an
        interrupted sweep resumes where it stopped and gives the same table. Unreadable chunk
        files (empty, truncated) are run again, with a note on stderr.
    progress : callable, optional
        Called as ``progress(done_chunks, total_chunks)`` at the start and after each chunk.
    chunk_size : int
        Couples per chunk (default ``CHUNK_COUPLES``); the table does not depend on it.

    """
    x_spec, y_spec, replicates = _sweep_spec(scenario, sweep)
    base = _base_setup(scenario)
    x, y = _axes(base, x_spec, y_spec)
    replicates = _check_replicates(replicates)
    check_sweep_size(scenario, {"x": {"values": x.values}, "y": {"values": y.values},
                                "replicates": replicates})  # fmt: skip
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):  # fmt: skip
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}")
    plan = _Plan(base, x, y, replicates)
    plan.cell_setup(plan.points - 1)  # any bad value is named here, not in a worker
    plan = plan.with_fast_path()
    bounds = [(a, min(a + chunk_size, plan.couples)) for a in range(0, plan.couples, chunk_size)]
    total = len(bounds)
    aggregate = _Aggregate(plan)
    store = None
    stored: set[int] = set()
    if checkpoint_dir is not None:
        store = _Checkpoints(checkpoint_dir, _fingerprint(plan, chunk_size))
        unreadable = []
        for index, (a, b) in enumerate(bounds):  # a first pass to count; columns are not kept
            found = store.load(index, b - a)
            if found is False:
                unreadable.append(store.path(index).name)
            elif found is not None:
                stored.add(index)
        if unreadable:
            shown = ", ".join(unreadable[:5]) + (", ..." if len(unreadable) > 5 else "")
            _note(f"{len(unreadable)} unreadable checkpoint file(s) in {store.folder} ({shown}) "
                  "will be run again")  # fmt: skip
    done = set(stored)
    if progress is not None:
        progress(len(done), total)

    def tasks() -> Iterator[int]:
        """Chunk indices to run, in order; stored chunks are folded in as the order reaches them."""
        for index in range(total):
            _check_interrupts()
            if index in stored:
                found = store.load(index, bounds[index][1] - bounds[index][0])
                if isinstance(found, dict):
                    aggregate.add(bounds[index][0], found)
                    continue
                done.discard(index)
            yield index

    todo = total - len(stored)
    if todo and scheduler is not None:
        runner = _run_dask(plan, tasks(), bounds, scheduler)
    else:
        count = min(workers or _usable_cpus(), _usable_cpus(), max(todo, 1))
        if workers is not None and count < workers and todo:
            cpus = _usable_cpus()
            why = (f"this machine has {cpus} usable CPU cores" if count == cpus
                   else f"the sweep has {todo} chunk(s) left to run")  # fmt: skip
            _note(f"using {count} worker process{'es' if count > 1 else ''}, not {workers}: "
                  f"{why}")  # fmt: skip
        if count <= 1:
            runner = ((index, _run_chunk(plan, *bounds[index])) for index in tasks())
        else:
            runner = _run_local(plan, tasks(), bounds, count)
    with _InterruptWatch() as watch, contextlib.closing(runner):
        for index, columns in runner:
            if store is not None:
                store.save(index, columns)
            aggregate.add(bounds[index][0], columns)
            done.add(index)
            if progress is not None:
                progress(len(done), total)
            watch.check()
        watch.check()
    return aggregate.table(plan, total)


class _InterruptWatch:
    """Remember a Ctrl-C during the sweep, even one whose KeyboardInterrupt CPython swallows.

    Python raises KeyboardInterrupt wherever the main thread is when the signal is handled;
    inside a weakref callback or a finaliser (an import lock's clean-up, a closed pipe's) the
    exception is printed as "Exception ignored" and dropped, and the sweep would carry on. This
    handler also sets a flag, which the sweep checks after every chunk and while it waits.
    """

    current: _InterruptWatch | None = None

    def __enter__(self) -> _InterruptWatch:
        import signal
        import threading

        self.caught = False
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not signal.SIG_IGN and previous is not None:
                self.previous = previous
                signal.signal(signal.SIGINT, self._handle)
        self.outer, _InterruptWatch.current = _InterruptWatch.current, self
        return self

    def _handle(self, signum, frame) -> None:
        self.caught = True
        if callable(self.previous):
            self.previous(signum, frame)  # Python's default raises KeyboardInterrupt
        raise KeyboardInterrupt

    def check(self) -> None:
        if self.caught:
            raise KeyboardInterrupt

    def __exit__(self, *exc) -> None:
        import signal

        _InterruptWatch.current = self.outer
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _check_interrupts() -> None:
    if _InterruptWatch.current is not None:
        _InterruptWatch.current.check()


def _run_dask(plan: _Plan, tasks: Iterator[int], bounds, scheduler: str):
    """Run chunks on a Dask cluster, at most a few per worker thread in flight."""
    client = _dask_client(scheduler)
    running: dict = {}
    try:
        from distributed import as_completed

        shared = client.scatter(plan, broadcast=True)
        window = max(4, 2 * sum(client.nthreads().values()))
        pending = as_completed()

        def submit() -> None:
            index = next(tasks, None)
            if index is not None:
                future = client.submit(_run_chunk, shared, *bounds[index], pure=False)
                running[future] = index
                pending.add(future)

        for _ in range(window):
            submit()
        for future in pending:
            index = running.pop(future)
            columns = future.result()
            submit()
            yield index, columns
    finally:
        with contextlib.suppress(Exception):
            client.cancel(list(running))
        client.close()


# ----------------------------------------------------------------------------------------------
# Local worker processes
#
# Each worker is a spawned process with its own pipe: the parent sends the plan once, then
# chunk tasks (a few bytes each, at most ``_DEPTH`` per worker), and the worker answers each with
# the chunk's columns. There is no task queue and no feeder thread, so nothing can block on a
# pipe after the workers are gone. Workers never see Ctrl-C (SIGINT is blocked while they start
# and ignored once they run, before any import of theirs could be interrupted), exit when the
# parent dies (PR_SET_PDEATHSIG on Linux, and a watchdog thread everywhere; both set up by
# sim.sweep_worker before the heavy imports), and are terminated by the parent on any error or
# interrupt.


class _Worker:
    """One spawned worker process and the parent's end of its pipe."""

    def __init__(self, context) -> None:
        self.conn, child = context.Pipe()
        from .sweep_worker import main

        self.process = context.Process(target=main, args=(child, os.getpid()),
                                       name="relsim-sweep-worker", daemon=True)  # fmt: skip
        self._child = child
        self.assigned: list[int] = []

    def start(self, plan: _Plan) -> None:
        """Start the process with Ctrl-C held back, then send it the plan.

        Blocked signals survive fork and exec, so the new interpreter starts with SIGINT held
        back and the worker ignores it before unblocking: no import of the worker can be
        interrupted. Here, a Ctrl-C that arrives meanwhile (or was caught just before, and
        not yet acted on) is recorded and raised only once the process has started, so the
        start itself is never cut in half (which would leave the worker without its start-up
        data, printing a traceback).
        """
        import signal
        import threading

        caught: list[int] = []
        swap = threading.current_thread() is threading.main_thread()
        handler = signal.signal(signal.SIGINT, lambda *_: caught.append(1)) if swap else None
        masked = hasattr(signal, "pthread_sigmask")
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if masked else None
        try:
            self.process.start()
        finally:
            if masked:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
            if swap:
                signal.signal(signal.SIGINT, handler)
            self._child.close()
        if caught and callable(handler):
            handler(signal.SIGINT, None)  # Python's default handler raises KeyboardInterrupt
        self.conn.send(plan)

    def started(self) -> bool:
        return self.process.pid is not None


def _run_local(plan: _Plan, tasks: Iterator[int], bounds, count: int):
    """Run chunks on ``count`` spawned processes; yield ``(index, columns)`` as they finish.

    At most ``_DEPTH`` chunks per worker are in flight. On any exception, including
    ``KeyboardInterrupt``, and when the caller stops early, the workers are terminated at once;
    chunks already yielded (and saved as checkpoints by the caller) are kept.
    """
    import multiprocessing
    from multiprocessing.connection import wait as wait_for

    context = multiprocessing.get_context("spawn")
    # Spawning starts multiprocessing's resource tracker first, and starting it unblocks SIGINT
    # in this process (resource_tracker.ensure_running): start it now, before any worker.
    with contextlib.suppress(Exception):
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
    workers: list[_Worker] = []
    finished = False
    try:
        for _ in range(count):
            worker = _Worker(context)
            workers.append(worker)
            worker.start(plan)
        exhausted = False

        def feed(worker: _Worker) -> None:
            nonlocal exhausted
            while not exhausted and len(worker.assigned) < _DEPTH:
                index = next(tasks, None)
                if index is None:
                    exhausted = True
                    return
                worker.assigned.append(index)
                worker.conn.send((index, *bounds[index]))

        _check_interrupts()
        for worker in workers:
            feed(worker)
        while any(worker.assigned for worker in workers):
            busy = [worker for worker in workers if worker.assigned]
            waiting = [w.conn for w in busy] + [w.process.sentinel for w in busy]
            ready = set(wait_for(waiting, timeout=0.5))
            _check_interrupts()
            for worker in busy:
                if worker.conn in ready or worker.conn.poll():
                    try:
                        kind, index, payload = worker.conn.recv()
                    except (EOFError, OSError):
                        raise _died(worker) from None
                    if kind == "error":
                        raise payload
                    worker.assigned.remove(index)
                    feed(worker)
                    yield index, payload
                elif worker.process.sentinel in ready:
                    raise _died(worker)
        finished = True
    finally:
        _stop_workers(workers, gently=finished)


def _died(worker: _Worker) -> RuntimeError:
    worker.process.join(timeout=1)
    return RuntimeError(f"a sweep worker process stopped unexpectedly (exit code "
                        f"{worker.process.exitcode}); finished chunks are kept")  # fmt: skip


def _stop_workers(workers: Sequence[_Worker], *, gently: bool) -> None:
    """Stop every worker: ask them to exit after a clean finish, terminate them otherwise.

    A second Ctrl-C must not interrupt the clean-up itself, so SIGINT is ignored meanwhile.
    """
    import signal
    import threading

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:
        started = [worker for worker in workers if worker.started()]
        if gently:
            for worker in started:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
            for worker in started:
                worker.process.join(timeout=5)
        for worker in started:
            if worker.process.is_alive():
                worker.process.terminate()
        for worker in started:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)
        for worker in workers:
            worker.conn.close()
            with contextlib.suppress(Exception):
                worker.process.close()
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
