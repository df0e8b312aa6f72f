"""Files that are either whole or absent: write to a temporary file, then rename.

    with atomic_file("run/config.json", "w") as handle:   # handle writes to run/.tmp-config.json-*
        handle.write(text)                                 # renamed over run/config.json at the end

The temporary file sits in the target's folder (a rename is atomic only within one file system),
and its name starts with ``TEMP_PREFIX``: a process killed mid-write leaves such a file behind,
and ``remove_orphans`` deletes it the next time the folder is used. A finished file gets the
usual mode of a new file (0666 minus the umask, 0644 under the common umask 022), not the
private 0600 of a temporary file.
"""
import contextlib
import glob
import json
import os
import tempfile

TEMP_PREFIX = ".tmp-"


_UMASK = []


def umask():
    """The process's umask (read once: reading it means setting it for a moment)."""
    if not _UMASK:
        value = os.umask(0o022)
        os.umask(value)
        _UMASK.append(value)
    return _UMASK[0]


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
    handle, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.path.basename(path)}-", dir=folder)
    try:
        text = mode == "w"
        with os.fdopen(handle, mode, encoding=(encoding or "utf-8") if text else None) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
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


def remove_orphans(folder):
    """Delete the temporary files that a killed writer left in ``folder``; returns their paths.

    Only names starting with ``TEMP_PREFIX`` are touched. Call it when a job (re)starts in a
    folder it owns, not while another process may be writing there.
    """
    removed = []
    for path in sorted(glob.glob(os.path.join(glob.escape(os.fspath(folder)), TEMP_PREFIX + "*"))):
        if os.path.isfile(path):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
                removed.append(path)
    return removed
