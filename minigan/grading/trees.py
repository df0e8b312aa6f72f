"""Source trees: the repository checkout, the student trees built from it, and moving a task's
code from one tree to another.

A *checkout* is a folder with ``setup.py``, ``minigan/``, ``kernels/`` and ``tests/``: the
clone of the repository (a pip-installed minigan has no tests and cannot build homeworks). A
*student tree* is a copy of the checkout at one commit in which every task of one homework is
stubbed (``build``); it holds ``HOMEWORK.md`` (the tasks, how to test and check them) and
``ASSIGNMENT.json``: the homework, the source commit and checkout, the SHA-256 of every file as
built and the stubbed target files as built (``originals``), from which ``status`` grades where
no reference checkout is at hand.
"""
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from minigan.grading import stubs, transplant
from minigan.grading.homework_text import homework_readme
from minigan.grading.manifest import all_tasks, split_target
from minigan.io.folders import LOCK_FILE, new_folder

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
    """Copy the tree's files (``tree_files``) into ``destination``, which must not exist or be
    an empty folder (but for a claim's lock file)."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    if any(p.name != LOCK_FILE for p in destination.iterdir()):   # new_folder's lock
        raise TreeError(f"{destination} is not empty")
    for relative in tree_files(root):
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(root) / relative, target)
    return destination


def file_hashes(root):
    """SHA-256 of every file of the tree (``tree_files``)."""
    return {relative: hashlib.sha256((Path(root) / relative).read_bytes()).hexdigest()
            for relative in tree_files(root)}


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


def targets_in(path):
    """The qualified names of every manifest stub target in the file ``path``."""
    return [split_target(target)[1] for t in all_tasks() for target in t.stub
            if split_target(target)[0] == path]


def copy_task_code(task, source, tree):
    """Put ``task``'s code from ``source`` (a student's tree, or the reference) into ``tree``:
    the bodies of its targets and, from their files, what ``transplant`` adds. Returns the
    notes on code of ``source`` that is not used; StubError or OSError, naming the file, when
    a file cannot be read or a body placed."""
    by_file = {}
    for target in task.stub:
        path, name = split_target(target)
        by_file.setdefault(path, []).append(name)
    notes = []
    for path, names in by_file.items():
        if not (Path(source) / path).is_file():
            raise stubs.StubError(f"{path} is missing from {source}")
        student, text = read(source, path), read(tree, path)
        for name in names:
            text = stubs.splice(text, path, name, stubs.body(student, path, name))
        if stubs.kind(path) == "python":
            text, more = transplant.python_additions(student, text, path, targets_in(path))
        else:
            more = transplant.cuda_differences(student, text, path, targets_in(path))
        write(tree, path, text)
        notes += more
    return notes


def target_files(hw):
    return sorted({split_target(target)[0] for t in hw.tasks for target in t.stub})


def build(hw, out, checkout):
    """A student tree for homework ``hw`` in the new folder ``out``, which appears whole or
    not at all; returns its path."""
    out = Path(out).expanduser()
    if out.is_symlink() or (out.exists() and (not out.is_dir() or any(out.iterdir()))):
        raise TreeError(f"--out {out} already exists and is not an empty folder; give a new "
                        f"folder (nothing there is overwritten)")
    with new_folder(out) as staging:
        copy_tree(checkout, staging)
        for task in hw.tasks:
            stub_task(staging, task)
        write(staging, HOMEWORK_FILE, homework_readme(hw))
        assignment = {
            "homework": hw.number, "title": hw.title, "source_commit": source_commit(checkout),
            "reference": str(Path(checkout).resolve()),
            "tasks": [{"id": t.id, "title": t.title, "marker": t.marker, "points": t.points,
                       "device": t.device, "timeout_s": t.timeout_s, "stub": list(t.stub),
                       "requires": list(t.requires)} for t in hw.tasks],
            "files": file_hashes(staging),
            "originals": {path: read(staging, path) for path in target_files(hw)}}
        write(staging, ASSIGNMENT_FILE, json.dumps(assignment, indent=1) + "\n")
    return out.resolve()


def read_assignment(tree):
    """The ``ASSIGNMENT.json`` of a student tree, or None when there is none."""
    path = Path(tree) / ASSIGNMENT_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise TreeError(f"{path} is not valid JSON: {error}") from None


def find_reference(tree, assignment, given=None):
    """The reference checkout that ``status`` grades ``tree`` against: ``given`` (--reference),
    else the checkout that built the tree (ASSIGNMENT.json), else the checkout of the imported
    minigan, unless that is the student tree itself; None when there is none."""
    if given is not None:
        return require_tree(given, "--reference")
    candidates = [Path(assignment["reference"])] if assignment and assignment.get("reference") \
        else []
    try:
        candidates.append(package_checkout())
    except TreeError:
        pass
    for candidate in candidates:
        if is_checkout(candidate) and (assignment is None
                                       or candidate.resolve() != Path(tree).resolve()):
            return candidate.resolve()
    return None


def as_built(tree, assignment, destination):
    """A copy of the student ``tree`` in ``destination`` with its target files as built (the
    stubs), the base that ``status`` grades on where there is no reference checkout."""
    copy_tree(tree, destination)
    for path, text in assignment["originals"].items():
        write(destination, path, text)
    return Path(destination)


def changed_since_build(tree, assignment):
    """The files of ``tree``, other than the stubbed target files, that differ from the tree as
    built or are gone."""
    now = file_hashes(tree)
    return sorted(path for path, digest in assignment.get("files", {}).items()
                  if path not in assignment.get("originals", {}) and now.get(path) != digest)
