"""Calibration against published findings: ``relsim calibrate TARGETS``.

The procedure, in order:

1. **Targets.** A targets file (:mod:`sim.targets`) lists published findings, each a statistic
   of the registry measured on a scenario, with its value, uncertainty, weight and source.
   Everything is validated before anything is simulated or written.
2. **Search.** The chosen parameters (``[calibrate] params`` or ``--params``; dynamics
   parameters and outcome-label thresholds, each within its range in :data:`sim.params.DYNAMICS`
   or :data:`sim.params.LABEL_THRESHOLDS`, or a narrower ``[calibrate] ranges``) are
   searched with Optuna's TPE sampler. One trial simulates every scenario the targets need, each
   with its own seed (common random numbers: every trial sees the same people and the same
   random stream, so differences between trials come from the parameters, not from noise), and
   scores the loss ``sum_k w_k z_k²`` with ``z_k = (simulated_k - published_k) / se_k``. An
   undefined statistic (for example nobody of a style) counts ``z = 10``. The study lives in
   ``study.sqlite`` in the output folder: ``--resume`` continues it, and several processes given
   the same folder share it. ``--budget`` is the number of finished trials the study should
   hold.
3. **Determinism.** The sampler of each trial is seeded from the calibration seed and the number
   of trials finished or running when it starts (:class:`TrialSeededSampler`), not from a
   random state carried through the process, so a calibration stopped after 6 trials and
   resumed to 12 proposes exactly what an uninterrupted run of 12 proposes. ``--workers N``
   evaluates N trials at a time (in local processes, or on the Dask cluster of
   ``--scheduler``) and tells them in trial order, so the result depends on N but not on which
   machine ran what.
4. **Approximate posterior.** From the trials' evaluations, without further simulation: each
   trial is weighted by ``exp(-(loss - loss_min) / (2 tau)) / q(theta)``. The numerator is an
   ABC acceptance kernel that is Gaussian in the published standard errors; by Wilkinson's
   result (Wilkinson 2013, *Approximate Bayesian computation (ABC) gives exact results under the
   assumption of model error*) this targets the posterior under a uniform prior on the ranges
   when each published value equals the simulated one plus a normal error of its stated size.
   ``q`` is a Gaussian kernel density estimate (SciPy) of where the search put its trials: TPE
   does not sample from the prior, so its trials are importance-weighted back to it, as in
   ABC population Monte Carlo (Beaumont, Cornuet, Marin & Robert 2009). ``tau`` widens the
   kernel when the best fit is worse than chance allows (``tau = max(1, loss_min / dof)``,
   ``dof = max(1, targets - params)``; the Birge-ratio scale of the Particle Data Group), so a
   model that cannot reach its targets does not get falsely narrow intervals; and it widens
   further, if needed, until at least 10 trials' worth of weight (or half the trials) carry the
   posterior, because the search resolves the optimum only to the spacing of its trials (the
   ABC tolerance set as a quantile of the distances, as in Beaumont, Zhang & Balding 2002).
   The intervals are weighted 2.5% and 97.5% quantiles; the effective sample size is reported
   with them. This was chosen over pyabc's ABC-SMC, which would need thousands of further
   simulations and a server-style database, and over MCMC (emcee), which needs a smooth
   likelihood the stochastic simulator does not give: the search's own evaluations are reused
   at no extra cost, and the intervals sharpen as the budget grows.
5. **Check.** The best parameters are run again with ``replicates`` fresh seeds; each target's
   simulated value is the mean over those runs and its Monte-Carlo error the standard error of
   that mean, so the reported fit is not the search seed's luck. The defaults are run on the
   same seeds, for comparison; they are also the search's first trial.

The report (``report/`` inside the output folder, written atomically and replaced on each
finish): ``fitted.json``, ``targets.csv``, ``trials.csv``, ``fit.png``, ``marginals.png``,
``convergence.png``, ``fitted-scenario.toml`` and ``manifest.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import json
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .targets import Target, TargetsError, TargetsFile, fittable_params, load_targets

__all__ = [
    "REPORT_FILES",
    "STUDY_FILE",
    "Calibration",
    "approximate_posterior",
    "calibrate",
    "check_values",
    "evaluate",
    "loss",
    "main",
    "trial_seeded_sampler",
]

STUDY_FILE = "study.sqlite"
STUDY_NAME = "relsim-calibration"
REPORT_DIR = "report"
REPORT_FILES = ("fitted.json", "targets.csv", "trials.csv", "fit.png", "marginals.png",
                "convergence.png", "fitted-scenario.toml", "manifest.json")  # fmt: skip
MISSING_OPTUNA = ("relsim calibrate needs Optuna and SciPy: pip install -e \".[calibrate]\" from a "
                  "relsim checkout, or pip install optuna scipy")  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Evaluating parameter values


def evaluate(targets_file: TargetsFile, values: Mapping[str, float], *, seed_offset: int = 0,
             engine: str | None = None) -> dict[str, float]:  # fmt: skip
    """Simulate every run the targets need with ``values``; return each target's statistic.

    A value replaces the parameter's default; a scenario (or a target's ``set``) that gives the
    parameter itself keeps its own value. A label threshold's value relabels the run's couples
    (``[labels]``). ``seed_offset`` shifts every run's seed (0: the scenarios' own seeds, as in
    the search).
    """
    from .params import LABEL_THRESHOLDS, RUN
    from .simulation import simulate

    engine = engine or "compiled"  # RELSIM_ENGINE=numpy makes the kernel use NumPy anyway
    tables = {}
    top = int(RUN["seed"].high)
    for key, scenario in targets_file.runs.items():
        dynamics = {**{k: v for k, v in values.items()
                       if k not in scenario.dynamics and k not in LABEL_THRESHOLDS},
                    **scenario.dynamics}  # fmt: skip
        labels = {**{k: v for k, v in values.items()
                     if k in LABEL_THRESHOLDS and k not in scenario.labels},
                  **scenario.labels}  # fmt: skip
        setup = scenario.setup(dynamics=dynamics, labels=labels,
                               seed=(scenario.seed + seed_offset) % top)  # fmt: skip
        tables[key] = simulate(setup, engine=engine).couples
    out = {}
    for target in targets_file.targets:
        value = target.compute(tables)
        out[target.name] = value if math.isfinite(value) else math.nan
    return out


def loss(targets: Sequence[Target], simulated: Mapping[str, float]) -> float:
    """The weighted sum of squared z-scores ``sum w (simulated - published)² / se²``."""
    return float(sum(t.weight * t.z(simulated.get(t.name, math.nan)) ** 2 for t in targets))


def _evaluate_task(targets_file: TargetsFile, values: dict[str, float], seed_offset: int,
                   engine: str | None) -> dict[str, float]:  # fmt: skip
    return evaluate(targets_file, values, seed_offset=seed_offset, engine=engine)


def _ignore_interrupts() -> None:
    """Worker initializer: leave Ctrl-C to the parent, which stops the pool itself.

    Also one engine thread per worker (``RELSIM_THREADS``): the workers already share the cores.
    """
    import os
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["RELSIM_THREADS"] = "1"


class _Runner:
    """Evaluates batches of parameter values: in this process, in local processes or on Dask."""

    def __init__(self, targets_file: TargetsFile, *, workers: int, scheduler: str | None,
                 engine: str | None) -> None:  # fmt: skip
        self.targets_file = targets_file
        self.engine = engine
        self.workers = workers
        self.pool = None
        self.client = None
        if scheduler is not None:
            try:
                from distributed import Client
            except ImportError:
                raise RuntimeError(
                    "running on a Dask cluster needs the 'distributed' package: "
                    "pip install 'relsim[dask]'"
                ) from None
            try:
                self.client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as error:
                raise ConnectionError(
                    f"cannot reach the Dask scheduler at {scheduler}: {error}"
                ) from None
        elif workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(workers, mp_context=context,
                                            initializer=_ignore_interrupts)  # fmt: skip

    def map(self, batch: Sequence[dict[str, float]], seed_offsets: Sequence[int] | None = None
            ) -> list[dict[str, float]]:  # fmt: skip
        offsets = list(seed_offsets) if seed_offsets is not None else [0] * len(batch)
        args = [
            (self.targets_file, dict(v), o, self.engine)
            for v, o in zip(batch, offsets, strict=True)
        ]
        if self.client is not None:
            futures = [self.client.submit(_evaluate_task, *a, pure=False) for a in args]
            try:
                return self.client.gather(futures)
            finally:
                self.client.cancel(futures)
        if self.pool is not None and len(args) > 1:
            return list(self.pool.map(_evaluate_task, *zip(*args, strict=True)))
        return [_evaluate_task(*a) for a in args]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        if self.client is not None:
            self.client.close()


# ----------------------------------------------------------------------------------------------
# The search


def _derived_seed(seed: int, index: int) -> int:
    digest = hashlib.sha256(f"relsim-calibrate:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def _make_sampler_class():
    import optuna

    class TrialSeededSampler(optuna.samplers.BaseSampler):
        """TPE whose random state comes from the seed and the trial's place in the study.

        A fresh ``TPESampler`` is made for each trial, seeded from the calibration seed and the
        number of trials finished or running when the trial starts (itself included). Failed
        trials (an interrupted evaluation) do not count, so the trial that replaces one gets
        the same proposal; TPE reads everything else from the study's stored history. So the
        proposals depend only on the history, never on whether the process was restarted.
        """

        def __init__(self, seed: int, startup_trials: int = 10) -> None:
            self.seed = int(seed)
            self.startup_trials = int(startup_trials)
            self._samplers: dict[int, optuna.samplers.TPESampler] = {}

        def _for(self, study, trial) -> optuna.samplers.TPESampler:
            sampler = self._samplers.get(trial._trial_id)
            if sampler is None:
                states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.RUNNING)
                place = sum(1 for t in study.get_trials(deepcopy=False, states=states)
                            if t.number <= trial.number)  # fmt: skip
                sampler = optuna.samplers.TPESampler(
                    seed=_derived_seed(self.seed, place), n_startup_trials=self.startup_trials,
                    multivariate=True, constant_liar=True,
                )  # fmt: skip
                self._samplers[trial._trial_id] = sampler
            return sampler

        def infer_relative_search_space(self, study, trial):
            return self._for(study, trial).infer_relative_search_space(study, trial)

        def sample_relative(self, study, trial, search_space):
            return self._for(study, trial).sample_relative(study, trial, search_space)

        def sample_independent(self, study, trial, param_name, param_distribution):
            return self._for(study, trial).sample_independent(
                study, trial, param_name, param_distribution
            )

        def before_trial(self, study, trial):
            self._for(study, trial).before_trial(study, trial)

        def after_trial(self, study, trial, state, values):
            sampler = self._samplers.pop(trial._trial_id, None)
            if sampler is not None:
                sampler.after_trial(study, trial, state, values)

    return TrialSeededSampler


def trial_seeded_sampler(seed: int, startup_trials: int = 10):
    """A ``TrialSeededSampler`` (TPE seeded per trial; built here so Optuna loads on demand)."""
    return _make_sampler_class()(seed, startup_trials)


def _distributions(targets_file: TargetsFile) -> dict[str, Any]:
    import optuna

    fittable = fittable_params()
    out = {}
    for name, (low, high) in targets_file.ranges.items():
        if fittable[name].integer:
            out[name] = optuna.distributions.IntDistribution(math.ceil(low), math.floor(high))
        else:
            out[name] = optuna.distributions.FloatDistribution(low, high)
    return out


def _fingerprint(targets_file: TargetsFile, seed: int) -> dict[str, Any]:
    return {"targets": targets_file.fingerprint(), "seed": seed,
            "params": {k: list(v) for k, v in targets_file.ranges.items()},
            "startup_trials": targets_file.startup_trials}  # fmt: skip


def open_study(folder: Path, targets_file: TargetsFile, seed: int, *, resume: bool):
    """Create (or, with ``resume``, reopen) the Optuna study in ``folder/study.sqlite``.

    Raises
    ------
    TargetsError
        If the study was made for other targets, parameters, ranges or seed.

    """
    import optuna

    fittable = fittable_params()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = folder / STUDY_FILE
    storage = optuna.storages.RDBStorage(
        f"sqlite:///{path}", engine_kwargs={"connect_args": {"timeout": 60}}
    )
    sampler = trial_seeded_sampler(seed, targets_file.startup_trials)
    study = optuna.create_study(storage=storage, study_name=STUDY_NAME, sampler=sampler,
                                direction="minimize", load_if_exists=True)  # fmt: skip
    wanted = json.loads(json.dumps(_fingerprint(targets_file, seed)))
    stored = study.user_attrs.get("fingerprint")
    if stored is None:
        study.set_user_attr("fingerprint", wanted)
        # The first trial is the current defaults (those inside the search ranges), so the
        # search starts from them and its best is never worse than they are on the search seeds.
        start = {name: fittable[name].default for name, (low, high) in targets_file.ranges.items()
                 if low <= fittable[name].default <= high}  # fmt: skip
        if start:
            study.enqueue_trial(start)
    elif stored != wanted:
        differs = sorted(k for k in wanted if stored.get(k) != wanted.get(k))
        raise TargetsError(f"the study there was made for a different calibration (other "
                           f"{', '.join(differs)}), so --resume cannot continue it; choose "
                           "another --out", file=str(path))  # fmt: skip
    return study


def _complete(study) -> list:
    import optuna

    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def search(study, targets_file: TargetsFile, runner: _Runner, *, budget: int, batch: int,
           progress: Callable[[int, int], None] | None = None) -> None:  # fmt: skip
    """Add trials to ``study`` until it holds ``budget`` finished ones."""
    import optuna

    distributions = _distributions(targets_file)
    targets = targets_file.targets
    while True:
        done = len(_complete(study))
        if progress is not None:
            progress(done, budget)
        if done >= budget:
            return
        trials = [study.ask(distributions) for _ in range(min(batch, budget - done))]
        try:
            results = runner.map([t.params for t in trials])
        except BaseException:
            for trial in trials:
                with contextlib.suppress(Exception):
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        for trial, simulated in zip(trials, results, strict=True):
            trial.set_user_attr("simulated", {k: (None if not math.isfinite(v) else v)
                                              for k, v in simulated.items()})  # fmt: skip
            study.tell(trial, loss(targets, simulated))


# ----------------------------------------------------------------------------------------------
# The approximate posterior


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cumulative = np.cumsum(w) - 0.5 * w
    cumulative /= w.sum()
    return float(np.interp(q, cumulative, v))


def approximate_posterior(points: np.ndarray, losses: np.ndarray,
                          ranges: Sequence[tuple[float, float]], *, targets: int,
                          min_ess: int = 10) -> dict[str, Any]:  # fmt: skip
    """Importance-weighted ABC over the search's trials (see the module docstring, step 4).

    Parameters
    ----------
    points : array, shape (trials, params)
        The parameter values of each trial.
    losses : array, shape (trials,)
        Each trial's loss.
    ranges : sequence of (low, high)
        The range of each parameter (the uniform prior).
    targets : int
        Number of targets with weight above 0 (for the degrees of freedom).
    min_ess : int
        The kernel is widened (``tau`` raised) until at least this effective number of trials
        (or half of them) carries the weight: the search resolves the optimum only to the
        spacing of its trials, and an interval should not be narrower than that.

    Returns
    -------
    dict with ``weights`` (summing to 1), ``ess``, ``tau``, and per parameter ``median``,
    ``low`` and ``high`` (2.5% and 97.5% weighted quantiles).

    """
    points = np.asarray(points, dtype=float)
    losses = np.asarray(losses, dtype=float)
    n, dims = points.shape
    lows = np.array([r[0] for r in ranges], dtype=float)
    spans = np.array([r[1] - r[0] for r in ranges], dtype=float)
    unit = (points - lows) / np.where(spans > 0, spans, 1.0)
    best = float(np.min(losses))
    dof = max(1, targets - dims)
    density = np.ones(n)
    if n > dims + 1:
        from scipy.stats import gaussian_kde

        jitter = unit + np.random.default_rng(0).normal(0.0, 1e-9, unit.shape)
        try:
            density = gaussian_kde(jitter.T)(jitter.T)
        except np.linalg.LinAlgError:  # all trials on a line: no proposal correction
            density = np.ones(n)
    proposal = 1.0 / np.maximum(density, 1e-12)

    def weigh(tau: float) -> tuple[np.ndarray, float]:
        w = np.exp(-(losses - best) / (2.0 * tau)) * proposal
        w = w / w.sum()
        return w, float(1.0 / np.sum(w**2))

    tau = max(1.0, best / dof)
    weights, ess = weigh(tau)
    wanted = min(float(min_ess), n / 2.0)
    if ess < wanted:  # widen until enough trials carry weight (the ABC tolerance as a quantile)
        low, high = math.log(tau), math.log(tau) + 1.0
        while weigh(math.exp(high))[1] < wanted and high < math.log(tau) + 40:
            high += 1.0
        for _ in range(40):
            middle = 0.5 * (low + high)
            if weigh(math.exp(middle))[1] < wanted:
                low = middle
            else:
                high = middle
        tau = math.exp(high)
        weights, ess = weigh(tau)
    out: dict[str, Any] = {"weights": weights, "ess": ess, "tau": tau, "params": []}
    for j in range(dims):
        column = points[:, j]
        out["params"].append({
            "median": _weighted_quantile(column, weights, 0.5),
            "low": _weighted_quantile(column, weights, 0.025),
            "high": _weighted_quantile(column, weights, 0.975),
        })  # fmt: skip
    return out


# ----------------------------------------------------------------------------------------------
# A whole calibration


@dataclass
class Calibration:
    """What :func:`calibrate` found."""

    targets_file: TargetsFile
    params: list[str]
    best: dict[str, float]
    best_loss: float
    trials: list[dict[str, Any]]  # number, params, loss, simulated
    posterior: dict[str, Any]
    check: list[dict[str, float]]  # one evaluation per replicate seed, at ``best``
    at_defaults: dict[str, float]  # each target's mean over the check seeds, at the defaults
    seed: int
    timings: dict[str, float]

    def simulated(self) -> dict[str, tuple[float, float]]:
        """Each target's mean over the check replicates and its Monte-Carlo standard error."""
        out = {}
        for target in self.targets_file.targets:
            values = np.array([run[target.name] for run in self.check], dtype=float)
            values = values[np.isfinite(values)]
            if values.size == 0:
                out[target.name] = (math.nan, math.nan)
            elif values.size == 1:
                out[target.name] = (float(values[0]), math.nan)
            else:
                out[target.name] = (
                    float(values.mean()),
                    float(values.std(ddof=1) / math.sqrt(values.size)),
                )
        return out

    def check_loss(self) -> float:
        """The loss of the check replicates' means."""
        return loss(self.targets_file.targets, {k: v[0] for k, v in self.simulated().items()})

    def table(self) -> list[dict[str, Any]]:
        """One row per target: published, simulated, Monte-Carlo error, z, within or not."""
        rows = []
        sim = self.simulated()
        best_trial = min(self.trials, key=lambda t: t["loss"])
        for t in self.targets_file.targets:
            value, error = sim[t.name]
            rows.append({
                "target": t.name, "statistic": t.describe(), "published": t.value, "se": t.se,
                "low": t.low, "high": t.high, "weight": t.weight, "simulated": value,
                "mc_error": error, "z": t.z(value), "within": t.within(value),
                "simulated_search": best_trial["simulated"].get(t.name),
                "simulated_defaults": self.at_defaults.get(t.name), "source": t.source,
                "known_miss": t.known_miss,
            })  # fmt: skip
        return rows

    def fitted(self) -> dict[str, Any]:
        """The body of ``fitted.json``."""
        params = {}
        for j, name in enumerate(self.params):
            spec = fittable_params()[name]
            post = self.posterior["params"][j]
            params[name] = {
                "fitted": self.best[name],
                "median": post["median"],
                "interval_95": [post["low"], post["high"]],
                "default": spec.default,
                "range": list(self.targets_file.ranges[name]),
                "unit": spec.unit,
            }
        sim = self.simulated()
        return {
            "targets_file": str(self.targets_file.path),
            "params": params,
            "loss": {"best_trial": self.best_loss, "check": self.check_loss(),
                     "defaults": loss(self.targets_file.targets, self.at_defaults)},
            "targets_within": sum(t.within(sim[t.name][0]) for t in self.targets_file.targets),
            "targets": len(self.targets_file.targets),
            "trials": len(self.trials),
            "seed": self.seed,
            "check_replicates": len(self.check),
            "posterior": {"method": "importance-weighted ABC over the search's trials "
                          "(Gaussian kernel in the published standard errors; proposal density "
                          "by Gaussian KDE; see sim/calibrate.py)",
                          "effective_sample_size": self.posterior["ess"],
                          "discrepancy_scale": self.posterior["tau"]},
        }  # fmt: skip


def _means(targets: Sequence[Target], runs: Sequence[Mapping[str, float]]) -> dict[str, float]:
    out = {}
    for target in targets:
        values = np.array([run[target.name] for run in runs], dtype=float)
        values = values[np.isfinite(values)]
        out[target.name] = float(values.mean()) if values.size else math.nan
    return out


def check_values(targets_file: TargetsFile, values: Mapping[str, float] | None = None, *,
                 replicates: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Each target at ``values`` (default: the current defaults), on the check seeds.

    Returns one row per target: ``target``, ``published``, ``low``, ``high``, ``simulated`` (mean
    over ``replicates`` fresh seeds, default the file's), ``mc_error``, ``z``, ``within`` and
    ``known_miss``. For a test that the defaults reproduce every target or miss it knowingly.
    """
    count = replicates or targets_file.replicates
    runs = [evaluate(targets_file, dict(values or {}), seed_offset=offset)
            for offset in range(1, count + 1)]  # fmt: skip
    rows = []
    for target in targets_file.targets:
        found = np.array([run[target.name] for run in runs], dtype=float)
        found = found[np.isfinite(found)]
        mean = float(found.mean()) if found.size else math.nan
        error = float(found.std(ddof=1) / math.sqrt(found.size)) if found.size > 1 else math.nan
        rows.append({"target": target.name, "published": target.value, "low": target.low,
                     "high": target.high, "simulated": mean, "mc_error": error,
                     "z": target.z(mean), "within": target.within(mean),
                     "known_miss": target.known_miss})  # fmt: skip
    return rows


def calibrate(targets_file: TargetsFile, folder: Path, *, budget: int, seed: int,
              workers: int = 1, scheduler: str | None = None, resume: bool = False,
              progress: Callable[[int, int], None] | None = None,
              engine: str | None = None) -> Calibration:  # fmt: skip
    """Run (or continue) the search in ``folder/study.sqlite``, then the posterior and the check.

    ``folder`` must exist. See the module docstring for the procedure.
    """
    fittable = fittable_params()
    started = time.perf_counter()
    study = open_study(folder, targets_file, seed, resume=resume)
    runner = _Runner(targets_file, workers=workers, scheduler=scheduler, engine=engine)
    try:
        search(study, targets_file, runner, budget=budget, batch=workers, progress=progress)
        searched = time.perf_counter()
        trials = sorted(_complete(study), key=lambda t: t.number)
        names = targets_file.params
        table = [{"number": t.number, "params": {n: t.params[n] for n in names},
                  "loss": float(t.value),
                  "simulated": {k: (math.nan if v is None else v)
                                for k, v in t.user_attrs.get("simulated", {}).items()}}
                 for t in trials if all(n in t.params for n in names)]  # fmt: skip
        if not table:
            raise RuntimeError("the study holds no finished trials")
        best_row = min(table, key=lambda t: (t["loss"], t["number"]))
        best = dict(best_row["params"])
        points = np.array([[row["params"][n] for n in names] for row in table])
        losses = np.array([row["loss"] for row in table])
        weighted = sum(1 for t in targets_file.targets if t.weight > 0)
        posterior = approximate_posterior(points, losses,
                                          [targets_file.ranges[n] for n in names],
                                          targets=weighted)  # fmt: skip
        offsets = list(range(1, targets_file.replicates + 1))
        defaults = {n: fittable[n].default for n in names}
        evaluations = runner.map([best] * len(offsets) + [defaults] * len(offsets),
                                 [*offsets, *offsets])  # fmt: skip
    finally:
        runner.close()
    done = time.perf_counter()
    return Calibration(
        targets_file,
        list(names),
        best,
        best_row["loss"],
        table,
        posterior,
        evaluations[: len(offsets)],
        _means(targets_file.targets, evaluations[len(offsets) :]),
        seed,
        {"search_seconds": searched - started, "check_seconds": done - searched},
    )


# ----------------------------------------------------------------------------------------------
# The report


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _csv(rows: Sequence[Mapping[str, Any]], header: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_fmt(row.get(h), 6) for h in header])
    return buffer.getvalue()


TARGET_COLUMNS = ("target", "statistic", "published", "se", "low", "high", "weight", "simulated",
                  "mc_error", "z", "within", "simulated_search", "simulated_defaults",
                  "known_miss", "source")  # fmt: skip


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(float(f"{value:.6g}"))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def fitted_scenario_toml(calibration: Calibration, argv: Sequence[str] | None = None) -> str:
    """A scenario file: the base scenario of the targets file with the fitted values.

    Built from the base scenario's own file (and its ``--set`` changes), so every key it has is
    kept as written; its ``[dynamics]`` (and ``[labels]``, for fitted label thresholds) gains the
    fitted values (a value the scenario sets itself stays). A ``[sweep]`` is dropped: the file
    describes one run.
    """
    import tomllib

    from .params import LABEL_THRESHOLDS
    from .scenario import parse_override

    base = calibration.targets_file.base_scenario
    data: dict[str, Any] = {}
    if base.source is not None:
        data = tomllib.loads(Path(base.source).read_text(encoding="utf-8"))
    for item in base.overrides:
        key, value = parse_override(item)
        *tables, last = key.split(".")
        target = data
        for part in tables:
            target = target.setdefault(part, {})
        target[last] = value
    for key in ("name", "sweep"):
        data.pop(key, None)
    dynamics = dict(data.get("dynamics", {}))
    labels = dict(data.get("labels", {}))
    fittable = fittable_params()
    for name in calibration.params:
        table = labels if name in LABEL_THRESHOLDS else dynamics
        if name not in table:
            value = calibration.best[name]
            table[name] = round(value) if fittable[name].integer else float(value)
    data["dynamics"] = dynamics
    if labels:
        data["labels"] = labels
    description = f"{base.description} (dynamics fitted to {calibration.targets_file.path.name})"
    data = {"description": description.strip(), **{k: v for k, v in data.items()
                                                   if k != "description"}}  # fmt: skip
    command = "relsim " + " ".join(argv) if argv else "relsim calibrate"
    lines = [f"# Written by `{command}`: {base.name} with the fitted values of "
             f"{', '.join(calibration.params)}.", ""]  # fmt: skip

    def is_array_of_tables(value: Any) -> bool:
        return (
            isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)
        )

    for key, value in data.items():  # plain keys first, then tables, then arrays of tables
        if not isinstance(value, Mapping) and not is_array_of_tables(value):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in value.items()]
    for key, value in data.items():
        if is_array_of_tables(value):
            for item in value:
                lines += ["", f"[[{key}]]"] + [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _figures(calibration: Calibration, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .results import save_figure

    fittable = fittable_params()

    rows = calibration.table()
    n = len(rows)
    fig, axes = plt.subplots(n, 1, figsize=(7.5, 0.9 * n + 1.0), squeeze=False)
    fig.subplots_adjust(hspace=0.9)
    for ax, row in zip(axes[:, 0], rows, strict=True):
        ax.axvspan(row["low"], row["high"], color="#cfd8e3", label="published interval")
        ax.axvline(row["published"], color="#1f3b57", lw=1.5, label="published value")
        shown = [row["low"], row["high"]]
        if row["simulated_defaults"] is not None and math.isfinite(row["simulated_defaults"]):
            ax.plot(row["simulated_defaults"], 0, "o", mfc="white", mec="#888888", ms=7,
                    label="defaults")  # fmt: skip
            shown.append(row["simulated_defaults"])
        if math.isfinite(row["simulated"]):
            error = row["mc_error"] if math.isfinite(row["mc_error"]) else 0.0
            color = "#2a7f3f" if row["within"] else "#c0392b"
            ax.errorbar(row["simulated"], 0, xerr=1.96 * error, fmt="D", color=color, ms=6,
                        capsize=3, label="fitted (±1.96 MC error)")  # fmt: skip
            shown += [row["simulated"] - 1.96 * error, row["simulated"] + 1.96 * error]
        else:
            ax.text(0.99, 0.5, "undefined at the fitted values", transform=ax.transAxes,
                    ha="right", va="center", fontsize=8, color="#c0392b")  # fmt: skip
        low, high = min(shown), max(shown)
        pad = 0.08 * (high - low or 1.0)
        ax.set_xlim(low - pad, high + pad)
        ax.set_yticks([])
        ax.set_ylim(-1, 1)
        ax.set_title(f"{row['target']}: {row['statistic']}", fontsize=8, loc="left")
        ax.tick_params(axis="x", labelsize=8)
    handles, labels = [], []
    for ax in axes[:, 0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    height = 0.9 * n + 1.0
    top = 1.0 - 0.6 / height
    fig.legend(handles, labels, fontsize=7, ncols=4, loc="upper center", frameon=False,
               bbox_to_anchor=(0.5, 1.0 - 0.3 / height))  # fmt: skip
    fig.suptitle("Fit per target (fitted: green inside the published interval, red outside)",
                 fontsize=9, y=1.0 - 0.06 / height)  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, top))
    save_figure(fig, folder / "fit.png")
    plt.close(fig)

    names = calibration.params
    weights = calibration.posterior["weights"]
    cols = min(3, len(names))
    nrows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.6 * cols, 2.8 * nrows), squeeze=False)
    for j, name in enumerate(names):
        ax = axes[j // cols, j % cols]
        values = np.array([t["params"][name] for t in calibration.trials])
        low, high = calibration.targets_file.ranges[name]
        ax.hist(values, bins=20, range=(low, high), weights=weights, color="#4c72b0",
                alpha=0.85, label="approx. posterior")  # fmt: skip
        ax.hist(values, bins=20, range=(low, high), weights=np.full(values.size, 1 / values.size),
                histtype="step", color="#999999", label="trials")  # fmt: skip
        post = calibration.posterior["params"][j]
        ax.axvspan(post["low"], post["high"], color="#4c72b0", alpha=0.12, label="95% interval")
        ax.axvline(calibration.best[name], color="#c0392b", lw=1.5, label="fitted")
        ax.axvline(fittable[name].default, color="#333333", ls="--", lw=1, label="default")
        ax.set_xlim(low, high)
        ax.set_xlabel(f"{name} ({fittable[name].unit})", fontsize=8)
        ax.tick_params(labelsize=7)
    for row in axes:
        row[0].set_ylabel("share of weight", fontsize=8)
    for j in range(len(names), nrows * cols):
        axes[j // cols, j % cols].axis("off")
    axes[0, 0].legend(fontsize=6, frameon=False)
    fig.suptitle(
        f"Fitted parameters: approximate posterior from {len(calibration.trials)} trials "
        f"(effective sample {calibration.posterior['ess']:.0f})",
        fontsize=9,
    )
    fig.tight_layout()
    save_figure(fig, folder / "marginals.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    numbers = np.arange(1, len(calibration.trials) + 1)
    losses = np.array([t["loss"] for t in calibration.trials])
    ax.plot(numbers, losses, "o", ms=3, color="#999999", label="trial")
    ax.plot(numbers, np.minimum.accumulate(losses), color="#c0392b", lw=1.8, label="best so far")
    startup = calibration.targets_file.startup_trials
    if startup < len(numbers):
        ax.axvline(startup + 0.5, color="#333333", ls=":", lw=1, label="random start ends")
    if np.all(losses > 0):
        ax.set_yscale("log")
    ax.set_xlabel("finished trial")
    ax.set_ylabel("loss: sum of weight × z²")
    ax.set_title("Convergence of the search", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    save_figure(fig, folder / "convergence.png")
    plt.close(fig)


def write_report(target: Path, calibration: Calibration, *, argv: Sequence[str] | None,
                 extra: Mapping[str, Any]) -> Path:  # fmt: skip
    """Write the report folder atomically (``sim.results.atomic_folder``), replacing an old one."""
    from .results import atomic_folder, manifest, write_json
    from .scenario import scenario_from_dict

    started = time.perf_counter()
    text = fitted_scenario_toml(calibration, argv)
    import tomllib

    scenario = scenario_from_dict(tomllib.loads(text), name="fitted-scenario")  # must load back
    with atomic_folder(target, force=True) as staging:
        write_json(staging / "fitted.json", calibration.fitted())
        (staging / "targets.csv").write_text(
            _csv(calibration.table(), TARGET_COLUMNS), encoding="utf-8"
        )
        names = calibration.params
        trial_rows = [{"trial": t["number"], "loss": t["loss"], **t["params"],
                       **{f"sim:{k}": v for k, v in t["simulated"].items()}}
                      for t in calibration.trials]  # fmt: skip
        header = [
            "trial",
            "loss",
            *names,
            *(f"sim:{t.name}" for t in calibration.targets_file.targets),
        ]
        weights = calibration.posterior["weights"]
        for row, weight in zip(trial_rows, weights, strict=True):
            row["posterior_weight"] = float(weight)
        (staging / "trials.csv").write_text(
            _csv(trial_rows, [*header, "posterior_weight"]), encoding="utf-8"
        )
        _figures(calibration, staging)
        (staging / "fitted-scenario.toml").write_text(text, encoding="utf-8")
        timings = {**calibration.timings, "write_seconds": time.perf_counter() - started}
        info = manifest(scenario, argv=argv, timings=timings, kind="calibration",
                        files=REPORT_FILES,
                        extra={**extra, "targets": [t.to_dict()
                                                    for t in calibration.targets_file.targets],
                               "runs": sorted(calibration.targets_file.runs)})  # fmt: skip
        write_json(staging / "manifest.json", info)
    return target


def summary_lines(calibration: Calibration, out: Path) -> list[str]:
    """What ``relsim calibrate`` prints at the end."""
    fittable = fittable_params()
    fitted = calibration.fitted()
    rows = calibration.table()
    lines = [
        f"relsim calibrate: {calibration.targets_file.path} ({fitted['trials']} trials, "
        f"seed {calibration.seed})",
        "",
        "Fitted parameters (95% interval; default)",
    ]
    width = max(len(n) for n in calibration.params)
    for name, item in fitted["params"].items():
        low, high = item["interval_95"]
        lines.append(f"  {name:{width}s}  {item['fitted']:.4g}  ({low:.4g} to {high:.4g}; "
                     f"default {fittable[name].default:g})")  # fmt: skip
    lines += ["", "Targets (published [interval] -> simulated ± MC error)"]
    width = max(len(r["target"]) for r in rows)
    for r in rows:
        mark = "ok  " if r["within"] else ("miss" if r["known_miss"] else "MISS")
        lines.append(f"  {mark} {r['target']:{width}s}  {r['published']:.3g} "
                     f"[{r['low']:.3g}, {r['high']:.3g}] -> {_fmt(r['simulated'], 3) or 'n/a'}"
                     f" ± {_fmt(r['mc_error'], 2) or 'n/a'}  (z {r['z']:+.1f})")  # fmt: skip
    if any(r["known_miss"] and not r["within"] for r in rows):
        lines.append("  (miss: a known miss, with its reason in targets.csv)")
    lines.append(f"\n  {fitted['targets_within']} of {fitted['targets']} targets within their "
                 f"published interval; loss {fitted['loss']['check']:.3g} at the fit, "
                 f"{fitted['loss']['defaults']:.3g} at the defaults")  # fmt: skip
    ess = calibration.posterior["ess"]
    if ess < 10:
        lines.append(f"  note: the intervals rest on an effective sample of {ess:.1f} trials; "
                     "raise --budget (and --resume) for firmer ones")  # fmt: skip
    files = [(STUDY_FILE, "the Optuna study (--resume continues it)"),
             ("fit.png", "fit per target: open this first"),
             ("fitted.json", "fitted values with 95% intervals"),
             ("targets.csv", "published, simulated, MC error, within or not"),
             ("trials.csv", "every trial: values, loss, statistics, posterior weight"),
             ("marginals.png", "approximate posterior of each parameter"),
             ("convergence.png", "loss per trial and best so far"),
             ("fitted-scenario.toml", "a scenario with the fitted values (relsim run)"),
             ("manifest.json", "how this was made")]  # fmt: skip
    names = [name if name == STUDY_FILE else f"{REPORT_DIR}/{name}" for name, _ in files]
    width = max(len(name) for name in names)
    lines += ["", f"Files in {out}/"]
    lines += [f"  {name:{width}s}  {what}" for name, (_, what) in zip(names, files, strict=True)]
    return lines


# ----------------------------------------------------------------------------------------------
# The command


def _finished_trials(path: Path) -> int:
    """Finished trials in the study at ``path`` (0 if there is none or it cannot be read)."""
    if not path.is_file():
        return 0
    try:
        import optuna

        study = optuna.load_study(study_name=STUDY_NAME, storage=f"sqlite:///{path}")
        return len(_complete(study))
    except Exception:
        return 0


def main(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
    """Run ``relsim calibrate`` with parsed ``args``; return the exit status.

    Raises
    ------
    TargetsError
        For a bad targets file or option (the caller reports it with exit status 2).

    """
    for option, low in (("budget", 1), ("workers", 1), ("seed", 0)):
        value = getattr(args, option)
        if value is not None and value < low:
            raise TargetsError(f"--{option} {value} is too small (at least {low})")
    if args.workers > 64:
        raise TargetsError(f"--workers {args.workers} is too many; allowed: 1 to 64")
    if args.scheduler is not None and ":" not in args.scheduler:
        raise TargetsError(f"--scheduler {args.scheduler!r} is not an address; allowed: "
                           "tcp://host:port or host:port")  # fmt: skip
    params = None
    if args.params is not None:
        params = [p.strip() for p in args.params.split(",") if p.strip()]
    targets_file = load_targets(args.targets, params=params)
    seed = args.seed if args.seed is not None else (targets_file.seed or 0)
    out = args.out
    if out is None:
        out = Path("results") / f"calibrate-{Path(args.targets).stem}"
        if out.exists() and not args.resume:
            from . import results

            free = getattr(results, "next_free_sibling", None)
            if free is not None:
                print(f"note: {out} already exists; writing to {free(out)} instead (--resume "
                      f"continues the study in {out}, --out chooses the folder)",
                      file=sys.stderr)  # fmt: skip
                out = free(out)
    study_path = out / STUDY_FILE
    if args.resume:
        if not study_path.is_file():
            raise TargetsError(f"there is no study to resume in {out} (no {STUDY_FILE}); run "
                               "without --resume to start one")  # fmt: skip
    elif out.exists():
        what = "holds a calibration study" if study_path.exists() else "already exists"
        raise TargetsError(f"output folder {out} {what}; use --resume to continue it or --out "
                           "to choose another folder")  # fmt: skip
    if out.exists() and not out.is_dir():
        raise TargetsError(f"output {out} exists and is not a folder; choose another --out")
    try:
        import optuna  # noqa: F401
        import scipy  # noqa: F401
    except ImportError:
        print(f"relsim: error: {MISSING_OPTUNA}", file=sys.stderr)
        return 1

    from .cli import _prepare_engine, progress_bar

    try:
        _prepare_engine()
    except KeyboardInterrupt:
        print("\nrelsim: interrupted; nothing was written", file=sys.stderr)
        raise
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"relsim calibrate: {len(targets_file.targets)} targets on {len(targets_file.runs)} "
        f"runs, fitting {', '.join(targets_file.params)}; study in {study_path}",
        flush=True,
    )
    extra = {"targets_file": str(targets_file.path), "params": targets_file.params,
             "ranges": {k: list(v) for k, v in targets_file.ranges.items()},
             "budget": args.budget, "workers": args.workers, "scheduler": args.scheduler,
             "study": str(study_path)}  # fmt: skip
    try:
        with progress_bar("calibrating", "trial") as progress:
            calibration = calibrate(targets_file, out, budget=args.budget, seed=seed,
                                    workers=args.workers, scheduler=args.scheduler,
                                    resume=args.resume, progress=progress)  # fmt: skip
        write_report(out / REPORT_DIR, calibration, argv=list(argv) if argv is not None else None,
                     extra=extra)  # fmt: skip
    except BaseException as error:
        kept = _finished_trials(study_path)
        if created and not kept:
            import shutil

            shutil.rmtree(out, ignore_errors=True)
        if isinstance(error, KeyboardInterrupt):
            if kept:
                print(f"\nrelsim: interrupted: {kept} finished trial{'s' * (kept != 1)} kept in "
                      f"{study_path}; "
                      "run again with --resume to continue", file=sys.stderr)  # fmt: skip
            else:
                print("\nrelsim: interrupted; nothing was written", file=sys.stderr)
        raise
    print("\n".join(summary_lines(calibration, out)))
    return 0
