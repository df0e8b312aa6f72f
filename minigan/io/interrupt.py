"""Ctrl-C at a safe point: a long job stops where it can save what it has done.

    with StopRequests() as stop:
        for chunk in work:
            do(chunk)
            if stop.requested:            # "SIGINT" or "SIGTERM" once one arrived
                save()
                raise JobInterrupted("stopped after chunk 7; run the same command to go on")

The first SIGINT (Ctrl-C) or SIGTERM only sets ``stop.requested``: the job finishes the step it
is in, saves, and raises ``JobInterrupted``. A second one raises ``KeyboardInterrupt`` at once,
for a user who cannot wait (what was saved before stays whole: files are written atomically).
Outside the main thread signals cannot be caught, and Ctrl-C keeps its usual meaning.
"""
import signal
import sys
import threading

SIGNALS = ("SIGINT", "SIGTERM")


class JobInterrupted(KeyboardInterrupt):
    """A job stopped at a safe point on request; the message says how to continue it."""


class StopRequests:
    """Catch SIGINT/SIGTERM inside the block and turn the first into ``self.requested``."""

    def __init__(self, notice="stopping at the next safe point (saving first); "
                              "press Ctrl-C again to stop at once", stream=None):
        self.notice, self.stream = notice, stream
        self.requested = None
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for name in SIGNALS:
                number = getattr(signal, name, None)
                if number is not None:
                    self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info):
        self._restore()
        return False

    def _handle(self, number, frame):
        if self.requested is not None:
            self._restore()
            raise KeyboardInterrupt
        self.requested = signal.Signals(number).name
        if self.notice:
            print(f"\n{self.requested}: {self.notice}", file=self.stream or sys.stderr, flush=True)

    def _restore(self):
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}
