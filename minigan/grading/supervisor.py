"""The process that runs a task's tests and outlives them: resource limits, the time limit, and
no process of the tests left running afterwards.

    python -I supervisor.py RESULT.json TIMEOUT_S CPU_S MEMORY_MB FILE_MB -- COMMAND ...

The grader (``minigan.grading.runner``) starts this file as a script, in isolated mode, so it
imports only the standard library and nothing of the tree under test. It runs COMMAND (pytest)
in a session of its own with limits on CPU time (``RLIMIT_CPU``, per process), address space
(``RLIMIT_AS``) and file size (``RLIMIT_FSIZE``), and waits at most TIMEOUT_S seconds. On Linux
it is a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``): a process the tests start, even
in a new session and after its parent has gone, stays its descendant, so once COMMAND ends or
runs out of time (or the grader that started this process is gone, or sent it SIGTERM) it kills
every descendant it has, round after round until none is left. Then it
writes, through a temporary file renamed over RESULT.json (no process of the tests is alive to
touch it), ``{"returncode", "timed_out", "leftovers", "subreaper"}``: COMMAND's exit status
(minus a signal's number), whether the time ran out, and how many processes it killed after
COMMAND had ended. Elsewhere it kills COMMAND's process group only, and says so
(``"subreaper": false``, ``"leftovers": null``).
"""
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
ROUNDS = 200
POLL_S = 1.0


def become_subreaper():
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def limiter(cpu_s, memory_mb, file_mb):
    """What the child runs before COMMAND: the limits, lowered only (never above a hard one)."""
    wanted = {resource.RLIMIT_CPU: (cpu_s, cpu_s + 5),
              resource.RLIMIT_AS: (memory_mb << 20,) * 2,
              resource.RLIMIT_FSIZE: (file_mb << 20,) * 2,
              resource.RLIMIT_CORE: (0, 0)}

    def apply():
        for which, (soft, hard) in wanted.items():
            _, current_hard = resource.getrlimit(which)
            if current_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, current_hard), min(hard, current_hard)
            resource.setrlimit(which, (soft, hard))
    return apply


def descendants(root):
    """The live processes below ``root`` (from /proc: each process's parent)."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] not in (b"Z", b"X"):   # a zombie is dead already: it is only reaped
            children.setdefault(int(fields[1]), []).append(int(name))
    found, queue = [], [root]
    while queue:
        for pid in children.get(queue.pop(), []):
            found.append(pid)
            queue.append(pid)
    return found


def reap():
    """Collect every child of ours that has ended (reparented ones included)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_descendants():
    """Kill every descendant until none is left; how many were killed."""
    killed = set()
    for _ in range(ROUNDS):
        alive = descendants(os.getpid())
        if not alive:
            break
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
        reap()
    return len(killed)


def supervise(command, timeout_s, cpu_s, memory_mb, file_mb):
    subreaper = become_subreaper()
    child = subprocess.Popen(command, preexec_fn=limiter(cpu_s, memory_mb, file_mb),
                             start_new_session=True, close_fds=False)
    grader, deadline = os.getppid(), time.monotonic() + timeout_s
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))   # the grader was interrupted
    timed_out = orphaned = False
    while True:
        try:
            returncode = child.wait(timeout=max(0.0, min(POLL_S, deadline - time.monotonic())))
            break
        except subprocess.TimeoutExpired:
            timed_out = time.monotonic() >= deadline
            orphaned = os.getppid() != grader or bool(stop)   # nobody will read the result
            if timed_out or orphaned:
                os.killpg(child.pid, signal.SIGKILL)
                returncode = child.wait()
                break
    leftovers = None   # unknown where descendants cannot be followed
    if subreaper:
        leftovers = kill_descendants()
    else:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return {"returncode": returncode, "timed_out": timed_out, "orphaned": orphaned,
            "leftovers": leftovers, "subreaper": subreaper}


def main(argv):
    result_path, timeout_s, cpu_s, memory_mb, file_mb, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit("usage: supervisor.py RESULT TIMEOUT CPU MEMORY_MB FILE_MB -- COMMAND")
    result = supervise(command, float(timeout_s), int(cpu_s), int(memory_mb), int(file_mb))
    temporary = f"{result_path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as out:
        json.dump(result, out)
    os.replace(temporary, result_path)


if __name__ == "__main__":
    main(sys.argv[1:])
