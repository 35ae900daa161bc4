"""Global sensitivity analysis: sane rankings, determinism, and the command's files and errors.

The runs are tiny (few samples, short runs), so the tests check directions that hold with a wide
margin, not index values: the control parameter, which the model never reads, gets an index of
exactly zero because every sample runs the same couples with the same random draws.
"""

from __future__ import annotations

import csv
import json

import pytest

from sim.sensitivity import CONTROL, OUTPUTS, analyse, analyse_scenario, bands
from sim.simulation import Setup

LEVERS = ["reassurance_frequency", "relief_decay", "exhaustion_rate"]


def _setup():
    return Setup(partner_a={"style": "anxious"}, partner_b={"style": "avoidant"}, couples=12,
                 days=45, seed=4)  # fmt: skip


@pytest.fixture(scope="module")
def sobol_result():
    return analyse(_setup(), method="sobol", samples=8, names=[*LEVERS, "responsiveness"],
                   couples=12)  # fmt: skip


def test_control_ranks_at_the_bottom_and_a_lever_above_it(sobol_result):
    for output in OUTPUTS:
        assert sobol_result.index(output, CONTROL) == 0.0
        ranking = sobol_result.ranking(output)
        above_control = ranking[: ranking.index(CONTROL)]
        assert above_control, f"no parameter beats the control for {output}: {ranking}"
        # Everything the control outranks has no measurable effect either.
        for name in ranking[ranking.index(CONTROL) + 1 :]:
            assert sobol_result.index(output, name) <= 0.0
    assert any(sobol_result.index("mean_satisfaction", lever) > 0 for lever in LEVERS)


def test_same_seed_same_indices(sobol_result):
    again = analyse(_setup(), method="sobol", samples=8, names=[*LEVERS, "responsiveness"],
                    couples=12)  # fmt: skip
    assert again.rows == sobol_result.rows


def test_morris_ranks_the_control_last():
    result = analyse(_setup(), method="morris", samples=4, names=LEVERS, couples=8)
    for output in OUTPUTS:
        assert result.ranking(output)[-1] == CONTROL or result.index(output, CONTROL) == 0.0
        assert result.index(output, CONTROL) == 0.0
    assert result.samples == 4 * (len(LEVERS) + 2)


def test_bands_stay_inside_the_allowed_ranges():
    from sim.sensitivity import analysed_params

    table = analysed_params()  # the dynamics parameters and the label thresholds
    for name, (low, high) in bands().items():
        assert table[name].low <= low < high <= table[name].high, name


@pytest.mark.parametrize(
    ("change", "message"),
    [({"samples": 12}, "power of two"), ({"method": "fast"}, "method"), ({"samples": 1}, "least")],
)
def test_bad_arguments_are_explained(change, message):
    kwargs = {"method": "sobol", "samples": 8, "names": LEVERS, "couples": 4} | change
    with pytest.raises(ValueError, match=message):
        analyse(_setup(), **kwargs)


def _command(tmp_path, **change):
    """Run ``relsim sensitivity`` (the function the CLI calls) on a tiny anxious-avoidant."""
    values = {"scenario": "anxious-avoidant", "out": tmp_path / "sens", "method": "morris",
              "samples": 2, "workers": 1, "force": False,
              "settings": ["days=20", "couples=4"]}  # fmt: skip
    values.update(change)
    return analyse_scenario(**values)


def test_command_writes_table_figure_and_manifest(tmp_path, capsys):
    assert _command(tmp_path) == 0
    folder = tmp_path / "sens"
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "sensitivity.csv",
        "sensitivity.png",
    ]
    with open(folder / "sensitivity.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["output"] for row in rows} == set(OUTPUTS)
    assert {"rank", "parameter", "mu_star", "mu_star_ci"} <= set(rows[0])
    info = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert info["kind"] == "sensitivity" and info["method"] == "morris"
    assert (folder / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    assert "wrote" in printed and f"Files in {folder}/" in printed
    for name in ("sensitivity.png", "sensitivity.csv", "manifest.json"):
        assert f"  {name}" in printed
    # An existing folder is kept unless --force.
    assert _command(tmp_path) == 2
    assert "--force" in capsys.readouterr().err
    assert _command(tmp_path, force=True) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scenario": "no-such-scenario"}, "no-such-scenario"),
        ({"method": "sobol", "samples": 3}, "power of two"),
        ({"settings": ["dynamics.relief_decay=99"]}, "relief_decay"),
    ],
)
def test_command_bad_input_exits_2_without_traceback(tmp_path, capsys, change, message):
    assert _command(tmp_path, **change) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.startswith("relsim: error: ")
    assert not (tmp_path / "sens").exists()


def test_missing_salib_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    import sys

    for name in [m for m in sys.modules if m == "SALib" or m.startswith("SALib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "SALib", None)  # makes ``import SALib...`` fail
    assert _command(tmp_path) == 1
    err = capsys.readouterr().err
    assert err.startswith("relsim: error: SALib is not installed")
    assert 'pip install -e ".[sensitivity]"' in err and "pip install SALib" in err
    assert not (tmp_path / "sens").exists()


def test_help_shows_defaults_an_example_and_the_salib_need(capsys):
    from sim.cli import main as relsim_main
    from sim.sensitivity import DEFAULT_SAMPLES

    assert relsim_main(["sensitivity", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"default {DEFAULT_SAMPLES['sobol']} for sobol" in text
    assert f"{DEFAULT_SAMPLES['morris']} trajectories for morris" in text
    assert "default results/<scenario name>-sensitivity" in text
    assert "example:" in text and "relsim sensitivity anxious-avoidant" in text
    assert "pip install SALib" in text and "sobol (variance shares, default)" in text
