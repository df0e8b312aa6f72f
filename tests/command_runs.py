"""Helpers of the command tests: tiny training flags, running a program in this process or as a
subprocess the way a user does, and a fingerprint of a folder tree to prove nothing changed."""
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A SimGAN run of a few hundred milliseconds: every phase, samples, checkpoints.
TINY = ["--n", "16", "--batch-size", "4", "--history-batches", "2", "--channels", "4", "--blocks",
        "1", "--discriminator-width", "0.125", "--k-g", "1", "--k-d", "1"]


def tiny_run_flags(pretrain_r=2, pretrain_d=2, steps=4, every=2):
    return TINY + ["--pretrain-refiner-steps", str(pretrain_r), "--pretrain-discriminator-steps",
                   str(pretrain_d), "--steps", str(steps), "--sample-every", str(every),
                   "--checkpoint-every", str(every), "--device", "cpu", "--no-progress",
                   "--status-every", "1000"]


def call(main, argv, capsys):
    """``(exit status, stdout, stderr)`` of ``main(argv)`` run in this process."""
    try:
        code = main(argv)
    except SystemExit as exit_info:
        code = exit_info.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_clear_error(code, err, needle):
    """Non-zero exit, no traceback, exactly one error line, and it names ``needle``."""
    assert code not in (0, None), err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert needle in lines[0], lines[0]


def tree(folder):
    """``{relative path: sha1 of the bytes}`` of every file under ``folder``."""
    found = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            found[str(path.relative_to(folder))] = hashlib.sha1(path.read_bytes()).hexdigest()
    return found


def environment(**extra):
    """The environment of a subprocess that imports this worktree's minigan on one thread."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               MINIGAN_DEVICE="cpu")
    env.update(extra)
    return env


def start(program, argv, cwd, **env):
    """A running ``python -m minigan.<program> argv``."""
    return subprocess.Popen([sys.executable, "-m", f"minigan.{program}", *argv], cwd=cwd,
                            env=environment(**env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def run(program, argv, cwd, timeout=300, **env):
    """``subprocess.CompletedProcess`` of ``python -m minigan.<program> argv``."""
    return subprocess.run([sys.executable, "-m", f"minigan.{program}", *argv], cwd=cwd,
                          env=environment(**env), capture_output=True, text=True,
                          timeout=timeout)


HOLD = """
import sys
from minigan.io.folders import claim_folder
with claim_folder(sys.argv[1], sys.argv[2]):
    print("held", flush=True)
    sys.stdin.readline()
"""


@contextlib.contextmanager
def held_by_another_process(folder, job="simgan run"):
    """``folder`` claimed (``io.folders``) by a second process until the block ends."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), job], env=environment(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        yield holder.pid
    finally:
        holder.communicate("\n", timeout=60)


RACER = """
import contextlib, importlib, io, json, sys
main = importlib.import_module("minigan." + sys.argv[1]).main
print("ready", flush=True)
for line in sys.stdin:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(json.loads(line))
        except SystemExit as stop:
            code = stop.code
    sys.__stdout__.write(json.dumps({"code": code, "err": err.getvalue()}) + "\\n")
    sys.__stdout__.flush()
"""


class Racers:
    """Two processes of one program, imported and waiting: ``race(argv, delay)`` starts the
    same command line (or ``second_argv`` in the second) in both, the second ``delay`` seconds
    after the first, and returns ``[(exit status, stderr)]`` in start order."""

    def __init__(self, program, cwd):
        self.workers = [subprocess.Popen([sys.executable, "-c", RACER, program], cwd=cwd,
                                         env=environment(), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True) for _ in range(2)]
        for worker in self.workers:
            assert worker.stdout.readline() == "ready\n"

    def race(self, argv, delay=0.0, first=0, second_argv=None):
        order = [self.workers[first], self.workers[1 - first]]
        for number, (worker, args) in enumerate(zip(order, (argv, second_argv or argv))):
            if number and delay:
                time.sleep(delay)
            worker.stdin.write(json.dumps(args) + "\n")
            worker.stdin.flush()
        results = [json.loads(worker.stdout.readline()) for worker in order]
        return [(result["code"], result["err"]) for result in results]

    def close(self):
        for worker in self.workers:
            worker.communicate(timeout=60)
