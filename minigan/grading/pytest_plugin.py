"""A pytest plugin that reports each selected test's task markers and outcome to the grader, on
a channel the code under test cannot write unnoticed.

The grader (``minigan.grading.runner``) loads a copy of this file as the top-level module
``minigan_grading_recorder``, so that loading it imports nothing of the tree under test, and
sets ``MINIGAN_GRADING_FD`` to a pipe holding ``{"key", "report"}``. On import (before pytest
reads any conftest or test) the plugin reads and closes the pipe and drops the variable. It then
appends to the report file one line per event, ``PAYLOAD HMAC`` with HMAC = HMAC-SHA256(key,
PAYLOAD) in hex, the payloads numbered ``"n": 0, 1, ...``:

    {"event": "collected", "tests": {nodeid: [markers]}, "collection_errors": [{nodeid, message}]}
    {"event": "test", "nodeid", "outcome", "kind", "message", "where"}    one per test, as it ends
    {"event": "finished", "exitstatus"}

``kind`` is the exception type of a failure, ``message`` its first line, ``where`` the statement
that failed (an assertion: the test's line) or the deepest line of the tree that raised. A
failure that a task's stub caused is reported as that stub's ``NotImplementedError`` even where
the test turned it into another exception (``pytest.raises(RuntimeError, ...)`` catches the
stub's NotImplementedError, a RuntimeError, and fails while handling it).
"""
import hashlib
import hmac
import json
import os
import re
from pathlib import Path

import pytest

TASK_MARKER = re.compile(r"task\d+_\d+$")
STUB_MESSAGE = re.compile(r"task \d+\.\d+: ")
ORDER = {"passed": 0, "skipped": 1, "failed": 2}
FD_VARIABLE = "MINIGAN_GRADING_FD"
MESSAGE_CHARS = 300


def _read_channel():
    fd = os.environ.pop(FD_VARIABLE, None)
    if fd is None:
        return None
    with os.fdopen(int(fd), "rb") as pipe:
        secret = json.loads(pipe.read().decode("utf-8"))
    return bytes.fromhex(secret["key"]), secret["report"]


_CHANNEL = _read_channel()


def pytest_configure(config):
    if _CHANNEL is not None:
        config.pluginmanager.register(Recorder(*_CHANNEL, Path(str(config.rootpath))),
                                      "minigan-grading-recorder")


def sign(key, payload):
    """The report line of ``payload`` (a JSON text)."""
    return f"{payload} {hmac.new(key, payload.encode('utf-8'), hashlib.sha256).hexdigest()}\n"


class Recorder:
    def __init__(self, key, path, root):
        self.key, self.path, self.root = key, path, root
        self.count, self.outcomes, self.collection_errors = 0, {}, []

    def emit(self, event, **fields):
        payload = json.dumps({"n": self.count, "event": event, **fields}, sort_keys=True)
        self.count += 1
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, sign(self.key, payload).encode("utf-8"))
        finally:
            os.close(fd)

    def pytest_collectreport(self, report):
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            self.collection_errors.append({"nodeid": report.nodeid,
                                           "message": (text[-1] if text else "")[:MESSAGE_CHARS]})

    def pytest_collection_finish(self, session):
        tests = {item.nodeid: sorted({m.name for m in item.iter_markers()
                                      if TASK_MARKER.match(m.name)}) for item in session.items}
        self.emit("collected", tests=tests, collection_errors=self.collection_errors)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.failed:
            result = "failed"
        elif report.skipped:
            result = "skipped"
        elif report.when == "call":
            result = "passed"
        else:
            return   # a setup or teardown that went well says nothing yet
        entry = self.outcomes.setdefault(item.nodeid, {"outcome": None, "kind": None,
                                                       "message": None, "where": None})
        if entry["outcome"] is None or ORDER[result] > ORDER[entry["outcome"]]:
            entry["outcome"] = result
            if report.failed and call.excinfo is not None:
                entry.update(self.describe(call.excinfo))

    def pytest_runtest_logfinish(self, nodeid):
        entry = self.outcomes.get(nodeid)
        if entry is not None:
            self.emit("test", nodeid=nodeid, **entry)

    def pytest_sessionfinish(self, session, exitstatus):
        self.emit("finished", exitstatus=int(exitstatus))

    def describe(self, excinfo):
        """kind, message and where of a failure."""
        error = _stub_error(excinfo.value) or excinfo.value
        return {"kind": type(error).__name__, "message": first_lines(str(error)),
                "where": self.where(excinfo, isinstance(error, AssertionError))}

    def where(self, excinfo, assertion):
        """Where the failure happened, in the tree: an assertion in a test file as ``path:line
        `statement```, else ``path:line in function`` of the deepest line of the tree that
        raised; None when no line of the traceback is in the tree."""
        last = None
        for entry in excinfo.traceback:
            try:
                last = (Path(str(entry.path)).resolve().relative_to(self.root), entry)
            except (ValueError, OSError):
                continue
        if last is None:
            return None
        relative, entry = last
        place = f"{relative.as_posix()}:{entry.lineno + 1}"
        if assertion and relative.parts[:1] == ("tests",):
            statement = " ".join(str(entry.statement).split())
            return f"{place} `{statement[:MESSAGE_CHARS]}`"
        return f"{place} in {entry.name}"


def first_lines(text):
    """The first non-empty line of an error's text; for NumPy's comparison failures ("Not
    equal to tolerance ...") the two lines after it too (mismatched elements, largest
    difference)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    keep = lines[:3] if lines[0].startswith(("Not equal", "Arrays are not")) else lines[:1]
    return "; ".join(keep)[:MESSAGE_CHARS]


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
