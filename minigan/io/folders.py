"""Output folders: one writer at a time, and nothing touched that the job did not make.

    check_writable_folder("runs/eyes")          # before minutes of work, not after
    with claim_folder("runs/eyes", "simgan run", usable=check) as claim:
        ...                                     # no other process writes here until the end
    with new_folder("eyes/photo", "eyes") as staging:   # eyes/photo.partial, renamed at the end
        write_folder(staging, images)

``claim_folder(path, job, usable)``

1. makes the folder (``mkdir`` is atomic: of two processes, one makes it) or takes the one
   there, refusing a symbolic link or a file;
2. locks ``FOLDER/.lock`` (``flock``; opened inside the folder without following a link, so a
   planted link is refused) and refuses when another process holds it, naming its pid;
3. deletes the temporary files (``atomic``) of the process that held the lock last, whose
   token it recorded in ``.lock``: a killed writer's leftovers, and no one else's files;
4. calls ``usable(claim)``, holding the lock: what was checked before may have changed by now,
   so this is the check that counts (it raises to refuse);
5. records this process (pid, job, token) in ``.lock``.

When the block ends ``.lock`` goes, and so does the folder when the claim made it and nothing
was written. A process may claim a folder it holds already (the inner claim does not lock).
``new_folder`` claims ``PATH.partial``, empties what a killed run of the same job left there,
and renames it to ``PATH`` when the block ends cleanly (deleting it otherwise): ``PATH``
appears whole or not at all.
"""
import contextlib
import errno
import json
import os
import shutil
import stat

from minigan.io.atomic import TOKEN, temp_prefix

try:
    import fcntl
except ImportError:  # no advisory locks on this system: claims go on without them
    fcntl = None

LOCK_FILE = ".lock"
PARTIAL_SUFFIX = ".partial"
_HELD = {}  # (st_dev, st_ino) of a folder -> the Claim this process holds on it


class FolderInUse(RuntimeError):
    """Another process holds the lock of a folder this one was to write."""


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
    if os.path.islink(path):
        raise OSError(errno.ELOOP, "is a symbolic link; give the folder's real path (minigan "
                                   "does not write through a link it did not make)", path)
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
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "names a folder; expected a file name", path)
    check_writable_folder(os.path.dirname(os.path.abspath(path)))
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, "no permission to overwrite it", path)


def is_empty_folder(path):
    return os.path.isdir(path) and not os.listdir(path)


def make_subfolders(root, *parts):
    """``root/parts...``, each level made if missing and refused when it is a link or a file
    (so a job never writes through a link planted in its folder); returns the path."""
    path = os.fspath(root)
    for part in parts:
        path = os.path.join(path, part)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            raise OSError(errno.ELOOP, "is a symbolic link; minigan writes only into folders "
                                       "of its own", path)
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "exists and is not a folder", path)
    return path


def _identity(info):
    return info.st_dev, info.st_ino


class Claim:
    """One process's hold on one folder (see the module docstring); use ``claim_folder``."""

    def __init__(self, path, job):
        self.path, self.job = os.path.abspath(os.fspath(path)), job
        self.created = False       # this claim made the folder
        self.previous = None       # the record of the last holder, when it left one
        self._dir = self._lock = self._key = None
        self._nested = False

    def names(self):
        """What the folder holds, but its lock file."""
        return sorted(name for name in os.listdir(self.path) if name != LOCK_FILE)

    def discard(self):
        """Empty the folder (it holds this job's work only), so that the release removes it."""
        for name in self.names():
            _remove(os.path.join(self.path, name))
        self.created = True

    def acquire(self, usable=None):
        check_writable_folder(self.path)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        try:
            os.mkdir(self.path)
            self.created = True
        except FileExistsError:
            pass
        try:
            self._dir = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
                                | os.O_CLOEXEC)
        except OSError as error:  # replaced by a link or a file since the check
            raise OSError(error.errno, "is not a folder of its own (a link or a file)",
                          self.path) from None
        self._key = _identity(os.fstat(self._dir))
        try:
            if self._key in _HELD:
                self._nested = True
            else:
                self._lock = _lock(self._dir, self.path)
                self.previous = _read_record(self._lock)
                token = (self.previous or {}).get("token")
                if isinstance(token, str) and token and token != TOKEN:
                    remove_temp_files(self.path, token)
            if usable is not None:
                usable(self)
            if not self._nested:
                _write_record(self._lock, self.job)
                _HELD[self._key] = self
        except BaseException:
            self.release()
            raise
        return self

    def release(self):
        if self._dir is None:
            return
        if not self._nested:
            _HELD.pop(self._key, None)
            if self._lock is not None:
                with contextlib.suppress(OSError):
                    if _identity(os.stat(LOCK_FILE, dir_fd=self._dir, follow_symlinks=False)) \
                            == _identity(os.fstat(self._lock)):
                        os.unlink(LOCK_FILE, dir_fd=self._dir)
                os.close(self._lock)
            if self.created:
                with contextlib.suppress(OSError):  # not empty, or gone: leave it
                    if not os.listdir(self._dir) and _identity(os.lstat(self.path)) == self._key:
                        os.rmdir(self.path)
        os.close(self._dir)
        self._dir = self._lock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()
        return False


def claim_folder(path, job, usable=None):
    """The folder ``path``, held by this process for ``job`` (a name such as "simgan run")
    until the ``with`` block ends; see the module docstring. Raises ``FolderInUse`` when
    another process holds it, OSError for a link or a file, and what ``usable`` raises."""
    return Claim(path, job).acquire(usable)


def _lock(dir_fd, path):
    """An fd of ``path/.lock``, locked; ``FolderInUse`` when another process holds it."""
    where = os.path.join(path, LOCK_FILE)
    for _ in range(10):
        try:
            fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
                         | os.O_CLOEXEC, 0o666, dir_fd=dir_fd)
        except OSError as error:
            raise OSError(error.errno, "cannot be the folder's lock (a link, a FIFO or another "
                          "non-file); remove it if it is not yours", where) from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
            os.close(fd)
            raise OSError(errno.EEXIST, "is not a lock file of minigan's (not a plain file, or "
                          "a hard link to another); remove it if it is not yours", where)
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            record = _read_record(fd) or {}
            os.close(fd)
            job = f", {record['job']}" if isinstance(record.get("job"), str) else ""
            raise FolderInUse(f"{path} is in use by another process (pid {record.get('pid', '?')}"
                              f"{job}); wait for it to finish or stop it first") from None
        try:  # the holder that just finished may have removed this file: lock the one there
            if _identity(os.stat(LOCK_FILE, dir_fd=dir_fd, follow_symlinks=False)) \
                    == _identity(info):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
    raise FolderInUse(f"{path}: its lock keeps changing hands; try again")


def _read_record(fd):
    try:
        record = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _write_record(fd, job):
    text = json.dumps({"pid": os.getpid(), "job": job, "token": TOKEN}) + "\n"
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode("utf-8"), 0)


def remove_temp_files(folder, token):
    """Delete the temporary files named with ``token`` anywhere under ``folder`` (links are not
    followed); returns their paths."""
    prefix = temp_prefix("", token)[:-1]
    removed = []
    for root, _, files in os.walk(folder):
        for name in files:
            if name.startswith(prefix):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(root, name))
                    removed.append(os.path.join(root, name))
    return sorted(removed)


@contextlib.contextmanager
def new_folder(path, job="new folder"):
    """Yield a staging folder ``path + ".partial"`` that becomes ``path`` when the block ends
    without an error (and is deleted when it ends with one).

    ``path`` must not exist, or be an empty folder (FileExistsError otherwise, also when one
    appeared meanwhile); a ``.partial`` that is not a killed run's of the same ``job`` is
    refused.
    """
    path = os.path.abspath(os.fspath(path))
    _must_be_free(path)

    def usable(claim):
        _must_be_free(path)
        if claim.created or not claim.names():
            return
        if (claim.previous or {}).get("job") != job:
            raise FileExistsError(errno.EEXIST, f"exists and was not left by a stopped "
                                  f"'{job}' of minigan's; remove it or choose another output",
                                  claim.path)
        for name in claim.names():  # what a killed run of this job left
            _remove(os.path.join(claim.path, name))

    with claim_folder(path + PARTIAL_SUFFIX, job, usable) as claim:
        try:
            yield claim.path
            _must_be_free(path)
            os.replace(claim.path, path)   # while the lock is held
            claim.path = path
        except BaseException:
            if claim.path != path:
                claim.discard()
            raise


def _must_be_free(path):
    if os.path.lexists(path) and not (os.path.isdir(path) and not os.path.islink(path)
                                      and not os.listdir(path)):
        raise FileExistsError(errno.EEXIST, "exists and is not empty; nothing was written", path)


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)
