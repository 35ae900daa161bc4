"""The mean-field model: one couple's expected-value dynamics, as a deterministic daily map.

The agent-based model draws random events every hour for each person (a stressor, a request,
the partner's answer, a gesture of unasked affection), each as ``1.0 * (u < p)`` with a uniform
``u``. The mean-field model runs the kernel's own hour, ``sim.engine.kernel.hour``, on a work table
whose draws read as "the probability of ``u < p``" (:class:`_Expected`), so that every event counts
its probability instead of 0 or 1: a request counts ``p_ask``, an answer ``p_ask * p_answer``, a
rebuff ``p_ask * (1 - p_answer)``, a stressor ``stress_rate * dt``. The rules, their order and
their arguments are the kernel's, line for line; nothing of the model is written twice. Every
rule is linear in its ``happened`` argument, so one mean-field hour is the expected change of
one agent-based hour from the same state, apart from the clipping to [0, 1] and products of
events that exclude each other (an answer and a rebuff of one request), both of second order.
Twenty-four such hours make one day: the *daily map* ``x -> F(x)`` of the 18 live states
(``STATE``, relief to commitment, for both partners; felt security is recomputed from them every
hour).

Its fixed points ``F(x) = x`` are the couple's equilibria, found with ``scipy.optimize.root``
from several starting states and deduplicated; each one's stability comes from the eigenvalues
of the daily map's Jacobian (central finite differences): stable when the spectral radius is
below 1.

Where it departs from the agent-based model, and why:

* **noise**: an agent-based couple is pushed around by chance; near a tipping point chance alone
  can carry it across (or back), so the agent-based share changes gradually where the mean-field
  regime jumps, and a stable equilibrium with a small basin may be left by many couples;
* **discreteness of requests**: a person asks 0 or 1 times an hour, not 0.3 times; relief comes
  in jumps and fades between them, while the mean field gives a steady trickle;
* **Jensen's inequality**: the rules are nonlinear (the logistic urge to ask, products such as
  ``(1 - exhaustion) (1 - withdrawal)``, burnout), so the expected next state of a spread of
  couples is not the next state of the average couple;
* **clipping**: states are clipped to [0, 1] after each event; averaging before clipping differs
  from clipping before averaging near the bounds;
* **one couple, not a population**: the mean field uses the style presets (no jitter), the
  culture's mean expression, a zero appraisal and the mean starting history;
* **no strategies**: interventions are time-limited treatments, so the mean field describes the
  couple without them (a scenario's interventions are ignored, and the note says so);
* **dissolution** is an absorbing event in the agent-based model; the mean field has no event,
  only the rule's condition at the equilibrium (see :func:`regime`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import interventions as iv
from . import outcomes as oc
from .engine import kernel as k
from .engine import rules as r
from .params import DYNAMICS, PERSON

__all__ = [
    "STATE",
    "Equilibrium",
    "MeanField",
    "calm_state",
    "distressed_state",
    "equilibria",
    "equilibria_and_regime",
    "equilibria_many",
    "find_fixed_point",
    "mean_couple",
    "newton",
    "regime",
    "settle",
    "state_index",
]

#: The live states of the daily map, per person: everything from relief to commitment (felt
#: security is not a state of its own: the kernel recomputes it every hour before it is used).
STATE: tuple[str, ...] = k.STATE_VARS[k.RELIEF :]
N_STATE = 2 * len(STATE)
#: The state vector's rows in the kernel's work table: ``W_S + 2 * var + person``, so the vector
#: is ordered ``relief_a, relief_b, habituation_a, ...``.
_ROWS = slice(k.W_S + 2 * k.RELIEF, k.W_S + 2 * len(k.STATE_VARS))


def state_index(name: str, person: int) -> int:
    """Position of ``name`` (one of ``STATE``) of ``person`` (0 = partner A) in a state vector."""
    if name not in STATE:
        raise ValueError(f"unknown mean-field state {name!r}; allowed: {', '.join(STATE)}")
    return 2 * STATE.index(name) + person


# ----------------------------------------------------------------------------------------------
# One hour and one day


class _Chance:
    """Stands for an hour's uniform draw ``u`` in the kernel's code: ``u < p`` gives ``P(u < p)``.

    The kernel decides every event as ``1.0 * (u < p)`` with ``u`` uniform on [0, 1); with this
    object in place of ``u`` the same line gives the event's probability, ``min(max(p, 0), 1)``.
    """

    def __lt__(self, chance):
        return np.clip(chance, 0.0, 1.0)


_CHANCE = _Chance()
_FIRST_DRAW = k.W_U  # the draw rows are the table's last rows: W_U to N_W


class _Expected:
    """The kernel's work table with every draw row (``U``) reading as :class:`_Chance`.

    Handed to ``sim.engine.kernel.hour``, it makes the kernel's own hour the mean-field hour: each
    random event becomes its probability, and nothing of the model is written twice.
    """

    __slots__ = ("table",)

    def __init__(self, table: np.ndarray) -> None:
        self.table = table

    def __getitem__(self, key):
        try:
            if key[0] >= _FIRST_DRAW:  # the kernel's hour reads (row, lanes) with a whole row
                return _CHANCE
        except TypeError:  # a slice of rows
            pass
        return self.table[key]

    def __setitem__(self, key, value) -> None:
        self.table[key] = value


def _hour(W, j, t):
    """Advance lanes ``j`` of work table ``W`` by hour ``t``: the kernel's hour in expectation."""
    k.hour(_Expected(W), j, t)


# ----------------------------------------------------------------------------------------------
# The model


@dataclass
class MeanField:
    """The mean-field daily map of ``m`` couples (lanes), each with its own traits and parameters.

    Build one with :meth:`from_setup` or :func:`mean_couple`. ``template`` is the kernel's work
    table ``(kernel.N_W, m)`` holding the traits, parameters, the run's factors and the day's
    context; ``start`` the starting state of each lane, shape ``(m, N_STATE)``.
    """

    template: np.ndarray
    start: np.ndarray
    notes: tuple[str, ...] = field(default=())

    @property
    def m(self) -> int:
        """Number of lanes (couples, or parameter points)."""
        return self.template.shape[1]

    @classmethod
    def from_arrays(cls, people: Mapping[str, np.ndarray], params: np.ndarray,
                    notes: Sequence[str] = ()) -> MeanField:  # fmt: skip
        """A model from per-person arrays ``(2, m)`` and a parameter matrix ``(len(P_ROWS), m)``.

        ``people`` as for :class:`sim.engine.kernel.Kernel`. Strategy schedules are set to never.
        """
        params = np.array(params, dtype=float)
        for kind in iv.KINDS:
            for what in ("start", "end"):
                params[k.p_row(f"{what}_{kind}")] = iv.NEVER
            params[k.p_row(f"sessions_{kind}")] = 0.0
        m = params.shape[1]
        kern = k.Kernel(people, params, seed=0, days=1)
        lanes = np.arange(m)
        W = k._table(kern.S, kern.P, kern.R, kern.C, lanes)
        k.day_context(W, lanes, 0, 1, 0)
        # The long run: the start's idealisation has faded (``rules.idealization_left``); the
        # walks of outside events, alternatives and the working model stay at their means.
        W[k.X_IDEALIZATION] = 0.0
        start = np.ascontiguousarray(W[_ROWS].T)
        return cls(W, start, tuple(notes))

    @classmethod
    def from_setup(cls, setup) -> MeanField:
        """The mean couple of a :class:`sim.simulation.Setup` (see :func:`mean_couple`)."""
        return mean_couple(setup)

    def lanes(self, index) -> MeanField:
        """The model restricted to lanes ``index`` (an int, slice or index array)."""
        idx = np.atleast_1d(np.arange(self.m)[index])
        return MeanField(self.template[:, idx].copy(), self.start[idx].copy(), self.notes)

    def tiled(self, count: int) -> MeanField:
        """A one-lane model repeated ``count`` times (to evaluate many states of one couple)."""
        if self.m != 1:
            raise ValueError("tiled() needs a one-lane model; use lanes(i) first")
        return MeanField(np.repeat(self.template, count, axis=1),
                         np.repeat(self.start, count, axis=0), self.notes)  # fmt: skip

    def day(self, x: np.ndarray, days: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Apply the daily map ``days`` times to states ``x`` of shape ``(m, N_STATE)``.

        Returns the states after the last day and the expected requests of each person on that
        day, shape ``(m, 2)``.
        """
        W = self.template.copy()
        j = slice(None)
        W[_ROWS] = np.asarray(x, dtype=float).T
        with np.errstate(over="ignore"):
            for day in range(days):
                for p in range(2):
                    W[k.R_REQUESTS_TODAY + p] = 0.0
                for h in range(k.HOURS_PER_DAY):
                    _hour(W, j, day * k.HOURS_PER_DAY + h)
        requests = W[[k.R_REQUESTS_TODAY, k.R_REQUESTS_TODAY + 1]].T.copy()
        return np.ascontiguousarray(W[_ROWS].T), requests

    def trajectory(self, x: np.ndarray | None = None, days: int = 180):
        """Iterate the map ``days`` days from ``x`` (default: the start).

        Returns ``(states, requests)`` of shapes ``(days + 1, m, N_STATE)`` and
        ``(days, m, 2)``: the state at the start of each day (and after the last), the
        expected requests of each day.
        """
        x = self.start if x is None else np.asarray(x, dtype=float)
        states = [x]
        requests = []
        for _ in range(days):
            x, req = self.day(x)
            states.append(x)
            requests.append(req)
        return np.array(states), np.array(requests).reshape(days, self.m, 2)

    def residual(self, x: np.ndarray) -> np.ndarray:
        """``F(x) - x`` for states ``x`` of shape ``(m, N_STATE)``."""
        return self.day(x)[0] - x

    def jacobian(self, x: np.ndarray, step: float = 1e-6) -> np.ndarray:
        """The daily map's Jacobian at state ``x`` (one lane), by central differences.

        Returns an ``(N_STATE, N_STATE)`` matrix ``J[i, j] = dF_i / dx_j``.
        """
        if self.m != 1:
            raise ValueError("jacobian() needs a one-lane model; use lanes(i) first")
        x = np.asarray(x, dtype=float).reshape(N_STATE)
        probes = np.concatenate([x + step * np.eye(N_STATE), x - step * np.eye(N_STATE)])
        out = self.tiled(2 * N_STATE).day(probes)[0]
        return ((out[:N_STATE] - out[N_STATE:]) / (2.0 * step)).T


# ----------------------------------------------------------------------------------------------
# The mean couple of a scenario


def mean_couple(setup, *, lanes: Mapping[str, np.ndarray] | None = None) -> MeanField:
    """The mean-field couple of ``setup`` (a :class:`sim.simulation.Setup`).

    Each partner gets the style's preset anxiety and avoidance (or the setup's override), the
    culture's mean expression and asking norm (or the overrides), a zero appraisal, and the
    couple's mean starting trust, satisfaction and commitment (``start_*``). The dynamics are the
    setup's (its ``relationship`` included). ``lanes`` gives per-lane values, all of one length
    ``m``, by name: a dynamics parameter (``exhaustion_rate``) or a person's trait
    (``partner_a.anxiety``); the model then has ``m`` lanes.
    """
    if setup.population is not None:
        raise ValueError("the mean-field model needs a couple (partner_a and partner_b), not a "
                         "population mix")  # fmt: skip
    lanes = dict(lanes or {})
    sizes = {np.size(v) for v in lanes.values()}
    if len(sizes) > 1:
        raise ValueError("every per-lane value needs the same length")
    m = sizes.pop() if sizes else 1
    people: dict[str, np.ndarray] = {}
    for row, spec in enumerate((setup.partner_a, setup.partner_b)):
        culture = spec.get("culture", setup.culture)
        base = {
            "anxiety": spec["style"].anxiety,
            "avoidance": spec["style"].avoidance,
            "expression": culture.expression_mean,
            "asking_norm": culture.asking_norm,
        }
        for name in PERSON:
            value = spec.get(name, base[name])
            if isinstance(value, np.ndarray):  # per-couple values of a sweep: their mean
                value = float(np.mean(value))
            people.setdefault(name, np.empty((2, m)))[row] = value
    notes = []
    if setup.interventions:
        notes.append("the mean-field model describes the couple without strategies; the "
                     "scenario's interventions are left out")  # fmt: skip
    params = k.default_params(m)
    for name in DYNAMICS:
        value = setup.dynamics_value(name)
        params[k.p_row(name)] = float(np.mean(value)) if isinstance(value, np.ndarray) else value
    for name, values in lanes.items():
        values = np.asarray(values, dtype=float).reshape(m)
        if name in DYNAMICS:
            params[k.p_row(name)] = values
        elif name.startswith(("partner_a.", "partner_b.")) and name.split(".", 1)[1] in PERSON:
            people[name.split(".", 1)[1]][0 if name.startswith("partner_a.") else 1] = values
        else:
            raise ValueError(f"unknown lane parameter {name!r}; allowed: a dynamics parameter "
                             "or partner_a.<trait> / partner_b.<trait>")  # fmt: skip
    people["appraisal"] = np.zeros((2, m))
    for name in ("trust", "satisfaction", "commitment"):
        people[name] = np.broadcast_to(params[k.p_row(f"start_{name}")], (2, m)).copy()
    return MeanField.from_arrays(people, params, notes)


def calm_state(m: int = 1) -> np.ndarray:
    """A settled, trusting couple: no relief needed, no strain; shape ``(m, N_STATE)``."""
    values = {"relief": 0.0, "habituation": 0.0, "threat": 0.0, "exhaustion": 0.0,
              "withdrawal": 0.0, "closeness": 0.5, "trust": 0.9, "satisfaction": 0.8,
              "commitment": 0.8}  # fmt: skip
    return _state_of(values, m)


def distressed_state(m: int = 1) -> np.ndarray:
    """A couple deep in a spiral: habituated, threatened, exhausted, distrustful."""
    values = {"relief": 0.1, "habituation": 0.8, "threat": 0.5, "exhaustion": 0.9,
              "withdrawal": 0.8, "closeness": 0.1, "trust": 0.1, "satisfaction": 0.2,
              "commitment": 0.3}  # fmt: skip
    return _state_of(values, m)


def _state_of(values: Mapping[str, float], m: int) -> np.ndarray:
    x = np.zeros((m, N_STATE))
    for name in STATE:
        for p in range(2):
            x[:, state_index(name, p)] = values[name]
    return x


# ----------------------------------------------------------------------------------------------
# Equilibria


@dataclass
class Equilibrium:
    """One fixed point of the daily map.

    ``state`` (``N_STATE``), ``requests`` (expected requests a day of each person),
    ``eigenvalues`` of the daily map's Jacobian, ``radius`` (their largest modulus), ``stable``
    (radius below 1), ``residual`` (max-norm of ``F(x) - x``).
    """

    state: np.ndarray
    requests: np.ndarray
    eigenvalues: np.ndarray
    radius: float
    stable: bool
    residual: float

    def value(self, name: str, person: int) -> float:
        """The equilibrium's ``name`` (a ``STATE`` name) of ``person``."""
        return float(self.state[state_index(name, person)])


def newton(model: MeanField, x0: np.ndarray, *, iterations: int = 40, tol: float = 1e-10,
           max_step: float = 0.25) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Solve ``F(x) = x`` in every lane at once by damped Newton steps.

    ``x0`` has shape ``(model.m, N_STATE)``: one start per lane. Each step solves
    ``(J - I) dx = x - F(x)`` with the Jacobian ``J`` of forward differences (all lanes' probes
    in one evaluation of the daily map), caps the step at ``max_step`` per state and keeps the
    states in [0, 1]. Returns the states and a bool array: converged (residual max-norm below
    ``tol``).
    """
    x = np.clip(np.array(x0, dtype=float).reshape(model.m, N_STATE), 0.0, 1.0)
    done = np.zeros(model.m, dtype=bool)
    step = 1e-7
    eye = np.eye(N_STATE)
    for _ in range(iterations):
        todo = np.flatnonzero(~done)
        if todo.size == 0:
            break
        sub = model.lanes(todo)
        probes = x[todo][:, None, :] + np.concatenate([np.zeros((1, N_STATE)), step * eye])
        sub = MeanField(np.repeat(sub.template, N_STATE + 1, axis=1), sub.start)
        out = sub.day(probes.reshape(-1, N_STATE))[0].reshape(todo.size, N_STATE + 1, N_STATE)
        f0 = out[:, 0]
        residual = f0 - x[todo]
        converged = np.max(np.abs(residual), axis=1) < tol
        done[todo[converged]] = True
        jac = np.transpose((out[:, 1:] - f0[:, None, :]) / step, (0, 2, 1)) - eye
        with np.errstate(all="ignore"):
            try:
                dx = np.linalg.solve(jac, -residual[..., None])[..., 0]
            except np.linalg.LinAlgError:
                dx = np.stack([np.linalg.lstsq(a, -b, rcond=None)[0]
                               for a, b in zip(jac, residual, strict=True)])  # fmt: skip
        dx = np.nan_to_num(dx)
        scale = np.maximum(np.max(np.abs(dx), axis=1) / max_step, 1.0)
        moving = todo[~converged]
        x[moving] = np.clip(x[moving] + (dx / scale[:, None])[~converged], 0.0, 1.0)
    final = np.max(np.abs(model.residual(x)), axis=1)
    return x, final < max(tol, 1e-9)


def describe(model: MeanField, x: np.ndarray) -> list[Equilibrium]:
    """Stability and requests of fixed points ``x`` ``(m, N_STATE)``, one per lane of ``model``.

    The Jacobian is taken by central differences, all lanes in one evaluation of the map.
    """
    x = np.asarray(x, dtype=float).reshape(model.m, N_STATE)
    after, requests = model.day(x)
    h = 1e-6
    eye = np.eye(N_STATE)
    probes = np.concatenate([x[:, None, :] + h * eye, x[:, None, :] - h * eye], axis=1)
    wide = MeanField(np.repeat(model.template, 2 * N_STATE, axis=1), model.start)
    out = wide.day(probes.reshape(-1, N_STATE))[0].reshape(model.m, 2 * N_STATE, N_STATE)
    jac = np.transpose((out[:, :N_STATE] - out[:, N_STATE:]) / (2 * h), (0, 2, 1))
    result = []
    for i in range(model.m):
        eigenvalues = np.linalg.eigvals(jac[i])
        radius = float(np.max(np.abs(eigenvalues)))
        result.append(
            Equilibrium(
                x[i].copy(),
                requests[i].copy(),
                eigenvalues,
                radius,
                radius < 1.0,
                float(np.max(np.abs(after[i] - x[i]))),
            )
        )
    return result


def find_fixed_point(model: MeanField, x0: np.ndarray, *, tol: float = 1e-10):
    """Solve ``F(x) = x`` for a one-lane ``model`` from ``x0`` with ``scipy.optimize.root``.

    Returns the state, or ``None`` if the solver did not converge to a point in [0, 1] whose
    residual is below ``1e-8``. (:func:`newton` does the same for many lanes at once.)
    """
    from scipy.optimize import root

    eye = np.eye(N_STATE)

    def fun(x):
        return model.residual(x[None, :])[0], model.jacobian(x) - eye

    with np.errstate(all="ignore"):
        solution = root(fun, np.asarray(x0, dtype=float).reshape(N_STATE), jac=True,
                        method="hybr", options={"xtol": tol})  # fmt: skip
    x = solution.x
    if not np.all(np.isfinite(x)) or x.min() < -1e-9 or x.max() > 1.0 + 1e-9:
        return None
    if np.max(np.abs(model.residual(x[None, :])[0])) > 1e-8:
        return None
    return np.clip(x, 0.0, 1.0)


def settle(model: MeanField, x: np.ndarray | None = None, *, days: int = 400,
           tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Iterate every lane's map from ``x`` (default the start) until it stops moving.

    Stops after ``days`` days or once no state moves more than ``tol`` in a day. Returns the
    states and the expected requests of the last day.
    """
    x = model.start if x is None else np.asarray(x, dtype=float)
    requests = np.zeros((model.m, 2))
    for _ in range(days):
        after, requests = model.day(x)
        moved = np.max(np.abs(after - x))
        x = after
        if moved < tol:
            break
    return x, requests


def _dedupe(points: Sequence[np.ndarray], tol: float = 1e-5) -> list[np.ndarray]:
    kept: list[np.ndarray] = []
    for x in points:
        if all(np.max(np.abs(x - y)) > tol for y in kept):
            kept.append(x)
    return kept


def equilibria_many(model: MeanField, starts: Sequence[np.ndarray] | None = None, *,
                    settle_days: int = 150,
                    boundary_search: bool = True) -> list[list[Equilibrium]]:  # fmt: skip
    """Every equilibrium found for each lane of ``model`` (one list per lane).

    Starts, for each lane: the lane's own start, :func:`calm_state`, :func:`distressed_state`
    and three points between the two, plus ``starts`` (each an ``(m, N_STATE)`` array, e.g. the
    previous parameter value's equilibria). Each start is iterated ``settle_days`` days (which
    finds the attractors) and polished by :func:`newton`; the three in-between points are also
    polished as they are (which can find unstable equilibria). With ``boundary_search``, where a
    lane has two stable equilibria, the point on the segment between them where trajectories
    part is located by bisection and polished: the saddle between two basins lies on that
    boundary. Duplicates (closer than 1e-5) are dropped. Each list is sorted by the first
    person's expected requests.
    """
    return _equilibria(model, starts, settle_days, boundary_search)[0]


def _equilibria(model: MeanField, starts, settle_days: int, boundary_search: bool):
    """:func:`equilibria_many`, and where each lane's own start got after ``settle_days``."""
    m = model.m
    calm, distressed = calm_state(m), distressed_state(m)
    between = [calm + s * (distressed - calm) for s in (0.25, 0.5, 0.75)]
    candidates = [model.start, calm, distressed, *between, *(starts or ())]
    count = len(candidates)
    lanes = np.tile(np.arange(m), count)
    wide = model.lanes(lanes)
    settled, _ = settle(wide, np.concatenate(candidates), days=settle_days)
    polish = np.concatenate([settled, *between])
    owners = np.concatenate([lanes, np.tile(np.arange(m), len(between))])
    found = _solve_distinct(model, owners, polish)
    if boundary_search:
        extra_owner, extra_x = [], []
        for i in range(m):
            stable = [e for e in found[i] if e.stable]
            if len(stable) >= 2 and len(stable) == len(found[i]):  # no saddle found yet
                extra_owner.append(i)
                extra_x.append((stable[0].state, stable[-1].state))
        if extra_owner:
            mids = _boundaries(model.lanes(np.array(extra_owner)), extra_x, settle_days // 2)
            keep = [n for n, mid in enumerate(mids) if mid is not None]
            if keep:
                owners = np.array([extra_owner[n] for n in keep])
                more = _solve_distinct(model, owners, np.array([mids[n] for n in keep]))
                for i in range(m):
                    found[i] = _merge(found[i], more[i])
    ordered = [sorted(f, key=lambda e: (e.requests[0], e.requests[1])) for f in found]
    return ordered, settled[:m]


def _merge(a: list[Equilibrium], b: list[Equilibrium]) -> list[Equilibrium]:
    out = list(a)
    for e in b:
        if all(np.max(np.abs(e.state - f.state)) > 1e-5 for f in out):
            out.append(e)
    return out


def _solve_distinct(model: MeanField, owners: np.ndarray, x0: np.ndarray):
    """Newton from ``x0`` (lane ``owners[n]`` of ``model``); distinct fixed points per lane."""
    per_lane: list[list[np.ndarray]] = [[] for _ in range(model.m)]
    # Starts that settled to the same point need polishing once.
    starts: list[list[np.ndarray]] = [[] for _ in range(model.m)]
    for owner, x in zip(owners, x0, strict=True):
        starts[owner].append(x)
    flat_owner, flat_x = [], []
    for i in range(model.m):
        for x in _dedupe(starts[i], 1e-6):
            flat_owner.append(i)
            flat_x.append(x)
    sub = model.lanes(np.array(flat_owner))
    x, ok = newton(sub, np.array(flat_x))
    for owner, point, good in zip(flat_owner, x, ok, strict=True):
        if good:
            per_lane[owner].append(point)
    out: list[list[Equilibrium]] = [[] for _ in range(model.m)]
    flat_owner, flat_x = [], []
    for i in range(model.m):
        for point in _dedupe(per_lane[i]):
            flat_owner.append(i)
            flat_x.append(point)
    if flat_owner:
        described = describe(model.lanes(np.array(flat_owner)), np.array(flat_x))
        for owner, e in zip(flat_owner, described, strict=True):
            out[owner].append(e)
    return out


def _boundaries(model: MeanField, pairs, days: int, rounds: int = 3, points: int = 9):
    """For each lane and pair ``(a, b)`` of attractors, the point where trajectories part."""
    m = model.m
    lo, hi = np.zeros(m), np.ones(m)
    alive = np.ones(m, dtype=bool)
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    wide = model.lanes(np.repeat(np.arange(m), points))
    for _ in range(rounds):
        s = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, points)[None, :]
        xs = a[:, None, :] + s[..., None] * (b - a)[:, None, :]
        ends, _ = settle(wide, xs.reshape(-1, N_STATE), days=days, tol=1e-8)
        ends = ends.reshape(m, points, N_STATE)
        to_b = (np.linalg.norm(ends - b[:, None], axis=2)
                < np.linalg.norm(ends - a[:, None], axis=2))  # fmt: skip
        for i in range(m):
            if to_b[i].all() or not to_b[i].any():
                alive[i] = False
                continue
            first = int(np.argmax(to_b[i]))
            lo[i], hi[i] = s[i, max(first - 1, 0)], s[i, first]
    half = 0.5 * (lo + hi)
    mids = a + half[:, None] * (b - a)
    return [mids[i] if alive[i] else None for i in range(m)]


def equilibria_and_regime(model: MeanField, *, settle_days: int = 150):
    """:func:`equilibria_many` and :func:`regime` together, sharing the settling from the start."""
    found, settled = _equilibria(model, None, settle_days, True)
    return found, _classify(model, settled)


def equilibria(model: MeanField, starts: Sequence[np.ndarray] = (), **options) -> list[Equilibrium]:
    """Every equilibrium found for a one-lane ``model`` (see :func:`equilibria_many`)."""
    if model.m != 1:
        raise ValueError("equilibria() needs a one-lane model; use lanes(i) first")
    extra = [np.asarray(s, dtype=float).reshape(1, N_STATE) for s in starts]
    return equilibria_many(model, extra, **options)[0]


# ----------------------------------------------------------------------------------------------
# The predicted regime


def regime(model: MeanField, *, settle_days: int = 200) -> dict:
    """The regime each lane's couple ends in, by the rule of ``sim.outcomes``, at the mean field.

    Each lane is iterated from its start for ``settle_days`` days (``settle``) and then polished
    to the equilibrium it is heading for (:func:`newton`, kept only if it is within 0.05 of
    where the trajectory got): that equilibrium stands for the last 30 days of a run, where
    ``outcomes.classify_couples`` reads a couple's end state. Mirroring it:

    * ``dissolved`` if at that equilibrium a partner wants out (``rules.wants_out``): the
      condition would then hold every day and the dissolution rule would fire;
    * ``spiraling`` if a person's expected requests a day at the equilibrium are at least
      ``EXCESSIVE_RATE``, or at least ``SPIRAL_RATE`` while their trust is below
      ``SPIRAL_TRUST`` or the partner's exhaustion is at least ``SPIRAL_EXHAUSTION``;
    * ``other`` otherwise (stable or distant; the mean field does not separate them).

    Returns a dict of arrays over lanes: ``label``, ``requests`` ``(m, 2)``, ``state``
    ``(m, N_STATE)``, ``spiraling_or_dissolved`` (bool).
    """
    x, _ = settle(model, model.start, days=settle_days)
    return _classify(model, x)


def _classify(model: MeanField, x: np.ndarray) -> dict:
    """:func:`regime` from states ``x`` that have settled for a while."""
    y, ok = newton(model, x)
    near = ok & (np.max(np.abs(y - x), axis=1) < 0.05)
    x = np.where(near[:, None], y, x)
    rate = model.day(x)[1]
    P = model.template[k.W_P : k.W_F]
    spiral = np.zeros(model.m, dtype=bool)
    out = np.zeros(model.m, dtype=bool)
    for me, partner in ((0, 1), (1, 0)):
        trust = x[:, state_index("trust", me)]
        exhaustion = x[:, state_index("exhaustion", partner)]
        not_working = (trust < oc.SPIRAL_TRUST) | (exhaustion >= oc.SPIRAL_EXHAUSTION)
        spiral |= (rate[:, me] >= oc.EXCESSIVE_RATE) | ((rate[:, me] >= oc.SPIRAL_RATE)
                                                        & not_working)  # fmt: skip
        out |= (
            r.wants_out(
                x[:, state_index("satisfaction", me)],
                0.0,  # alternatives at their mean: as good as the person usually sees them
                x[:, state_index("commitment", me)],
                P[k.DISSOLUTION_SATISFACTION],
                P[k.DISSOLUTION_COMMITMENT],
            )
            > 0
        )
    label = np.where(out, "dissolved", np.where(spiral, "spiraling", "other"))
    return {"label": label, "requests": rate, "state": x, "spiraling_or_dissolved": out | spiral}
