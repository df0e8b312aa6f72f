"""Running a tree's tests for some task markers, in a separate process with a time limit, and
reading back what happened to each test (``minigan.grading.pytest_plugin`` records it).

The tests run with the tree's own ``minigan`` (``PYTHONPATH`` is the tree) and never on a real
GPU (``not gpu``): a task is graded where the manifest says, the CPU or the emulator, whatever
the machine has. A ``cpu`` task's tests run on the CPU alone (``not emulator``: a test that runs
on every device runs its CPU case), an ``emulator`` task's on the emulator too.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple, Optional

OUTPUT_TAIL = 3000   # characters of pytest's output kept for messages


class TestRun(NamedTuple):
    tests: dict              # nodeid -> {"markers", "outcome", "kind", "message"}
    collection_errors: list  # [{"nodeid", "message"}]
    timed_out: bool
    reported: bool           # False when pytest ended (crashed) before writing its report
    returncode: int
    output: str              # the tail of pytest's output


class TaskResult(NamedTuple):
    task: object             # manifest.Task
    passed: int
    failed: int
    skipped: int
    failures: list           # [(nodeid, kind, message)]
    problem: Optional[str]   # why the task's tests could not all run, or None

    @property
    def ok(self):
        return self.problem is None and self.failed == 0 and self.passed > 0

    def reason(self):
        """One line: why the task did not pass (empty when it passed)."""
        if self.problem:
            return self.problem
        if self.failures:
            nodeid, kind, message = self.failures[0]
            return f"{kind}: {message}" if kind else f"{nodeid} failed"
        return "" if self.passed else "every test was skipped"


def marker_expression(tasks):
    """The ``-m`` expression that selects the tests of ``tasks`` on their devices."""
    chosen = [t.marker if t.device == "emulator" else f"{t.marker} and not emulator"
              for t in tasks]
    return "(" + " or ".join(f"({c})" for c in chosen) + ") and not gpu"


def test_files(tree, markers):
    """The test files of ``tree`` that name any of ``markers`` (collecting only those is much
    quicker than collecting the whole suite; ``sync`` checks that they hold every marked test)."""
    pattern = re.compile(r"\b(" + "|".join(markers) + r")\b")
    files = sorted((Path(tree) / "tests").glob("test_*.py"))
    found = [str(path.relative_to(tree)) for path in files
             if pattern.search(path.read_text(encoding="utf-8"))]
    return found or ["tests"]


def run_tests(tree, tasks, timeout_s, collect_only=False, all_files=False):
    """Run (or only collect) the tests of ``tree`` that carry the marker of any of ``tasks``
    (``manifest.Task``); ``all_files`` collects the whole suite instead of the files that name
    them."""
    markers = [t.marker for t in tasks]
    with tempfile.TemporaryDirectory(prefix="minigan-grading-") as work:
        report = Path(work) / "report.json"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   "-p", "minigan.grading.pytest_plugin", "--grading-report", str(report),
                   "-m", marker_expression(tasks)]
        command += ["tests"] if all_files else test_files(tree, markers)
        if collect_only:
            command.append("--collect-only")
        env = dict(os.environ, PYTHONPATH=str(tree))
        process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        timed_out = False
        try:
            output, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)   # pytest and anything it started
            output, _ = process.communicate()
            timed_out = True
        data = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else None
    return TestRun(tests=data["tests"] if data else {},
                   collection_errors=data["collection_errors"] if data else [],
                   timed_out=timed_out, reported=data is not None,
                   returncode=process.returncode, output=output[-OUTPUT_TAIL:])


def task_result(run, task, timeout_s):
    """What ``run`` says about ``task``: counts, failures, and a problem if its tests could not
    run (time limit, crash, collection error, no test with its marker)."""
    mine = {nodeid: t for nodeid, t in run.tests.items() if task.marker in t["markers"]}
    counts = {outcome: sum(t["outcome"] == outcome for t in mine.values())
              for outcome in ("passed", "failed", "skipped")}
    failures = [(nodeid, t["kind"], t["message"]) for nodeid, t in mine.items()
                if t["outcome"] == "failed"]
    problem = None
    if run.timed_out:
        problem = f"the tests did not finish within the time limit of {timeout_s} s"
    elif run.collection_errors:
        error = run.collection_errors[0]
        problem = f"the tests could not be collected: {error['nodeid']}: {error['message']}"
    elif not run.reported:
        last = run.output.strip().splitlines()[-1:] or [""]
        problem = f"the test process ended (exit code {run.returncode}) before reporting: {last[0]}"
    elif not mine:
        problem = f"no test carries the marker {task.marker}"
    elif any(t["outcome"] is None for t in mine.values()):
        problem = "the test process stopped before every test had run"
    return TaskResult(task, counts["passed"], counts["failed"], counts["skipped"], failures,
                      problem)


def run_task(tree, task):
    """Run one task's tests in ``tree`` with its own time limit."""
    return task_result(run_tests(tree, [task], task.timeout_s), task, task.timeout_s)
