"""What students and instructors run: the task list, grading a submission, a student's progress.

    listing()                                  the homeworks and tasks, as text
    grade(hw, submission, checkout)            [TaskResult]: each task graded on its own
    status(tree, hw, reference)                Progress: the same grading of a student's tree
    earned(result)                             the points of one task's result
    results_table(...) / scores(...)           the grade as text and as a JSON-ready dict

``grade`` never runs a student's tests: for each task it copies a fresh tree from the checkout
(the reference), puts in it the student's code of that task (``trees.copy_task_code``: the
bodies, and a Python file's new module-level names) and runs the task's tests there, within the
task's limits. Every other function, test and file is the reference's, so a task passes or fails
on its own code alone. A task's tests are those the reference collects; one that does not run
or report counts as failed. Points are earned test by test (``manifest``: weights).

``status`` is ``grade`` with the reference checkout the tree was built from. A tree with no
reference at hand is graded against itself as built (its target files as ``build`` made them),
with the student's own code for the tasks a task requires; ``Progress.header`` says which.
"""
import tempfile
from pathlib import Path
from typing import NamedTuple

from minigan.backend import unavailable_reason
from minigan.grading import runner, stubs, trees
from minigan.grading.manifest import HOMEWORKS, PLANNED


class DeviceError(RuntimeError):
    """A task's device (the emulator) cannot run here."""


class GradingError(RuntimeError):
    """The reference's own tests cannot be collected, so nothing can be graded."""


class Progress(NamedTuple):
    results: list            # [TaskResult]
    header: list             # lines: what status graded against, files it did not use


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


def expected_tests(base, hw):
    """nodeid -> markers of the tests of ``hw``'s tasks that ``base`` collects."""
    collected = runner.collect(base, hw.tasks)
    if collected.problem or not collected.tests:
        raise GradingError(f"the tests of homework {hw.number} do not collect in {base}: "
                           f"{collected.problem or 'none was found'}")
    return {nodeid: t["markers"] for nodeid, t in collected.tests.items()}


def grade_task(task, submission, base, expected, also=()):
    """``task`` graded in a fresh copy of ``base`` holding the student's code of ``task`` (and
    of the tasks ``also``) from ``submission``."""
    with tempfile.TemporaryDirectory(prefix="minigan-grade-") as work:
        tree = trees.copy_tree(base, Path(work) / "tree")
        notes = []
        try:
            for t in (task,) + tuple(also):
                notes += trees.copy_task_code(t, submission, tree)
        except (stubs.StubError, OSError, UnicodeDecodeError) as error:
            failed = runner.task_result(runner.TestRun({}, [], None, (), ""), task, expected)
            return failed._replace(problem=f"your code of this task could not be used: {error}")
        result = runner.run_task(tree, task, expected)
    return result._replace(notes=tuple(notes) + result.notes)


def grade(hw, submission, checkout, expected=None):
    """Grade each task of ``hw`` with the student's code of that task alone (see the module)."""
    require_devices(hw)
    expected = expected or expected_tests(checkout, hw)
    return [grade_task(task, submission, checkout, expected) for task in hw.tasks]


def status(tree, hw, reference=None, assignment=None):
    """A student tree graded as ``grade`` grades it, against ``reference`` (a checkout) or,
    when that is None, against the tree as built (``assignment``: its ASSIGNMENT.json)."""
    require_devices(hw)
    header = []
    if reference is not None:
        built, commit = (assignment or {}).get("source_commit"), trees.source_commit(reference)
        header.append(f"graded as grade does, against the reference checkout {reference}"
                      + (f" (at {commit}; this tree was built from {built})"
                         if assignment and built != commit else ""))
        changed = trees.changed_since_build(tree, assignment) if assignment else []
        if changed:
            header.append("changed since build, which grading does not use: " + ", ".join(changed))
        return Progress(grade(hw, tree, reference), header)
    header.append("no reference checkout here (--reference DIR gives one): graded against this "
                  "tree as built, with your own code of the tasks a task needs, where grade "
                  "uses the reference's")
    changed = trees.changed_since_build(tree, assignment)
    if changed:
        header.append("changed since build, which status uses and grade does not: "
                      + ", ".join(changed))
    by_id = {t.id: t for t in hw.tasks}
    with tempfile.TemporaryDirectory(prefix="minigan-status-") as work:
        base = trees.as_built(tree, assignment, Path(work) / "base")
        expected = expected_tests(base, hw)
        results = [grade_task(task, tree, base, expected, [by_id[i] for i in task.requires])
                   for task in hw.tasks]
    return Progress(results, header)


def earned(result):
    """``result``'s points: the task's points times the weighted share of its passed tests
    (each test function weighs ``task.weight``, shared equally by its parametrized cases)."""
    task, cases = result.task, {}
    for nodeid, outcome in result.outcomes.items():
        cases.setdefault(runner.test_function(nodeid), []).append(outcome == "passed")
    total = sum(task.weight(function) for function in cases)
    if not total:
        return 0.0
    share = sum(task.weight(f) * sum(passed) / len(passed) for f, passed in cases.items())
    return round(task.points * share / total, 2)


def results_table(hw, results):
    """The per-task table that status and grade print."""
    lines = [f"homework {hw.number}: {hw.title}",
             "  task  result  tests passed  points"]
    for r in results:
        points = f"{earned(r):5.1f}/{r.task.points:<3d}"
        lines.append(f"  {r.task.id}   {'PASS' if r.ok else 'FAIL'}    {r.passed:4d}/"
                     f"{len(r.outcomes):<4d}    {points}  {r.task.title}")
        if not r.ok:
            lines.append(f"        {r.reason()}")
        lines += [f"        note: {note}" for note in r.notes]
    got = sum(earned(r) for r in results)
    lines.append(f"  total {got:.1f}/{hw.points} points")
    return "\n".join(lines)


def scores(hw, results, submission, commit):
    """The grade as a JSON-ready dict."""
    return {"homework": hw.number, "submission": str(submission), "source_commit": commit,
            "points": round(sum(earned(r) for r in results), 2), "max_points": hw.points,
            "tasks": [{"id": r.task.id, "marker": r.task.marker, "passed": r.ok,
                       "points": earned(r), "max_points": r.task.points,
                       "tests_passed": r.passed, "tests_failed": r.failed,
                       "tests_skipped": r.count("skipped"), "reason": r.reason(),
                       "notes": list(r.notes), "tests": r.outcomes} for r in results]}
