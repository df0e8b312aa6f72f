"""One line instead of a traceback: how a program reports a user's mistake and exits.

    def main(argv=None):
        return run_program("python -m minigan.refine", _main, argv)

``run_program`` turns the errors a user can cause into one line on stderr, ``PROG: error:
MESSAGE``, and an exit status: 2 for a mistake (a bad value, file, folder or device: ValueError,
OSError, RuntimeError, ImportError, ``UsageError``), 130 for Ctrl-C. Anything else is a bug in
minigan and keeps its traceback.
"""
import shlex
import sys
from contextlib import contextmanager

from minigan.io.interrupt import JobInterrupted

USER_ERRORS = (ValueError, OSError, RuntimeError, ImportError)


class UsageError(ValueError):
    """A command-line value that cannot work; the message names the flag and what it expects."""


def one_line(error):
    """The message of ``error`` on one line; OSErrors as ``PATH: reason``."""
    if isinstance(error, MemoryError):
        detail = f": {error}" if str(error) else ""
        text = f"out of memory{detail} (try a smaller --batch-size)"
    elif isinstance(error, OSError) and error.strerror and error.filename is not None:
        text = f"{error.filename}: {error.strerror}"
        if error.filename2 is not None:
            text += f" (to {error.filename2})"
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())


def run_program(prog, body, argv=None, stream=None):
    """``body(argv)``'s exit status, with user errors and Ctrl-C reported on one line."""
    stream = stream if stream is not None else sys.stderr
    try:
        return body(argv)
    except JobInterrupted as stop:
        print(f"{prog}: {one_line(stop)}", file=stream)
        return 130
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=stream)
        return 130
    except (*USER_ERRORS, MemoryError) as error:
        print(f"{prog}: error: {one_line(error)}", file=stream)
        return 2


@contextmanager
def resumable(prog, argv, kept):
    """Ctrl-C inside the block becomes ``JobInterrupted``: the interruption (its own message, if
    any), ``kept`` (what of the work stays on disk) and the command that goes on, which is the
    same command line again."""
    try:
        yield
    except KeyboardInterrupt as stop:
        again = shlex.join(prog.split() + list(argv))
        raise JobInterrupted(f"{str(stop) or 'interrupted'}; {kept}; continue with: "
                             f"{again}") from None
