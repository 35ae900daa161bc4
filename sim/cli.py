"""The ``relsim`` command: run scenarios, sweep parameters, compare, list, open the dashboard.

``main(argv) -> int`` is the whole program; ``entrypoint`` is what ``[project.scripts]`` calls.
Exit status: 0 success, 2 bad input (a message on stderr, nothing written), 1 failure,
130 interrupted. NumPy, Matplotlib, Numba and Mesa are imported inside the commands, so that
``relsim --help`` and ``relsim list`` start quickly.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from . import net

__all__ = ["BadInput", "entrypoint", "main"]

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
#: A progress hook: ``progress(done, total)``.
Progress = Callable[[int, int], None]
#: Set by :func:`entrypoint`: this process is the ``relsim`` program, not a caller of ``main``.
_AS_PROGRAM = False

EXAMPLES = """\
examples:
  relsim list                                   the bundled scenarios
  relsim run anxious-avoidant                   run one, results in results/anxious-avoidant/
  relsim run anxious-avoidant --days 365 --set partner_a.anxiety=0.9
  relsim run my-scenario.toml --out results/mine --force
  relsim compare anxious-avoidant anxious-avoidant-therapy
  relsim sweep phase-anxiety-avoidance --workers 2
  relsim dashboard --port 8765

SCENARIO is a path to a .toml file or the name of a bundled scenario (relsim list);
the file format and every key are described in docs/scenarios.md.
--set takes dotted keys of the scenario file: days=365, partner_a.style=anxious,
dynamics.relief_decay=2, interventions=[{kind="therapy", day=30}].
Exit status: 0 success, 2 bad input (nothing written), 1 failure, 130 interrupted.
"""


SENSITIVITY_EXAMPLE = """\
example:
  relsim sensitivity anxious-avoidant --method morris --samples 10
  writes results/anxious-avoidant-sensitivity/ (sensitivity.csv, sensitivity.png,
  manifest.json); needs SALib (pip install -e ".[sensitivity]" or pip install SALib)
"""


class BadInput(Exception):
    """Something the user gave is not valid; reported on stderr with exit status 2."""


# ----------------------------------------------------------------------------------------------
# Argument parsing


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting, so ``main`` returns a status."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise BadInput(f"{self.prog}: error: {message}")  # argparse's own wording


def _whole(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is too small (at least {low})")
        return value

    parse.__name__ = "whole number"
    return parse


def _scenario_argument(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("scenario", metavar="SCENARIO", help="bundled name or path to a .toml file")


def _set_option(sub: argparse.ArgumentParser, *, dest: str = "overrides",
                example: str = "dynamics.relief_decay=2") -> None:  # fmt: skip
    sub.add_argument("--set", dest=dest, action="append", default=[], metavar="KEY=VALUE",
                     help=f"change one scenario key, e.g. {example} (repeatable)")  # fmt: skip


def _force_option(sub: argparse.ArgumentParser,
                  help: str = "replace an existing results folder") -> None:  # fmt: skip
    sub.add_argument("--force", action="store_true", help=help)


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="relsim",
        description="Simulate reassurance between partners, seen through attachment theory.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"relsim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def scenario_options(sub: argparse.ArgumentParser, *, run_size: bool = True) -> None:
        sub.add_argument("--seed", type=_whole(0), help="seed of the random numbers")
        sub.add_argument("--days", type=_whole(1), help="simulated days")
        if run_size:
            sub.add_argument("--couples", type=_whole(1), help="number of couples")
        _set_option(sub)

    run = commands.add_parser("run", help="run a scenario and write its results folder",
                              description="Run a scenario and write its results folder.",
                              epilog="example: relsim run anxious-avoidant --days 365",
                              formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    _scenario_argument(run)
    run.add_argument("--out", type=Path, metavar="DIR",
                     help="results folder (default results/<scenario name>)")  # fmt: skip
    scenario_options(run)
    _force_option(run)

    sweep = commands.add_parser("sweep", help="run a scenario's [sweep] grid, draw the phase map",
                                description="Run a scenario's [sweep] grid and draw the phase "
                                "diagram.", epilog="example: relsim sweep phase-levers --workers 2",
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    _scenario_argument(sweep)
    sweep.add_argument("--out", type=Path, metavar="DIR",
                       help="results folder (default results/<scenario name>)")  # fmt: skip
    sweep.add_argument("--workers", type=_whole(1), help="local worker processes (default: all "
                       "cores); the result does not depend on it")  # fmt: skip
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on a Dask cluster, e.g. tcp://127.0.0.1:8786")  # fmt: skip
    sweep.add_argument("--resume", action="store_true",
                       help="continue an interrupted sweep from <out>.partial")  # fmt: skip
    scenario_options(sweep, run_size=False)
    _force_option(
        sweep,
        "replace an existing results folder and discard the finished chunks of "
        "an interrupted sweep (<out>.partial)",
    )

    commands.add_parser(
        "list",
        help="list the bundled scenarios",
        description="List the bundled scenarios with their descriptions.",
    )

    compare = commands.add_parser("compare", help="run two scenarios with one seed, side by side",
                                  description="Run two scenarios with a common seed and show "
                                  "their outcomes side by side (nothing is written). --seed, "
                                  "--days, --couples and --set apply to both scenarios.",
                                  epilog="example: relsim compare anxious-avoidant "
                                  "anxious-avoidant-therapy",
                                  formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    compare.add_argument(
        "first", metavar="SCENARIO", help="the first scenario: bundled name or path to a .toml file"
    )
    compare.add_argument(
        "second", metavar="SCENARIO", help="the second scenario, run with the first one's seed"
    )
    scenario_options(compare)

    dashboard = commands.add_parser(
        "dashboard",
        help="open the interactive dashboard",
        description="Serve the Solara dashboard on 127.0.0.1.",
    )
    dashboard.add_argument("--port", type=_whole(1), default=net.DASHBOARD_PORT,
                           help=f"port (default {net.DASHBOARD_PORT})")  # fmt: skip

    sens = commands.add_parser("sensitivity", help="global sensitivity analysis of a scenario",
                               description="Which dynamics parameters and label thresholds matter "
                               "most for the share of\ncouples spiraling or dissolved, for "
                               "satisfaction and for the share distant\n(Sobol or Morris). Needs "
                               "SALib: pip install -e \".[sensitivity]\"\nfrom a relsim "
                               "checkout, or pip install SALib.",
                               epilog=SENSITIVITY_EXAMPLE,
                               formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    _scenario_argument(sens)
    sens.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="results folder (default results/<scenario name>-sensitivity)",
    )
    sens.add_argument(
        "--method",
        choices=("sobol", "morris"),
        default="sobol",
        help="sobol (variance shares, default) or morris (cheaper screening)",
    )
    sens.add_argument("--samples", type=_whole(1),
                      help="base sample size (default 64 for sobol, a power of two; 20 "
                           "trajectories for morris)")  # fmt: skip
    sens.add_argument("--workers", type=_whole(1), help="local worker processes (default 1)")
    sens.add_argument("--couples", type=_whole(1),
                      help="couples per parameter sample (default 16)")  # fmt: skip
    _set_option(sens, dest="set", example="partner_a.anxiety=0.8")
    _force_option(sens)
    gallery = commands.add_parser("gallery", help="redraw the README's and class guide's figures",
                                  description="Redraw the gallery's figures (results/gallery/): "
                                  "fixed scenarios and seeds, so the same pictures.")  # fmt: skip
    gallery.add_argument(
        "--out",
        type=Path,
        default=Path("results") / "gallery",
        metavar="DIR",
        help="folder to write the PNGs into (default results/gallery)",
    )
    gallery.add_argument(
        "--only",
        nargs="+",
        default=(),
        metavar="NAME",
        help="draw only these figures (names in results/gallery/README.md)",
    )
    _calibrate_parser(commands)
    _bifurcation_parser(commands)
    _class_parser(commands)
    return parser


# ----------------------------------------------------------------------------------------------
# Helpers


def _interactive() -> bool:
    """Whether progress bars should be shown (both stdout and stderr are terminals)."""
    return sys.stderr.isatty() and sys.stdout.isatty()


@contextlib.contextmanager
def progress_bar(desc: str, unit: str, *, delay: float = 0.0) -> Iterator[Progress | None]:
    """Yield a hook ``progress(done, total)`` that draws a bar on stderr, or ``None``.

    ``None`` when stdout or stderr is not a terminal (a log file, a test): no bar at all. The
    bar is removed when the block ends, also on an error or Ctrl-C, before any message.
    """
    if not _interactive():
        yield None
        return
    from tqdm import tqdm

    with tqdm(desc=desc, unit=unit, file=sys.stderr, leave=False, delay=delay) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        yield progress


def _load(name: str, args: argparse.Namespace, *, days: bool = True, couples: bool = True):
    """Load a scenario with ``--set`` and the ``--seed``/``--days``/``--couples`` shortcuts."""
    from .scenario import load_scenario

    overrides = list(args.overrides)
    if getattr(args, "seed", None) is not None:
        overrides.append(f"seed={args.seed}")
    if days and getattr(args, "days", None) is not None:
        overrides.append(f"days={args.days}")
    scenario = load_scenario(name, overrides)
    if couples and getattr(args, "couples", None) is not None:
        key = "population.couples" if scenario.population is not None else "couples"
        scenario = load_scenario(name, [*overrides, f"{key}={args.couples}"])
    _say(getattr(scenario, "notes", ()))
    return scenario


def _ignore_further_interrupts() -> None:
    """After a Ctrl-C, ignore the next ones so the goodbye message and exit are not cut short.

    Only when running as the ``relsim`` program (:func:`entrypoint`), never inside a caller's
    process that called :func:`main`.
    """
    import signal
    import threading

    if _AS_PROGRAM and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _say(lines: Sequence[str]) -> None:
    for line in lines:
        print(f"note: {line}", file=sys.stderr)


def _out_dir(args: argparse.Namespace, scenario: Any) -> Path:
    """The results folder: ``--out``, else ``results/<name>``, else the next free numbered one.

    Without ``--out`` a run never fails because an earlier run left its folder: when
    ``results/<name>`` exists (and ``--force`` was not given), the results go to the first free
    ``results/<name>-2``, ``-3``, ... beside it, and a note says so. An explicit ``--out`` that
    exists is refused unless ``--force`` (see :func:`sim.results.check_target`). Debris that an
    interrupted relsim left beside the folder is recovered or removed first, with a note.
    """
    from .results import next_free_sibling, tidy_siblings

    if args.out is not None:
        _say(tidy_siblings(args.out))
        return args.out
    default = Path("results") / scenario.name
    _say(tidy_siblings(default))
    if getattr(args, "force", False) or not (default.exists() or default.is_symlink()):
        return default
    target = next_free_sibling(default)
    _say(tidy_siblings(target))
    print(f"note: {default} already exists; writing to {target} instead (--force replaces "
          f"{default}, --out chooses the folder)", file=sys.stderr)  # fmt: skip
    return target


def simulate_scenario(scenario: Any, *, record_daily: bool = False, progress: bool = False,
                      label: str = "simulating"):  # fmt: skip
    """Run a scenario with ``sim.simulate``, with a progress bar if asked.

    Parameters
    ----------
    scenario : sim.scenario.Scenario
        The scenario to run.
    record_daily : bool
        Keep every couple's daily state.
    progress : bool
        Show a progress bar on stderr (only for runs that take more than a moment).
    label : str
        Text in front of the bar.

    Returns
    -------
    sim.simulation.Result

    """
    from .simulation import simulate

    _prepare_engine()
    setup = scenario.setup()
    if not progress:
        return simulate(setup, record_daily=record_daily)
    from tqdm import tqdm

    with tqdm(total=setup.days, desc=label, unit="day", delay=0.5, file=sys.stderr,
              leave=False) as bar:  # fmt: skip
        return simulate(setup, record_daily=record_daily,
                        progress=lambda done: bar.update(done - bar.n))  # fmt: skip


# ----------------------------------------------------------------------------------------------
# What a run prints

_AS_WORDS = {
    "stable": "stable: close and settled",
    "spiraling": "spiraling: asking more, helped less",
    "distant": "distant: no spiral, but drifting apart",
    "dissolved": "dissolved: the couple split up",
}


def _share(count: int, total: int) -> str:
    return f"{100.0 * count / total:5.1f}%" if total else "  -  "


def _measured(row: dict) -> str:
    value = row["value"]
    if value is None:
        return "n/a"
    return {
        "frequency": f"{value:.2f} requests/day",
        "emotional impact": f"trust ends at {value:.2f}",
        "partner response": f"exhaustion or distance {value:.2f}",
        "long-term outcome": f"{100 * value:.0f}% spiraling or dissolved",
    }.get(row["aspect"], f"{value:.3g}")


def _together_rates(result, trend: str) -> list[str]:
    """A line with the seeker's first- and last-month rates among couples still together.

    A couple that split makes no requests in the months after, which the plain means count as
    0 a day; where some couples split, the same couples' rates among those still together say
    whether asking rose or fell. The trend (``trend``, the request-rate slope) is measured over
    the days each couple was together, so it goes with this line, not with the plain means.
    """
    import numpy as np

    from .outcomes import seeker_partner

    together = np.asarray(result.couples["dissolved_day"]) < 0
    if together.all() or not together.any():
        return []
    first, _ = seeker_partner(result.couples, "request_rate_first_30d")
    last, _ = seeker_partner(result.couples, "request_rate_last_30d")
    return [
        f"    Couples that split count as 0 a day after they split; among the {together.sum()} "
        f"still together: {np.mean(first[together]):.1f} in the first month, "
        f"{np.mean(last[together]):.1f} in the last. {trend}"
    ]


def _number(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def _who(scenario: Any) -> str:
    if scenario.population is not None:
        from .styles import mix_in_words

        return f"people drawn from {mix_in_words(scenario.population['mix'])}, paired at random"
    return f"{scenario.partner_a['style']} partner A with {scenario.partner_b['style']} partner B"


def _report(scenario: Any, result: Any) -> list[str]:
    """Return the lines ``relsim run`` prints about a finished run."""
    from .scenario import printable

    lines = [f"relsim run: {scenario.name}"]
    if scenario.description:
        lines.append(f"  {printable(scenario.description)}")
    lines.append(f"  {scenario.couples} couples ({_who(scenario)}), {scenario.days} days, "
                 f"seed {scenario.seed}")  # fmt: skip
    for item in scenario.interventions:
        lines.append(f"  intervention: {item['kind'].replace('_', ' ')} from day {item['day']}")
    if scenario.overrides:
        lines.append(f"  with changes: {', '.join(scenario.overrides)}")
    total = sum(result.outcomes.values())
    lines += ["", "How the couples ended"]
    for label, count in result.outcomes.items():
        bar = "#" * round(30 * count / total) if total else ""
        lines.append(f"  {_AS_WORDS.get(label, label):40s} {count:6d} {_share(count, total)}  "
                     f"{bar}".rstrip())  # fmt: skip

    lines += ["", "Healthy or excessive reassurance? (the seeker is the partner who asked more)"]
    rows = result.aspects()
    header = ("aspect", "healthy looks like", "excessive looks like", "measured", "verdict")
    table = [header] + [(r["aspect"], r["healthy"], r["excessive"], _measured(r), r["verdict"])
                        for r in rows]  # fmt: skip
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for index, row in enumerate(table):
        lines.append(
            "  "
            + "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        )
        if index == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))

    m = result.headline()
    lines += ["", "In plain words (the seeker asked more; the partner is the one asked)"]
    first_rate = _number(m["seeker_request_rate_first_30d"], ".1f")
    last_rate = _number(m["seeker_request_rate_last_30d"], ".1f")
    slope = _number(m["seeker_request_rate_slope"], "+.2f")
    trend = f"Trend over the days together: {slope} requests a day per month."
    together = _together_rates(result, trend)
    lines.append(
        f"  - The seeker made {first_rate} requests a day in the first month and "
        f"{last_rate} in the last; the partner "
        f"{_number(m['partner_request_rate_last_30d'], '.1f')} in the last."
        + ("" if together else f" {trend}")
    )
    lines += together
    lines.append(
        f"  - After an answer, the seeker's relief took "
        f"{_number(m['seeker_relief_hours_first_30d'], '.1f')} hours to halve at first "
        f"and {_number(m['seeker_relief_hours_last_30d'], '.1f')} hours at the end."
    )
    answered = m["answered_share"]
    warmth = _number(m["seeker_answer_warmth"], ".2f")
    lines.append("  - No one asked for reassurance." if answered is None else
                 f"  - {100 * answered:.0f}% of all requests were answered; the answers the seeker "
                 f"received had warmth {warmth} (1 = fully warm).")  # fmt: skip
    lines.append("  - At the end (0 = none, 1 = full):")
    for who in ("seeker", "partner"):
        lines.append(f"      {who:8s} satisfaction {_number(m[f'{who}_start_satisfaction'], '.2f')}"
                     f" -> {_number(m[f'{who}_satisfaction'], '.2f')}, trust "
                     f"{_number(m[f'{who}_trust'], '.2f')}, exhaustion "
                     f"{_number(m[f'{who}_exhaustion'], '.2f')}, withdrawal "
                     f"{_number(m[f'{who}_withdrawal'], '.2f')}")  # fmt: skip
    effects = result.strategy_effects()
    if effects is not None:
        lines += _treatment_lines(effects)
    return lines


def _treatment_lines(effects: dict) -> list[str]:
    """What a run's strategies did, split into their own mechanism and trait change."""
    points, d = effects["broken_points"], effects["seeker_satisfaction_d"]
    recovered = effects["recovered_share"]
    return [
        "",
        "What the strategies did (same couples without help, common random numbers)",
        f"  - spiraling or dissolved: {100 * effects['broken_share_without']:.0f}% without, "
        f"{100 * effects['broken_share_with']:.0f}% with ({points['total']:+.0f} points: "
        f"{points['own_mechanism']:+.0f} from the strategies' own mechanisms, "
        f"{points['trait_change']:+.0f} from trait change)",
        f"  - seeker's satisfaction, effect size d: {_number(d['total'], '+.2f')} "
        f"({_number(d['own_mechanism'], '+.2f')} own mechanisms, "
        f"{_number(d['trait_change'], '+.2f')} trait change)",
        "  - of the couples broken without help, "
        + ("none were" if recovered is None else f"{100 * recovered:.0f}% are")
        + " stable or distant with it",
    ]


def _files_report(target: Path, per_couple: bool) -> list[str]:
    series = "each couple's day" if per_couple else "population means"
    return [
        "",
        f"Files in {target}/",
        "  figure.png       the overview picture: open this first",
        "  summary.json     the numbers above",
        "  couples.csv      one row per couple (traits, requests, answers, final state, outcome)",
        f"  timeseries.csv   day by day, per partner ({series})",
        "  manifest.json    how this run was made (versions, seed, command line)",
    ]


# ----------------------------------------------------------------------------------------------
# Commands


def _prepare_engine() -> None:
    """Compile the engine up front, saying so, when nothing is cached yet (first run only)."""
    from .engine import kernel

    if kernel.needs_compiling():
        kernel.warm_up()  # says "compiling the simulation engine ..." itself


def _cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .results import PER_COUPLE_TIMESERIES_MAX, check_target, write_run

    scenario = _load(args.scenario, args)
    if scenario.sweep is not None:
        print(f"note: {scenario.name} has a [sweep] table; `relsim run` runs its base scenario "
              f"(use `relsim sweep {args.scenario}` for the grid).", file=sys.stderr)  # fmt: skip
    target = _out_dir(args, scenario)
    check_target(target, force=args.force)
    started = time.perf_counter()
    per_couple = scenario.couples <= PER_COUPLE_TIMESERIES_MAX
    result = simulate_scenario(scenario, record_daily=per_couple, progress=_interactive(),
                               label=scenario.name)  # fmt: skip
    timings = {"simulate_seconds": time.perf_counter() - started}
    write_run(target, result, scenario, argv=list(argv), timings=timings, force=args.force)
    print("\n".join(_report(scenario, result) + _files_report(target, per_couple)))
    return EXIT_OK


#: The files a sweep keeps in ``<out>.partial`` (sim/sweep.py's ``_Checkpoints``): finished
#: chunks and, while one is being written, its temporary file. Nothing else there is deleted.
_CHECKPOINT_NAMES = re.compile(r"chunk-\d+\.npz|\.chunk-\d+\.npz\.[0-9a-f]+\.tmp")


def _checkpoint_files(partial: Path) -> tuple[list[Path], list[str]]:
    """Split ``partial``'s entries into relsim's checkpoint files and the names of the rest."""
    ours, foreign = [], []
    for entry in sorted(partial.iterdir()):
        if _CHECKPOINT_NAMES.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink():
            ours.append(entry)
        else:
            foreign.append(entry.name)
    return ours, foreign


def _remove_checkpoints(partial: Path, chunks: Sequence[Path]) -> None:
    """Delete relsim's checkpoint files, then the folder if that left it empty.

    Anything else in the folder (a user's notes, say) is kept, and so is the folder then.
    """
    for path in chunks:
        path.unlink(missing_ok=True)
    try:
        partial.rmdir()
    except FileNotFoundError:
        pass
    except OSError:
        kept = ", ".join(_checkpoint_files(partial)[1][:5])
        print(f"note: kept {partial}: it holds files relsim did not write ({kept})",
              file=sys.stderr)  # fmt: skip


def _cmd_sweep(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .results import check_target, write_sweep

    scenario = _load(args.scenario, args, couples=False)
    if scenario.sweep is None:
        from .scenario import list_scenarios

        sweeps = ", ".join(s.name for s in list_scenarios() if s.sweep is not None)
        raise BadInput(f"{scenario.source}: has no [sweep] table to run; add one (see "
                       f"docs/scenarios.md) or use a bundled sweep: {sweeps}")  # fmt: skip
    from .sweep import check_sweep_size

    try:  # before any file is touched
        check_sweep_size(scenario)
    except ValueError as error:
        raise BadInput(str(error)) from None
    if args.scheduler is not None and "://" not in args.scheduler and ":" not in args.scheduler:
        raise BadInput(f"--scheduler {args.scheduler!r} is not an address; allowed: "
                       "tcp://host:port or host:port")  # fmt: skip
    target = _out_dir(args, scenario)
    check_target(target, force=args.force)
    partial = target.with_name(target.name + ".partial")
    if partial.is_symlink() or (partial.exists() and not partial.is_dir()):
        raise BadInput(f"{partial} (where an interrupted sweep keeps its finished chunks) is not "
                       "a folder; move it away or choose another --out")  # fmt: skip
    if partial.exists():
        chunks, _ = _checkpoint_files(partial)
        finished = sum(1 for path in chunks if not path.name.startswith("."))
        if not args.resume:
            if finished and not args.force:
                raise BadInput(f"{partial} holds {finished} finished chunks of an interrupted "
                               "sweep; run again with --resume to continue it, or with --force "
                               "to discard them and start over")  # fmt: skip
            _remove_checkpoints(partial, chunks)
            if finished:
                print(f"note: removed {finished} finished chunks of an interrupted sweep from "
                      f"{partial} (--force)", file=sys.stderr)  # fmt: skip
    spec = scenario.sweep
    points = len(spec.x.values) * len(spec.y.values)
    print(f"relsim sweep: {scenario.name}: {len(spec.x.values)} x {len(spec.y.values)} grid, "
          f"{spec.replicates} couples per point ({points * spec.replicates} couples), "
          f"{scenario.days} days, seed {scenario.seed}", flush=True)  # fmt: skip
    if scenario.description:
        from .scenario import printable

        print(f"  {printable(scenario.description)}")
    if scenario.overrides:
        print(f"  with changes: {', '.join(scenario.overrides)}", flush=True)

    from .sweep import CheckpointMismatchError, run_sweep

    _prepare_engine()  # here, not in every worker at once

    started = time.perf_counter()
    try:
        with progress_bar(scenario.name, "chunk", delay=0.5) as progress:
            table = run_sweep(scenario, workers=args.workers, scheduler=args.scheduler,
                              checkpoint_dir=partial, progress=progress)  # fmt: skip
    except CheckpointMismatchError:
        raise BadInput(
            f"{partial} holds chunks of a different sweep (other scenario, seed, "
            "days or grid), so --resume cannot continue it; run without --resume and "
            "with --force to discard them, or choose another --out"
        ) from None
    except KeyboardInterrupt:
        _ignore_further_interrupts()
        print(f"\ninterrupted: finished chunks are kept in {partial}; run again with --resume "
              "to continue", file=sys.stderr)  # fmt: skip
        raise
    timings = {"sweep_seconds": time.perf_counter() - started}
    extra = {"workers": args.workers, "scheduler": args.scheduler}
    write_sweep(target, table, scenario, argv=list(argv), timings=timings, force=args.force,
                extra=extra)  # fmt: skip
    if partial.is_dir():
        chunks, _ = _checkpoint_files(partial)
        _remove_checkpoints(partial, chunks)
    rows = table.rows
    if rows:
        share = "share_spiraling_or_dissolved"
        worst = max(rows, key=lambda row: row.get(share, 0.0))
        best = min(rows, key=lambda row: row.get(share, 0.0))
        print(f"  share spiraling or dissolved ranges from {100 * best[share]:.0f}% "
              f"({spec.x.param} = {best[spec.x.param]:g}, {spec.y.param} = "
              f"{best[spec.y.param]:g}) to {100 * worst[share]:.0f}% "
              f"({spec.x.param} = {worst[spec.x.param]:g}, {spec.y.param} = "
              f"{worst[spec.y.param]:g})")  # fmt: skip
    print(
        f"\nFiles in {target}/\n"
        "  phase_diagram.png  share of couples spiraling or dissolved: open this first\n"
        "  sweep.csv          one row per grid point: swept values, outcome shares, means\n"
        "  manifest.json      how this sweep was made (versions, seed, command line)"
    )
    return EXIT_OK


def _cmd_list(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .scenario import list_scenarios, printable

    scenarios = list_scenarios()
    width = max(len(s.name) for s in scenarios)
    print("Bundled scenarios (relsim run NAME; sweeps: relsim sweep NAME):\n")
    for scenario in scenarios:
        tag = " [sweep]" if scenario.sweep is not None else ""
        print(f"  {scenario.name:{width}s}  {printable(scenario.description)}{tag}")
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    first = _load(args.first, args)
    second = _load(args.second, args)
    if args.seed is None and second.seed != first.seed:
        from .scenario import load_scenario

        # Common random numbers: both scenarios use the first one's seed, so that they differ
        # only by what the files change.
        second = load_scenario(args.second, [*second.overrides, f"seed={first.seed}"])
    results = [simulate_scenario(s, progress=_interactive(), label=s.name)
               for s in (first, second)]  # fmt: skip
    rows: list[tuple[str, str, str]] = []

    def add(label: str, value: Callable[[Any, Any], str]) -> None:
        rows.append((label, *(value(s, r) for s, r in zip((first, second), results,
                                                          strict=True))))  # fmt: skip

    add("couples", lambda s, r: str(s.couples))
    add("days", lambda s, r: str(s.days))
    add("seed (common)", lambda s, r: str(s.seed))
    add(
        "interventions",
        lambda s, r: (
            ", ".join(f"{i['kind']} from day {i['day']}" for i in s.interventions) or "none"
        ),
    )
    rows.append(("", "", ""))
    for label in results[0].outcomes:
        add(label, lambda s, r, label=label: f"{r.outcomes[label]} "
            f"({_share(r.outcomes[label], s.couples).strip()})")  # fmt: skip
    rows.append(("", "", ""))
    for index, aspect in enumerate(results[0].aspects()):
        add(aspect["aspect"], lambda s, r, i=index: f"{_measured(r.aspects()[i])}, "
            f"{r.aspects()[i]['verdict']}")  # fmt: skip
    rows.append(("", "", ""))
    words = {
        "seeker_request_rate_first_30d": ("seeker: requests/day, first month", ".2f"),
        "seeker_request_rate_last_30d": ("seeker: requests/day, last month", ".2f"),
        "seeker_relief_hours_first_30d": ("seeker: hours for relief to halve, first month", ".1f"),
        "seeker_relief_hours_last_30d": ("seeker: hours for relief to halve, last month", ".1f"),
        "answered_share": ("share of requests answered", ".0%"),
        "seeker_answer_warmth": ("warmth of the answers the seeker got", ".2f"),
        "seeker_satisfaction": ("seeker: satisfaction at the end", ".2f"),
        "partner_satisfaction": ("partner: satisfaction at the end", ".2f"),
        "seeker_trust": ("seeker: trust at the end", ".2f"),
        "partner_exhaustion": ("partner: exhaustion at the end", ".2f"),
        "partner_withdrawal": ("partner: withdrawal at the end", ".2f"),
    }
    for key, (label, fmt) in words.items():
        add(label, lambda s, r, key=key, fmt=fmt: _number(r.headline()[key], fmt))
    header = ("", first.name, second.name)
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(3)]
    print(f"relsim compare (common seed {first.seed}, {first.days} days)\n")
    for row in (header, *rows):
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for scenario, result in zip((first, second), results, strict=True):
        effects = result.strategy_effects()
        if effects is not None:
            print(f"\n{scenario.name}:\n" + "\n".join(_treatment_lines(effects)[1:]))
    return EXIT_OK


def _cmd_dashboard(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .app import serve

    _prepare_engine()  # before the browser opens, not on the first click
    result = serve(port=args.port)
    return int(result) if isinstance(result, int) else EXIT_OK


def _cmd_sensitivity(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .sensitivity import analyse_scenario

    given = {} if args.couples is None else {"couples_per_sample": args.couples}
    return analyse_scenario(args.scenario, out=args.out, method=args.method,
                            samples=args.samples, workers=args.workers or 1, settings=args.set,
                            force=args.force, **given)  # fmt: skip


def _cmd_gallery(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .gallery import make_gallery

    try:
        make_gallery(args.out, args.only)
    except ValueError as error:  # an unknown figure name; nothing drawn
        raise BadInput(str(error)) from None
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, Sequence[str]], int]] = {
    "run": _cmd_run,
    "sweep": _cmd_sweep,
    "list": _cmd_list,
    "compare": _cmd_compare,
    "dashboard": _cmd_dashboard,
    "sensitivity": _cmd_sensitivity,
    "gallery": _cmd_gallery,
}


# ----------------------------------------------------------------------------------------------
# relsim calibrate (the procedure is in sim/calibrate.py, the targets file format in
# sim/targets.py)


def _calibrate_parser(commands: Any) -> None:
    sub = commands.add_parser(
        "calibrate", help="fit dynamics parameters to published findings",
        description="Fit dynamics parameters to the targets of a TOML file (published "
        "findings, each a statistic\nmeasured on a scenario) with Optuna, and estimate their "
        "uncertainty. Needs optuna and scipy:\npip install -e \".[calibrate]\". The targets "
        "format: README, \"Calibrate against your own data\".",
        epilog="examples:\n  relsim calibrate calibration/literature.toml --budget 40\n"
        "  relsim calibrate my-targets.toml --params seek_threshold,exhaustion_rate\n"
        "  relsim calibrate my-targets.toml --out results/cal --resume --budget 200\n"
        "writes <out>/study.sqlite and <out>/report/ (fit.png, fitted.json, targets.csv, ...)",
        formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub.add_argument("targets", metavar="TARGETS", help="targets file (.toml)")
    sub.add_argument(
        "--params",
        metavar="NAME,...",
        help="dynamics parameters or label thresholds to fit (default: [calibrate] params of "
        "the file)",
    )
    sub.add_argument(
        "--budget",
        type=_whole(1),
        default=50,
        metavar="N",
        help="finished trials the study should hold (default 50)",
    )
    sub.add_argument(
        "--workers",
        type=_whole(1),
        default=1,
        metavar="N",
        help="trials evaluated at a time, in local processes or on --scheduler "
        "(default 1); the result depends on N, not on where trials ran",
    )
    sub.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the simulations on a Dask cluster, e.g. tcp://127.0.0.1:8786",
    )
    sub.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default results/calibrate-<targets file name>)",
    )
    sub.add_argument("--resume", action="store_true",
                     help="continue the study in <out>/study.sqlite, or join it as another "
                          "worker")  # fmt: skip
    sub.add_argument(
        "--seed",
        type=_whole(0),
        metavar="N",
        help="seed of the search (default: [calibrate] seed of the file, else 0)",
    )


def _cmd_calibrate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .calibrate import main as calibrate_main
    from .targets import TargetsError

    try:
        return calibrate_main(args, argv)
    except TargetsError as error:
        raise BadInput(str(error)) from None
    except KeyboardInterrupt:  # the study keeps its finished trials (said by calibrate_main)
        _ignore_further_interrupts()
        return EXIT_INTERRUPTED


COMMANDS["calibrate"] = _cmd_calibrate


# ----------------------------------------------------------------------------------------------
# relsim bifurcation (the analysis is in sim/bifurcation.py and sim/meanfield.py)

BIFURCATION_EXAMPLE = """\
examples:
  relsim bifurcation anxious-secure --param exhaustion_rate
  relsim bifurcation anxious-secure --param reassurance_frequency --range 0:16 --steps 25
  relsim bifurcation anxious-avoidant --param partner_a.anxiety --out results/anxiety
writes <out>/bifurcation.png, bifurcation.csv (each mean-field equilibrium and its stability),
hysteresis.csv (the ramp up and down: share spiraling or dissolved, 95% interval), manifest.json
"""


def _bifurcation_parser(commands: Any) -> None:
    sub = commands.add_parser(
        "bifurcation",
        help="tipping points of one parameter: equilibria and hysteresis",
        description="Stable and unstable equilibria of the mean-field model over one parameter, "
        "the agent-based\nshare spiraling or dissolved at each value, and a hysteresis "
        "experiment: one population whose\nparameter is ramped up slowly and then back down.",
        epilog=BIFURCATION_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _scenario_argument(sub)
    sub.add_argument("--param", required=True, metavar="NAME",
                     help="a dynamics parameter (exhaustion_rate, relief_decay, ...) or "
                          "partner_a.anxiety, partner_b.avoidance, ...")  # fmt: skip
    sub.add_argument("--range", dest="value_range", metavar="LOW:HIGH",
                     help="values to sweep (default: the allowed range, for a dynamics "
                          "parameter at most six times its default)")  # fmt: skip
    sub.add_argument(
        "--steps",
        type=_whole(3),
        default=21,
        metavar="N",
        help="values between LOW and HIGH, ends included (default 21, at most 201)",
    )
    sub.add_argument("--couples", type=_whole(1), metavar="N",
                     help="agent-based couples per value and in the ramp (default: the "
                          "scenario's)")  # fmt: skip
    sub.add_argument(
        "--hold-days",
        type=_whole(1),
        default=30,
        metavar="N",
        help="days the ramp holds each value (default 30)",
    )
    sub.add_argument("--seed", type=_whole(0), help="seed of the random numbers")
    _set_option(sub)
    sub.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="results folder (default results/<scenario>-bifurcation-<param>)",
    )
    _force_option(sub)


def _cmd_bifurcation(args: argparse.Namespace, argv: Sequence[str]) -> int:
    import numpy as np

    from . import bifurcation as bf
    from .results import check_target, next_free_sibling, tidy_siblings

    try:
        key, rule = bf.resolve_param(args.param)
        if args.value_range is not None:
            low, high = bf.parse_range(args.value_range, key, rule)
        elif rule.integer:
            raise ValueError(f"{key} is a whole number of {rule.unit}; a bifurcation diagram "
                             "needs a continuous parameter")  # fmt: skip
        else:
            low, high = bf.default_range(key, rule)
    except ValueError as error:
        raise BadInput(str(error)) from None
    if args.steps > 201:
        raise BadInput(f"--steps {args.steps} is too many; allowed: 3 to 201")
    if args.couples is not None and args.couples * args.steps > 200_000:
        raise BadInput(f"--couples {args.couples} x --steps {args.steps} is more than 200000 "
                       "couples; use fewer")  # fmt: skip
    scenario = _load(args.scenario, args, days=False, couples=False)
    if scenario.population is not None:
        raise BadInput(f"{scenario.name} describes a population mix; a bifurcation diagram needs "
                       "a couple (partner_a and partner_b): try anxious-secure")  # fmt: skip
    if args.out is not None:
        _say(tidy_siblings(args.out))
        target = args.out
    else:
        target = Path("results") / f"{scenario.name}-bifurcation-{key}"
        _say(tidy_siblings(target))
        if not args.force and (target.exists() or target.is_symlink()):
            default, target = target, next_free_sibling(target)
            print(f"note: {default} already exists; writing to {target} instead (--force "
                  f"replaces {default}, --out chooses the folder)", file=sys.stderr)  # fmt: skip
    check_target(target, force=args.force)
    values = np.linspace(low, high, args.steps)
    couples = args.couples or scenario.couples
    print(f"relsim bifurcation: {scenario.name}: {key} from {low:g} to {high:g} in "
          f"{args.steps} steps; {couples} couples per value, ramp {args.hold_days} days a step, "
          f"seed {scenario.seed}", flush=True)  # fmt: skip
    _prepare_engine()
    bar = None
    progress = None
    if _interactive():
        from tqdm import tqdm

        bar = tqdm(desc=scenario.name, total=3 + 2 * args.steps, unit="step", file=sys.stderr,
                   leave=False, delay=0.5)  # fmt: skip

        def progress(stage: str, done: int, total: int) -> None:
            bar.set_description(stage)
            bar.n = (3 + done) if stage == "hysteresis" else done
            bar.refresh()

    started = time.perf_counter()
    try:
        result = bf.bifurcation(scenario, key, values, couples=args.couples,
                             hold_days=args.hold_days,
                             **({} if progress is None else {"progress": progress}))  # fmt: skip
    except ValueError as error:
        raise BadInput(str(error)) from None
    finally:
        if bar is not None:
            bar.close()
    _say(result.notes)
    timings = {"bifurcation_seconds": time.perf_counter() - started}
    bf.write_bifurcation(target, result, scenario, argv=list(argv), timings=timings,
                      force=args.force)  # fmt: skip
    bistable = values[result.bistable()]
    if bistable.size:
        print(f"  mean field: two stable states (bistable) for {key} from {bistable.min():g} "
              f"to {bistable.max():g}")  # fmt: skip
    else:
        print(f"  mean field: one stable state at every value of {key} (no bistability)")
    up = {row["value"]: row["share"] for row in result.hysteresis if row["direction"] == "up"}
    down = {row["value"]: row["share"] for row in result.hysteresis
            if row["direction"] == "down"}  # fmt: skip
    gap = max(values, key=lambda v: down[float(v)] - up[float(v)])
    print(
        f"  ramp: largest gap at {key} = {gap:g}: {100 * up[float(gap)]:.0f}% spiraling or "
        f"dissolved on the way up, {100 * down[float(gap)]:.0f}% on the way down"
    )
    print(
        f"\nFiles in {target}/\n"
        "  bifurcation.png  equilibria and the ramp up and down: open this first\n"
        "  bifurcation.csv  one row per equilibrium and value: state, stability, shares\n"
        "  hysteresis.csv   one row per ramp step: value, direction, share and its interval\n"
        "  manifest.json    how this was made (versions, seed, command line)"
    )
    return EXIT_OK


COMMANDS["bifurcation"] = _cmd_bifurcation


# ----------------------------------------------------------------------------------------------
# relsim class (the session's server, board and pair games are in sim/classmode/)

CLASS_EXAMPLE = """\
examples:
  relsim class                                  this machine only (try it out)
  relsim class --host 0.0.0.0 --out lesson-3    the classroom network; folder lesson-3/
prints the students' join address with the class code (and as a QR code) and the teacher's
board link; starting again with the same --out keeps the board (class.sqlite in that folder)
"""


def _class_parser(commands: Any) -> None:
    sub = commands.add_parser(
        "class", help="a class session: students send runs to a shared board, pairs play a couple",
        description="Serve a class session: students join with a class code, send runs to the "
        "teacher's class board\nand play a couple in pairs. Listens on 127.0.0.1 unless --host "
        "says otherwise.", epilog=CLASS_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub.add_argument("--port", type=_whole(1), default=net.CLASS_PORT,
                     help=f"port (default {net.CLASS_PORT})")  # fmt: skip
    sub.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to listen on (default 127.0.0.1, this machine only; "
        "0.0.0.0: every network of this machine, with a warning)",
    )
    sub.add_argument("--out", type=Path, default=Path("class-session"), metavar="DIR",
                     help="session folder (default class-session); an existing session "
                          "carries on")  # fmt: skip


def _cmd_class(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .classmode.server import serve as serve_class
    from .classmode.server import start_problem

    problem = start_problem(args.host, args.port, args.out)
    if problem:
        raise BadInput(problem)
    _prepare_engine()  # before students arrive, not on the first run
    return serve_class(port=args.port, host=args.host, out=args.out)


COMMANDS["class"] = _cmd_class


def _check_threads() -> None:
    """Report a bad ``RELSIM_THREADS`` (the engine's threads) as bad input, before any work."""
    import os

    if os.environ.get("RELSIM_THREADS", "").strip():
        from .engine.kernel import default_threads

        try:
            default_threads()
        except ValueError as error:
            raise BadInput(str(error)) from None


def _check_set_words(argv: Sequence[str]) -> None:
    """``--set KEY VALUE`` (a space for the ``=``) would reach argparse as a stray word."""
    from itertools import pairwise

    for flag, word in pairwise(argv):
        if flag == "--set" and "=" not in word:
            raise BadInput(f"relsim: error: --set takes KEY=VALUE as one word, got {word!r}; "
                           f"for example --set {word}=2 (no spaces around '=')")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``relsim`` command with ``argv`` (default ``sys.argv[1:]``); return the status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    command = argv[0] if argv and argv[0] in COMMANDS else None
    try:
        _check_set_words(argv)
        args = parser.parse_args(argv)
    except BadInput as error:
        print(f"{error}\n(see relsim {command + ' ' if command else ''}--help)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit as done:  # --help and --version
        return int(done.code or 0) if not isinstance(done.code, str) else EXIT_BAD_INPUT
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT

    from .results import OutputError
    from .scenario import ScenarioError

    try:
        _check_threads()
        return COMMANDS[args.command](args, argv)
    except (ScenarioError, BadInput, OutputError) as error:
        print(f"relsim: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _ignore_further_interrupts()
        print("\nrelsim: interrupted; no results folder was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``relsim run ... | head``): nothing to say to it. Later writes to
        # the closed pipe (the interpreter flushes stdout on exit) go to the null device.
        import os

        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())
        except (OSError, ValueError):  # no real descriptor behind sys.stdout (tests)
            pass
        return EXIT_FAILURE
    except ConnectionError as error:
        print(f"relsim: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as error:  # anything else is a bug or a broken environment
        print(f"relsim: failed: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILURE


def entrypoint() -> None:
    """Console-script entry point: exit with :func:`main`'s status."""
    global _AS_PROGRAM
    _AS_PROGRAM = True
    sys.exit(main())
