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
6. restoring every solution gives the reference files back byte for byte.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from minigan.grading import runner, stubs, trees
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
    check_markers(checkout, tasks, report)
    if report.failures:
        return report.failures   # nothing below can be trusted
    reference = runner.run_tests(checkout, tasks, _limit(tasks))
    for task in tasks:
        result = runner.task_result(reference, task, _limit(tasks))
        report.expect(result.ok, f"the reference passes task {task.id} ({result.passed} tests)",
                      [result.reason()])
    for hw in homeworks:
        check_homework(checkout, hw, report)
    return report.failures


def _limit(tasks):
    return sum(t.timeout_s for t in tasks)


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
    pyproject = (Path(checkout) / "pyproject.toml").read_text(encoding="utf-8")
    report.expect("--strict-markers" in pyproject, "pytest runs with --strict-markers "
                                                   "(pyproject.toml)")
    markers = [t.marker for t in tasks]
    collected = runner.run_tests(checkout, tasks, 300, collect_only=True, all_files=True)
    if collected.collection_errors or not collected.reported:
        report.fail("the tests could not be collected: "
                    + (collected.collection_errors[0]["message"] if collected.collection_errors
                       else collected.output.strip().splitlines()[-1]))
        return
    for task in tasks:
        count = sum(task.marker in t["markers"] for t in collected.tests.values())
        report.expect(count > 0, f"task {task.id}: {count} tests carry -m {task.marker}")
    files = set(runner.test_files(checkout, markers))
    missed = sorted({nodeid.split("::")[0] for nodeid in collected.tests} - files)
    report.expect(not missed, "every marked test sits in a file that names its marker (the "
                              "files a task's run collects)", missed)


def wrong_failures(result, stubbed, hw):
    """Why ``result`` (a task's tests with the tasks in ``stubbed`` stubbed) is not the failure
    a stub must give: one line per problem, empty when every test failed for the right reason."""
    if result.problem:
        return [result.problem]
    wrong = [f"{result.passed} tests pass without the task's code"] if result.passed else []
    causes = ({result.task.id} | set(result.task.requires)) & stubbed
    kernels = any(stubs.kind(split_target(target)[0]) == "cuda"
                  for t in hw.tasks if t.id in causes for target in t.stub)
    for nodeid, kind, message in result.failures:
        own_stub = kind == "NotImplementedError" and any(
            (message or "").startswith(f"task {i}:") for i in causes)
        unwritten_output = kind == "AssertionError" and kernels
        if not (own_stub or unwritten_output):
            wrong.append(f"{nodeid}: {kind}: {message}")
    return wrong


def check_homework(checkout, hw, report):
    limit = _limit(hw.tasks)
    with tempfile.TemporaryDirectory(prefix=f"minigan-check-hw{hw.number}-") as work:
        built = trees.build(hw, Path(work) / "built", checkout)
        imported = subprocess.run([sys.executable, "-c", "import minigan"], cwd=built,
                                  env=dict(os.environ, PYTHONPATH=str(built)),
                                  capture_output=True, text=True)
        report.expect(imported.returncode == 0,
                      f"homework {hw.number}: import minigan works in the student tree",
                      imported.stderr.splitlines()[-1:])
        collected = runner.run_tests(built, hw.tasks, 300, collect_only=True, all_files=True)
        errors = [f"{e['nodeid']}: {e['message']}" for e in collected.collection_errors]
        report.expect(collected.reported and not errors,
                      f"homework {hw.number}: the whole test suite collects in the student tree",
                      errors or collected.output.strip().splitlines()[-1:])
        stubbed_run = runner.run_tests(built, hw.tasks, limit)
        all_ids = {t.id for t in hw.tasks}
        for task in hw.tasks:
            wrong = wrong_failures(runner.task_result(stubbed_run, task, limit), all_ids, hw)
            report.expect(not wrong, f"homework {hw.number}: task {task.id} fails for the right "
                                     f"reason in the student tree", wrong)
        for task in hw.tasks:
            restored = {task.id} | set(task.requires)
            tree = trees.copy_tree(built, Path(work) / f"restored-{task.id}")
            for t in hw.tasks:
                if t.id in restored:
                    trees.copy_task_code(t, checkout, tree)
            run = runner.run_tests(tree, hw.tasks, limit)
            problems_here = []
            for t in hw.tasks:
                result = runner.task_result(run, t, limit)
                if t.id in restored and not result.ok:
                    problems_here.append(f"task {t.id} still fails: {result.reason()}")
                elif t.id not in restored:
                    problems_here += [f"task {t.id}: {w}"
                                      for w in wrong_failures(result, all_ids - restored, hw)]
            which = "that" if len(restored) == 1 else "those"
            report.expect(not problems_here, f"homework {hw.number}: restoring task "
                                             f"{'+'.join(sorted(restored))} makes exactly "
                                             f"{which} pass", problems_here)
        round_trip = trees.copy_tree(built, Path(work) / "round-trip")
        for task in hw.tasks:
            trees.copy_task_code(task, checkout, round_trip)
        paths = sorted({split_target(target)[0] for t in hw.tasks for target in t.stub})
        differ = [p for p in paths if trees.read(round_trip, p) != trees.read(checkout, p)]
        report.expect(not differ, f"homework {hw.number}: restoring every solution gives the "
                                  f"reference files back byte for byte", differ)
