"""What a user of the long jobs sees and keeps: --help with the values in force, status lines
with an ETA, a summary with averages and paths, snapshots, a log that survives a cut line, no
checkpoint with NaN weights, a divergence advice that works, one process per run folder, and
MINIGAN_DEVICE honoured by the programs."""
import contextlib
import io
import json
import os
import shutil
import signal
import stat

import numpy as np
import pytest

from command_runs import call, held_by_another_process, run, tiny_run_flags, tree
from minigan import ablations, backend, evaluate_gaze, make_eyes, refine, train_eyes
from minigan.data.eyes import render_eyes
from minigan.experiments import ablation_study, gaze_eval
from minigan.pipelines import refine_dataset
from minigan.simgan import TrainConfig, train
from minigan.simgan import trainer as trainer_module
from minigan.simgan.checkpoint import read_checkpoint
from minigan.simgan.run_folder import RunFolder


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A tiny run with two kept snapshots, and what it printed."""
    out = tmp_path_factory.mktemp("finished") / "run"
    argv = tiny_run_flags(steps=4, every=1) + ["--keep-checkpoints", "2", "--status-every", "0",
                                               "--out", str(out)]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        assert train_eyes.main(argv) == 0
    return out, stdout.getvalue(), stderr.getvalue()


def test_help_shows_the_values_of_the_chosen_preset(capsys):
    for preset, steps, batch in (("cpu", 300, 32), ("gpu", 2000, 512)):
        code, out, _ = call(train_eyes.main, ["--preset", preset, "--help"], capsys)
        assert code == 0
        text = " ".join(out.split())
        assert f"--steps N T: iterations of Algorithm 1 in all (default: {steps})" in text
        assert f"--batch-size N b: mini-batch size (even) (default: {batch})" in text
        assert "default: with history)" in text and f"preset {preset}" in text
    _, out, _ = call(evaluate_gaze.main, ["--preset", "tiny", "--help"], capsys)
    assert "--train-n N training eyes per estimator (default: 48)" in " ".join(out.split())
    _, out, _ = call(ablations.main, ["--preset", "tiny", "--help"], capsys)
    text = " ".join(out.split())
    assert "(default: 2)" in text and "--lambdas [X ...] lambda sweep (default: 0.0 0.01" in text
    _, out, _ = call(refine.main, ["--help"], capsys)
    assert "images per chunk (default: 256)" in " ".join(out.split())


def test_help_of_a_resumed_run_shows_that_runs_values(finished, capsys):
    out, _, _ = finished
    _, text, _ = call(train_eyes.main, ["--resume", str(out), "--help"], capsys)
    text = " ".join(text.split())
    assert "(default: 4)" in text and f"the run in {out}" in text
    assert "refiner feature maps (paper: 64) (default: 4)" in text


def test_without_a_bar_plain_status_lines_tell_where_the_run_is(finished):
    _, _, err = finished
    lines = [line for line in err.splitlines() if line.startswith("train: ")]
    assert [line.split(" (")[0] for line in lines[:2]] == ["train: pretrain R 1/2",
                                                           "train: pretrain R 2/2"]
    last = lines[-1]
    assert last.startswith("train: adversarial 4/4 (100% of the job)")
    for part in ("R ", "D ", "acc_real", "img/s", "elapsed", "ETA 0:00"):
        assert part in last


def test_the_summary_gives_averages_time_and_paths(finished):
    out, printed, _ = finished
    assert "mean of the last 4 iterations: realism_loss" in printed
    assert "time: " in printed and "of training steps in all" in printed
    for path in ("samples/latest.png", "loss_curve.png", "checkpoints/last.npz",
                 "checkpoints/iteration_*.npz"):
        assert os.path.join(str(out), path) in printed


def test_snapshots_keep_the_newest_n_and_load_as_refiners(finished):
    out, _, _ = finished
    folder = RunFolder(out)
    assert [os.path.basename(p) for p in folder.snapshots()] == ["iteration_000003.npz",
                                                                  "iteration_000004.npz"]
    meta, _ = read_checkpoint(folder.snapshots()[0])
    assert meta["counters"]["adversarial"] == 3


def test_every_file_of_a_run_has_the_usual_mode(finished):
    out, _, _ = finished
    umask = os.umask(0)
    os.umask(umask)
    for root, _, names in os.walk(out):
        for name in names:
            mode = stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode)
            assert mode == 0o666 & ~umask, (name, oct(mode))


def test_a_cut_last_log_line_is_repaired_on_resume(finished, tmp_path, capsys):
    out, _, _ = finished
    shutil.copytree(out, tmp_path / "run")
    straight = tmp_path / "straight"
    shutil.copytree(out, straight)
    with open(tmp_path / "run" / "log.jsonl", "a") as log:
        log.write('{"refiner_loss": 97.5, "t": 9, "pha')  # a kill in the middle of a line
    for folder in (tmp_path / "run", straight):
        code, _, err = call(train_eyes.main, ["--resume", str(folder), "--steps", "5",
                                              "--no-progress"], capsys)
        assert code == 0, err
    records = [[json.loads(line) for line in open(folder / "log.jsonl")]
               for folder in (tmp_path / "run", straight)]
    strip = [[{k: v for k, v in r.items() if k not in ("images_per_s", "elapsed_s")} for r in log]
             for log in records]
    assert strip[0] == strip[1] and [r["t"] for r in records[0]] == list(range(1, 10))


BOUNDARY_FLAGS = tiny_run_flags(pretrain_r=2, pretrain_d=2, steps=4, every=2) + [
    "--keep-checkpoints", "1"]


@pytest.mark.parametrize("phase, step", [("pretrain_refiner", 2), ("pretrain_discriminator", 2),
                                         ("adversarial", 2), ("adversarial", 4)])
def test_ctrl_c_in_the_last_step_of_a_phase_loses_nothing(phase, step, tmp_path, monkeypatch,
                                                          capsys):
    """The phase's end (its sample grid, checkpoint, snapshot) is written before stopping."""
    assert call(train_eyes.main, BOUNDARY_FLAGS + ["--out", str(tmp_path / "straight")],
                capsys)[0] == 0
    steps = {"pretrain_refiner": "refiner_step", "pretrain_discriminator": "discriminator_step",
             "adversarial": "iteration"}
    original = getattr(trainer_module.Trainer, steps[phase])

    def ctrl_c_in_that_step(self, *args, **kwargs):
        if self.phase == phase and self.counters[phase] == step - 1:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(trainer_module.Trainer, steps[phase], ctrl_c_in_that_step)
    code, _, err = call(train_eyes.main, BOUNDARY_FLAGS + ["--out", str(tmp_path / "run")],
                        capsys)
    last = phase == "adversarial" and step == 4
    assert code == (0 if last else 130), err
    monkeypatch.setattr(trainer_module.Trainer, steps[phase], original)
    if not last:
        assert call(train_eyes.main, ["--resume", str(tmp_path / "run")], capsys)[0] == 0
    assert tree(tmp_path / "run").keys() == tree(tmp_path / "straight").keys()
    for name in tree(tmp_path / "straight"):
        if name.endswith(".png"):
            assert (tmp_path / "run" / name).read_bytes() == \
                (tmp_path / "straight" / name).read_bytes(), name


def test_a_fresh_run_never_writes_into_a_folder_of_other_files(tmp_path):
    """A log.jsonl that is no run's (no config.json beside it) is a user's: left as it was."""
    config = TrainConfig.cpu_preset(steps=1, pretrain_refiner_steps=1,
                                    pretrain_discriminator_steps=0, batch_size=4, history_batches=2,
                                    refiner_channels=4, refiner_blocks=1,
                                    discriminator_width=0.125, device="cpu")
    data = render_eyes(8, "synthetic", seed=0).images, render_eyes(8, "photo", seed=1).images
    (tmp_path / "log.jsonl").write_text('{"t": 1, "phase": "pretrain_refiner"}\n' * 5)
    before = tree(tmp_path)
    with pytest.raises(FileExistsError, match="holds no run, but other files"):
        train(config, *data, tmp_path, progress=None)
    assert tree(tmp_path) == before
    train(config, *data, tmp_path / "run", progress=None)
    assert [json.loads(line)["t"] for line in open(tmp_path / "run" / "log.jsonl")] == [1, 2]


def test_no_checkpoint_holds_weights_that_are_not_finite(tmp_path, monkeypatch, capsys):
    """An update to infinite weights (as --lr inf did) stops the run; the last good checkpoint
    stays, and the printed advice (resume with a smaller --lr) continues from it."""
    out = tmp_path / "run"
    assert train_eyes.main(tiny_run_flags(steps=4, every=2) + ["--out", str(out)]) == 0
    argv = ["--resume", str(out), "--steps", "6", "--no-progress"]
    before = (out / "checkpoints" / "last.npz").read_bytes()
    original = trainer_module.Trainer.iteration

    def poisoned(self):  # the last iteration leaves infinite weights, and the checkpoint follows
        record = original(self)
        if self.counters["adversarial"] == 5:
            for p in self.refiner.parameters():
                p.data = p.data * np.float32(np.inf)
        return record

    monkeypatch.setattr(trainer_module.Trainer, "iteration", poisoned)
    capsys.readouterr()
    code, _, err = call(train_eyes.main, argv, capsys)
    assert code == 1 and "Traceback" not in err
    assert "NaN or infinite" in err and "the last good checkpoint is" in err
    assert (out / "checkpoints" / "last.npz").read_bytes() == before
    advice = err.split("go on with a smaller learning rate: ")[1].split()
    assert advice[3:6] == ["--resume", str(out), "--lr"]
    monkeypatch.setattr(trainer_module.Trainer, "iteration", original)
    code, _, err = call(train_eyes.main, advice[3:] + ["--steps", "6", "--no-progress"], capsys)
    assert code == 0, err
    meta, groups = read_checkpoint(out / "checkpoints" / "last.npz")
    assert meta["config"]["lr"] == float(advice[-1]) and meta["counters"]["adversarial"] == 6
    assert float(groups["refiner_optimizer"]["lr"]) == float(advice[-1])


def test_a_run_folder_trains_in_one_process_at_a_time(finished, tmp_path, capsys):
    out, _, _ = finished
    shutil.copytree(out, tmp_path / "run")
    with held_by_another_process(tmp_path / "run") as pid:
        before = tree(tmp_path / "run")
        code, _, err = call(train_eyes.main, ["--resume", str(tmp_path / "run"), "--steps", "5"],
                            capsys)
        assert code == 2 and f"is in use by another process (pid {pid}, simgan run)" in err
        assert tree(tmp_path / "run") == before
def test_refine_of_a_folder_shows_its_total_and_an_eta(finished, tmp_path, capsys):
    out, _, _ = finished
    assert make_eyes.main(["--n", "5", "--out", str(tmp_path / "eyes")]) == 0
    code, _, err = call(refine.main, ["--checkpoint", str(out / "checkpoints" / "last.npz"),
                                      "--input", str(tmp_path / "eyes"), "--out",
                                      str(tmp_path / "refined"), "--batch-size", "2",
                                      "--no-progress", "--status-every", "0"], capsys)
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("refine: ")]
    assert lines[0].startswith("refine: images 2/5 (40% of the job)") and "ETA" in lines[0]
    assert lines[-1].startswith("refine: images 5/5")


def test_refine_stopped_in_its_very_last_step_is_finished_by_the_same_command(
        finished, tmp_path, monkeypatch, capsys):
    out, _, _ = finished
    argv = ["--checkpoint", str(out / "checkpoints" / "last.npz"), "--input", "builtin:synthetic",
            "--n", "5", "--batch-size", "2", "--no-progress", "--out"]
    assert call(refine.main, argv + [str(tmp_path / "straight")], capsys)[0] == 0
    remove = os.remove

    def stopped_before_the_state_file_goes(path):
        if str(path).endswith(os.path.join("refined", "refine-state.json")):
            raise KeyboardInterrupt
        remove(path)

    monkeypatch.setattr(refine_dataset.os, "remove", stopped_before_the_state_file_goes)
    assert call(refine.main, argv + [str(tmp_path / "refined")], capsys)[0] == 130
    monkeypatch.setattr(refine_dataset.os, "remove", remove)
    code, printed, _ = call(refine.main, argv + [str(tmp_path / "refined")], capsys)
    assert code == 0 and "wrote 5 refined images" in printed
    assert tree(tmp_path / "refined") == tree(tmp_path / "straight")


def test_ablations_stopped_by_ctrl_c_print_how_to_continue_and_skip_finished_work(
        tmp_path, monkeypatch, capsys):
    argv = ["--preset", "tiny", "--lambdas", "0.5", "--variants", "SimGAN", "lambda = 0.5",
            "--out", str(tmp_path / "study"), "--no-progress"]
    evaluate = ablation_study.evaluate_refiner
    calls = []

    def interrupted_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(ablation_study, "evaluate_refiner", interrupted_third)
    code, _, err = call(ablations.main, argv, capsys)
    assert code == 130 and "continue with: python -m minigan.ablations --preset tiny" in err
    trained = []
    train = ablation_study.train
    monkeypatch.setattr(ablation_study, "train",
                        lambda config, *a, **k: trained.append(a[2]) or train(config, *a, **k))
    code, out, _ = call(ablations.main, argv, capsys)
    assert code == 0 and "2 of 3 variants were finished before" in out
    assert [os.path.basename(path) for path in trained] == ["lambda_0.5"]


def test_evaluate_gaze_stopped_goes_on_with_what_it_had_done(finished, tmp_path, monkeypatch,
                                                             capsys):
    out, _, _ = finished
    flags = ["--refiner", str(out / "checkpoints" / "last.npz"), "--preset", "tiny",
             "--upper-bound", "--device", "cpu", "--out"]
    argv = flags + [str(tmp_path / "eval")]
    assert call(evaluate_gaze.main, flags + [str(tmp_path / "straight")], capsys)[0] == 0
    trained, original = [], gaze_eval.train_and_test

    def stop_at_the_second(images, *args, **kwargs):
        trained.append(images)
        if len(trained) == 2:
            raise KeyboardInterrupt
        return original(images, *args, **kwargs)

    monkeypatch.setattr(gaze_eval, "train_and_test", stop_at_the_second)
    code, _, err = call(evaluate_gaze.main, argv, capsys)
    assert code == 130 and "continue with: python -m minigan.evaluate_gaze --refiner" in err
    trained.clear()
    monkeypatch.setattr(gaze_eval, "train_and_test",
                        lambda *a, **k: trained.append(a[0]) or original(*a, **k))
    code, _, _ = call(evaluate_gaze.main, argv, capsys)
    # synthetic was read back; refined, perfect refiner and photo are trained
    assert code == 0 and len(trained) == 3
    assert (tmp_path / "eval" / "results.json").read_text() == \
        (tmp_path / "straight" / "results.json").read_text()


@pytest.mark.skipif(backend.cuda_available(), reason="a GPU is usable here")
def test_minigan_device_cuda_without_a_gpu_stops_at_once(tmp_path):
    done = run("train_eyes", ["--out", "run"], cwd=tmp_path, MINIGAN_DEVICE="cuda")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("python -m minigan.train_eyes: error: MINIGAN_DEVICE 'cuda' was "
                                  "requested but cannot be used")
    assert not (tmp_path / "run").exists()


def test_minigan_device_must_be_a_known_name(tmp_path):
    done = run("train_eyes", ["--out", "run"], cwd=tmp_path, MINIGAN_DEVICE="tpu")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "MINIGAN_DEVICE must be one of auto, cpu, cuda, emulator; got 'tpu'" in done.stderr


def test_minigan_device_cpu_trains_on_the_cpu(tmp_path):
    argv = [a for a in tiny_run_flags() if a not in ("--device", "cpu")] + ["--out", "run"]
    done = run("train_eyes", argv, cwd=tmp_path, MINIGAN_DEVICE="cpu")
    assert done.returncode == 0, done.stderr
    assert "training on cpu (MINIGAN_DEVICE=cpu)" in done.stderr
    assert json.loads((tmp_path / "run" / "config.json").read_text())["device_used"] == "cpu"
