"""One line instead of a traceback: how a program reports a user's mistake and exits.

    main = program_main("python -m minigan.refine", _main, __name__,
                        memory_hint="a smaller --batch-size needs less")

``program_main`` gives a program its ``main(argv=None)`` (and, when the module runs as a
script, runs it and exits with its status), through ``run_program``: the errors a user can cause
become one line on stderr, ``PROG: error: MESSAGE``, and an exit status: 2 for a mistake (a bad
value, file, folder or device: ValueError, OSError, RuntimeError, ImportError, ``UsageError``;
running out of memory, with the program's hint), 130 for Ctrl-C. Anything else is a bug in
minigan and keeps its traceback. ``resumable`` says, when a long job stops (Ctrl-C, a full
disk), what it kept and the command that continues it.
"""
import errno
import shlex
import sys
from contextlib import contextmanager

from minigan.io.interrupt import JobInterrupted

USER_ERRORS = (ValueError, OSError, RuntimeError, ImportError)
FULL = (errno.ENOSPC, errno.EDQUOT)


class UsageError(ValueError):
    """A command-line value that cannot work; the message names the flag and what it expects."""


def one_line(error):
    """The message of ``error`` on one line; OSErrors as ``PATH: reason``."""
    if isinstance(error, MemoryError):
        text = f"out of memory{f': {error}' if str(error) else ''}"
    elif isinstance(error, OSError) and error.strerror and error.filename is not None:
        text = f"{error.filename}: {error.strerror}"
        if error.filename2 is not None:
            text += f" (to {error.filename2})"
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())


def run_program(prog, body, argv=None, stream=None, memory_hint=None):
    """``body(argv)``'s exit status, with user errors and Ctrl-C reported on one line.
    ``memory_hint`` ends the line of a MemoryError (what needs less memory in this program)."""
    stream = stream if stream is not None else sys.stderr
    try:
        return body(argv)
    except JobInterrupted as stop:
        print(f"{prog}: {one_line(stop)}", file=stream)
        return 130
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=stream)
        return 130
    except MemoryError as error:
        hint = f" ({memory_hint})" if memory_hint and "continue with" not in str(error) else ""
        print(f"{prog}: error: {one_line(error)}{hint}", file=stream)
        return 2
    except USER_ERRORS as error:
        print(f"{prog}: error: {one_line(error)}", file=stream)
        return 2


def program_main(prog, body, module_name, memory_hint=None):
    """The ``main(argv=None)`` of a program whose work is ``body(argv)`` (see ``run_program``);
    when ``module_name`` is ``"__main__"`` it runs at once and the process exits with its
    status."""
    def main(argv=None):
        return run_program(prog, body, argv, memory_hint=memory_hint)

    if module_name == "__main__":
        sys.exit(main())
    return main


@contextmanager
def resumable(prog, argv, kept=None, again=None):
    """A stop inside the block says what stays and how to go on: Ctrl-C becomes
    ``JobInterrupted`` and a full disk an OSError naming the file, each with ``kept`` (what of
    the work stays on disk) and the command that continues, ``prog`` with ``again`` (default:
    ``argv``, the same command line; a callable is asked after the stop)."""
    def command():
        args = again() if callable(again) else argv if again is None else again
        return shlex.join(prog.split() + list(args))

    said = f"; {kept}" if kept else ""
    try:
        yield
    except KeyboardInterrupt as stop:
        raise JobInterrupted(f"{str(stop) or 'interrupted'}{said}; continue with: "
                             f"{command()}") from None
    except OSError as error:
        if error.errno not in FULL:
            raise
        raise OSError(error.errno, f"{error.strerror}{said}; free some space, then continue "
                                   f"with: {command()}", error.filename) from None
