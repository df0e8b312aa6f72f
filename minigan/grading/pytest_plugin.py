"""A pytest plugin that records, for the grader, every selected test's task markers and outcome.

    python -m pytest -p minigan.grading.pytest_plugin --grading-report report.json -m task2_1

writes ``{"tests": {nodeid: {"markers", "outcome", "kind", "message"}}, "collection_errors":
[...], "exitstatus": n}``; ``kind`` is the exception type of a failure (``NotImplementedError``,
``AssertionError``, ...) and ``message`` the first line of its text. A failure that a task's
stub caused is reported as that stub's ``NotImplementedError`` even where the test turned it
into another exception: ``pytest.raises(RuntimeError, match=...)`` catches the stub's
NotImplementedError (a RuntimeError) and fails with an AssertionError raised while handling it.
"""
import json
import os
import re

import pytest

TASK_MARKER = re.compile(r"task\d+_\d+$")
STUB_MESSAGE = re.compile(r"task \d+\.\d+: ")
ORDER = {"passed": 0, "skipped": 1, "failed": 2}


def pytest_addoption(parser):
    parser.addoption("--grading-report", default=None, metavar="PATH",
                     help="write each selected test's task markers and outcome as JSON to PATH")


def pytest_configure(config):
    path = config.getoption("--grading-report")
    if path:
        config.pluginmanager.register(Recorder(path), "minigan-grading-recorder")


class Recorder:
    def __init__(self, path):
        self.path, self.tests, self.collection_errors = path, {}, []

    def pytest_collectreport(self, report):
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            self.collection_errors.append({"nodeid": report.nodeid,
                                           "message": text[-1] if text else ""})

    def pytest_collection_finish(self, session):
        for item in session.items:
            markers = sorted({m.name for m in item.iter_markers() if TASK_MARKER.match(m.name)})
            self.tests[item.nodeid] = {"markers": markers, "outcome": None, "kind": None,
                                       "message": None}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        entry = self.tests.get(item.nodeid)
        if entry is None:
            return
        if report.failed:
            result = "failed"
        elif report.skipped:
            result = "skipped"
        elif report.when == "call":
            result = "passed"
        else:
            return   # a setup or teardown that went well says nothing yet
        if entry["outcome"] is None or ORDER[result] > ORDER[entry["outcome"]]:
            entry["outcome"] = result
            if report.failed and call.excinfo is not None:
                error = _stub_error(call.excinfo.value) or call.excinfo.value
                entry["kind"] = type(error).__name__
                lines = str(error).strip().splitlines()
                entry["message"] = (lines[0] if lines else "")[:400]

    def pytest_sessionfinish(self, session, exitstatus):
        report = {"tests": self.tests, "collection_errors": self.collection_errors,
                  "exitstatus": int(exitstatus)}
        temporary = self.path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=1)
        os.replace(temporary, self.path)


def _stub_error(error):
    """The NotImplementedError of a task's stub among ``error`` and the exceptions it was raised
    from or while handling, or None."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, NotImplementedError) and STUB_MESSAGE.match(str(error)):
            return error
        error = error.__cause__ or error.__context__
    return None
