"""Files that are either whole or absent: write to a temporary file, then rename.

    with atomic_file("run/config.json", "w") as handle:   # writes run/.tmp-<token>-config.json-*
        handle.write(text)                                 # renamed over run/config.json at the end

The temporary file sits in the target's folder (a rename is atomic only within one file system),
and its name starts with ``TEMP_PREFIX`` and this process's ``TOKEN``: a process killed
mid-write leaves such a file behind, and the next claim of the folder (``folders``) deletes the
ones named with the token its last holder recorded, and no others. A finished file gets the
usual mode of a new file (0666 minus the umask, 0644 under the common umask 022), not the
private 0600 of a temporary file. The rename replaces a symbolic link at ``path`` by the new
file; nothing is ever written through one. A write that fails for want of space (or any other
reason the system gives without a file name) names ``path``.
"""
import contextlib
import errno
import json
import os
import secrets
import stat
import tempfile

TEMP_PREFIX = ".tmp-"
TOKEN = secrets.token_hex(6)   # this process's mark on the temporary files it makes


_UMASK = []


def umask():
    """The process's umask (read once: reading it means setting it for a moment)."""
    if not _UMASK:
        value = os.umask(0o022)
        os.umask(value)
        _UMASK.append(value)
    return _UMASK[0]


def temp_prefix(name, token=TOKEN):
    """Start of the name of a temporary file for ``name``: ``.tmp-<token>-<name>-``."""
    return f"{TEMP_PREFIX}{token}-{name}-"


def _named(error, path):
    """``error`` with ``path`` as its file name when the system gave none (ENOSPC on write)."""
    if isinstance(error, OSError) and error.filename is None and error.strerror:
        return OSError(error.errno, error.strerror, path)
    return error


@contextlib.contextmanager
def atomic_file(path, mode="wb", encoding=None):
    """Open a temporary file for writing; on a clean exit it replaces ``path`` at once.

    ``mode``: "wb" or "w" (then ``encoding`` defaults to UTF-8). On an exception (Ctrl-C
    included) the temporary file is deleted and ``path`` keeps its old content, if any.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_file: mode must be 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=temp_prefix(os.path.basename(path)), dir=folder)
    try:
        text = mode == "w"
        with os.fdopen(handle, mode, encoding=(encoding or "utf-8") if text else None) as f:
            try:
                yield f
                f.flush()
                os.fsync(f.fileno())
            except OSError as error:
                raise _named(error, path) from None
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_file(path, "w") as handle:
        handle.write(text)


def write_json(path, value, indent=2):
    """Write ``value`` as JSON (one trailing newline) to ``path`` atomically."""
    write_text(path, json.dumps(value, indent=indent, sort_keys=False) + "\n")


def copy_file(source, target):
    """Copy ``source`` to ``target`` atomically (a reader never sees half of it)."""
    with open(source, "rb") as src, atomic_file(target, "wb") as dst:
        while True:
            block = src.read(1 << 20)
            if not block:
                break
            dst.write(block)


def append_text(path, text):
    """Append ``text`` (UTF-8) to the regular file ``path``, made if missing. A symbolic link,
    a FIFO or anything but a regular file at ``path`` is refused, not written through."""
    path = os.fspath(path)
    if os.path.lexists(path) and not stat.S_ISREG(os.lstat(path).st_mode):
        raise OSError(errno.EEXIST, "is not a regular file (a link, a FIFO, ...); minigan "
                                    "appends only to a file of its own", path)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(path, flags, 0o666)   # (O_NOFOLLOW, O_NONBLOCK: a link swapped in since fails)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        try:
            handle.write(text)
            handle.flush()
        except OSError as error:
            raise _named(error, path) from None
