"""What students and instructors run: the task list, a tree's progress, and grading a submission.

    listing()                                  the homeworks and tasks, as text
    status(tree, hw)                           [TaskResult]: each task's tests run in ``tree``
    grade(hw, submission, checkout)            [TaskResult]: each task graded on its own
    scores(hw, results) / results_table(...)   points, as a dict and as text

``grade`` never runs a student's tests: for each task it copies a fresh tree from the checkout
(the reference), puts in exactly the student's bodies of that task's targets, and runs the
task's marker there with the task's time limit. Every other function, test and file is the
reference's, so a task passes or fails on its own code alone.
"""
import json
import os
import tempfile
from pathlib import Path

from minigan.backend import unavailable_reason
from minigan.grading import runner, stubs, trees
from minigan.grading.manifest import HOMEWORKS, PLANNED


class DeviceError(RuntimeError):
    """A task's device (the emulator) cannot run here."""


def listing():
    lines = []
    for hw in HOMEWORKS:
        steps = ", ".join(f"{s:02d}" for s in hw.steps)
        lines.append(f"homework {hw.number}: {hw.title} ({hw.points} points; tutorial steps "
                     f"{steps})")
        for t in hw.tasks:
            needs = f"  (needs {', '.join(t.requires)})" if t.requires else ""
            lines.append(f"  {t.id}  {t.points:3d} pts  {t.device:8}  {t.timeout_s:4d} s  "
                         f"-m {t.marker}  {t.title}{needs}")
            lines += [f"        {target}" for target in t.stub]
    if PLANNED:
        planned = ", ".join(f"{n} {title}" for n, title in sorted(PLANNED.items()))
        lines.append(f"planned, no tasks yet: {planned}")
    return "\n".join(lines)


def require_devices(hw):
    """DeviceError when a task of ``hw`` runs on the emulator and the emulator cannot run here."""
    if any(t.device == "emulator" for t in hw.tasks):
        reason = unavailable_reason("emulator")
        if reason is not None:
            raise DeviceError(f"homework {hw.number} has kernel tasks, which run on the CUDA "
                              f"emulator: {reason}")


def status(tree, hw):
    """Run each task's tests in ``tree`` as it is (a student's work in progress)."""
    require_devices(hw)
    return [runner.run_task(tree, task) for task in hw.tasks]


def grade(hw, submission, checkout):
    """Grade each task of ``hw`` with the student's code of that task alone (see the module)."""
    require_devices(hw)
    results = []
    for task in hw.tasks:
        with tempfile.TemporaryDirectory(prefix="minigan-grade-") as work:
            tree = trees.copy_tree(checkout, Path(work) / "tree")
            try:
                trees.copy_task_code(task, submission, tree)
            except (stubs.StubError, OSError, UnicodeDecodeError) as error:
                results.append(runner.TaskResult(task, 0, 0, 0, [], f"your code of this task "
                                                 f"could not be used: {error}"))
                continue
            results.append(runner.run_task(tree, task))
    return results


def results_table(hw, results, graded):
    """The per-task table that status and grade print."""
    lines = [f"homework {hw.number}: {hw.title}",
             f"  task  result  tests passed  {'points' if graded else ''}"]
    for r in results:
        total = r.passed + r.failed + r.skipped
        points = f"{r.task.points if r.ok else 0:3d}/{r.task.points:<3d}" if graded else ""
        lines.append(f"  {r.task.id}   {'PASS' if r.ok else 'FAIL'}    {r.passed:4d}/{total:<4d}"
                     f"      {points}  {r.task.title}")
        if not r.ok:
            lines.append(f"        {r.reason()}")
    if graded:
        got = sum(r.task.points for r in results if r.ok)
        lines.append(f"  total {got}/{hw.points} points")
    return "\n".join(lines)


def scores(hw, results, submission, commit):
    """The grade as a JSON-ready dict."""
    return {"homework": hw.number, "submission": str(submission), "source_commit": commit,
            "points": sum(r.task.points for r in results if r.ok), "max_points": hw.points,
            "tasks": [{"id": r.task.id, "marker": r.task.marker, "passed": r.ok,
                       "points": r.task.points if r.ok else 0, "max_points": r.task.points,
                       "tests_passed": r.passed, "tests_failed": r.failed,
                       "tests_skipped": r.skipped, "reason": r.reason()} for r in results]}


def write_json(path, data):
    """Write ``data`` to ``path`` through a temporary file, so a reader never sees half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)
