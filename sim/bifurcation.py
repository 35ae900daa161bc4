"""Bifurcation diagrams and hysteresis: tipping points of one parameter, and why going back fails.

Three pictures of the same parameter ``p`` (a dynamics parameter such as ``exhaustion_rate``, or a
partner's trait such as ``partner_a.anxiety``):

* the **mean-field equilibria** (``sim.meanfield``) at every value of ``p``, stable and unstable:
  where two stable equilibria exist side by side the couple is *bistable*, and where one of them
  disappears (a fold) the couple tips;
* the **agent-based share** spiraling or dissolved when ``p`` is held fixed for a whole run
  (``scenario.days`` days, the scenario's couples per value);
* the **hysteresis experiment**: one agent-based population whose ``p`` is ramped up slowly, a
  step every ``hold_days`` days, and then back down the same steps. At the end of every step the
  share of couples spiraling or dissolved is recorded, with its Wilson 95% interval.

"Spiraling" at a step mirrors ``sim.outcomes.classify_couples`` on a rolling window: a person's
request rate is the mean over the last 30 days (``WINDOW_DAYS``), and trust and the partner's
exhaustion are the current states; ``dissolved`` is the dissolution rule, which is absorbing
(a couple that split up stays split up, which is hysteresis of its own; ``hysteresis.csv`` gives
the spiraling and dissolved shares separately too).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import meanfield as mf
from . import outcomes as oc
from .engine import kernel as k
from .params import DYNAMICS, PERSON, Param, closest

__all__ = [
    "HYSTERESIS_COLUMNS",
    "WINDOW_DAYS",
    "BifurcationResult",
    "abm_shares",
    "bifurcation",
    "default_range",
    "grid_agreement",
    "hysteresis",
    "mean_field_diagram",
    "parse_range",
    "resolve_param",
    "wilson",
]

WINDOW_DAYS = 30
HYSTERESIS_COLUMNS = ("value", "direction", "day", "share", "low", "high", "share_spiraling",
                      "share_dissolved", "couples")  # fmt: skip
Progress = Callable[[str, int, int], object]


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def resolve_param(name: str) -> tuple[str, Param]:
    """Return ``(key, rule)`` for a parameter named on the command line.

    ``key`` is a dynamics parameter's name (``exhaustion_rate``; ``dynamics.exhaustion_rate`` is
    accepted too) or ``partner_a.<trait>`` / ``partner_b.<trait>`` (``partner_a.anxiety``).
    Raises ``ValueError`` naming what is allowed.
    """
    text = str(name).strip()
    if text.startswith("dynamics."):
        text = text[len("dynamics.") :]
    if text in DYNAMICS:
        return text, DYNAMICS[text]
    tag, _, trait = text.partition(".")
    if tag in ("partner_a", "partner_b") and trait in PERSON:
        return text, PERSON[trait]
    choices = [*DYNAMICS, *(f"{t}.{n}" for t in ("partner_a", "partner_b") for n in PERSON)]
    raise ValueError(f"unknown parameter {name!r}{closest(text, choices)}; allowed: a dynamics "
                     f"parameter ({', '.join(DYNAMICS)}) or partner_a.<trait> / "
                     f"partner_b.<trait> with a trait of {', '.join(PERSON)}")  # fmt: skip


def default_range(key: str, rule: Param) -> tuple[float, float]:
    """The range swept when none is given.

    The allowed range; for a dynamics parameter capped at six times its default (the full range
    of most rates is far beyond anything plausible).
    """
    low, high = float(rule.low), float(rule.high)
    if key in DYNAMICS and rule.default > 0 and 6.0 * rule.default < high:
        high = 6.0 * float(rule.default)
    return low, high


def parse_range(text: str, key: str, rule: Param) -> tuple[float, float]:
    """Parse ``LOW:HIGH`` into two numbers inside the parameter's allowed range, LOW < HIGH."""
    low_text, sep, high_text = str(text).partition(":")
    allowed = f"{rule.low:g} to {rule.high:g} ({rule.unit})"
    if not sep:
        raise ValueError(f"--range {text!r} is not LOW:HIGH, e.g. --range "
                         f"{rule.low:g}:{rule.high:g}")  # fmt: skip
    try:
        low, high = float(low_text), float(high_text)
    except ValueError:
        raise ValueError(f"--range {text!r}: LOW and HIGH must be numbers, e.g. --range "
                         f"{rule.low:g}:{rule.high:g}") from None  # fmt: skip
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"--range {text!r}: LOW and HIGH must be finite numbers")
    if not low < high:
        raise ValueError(f"--range {text!r}: LOW must be below HIGH")
    if low < rule.low or high > rule.high:
        raise ValueError(f"--range {text!r} leaves the range of {key}; allowed: {allowed}")
    if rule.integer:
        raise ValueError(f"{key} is a whole number of {rule.unit}; a bifurcation diagram needs "
                         "a continuous parameter")  # fmt: skip
    return low, high


def wilson(successes, n, z: float = 1.959963984540054):
    """Wilson score interval of a share ``successes / n`` (arrays allowed); ``(low, high)``."""
    successes = np.asarray(successes, dtype=float)
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    share = successes / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # (the interval always holds the share itself; rounding could put an end a hair past it)
    return (
        np.clip(np.minimum(centre - half, share), 0.0, 1.0),
        np.clip(np.maximum(centre + half, share), 0.0, 1.0),
    )


# ----------------------------------------------------------------------------------------------
# The mean field over one parameter


def mean_field_diagram(scenario, key: str, values: Sequence[float]):
    """Equilibria and the predicted regime of the scenario's mean couple at every value.

    Returns ``(equilibria, regime)``: one list of :class:`sim.meanfield.Equilibrium` per value,
    and :func:`sim.meanfield.regime`'s dict over the values.
    """
    values = np.asarray(values, dtype=float)
    model = mf.mean_couple(scenario.setup(), lanes={key: values})
    return mf.equilibria_and_regime(model)


def spiral_at_equilibrium(e: mf.Equilibrium) -> bool:
    """Whether an equilibrium is a spiral by ``sim.outcomes``' rule (rate, trust, exhaustion)."""
    for me, partner in ((0, 1), (1, 0)):
        rate = e.requests[me]
        broken = (e.value("trust", me) < oc.SPIRAL_TRUST
                  or e.value("exhaustion", partner) >= oc.SPIRAL_EXHAUSTION)  # fmt: skip
        if rate >= oc.EXCESSIVE_RATE or (rate >= oc.SPIRAL_RATE and broken):
            return True
    return False


# ----------------------------------------------------------------------------------------------
# Agent-based shares


def _with_value(setup_kwargs: dict, scenario, key: str, per_couple: np.ndarray) -> dict:
    if key in DYNAMICS:
        setup_kwargs["dynamics"] = {**scenario.dynamics, key: per_couple}
    else:
        tag, trait = key.split(".", 1)
        setup_kwargs[tag] = {**getattr(scenario, tag), trait: per_couple}
    return setup_kwargs


def abm_shares(scenario, key: str, values: Sequence[float], *, couples: int | None = None,
               days: int | None = None,
               seed: int | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """Share of couples spiraling or dissolved after a run with the parameter held at each value.

    One population of ``couples`` per value (default the scenario's), all run together (the
    values are per-couple parameters), for ``days`` (default the scenario's). Returns arrays
    over values: ``share``, ``low``, ``high`` (Wilson 95%), ``spiraling``, ``dissolved``.
    """
    from .simulation import simulate

    values = np.asarray(values, dtype=float)
    n = int(couples or scenario.couples)
    per_couple = np.repeat(values, n)
    kwargs = _with_value({"couples": n * len(values)}, scenario, key, per_couple)
    if days is not None:
        kwargs["days"] = int(days)
    if seed is not None:
        kwargs["seed"] = int(seed)
    labels = simulate(scenario.setup(**kwargs)).labels.reshape(len(values), n)
    spiraling = (labels == "spiraling").mean(axis=1)
    dissolved = (labels == "dissolved").mean(axis=1)
    broken = oc.broken(labels).sum(axis=1)
    low, high = wilson(broken, n)
    return {"share": broken / n, "low": low, "high": high, "spiraling": spiraling,
            "dissolved": dissolved}  # fmt: skip


def grid_agreement(scenario, x_key: str, x_values: Sequence[float], y_key: str,
                   y_values: Sequence[float], *, replicates: int = 50,
                   days: int | None = None) -> dict:  # fmt: skip
    """Mean-field regime against agent-based shares on a two-parameter grid.

    Every cell ``(x, y)`` is run with ``replicates`` couples for ``days`` (default the
    scenario's), all cells in one population (per-couple parameters), and the mean couple of the
    cell is classified by :func:`sim.meanfield.regime`. A cell *agrees* when the mean field
    predicts spiraling or dissolved exactly where at least half of the agent-based couples end
    spiraling or dissolved. Returns a dict: ``abm_share`` and ``mean_field`` (bool) grids of
    shape ``(len(y_values), len(x_values))``, ``agree`` (bool grid) and ``agreement`` (share of
    cells that agree).
    """
    from .simulation import simulate

    x_key, _ = resolve_param(x_key)
    y_key, _ = resolve_param(y_key)
    xs, ys = np.asarray(x_values, dtype=float), np.asarray(y_values, dtype=float)
    X, Y = np.meshgrid(xs, ys)
    cells = X.size
    n = int(replicates)
    kwargs: dict = {"couples": cells * n}
    if days is not None:
        kwargs["days"] = int(days)
    both = {x_key: np.repeat(X.ravel(), n), y_key: np.repeat(Y.ravel(), n)}
    dynamics = dict(scenario.dynamics)
    partners = {"partner_a": dict(scenario.partner_a), "partner_b": dict(scenario.partner_b)}
    for key, per_couple in both.items():
        if key in DYNAMICS:
            dynamics[key] = per_couple
        else:
            tag, trait = key.split(".", 1)
            partners[tag][trait] = per_couple
    setup = scenario.setup(dynamics=dynamics, **partners, **kwargs)
    labels = simulate(setup).labels.reshape(cells, n)
    share = oc.broken(labels).mean(axis=1).reshape(X.shape)
    model = mf.mean_couple(scenario.setup(), lanes={x_key: X.ravel(), y_key: Y.ravel()})
    predicted = mf.regime(model)["spiraling_or_dissolved"].reshape(X.shape)
    agree = (share >= 0.5) == predicted
    return {"x": xs, "y": ys, "abm_share": share, "mean_field": predicted, "agree": agree,
            "agreement": float(agree.mean())}  # fmt: skip


def _set_value(kern: k.Kernel, key: str, value: float) -> None:
    """Put ``value`` in place for every couple of a running kernel (between ``advance`` calls)."""
    if key in DYNAMICS:
        kern.P[k.p_row(key)] = value
        return
    tag, trait = key.split(".", 1)
    person = 0 if tag == "partner_a" else 1
    kern.state(trait)[person] = value
    if trait in ("anxiety", "avoidance"):  # the day's traits are recomputed from the base ones
        kern.state(f"{trait}_base")[person] = value


def _spiraling_now(kern: k.Kernel, rate_last: np.ndarray) -> np.ndarray:
    """``sim.outcomes``' spiral rule on the current state and rolling request rates ``(2, n)``."""
    trust = kern.state("trust")
    exhaustion = kern.state("exhaustion")
    spiral = np.zeros(kern.n, dtype=bool)
    for me, partner in ((0, 1), (1, 0)):
        not_working = (trust[me] < oc.SPIRAL_TRUST) | (exhaustion[partner] >= oc.SPIRAL_EXHAUSTION)
        spiral |= (rate_last[me] >= oc.EXCESSIVE_RATE) | ((rate_last[me] >= oc.SPIRAL_RATE)
                                                          & not_working)  # fmt: skip
    return spiral


def hysteresis(scenario, key: str, values: Sequence[float], *, couples: int | None = None,
               hold_days: int = 30, burn_in_days: int = WINDOW_DAYS, seed: int | None = None,
               progress: Progress = _quiet) -> list[dict]:  # fmt: skip
    """Ramp the parameter up through ``values`` and back down, in one agent-based population.

    The population (the scenario's couples, or ``couples``) starts at ``values[0]`` and runs
    ``burn_in_days`` (at least 30, so that the first window is full); then, for
    each value in order and then in reverse order, the value is set for every couple, the
    population runs ``hold_days`` days, and the step's share spiraling or dissolved is recorded
    (see the module's description). Returns one dict per step with ``HYSTERESIS_COLUMNS``.
    """
    values = [float(v) for v in values]
    setup = scenario.setup(**({} if couples is None else {"couples": int(couples)}),
                           **({} if seed is None else {"seed": int(seed)}))  # fmt: skip
    burn_in_days = max(int(burn_in_days), WINDOW_DAYS)
    hold_days = max(int(hold_days), 1)
    total_days = burn_in_days + 2 * len(values) * hold_days
    from .simulation import population

    pop = population(setup)
    people = dict(pop.people)
    if key not in DYNAMICS:  # a trait: every couple gets the same value, like a scenario override
        tag, trait = key.split(".", 1)
        person = 0 if tag == "partner_a" else 1
        people[trait] = people[trait].copy()
        people[trait][person] = values[0]
    kern = k.Kernel(people, pop.params, seed=setup.seed, days=total_days)
    _set_value(kern, key, values[0])
    n = kern.n
    history = [kern.recorder("requests").copy()]  # cumulative requests at the end of each day

    def run(days: int) -> None:
        for _ in range(days):
            kern.advance(1)
            history.append(kern.recorder("requests").copy())
            if len(history) > WINDOW_DAYS + 1:
                history.pop(0)

    run(burn_in_days)
    rows = []
    steps = [("up", v) for v in values] + [("down", v) for v in reversed(values)]
    for done, (direction, value) in enumerate(steps):
        _set_value(kern, key, value)
        run(hold_days)
        window = min(WINDOW_DAYS, len(history) - 1)
        rate_last = (history[-1] - history[-1 - window]) / window
        dissolved = kern.dissolved_day >= 0
        spiral = _spiraling_now(kern, rate_last) & ~dissolved
        broken = int(np.sum(spiral | dissolved))
        low, high = wilson(broken, n)
        rows.append({"value": value, "direction": direction, "day": kern.day,
                     "share": broken / n, "low": float(low), "high": float(high),
                     "share_spiraling": float(spiral.mean()),
                     "share_dissolved": float(dissolved.mean()), "couples": n})  # fmt: skip
        progress("hysteresis", done + 1, len(steps))
    return rows


# ----------------------------------------------------------------------------------------------
# Everything together


@dataclass
class BifurcationResult:
    """What ``relsim bifurcation`` computes (see :func:`bifurcation`)."""

    scenario_name: str
    key: str
    label: str
    values: np.ndarray
    equilibria: list[list[mf.Equilibrium]]
    regime: dict
    abm: dict[str, np.ndarray]
    hysteresis: list[dict]
    seeker: int
    couples: int
    days: int
    hold_days: int
    seed: int
    notes: list[str] = field(default_factory=list)

    def bistable(self) -> np.ndarray:
        """Whether the mean field has two or more stable equilibria at each value."""
        return np.array([sum(e.stable for e in es) >= 2 for es in self.equilibria])

    def csv_rows(self) -> tuple[list[str], list[list]]:
        """``bifurcation.csv``: one row per equilibrium (header, rows)."""
        states = [f"{name}_{tag}" for name in mf.STATE for tag in "ab"]
        header = [self.key, "equilibrium", "stable", "spectral_radius", "spiral",
                  "requests_a", "requests_b", *states, "mean_field_regime",
                  "abm_share", "abm_low", "abm_high"]  # fmt: skip
        rows = []
        for i, value in enumerate(self.values):
            for n, e in enumerate(self.equilibria[i]):
                rows.append([float(value), n, bool(e.stable), e.radius,
                             spiral_at_equilibrium(e), float(e.requests[0]),
                             float(e.requests[1]), *(float(v) for v in e.state),
                             str(self.regime["label"][i]), float(self.abm["share"][i]),
                             float(self.abm["low"][i]), float(self.abm["high"][i])])  # fmt: skip
        return header, rows


def bifurcation(scenario, key: str, values: Sequence[float], *, couples: int | None = None,
                hold_days: int = 30, progress: Progress = _quiet) -> BifurcationResult:  # fmt: skip
    """The mean-field diagram, the agent-based shares and the hysteresis experiment of ``key``."""
    key, rule = resolve_param(key)
    values = np.asarray(values, dtype=float)
    notes = []
    if scenario.population is not None:
        raise ValueError(f"{scenario.name} describes a population mix; a bifurcation diagram "
                         "needs a couple (partner_a and partner_b)")  # fmt: skip
    if scenario.interventions:
        notes.append("the scenario's interventions are left out of the mean-field model; the "
                     "agent-based runs keep them")  # fmt: skip
    progress("mean field", 0, 3)
    equilibria, regime = mean_field_diagram(scenario, key, values)
    progress("mean field", 1, 3)
    abm = abm_shares(scenario, key, values, couples=couples)
    progress("agent-based runs", 2, 3)
    ramp = hysteresis(scenario, key, values, couples=couples, hold_days=hold_days,
                      progress=progress)  # fmt: skip
    seeker = int(np.argmax(regime["requests"].sum(axis=0)))
    return BifurcationResult(scenario.name, key, rule.title if key in DYNAMICS else
                             f"{'Seeker' if key.startswith('partner_a') else 'Partner'} "
                             f"{key.split('.', 1)[1]} ({key})",
                             values, equilibria, regime, abm, ramp, seeker,
                             int(couples or scenario.couples), scenario.days, hold_days,
                             scenario.seed, notes)  # fmt: skip


def write_bifurcation(target, result: BifurcationResult, scenario, *, argv=None, timings=None,
                      force: bool = False) -> None:  # fmt: skip
    """Write the folder of ``relsim bifurcation`` atomically (``sim.results.atomic_folder``).

    ``bifurcation.png``, ``bifurcation.csv``, ``hysteresis.csv`` and ``manifest.json``.
    """
    from .plots import bifurcation_diagram, save
    from .results import atomic_folder, manifest, write_csv, write_json

    files = ["bifurcation.png", "bifurcation.csv", "hysteresis.csv", "manifest.json"]
    figure = bifurcation_diagram(result)
    with atomic_folder(target, force=force) as folder:
        save(figure, folder / "bifurcation.png")
        header, rows = result.csv_rows()
        write_csv(folder / "bifurcation.csv", header, rows)
        write_csv(
            folder / "hysteresis.csv",
            list(HYSTERESIS_COLUMNS),
            [[row[c] for c in HYSTERESIS_COLUMNS] for row in result.hysteresis],
        )
        extra = {
            "bifurcation": {
                "param": result.key,
                "values": [float(v) for v in result.values],
                "couples_per_value": result.couples,
                "hold_days": result.hold_days,
                "window_days": WINDOW_DAYS,
                "notes": list(result.notes),
            }
        }
        write_json(folder / "manifest.json",
                   manifest(scenario, argv=argv, timings=timings or {}, kind="bifurcation",
                            files=files, extra=extra))  # fmt: skip
