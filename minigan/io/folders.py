"""Output folders: can one be written at a path, and one that appears whole or not at all.

    check_writable_folder("runs/eyes")         # before minutes of work, not after
    with new_folder("eyes/photo") as staging:  # written into; renamed to eyes/photo at the end
        write_folder(staging, images)

``new_folder`` writes into a hidden sibling ``.tmp-<name>-*`` and renames it to the target only
when the block ends cleanly; on an error it is deleted, and one that a killed process left is
deleted the next time a folder of that name is made.
"""
import contextlib
import errno
import glob
import os
import shutil
import tempfile

from minigan.io.atomic import TEMP_PREFIX, umask


def _nearest_existing(path):
    path = os.path.abspath(path)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def check_writable_folder(path):
    """Raise OSError naming ``path`` when it cannot be (or become) a folder this process writes."""
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise NotADirectoryError(errno.ENOTDIR, "exists and is not a folder", path)
    existing = _nearest_existing(path)
    if not os.path.isdir(existing):
        raise NotADirectoryError(errno.ENOTDIR, "is a file, so no folder can be made inside it",
                                 existing)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "no permission to write here", existing)


def check_writable_file(path):
    """Raise OSError naming ``path`` when no file can be written there (a folder, no access)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "is a folder; expected a file name", path)
    check_writable_folder(os.path.dirname(os.path.abspath(path)))
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, "no permission to overwrite it", path)


def is_empty_folder(path):
    return os.path.isdir(path) and not os.listdir(path)


@contextlib.contextmanager
def new_folder(path):
    """Yield a staging folder that becomes ``path`` when the block ends without an error.

    ``path`` must not exist, or be an empty folder (FileExistsError otherwise).
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not is_empty_folder(path):
        raise FileExistsError(errno.EEXIST, "exists and is not empty; nothing was written", path)
    parent, name = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    prefix = f"{TEMP_PREFIX}{name}-"
    for stale in glob.glob(os.path.join(glob.escape(parent), glob.escape(prefix) + "*")):
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed run of this same job
    staging = tempfile.mkdtemp(prefix=prefix, dir=parent)
    try:
        yield staging
        os.chmod(staging, 0o777 & ~umask())
        os.replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

