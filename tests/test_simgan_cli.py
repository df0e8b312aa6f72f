"""The command lines: train_eyes end to end, refine with labels carried over, clear errors."""
import json
import os
import shutil

import numpy as np
import pytest

from minigan import backend, refine, train_eyes
from minigan.data.folder import load_folder, write_folder
from minigan.data.sources import load_source
from minigan.pipelines.refine_dataset import source_chunks
from minigan.simgan import TrainConfig

TINY = ["--steps", "2", "--n", "16", "--batch-size", "4", "--history-batches", "2", "--channels", "4",
        "--blocks", "1", "--discriminator-width", "0.125", "--pretrain-refiner-steps", "1",
        "--pretrain-discriminator-steps", "1", "--sample-every", "1", "--checkpoint-every", "1",
        "--device", "cpu", "--no-progress"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("cli") / "run")
    assert train_eyes.main(TINY + ["--out", out]) == 0
    return out


def error_of(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_train_eyes_writes_a_complete_run_folder(run):
    for name in ("config.json", "log.jsonl", "loss_curve.png", "samples/latest.png",
                 "checkpoints/last.npz"):
        assert os.path.exists(os.path.join(run, name)), name
    config = json.load(open(os.path.join(run, "config.json")))
    assert config["refiner_channels"] == 4 and config["steps"] == 2 and config["n_real"] == 16


def test_train_eyes_resumes_a_run_for_more_steps(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    assert train_eyes.main(["--resume", str(copy), "--steps", "3", "--no-progress"]) == 0
    records = [json.loads(line) for line in open(copy / "log.jsonl")]
    assert [r["step"] for r in records if r["phase"] == "adversarial"] == [1, 2, 3]


def test_the_lesson_preset_is_selectable_and_flags_override_it(tmp_path):
    args = train_eyes.parse_args(["--preset", "lesson", "--steps", "7", "--device", "cpu",
                                  "--out", str(tmp_path / "lesson")])
    config = train_eyes.plan_run(args, "cpu", str(tmp_path / "lesson")).config
    assert config == TrainConfig.lesson_preset(steps=7, device="cpu")


@pytest.mark.parametrize("argv, needle", [
    (["--lr", "-1"], "--lr"), (["--steps", "many"], "--steps"),
    (["--optimizer", "rmsprop"], "--optimizer"), (["--psi", "vgg"], "--psi"),
    (["--device", "tpu"], "--device"), (["--batch-size", "0"], "--batch-size"),
])
def test_bad_flags_are_argparse_errors(argv, needle, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_eyes.main(argv)
    assert exit_info.value.code == 2 and needle in error_of(capsys)


def test_an_odd_batch_size_is_a_one_line_error(capsys, tmp_path):
    assert train_eyes.main(["--batch-size", "5", "--out", str(tmp_path)]) == 2
    assert "--batch-size must be even" in error_of(capsys)


def test_a_missing_data_folder_is_a_one_line_error(capsys, tmp_path):
    missing = str(tmp_path / "nowhere")
    argv = TINY + ["--synthetic", f"folder:{missing}", "--out", str(tmp_path / "o")]
    assert train_eyes.main(argv) == 2
    err = error_of(capsys)
    assert missing in err and "error:" in err


def test_an_unreadable_image_is_named(capsys, tmp_path):
    folder = tmp_path / "real"
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"not a png at all")
    assert train_eyes.main(TINY + ["--real", str(folder), "--out", str(tmp_path / "o")]) == 2
    assert "broken.png" in error_of(capsys)


def test_an_unknown_data_spec_lists_the_accepted_forms(capsys, tmp_path):
    assert train_eyes.main(TINY + ["--real", "flickr:cats", "--out", str(tmp_path / "o")]) == 2
    assert "builtin:photo" in error_of(capsys)


@pytest.mark.skipif(backend.cuda_available(), reason="a GPU is present")
def test_asking_for_cuda_without_a_gpu_is_a_one_line_error(capsys, tmp_path):
    assert train_eyes.main(["--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "cuda" in error_of(capsys)


def test_an_existing_run_is_not_overwritten(run, capsys):
    assert train_eyes.main(TINY + ["--out", run]) == 2
    assert "--resume" in error_of(capsys)


def test_resume_refuses_to_change_the_losses(run, capsys):
    assert train_eyes.main(["--resume", run, "--lam", "3"]) == 2
    assert "cannot change --lam" in error_of(capsys)


def test_refine_carries_folder_labels_over_unchanged(run, tmp_path):
    source = tmp_path / "synthetic"
    data = load_source("builtin:synthetic", n=5, seed=3)
    write_folder(source, data.images, {"gaze": data.labels["gaze"]})
    lines = [json.loads(line) for line in open(source / "labels.jsonl")]
    for line in lines:
        line["subject"] = "p00"  # a non-numeric key travels too
    with open(source / "labels.jsonl", "w") as handle:
        handle.writelines(json.dumps(line) + "\n" for line in lines)
    out = tmp_path / "refined"
    argv = ["--checkpoint", f"{run}/checkpoints/last.npz", "--input", str(source),
            "--out", str(out), "--batch-size", "2", "--device", "cpu", "--no-progress"]
    assert refine.main(argv) == 0
    assert [json.loads(line) for line in open(out / "labels.jsonl")] == lines
    refined = load_folder(str(out))
    assert refined.images.shape == (5, 1, 35, 55)
    np.testing.assert_allclose(refined.labels["gaze"], data.labels["gaze"], atol=1e-6)


@pytest.mark.parametrize("style", ["synthetic", "photo"])
def test_refine_of_builtin_eyes_keeps_the_renderers_labels(run, tmp_path, style):
    """Each style's own geometry: the photo eyes are those of ``make_eyes --style photo``."""
    out = tmp_path / "refined"
    argv = ["--checkpoint", f"{run}/checkpoints/last.npz", "--input", f"builtin:{style}",
            "--n", "5", "--seed", "2", "--out", str(out), "--batch-size", "2", "--no-progress",
            "--device", "cpu"]
    assert refine.main(argv) == 0
    expected = load_source(f"builtin:{style}", n=5, seed=2).labels
    got = load_folder(str(out)).labels
    for key in ("gaze", "pupil_center", "eyelid_landmarks"):
        np.testing.assert_allclose(got[key], expected[key], atol=1e-5)


def test_refine_works_in_chunks():
    sizes = [len(names) for names, _, _ in source_chunks("builtin:synthetic", 4, n=10)]
    assert sizes == [4, 4, 2]


def test_refine_errors_are_one_line(run, tmp_path, capsys):
    assert refine.main(["--checkpoint", str(tmp_path / "none.npz"), "--input", "builtin:synthetic",
                        "--out", str(tmp_path / "o")]) == 2
    assert "none.npz" in error_of(capsys)
    assert refine.main(["--checkpoint", f"{run}/checkpoints/last.npz", "--input",
                        "builtin:synthetic", "--n", "2", "--out", run, "--no-progress"]) == 2
    assert "not empty" in error_of(capsys)
