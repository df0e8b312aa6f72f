"""python -m minigan.eye_stats: a statistics table for any source spec, clear errors."""

from minigan import eye_stats
from minigan.data.eyes import render_eyes
from minigan.data.folder import write_folder
from minigan.data.image_statistics import eye_statistics


def test_prints_one_row_per_source_with_the_library_numbers(tmp_path, capsys):
    write_folder(tmp_path, render_eyes(6, "photo", seed=1).images)
    assert eye_stats.main(["builtin:synthetic", f"folder:{tmp_path}", "--n", "20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| builtin:synthetic | 20 |")
    assert lines[3].startswith(f"| folder:{tmp_path} | 6 |")
    expected = eye_statistics(render_eyes(20, "synthetic", seed=0).images)
    assert f"| {expected['sd_of_means']:.3f} |" in lines[2]


def test_bad_specs_give_one_error_line_and_no_traceback(tmp_path, capsys):
    for argv in (["builtin:cartoon"], ["builtin:photo", str(tmp_path / "missing")],
                 [f"folder:{tmp_path}"]):
        assert eye_stats.main(argv) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert len(captured.err.strip().splitlines()) == 1
        assert captured.err.startswith("python -m minigan.eye_stats: error:")
        assert "Traceback" not in captured.err


def test_skip_bad_reads_the_good_files(tmp_path, capsys):
    write_folder(tmp_path, render_eyes(3, "synthetic", seed=0).images)
    (tmp_path / "labels.jsonl").unlink(missing_ok=True)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    assert eye_stats.main([f"folder:{tmp_path}"]) == 2
    assert eye_stats.main([f"folder:{tmp_path}", "--skip-bad"]) == 0
    captured = capsys.readouterr()
    assert "| 3 |" in captured.out and "broken.png" in captured.err
