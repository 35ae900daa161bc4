"""Parameter recovery: calibrate from targets simulated at known values, and compare.

For each set of true values, every target's published value is the model's own statistic at
those values (same scenario, same seed: common random numbers), with a standard error of 5% of
that value. ``relsim calibrate``'s search and posterior (``sim.calibrate.calibrate``) then fit
the parameters back from those targets alone. The script prints, per parameter, the true and the
fitted value, the error as a share of the parameter's search range, whether the true value lies
in the 95% interval, and the seconds each calibration took. The tolerance is the one the test
(tests/test_calibrate.py) uses: within 10% of the range.

    python benchmarks/parameter_recovery.py [--budget 60] [--sets 3] [--seed 0]

Three parameters with a direct signature each: reassurance frequency (how much the anxious
partner asks), exhaustion rate (how tired the avoidant partner ends) and stress rate (how much a
secure couple asks).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOLERANCE = 0.10  # share of the search range
RANGES = {"reassurance_frequency": (1.0, 12.0), "exhaustion_rate": (0.02, 0.3),
          "stress_rate": (0.1, 2.0)}  # fmt: skip
TRUTHS = (
    {"reassurance_frequency": 3.0, "exhaustion_rate": 0.05, "stress_rate": 0.4},
    {"reassurance_frequency": 8.0, "exhaustion_rate": 0.15, "stress_rate": 1.2},
    {"reassurance_frequency": 5.0, "exhaustion_rate": 0.25, "stress_rate": 0.8},
)
TARGETS = """
[[target]]
name = "anxious-requests"
statistic = "mean"
column = "requests"
style = "anxious"
scenario = "anxious-avoidant"
set = ["couples=60", "days=90"]
value = {anxious-requests}
se = {se:anxious-requests}
source = "simulated"

[[target]]
name = "avoidant-exhaustion"
statistic = "mean"
column = "exhaustion"
style = "avoidant"
scenario = "anxious-avoidant"
set = ["couples=60", "days=90"]
value = {avoidant-exhaustion}
se = {se:avoidant-exhaustion}
source = "simulated"

[[target]]
name = "secure-requests"
statistic = "mean"
column = "requests"
style = "secure"
scenario = "secure-secure"
set = ["couples=60", "days=90"]
value = {secure-requests}
se = {se:secure-requests}
source = "simulated"
"""


def targets_text(values: dict[str, float] | None, seed: int) -> str:
    """The targets file: ``values`` by target name (``None``: placeholders for a first pass)."""
    ranges = ", ".join(f"{k} = [{a!r}, {b!r}]" for k, (a, b) in RANGES.items())
    text = (f"[calibrate]\nparams = {list(RANGES)!r}\nranges = {{ {ranges} }}\nseed = {seed}\n"
            f"replicates = 2\n{TARGETS}").replace("'", '"')  # fmt: skip
    for name in ("anxious-requests", "avoidant-exhaustion", "secure-requests"):
        value = 1.0 if values is None else values[name]
        se = max(abs(value) * 0.05, 1e-3)
        text = text.replace(f"{{se:{name}}}", repr(se)).replace(f"{{{name}}}", repr(value))
    return text


def recover(truth: dict[str, float], *, budget: int, seed: int, folder: Path) -> dict:
    """Simulate targets at ``truth``, calibrate from them; return the fit and its timing."""
    from sim.calibrate import calibrate, evaluate
    from sim.targets import load_targets

    draft = folder / "draft.toml"
    draft.write_text(targets_text(None, seed), encoding="utf-8")
    simulated = evaluate(load_targets(draft), truth)
    path = folder / "targets.toml"
    path.write_text(targets_text(simulated, seed), encoding="utf-8")
    study = folder / "study"
    study.mkdir()
    started = time.perf_counter()
    result = calibrate(load_targets(path), study, budget=budget, seed=seed)
    return {"seconds": time.perf_counter() - started, "fitted": result.fitted(),
            "best_loss": result.best_loss}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=60, help="trials per calibration")
    parser.add_argument("--sets", type=int, default=len(TRUTHS), help="sets of true values")
    parser.add_argument("--seed", type=int, default=0, help="seed of the search")
    args = parser.parse_args(argv)

    from sim.engine import kernel

    kernel.warm_up()
    print(
        f"parameter recovery: {len(RANGES)} parameters, budget {args.budget} trials, "
        f"tolerance {TOLERANCE:.0%} of the range\n"
    )
    print(
        f"  {'set':>3s}  {'parameter':22s} {'true':>8s} {'fitted':>8s} {'error':>7s} "
        f"{'95% interval':>20s}  in  ok"
    )
    passed = total = 0
    for index, truth in enumerate(TRUTHS[: args.sets], start=1):
        with tempfile.TemporaryDirectory() as tmp:
            found = recover(truth, budget=args.budget, seed=args.seed, folder=Path(tmp))
        for name, true in truth.items():
            item = found["fitted"]["params"][name]
            low, high = RANGES[name]
            error = abs(item["fitted"] - true) / (high - low)
            lo, hi = item["interval_95"]
            inside = lo <= true <= hi
            ok = error <= TOLERANCE
            passed += ok
            total += 1
            print(f"  {index:3d}  {name:22s} {true:8.3g} {item['fitted']:8.3g} {error:7.1%} "
                  f"{f'{lo:.3g} to {hi:.3g}':>20s}  {'y' if inside else 'n':>2s}  "
                  f"{'y' if ok else 'n':>2s}")  # fmt: skip
        print(
            f"       best loss {found['best_loss']:.3g}, {found['seconds']:.1f} s, effective "
            f"sample {found['fitted']['posterior']['effective_sample_size']:.1f}"
        )
    print(f"\n{passed} of {total} parameters recovered within {TOLERANCE:.0%} of their range")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
