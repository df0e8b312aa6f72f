"""Grading a course can trust (``minigan.grading.runner`` and ``supervisor``): the outcomes come
from a signed report the tests cannot forge unnoticed, cross-checked with pytest's exit status;
the time, CPU, memory and file-size limits hold; no process the tests start outlives them.
Most cases run a tiny tree of their own; the last ones attack a real task through ``grade``."""
import sys
import textwrap
import time
from pathlib import Path

import pytest

from minigan.grading import manifest, runner, scoring, stubs, trees

ROOT = Path(__file__).resolve().parent.parent
TASK = manifest.Task("9.1", "a task of the tiny tree", 10, "cpu", 30, ("m.py::f",))
LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"),
                           reason="following descendants needs Linux (/proc, a subreaper)")

# The report of the run a test is in: the grader's private folder is first on PYTHONPATH.
OWN_REPORT = ("import glob, os\n"
              "private = os.environ['PYTHONPATH'].split(os.pathsep)[0]\n"
              "(report,) = glob.glob(os.path.join(private, 'report-*.jsonl'))\n")


def run(tmp_path, tests, timeout_s=30, cpu_s=120, memory_mb=2048, file_mb=64):
    """Run ``tests`` (the body of a test file whose tests carry ``task9_1``) in a tiny tree."""
    tree = tmp_path / "tree"
    (tree / "tests").mkdir(parents=True)
    (tree / "pytest.ini").write_text("[pytest]\nmarkers =\n    task9_1: the tiny task\n")
    (tree / "tests" / "test_tiny.py").write_text("import pytest\n\n" + textwrap.dedent(tests))
    return runner.run_tests(tree, [TASK], runner.Limits(timeout_s, cpu_s, memory_mb, file_mb))


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_each_tests_outcome_and_where_it_failed_come_back(tmp_path):
    result = runner.task_result(run(tmp_path, '''
        @pytest.mark.task9_1
        def test_passes():
            pass

        @pytest.mark.task9_1
        def test_fails():
            value = 3
            assert value == 4, "the answer must be 4"

        @pytest.mark.task9_1
        @pytest.mark.parametrize("n", [1, 2])
        def test_raises(n):
            {}[n]
    '''), TASK)
    assert result.problem is None and result.passed == 1 and result.failed == 3
    assert result.failures[0]["message"] == "the answer must be 4"
    assert runner.describe(result.failures[0]) == (
        'test_fails: AssertionError: the answer must be 4 [tests/test_tiny.py:11 `assert value '
        '== 4, "the answer must be 4"`]')
    assert runner.describe(result.failures[1]) == \
        "test_raises[1]: KeyError: 1 [tests/test_tiny.py:16 in test_raises]"


def test_a_line_the_tests_add_to_the_report_makes_it_worthless(tmp_path):
    outcome = run(tmp_path, f'''
        @pytest.mark.task9_1
        def test_forges():
            {textwrap.indent(OWN_REPORT, " " * 12).strip()}
            with open(report, "a") as out:
                out.write('{{"n": 1, "event": "finished", "exitstatus": 0}} 0' + "\\n")
    ''')
    assert "was not written by the grading plugin" in outcome.problem and not outcome.tests
    assert runner.task_result(outcome, TASK).passed == 0


def test_tests_that_ran_before_an_exit_count_and_the_rest_do_not(tmp_path):
    result = runner.task_result(run(tmp_path, '''
        import os

        @pytest.mark.task9_1
        def test_a():
            pass

        @pytest.mark.task9_1
        def test_b():
            os._exit(0)

        @pytest.mark.task9_1
        def test_c():
            pass
    '''), TASK)
    assert result.outcomes == {"tests/test_tiny.py::test_a": "passed",
                               "tests/test_tiny.py::test_b": None,
                               "tests/test_tiny.py::test_c": None}
    assert "ended (exit status 0) before it had finished" in result.problem
    assert scoring.earned(result) == pytest.approx(10 / 3, abs=0.01)


def test_an_exit_status_that_is_not_the_reports_makes_it_worthless(tmp_path):
    outcome = run(tmp_path, '''
        import atexit, os

        @pytest.mark.task9_1
        def test_fails_then_exits_with_success():
            atexit.register(os._exit, 0)
            assert False
    ''')
    assert "pytest ended with exit status 0, but its report says 1" in outcome.problem
    assert not outcome.tests


@LINUX
def test_the_time_limit_stops_the_tests_and_what_they_started_in_a_new_session(tmp_path):
    pid_file = tmp_path / "child.pid"
    started = time.monotonic()
    outcome = run(tmp_path, f'''
        import subprocess, sys, time

        @pytest.mark.task9_1
        def test_hangs():
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                                     start_new_session=True)
            open({str(pid_file)!r}, "w").write(str(child.pid))
            time.sleep(300)
    ''', timeout_s=4)
    assert time.monotonic() - started < 60
    assert outcome.problem == "the tests did not finish within the time limit of 4 s"
    assert not alive(int(pid_file.read_text()))


@LINUX
def test_a_process_started_in_a_new_session_does_not_outlive_tests_that_passed(tmp_path):
    pid_file = tmp_path / "daemon.pid"
    outcome = run(tmp_path, f'''
        import subprocess, sys

        @pytest.mark.task9_1
        def test_leaves_a_daemon():
            code = ("import subprocess, sys; "
                    "daemon = subprocess.Popen([sys.executable, '-c', 'import time; "
                    "time.sleep(300)']); open({str(pid_file)!r}, 'w').write(str(daemon.pid))")
            subprocess.run([sys.executable, "-c", code], start_new_session=True, check=True)
    ''')   # the daemon's parent has ended: it is an orphan in a session of its own
    assert outcome.problem is None and runner.task_result(outcome, TASK).ok
    assert not alive(int(pid_file.read_text()))
    assert outcome.notes == ("the grader stopped 1 process(es) that the tests left running",)


@pytest.mark.parametrize("limits, code, reason", [
    (dict(memory_mb=600), "bytearray(1 << 30)", "test_greedy: MemoryError"),
    (dict(file_mb=1), "open('big.bin', 'wb').write(b'x' * (3 << 20))",
     "test_greedy: OSError: [Errno 27] File too large"),
    (dict(cpu_s=1), "while True: pass",
     "the test process used more than its CPU-time limit of 1 s"),
], ids=["memory", "file-size", "cpu-time"])
def test_each_resource_limit_holds(limits, code, reason, tmp_path):
    """Python turns the memory limit into a MemoryError and the file-size limit into an OSError
    (it ignores SIGXFSZ); the CPU-time limit stops the process with SIGXCPU."""
    result = runner.task_result(run(tmp_path, f'''
        @pytest.mark.task9_1
        def test_greedy():
            {code}
    ''', **limits), TASK)
    assert not result.ok and scoring.earned(result) == 0
    assert result.reason().startswith(reason)


def test_a_report_is_read_line_by_line_with_its_signature(tmp_path):
    from minigan.grading import pytest_plugin
    key, path = b"k" * 32, tmp_path / "report.jsonl"
    path.write_text(pytest_plugin.sign(key, '{"event": "collected", "n": 0}'))
    assert runner.read_report(path, key) == [{"event": "collected", "n": 0}]
    with pytest.raises(runner.ReportError, match="line 1 .* not written by the grading plugin"):
        runner.read_report(path, b"x" * 32)
    path.write_text(pytest_plugin.sign(key, '{"event": "collected", "n": 3}'))
    with pytest.raises(runner.ReportError, match="out of order"):
        runner.read_report(path, key)


# --- attacks on a real task, through grade ------------------------------------------------------

XENT = "minigan/reference/xent_spec.py"


def submission_with_body(tmp_path, body):
    """A homework-2 tree whose patch_cross_entropy_forward (task 2.4) has ``body``."""
    tree = trees.build(manifest.homework(2), tmp_path / "student", ROOT)
    text = trees.read(tree, XENT)
    indented = textwrap.indent(textwrap.dedent(body), "    ")
    trees.write(tree, XENT, stubs.splice(text, XENT, "patch_cross_entropy_forward", indented))
    return tree


def task_2_4():
    hw = manifest.homework(2)
    return hw._replace(tasks=(manifest.task("2.4"),))


def test_a_body_that_writes_the_report_and_exits_with_success_gets_nothing(tmp_path):
    student = submission_with_body(tmp_path, OWN_REPORT + textwrap.dedent('''
        import json
        lines = [{"n": 0, "event": "collected", "tests": {}, "collection_errors": []},
                 {"n": 1, "event": "finished", "exitstatus": 0}]
        with open(report, "w") as out:
            out.write("".join(json.dumps(line) + " 0\\n" for line in lines))
        os._exit(0)
    '''))
    (result,) = scoring.grade(task_2_4(), student, ROOT)
    assert scoring.earned(result) == 0 and not result.ok
    assert "not written by the grading plugin" in result.reason()


@LINUX
def test_a_body_that_starts_a_process_in_a_new_session_leaves_none_behind(tmp_path):
    pid_file = tmp_path / "child.pid"
    student = submission_with_body(tmp_path, f'''
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                                 start_new_session=True)
        open({str(pid_file)!r}, "w").write(str(child.pid))
        raise ValueError("not written yet")
    ''')
    (result,) = scoring.grade(task_2_4(), student, ROOT)
    assert not result.ok and "ValueError: not written yet" in result.reason()
    assert not alive(int(pid_file.read_text()))
    assert any("stopped" in note for note in result.notes)
