"""``DataError``: a file that cannot be read as eye data, and the bookkeeping for ``skip_bad``.

Every loader raises ``DataError`` (a ``ValueError``) naming the file and what was expected.
With ``skip_bad=True`` a loader hands each such error to a ``BadFiles`` list instead, keeps
going, and the dataset it returns carries that list as ``dataset.skipped``.
"""


class DataError(ValueError):
    """A data file is missing, unreadable or not in the expected format.

    ``path`` is the offending file (or folder); the message says what was expected.
    """

    def __init__(self, path, message):
        self.path = str(path)
        self.reason = message
        super().__init__(f"{path}: {message}")


class BadFiles(list):
    """The ``DataError``s a loader skipped; raises instead when ``skip_bad`` is False.

    Use it as ``with bad.guard(): ...load one file...``: a ``DataError`` inside the block is
    re-raised when ``skip_bad`` is False and recorded (then ignored) when it is True.
    """

    def __init__(self, skip_bad):
        super().__init__()
        self.skip_bad = bool(skip_bad)

    def guard(self):
        return _Guard(self)

    def summary(self):
        """One line: how many files were skipped and the first reason."""
        if not self:
            return "no files skipped"
        return f"skipped {len(self)} bad file(s); first: {self[0]}"


class _Guard:
    def __init__(self, bad):
        self.bad = bad

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, DataError) and self.bad.skip_bad:
            self.bad.append(error)
            return True  # swallow: the caller moves on to the next file
        return False
