"""The gallery command regenerates every figure the README and the class guide use."""

from __future__ import annotations

import pathlib

from sim import gallery
from sim.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_gallery_writes_every_figure(tmp_path, capsys):
    assert main(["gallery", "--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.glob("*.png"))
    assert written == sorted(f.filename for f in gallery.FIGURES)
    for path in tmp_path.glob("*.png"):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 10_000  # a drawn figure, not an empty canvas
    assert "wrote" in capsys.readouterr().out


def test_only_draws_the_named_figure(tmp_path):
    assert main(["gallery", "--out", str(tmp_path), "--only", "relief-fading"]) == 0
    assert [p.name for p in tmp_path.glob("*.png")] == ["relief-fading.png"]


def test_unknown_figure_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    assert main(["gallery", "--out", str(tmp_path), "--only", "relief-fadin"]) == 2
    message = capsys.readouterr().err
    assert "unknown gallery figure 'relief-fadin'" in message
    assert "relief-fading" in message  # the allowed names are listed
    assert list(tmp_path.iterdir()) == []


def test_committed_gallery_is_documented_and_small():
    folder = ROOT / "results" / "gallery"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for figure in gallery.FIGURES:
        assert figure.filename in readme
        assert (folder / figure.filename).is_file()
    total = sum(p.stat().st_size for p in folder.glob("*.png"))
    assert total < 2_000_000
