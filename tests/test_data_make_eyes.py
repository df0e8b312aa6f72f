"""python -m minigan.make_eyes: PNGs + labels.jsonl that read back, and grid PNGs."""
import numpy as np
import pytest
from PIL import Image

from minigan import make_eyes
from minigan.data.eyes import render_eyes
from minigan.data.sources import load_source


def test_writes_pngs_labels_and_a_grid_that_read_back(tmp_path, capsys):
    out = tmp_path / "eyes"
    assert make_eyes.main(["--style", "photo", "--n", "12", "--seed", "3", "--out", str(out),
                           "--grid"]) == 0
    assert len(list(out.glob("0*.png"))) == 12 and (out / "labels.jsonl").exists()
    assert Image.open(out / "grid.png").size == (10 * 111 + 1, 2 * 71 + 1)  # scale 2, 2 rows
    data = load_source(f"folder:{out}")
    expected = render_eyes(12, "photo", seed=3)
    np.testing.assert_allclose(data.labels["gaze"], expected.gaze, atol=1e-6)
    np.testing.assert_allclose(data.images, expected.images, atol=1 / 127.5)
    assert "wrote 12 images" in capsys.readouterr().out


def test_grid_alone_goes_to_the_given_path(tmp_path):
    grid = tmp_path / "figures" / "eyes.png"
    make_eyes.main(["--style", "synthetic", "--n", "100", "--grid", str(grid), "--scale", "1"])
    assert Image.open(grid).size == (10 * 56 + 1, 10 * 36 + 1)


def test_source_conversion_skips_bad_files_when_asked(tmp_path, capsys):
    make_eyes.main(["--n", "3", "--out", str(tmp_path / "a")])
    (tmp_path / "a" / "labels.jsonl").unlink()
    (tmp_path / "a" / "bad.jpg").write_bytes(b"broken")
    assert make_eyes.main(["--source", f"folder:{tmp_path / 'a'}", "--out",
                           str(tmp_path / "b")]) == 2
    assert "bad.jpg" in capsys.readouterr().err and not (tmp_path / "b").exists()
    make_eyes.main(["--source", f"folder:{tmp_path / 'a'}", "--out", str(tmp_path / "b"),
                    "--skip-bad"])
    assert len(list((tmp_path / "b").glob("*.png"))) == 3
    assert "skipped 1 bad file" in capsys.readouterr().err


def test_needs_an_output(capsys):
    with pytest.raises(SystemExit):
        make_eyes.main(["--style", "photo"])
    assert "--out" in capsys.readouterr().err


def test_bench_eyes_reports_both_styles(capsys):
    from minigan import bench_eyes
    assert bench_eyes.main(["--n", "64"]) == 0
    out = capsys.readouterr().out
    assert "synthetic:" in out and "photo:" in out and "CPU s" in out
