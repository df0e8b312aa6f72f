"""Jobs killed (kill -9) or interrupted (Ctrl-C) at any moment, then continued, end as the job
that never stopped: the same checkpoints, log and pictures, and no stray files. Each command runs
as a user runs it, in a subprocess."""
import json
import random
import shlex
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from command_runs import Racers, environment, run, start, tiny_run_flags, tree
from minigan.simgan.checkpoint import read_checkpoint

STEPS = {"pretrain_refiner": 12, "pretrain_discriminator": 12, "adversarial": 12}
FLAGS = tiny_run_flags(*STEPS.values(), every=3) + ["--keep-checkpoints", "2"]
LINES = sum(STEPS.values())
TIMING = ("images_per_s", "elapsed_s")


def _records(folder):
    lines = (folder / "log.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k not in TIMING} for line in lines]


def _checkpoint(path):
    meta, groups = read_checkpoint(path)
    return {k: meta[k] for k in ("counters", "config", "data")}, groups


def assert_same_run(expected, got):
    """The same files, checkpoints (every array), log (but its timings) and pictures."""
    assert sorted(tree(got)) == sorted(tree(expected))  # no orphan, no lock, nothing missing
    for name in tree(expected):
        if name.endswith(".npz"):
            (meta_a, a), (meta_b, b) = _checkpoint(expected / name), _checkpoint(got / name)
            assert meta_a == meta_b, name
            for group in a:
                for key in a[group]:
                    np.testing.assert_array_equal(a[group][key], b[group][key], f"{group}/{key}")
        elif name.endswith(".png"):
            assert (expected / name).read_bytes() == (got / name).read_bytes(), name
    assert _records(expected) == _records(got)
    config = [json.loads((folder / "config.json").read_text()) for folder in (expected, got)]
    assert [{k: v for k, v in c.items() if k != "run_id"} for c in config] == [
        {k: v for k, v in config[0].items() if k != "run_id"}] * 2


def _lines(path):
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _wait_for(condition, process, timeout=120):
    """Poll until ``condition()`` or the process ends; True when the condition came first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.005)
    raise TimeoutError("the command neither got there nor ended")


def _resume_command(stderr):
    """The command a stopped run printed, as argv that runs with this Python."""
    command = shlex.split(stderr.split("continue with: ")[1].splitlines()[0])
    assert command[:3] == ["python", "-m", command[2]] and command[2].startswith("minigan.")
    return [sys.executable] + command[1:]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The run that nothing stopped."""
    root = tmp_path_factory.mktemp("straight")
    done = run("train_eyes", FLAGS + ["--out", "run"], cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "run"


def test_kill_9_at_random_moments_then_resume_gives_the_uninterrupted_run(straight, tmp_path):
    rng = random.Random(15)
    targets = [2] + sorted(rng.sample(range(3, LINES), 3))  # 2: before the first checkpoint
    for number, target in enumerate(targets):
        argv = FLAGS + ["--out", "run"] if number == 0 else ["--resume", "run", "--no-progress"]
        process = start("train_eyes", argv, cwd=tmp_path)
        assert _wait_for(lambda: _lines(tmp_path / "run" / "log.jsonl") >= target, process)
        process.kill()
        process.communicate()
        if target == 2:
            assert not (tmp_path / "run" / "checkpoints" / "last.npz").exists()
    done = run("train_eyes", ["--resume", "run", "--no-progress"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert_same_run(straight, tmp_path / "run")


KILL_IN_SAVEZ = """
import os, runpy, signal, sys
import numpy
original, calls = numpy.savez, []
def savez(file, *args, **kwargs):
    calls.append(1)
    if len(calls) == int(os.environ["KILL_AT_SAVE"]):
        file.write(b"PK\\x03\\x04 the first bytes of a checkpoint")
        file.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    return original(file, *args, **kwargs)
numpy.savez = savez
sys.argv[0] = "train_eyes"
runpy.run_module("minigan.train_eyes", run_name="__main__")
"""


@pytest.mark.parametrize("save", [1, 4])  # the first checkpoint; one with a checkpoint before it
def test_kill_9_during_a_checkpoint_write_leaves_the_last_one_whole(save, straight, tmp_path):
    killed = subprocess.run([sys.executable, "-c", KILL_IN_SAVEZ, *FLAGS, "--out", "run"],
                            cwd=tmp_path, env=environment(KILL_AT_SAVE=str(save)),
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    checkpoints = tmp_path / "run" / "checkpoints"
    assert list(checkpoints.glob(".tmp-*.npz-*"))  # the half-written file
    if save > 1:
        assert _checkpoint(checkpoints / "last.npz")[0]["counters"]["adversarial"] == 3
    done = run("train_eyes", ["--resume", "run", "--no-progress"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert_same_run(straight, tmp_path / "run")  # and the orphan is gone


@pytest.mark.parametrize("phase, line", [("pretrain_refiner", 3), ("pretrain_discriminator", 15),
                                         ("adversarial", 27)])
def test_ctrl_c_writes_a_checkpoint_and_the_printed_command_resumes(phase, line, straight,
                                                                   tmp_path):
    process = start("train_eyes", FLAGS + ["--out", "run"], cwd=tmp_path)
    assert _wait_for(lambda: _lines(tmp_path / "run" / "log.jsonl") >= line, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in err, err
    counters = _checkpoint(tmp_path / "run" / "checkpoints" / "last.npz")[0]["counters"]
    assert 0 < counters[phase] < STEPS[phase]  # stopped in that phase, and saved it
    assert len(_records(tmp_path / "run")) == sum(counters.values())
    resumed = subprocess.run(_resume_command(err), cwd=tmp_path, env=environment(),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(straight, tmp_path / "run")


def test_ctrl_c_while_loading_data_writes_nothing(tmp_path):
    process = start("train_eyes", FLAGS + ["--n", "20000", "--out", "run"], cwd=tmp_path)
    for line in process.stderr:
        if line.startswith("loading data"):
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in err and "interrupted" in err
    assert not (tmp_path / "run").exists()


def test_a_second_start_into_a_stopped_run_is_refused(straight, tmp_path):
    """Starting again into a stopped run would mix two runs in one log: --resume is the way."""
    process = start("train_eyes", FLAGS + ["--out", "run"], cwd=tmp_path)
    assert _wait_for(lambda: _lines(tmp_path / "run" / "log.jsonl") >= 3, process)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=120)
    before = tree(tmp_path)
    again = run("train_eyes", FLAGS + ["--out", "run"], cwd=tmp_path)
    assert again.returncode == 2 and "--resume run" in again.stderr
    assert tree(tmp_path) == before


# -- refine -----------------------------------------------------------------------------------

def _refine_argv(straight):
    return ["--checkpoint", str(straight / "checkpoints" / "last.npz"), "--input",
            "builtin:synthetic", "--n", "40", "--batch-size", "8", "--out", "refined",
            "--no-progress"]


@pytest.fixture(scope="module")
def refined(straight, tmp_path_factory):
    root = tmp_path_factory.mktemp("refined")
    done = run("refine", _refine_argv(straight), cwd=root)
    assert done.returncode == 0, done.stderr
    return tree(root)


KILL_IN_PNG = """
import os, runpy, signal, sys
from PIL import Image
original, calls = Image.Image.save, []
def save(self, fp, *args, **kwargs):
    calls.append(1)
    if len(calls) == int(os.environ["KILL_AT_PNG"]):
        fp.write(b"\\x89PNG half")
        fp.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, fp, *args, **kwargs)
Image.Image.save = save
sys.argv[0] = "refine"
runpy.run_module("minigan.refine", run_name="__main__")
"""


def test_refine_killed_mid_png_then_run_again_gives_the_whole_output(straight, refined,
                                                                    tmp_path):
    killed = subprocess.run([sys.executable, "-c", KILL_IN_PNG, *_refine_argv(straight)],
                            cwd=tmp_path, env=environment(KILL_AT_PNG="13"),
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert list((tmp_path / "refined.partial").glob(".tmp-*"))  # the half-written PNG
    done = run("refine", _refine_argv(straight), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert tree(tmp_path) == refined  # no refined.partial, no orphan


def test_refine_killed_at_random_moments_then_run_again(straight, refined, tmp_path):
    rng = random.Random(7)
    for target in sorted(rng.sample(range(1, 40), 2)):
        process = start("refine", _refine_argv(straight), cwd=tmp_path)
        _wait_for(lambda: len(list((tmp_path / "refined.partial").glob("*.png"))) >= target,
                  process)
        process.kill()
        process.communicate()
    done = run("refine", _refine_argv(straight), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert tree(tmp_path) == refined


def test_refine_ctrl_c_stops_after_a_chunk_and_the_same_command_continues(straight, refined,
                                                                         tmp_path):
    process = start("refine", _refine_argv(straight), cwd=tmp_path)
    labels = tmp_path / "refined.partial" / "labels.jsonl"
    assert _wait_for(lambda: _lines(labels) >= 8, process)  # one chunk written
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "the same command continues" in err, err
    assert not (tmp_path / "refined").exists()
    done = run("refine", _refine_argv(straight), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert tree(tmp_path) == refined


# -- ablations --------------------------------------------------------------------------------

ABLATIONS = ["--preset", "tiny", "--lambdas", "0.5", "--out", "study", "--no-progress"]


def test_ablations_killed_then_run_again_finish_the_same_table(tmp_path):
    for name in ("straight", "stopped"):
        (tmp_path / name).mkdir()
    done = run("ablations", ABLATIONS, cwd=tmp_path / "straight")
    assert done.returncode == 0, done.stderr
    process = start("ablations", ABLATIONS, cwd=tmp_path / "stopped")
    study = tmp_path / "stopped" / "study"
    assert _wait_for(lambda: (study / "no_history_buffer" / "log.jsonl").exists(), process)
    process.kill()
    process.communicate()
    again = run("ablations", ABLATIONS, cwd=tmp_path / "stopped")
    assert again.returncode == 0, again.stderr
    assert "2 of 5 variants were finished before" in again.stdout
    table = (tmp_path / "straight" / "study" / "ablations.md").read_text()
    assert (study / "ablations.md").read_text() == table


# -- two writers, one output (family 1 of issue 20) -------------------------------------------
# Two processes of a program, imported and waiting, are started on one output at once or a
# moment apart (while the first works, or after it is done), round after round. Of two writers
# of a folder one writes it and the other is refused in one line, before it writes anything
# (or, for a job that resumes, goes on with the same work); of two writers of one file each
# replaces it whole. The output is then the one a single run writes, with no lock and no
# temporary file left anywhere.

REFUSED = ("is in use by another process", "already holds a run", "is not empty",
           "exists and is not empty")
DELAYS = (0.0, 0.0, 0.01, 0.05, 0.2, 0.6, 1.5)


def _stray(root):
    return [str(p) for p in root.rglob("*") if p.name == ".lock" or p.name.startswith(".tmp-")
            or p.name.endswith(".partial")]


def _raced(program, root, rounds, argv_of, seed, second_argv_of=None):
    """Race ``rounds`` times; yields ``(round, [(code, stderr), ...])`` after each."""
    rng = random.Random(seed)
    racers = Racers(program, cwd=root)
    try:
        for number in range(rounds):
            results = racers.race(argv_of(number), delay=rng.choice(DELAYS), first=number % 2,
                                  second_argv=second_argv_of and second_argv_of(number))
            for code, err in results:
                assert "Traceback" not in err, err
                if code != 0:
                    assert code == 2 and any(text in err for text in REFUSED), err
                    assert len([line for line in err.splitlines() if "error:" in line]) == 1
            assert not _stray(root), _stray(root)
            yield number, results
    finally:
        racers.close()


def _one_winner(results):
    assert sorted(code for code, _ in results) == [0, 2], results


def test_two_train_eyes_on_one_new_folder_give_one_whole_run(tmp_path):
    flags = tiny_run_flags()
    reference = run("train_eyes", flags + ["--out", "reference"], cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    for number, results in _raced("train_eyes", tmp_path, 6,
                                  lambda n: flags + ["--out", f"run{n}"], seed=1):
        _one_winner(results)
        assert_same_run(tmp_path / "reference", tmp_path / f"run{number}")


def test_two_refines_into_one_folder_give_one_whole_output(straight, refined, tmp_path):
    expected = {name[len("refined/"):]: digest for name, digest in refined.items()}
    argv = _refine_argv(straight)
    for number, results in _raced("refine", tmp_path, 6,
                                  lambda n: argv[:-2] + [f"refined{n}", "--no-progress"], seed=2):
        _one_winner(results)
        assert tree(tmp_path / f"refined{number}") == expected


def test_two_make_eyes_into_one_folder_give_one_whole_output(tmp_path):
    argv = ["--n", "20", "--out", "reference", "--grid"]
    assert run("make_eyes", argv, cwd=tmp_path).returncode == 0
    (tmp_path / "outputs").mkdir()
    for number, results in _raced("make_eyes", tmp_path, 8,
                                  lambda n: argv[:3] + [f"outputs/eyes{n}", "--grid"], seed=3):
        _one_winner(results)
        assert tree(tmp_path / "outputs" / f"eyes{number}") == tree(tmp_path / "reference")


def test_two_evaluations_into_one_folder_write_one_report(straight, tmp_path):
    argv = ["--refiner", str(straight / "checkpoints" / "last.npz"), "--preset", "tiny",
            "--device", "cpu", "--out"]
    assert run("evaluate_gaze", argv + ["reference"], cwd=tmp_path).returncode == 0
    for number, results in _raced("evaluate_gaze", tmp_path, 3, lambda n: argv + [f"eval{n}"],
                                  seed=4):
        assert 0 in [code for code, _ in results]
        assert (tmp_path / f"eval{number}" / "results.json").read_text() == \
            (tmp_path / "reference" / "results.json").read_text()


STUDY = ["--preset", "tiny", "--seeds", "1", "--estimator-seeds", "1", "--simgan-steps", "1",
         "--no-progress", "--out"]
ABLATIONS_ONE = ["--preset", "tiny", "--lambdas", "0.5", "--variants", "SimGAN",
                 "--no-progress", "--out"]


@pytest.mark.parametrize("program, argv, table", [("gaze_study", STUDY, "table.md"),
                                                  ("ablations", ABLATIONS_ONE, "ablations.md")])
def test_two_studies_into_one_folder_write_one_table(program, argv, table, tmp_path):
    assert run(program, argv + ["reference"], cwd=tmp_path).returncode == 0
    expected = _without_costs((tmp_path / "reference" / table).read_text())
    for number, results in _raced(program, tmp_path, 2, lambda n: argv + [f"study{n}"], seed=5):
        assert 0 in [code for code, _ in results]
        assert _without_costs((tmp_path / f"study{number}" / table).read_text()) == expected


def _without_costs(table):
    return [line for line in table.splitlines() if "min" not in line and " s " not in line]


def test_two_turing_pages_on_one_file_leave_one_whole_page(tmp_path, capsys):
    from minigan import turing
    argv = ["--refined", "builtin:synthetic", "--real", "builtin:photo", "--n", "4",
            "--examples", "2", "--out"]
    pages = []
    for seed in ("1", "2"):
        assert turing.main(argv + [str(tmp_path / f"page{seed}.html"), "--seed", seed]) == 0
        pages.append((tmp_path / f"page{seed}.html").read_text())
    capsys.readouterr()
    for number, results in _raced("turing", tmp_path, 3,
                                  lambda n: argv + [f"race{n}.html", "--seed", "1"], seed=6,
                                  second_argv_of=lambda n: argv + [f"race{n}.html", "--seed",
                                                                   "2"]):
        assert [code for code, _ in results] == [0, 0]
        assert (tmp_path / f"race{number}.html").read_text() in pages


def test_two_benchmarks_on_one_json_file_leave_one_whole_report(tmp_path):
    argv = ["--device", "cpu", "--layers", "r_block", "--no-iteration", "--no-torch",
            "--repeats", "1", "--warmup", "0", "--batch", "2", "--json"]
    for number, results in _raced("bench", tmp_path, 3, lambda n: argv + [f"bench{n}.json"],
                                  seed=7):
        assert [code for code, _ in results] == [0, 0]
        report = json.loads((tmp_path / f"bench{number}.json").read_text())
        assert report["rows"] and report["batch"] == 2
