"""The ``relsim`` command: every subcommand, its options and its exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

import sim

#: Options that make any bundled run take well under a second.
TINY = ("--days", "20", "--couples", "10")
RUN_FILES = {"summary.json", "couples.csv", "timeseries.csv", "figure.png", "manifest.json"}
SWEEP_FILES = {"sweep.csv", "phase_diagram.png", "manifest.json"}
#: A 3 x 2 grid with 2 couples per point over 20 days: a sweep that takes a moment.
TINY_SWEEP = ("--days", "20", "--set", "sweep.x.num=3", "--set", "sweep.y.num=2",
              "--set", "sweep.replicates=2")  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "status", "stream", "expected"),
    [
        (["--version"], 0, "out", f"relsim {sim.__version__}"),
        (["--help"], 0, "out", "examples:"),
        (["run", "--help"], 0, "out", "--set KEY=VALUE"),
        (["sweep", "--help"], 0, "out", "--resume"),
        (["compare", "--help"], 0, "out", "common seed"),
        ([], 2, "err", "COMMAND"),
        (["fly"], 2, "err", "invalid choice"),
        (["list"], 0, "out", "anxious-avoidant-therapy"),
        (["list"], 0, "out", "[sweep]"),
    ],
)
def test_simple_commands(relsim, argv, status, stream, expected):
    result = relsim(*argv)
    assert result.status == status
    assert expected in getattr(result, stream)


def test_list_names_every_bundled_scenario(relsim):
    from sim.scenario import list_scenarios

    out = relsim("list").out
    for scenario in list_scenarios():
        assert scenario.name in out
        assert scenario.description in out


def test_run_writes_its_folder_and_reports(relsim, tmp_path):
    out = tmp_path / "run"
    result = relsim("run", "anxious-avoidant", *TINY, "--out", out)
    assert result.status == 0, result.err
    assert {p.name for p in out.iterdir()} == RUN_FILES
    for words in ("How the couples ended", "Healthy or excessive", "In plain words",
                  "frequency", "verdict", f"Files in {out}/", "figure.png"):  # fmt: skip
        assert words in result.out
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["scenario"], summary["days"], summary["couples"]) == (
        "anxious-avoidant",
        20,
        10,
    )
    assert sum(summary["outcomes"].values()) == 10
    assert summary["overrides"] == ["days=20", "couples=10"]
    assert "spiraling or dissolved" in result.out and "% of couples" not in result.out
    assert "withdrawal" in next(line for line in result.out.splitlines()
                                if "exhaustion" in line and "satisfaction" in line)  # fmt: skip


def test_set_overrides_are_recorded_in_order(relsim, tmp_path):
    out = tmp_path / "run"
    result = relsim("run", "anxious-avoidant", *TINY, "--set", "partner_a.anxiety=0.9",
                    "--set", "dynamics.relief_decay=2", "--out", out)  # fmt: skip
    assert result.status == 0, result.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overrides"] == ["partner_a.anxiety=0.9", "dynamics.relief_decay=2",
                                    "days=20", "couples=10"]  # fmt: skip
    assert "with changes: partner_a.anxiety=0.9, dynamics.relief_decay=2" in result.out


def test_no_overrides_gives_an_empty_list(relsim, tmp_path, monkeypatch):
    import sim.results

    titles = []
    monkeypatch.setattr(sim.results, "save_figure", lambda figure, path: path.write_bytes(b""))
    monkeypatch.setattr(
        "sim.plots.run_overview", lambda result, scenario: titles.append(scenario.description)
    )
    out = tmp_path / "run"
    assert relsim("run", "secure-secure", "--out", out).status == 0
    assert json.loads((out / "summary.json").read_text())["overrides"] == []
    assert "(with changes" not in titles[0]
    assert relsim("run", "secure-secure", "--days", "20", "--out", tmp_path / "b").status == 0
    assert titles[1].endswith("(with changes: days=20)")


def test_compare_help_explains_both_positionals(relsim):
    out = relsim("compare", "--help").out
    assert "the first scenario" in out and "apply to both" in out


def test_default_folder_is_results_slash_name(relsim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert relsim("run", "secure-secure", *TINY).status == 0
    assert (tmp_path / "results" / "secure-secure" / "summary.json").is_file()


@pytest.mark.parametrize(
    ("options", "key", "expected"),
    [
        (["--set", "partner_a.anxiety=0.9"], ("partner_a", "anxiety"), 0.9),
        (["--set", "partner_b.style=fearful"], ("partner_b", "style"), "fearful"),
        (["--set", "dynamics.relief_decay=2"], ("dynamics", "relief_decay"), 2.0),
        (["--set", "description=hello"], ("description",), "hello"),
        (["--seed", "99"], ("seed",), 99),
        (["--set", 'interventions=[{kind="therapy", day=5}]'], ("interventions",),
         [{"kind": "therapy", "day": 5}]),
    ],
)  # fmt: skip
def test_overrides_reach_the_manifest(relsim, tmp_path, options, key, expected):
    out = tmp_path / "run"
    result = relsim("run", "anxious-avoidant", "--days", "20", "--couples", "5", *options,
                    "--out", out)  # fmt: skip
    assert result.status == 0, result.err
    value = json.loads((out / "manifest.json").read_text())["scenario"]
    for part in key:
        value = value[part]
    assert value == expected


def test_couples_option_sets_the_population_size(relsim, tmp_path):
    out = tmp_path / "class"
    assert relsim("run", "classroom", *TINY, "--out", out).status == 0
    assert json.loads((out / "summary.json").read_text())["couples"] == 10


def test_existing_folder_is_kept_without_force_and_replaced_with_it(relsim, tmp_path):
    out = tmp_path / "run"
    assert relsim("run", "anxious-secure", *TINY, "--out", out).status == 0
    (out / "mine.txt").write_text("keep me")
    refused = relsim("run", "anxious-secure", *TINY, "--seed", "5", "--out", out)
    assert refused.status == 2
    assert "already exists" in refused.err and "--force" in refused.err
    assert (out / "mine.txt").exists()
    kept = relsim("run", "anxious-secure", *TINY, "--seed", "5", "--out", out, "--force")
    assert kept.status == 2  # --force never deletes a file relsim did not write
    assert "files relsim did not write (mine.txt)" in kept.err
    assert (out / "mine.txt").read_text() == "keep me"
    (out / "mine.txt").unlink()
    replaced = relsim("run", "anxious-secure", *TINY, "--seed", "5", "--out", out, "--force")
    assert replaced.status == 0, replaced.err
    assert json.loads((out / "summary.json").read_text())["seed"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary leftovers


def test_same_seed_gives_the_same_files_byte_for_byte(relsim, tmp_path):
    for name in ("one", "two"):
        assert relsim("run", "anxious-avoidant", *TINY, "--out", tmp_path / name).status == 0
    for file in RUN_FILES - {"manifest.json"}:
        assert (tmp_path / "one" / file).read_bytes() == (tmp_path / "two" / file).read_bytes()
    first, second = (json.loads((tmp_path / n / "manifest.json").read_text())
                     for n in ("one", "two"))  # fmt: skip
    for manifest in (first, second):
        manifest.pop("timings")
        manifest.pop("command")  # the --out folders differ
        manifest.pop("git_commit", None)  # others may commit between the two runs
    assert first == second


def test_manifest_describes_the_run(relsim, tmp_path):
    out = tmp_path / "run"
    assert relsim("run", "anxious-avoidant-therapy", *TINY, "--out", out).status == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["schema_version"] == sim.results.MANIFEST_SCHEMA_VERSION == 3
    assert manifest["version"] == sim.__version__
    assert manifest["command"][:3] == ["relsim", "run", "anxious-avoidant-therapy"]
    assert {"python", "numpy", "matplotlib"} <= set(manifest["versions"])
    assert manifest["scenario"]["interventions"] == [{"kind": "therapy", "day": 60}]
    assert len(manifest["scenario"]["dynamics"]) == len(sim.params.DYNAMICS)
    assert manifest["seed"] == manifest["scenario"]["seed"]
    assert {"simulate_seconds", "write_seconds"} <= set(manifest["timings"])
    if "git_commit" in manifest:
        assert len(manifest["git_commit"]) == 40


@pytest.mark.parametrize(("couples", "rows", "columns"), [
    (10, 20 * 10 * 2, {"couple", "style"}),  # small run: every couple, every day, both partners
    (60, 20 * 2, {"couples_together"}),  # large run: population means per day and partner
])  # fmt: skip
def test_timeseries_rule(relsim, tmp_path, couples, rows, columns):
    out = tmp_path / "run"
    assert relsim("run", "anxious-avoidant", "--days", "20", "--couples", couples,
                  "--out", out).status == 0  # fmt: skip
    lines = (out / "timeseries.csv").read_text().splitlines()
    header = set(lines[0].split(","))
    assert len(lines) - 1 == rows
    assert columns | {"day", "partner", "security", "trust", "requests"} <= header


def test_compare_prints_both_side_by_side(relsim):
    result = relsim("compare", "anxious-avoidant", "anxious-avoidant-therapy", *TINY)
    assert result.status == 0, result.err
    for words in ("anxious-avoidant", "anxious-avoidant-therapy", "common seed 3", "spiraling",
                  "frequency", "therapy from day 60", "trust at the end"):  # fmt: skip
        assert words in result.out


def test_compare_uses_the_first_seed_for_both(relsim):
    # secure-secure has seed 1 and anxious-secure seed 2; both run with seed 1.
    out = relsim("compare", "secure-secure", "anxious-secure", *TINY).out
    seed_row = next(line for line in out.splitlines() if line.strip().startswith("seed"))
    assert seed_row.split()[-2:] == ["1", "1"]


def test_sweep_writes_its_folder(relsim, tmp_path):
    out = tmp_path / "sweep"
    result = relsim("sweep", "phase-levers", *TINY_SWEEP, "--workers", "1", "--out", out)
    assert result.status == 0, result.err
    assert {p.name for p in out.iterdir()} == SWEEP_FILES
    lines = (out / "sweep.csv").read_text().splitlines()
    assert len(lines) == 1 + 3 * 2
    assert lines[0].startswith("dynamics.relief_decay,dynamics.exhaustion_rate,couples")
    assert "share spiraling or dissolved ranges from" in result.out
    assert not (tmp_path / "sweep.partial").exists()  # checkpoints removed on success
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["workers"] == 1


def test_sweep_does_not_depend_on_workers(relsim, tmp_path):
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        assert relsim("sweep", "phase-anxiety-avoidance", *TINY_SWEEP, "--workers", workers,
                      "--out", out).status == 0  # fmt: skip
    one, two = (tmp_path / name / "sweep.csv" for name in ("w1", "w2"))
    assert one.read_bytes() == two.read_bytes()


def test_sweep_resume_reuses_checkpoints(relsim, tmp_path):
    out = tmp_path / "sweep"
    assert relsim("sweep", "phase-levers", *TINY_SWEEP, "--workers", "1", "--out", out).status == 0
    again = relsim("sweep", "phase-levers", *TINY_SWEEP, "--workers", "1", "--out", out,
                   "--resume", "--force")  # fmt: skip
    assert again.status == 0, again.err


def test_ctrl_c_leaves_no_half_written_folder(relsim, tmp_path, monkeypatch):
    import sim.results

    def interrupted(figure, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.results, "save_figure", interrupted)
    result = relsim("run", "anxious-avoidant", *TINY, "--out", tmp_path / "run")
    assert result.status == 130
    assert "interrupted" in result.err
    assert list(tmp_path.iterdir()) == []


def test_a_failure_exits_1_and_writes_nothing(relsim, tmp_path, monkeypatch):
    import sim.results

    def broken(figure, path):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sim.results, "save_figure", broken)
    result = relsim("run", "anxious-avoidant", *TINY, "--out", tmp_path / "run")
    assert result.status == 1
    assert "disk on fire" in result.err and "Traceback" not in result.err
    assert list(tmp_path.iterdir()) == []


def test_dashboard_calls_the_app(relsim, monkeypatch):
    calls = []
    fake = types.ModuleType("sim.app")
    fake.serve = lambda port: calls.append(port)
    monkeypatch.setitem(sys.modules, "sim.app", fake)
    assert relsim("dashboard", "--port", "9123").status == 0
    assert calls == [9123]


def test_sensitivity_hands_its_options_over(relsim, monkeypatch, tmp_path):
    seen = []
    fake = types.ModuleType("sim.sensitivity")
    fake.analyse_scenario = lambda scenario, **options: seen.append((scenario, options)) or 0
    monkeypatch.setitem(sys.modules, "sim.sensitivity", fake)
    status = relsim("sensitivity", "anxious-avoidant", "--method", "morris", "--samples", "8",
                    "--out", tmp_path / "s", "--set", "days=20").status  # fmt: skip
    assert status == 0
    ((scenario, options),) = seen
    assert scenario == "anxious-avoidant"
    assert options == {"out": tmp_path / "s", "method": "morris", "samples": 8, "workers": 1,
                       "settings": ["days=20"], "force": False}  # fmt: skip


def test_gallery_draws_the_named_figure_and_refuses_unknown_names(relsim, monkeypatch, tmp_path):
    import sim.gallery

    drawn = []
    monkeypatch.setattr(sim.gallery, "make_gallery",
                        lambda out, only: drawn.append((out, tuple(only))) or [])  # fmt: skip
    assert relsim("gallery", "--out", tmp_path, "--only", "relief-fading").status == 0
    assert drawn == [(tmp_path, ("relief-fading",))]
    monkeypatch.undo()
    bad = relsim("gallery", "--out", tmp_path, "--only", "relief-fadin")
    assert bad.status == 2 and "unknown gallery figure 'relief-fadin'" in bad.err
    assert list(tmp_path.iterdir()) == []


def test_python_dash_m_sim():
    done = subprocess.run([sys.executable, "-m", "sim", "--version"], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parent.parent,
                          check=False)  # fmt: skip
    assert done.returncode == 0
    assert done.stdout.strip() == f"relsim {sim.__version__}"


def test_interrupted_sweep_keeps_its_checkpoints_for_resume(relsim, tmp_path, monkeypatch):
    import sim.sweep

    def interrupted(scenario, *, checkpoint_dir, **options):
        Path(checkpoint_dir).mkdir()
        (Path(checkpoint_dir) / "chunk-0").write_text("finished chunk")
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.sweep, "run_sweep", interrupted)
    result = relsim("sweep", "phase-levers", *TINY_SWEEP, "--out", tmp_path / "sweep")
    assert result.status == 130
    assert "--resume" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.partial"]


def test_rerun_without_resume_keeps_an_interrupted_sweeps_chunks(relsim, tmp_path):
    out = tmp_path / "sweep"
    partial = tmp_path / "sweep.partial"
    partial.mkdir()
    (partial / "chunk-00000.npz").write_bytes(b"finished chunk")
    refused = relsim("sweep", "phase-levers", *TINY_SWEEP, "--workers", "1", "--out", out)
    assert refused.status == 2
    assert "1 finished chunks" in refused.err and "--resume" in refused.err
    assert "--force" in refused.err
    assert (partial / "chunk-00000.npz").exists() and not out.exists()
    forced = relsim("sweep", "phase-levers", *TINY_SWEEP, "--workers", "1", "--out", out,
                    "--force")  # fmt: skip
    assert forced.status == 0, forced.err
    assert "removed 1 finished chunks" in forced.err
    assert out.is_dir() and not partial.exists()


def test_resume_with_another_sweeps_checkpoints_is_bad_input(relsim, tmp_path):
    from sim.scenario import load_scenario
    from sim.sweep import run_sweep

    partial = tmp_path / "sweep.partial"
    other = load_scenario("phase-levers", ["days=30", "sweep.x.num=3", "sweep.y.num=2",
                                           "sweep.replicates=2"])  # fmt: skip
    run_sweep(other, workers=1, checkpoint_dir=partial)
    result = relsim("sweep", "phase-levers", *TINY_SWEEP, "--workers", "1", "--resume",
                    "--out", tmp_path / "sweep")  # fmt: skip
    assert result.status == 2
    assert result.err.startswith("relsim: error:") and "different sweep" in result.err
    assert "ValueError" not in result.err and "failed" not in result.err


def test_scenario_format_doc_example_loads_and_covers_every_key(tmp_path):
    """docs/scenarios.md (which messages point to) documents every key; its example is valid."""
    import re

    from sim.params import INTERVENTIONS
    from sim.scenario import TOP_LEVEL, load_scenario

    doc = (Path(__file__).resolve().parent.parent / "docs" / "scenarios.md").read_text()
    for key in (*TOP_LEVEL, *INTERVENTIONS, "replicates", "start", "stop", "num", "pairing"):
        assert f"`{key}`" in doc or f"[{key}]" in doc or f"{key} = " in doc, key
    (example,) = re.findall(r"```toml\n(.*?)```", doc, flags=re.S)
    path = tmp_path / "my-scenario.toml"
    path.write_text(example)
    scenario = load_scenario(path)
    assert scenario.name == "anxious-avoidant-talking"
    assert [item["kind"] for item in scenario.interventions] == [
        "communication",
        "consistent_actions",
    ]
    assert scenario.sweep is not None and len(scenario.sweep.x.values) == 11


def test_sweep_without_a_sweep_table_points_to_the_format_doc(relsim):
    result = relsim("sweep", "anxious-avoidant")
    assert result.status == 2
    assert "docs/scenarios.md" in result.err and "ARCHITECTURE" not in result.err


def test_set_with_a_space_for_the_equals_sign_says_how_to_write_it(relsim, tmp_path):
    result = relsim("run", "secure-secure", "--set", "dynamics.relief_decay", "2",
                    "--out", tmp_path / "run")  # fmt: skip
    assert result.status == 2
    assert "--set takes KEY=VALUE as one word" in result.err
    assert "--set dynamics.relief_decay=2" in result.err
    assert "(see relsim run --help)" in result.err
    assert not (tmp_path / "run").exists()


def test_a_misspelt_parameter_gets_its_suggestion_before_the_long_list(relsim, tmp_path):
    result = relsim("run", "secure-secure", "--set", "dynamics.relief_decy=2",
                    "--out", tmp_path / "run")  # fmt: skip
    assert result.status == 2
    message = result.err.splitlines()[0]
    assert "(did you mean 'relief_decay'?); allowed: one of the" in message
    assert "docs/ODD.md section 9" in message
    assert len(message) < 300  # not the hundred names


@pytest.mark.parametrize(("name", "style"), [("preoccupied", "anxious"),
                                             ("Dismissing-Avoidant", "avoidant"),
                                             ("fearful-avoidant", "fearful")])  # fmt: skip
def test_the_literatures_names_of_the_styles_are_understood(relsim, tmp_path, name, style):
    result = relsim("run", "secure-secure", *TINY, "--set", f"partner_b.style={name}",
                    "--out", tmp_path / "run")  # fmt: skip
    assert result.status == 0, result.err
    assert f"secure partner A with {style} partner B" in result.out


def test_a_reader_that_goes_away_gets_no_error_message(relsim, tmp_path, monkeypatch, capsys):
    """``relsim run ... | head``: the closed pipe ends the command quietly, with status 1."""
    import io

    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("sys.stdout", Closed())
    from sim.cli import main

    status = main(["run", "secure-secure", *TINY, "--out", str(tmp_path / "run")])
    assert status == 1
    assert "Broken pipe" not in capsys.readouterr().err
