"""Global sensitivity analysis: which parameters drive spiraling, satisfaction and distance.

``relsim sensitivity SCENARIO`` varies every dynamics parameter of ``sim.params.DYNAMICS`` and
every outcome-label threshold of ``sim.params.LABEL_THRESHOLDS`` at once over a plausible band
around its default, runs the scenario's couples for each parameter sample, and apportions the
variation of three outcomes among the parameters with SALib:

* ``share_spiraling_or_dissolved``: the share of the sample's couples labelled ``spiraling`` or
  ``dissolved`` (a couple that spirals long enough dissolves, so counting spiraling alone would
  make the dissolution thresholds look like brakes on spiraling);
* ``mean_satisfaction``: the couples' mean final satisfaction (both partners);
* ``share_distant``: the share labelled ``distant`` (what the distance thresholds govern).

The label thresholds act on a run's end state, not inside the simulation: a sample's couples are
labelled with that sample's thresholds, and samples that differ only in thresholds (or in the
control) share one simulation, so the thresholds add no runs.

Methods: ``sobol`` (Saltelli/Sobol' sampling; total-order index ``ST``, the share of the outcome's
variance a parameter accounts for with all its interactions, and first-order ``S1``) or
``morris`` (elementary effects; ``mu_star``, the mean absolute effect of moving the parameter
across its band). Each row comes with a 95% bootstrap confidence interval.

Bands. Each parameter varies from half to one and a half times its default, clipped to its allowed
range (a parameter whose default is 0 varies over the lowest tenth of its range); the band is a
"plausible neighbourhood" of the calibrated model rather than the whole allowed range, where many
corners are meaningless. ``dissolution_days`` (a whole number) is varied as a real number and
rounded by the dissolution rule's comparison. A ``control`` row is a dummy parameter that the model
never reads: indices at or below the control's are indistinguishable from sampling noise.

Every parameter sample is a group of couples in one vectorised population (per-couple parameter
arrays). All groups share the same couples (traits and random draws: common random numbers), so
differences between samples come from the parameters only.
"""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from .engine import kernel as k
from .outcomes import broken, classify_couples
from .params import DYNAMICS, LABEL_THRESHOLDS, Param
from .simulation import Population, Setup, couple_columns, population

__all__ = [
    "CONTROL",
    "OUTPUTS",
    "SensitivityResult",
    "analyse",
    "analyse_scenario",
    "analysed_params",
    "bands",
]

#: The outcomes analysed, with their plain-words names.
OUTPUTS = {
    "share_spiraling_or_dissolved": "share of couples spiraling or dissolved",
    "mean_satisfaction": "mean satisfaction",
    "share_distant": "share of couples distant",
}
#: The dummy parameter the model never reads (a noise floor for the indices).
CONTROL = "control"
#: What to do when SALib is missing (the same words in the CLI's help).
MISSING_SALIB = ('SALib is not installed; install it with pip install -e ".[sensitivity]" from a '
                 "relsim checkout, or pip install SALib")  # fmt: skip
DEFAULT_SAMPLES = {"sobol": 64, "morris": 20}
COUPLES_PER_SAMPLE = 16
BAND = (0.5, 1.5)


def analysed_params() -> dict[str, Param]:
    """Every parameter the analysis can vary, by name: the dynamics, then the label thresholds."""
    return {**DYNAMICS, **LABEL_THRESHOLDS}


def bands(names: Sequence[str] | None = None) -> dict[str, tuple[float, float]]:
    """Return the band ``(low, high)`` each parameter varies over (see the module's docstring).

    Parameters
    ----------
    names : sequence of str, optional
        Parameters of :func:`analysed_params` (default: all of them).

    """
    table = analysed_params()
    out = {}
    for name in names or list(table):
        spec = table[name]
        if spec.default == 0:
            low, high = spec.low, spec.low + 0.1 * (spec.high - spec.low)
        else:
            low = max(spec.low, BAND[0] * spec.default)
            high = min(spec.high, BAND[1] * spec.default)
        out[name] = (float(low), float(high))
    return out


class SensitivityResult:
    """The indices of one analysis.

    Attributes
    ----------
    method : str
        ``"sobol"`` or ``"morris"``.
    names : list of str
        The parameters, the control last.
    rows : list of dict
        One row per output and parameter, ranked within each output (rank 1 matters most):
        ``output``, ``rank``, ``parameter``, ``low``, ``high``, then the method's indices and
        their confidence half-widths.
    samples : int
        Parameter samples evaluated (groups of couples).

    """

    def __init__(self, method: str, names: list[str], rows: list[dict], samples: int) -> None:
        self.method = method
        self.names = names
        self.rows = rows
        self.samples = samples

    def ranking(self, output: str) -> list[str]:
        """Return the parameters from most to least influential on ``output``."""
        chosen = [row for row in self.rows if row["output"] == output]
        return [row["parameter"] for row in sorted(chosen, key=lambda row: row["rank"])]

    def index(self, output: str, parameter: str) -> float:
        """Return the main index (``ST`` or ``mu_star``) of ``parameter`` for ``output``."""
        key = "total_order" if self.method == "sobol" else "mu_star"
        for row in self.rows:
            if row["output"] == output and row["parameter"] == parameter:
                return float(row[key])
        raise KeyError(parameter)


def _evaluate_block(setup: Setup, names: list[str], X: np.ndarray, couples: int) -> np.ndarray:
    """Run one block of parameter samples; return the outputs, shape ``(len(X), len(OUTPUTS))``.

    Samples with the same dynamics values (they differ only in label thresholds or the control)
    are simulated once; each sample's couples are then labelled with its own thresholds.
    """
    dynamics = [j for j, name in enumerate(names) if name in DYNAMICS]
    if dynamics:
        runs, run_of = np.unique(X[:, dynamics], axis=0, return_inverse=True)
    else:
        runs, run_of = np.empty((1, 0)), np.zeros(len(X), dtype=int)
    run_of = np.asarray(run_of).ravel()
    base = population(replace(setup, couples=couples))
    groups = len(runs)
    params = np.tile(base.params, (1, groups))
    for column, j in enumerate(dynamics):
        params[k.p_row(names[j])] = np.repeat(runs[:, column], couples)
    tiled = Population(np.tile(base.styles, (1, groups)),
                       {name: np.tile(v, (1, groups)) for name, v in base.people.items()},
                       params, np.tile(base.cultures, (1, groups)))  # fmt: skip
    kern = k.Kernel(tiled.people, params, seed=setup.seed, days=setup.days,
                    couple_ids=np.tile(np.arange(couples, dtype=np.uint64), groups))  # fmt: skip
    kern.advance(setup.days)
    cols = couple_columns(kern, tiled)
    # Sample i's couples are its run's couples, labelled with sample i's thresholds (over the
    # scenario's own, if it sets any).
    samples = len(X)
    take = (run_of[:, None] * couples + np.arange(couples)).ravel()
    mine = {name: values[take] for name, values in cols.items()}
    thresholds = {name: np.tile(values, samples) for name, values in base.labels.items()}
    thresholds.update({name: np.repeat(X[:, j], couples) for j, name in enumerate(names)
                       if name in LABEL_THRESHOLDS})  # fmt: skip
    labels = classify_couples(mine, kern.day, thresholds).reshape(samples, couples)
    spiraling = broken(labels).mean(axis=1)
    distant = (labels == "distant").mean(axis=1)
    satisfaction = ((mine["satisfaction_a"] + mine["satisfaction_b"]) / 2).reshape(samples, couples)
    return np.column_stack([spiraling, satisfaction.mean(axis=1), distant])


def _one_engine_thread() -> None:
    """Worker initializer: one engine thread per worker process; the workers share the cores."""
    import os

    os.environ[k.THREADS_ENV] = "1"


def _evaluate(setup: Setup, names: list[str], X: np.ndarray, couples: int, workers: int):
    # Blocks of at most 256 samples keep memory small; results do not depend on the blocking
    # because every block reuses the same couples (same traits, same random draws).
    blocks = np.array_split(X, max(workers, int(np.ceil(len(X) / 256))))
    blocks = [block for block in blocks if len(block)]
    if workers <= 1:
        return np.concatenate([_evaluate_block(setup, names, b, couples) for b in blocks])
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                             initializer=_one_engine_thread) as pool:  # fmt: skip
        parts = pool.map(_evaluate_block, [setup] * len(blocks), [names] * len(blocks), blocks,
                         [couples] * len(blocks))  # fmt: skip
        return np.concatenate(list(parts))


def analyse(setup: Setup, *, method: str = "sobol", samples: int | None = None,
            names: Sequence[str] | None = None, couples: int = COUPLES_PER_SAMPLE,
            workers: int = 1, seed: int | None = None) -> SensitivityResult:  # fmt: skip
    """Run a global sensitivity analysis of ``setup``'s parameters and label thresholds.

    Parameters
    ----------
    setup : Setup
        The scenario's couples, days, interventions and other dynamics (held at their values
        except the analysed parameters).
    method : {"sobol", "morris"}
        Sobol' indices (variance shares) or Morris elementary effects.
    samples : int, optional
        Base sample size: ``N`` of Saltelli's scheme (a power of two; ``N * (D + 2)`` runs for
        ``D`` parameters) or Morris trajectories (``N * (D + 1)`` runs).
    names : sequence of str, optional
        Parameters to vary (default: every dynamics parameter and label threshold,
        :func:`analysed_params`). The control is always added.
    couples : int
        Couples per parameter sample.
    workers : int
        Local processes.
    seed : int, optional
        Seed of the parameter sampling and the bootstrap (default ``setup.seed``).

    Returns
    -------
    SensitivityResult

    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method not in ("sobol", "morris"):
        raise ValueError(f"method must be 'sobol' or 'morris', got {method!r}")
    table = analysed_params()
    names = list(names or table)
    for name in names:
        if name not in table:
            raise ValueError(f"unknown parameter {name!r}; allowed: {', '.join(table)}")
    samples = DEFAULT_SAMPLES[method] if samples is None else int(samples)
    if samples < 2:
        raise ValueError(f"samples must be at least 2, got {samples}")
    if method == "sobol" and samples & (samples - 1):
        raise ValueError(f"samples must be a power of two for Sobol sampling, got {samples} "
                         f"(try {1 << (samples - 1).bit_length()})")  # fmt: skip
    seed = setup.seed if seed is None else seed
    band = bands(names)
    band[CONTROL] = (0.0, 1.0)
    all_names = [*names, CONTROL]
    problem = {"num_vars": len(all_names), "names": all_names,
               "bounds": [list(band[name]) for name in all_names]}  # fmt: skip
    if method == "sobol":
        X = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    else:
        X = morris_sample.sample(problem, samples, num_levels=4, seed=seed)
    Y = _evaluate(setup, all_names, X, couples, workers)
    rows = []
    for column, output in enumerate(OUTPUTS):
        y = Y[:, column]
        constant = float(np.ptp(y)) == 0.0
        with np.errstate(all="ignore"):
            if method == "sobol":
                found = (None if constant else sobol_analyze.analyze(
                    problem, y, calc_second_order=False, seed=seed))  # fmt: skip
                keys = ("ST", "ST_conf", "S1", "S1_conf")
                fields = ("total_order", "total_order_ci", "first_order", "first_order_ci")
            else:
                found = (
                    None
                    if constant
                    else morris_analyze.analyze(problem, X, y, num_levels=4, seed=seed)
                )
                keys = ("mu_star", "mu_star_conf", "sigma")
                fields = ("mu_star", "mu_star_ci", "sigma")
        values = {field: (np.zeros(len(all_names)) if found is None
                          else np.nan_to_num(np.asarray(found[key], dtype=float)))
                  for key, field in zip(keys, fields, strict=True)}  # fmt: skip
        main_index = values[fields[0]]
        order = sorted(
            range(len(all_names)),
            key=lambda j: (-main_index[j], all_names[j] != CONTROL, all_names[j]),
        )
        for rank, j in enumerate(order, start=1):
            row = {"output": output, "rank": rank, "parameter": all_names[j],
                   "low": band[all_names[j]][0], "high": band[all_names[j]][1]}  # fmt: skip
            row.update({field: float(values[field][j]) for field in fields})
            rows.append(row)
    return SensitivityResult(method, all_names, rows, len(X))


# ----------------------------------------------------------------------------------------------
# Files


def table_csv(result: SensitivityResult) -> str:
    """Return ``sensitivity.csv``: one ranked row per output and parameter."""
    fields = list(result.rows[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    for row in result.rows:
        writer.writerow([f"{row[f]:.6g}" if isinstance(row[f], float) else row[f] for f in fields])
    return buffer.getvalue()


def analyse_scenario(scenario: str, *, out: str | Path | None = None, method: str = "sobol",
                     samples: int | None = None, workers: int = 1,
                     couples_per_sample: int = COUPLES_PER_SAMPLE,
                     settings: Sequence[str] = (), force: bool = False) -> int:  # fmt: skip
    """Run ``relsim sensitivity``: analyse a scenario, write its folder, print what matters most.

    Parameters
    ----------
    scenario : str
        A bundled scenario's name or the path to a ``.toml`` file.
    out : str or Path, optional
        The results folder (default ``results/<scenario name>-sensitivity``).
    method : {"sobol", "morris"}
        See :func:`analyse`.
    samples : int, optional
        Base sample size (see :func:`analyse`; default ``DEFAULT_SAMPLES[method]``).
    workers : int
        Local processes.
    couples_per_sample : int
        Couples per parameter sample.
    settings : sequence of str
        ``KEY=VALUE`` changes to the scenario (``--set``).
    force : bool
        Replace an existing results folder.

    Returns
    -------
    int
        The exit status: 0 written, 1 SALib missing, 2 bad input (nothing written).

    """
    from .plots import save, sensitivity_ranking
    from .results import OutputExistsError, atomic_folder, check_target, manifest, write_json
    from .scenario import ScenarioError, load_scenario

    def fail(message: str) -> int:
        print(f"relsim: error: {message}", file=sys.stderr)
        return 2

    started = time.perf_counter()
    couples = couples_per_sample
    try:
        loaded = load_scenario(scenario, settings)
        setup = loaded.setup()
    except ScenarioError as error:
        return fail(str(error))
    out = Path(out) if out else Path("results") / f"{loaded.name}-sensitivity"
    try:
        check_target(out, force=force)
    except OutputExistsError as error:
        return fail(str(error))
    try:
        result = analyse(setup, method=method, samples=samples, couples=couples,
                         workers=workers)  # fmt: skip
    except ValueError as error:
        return fail(str(error))
    except ImportError as error:
        if not (error.name or "").startswith("SALib"):
            raise
        print(f"relsim: error: {MISSING_SALIB}", file=sys.stderr)
        return 1
    computed = time.perf_counter() - started
    files = ["sensitivity.csv", "sensitivity.png", "manifest.json"]
    try:
        with atomic_folder(out, force=force) as folder:
            (folder / "sensitivity.csv").write_text(table_csv(result), encoding="utf-8")
            save(sensitivity_ranking(result, loaded.name), folder / "sensitivity.png")
            extra = {"method": method, "samples": result.samples,
                     "couples_per_sample": couples, "workers": workers, "outputs": OUTPUTS,
                     "bands": {name: list(band) for name, band in bands().items()}}  # fmt: skip
            info = manifest(
                loaded,
                argv=sys.argv,
                kind="sensitivity",
                files=files,
                timings={"analysis_seconds": round(computed, 3)},
                extra=extra,
            )
            write_json(folder / "manifest.json", info)
    except OutputExistsError as error:
        return fail(str(error))
    for output in OUTPUTS:
        top = ", ".join(result.ranking(output)[:3])
        print(f"{OUTPUTS[output]}: most influential {top}")
    print(f"wrote {out} ({result.samples} parameter samples x {couples} couples, "
          f"{computed:.1f} s)")  # fmt: skip
    print(
        f"\nFiles in {out}/\n"
        "  sensitivity.png  the parameters ranked by influence: open this first\n"
        "  sensitivity.csv  one row per output and parameter: index, confidence interval, rank\n"
        "  manifest.json    how this analysis was made (versions, seed, bands, command line)"
    )

    return 0
