"""Running a tree's tests for some task markers in a supervised process, and reading back what
happened to each test from a report the tests cannot forge unnoticed.

The tests run with the tree's own ``minigan`` (``PYTHONPATH`` is the tree) and never on a real
GPU (``not gpu``): a task is graded where the manifest says, the CPU or the emulator, whatever
the machine has. A ``cpu`` task's tests run on the CPU alone (``not emulator``: a test that runs
on every device runs its CPU case), an ``emulator`` task's on the emulator too.

What makes the result one to trust:

* pytest runs under ``supervisor.py`` (the time limit, CPU time, memory and file-size limits,
  and no process of the tests left running, even one started in a new session);
* the outcomes come from ``pytest_plugin``'s report, in a private folder outside the tree
  under a random name, each line signed with a key the plugin reads from a pipe before any
  code of the tree runs: a line the tests write themselves does not verify, and then nothing
  of the report counts;
* the report is cross-checked: its exit status must be pytest's, every test it reports must
  have been collected, and a task's tests are those of the reference's collection (``expected``),
  so a test that was not collected or did not report is a test not passed.

Code that runs in the test process can still read the plugin's memory; a course that grades
untrusted code should also run the grader as a user of its own, in a container.
"""
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple, Optional

from minigan.grading.manifest import CPU_SECONDS_PER_SECOND

OUTPUT_TAIL = 3000       # characters of pytest's output kept for messages
BACKSTOP_S = 60          # after the supervisor's own time limit
COLLECT_TIMEOUT_S = 300
PLUGIN_MODULE = "minigan_grading_recorder"
SUPERVISOR = Path(__file__).with_name("supervisor.py")
SIGNALS = {signal.SIGXCPU: "used more than its CPU-time limit of {cpu_s} s",
           signal.SIGXFSZ: "wrote a file larger than the limit of {file_mb} MB",
           signal.SIGKILL: "was killed (signal 9; out of memory?)"}


class Limits(NamedTuple):
    timeout_s: float
    cpu_s: int
    memory_mb: int
    file_mb: int

    @classmethod
    def of(cls, tasks, timeout_s=None):
        """The limits of one run of ``tasks``' tests: their time limits added up (or
        ``timeout_s``), the largest memory and file limits."""
        timeout_s = timeout_s or sum(t.timeout_s for t in tasks)
        return cls(timeout_s, int(CPU_SECONDS_PER_SECOND * timeout_s),
                   max(t.memory_mb for t in tasks), max(t.file_mb for t in tasks))


class TestRun(NamedTuple):
    tests: dict              # nodeid -> {"markers", "outcome", "kind", "message", "where"}
    collection_errors: list  # [{"nodeid", "message"}]
    problem: Optional[str]   # why the report is incomplete or not used, or None
    notes: tuple             # what the supervisor did besides (processes it stopped)
    output: str              # the tail of pytest's output


class TaskResult(NamedTuple):
    task: object             # manifest.Task
    outcomes: dict           # nodeid -> "passed" | "failed" | "skipped" | None (did not run)
    failures: list           # [{"nodeid", "kind", "message", "where"}]
    problem: Optional[str]   # why the task's tests could not all run, or None
    notes: tuple = ()        # lines for the student: code of theirs that grading did not use

    def count(self, outcome):
        return sum(o == outcome for o in self.outcomes.values())

    @property
    def passed(self):
        return self.count("passed")

    @property
    def failed(self):
        return len(self.outcomes) - self.passed - self.count("skipped")

    @property
    def ok(self):
        return self.problem is None and bool(self.outcomes) and self.failed == 0 \
            and self.count("skipped") == 0

    def reason(self):
        """One line: why the task did not pass (empty when it passed)."""
        if self.problem:
            return self.problem
        if self.failures:
            first, more = self.failures[0], len(self.failures) - 1
            limit = (f" (the memory limit is {self.task.memory_mb} MB)"
                     if first["kind"] == "MemoryError" else "")
            return describe(first) + limit + (f" (and {more} more failing)" if more else "")
        return "" if self.ok else "some tests were skipped"


def describe(failure):
    """``test: Kind: message [where]``, the line a student reads about one failing test."""
    test, message = failure["nodeid"].split("::")[-1], failure["message"] or ""
    text = f"{test}: {failure['kind'] or 'failed'}: {message}".rstrip(": ")
    stub = failure["kind"] == "NotImplementedError" and re.match(r"task \d+\.\d+: ", message)
    return text + (f" [{failure['where']}]" if failure.get("where") and not stub else "")


def test_function(nodeid):
    """``tests/FILE.py::name`` of a test id (its parameters dropped): the unit of weights."""
    return re.sub(r"\[.*\]$", "", nodeid)


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


def run_tests(tree, tasks, limits, collect_only=False, all_files=False):
    """Run (or only collect) the tests of ``tree`` that carry the marker of any of ``tasks``
    (``manifest.Task``) within ``limits``; ``all_files`` collects the whole suite instead of
    the files that name them."""
    from minigan.grading import pytest_plugin   # it imports pytest, which only grading needs
    with tempfile.TemporaryDirectory(prefix="minigan-grading-") as private:
        private = Path(private)
        key = secrets.token_bytes(32)
        report = private / f"report-{secrets.token_hex(16)}.jsonl"
        result = private / f"supervisor-{secrets.token_hex(8)}.json"
        shutil.copyfile(pytest_plugin.__file__, private / f"{PLUGIN_MODULE}.py")
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  "-p", PLUGIN_MODULE, "-m", marker_expression(tasks)]
        pytest += ["tests"] if all_files else test_files(tree, [t.marker for t in tasks])
        if collect_only:
            pytest.append("--collect-only")
        command = [sys.executable, "-I", str(SUPERVISOR), str(result), str(limits.timeout_s),
                   str(limits.cpu_s), str(limits.memory_mb), str(limits.file_mb), "--"] + pytest
        read_end, write_end = os.pipe()
        os.write(write_end, json.dumps({"key": key.hex(), "report": str(report)}).encode())
        os.close(write_end)
        env = dict(os.environ, PYTHONPATH=f"{private}{os.pathsep}{tree}",
                   **{pytest_plugin.FD_VARIABLE: str(read_end)})
        with open(private / "output.txt", "wb") as output:
            process = subprocess.Popen(command, cwd=tree, env=env, stdout=output,
                                       stderr=subprocess.STDOUT, pass_fds=(read_end,),
                                       start_new_session=True)
        os.close(read_end)
        try:
            process.wait(timeout=limits.timeout_s + BACKSTOP_S)
        except subprocess.TimeoutExpired:   # the supervisor itself hangs
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except BaseException:               # Ctrl-C: the supervisor stops the tests' processes
            process.terminate()
            try:
                process.wait(timeout=BACKSTOP_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
            raise
        text = (private / "output.txt").read_text(encoding="utf-8", errors="replace")
        supervised = _read_json(result) if process.returncode == 0 else None
        try:
            events = read_report(report, key)
        except ReportError as error:
            events = error
        return interpret(events, supervised, process.returncode, limits, text[-OUTPUT_TAIL:])


def _read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class ReportError(ValueError):
    """A report line that the plugin did not write."""


def read_report(path, key):
    """The events of the report at ``path``, each line verified; ReportError on the first
    line that does not verify or is out of order."""
    from minigan.grading import pytest_plugin
    try:
        lines = Path(path).read_bytes().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    events = []
    for number, line in enumerate(lines):
        payload = line.rpartition(" ")[0]
        signed = pytest_plugin.sign(key, payload).encode("utf-8")
        if not hmac.compare_digest(signed, (line + "\n").encode("utf-8")):
            raise ReportError(f"line {number + 1} of the grading report was not written by the "
                              f"grading plugin")
        event = json.loads(payload)
        if event.get("n") != number:
            raise ReportError(f"line {number + 1} of the grading report is out of order")
        events.append(event)
    return events


def interpret(events, supervised, returncode, limits, output):
    """A TestRun from the report's events and the supervisor's result; see the module."""
    def untrusted(problem):
        return TestRun({}, [], f"{problem}; the report is not used", (), output)

    if isinstance(events, ReportError):
        return untrusted(str(events))
    if supervised is None:
        return untrusted(f"the grading supervisor did not finish (exit status {returncode})")
    kinds = [e["event"] for e in events]
    if kinds and (kinds[0] != "collected" or kinds.count("collected") > 1
                  or kinds.count("finished") > (kinds[-1] == "finished")):
        return untrusted("the report's events are not in the order pytest makes them")
    collected = events[0] if events else None
    finished = events[-1] if kinds[-1:] == ["finished"] else None
    tests = {}
    if collected:
        tests = {nodeid: {"markers": markers, "outcome": None, "kind": None, "message": None,
                          "where": None} for nodeid, markers in collected["tests"].items()}
    for event in events:
        if event["event"] == "test":
            if event["nodeid"] not in tests or tests[event["nodeid"]]["outcome"] is not None:
                return untrusted(f"the report names {event['nodeid']} twice or uncollected")
            tests[event["nodeid"]].update({k: event[k] for k in
                                           ("outcome", "kind", "message", "where")})
    code = supervised["returncode"]
    if finished and finished["exitstatus"] != code:
        return untrusted(f"pytest ended with exit status {code}, but its report says "
                         f"{finished['exitstatus']}")
    errors = collected["collection_errors"] if collected else []
    notes = ()
    if supervised.get("leftovers"):
        notes = (f"the grader stopped {supervised['leftovers']} process(es) that the tests left "
                 f"running",)
    problem = None
    if supervised["timed_out"]:
        problem = f"the tests did not finish within the time limit of {limits.timeout_s:g} s"
    elif errors:
        problem = f"the tests could not be collected: {errors[0]['nodeid']}: {errors[0]['message']}"
    elif not finished:
        how = (SIGNALS.get(-code, "was stopped by signal {signal}") if code < 0
               else "ended (exit status {code}) before it had finished")
        last = output.strip().splitlines()[-1:] or [""]
        problem = ("the test process " + how.format(signal=-code, code=code, **limits._asdict())
                   + (f": {last[0][:200]}" if last[0] else ""))
    return TestRun(tests, errors, problem, notes, output)


def task_result(run, task, expected=None):
    """What ``run`` says about ``task``: each of its tests' outcome, the failures, and a problem
    if its tests could not all run. ``expected`` is the collection (nodeid -> markers) whose
    tests of ``task`` count (default: the tests ``run`` collected)."""
    source = run.tests if expected is None else expected
    mine = [nodeid for nodeid, t in source.items()
            if task.marker in (t["markers"] if isinstance(t, dict) else t)]
    outcomes = {nodeid: run.tests.get(nodeid, {}).get("outcome") for nodeid in mine}
    failures = [dict(nodeid=nodeid, **{k: run.tests[nodeid][k] for k in
                                       ("kind", "message", "where")})
                for nodeid in mine if outcomes[nodeid] == "failed"]
    problem = run.problem
    missing = [nodeid for nodeid in mine if nodeid not in run.tests]
    if problem is None and not mine:
        problem = f"no test carries the marker {task.marker}"
    elif problem is None and missing:
        problem = f"{len(missing)} of the task's tests were not collected, {missing[0]} first"
    elif problem is None and any(o is None for o in outcomes.values()):
        problem = "the test process stopped before every test had run"
    return TaskResult(task, outcomes, failures, problem, run.notes)


def collect(tree, tasks, all_files=False):
    """Collect (not run) the tests of ``tasks`` in ``tree``."""
    return run_tests(tree, tasks, Limits.of(tasks, COLLECT_TIMEOUT_S), collect_only=True,
                     all_files=all_files)


def run_task(tree, task, expected=None):
    """Run one task's tests in ``tree`` within its own limits."""
    return task_result(run_tests(tree, [task], Limits.of([task])), task, expected)
