"""The checks that keep the homeworks in step with the code (``python -m minigan.assignments
check``, run by CI):

1. the manifest is well formed and every stub target resolves in the checkout (a Python target
   has a docstring, a CUDA target is a ``__global__ void`` kernel);
2. pytest runs with ``--strict-markers``, every task has tests carrying its marker, and they sit
   in files that name the marker (a task's run collects only those);
3. the reference passes every task;
4. in each built homework every test of every task fails, and for the right reason: a Python
   task's with the ``NotImplementedError`` of its own stub (or of a task it ``requires``), a
   kernel task's with an ``AssertionError`` (its outputs were never written); never a
   collection error, an import error, a crash or a time-out; ``import minigan`` works there,
   and the whole test suite collects (a stub must not break the import of unrelated code);
5. restoring one task's solution (with the tasks it requires) in the built tree makes exactly
   that task pass, the others still failing for the right reason;
6. restoring every solution gives the reference files back byte for byte;
7. every requirement (dtype, contiguity, shape) a task's tests check is stated in its
   specification (``spec_coverage``), and every test a weight names exists and is the task's;
8. partial credit: ``grade`` gives a submission with the first half of each task's targets
   written (the rest stubbed) partial points for at least one task of each homework, and every
   task with nothing written 0.
"""
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from minigan.grading import runner, scoring, spec_coverage, stubs, trees
from minigan.grading.manifest import HOMEWORKS, all_tasks, problems, split_target


class Report:
    """Collects the checks' results and says each one as it comes."""

    def __init__(self, say):
        self.say, self.failures = say, []

    def ok(self, message):
        self.say(f"ok    {message}")

    def fail(self, message):
        self.failures.append(message)
        self.say(f"FAIL  {message}")

    def expect(self, condition, message, details=()):
        if condition:
            self.ok(message)
        else:
            self.fail(message + "".join(f"\n        {d}" for d in details))


def check(checkout, homeworks=HOMEWORKS, say=print):
    """Run the checks on ``homeworks`` of ``checkout``; returns the list of failures."""
    report = Report(say)
    tasks = [t for hw in homeworks for t in hw.tasks]
    check_manifest(checkout, report)
    collected = check_markers(checkout, tasks, report)
    if report.failures:
        return report.failures   # nothing below can be trusted
    check_specifications(checkout, tasks, collected, report)
    reference = runner.run_tests(checkout, tasks, runner.Limits.of(tasks))
    for task in tasks:
        result = runner.task_result(reference, task, collected)
        report.expect(result.ok, f"the reference passes task {task.id} ({result.passed} tests, "
                                 f"{scoring.earned(result):g}/{task.points} points)",
                      [result.reason()])
    for hw in homeworks:
        check_homework(checkout, hw, report, collected)
    return report.failures


def check_manifest(checkout, report):
    found = problems()
    for target in sorted({target for t in all_tasks() for target in t.stub}):
        path, name = split_target(target)
        try:
            stubs.locate(trees.read(checkout, path), path, name, need_docstring=True)
        except (stubs.StubError, OSError) as error:
            found.append(f"{target}: {error}")
    report.expect(not found, f"manifest: {len(all_tasks())} tasks in {len(HOMEWORKS)} homeworks, "
                             f"every stub target resolves", found)


def check_markers(checkout, tasks, report):
    """The checks on markers; returns the whole suite's collection (nodeid -> markers)."""
    pyproject = (Path(checkout) / "pyproject.toml").read_text(encoding="utf-8")
    report.expect("--strict-markers" in pyproject, "pytest runs with --strict-markers "
                                                   "(pyproject.toml)")
    markers = [t.marker for t in tasks]
    collected = runner.collect(checkout, tasks, all_files=True)
    if collected.problem:
        report.fail(f"the tests could not be collected: {collected.problem}")
        return {}
    for task in tasks:
        count = sum(task.marker in t["markers"] for t in collected.tests.values())
        report.expect(count > 0, f"task {task.id}: {count} tests carry -m {task.marker}")
    files = set(runner.test_files(checkout, markers))
    missed = sorted({nodeid.split("::")[0] for nodeid in collected.tests} - files)
    report.expect(not missed, "every marked test sits in a file that names its marker (the "
                              "files a task's run collects)", missed)
    return {nodeid: t["markers"] for nodeid, t in collected.tests.items()}


def check_specifications(checkout, tasks, collected, report):
    tests = spec_coverage.TestSources(Path(checkout) / "tests")
    for task in tasks:
        mine = [nodeid for nodeid, markers in collected.items() if task.marker in markers]
        functions = {runner.test_function(nodeid) for nodeid in mine}
        unknown = [f"weight of {name}: no test of task {task.id} is named so"
                   for name, _ in task.weights if name not in functions]
        unknown += spec_coverage.unstated(task, checkout, mine, tests)
        report.expect(not unknown, f"task {task.id}: what its tests check (dtype, contiguity, "
                                   f"shape) is in its specification", unknown)


def wrong_failures(result, stubbed, hw):
    """Why ``result`` (a task's tests with the tasks in ``stubbed`` stubbed) is not the failure
    a stub must give: one line per problem, empty when every test failed for the right reason."""
    if result.problem:
        return [result.problem]
    wrong = [f"{result.passed} tests pass without the task's code"] if result.passed else []
    causes = ({result.task.id} | set(result.task.requires)) & stubbed
    kernels = any(stubs.kind(split_target(target)[0]) == "cuda"
                  for t in hw.tasks if t.id in causes for target in t.stub)
    for failure in result.failures:
        kind, message = failure["kind"], failure["message"] or ""
        own_stub = kind == "NotImplementedError" and any(
            message.startswith(f"task {i}:") for i in causes)
        unwritten_output = kind == "AssertionError" and kernels
        if not (own_stub or unwritten_output):
            wrong.append(runner.describe(failure))
    return wrong


def check_homework(checkout, hw, report, expected):
    limits = runner.Limits.of(hw.tasks)
    with tempfile.TemporaryDirectory(prefix=f"minigan-check-hw{hw.number}-") as work:
        built = trees.build(hw, Path(work) / "built", checkout)
        imported = subprocess.run([sys.executable, "-c", "import minigan"], cwd=built,
                                  env=dict(os.environ, PYTHONPATH=str(built)),
                                  capture_output=True, text=True)
        report.expect(imported.returncode == 0,
                      f"homework {hw.number}: import minigan works in the student tree",
                      imported.stderr.splitlines()[-1:])
        collected = runner.collect(built, hw.tasks, all_files=True)
        report.expect(not collected.problem,
                      f"homework {hw.number}: the whole test suite collects in the student tree",
                      [collected.problem])
        stubbed_run = runner.run_tests(built, hw.tasks, limits)
        all_ids = {t.id for t in hw.tasks}
        for task in hw.tasks:
            wrong = wrong_failures(runner.task_result(stubbed_run, task, expected), all_ids, hw)
            report.expect(not wrong, f"homework {hw.number}: task {task.id} fails for the right "
                                     f"reason in the student tree", wrong)
        for task in hw.tasks:
            check_restored(checkout, hw, task, built, Path(work) / f"restored-{task.id}",
                           expected, report)
        check_partial_credit(checkout, hw, built, Path(work) / "partial", expected, report)
        round_trip = trees.copy_tree(built, Path(work) / "round-trip")
        for task in hw.tasks:
            trees.copy_task_code(task, checkout, round_trip)
        differ = [p for p in trees.target_files(hw)
                  if trees.read(round_trip, p) != trees.read(checkout, p)]
        report.expect(not differ, f"homework {hw.number}: restoring every solution gives the "
                                  f"reference files back byte for byte", differ)


def check_restored(checkout, hw, task, built, folder, expected, report):
    """Restoring ``task`` (and what it requires) makes exactly those pass."""
    restored = {task.id} | set(task.requires)
    tree = trees.copy_tree(built, folder)
    for t in hw.tasks:
        if t.id in restored:
            trees.copy_task_code(t, checkout, tree)
    run = runner.run_tests(tree, hw.tasks, runner.Limits.of(hw.tasks))
    problems_here = []
    for t in hw.tasks:
        result = runner.task_result(run, t, expected)
        if t.id in restored and not result.ok:
            problems_here.append(f"task {t.id} still fails: {result.reason()}")
        elif t.id not in restored:
            problems_here += [f"task {t.id}: {w}"
                              for w in wrong_failures(result, {u.id for u in hw.tasks} - restored,
                                                      hw)]
    which = "that" if len(restored) == 1 else "those"
    report.expect(not problems_here, f"homework {hw.number}: restoring task "
                                     f"{'+'.join(sorted(restored))} makes exactly {which} pass",
                  problems_here)


def check_partial_credit(checkout, hw, built, folder, expected, report):
    """``grade`` on the built tree with the first half of each task's targets written."""
    submission = trees.copy_tree(built, folder)
    for task in hw.tasks:
        half = task.stub[:math.ceil(len(task.stub) / 2)] if len(task.stub) > 1 else ()
        if half:
            trees.copy_task_code(task._replace(stub=half), checkout, submission)
    results = scoring.grade(hw, submission, checkout, expected)
    points = {r.task.id: scoring.earned(r) for r in results}
    said = ", ".join(f"{t.id} {points[t.id]:g}/{t.points}" for t in hw.tasks)
    partial = [t.id for t in hw.tasks if 0 < points[t.id] < t.points]
    unwritten = [f"task {t.id} has nothing written and gets {points[t.id]:g} points"
                 for t in hw.tasks if len(t.stub) == 1 and points[t.id] != 0]
    report.expect(partial and not unwritten,
                  f"homework {hw.number}: a partial solution (the first half of each task's "
                  f"functions) gets partial credit: {said}",
                  unwritten or ["no task got partial credit"])
