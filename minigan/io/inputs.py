"""A user's file opened for reading: a regular file only.

    with open_regular("eyes/00001.png") as handle:   # OSError naming the path otherwise
        data = handle.read()

Opening a FIFO waits for a writer that may never come, and a device never ends; so a path that
is not a regular file (after following links, which a reader may) is refused at once. The file
is opened without blocking and checked after opening, so a FIFO swapped in between a check and
the open is refused too.
"""
import errno
import os
import stat


class NotARegularFile(OSError):
    """A path to read names a FIFO, a socket, a device or a folder."""


def check_regular(path):
    """Raise ``NotARegularFile`` naming ``path`` unless it is a regular file (FileNotFoundError
    when there is nothing)."""
    _check(os.stat(path).st_mode, path)


def _check(mode, path):
    if stat.S_ISDIR(mode):
        raise NotARegularFile(errno.EISDIR, "is a folder, not a file", os.fspath(path))
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) \
            else "a device"
        raise NotARegularFile(errno.EINVAL, f"is {kind}, not a regular file", os.fspath(path))


def open_regular(path, mode="rb", encoding="utf-8"):
    """``open(path, mode)`` for reading ("rb" or "r"), refusing anything but a regular file."""
    if mode not in ("rb", "r"):
        raise ValueError(f"open_regular: mode must be 'rb' or 'r', got {mode!r}")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        _check(os.fstat(fd).st_mode, path)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, mode, encoding=encoding if mode == "r" else None)
