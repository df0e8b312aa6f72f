"""Every command, given each bad input a user may give it, stops with one clear line (naming the
flag, file or value and what was expected), a non-zero exit status and no traceback, and leaves
every file that was already there as it was."""
import shutil
from collections import namedtuple

import numpy as np
import pytest

from command_runs import assert_one_clear_error, call, tiny_run_flags, tree
from minigan import (ablations, backend, bench, bench_eyes, evaluate_gaze, gaze_study,
                     make_eyes, refine, train_eyes, turing)
from minigan.simgan.checkpoint import read_checkpoint, save_checkpoint

PROGRAMS = {"train_eyes": train_eyes, "refine": refine, "make_eyes": make_eyes,
            "evaluate_gaze": evaluate_gaze, "turing": turing, "ablations": ablations,
            "bench": bench, "bench_eyes": bench_eyes, "gaze_study": gaze_study}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Files a user has: two finished runs, eye folders, broken checkpoints, a plain file."""
    root = tmp_path_factory.mktemp("world")
    for name, seed in (("run", "0"), ("other", "1")):
        assert train_eyes.main(tiny_run_flags() + ["--out", str(root / name), "--seed", seed]) == 0
    assert make_eyes.main(["--n", "6", "--out", str(root / "eyes")]) == 0
    shutil.copytree(root / "eyes", root / "broken")
    (root / "broken" / "00002.png").write_bytes(b"this is no PNG")
    checkpoint = (root / "run" / "checkpoints" / "last.npz").read_bytes()
    (root / "random.npz").write_bytes(np.random.default_rng(0).bytes(4000))
    (root / "truncated.npz").write_bytes(checkpoint[:len(checkpoint) // 2])
    np.savez(root / "pickled.npz", meta=np.array([{"a": 1}], dtype=object))
    np.savez(root / "nometa.npz", weights=np.zeros(3))
    meta, groups = read_checkpoint(root / "run" / "checkpoints" / "last.npz")
    groups["refiner"] = {key: np.zeros((2, 2), np.float32) for key in groups["refiner"]}
    groups["refiner_average"] = groups["refiner"]
    save_checkpoint(root / "shapes.npz", meta, groups)
    (root / "file.txt").write_text("a file, not a folder\n")
    (root / "full").mkdir()
    (root / "full" / "mine.txt").write_text("keep me\n")
    (root / "mpii_empty").mkdir()
    return root


def _copy_run(root, work):
    shutil.copytree(root / "run", work / "run")


def _copy_other_checkpoint(root, work):
    _copy_run(root, work)
    shutil.copy(root / "other" / "checkpoints" / "last.npz", work / "run/checkpoints/last.npz")


def _damage_log(root, work):
    _copy_run(root, work)
    lines = (work / "run" / "log.jsonl").read_text().splitlines(keepends=True)
    lines[2] = "not json at all\n"
    (work / "run" / "log.jsonl").write_text("".join(lines))


def _put(name, target):
    def prepare(root, work):
        _copy_run(root, work)
        shutil.copy(root / name, work / "run" / "checkpoints" / target)
    return prepare


def _changed_data(root, work):
    shutil.copytree(root / "eyes", work / "eyes")
    argv = tiny_run_flags() + ["--synthetic", f"folder:{work / 'eyes'}", "--out", str(work / "run")]
    assert train_eyes.main(argv) == 0
    shutil.copy(work / "eyes" / "00001.png", work / "eyes" / "00000.png")


Case = namedtuple("Case", "program argv needle env prepare", defaults=(None, None))
RUN, CKPT = "{work}/run", "{root}/run/checkpoints/last.npz"
CASES = {
    # train_eyes: flags
    "train lr negative": Case("train_eyes", ["--lr", "-1"], "--lr"),
    "train lr inf": Case("train_eyes", ["--lr", "inf"], "--lr"),
    "train lr nan": Case("train_eyes", ["--lr", "nan"], "--lr"),
    "train steps word": Case("train_eyes", ["--steps", "many"], "--steps"),
    "train batch 0": Case("train_eyes", ["--batch-size", "0"], "--batch-size"),
    "train history 0": Case("train_eyes", ["--history-batches", "0"], "--history-batches"),
    "train padding": Case("train_eyes", ["--refiner-padding", "circular"], "--refiner-padding"),
    "train authors on resume": Case("train_eyes", ["--resume", "{root}/run", "--authors-setting"],
                                    "--authors-setting"),
    "train batch odd": Case("train_eyes", ["--batch-size", "5", "--out", "{work}/o"],
                            "--batch-size must be even"),
    "train optimizer": Case("train_eyes", ["--optimizer", "rmsprop"], "--optimizer"),
    "train psi": Case("train_eyes", ["--psi", "vgg"], "--psi"),
    "train seed negative": Case("train_eyes", ["--seed", "-3"], "--seed"),
    "train device flag": Case("train_eyes", ["--device", "tpu"], "--device"),
    "train device env": Case("train_eyes", ["--out", "{work}/o"], "MINIGAN_DEVICE must be one of",
                             env={"MINIGAN_DEVICE": "tpu"}),
    "train resume and out": Case("train_eyes", ["--resume", RUN, "--out", "{work}/o"], "--out",
                                 prepare=_copy_run),
    # train_eyes: folders and files
    "train out is a file": Case("train_eyes", ["--out", "{root}/file.txt"], "--out"),
    "train out under a file": Case("train_eyes", ["--out", "{root}/file.txt/run"], "file.txt"),
    "train out holds a run": Case("train_eyes", ["--out", "{root}/run"], "--resume"),
    "train unknown data": Case("train_eyes", ["--real", "flickr:cats", "--out", "{work}/o"],
                               "--real: unknown data source"),
    "train missing data": Case("train_eyes", ["--synthetic", "folder:{root}/nowhere",
                                              "--out", "{work}/o"], "nowhere"),
    "train broken image": Case("train_eyes", ["--real", "{root}/broken", "--out", "{work}/o"],
                               "00002.png"),
    # train_eyes --resume: what is in the run folder
    "resume no folder": Case("train_eyes", ["--resume", "{root}/nowhere"], "nowhere"),
    "resume no run": Case("train_eyes", ["--resume", "{root}/full"], "holds no run"),
    "resume fewer steps": Case("train_eyes", ["--resume", RUN, "--steps", "2"], "--steps 2",
                               prepare=_copy_run),
    "resume other loss": Case("train_eyes", ["--resume", RUN, "--lam", "3"], "cannot change --lam",
                              prepare=_copy_run),
    "resume random bytes": Case("train_eyes", ["--resume", RUN], "last.npz is not a readable .npz",
                                prepare=_put("random.npz", "last.npz")),
    "resume truncated": Case("train_eyes", ["--resume", RUN], "truncated or corrupt",
                             prepare=_put("truncated.npz", "last.npz")),
    "resume other shapes": Case("train_eyes", ["--resume", RUN, "--steps", "5"],
                                "does not fit the networks",
                                prepare=_put("shapes.npz", "last.npz")),
    "resume other run": Case("train_eyes", ["--resume", RUN, "--steps", "5"],
                             "belongs to another run", prepare=_copy_other_checkpoint),
    "resume changed data": Case("train_eyes", ["--resume", RUN, "--steps", "5"],
                                "synthetic images differ", prepare=_changed_data),
    "resume damaged log": Case("train_eyes", ["--resume", RUN, "--steps", "5"], "line 3",
                               prepare=_damage_log),
    # make_eyes
    "make bad source": Case("make_eyes", ["--source", "nowhere:x", "--out", "{work}/o"],
                            "--source: unknown data source"),
    "make grid folder": Case("make_eyes", ["--grid", "{root}/full", "--n", "3"], "--grid"),
    "make grid not png": Case("make_eyes", ["--grid", "{work}/grid.txt", "--n", "3"], ".png"),
    "make scale 0": Case("make_eyes", ["--scale", "0", "--grid", "{work}/g.png"], "--scale"),
    "make scale negative": Case("make_eyes", ["--scale", "-2", "--grid", "{work}/g.png"],
                                "--scale"),
    "make seed negative": Case("make_eyes", ["--seed", "-1", "--grid", "{work}/g.png"], "--seed"),
    "make n 0": Case("make_eyes", ["--n", "0", "--out", "{work}/o"], "--n"),
    "make no output": Case("make_eyes", ["--style", "photo"], "--out"),
    "make out not empty": Case("make_eyes", ["--out", "{root}/full"], "not empty"),
    "make out is a file": Case("make_eyes", ["--out", "{root}/file.txt"], "--out"),
    "make broken source": Case("make_eyes", ["--source", "{root}/broken", "--out", "{work}/o"],
                               "00002.png"),
    "make device env": Case("make_eyes", ["--grid", "{work}/g.png"], "MINIGAN_DEVICE must be one of",
                            env={"MINIGAN_DEVICE": "tpu"}),
    # refine
    "refine missing checkpoint": Case("refine", ["--checkpoint", "{root}/none.npz", "--input",
                                                 "builtin:synthetic", "--out", "{work}/o"],
                                      "none.npz"),
    "refine random checkpoint": Case("refine", ["--checkpoint", "{root}/random.npz", "--input",
                                                "builtin:synthetic", "--out", "{work}/o"],
                                     "a zip archive"),
    "refine truncated checkpoint": Case("refine", ["--checkpoint", "{root}/truncated.npz",
                                                   "--input", "builtin:synthetic", "--out",
                                                   "{work}/o"], "truncated.npz"),
    "refine pickled checkpoint": Case("refine", ["--checkpoint", "{root}/pickled.npz", "--input",
                                                 "builtin:synthetic", "--out", "{work}/o"],
                                      "pickled"),
    "refine not a simgan checkpoint": Case("refine", ["--checkpoint", "{root}/nometa.npz",
                                                      "--input", "builtin:synthetic", "--out",
                                                      "{work}/o"], "nometa.npz"),
    "refine other shapes": Case("refine", ["--checkpoint", "{root}/shapes.npz", "--input",
                                           "builtin:synthetic", "--out", "{work}/o"],
                                "shapes.npz"),
    "refine checkpoint is a folder": Case("refine", ["--checkpoint", "{root}/run", "--input",
                                                     "builtin:synthetic", "--out", "{work}/o"],
                                          "folder"),
    "refine seed negative": Case("refine", ["--checkpoint", CKPT, "--input", "builtin:synthetic",
                                            "--seed", "-1", "--out", "{work}/o"], "--seed"),
    "refine n 0": Case("refine", ["--checkpoint", CKPT, "--input", "builtin:synthetic", "--n",
                                  "0", "--out", "{work}/o"], "--n"),
    "refine batch 0": Case("refine", ["--checkpoint", CKPT, "--input", "builtin:synthetic",
                                      "--batch-size", "0", "--out", "{work}/o"], "--batch-size"),
    "refine bad input": Case("refine", ["--checkpoint", CKPT, "--input", "flickr:cats", "--out",
                                        "{work}/o"], "--input: unknown data source"),
    "refine out not empty": Case("refine", ["--checkpoint", CKPT, "--input", "builtin:synthetic",
                                            "--n", "2", "--out", "{root}/full"], "not empty"),
    "refine out under a file": Case("refine", ["--checkpoint", CKPT, "--input", "{root}/eyes",
                                               "--out", "{root}/file.txt/o"], "--out"),
    "refine broken image": Case("refine", ["--checkpoint", CKPT, "--input", "{root}/broken",
                                           "--out", "{work}/o", "--batch-size", "8"],
                                "00002.png"),
    # turing
    "turing bad source": Case("turing", ["--refined", "nowhere:x", "--real", "builtin:photo",
                                         "--out", "{work}/p.html"], "--refined"),
    "turing too few images": Case("turing", ["--refined", "{root}/eyes", "--real",
                                             "builtin:photo", "--n", "5", "--out",
                                             "{work}/p.html"], "--n 5 plus --examples 10"),
    "turing random checkpoint": Case("turing", ["--refined", "builtin:synthetic", "--refiner",
                                                "{root}/random.npz", "--real", "builtin:photo",
                                                "--n", "2", "--out", "{work}/p.html"],
                                     "random.npz"),
    "turing n 0": Case("turing", ["--refined", "builtin:synthetic", "--real", "builtin:photo",
                                  "--n", "0"], "--n"),
    "turing examples negative": Case("turing", ["--refined", "builtin:synthetic", "--real",
                                                "builtin:photo", "--examples", "-1"],
                                     "--examples"),
    "turing out is a folder": Case("turing", ["--refined", "builtin:synthetic", "--real",
                                              "builtin:photo", "--n", "2", "--out",
                                              "{root}/full"], "--out"),
    # evaluate_gaze
    "evaluate random checkpoint": Case("evaluate_gaze", ["--refiner", "{root}/random.npz",
                                                         "--preset", "tiny", "--out",
                                                         "{work}/e"], "random.npz"),
    "evaluate truncated checkpoint": Case("evaluate_gaze", ["--refiner", "{root}/truncated.npz",
                                                            "--preset", "tiny", "--out",
                                                            "{work}/e"], "truncated.npz"),
    "evaluate missing checkpoint": Case("evaluate_gaze", ["--refiner", "{root}/none.npz"],
                                        "--refiner"),
    "evaluate other shapes": Case("evaluate_gaze", ["--refiner", "{root}/shapes.npz", "--preset",
                                                    "tiny", "--out", "{work}/e"], "shapes.npz"),
    "evaluate train-n 0": Case("evaluate_gaze", ["--refiner", CKPT, "--train-n", "0"],
                               "--train-n"),
    "evaluate mpiigaze missing": Case("evaluate_gaze", ["--refiner", CKPT, "--mpiigaze",
                                                        "{root}/nowhere"], "--mpiigaze"),
    "evaluate mpiigaze empty": Case("evaluate_gaze", ["--refiner", CKPT, "--preset", "tiny",
                                                      "--mpiigaze", "{root}/mpii_empty",
                                                      "--out", "{work}/e"], "mpii_empty"),
    "evaluate out under a file": Case("evaluate_gaze", ["--refiner", CKPT, "--out",
                                                        "{root}/file.txt/e"], "--out"),
    # ablations
    "ablations lambda negative": Case("ablations", ["--lambdas", "-1"], "--lambdas"),
    "ablations lambda nan": Case("ablations", ["--lambdas", "nan"], "--lambdas"),
    "ablations unknown variant": Case("ablations", ["--preset", "tiny", "--variants", "nope",
                                                    "--out", "{work}/a"], "--variants"),
    "ablations steps 0": Case("ablations", ["--simgan-steps", "0"], "--simgan-steps"),
    "ablations out under a file": Case("ablations", ["--out", "{root}/file.txt/a"], "--out"),
    # the gaze benchmark
    "gaze_study seeds 0": Case("gaze_study", ["--seeds", "0"], "--seeds"),
    "gaze_study bad normalization": Case("gaze_study", ["--normalization", "zscore"],
                                             "--normalization"),
    "gaze_study checkpoints": Case("gaze_study", ["--preset", "tiny", "--checkpoints", "0",
                                                          "5", "--out", "{work}/b"],
                                       "checkpoints"),
    "gaze_study out under a file": Case("gaze_study", ["--out", "{root}/file.txt/b"],
                                            "--out"),
    # the benchmarks
    "bench_eyes n 0": Case("bench_eyes", ["--n", "0"], "--n"),
    "bench_eyes repeat 0": Case("bench_eyes", ["--repeat", "0"], "--repeat"),
    "bench_eyes device env": Case("bench_eyes", ["--n", "1"], "MINIGAN_DEVICE must be one of",
                                  env={"MINIGAN_DEVICE": "tpu"}),
    "bench batch 0": Case("bench", ["--batch", "0"], "--batch"),
    "bench warmup negative": Case("bench", ["--warmup", "-1"], "--warmup"),
    "bench device flag": Case("bench", ["--device", "tpu"], "--device"),
    "bench json folder": Case("bench", ["--device", "cpu", "--json", "{root}/full"], "--json"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_bad_input_is_one_clear_line_and_changes_nothing(name, world, tmp_path, capsys,
                                                          monkeypatch):
    case = CASES[name]
    work = tmp_path / "work"
    work.mkdir()
    if case.prepare is not None:
        case.prepare(world, work)
        capsys.readouterr()
    for key, value in (case.env or {}).items():
        monkeypatch.setenv(key, value)
    before = (tree(world), tree(work))
    argv = [arg.format(root=world, work=work) for arg in case.argv]
    code, _, err = call(PROGRAMS[case.program].main, argv, capsys)
    assert_one_clear_error(code, err, case.needle.format(root=world, work=work))
    assert (tree(world), tree(work)) == before


@pytest.mark.skipif(backend.cuda_available(), reason="a GPU is usable here")
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_cuda_without_a_gpu_is_one_clear_line_in_every_program(program, monkeypatch, capsys):
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    argv = {"refine": ["--checkpoint", "x.npz", "--input", "builtin:synthetic", "--out", "o"],
            "evaluate_gaze": ["--refiner", "x.npz"], "make_eyes": ["--grid", "g.png"],
            "turing": ["--refined", "builtin:synthetic", "--real", "builtin:photo"]}
    code, _, err = call(PROGRAMS[program].main, argv.get(program, []), capsys)
    assert_one_clear_error(code, err, "MINIGAN_DEVICE 'cuda' was requested but cannot be used")
    assert "auto, cpu, cuda, emulator" in err
