"""What every tutorial step shares: its checks (each value against a reference, printed as
nn-zero-to-hero's cmp() does; the step exits with status 1 if any fails), the quick mode CI uses,
and the line that says where kernels run.

    from lesson import Checks
    check = Checks()
    check.close("conv: im2col vs loops", fast, loops, atol=1e-4)
    check.true("argmax is int8", argmax.dtype == np.int8)
    check.finish()
"""
import os
import pathlib
import shutil
import sys

import numpy as np

QUICK = os.environ.get("MINIGAN_TUTORIAL_QUICK") == "1"   # smaller sizes, for CI


class Checks:
    def __init__(self):
        self.failed = []

    def _say(self, ok, name, detail):
        print(f"  {'ok  ' if ok else 'FAIL'}  {name:<52} {detail}")
        if not ok:
            self.failed.append(name)

    def close(self, name, value, reference, rtol=1e-7, atol=0.0):
        """``value`` equals ``reference`` within atol + rtol * |reference|, elementwise."""
        value = np.asarray(value, dtype=np.float64)
        reference = np.asarray(reference, dtype=np.float64)
        if value.shape != reference.shape:
            self._say(False, name, f"shape {value.shape} != {reference.shape}")
            return
        diff = np.abs(value - reference)
        ok = bool(np.all(diff <= atol + rtol * np.abs(reference)))
        exact = bool(np.array_equal(value, reference))
        worst = float(np.nanmax(diff)) if diff.size and not np.isnan(diff).all() else float("nan")
        self._say(ok, name, f"exact {exact!s:5}  maxdiff {worst:.2e}")

    def true(self, name, condition, detail=""):
        self._say(bool(condition), name, detail)

    def raises(self, name, error, run, match=""):
        """``run()`` raises ``error`` whose text contains ``match``."""
        try:
            run()
        except error as caught:
            self._say(match in str(caught), name, f"{error.__name__}: {str(caught)[:60]}")
            return
        self._say(False, name, f"no {error.__name__} was raised")

    def finish(self):
        if self.failed:
            print(f"{len(self.failed)} check(s) FAILED: {', '.join(self.failed)}")
            sys.exit(1)
        print("every check passed")


def output_folder(step):
    """A fresh folder ``runs/tutorials/<step>/`` (below the current folder) for what a step
    writes; the step's output from an earlier run is replaced."""
    folder = pathlib.Path("runs", "tutorials", step)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def kernel_device():
    """Where this step's kernels run (a GPU, else the CPU emulator), said out loud."""
    from minigan.backend import kernel_device as pick
    device = pick()
    print(f"kernels run on: {device}" + (" (no GPU here: minigan's CPU emulator runs the real "
                                         ".cu source; it checks results, not speed)"
                                         if device == "emulator" else ""))
    return device
