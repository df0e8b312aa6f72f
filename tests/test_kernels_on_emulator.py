"""The GPU test-suite, tests/test_cuda_kernels.py, run on the CPU through the CUDA emulator.

tests/cuda_emulator/ is a test tool, not CuPy: g++ compiles the real kernels/*.cu against
cuda_emu.h (CUDA threads as fibers, __syncthreads as a block barrier, warp shuffles) into a
library, and a fake ``cupy`` package (cuda_emulator/fakecupy) launches its kernels from
``RawModule`` and checks each launch's argument types, grid and block limits, and memory written
outside the arrays. This module builds the library once, then runs the GPU test-suite in a
subprocess with the fake ``cupy`` first on PYTHONPATH, so that CI without a GPU checks every
kernel's index math, bounds and barriers, forward and backward, against the NumPy references.
It says nothing about speed, nor about real warp scheduling or the GPU memory model (see the
docstring of cuda_emulator/fakecupy/cupy/__init__.py).

Skips when g++ is missing, and where a real CuPy sees a CUDA device: there the GPU tests run on
the device directly.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EMULATOR = ROOT / "tests" / "cuda_emulator"
FAKECUPY = EMULATOR / "fakecupy"
KERNELS = ROOT / "kernels"
GPU_SUITE = "tests/test_cuda_kernels.py"
# 263 of its 264 tests pass on the emulator (the one that needs two GPUs skips). A floor well
# above zero catches a run where the fake cupy is not picked up and everything skips.
MIN_PASSED = 255
ENGINE_SUITE = "tests/test_gpu_engine.py"   # the engine on CuPy arrays: 12 tests
ENGINE_MIN_PASSED = 12
FUSED_SUITE = "tests/test_fused_conv.py"    # the fused conv op, CPU and GPU: 23 tests
FUSED_MIN_PASSED = 23
SUITE_TIMEOUT_S = 900   # the suite takes about 1 minute on 2 busy cores


def _real_cuda_device():
    """True when a real CuPy (not the emulator's fake) imports and sees a CUDA device."""
    try:
        import cupy
    except Exception:
        return False
    if getattr(cupy, "__emulator__", False):
        return False
    try:
        return bool(cupy.cuda.is_available())
    except Exception:
        return False


pytestmark = pytest.mark.skipif(_real_cuda_device(), reason="a real CUDA device is usable: "
                                f"{GPU_SUITE} runs on it directly, not on the CPU emulator")


@pytest.fixture(scope="module")
def emulator_env(tmp_path_factory):
    """Builds libemu.so from tests/cuda_emulator (outside the repository, once per test run) and
    returns the environment that makes a subprocess import the fake cupy running it."""
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.skip("g++ is not on PATH: cannot build the CUDA emulator (tests/cuda_emulator)")
    library = tmp_path_factory.mktemp("cuda_emulator") / "libemu.so"
    command = [compiler, "-std=c++20", "-O2", "-shared", "-fPIC", "-pthread", f"-I{KERNELS}",
               str(EMULATOR / "emu_kernels.cpp"), "-o", str(library)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, ("building the CUDA emulator failed (a CUDA feature that "
                                   "tests/cuda_emulator/cuda_emu.h lacks?)\n$ "
                                   + " ".join(command) + "\n" + built.stdout + built.stderr)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(FAKECUPY), str(ROOT)]
                                        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["EMU_LIB"] = str(library)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTEST_ADDOPTS", None)   # the inner run's options are the ones given below
    return env


def _run(command, env, timeout):
    try:
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as error:
        output = "".join(part.decode(errors="replace") if isinstance(part, bytes) else part
                         for part in (error.stdout or "", error.stderr or ""))
        print(output)
        pytest.fail(f"{' '.join(command)} ran past {timeout} s; its output so far:\n{output}")


PREFLIGHT = r"""
import numpy as np
import cupy
from minigan import backend
from minigan.cuda.compiler import SOURCES

assert getattr(cupy, "__emulator__", False), f"imported {cupy.__file__}, not the emulator's cupy"
assert backend.cuda_available(), backend.cuda_unavailable_reason()
names = [name for _, expressions in SOURCES.values() for name in expressions]
for name in names:
    cupy.RawKernel(name)   # RuntimeError for a kernel that emu_kernels.cpp does not register

# The guard zones work: reduce_splits writes out[0:count], one element past this out.
out = cupy.zeros((4,), np.float32)
try:
    cupy.RawKernel("reduce_splits<float>")((1,), (256,), (cupy.zeros((10,), np.float32), out,
                                                          np.int32(2), np.int64(5)))
except RuntimeError as error:
    assert "out-of-bounds write after" in str(error), error
else:
    raise AssertionError("an out-of-bounds write went unnoticed")
print(f"emulator ok: {len(names)} kernels")
"""


def test_emulator_provides_every_kernel_minigan_asks_for(emulator_env):
    """The fake cupy is the one imported, minigan.backend sees a usable device, every name
    expression of minigan.cuda.SOURCES is registered, and a write out of bounds is caught."""
    result = _run([sys.executable, "-c", PREFLIGHT], emulator_env, timeout=300)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        print(output)
    assert result.returncode == 0 and "emulator ok" in result.stdout, output


def _summary_counts(output):
    """{'passed': 239, 'skipped': 1, ...} from pytest's final summary line."""
    lines = [line for line in output.splitlines() if re.search(r"\bin [\d.]+s\b", line)]
    if not lines:
        return {}
    return {word.rstrip("s") if word in ("errors", "warnings") else word: int(count)
            for count, word in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|"
                                          r"xpassed|deselected|warnings?)", lines[-1])}


@pytest.mark.parametrize("suite, min_passed", [(GPU_SUITE, MIN_PASSED),
                                                (ENGINE_SUITE, ENGINE_MIN_PASSED),
                                                (FUSED_SUITE, FUSED_MIN_PASSED)])
def test_gpu_suite_passes_on_the_emulator(emulator_env, suite, min_passed):
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short",
               suite]
    result = _run(command, emulator_env, timeout=SUITE_TIMEOUT_S)
    output = result.stdout + result.stderr
    counts = _summary_counts(result.stdout)
    ok = (result.returncode == 0 and counts.get("failed", 0) == 0
          and counts.get("error", 0) == 0 and counts.get("passed", 0) >= min_passed)
    if not ok:
        print(output)
    how = (f"killed by signal {-result.returncode} (a kernel accessing memory far out of "
           f"bounds? the traceback above names the test)" if result.returncode < 0
           else f"exit {result.returncode}")
    assert ok, (f"{suite} on the CUDA emulator: {how}, {counts} "
                f"(at least {min_passed} must pass)\n{output[-20000:]}")


SIMGAN_ON_GPU = r"""
import json, sys
import numpy as np
from minigan.backend import precision
from minigan.data.eyes import render_eyes
from minigan.simgan import load_refiner
from minigan.experiments.ablation_study import ablation_configs
from minigan.simgan.trainer import train

out = sys.argv[1]
precision.allow_tf32 = False   # compared with a CPU run at fp32 tolerance below
tiny = {device: ablation_configs("tiny", device=device)[0] for device in ("cpu", "cuda")}
synthetic, real = render_eyes(16, "synthetic", seed=1), render_eyes(16, "photo", seed=2)
for device, config in tiny.items():
    train(config, synthetic, real, f"{out}/{device}", progress=False)
config = json.load(open(f"{out}/cuda/config.json"))
assert config["device_used"] == "cuda", config["device_used"]
cpu = load_refiner(f"{out}/cpu/checkpoints/last.npz", device="cpu")
gpu = load_refiner(f"{out}/cuda/checkpoints/last.npz", device="cpu")
for (name, a), (_, b) in zip(cpu.named_parameters(), gpu.named_parameters()):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-4, err_msg=name)
train(tiny["cuda"].replace(steps=3), synthetic, real, f"{out}/cuda", progress=False,
      resume=True)
print("simgan on the emulated gpu ok")
"""


def test_simgan_trains_and_evaluates_on_the_emulated_gpu(emulator_env, tmp_path):
    """The whole GPU path of the product, not only the kernels: a tiny SimGAN run on 'cuda'
    ends with the refiner a CPU run of the same seed gets (within float tolerance) and
    resumes; then refine and evaluate_gaze run on 'cuda' from that checkpoint."""
    result = _run([sys.executable, "-c", SIMGAN_ON_GPU, str(tmp_path)], emulator_env, 600)
    assert result.returncode == 0 and "emulated gpu ok" in result.stdout, \
        result.stdout + result.stderr[-20000:]
    checkpoint = str(tmp_path / "cuda" / "checkpoints" / "last.npz")
    commands = [["minigan.refine", "--checkpoint", checkpoint, "--input", "builtin:synthetic",
                 "--n", "6", "--out", str(tmp_path / "refined")],
                ["minigan.evaluate_gaze", "--refiner", checkpoint, "--preset", "tiny",
                 "--out", str(tmp_path / "eval")]]
    for command in commands:
        result = _run([sys.executable, "-m", *command, "--device", "cuda"], emulator_env, 600)
        assert result.returncode == 0, result.stdout + result.stderr[-20000:]
    assert (tmp_path / "refined" / "labels.jsonl").is_file()
    assert (tmp_path / "eval" / "results.json").is_file()
