"""Print the parameter tables of ``sim.params`` as Markdown, for docs/ODD.md.

Run from the repository root: ``python docs/make_param_table.py`` and paste the output into the
"Parameters" section of docs/ODD.md whenever ``sim/params.py`` changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.params import DYNAMICS, INTERVENTIONS, PERSON, RUN, Param

LEVERS = ("reassurance_frequency", "relief_decay", "exhaustion_rate")


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
        name = f"**`{p.name}`** (lever)" if p.name in LEVERS else f"`{p.name}`"
        low, high = _number(p.low, p.integer), _number(p.high, p.integer)
        lines.append(
            f"| {name} | {_number(p.default, p.integer)} | {low} – {high} | {p.unit} "
            f"| {p.meaning} |"
        )
    return "\n".join(lines)


def main() -> int:
    """Print every table of ``sim.params``."""
    print(table(PERSON, "Per person (`[partner_a]`, `[partner_b]`)"))
    print()
    print(table(DYNAMICS, "Dynamics (`[dynamics]`, shared by both partners of a couple)"))
    print()
    print(table(RUN, "Run (top level of a scenario file)"))
    print()
    print("#### Interventions (`[[interventions]]`, `kind` and `day`)")
    print()
    print("| kind | what it does |")
    print("|---|---|")
    for kind, text in INTERVENTIONS.items():
        print(f"| `{kind}` | {text} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
