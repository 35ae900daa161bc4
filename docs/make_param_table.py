"""Write the parameter tables of the model as Markdown, for section 9 of docs/ODD.md.

Run from the repository root whenever ``sim/params.py`` (or the intervention, culture or
relationship constants) change::

    python docs/make_param_table.py            # print the tables
    python docs/make_param_table.py --write    # replace them in docs/ODD.md

The tables sit in docs/ODD.md between the lines ``<!-- param-table:start -->`` and
``<!-- param-table:end -->``; tests/test_odd.py checks that they equal this script's output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim import interventions as iv
from sim.culture import CULTURES
from sim.params import DYNAMICS, INTERVENTIONS, LABEL_THRESHOLDS, PERSON, RUN, Param
from sim.simulation import RELATIONSHIPS

ODD = Path(__file__).resolve().parent / "ODD.md"
START = "<!-- param-table:start -->"
END = "<!-- param-table:end -->"


def _number(value: float, integer: bool) -> str:
    if integer:
        return f"{int(value):,}".replace(",", " ") if value < 2**62 else "2^63 − 1"
    return f"{value:g}"


def table(params: dict[str, Param], title: str) -> str:
    """Return one Markdown table of ``params`` under a level-4 heading ``title``."""
    lines = [
        f"#### {title}",
        "",
        "| parameter | default | range | unit | meaning |",
        "|---|---|---|---|---|",
    ]
    for p in params.values():
        name = f"**`{p.name}`** (lever)" if p.lever else f"`{p.name}`"
        low, high = _number(p.low, p.integer), _number(p.high, p.integer)
        lines.append(
            f"| {name} | {_number(p.default, p.integer)} | {low} – {high} | {p.unit} "
            f"| {p.meaning} |"
        )
    return "\n".join(lines)


def interventions_table() -> str:
    """The five strategies with their default dose and duration and what each does."""
    lines = [
        "#### Interventions (`[[interventions]]`: `kind`, `day`, optional `dose`, `weeks`)",
        "",
        "| kind | default dose (sessions a week) | default weeks | what it does |",
        "|---|---|---|---|",
    ]
    for kind, text in INTERVENTIONS.items():
        lines.append(f"| `{kind}` | {iv.DEFAULT_DOSE[kind]:g} | {iv.DEFAULT_WEEKS[kind]:g} "
                     f"| {text} |")  # fmt: skip
    lines += [
        "",
        "The size of each effect at full benefit is a dynamics parameter (above, from "
        "`awareness_effect` to `fears_trait`): a share removed or added multiplies its quantity "
        "by `1 ∓ effect · gain` (`rules.strategy_scale`); `fears_trait` is the share of "
        "therapy's trait change that `address_fears` brings to anxiety.",
    ]
    return "\n".join(lines)


def cultures_table() -> str:
    """The bundled cultural norms (``sim.culture.CULTURES``)."""
    lines = [
        '#### Cultures (`culture = "name"` at the top level or under a partner)',
        "",
        "| culture | expression mean | expression sd | asking norm |",
        "|---|---|---|---|",
    ]
    for c in CULTURES.values():
        lines.append(f"| `{c.name}` | {c.expression_mean:g} | {c.expression_sd:g} "
                     f"| {c.asking_norm:g} |")  # fmt: skip
    return "\n".join(lines)


def relationships_table() -> str:
    """What ``relationship = "dating"`` or ``"married"`` sets (``RELATIONSHIPS``)."""
    names = sorted({name for values in RELATIONSHIPS.values() for name in values})
    lines = [
        '#### Relationship types (`relationship = "..."`; explicit `[dynamics]` values win)',
        "",
        "| relationship | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|" + "---|" * len(names),
        "| (none) | " + " | ".join(f"{DYNAMICS[n].default:g}" for n in names) + " |",
    ]
    for kind, values in RELATIONSHIPS.items():
        lines.append(f"| `{kind}` | " + " | ".join(f"{values.get(n, DYNAMICS[n].default):g}"
                                                   for n in names) + " |")  # fmt: skip
    return "\n".join(lines)


def markdown() -> str:
    """Every table, as the text that goes between the markers in docs/ODD.md."""
    parts = [
        table(PERSON, "Per person (`[partner_a]`, `[partner_b]`)"),
        table(DYNAMICS, "Dynamics (`[dynamics]`, shared by both partners of a couple)"),
        table(RUN, "Run (top level of a scenario file)"),
        interventions_table(),
        cultures_table(),
        relationships_table(),
        table(
            LABEL_THRESHOLDS,
            "Outcome label thresholds (`[labels]`; applied to the end state, section 8)",
        ),
    ]
    return "\n\n".join(parts) + "\n"


def region(text: str) -> str:
    """The text between the markers in ``text`` (docs/ODD.md); ``ValueError`` if none."""
    if START not in text or END not in text:
        raise ValueError(f"docs/ODD.md lacks the markers {START} and {END}")
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the tables, or with ``--write`` put them into docs/ODD.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the tables in docs/ODD.md")
    args = parser.parse_args(argv)
    text = markdown()
    if not args.write:
        print(text, end="")
        return 0
    odd = ODD.read_text(encoding="utf-8")
    try:
        region(odd)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    head, rest = odd.split(START, 1)
    tail = rest.split(END, 1)[1]
    ODD.write_text(f"{head}{START}\n{text}{END}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
