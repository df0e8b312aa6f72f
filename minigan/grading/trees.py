"""Source trees: the repository checkout, the student trees built from it, and moving a task's
code from one tree to another.

A *checkout* is a folder with ``setup.py``, ``minigan/``, ``kernels/`` and ``tests/``: the
clone of the repository (a pip-installed minigan has no tests and cannot build homeworks). A
*student tree* is a copy of the checkout at one commit in which every task of one homework is
stubbed (``build``); it holds ``ASSIGNMENT.json`` (the homework, the source commit) and
``HOMEWORK.md`` (the tasks, how to test and check them).
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

from minigan.grading import stubs
from minigan.grading.manifest import split_target

CHECKOUT_FILES = ("setup.py", "minigan/__init__.py", "kernels", "tests/conftest.py")
IGNORED = {".git", "__pycache__", ".pytest_cache", "build", "dist", "runs", ".eggs", ".venv"}
ASSIGNMENT_FILE = "ASSIGNMENT.json"
HOMEWORK_FILE = "HOMEWORK.md"


class TreeError(ValueError):
    """A folder that is not what a command needs (missing, not a checkout, not empty)."""


def is_checkout(folder):
    folder = Path(folder)
    return all((folder / name).exists() for name in CHECKOUT_FILES)


def package_checkout():
    """The checkout that holds the imported ``minigan`` package; TreeError when minigan is an
    installed package without one."""
    root = Path(__file__).resolve().parents[2]
    if not is_checkout(root):
        raise TreeError(f"this command needs the minigan repository checkout (setup.py, tests/ "
                        f"and kernels/ beside minigan/), but minigan is imported from "
                        f"{root / 'minigan'}, an installed package; clone the repository and run "
                        f"it there")
    return root


def require_tree(folder, what):
    """``folder`` as a resolved Path; TreeError unless it is a checkout-like tree."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise TreeError(f"{what} {folder} is not a folder")
    if not is_checkout(folder):
        raise TreeError(f"{what} {folder} is not a minigan tree (it needs setup.py, minigan/, "
                        f"kernels/ and tests/conftest.py)")
    return folder.resolve()


def tree_files(root):
    """Relative paths of the tree's files: git's tracked and untracked-but-not-ignored files in
    a git clone, else every file outside caches and build folders."""
    root = Path(root)
    if (root / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard"], cwd=root, capture_output=True, text=True)
        if listed.returncode == 0:
            return sorted(p for p in set(listed.stdout.split("\0")) if p and (root / p).is_file())
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in IGNORED and not d.endswith(".egg-info")]
        found += [os.path.relpath(os.path.join(folder, f), root) for f in files
                  if not f.endswith(".pyc")]
    return sorted(found)


def copy_tree(root, destination):
    """Copy the tree's files (``tree_files``) into ``destination``, which must not exist."""
    destination = Path(destination)
    destination.mkdir(parents=True)
    for relative in tree_files(root):
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(root) / relative, target)
    return destination


def source_commit(root):
    """The checkout's git commit (with ``+changes`` when it has uncommitted edits), or None."""
    if not (Path(root) / ".git").exists() or not shutil.which("git"):
        return None
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True)
    if head.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                           capture_output=True, text=True).stdout.strip()
    return head.stdout.strip() + ("+changes" if dirty else "")


def read(tree, path):
    return (Path(tree) / path).read_text(encoding="utf-8")


def write(tree, path, text):
    (Path(tree) / path).write_text(text, encoding="utf-8")


def stub_task(tree, task):
    """Replace every target body of ``task`` in ``tree`` by its stub."""
    for target in task.stub:
        path, name = split_target(target)
        write(tree, path, stubs.stub(read(tree, path), path, name, task.id, task.marker))


def copy_task_code(task, source, tree):
    """Put the bodies of ``task``'s targets in ``source`` (a student's tree, or the reference)
    into ``tree``. StubError or OSError, naming the file, when one cannot be read or placed."""
    for target in task.stub:
        path, name = split_target(target)
        if not (Path(source) / path).is_file():
            raise stubs.StubError(f"{path} is missing from {source}")
        new_body = stubs.body(read(source, path), path, name)
        write(tree, path, stubs.splice(read(tree, path), path, name, new_body))


def build(hw, out, checkout):
    """A student tree for homework ``hw`` in the new folder ``out``; returns its path."""
    out = Path(out).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TreeError(f"--out {out} already exists and is not an empty folder; give a new "
                        f"folder (nothing there is overwritten)")
    if out.exists():
        out.rmdir()
    copy_tree(checkout, out)
    for task in hw.tasks:
        stub_task(out, task)
    assignment = {"homework": hw.number, "title": hw.title,
                  "source_commit": source_commit(checkout),
                  "tasks": [{"id": t.id, "title": t.title, "marker": t.marker, "points": t.points,
                             "device": t.device, "timeout_s": t.timeout_s, "stub": list(t.stub),
                             "requires": list(t.requires)} for t in hw.tasks]}
    write(out, ASSIGNMENT_FILE, json.dumps(assignment, indent=1) + "\n")
    write(out, HOMEWORK_FILE, homework_readme(hw))
    return out.resolve()


def homework_readme(hw):
    """HOMEWORK.md of a student tree: the tasks and how to test them."""
    lines = [f"# Homework {hw.number}: {hw.title}", "",
             "Each task below names the functions or kernels to write. Their signatures and "
             "docstrings (for a kernel: the comment at the top of its file) are the "
             "specification; the bodies raise `NotImplementedError` (a kernel returns at once, "
             "leaving its outputs unwritten) until you write them. Write your code *inside* "
             "those bodies: grading copies exactly them into a fresh copy of the repository and "
             "runs the task's tests there.", "",
             "Tutorial steps: " + ", ".join(f"`tutorials/step{s:02d}_*.py`" for s in hw.steps),
             "", "| task | points | runs on | write | test |", "|---|---:|---|---|---|"]
    for t in hw.tasks:
        targets = "<br>".join(f"`{target}`" for target in t.stub)
        lines.append(f"| {t.id} {t.title} | {t.points} | {t.device} | {targets} | "
                     f"`python -m pytest -m {t.marker}` |")
    lines += ["", "Your progress, task by task: `python -m minigan.assignments status`.",
              "Kernel tasks run on minigan's CPU emulator of the CUDA device (it needs g++); with "
              "a GPU and CuPy, `python -m pytest -m <marker>` also runs them on the GPU.", ""]
    return "\n".join(lines)


def read_assignment(tree):
    """The ``ASSIGNMENT.json`` of a student tree, or None when there is none."""
    path = Path(tree) / ASSIGNMENT_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise TreeError(f"{path} is not valid JSON: {error}") from None
