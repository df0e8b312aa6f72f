"""Each experiment command runs end to end on the CPU at the tiny preset, with fixed seeds."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.io

from minigan import evaluate_gaze, turing
from minigan import ablations as ablations_cli
from minigan.experiments.ablation_study import ablation_configs
from minigan.experiments.gaze_eval import GazeEvalConfig, evaluate_refiner
from minigan.simgan import load_refiner, train
from minigan.pipelines.training_data import load_training_data


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A refiner trained for two iterations at the tiny preset: weights, not quality."""
    config, _ = ablation_configs("tiny", device="cpu")
    synthetic, real = load_training_data(config)
    run = train(config, synthetic, real, tmp_path_factory.mktemp("simgan"), progress=False)
    return os.path.join(run, "checkpoints", "last.npz")


def test_evaluate_gaze_prints_the_table_and_writes_its_files(checkpoint, tmp_path, capsys):
    out = tmp_path / "eval"
    assert evaluate_gaze.main(["--refiner", checkpoint, "--preset", "tiny", "--upper-bound",
                               "--out", str(out), "--seed", "1", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    for row in ("| Synthetic Data |", "| Refined Synthetic Data |", "| Perfect refiner",
                "| Photo-style Data (upper bound) |", "Annotation preservation", "Realism"):
        assert row in printed
    report = json.loads((out / "results.json").read_text())
    assert [row["key"] for row in report["gaze"]] == ["synthetic", "refined", "perfect", "photo"]
    assert all(0 <= row["percent_within_7"] <= 100 and row["mean_error"] >= 0
               for row in report["gaze"])
    for name in ("table.md", "cumulative_error.png", "samples.png"):
        assert (out / name).stat().st_size > 0


def test_evaluation_is_reproducible_with_a_fixed_seed(checkpoint):
    config = GazeEvalConfig.preset("tiny", device="cpu", seed=2)
    reports = [evaluate_refiner(load_refiner(checkpoint, "cpu"), config, log=None)
               for _ in range(2)]
    assert reports[0] == reports[1]


def write_mpiigaze_day(path, n, seed):
    rng = np.random.default_rng(seed)
    day = {}
    for side in ("left", "right"):
        gaze = rng.normal(size=(n, 3)) * 0.2 + [0.0, 0.0, -1.0]
        day[side] = {"image": rng.integers(0, 256, (n, 36, 60), dtype=np.uint8),
                     "gaze": gaze / np.linalg.norm(gaze, axis=1, keepdims=True)}
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"data": day})


def test_evaluate_gaze_tests_on_mpiigaze_when_given(checkpoint, tmp_path, capsys):
    write_mpiigaze_day(tmp_path / "mpii" / "p00" / "day01.mat", n=12, seed=0)
    assert evaluate_gaze.main(["--refiner", checkpoint, "--preset", "tiny", "--mpiigaze",
                               str(tmp_path / "mpii"), "--out", str(tmp_path / "eval"),
                               "--device", "cpu"]) == 0
    assert "24 MPIIGaze images" in capsys.readouterr().out


def test_turing_command_writes_a_self_contained_page(checkpoint, tmp_path):
    page = tmp_path / "page.html"
    done = subprocess.run([sys.executable, "-m", "minigan.turing", "--refined",
                           "builtin:synthetic", "--refiner", checkpoint, "--real",
                           "builtin:photo", "--n", "4", "--examples", "2", "--out", str(page),
                           "--device", "cpu"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "4 real and 4 refined" in done.stdout
    html = page.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 8 + 4 and "http" not in html


def test_turing_command_explains_a_bad_source(tmp_path, capsys):
    assert turing.main(["--refined", "nowhere:x", "--real", "builtin:photo", "--n", "2",
                        "--out", str(tmp_path / "p.html")]) == 2
    assert "--refined: unknown data source" in capsys.readouterr().err


def test_ablations_command_tabulates_every_variant(tmp_path, capsys):
    out = tmp_path / "ablations"
    assert ablations_cli.main(["--preset", "tiny", "--lambdas", "0.5", "--out", str(out),
                               "--device", "cpu"]) == 0
    table = (out / "ablations.md").read_text()
    for variant in ("no refiner (synthetic data)", "SimGAN", "no history buffer",
                    "global adversarial loss", "lambda = 0.5"):
        assert f"| {variant} |" in table
    rows = json.loads((out / "ablations.json").read_text())["rows"]
    assert len(rows) == 5 and (out / "no_history_buffer" / "checkpoints" / "last.npz").exists()
    assert "| lambda = 0.5 |" in capsys.readouterr().out
