"""Every command, given each bad input a user may give it, stops with one clear line (naming the
flag, file or value and what was expected), a non-zero exit status and no traceback, and leaves
every file that was already there as it was. The cases come by family (issue 20): files
outside the output or not the program's own (2), labels and pixels (3), checkpoints (4), late
failures and tracebacks (6), messages (7); two writers on one output (1) are raced in
``test_fault_tolerance``."""
import json
import os
import shutil
from collections import namedtuple

import h5py
import numpy as np
import pytest
import scipy.io

from command_runs import assert_one_clear_error, call, run, tiny_run_flags, tree
from test_data_mpiigaze import write_day
from test_data_unityeyes import write_render
from minigan import (ablations, assignments, backend, bench, bench_eyes, evaluate_gaze,
                     eye_stats, gaze_study, make_eyes, refine, train_eyes, turing)
from minigan.simgan.checkpoint import read_checkpoint, save_checkpoint

PROGRAMS = {"train_eyes": train_eyes, "refine": refine, "make_eyes": make_eyes,
            "evaluate_gaze": evaluate_gaze, "turing": turing, "ablations": ablations,
            "bench": bench, "bench_eyes": bench_eyes, "gaze_study": gaze_study,
            "eye_stats": eye_stats, "assignments": assignments}


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
    _bad_checkpoints(root, meta, read_checkpoint(root / "run" / "checkpoints" / "last.npz")[1])
    _bad_labels(root)
    _bad_packs(root)
    return root


def _bad_checkpoints(root, meta, groups):
    """Checkpoints with NaN, Inf or overflowing weights, and metas that lack or mistype a key."""
    def poisoned(value):
        return {group: {key: (array * np.float32(value) if group.startswith("refiner")
                              and array.dtype.kind == "f" and array.ndim > 1 else array)
                        for key, array in state.items()} for group, state in groups.items()}
    save_checkpoint(root / "nan.npz", meta, poisoned(np.nan))
    save_checkpoint(root / "inf.npz", meta, poisoned(np.inf))
    save_checkpoint(root / "huge.npz", meta, poisoned(1e30))
    save_checkpoint(root / "no_counters.npz", {k: v for k, v in meta.items() if k != "counters"},
                    groups)
    save_checkpoint(root / "config_list.npz", dict(meta, config=[1, 2]), groups)


LABEL_ROWS = {"short": lambda row: dict(row, gaze=row["gaze"][:2]),
              "string": lambda row: dict(row, gaze="up"),
              "missing": lambda row: {k: v for k, v in row.items() if k != "gaze"},
              "bool": lambda row: dict(row, iris_radius=True),
              "nested": lambda row: dict(row, gaze=[[1, 2, 3]]),
              "escape": lambda row: dict(row, file="../eyes/00000.png")}
LABEL_TEXTS = {"nan": "NaN", "inf": "Infinity", "overflow": "1e999"}


def _bad_labels(root):
    """Copies of the eye folder whose labels.jsonl has one bad line (line 3: 00002.png)."""
    rows = [json.loads(line) for line in (root / "eyes" / "labels.jsonl").read_text().splitlines()]
    lines = {name: json.dumps(change(rows[2])) for name, change in LABEL_ROWS.items()}
    lines.update({name: json.dumps(dict(rows[2], iris_radius=123456.5)).replace("123456.5", text)
                  for name, text in LABEL_TEXTS.items()})
    for name, line in lines.items():
        shutil.copytree(root / "eyes", root / f"labels_{name}")
        text = [json.dumps(row) for row in rows]
        text[2] = line
        (root / f"labels_{name}" / "labels.jsonl").write_text("\n".join(text) + "\n")


def _bad_packs(root):
    """HDF5 packs, MPIIGaze days and UnityEyes renders that no loader can take as they are."""
    for name, make in (("string", lambda h: h.create_dataset("image/0", data="an eye")),
                       ("scalar", lambda h: h.create_dataset("image/0", data=3.0)),
                       ("grouped", lambda h: h.create_group("image/0/left")),
                       ("ints", lambda h: h.create_dataset("image/0", data=np.zeros((35, 55),
                                                                                    np.int64)))):
        with h5py.File(root / f"{name}.h5", "w") as handle:
            make(handle)
    for name in ("nan", "struct"):
        left, right = write_day(root / f"mpii_{name}" / "p00" / "day01.mat")
        left["gaze"] = (np.where(np.arange(4)[:, None] == 2, np.nan, left["gaze"])
                        if name == "nan" else {"x": 1.0, "y": 2.0})
        scipy.io.savemat(root / f"mpii_{name}" / "p00" / "day01.mat",
                         {"data": {"left": left, "right": right}})
    (root / "unity_overflow").mkdir()
    write_render(root / "unity_overflow", "1", look_vec="(1e999, 0.1, -0.9, 0.0)")


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


def _put_config(text):
    def prepare(root, work):
        _copy_run(root, work)
        shutil.rmtree(work / "run" / "checkpoints")
        (work / "run" / "config.json").write_text(text)
    return prepare


def _changed_config(**changes):
    def prepare(root, work):
        _copy_run(root, work)
        shutil.rmtree(work / "run" / "checkpoints")
        config = json.loads((work / "run" / "config.json").read_text())
        (work / "run" / "config.json").write_text(json.dumps(dict(config, **changes)))
    return prepare


def _log_line(line):
    def prepare(root, work):
        _copy_run(root, work)
        lines = (work / "run" / "log.jsonl").read_text().splitlines(keepends=True)
        lines[2] = line + "\n"
        (work / "run" / "log.jsonl").write_text("".join(lines))
    return prepare


def _lock_link(folder):
    """``folder/.lock`` a link to a file of the user's (work/victim.txt)."""
    def prepare(root, work):
        if folder == "run":
            _copy_run(root, work)
        (work / folder).mkdir(exist_ok=True)
        (work / "victim.txt").write_text("mine\n")
        os.symlink(work / "victim.txt", work / folder / ".lock")
    return prepare


def _users_log_in(folder):
    def prepare(root, work):
        (work / folder).mkdir()
        (work / folder / "notes.txt").write_text("mine\n")
    return prepare


def _users_log(root, work):
    (work / "o").mkdir()
    (work / "o" / "log.jsonl").write_text('{"t": 1, "note": "my own log"}\n')


Case = namedtuple("Case", "program argv needle env prepare", defaults=(None, None))
REF = ["--checkpoint", "{root}/{name}", "--input", "builtin:synthetic", "--n", "2", "--out",
       "{work}/o"]
TINY_BENCH = ["--device", "cpu", "--layers", "r_block", "--no-iteration", "--no-torch",
              "--repeats", "1", "--warmup", "0", "--batch", "2"]


def _ref(name):
    return [arg.replace("{name}", name) for arg in REF]

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
    "make device env": Case("make_eyes", ["--grid", "{work}/g.png"],
                            "MINIGAN_DEVICE must be one of",
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

    # family 2: files outside the output, or not the program's own
    "2 train into other files": Case("train_eyes", ["--out", "{root}/full"],
                                     "holds no run, but other files"),
    "2 train into a user's log": Case("train_eyes", ["--out", "{work}/o"],
                                      "holds no run, but other files", prepare=_users_log),
    "2 train lock is a link": Case("train_eyes", ["--out", "{work}/o"], ".lock",
                                   prepare=_lock_link("o")),
    "2 resume lock is a link": Case("train_eyes", ["--resume", RUN], ".lock",
                                    prepare=_lock_link("run")),
    "2 refine lock is a link": Case("refine", _ref("run/checkpoints/last.npz"), ".lock",
                                    prepare=_lock_link("o.partial")),
    "2 refine partial of other files": Case("refine", _ref("run/checkpoints/last.npz"),
                                            "o.partial", prepare=_users_log_in("o.partial")),
    "2 refine labels name a path": Case("refine", ["--checkpoint", CKPT, "--input",
                                                   "{root}/labels_escape", "--out", "{work}/o"],
                                        "not a path"),
    "2 make lock is a link": Case("make_eyes", ["--n", "2", "--out", "{work}/o"], ".lock",
                                  prepare=_lock_link("o.partial")),
    "2 make partial of other files": Case("make_eyes", ["--n", "2", "--out", "{work}/o"],
                                          "o.partial", prepare=_users_log_in("o.partial")),
    "2 make grid inside out": Case("make_eyes", ["--n", "3", "--out", "{work}/o", "--grid",
                                                 "{work}/o/00001.png"], "inside --out"),
    "2 evaluate into other files": Case("evaluate_gaze", ["--refiner", CKPT, "--preset", "tiny",
                                                          "--out", "{root}/full"],
                                        "not a gaze evaluation"),
    "2 evaluate lock is a link": Case("evaluate_gaze", ["--refiner", CKPT, "--preset", "tiny",
                                                        "--out", "{work}/e"], ".lock",
                                      prepare=_lock_link("e")),
    "2 gaze_study into other files": Case("gaze_study", ["--preset", "tiny", "--out",
                                                         "{root}/full"], "not a gaze study"),
    "2 ablations into other files": Case("ablations", ["--preset", "tiny", "--out",
                                                       "{root}/full"], "not an ablation study"),
    "2 turing out not html": Case("turing", ["--refined", "builtin:synthetic", "--real",
                                             "builtin:photo", "--n", "2", "--out",
                                             "{root}/eyes/00001.png"], ".html"),

    # family 3: labels and pixels never silently lost or wrong
    **{f"3 labels {name}": Case("make_eyes", ["--source", f"{{root}}/labels_{name}", "--out",
                                              "{work}/o"], "labels.jsonl: line 3")
       for name in list(LABEL_ROWS) + list(LABEL_TEXTS) if name != "escape"},
    "3 labels in refine": Case("refine", ["--checkpoint", CKPT, "--input", "{root}/labels_short",
                                          "--out", "{work}/o"], "labels.jsonl: line 3"),
    "3 unityeyes look_vec overflows": Case("make_eyes", ["--source", "unityeyes:{root}/"
                                                         "unity_overflow", "--out", "{work}/o"],
                                           "look_vec"),
    "3 mpiigaze nan gaze": Case("make_eyes", ["--source", "mpiigaze:{root}/mpii_nan", "--out",
                                              "{work}/o"], "NaN"),

    # family 4: no bad checkpoint accepted, for any use
    **{f"4 refine {name}": Case("refine", _ref(f"{name}.npz"), needle)
       for name, needle in (("nan", "holds NaN"), ("inf", "holds NaN or infinite"),
                            ("huge", "overflow"))},
    **{f"4 turing {name}": Case("turing", ["--refined", "builtin:synthetic", "--refiner",
                                           f"{{root}}/{name}.npz", "--real", "builtin:photo",
                                           "--n", "2", "--out", "{work}/p.html"], needle)
       for name, needle in (("nan", "holds NaN"), ("huge", "overflow"))},
    **{f"4 evaluate {name}": Case("evaluate_gaze", ["--refiner", f"{{root}}/{name}.npz",
                                                    "--preset", "tiny", "--out", "{work}/e"],
                                  needle)
       for name, needle in (("nan", "holds NaN"), ("huge", "overflow"))},
    "4 resume nan": Case("train_eyes", ["--resume", RUN, "--steps", "5"], "holds NaN",
                         prepare=_put("nan.npz", "last.npz")),

    # family 6: checked before the work, no traceback
    "6 bench json new folder": Case("bench", TINY_BENCH + ["--json", "{work}/newdir/"],
                                    "names a folder"),
    "6 resume config a list": Case("train_eyes", ["--resume", RUN], "holds a JSON list",
                                   prepare=_put_config("[1, 2]\n")),
    "6 resume config a run id": Case("train_eyes", ["--resume", RUN, "--steps", "1"], "lacks",
                                     prepare=_put_config('{"run_id": "abc"}\n')),
    "6 resume config a string field": Case("train_eyes", ["--resume", RUN],
                                           "--synthetic must be a data source",
                                           prepare=_changed_config(synthetic=5)),
    "6 resume config a bool field": Case("train_eyes", ["--resume", RUN],
                                         "use_history must be true or false",
                                         prepare=_changed_config(use_history="no")),
    "6 resume log of another shape": Case("train_eyes", ["--resume", RUN, "--steps", "5"],
                                          "line 3 is not a record", prepare=_log_line("[1, 2]")),
    "6 resume log without t": Case("train_eyes", ["--resume", RUN, "--steps", "5"],
                                   "line 3 is not a record",
                                   prepare=_log_line('{"phase": "adversarial"}')),
    "6 resume meta lacks counters": Case("train_eyes", ["--resume", RUN, "--steps", "5"],
                                         "'counters'", prepare=_put("no_counters.npz",
                                                                    "last.npz")),
    "6 refine meta lacks counters": Case("refine", _ref("no_counters.npz"), "'counters'"),
    "6 refine meta config a list": Case("refine", _ref("config_list.npz"), "'config'"),
    **{f"6 h5 {name}": Case("make_eyes", ["--source", f"h5:{{root}}/{name}.h5", "--out",
                                          "{work}/o"], "image/0")
       for name in ("string", "scalar", "grouped", "ints")},
    "6 mpiigaze struct gaze": Case("make_eyes", ["--source", "mpiigaze:{root}/mpii_struct",
                                                 "--out", "{work}/o"], "gaze is a struct"),
    "6 eye_stats bad source": Case("eye_stats", ["builtin:photo", "flickr:cats"],
                                   "unknown data source"),

    # family 7: messages
    "7 assignments error line": Case("assignments", ["build", "--hw", "99", "--out",
                                                     "{work}/hw"], "99"),
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
@pytest.mark.parametrize("program", sorted(set(PROGRAMS) - {"assignments", "eye_stats"}))
def test_cuda_without_a_gpu_is_one_clear_line_in_every_program(program, monkeypatch, capsys):
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    argv = {"refine": ["--checkpoint", "x.npz", "--input", "builtin:synthetic", "--out", "o"],
            "evaluate_gaze": ["--refiner", "x.npz"], "make_eyes": ["--grid", "g.png"],
            "turing": ["--refined", "builtin:synthetic", "--real", "builtin:photo"]}
    code, _, err = call(PROGRAMS[program].main, argv.get(program, []), capsys)
    assert_one_clear_error(code, err, "MINIGAN_DEVICE 'cuda' was requested but cannot be used")
    assert "auto, cpu, cuda, emulator" in err


# -- what the programs keep and say, by family ---------------------------------------------------

def test_2_a_run_touches_no_file_it_did_not_make_beside_or_inside_its_output(world, tmp_path,
                                                                            capsys):
    (tmp_path / ".tmp-eyes-mine").mkdir()                  # a user's, beside make_eyes' output
    (tmp_path / ".tmp-eyes-mine" / "notes.txt").write_text("mine\n")
    assert call(make_eyes.main, ["--n", "3", "--out", str(tmp_path / "eyes")], capsys)[0] == 0
    shutil.copytree(world / "run", tmp_path / "run")
    for name in (".tmp-notes", "samples/.tmp-draft.png", "checkpoints/.tmp-last.npz-mine"):
        (tmp_path / "run" / name).write_text("mine\n")     # a user's, inside a run
    code, _, err = call(train_eyes.main, ["--resume", str(tmp_path / "run"), "--steps", "5",
                                          "--no-progress"], capsys)
    assert code == 0, err
    for name in (".tmp-eyes-mine/notes.txt", "run/.tmp-notes", "run/samples/.tmp-draft.png",
                 "run/checkpoints/.tmp-last.npz-mine"):
        assert (tmp_path / name).read_text() == "mine\n", name
    assert not list(tmp_path.rglob(".lock"))


def test_3_a_bad_label_line_is_skipped_and_counted_and_no_other_label_is_lost(world, tmp_path,
                                                                             capsys):
    code, _, err = call(make_eyes.main, ["--source", str(world / "labels_short"), "--out",
                                         str(tmp_path / "o"), "--skip-bad"], capsys)
    assert code == 0 and "skipped 1 bad file(s)" in err and "labels.jsonl: line 3" in err
    rows = [json.loads(line) for line in (tmp_path / "o" / "labels.jsonl").read_text().splitlines()]
    assert len(rows) == 5 and all(len(row["gaze"]) == 3 for row in rows)


def test_3_sixteen_bit_pixels_keep_their_level_instead_of_clipping_to_white(tmp_path):
    from PIL import Image
    from minigan.data.sources import load_source
    level = np.full((35, 55), 16384, np.uint16)            # a quarter of 65535: -0.5 in [-1, 1]
    (tmp_path / "png16").mkdir()
    Image.fromarray(level).save(tmp_path / "png16" / "a.png")
    with h5py.File(tmp_path / "pack16.h5", "w") as handle:
        handle.create_dataset("image", data=np.stack([level, level * 3]))
    assert abs(load_source(f"folder:{tmp_path / 'png16'}").images.mean() + 0.5) < 1e-3
    images = load_source(f"h5:{tmp_path / 'pack16.h5'}").images
    np.testing.assert_allclose(images.mean(axis=(1, 2, 3)), [-0.5, 0.5], atol=1e-3)


def test_3_refine_resumed_after_its_input_changed_is_refused_not_mixed(world, tmp_path, capsys,
                                                                      monkeypatch):
    from minigan.pipelines import refine_dataset
    shutil.copytree(world / "eyes", tmp_path / "eyes")
    argv = ["--checkpoint", str(world / "run" / "checkpoints" / "last.npz"), "--input",
            str(tmp_path / "eyes"), "--batch-size", "2", "--no-progress", "--out",
            str(tmp_path / "o")]
    write, chunks = refine_dataset._write_chunk, []

    def stopped_in_the_second_chunk(*args):
        chunks.append(1)
        if len(chunks) == 2:
            raise KeyboardInterrupt
        write(*args)

    monkeypatch.setattr(refine_dataset, "_write_chunk", stopped_in_the_second_chunk)
    assert call(refine.main, argv, capsys)[0] == 130
    monkeypatch.setattr(refine_dataset, "_write_chunk", write)
    shutil.copy(tmp_path / "eyes" / "00004.png", tmp_path / "eyes" / "00003.png")
    code, _, err = call(refine.main, argv, capsys)
    assert_one_clear_error(code, err, "the input changed since it started")
    assert not (tmp_path / "o").exists()


def test_7_refine_reads_the_folder_that_make_eyes_writes_with_its_grid(tmp_path, world, capsys):
    assert call(make_eyes.main, ["--n", "4", "--out", str(tmp_path / "eyes"), "--grid"],
                capsys)[0] == 0
    assert (tmp_path / "eyes" / "grid.png").exists()
    code, printed, err = call(refine.main, [
        "--checkpoint", str(world / "run" / "checkpoints" / "last.npz"), "--input",
        f"folder:{tmp_path / 'eyes'}", "--out", str(tmp_path / "refined")], capsys)
    assert code == 0 and "wrote 4 refined images" in printed, err
    assert sorted(os.listdir(tmp_path / "refined")) == [
        "00000.png", "00001.png", "00002.png", "00003.png", "labels.jsonl"]


def test_7_out_of_memory_names_what_to_shrink_and_the_run_goes_on_with_a_smaller_batch(
        tmp_path, capsys, monkeypatch):
    from minigan.data import sources
    from minigan.simgan import trainer

    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 3.2 GiB for an array")

    monkeypatch.setattr(sources, "render_eyes", no_memory)
    code, _, err = call(make_eyes.main, ["--n", "5", "--out", str(tmp_path / "eyes")], capsys)
    assert_one_clear_error(code, err, "out of memory: Unable to allocate")
    assert "--n needs less" in err and "--batch-size" not in err
    monkeypatch.undo()
    monkeypatch.setattr(trainer.Trainer, "refiner_step", no_memory)
    out = str(tmp_path / "run")
    code, _, err = call(train_eyes.main, tiny_run_flags() + ["--out", out], capsys)
    assert_one_clear_error(code, err, f"continue with: python -m minigan.train_eyes --resume "
                                      f"{out} --batch-size 2")
    monkeypatch.undo()
    code, _, err = call(train_eyes.main, ["--resume", out, "--batch-size", "2"], capsys)
    assert code == 0, err
    assert read_checkpoint(tmp_path / "run" / "checkpoints" / "last.npz")[0]["config"][
        "batch_size"] == 2


def test_7_a_full_disk_names_the_file_and_the_command_that_continues(tmp_path, capsys,
                                                                    monkeypatch):
    import errno
    from minigan.io import npz
    savez, calls = npz.np.savez, []

    def full_at_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return savez(*args, **kwargs)

    monkeypatch.setattr(npz.np, "savez", full_at_the_second)
    out = tmp_path / "run"
    code, _, err = call(train_eyes.main, tiny_run_flags() + ["--out", str(out)], capsys)
    assert_one_clear_error(code, err, f"{out / 'checkpoints' / 'last.npz'}: No space left on "
                                      "device")
    assert f"continue with: python -m minigan.train_eyes --resume {out}" in err
    assert not [p for p in out.rglob(".tmp-*")]
    monkeypatch.undo()
    assert call(train_eyes.main, ["--resume", str(out)], capsys)[0] == 0


def test_7_a_checkpoint_with_nan_is_never_called_good(world, tmp_path, capsys):
    shutil.copytree(world / "run", tmp_path / "run")
    shutil.copy(world / "nan.npz", tmp_path / "run" / "checkpoints" / "last.npz")
    code, _, err = call(train_eyes.main, ["--resume", str(tmp_path / "run"), "--steps", "5"],
                        capsys)
    assert_one_clear_error(code, err, "refiner")
    assert "good" not in err


@pytest.mark.parametrize("where", ["image", "labels", "checkpoint", "h5", "config"])
def test_3_a_fifo_is_refused_at_once_instead_of_hanging(where, world, tmp_path):
    """A FIFO named like an input waits for a writer that never comes: every loader refuses it."""
    shutil.copytree(world / "eyes", tmp_path / "eyes")
    fifo = {"image": "eyes/00001.png", "labels": "eyes/labels.jsonl", "checkpoint": "x.npz",
            "h5": "x.h5", "config": "run/config.json"}[where]
    if where == "config":
        shutil.copytree(world / "run", tmp_path / "run")
        shutil.rmtree(tmp_path / "run" / "checkpoints")
    (tmp_path / fifo).unlink(missing_ok=True)
    os.mkfifo(tmp_path / fifo)
    program, argv = {
        "image": ("make_eyes", ["--source", "eyes", "--out", "o"]),
        "labels": ("make_eyes", ["--source", "eyes", "--out", "o"]),
        "checkpoint": ("refine", ["--checkpoint", "x.npz", "--input", "builtin:synthetic",
                                  "--out", "o"]),
        "h5": ("make_eyes", ["--source", "h5:x.h5", "--out", "o"]),
        "config": ("train_eyes", ["--resume", "run"])}[where]
    done = run(program, argv, cwd=tmp_path, timeout=60)
    assert_one_clear_error(done.returncode, done.stderr, "FIFO")
    assert not (tmp_path / "o").exists()
