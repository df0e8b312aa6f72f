"""Record PyTorch's answers to the habit tests once: ``python tests/golden/make_torch_golden.py``.

Runs every case of ``tests/test_pytorch_habits.py`` (``CASES``) with torch and writes the
results to ``tests/golden/torch_habits.npz`` (compressed, no pickle; ``tests/torch_golden.py`` says
how results are stored), so the tests compare with PyTorch where torch is not installed
(CI). Rerun it after adding a case; with torch installed the tests also check that the file
still agrees with live torch.
"""
import pathlib
import sys

TESTS = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS), str(TESTS.parent)]   # the test module, and this clone's minigan

import numpy as np  # noqa: E402
import torch  # noqa: E402

import test_pytorch_habits as habits  # noqa: E402
from minigan.io.atomic import atomic_file  # noqa: E402
from torch_golden import GOLDEN, encode  # noqa: E402


def main():
    torch.manual_seed(0)
    lib = habits.torch_lib(torch)
    arrays = encode({key: case(lib) for key, case in habits.CASES.items()})
    with atomic_file(GOLDEN, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    print(f"{GOLDEN}: {len(habits.CASES)} cases, torch {torch.__version__}, "
          f"{GOLDEN.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
