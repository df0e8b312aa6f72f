"""The CPU emulator of the CUDA device (minigan.emulator): it compiles whatever kernel source it is
given, catches the mistakes it promises to catch, and runs the whole GPU path of the product.

The kernels' own suites run on it through the ``cuda_device`` fixture (tests/test_op_*.py,
tests/test_gpu_engine.py); this file checks the emulator itself.
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minigan import backend
from minigan.backend import precision

pytestmark = pytest.mark.emulator
emu = pytest.importorskip("minigan.emulator")
ROOT = Path(__file__).resolve().parent.parent

SCALE = r"""// scale.cu: a kernel written for this test.
template <typename T>
__global__ void __launch_bounds__(64) scale(T* x, T factor, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= factor;
}
template __global__ void scale<float>(float*, float, int);

__global__ void block_sum(const float* x, float* out, int n) {
    __shared__ float partial[64];
    partial[threadIdx.x] = threadIdx.x < n ? x[threadIdx.x] : 0.0f;
    __syncthreads();
    if (threadIdx.x == 0) {
        float total = 0;
        for (int i = 0; i < 64; ++i) total += partial[i];
        out[0] = total;
    }
}

__global__ void write_one_past(float* x, int n) {
    if (threadIdx.x == 0) x[n] = 1.0f;
}

__global__ void forgot_the_barrier(const float* x, float* out) {
    __shared__ float partial[64];
    if (threadIdx.x > 0) partial[threadIdx.x] = x[threadIdx.x];
    if (threadIdx.x == 0) out[0] = partial[63];   // read before thread 63 wrote it
}

__global__ void barrier_in_a_branch(float* x) {
    if (threadIdx.x < 32) __syncthreads();
    x[threadIdx.x] = 0;
}

__global__ void copy_shifted(const float* x, float* y, int n, int shift) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i + shift];
}

__global__ void copy_vectors(const float* x, float* y, int n) {
    int i = 4 * threadIdx.x;
    if (i < n) *reinterpret_cast<float4*>(y + i) = *reinterpret_cast<const float4*>(x + i);
}
"""
NAMES = ["scale<float>", "block_sum", "write_one_past", "forgot_the_barrier",
         "barrier_in_a_branch", "copy_shifted", "copy_vectors"]


@pytest.fixture(scope="module")
def module():
    return emu.RawModule(code=SCALE, name_expressions=NAMES)


def test_any_source_compiles_and_runs_with_its_signature_and_launch_bound(module):
    kernel = module.get_function("scale<float>")
    assert kernel.signature == "pfi" and kernel.max_threads == 64
    x = emu.asarray(np.arange(100, dtype=np.float32))
    kernel((2,), (64,), (x, np.float32(2.0), np.int32(100)))
    np.testing.assert_array_equal(x.get(), 2 * np.arange(100, dtype=np.float32))


def test_shared_memory_and_barriers_work(module):
    out = emu.zeros((1,), np.float32)
    module.get_function("block_sum")((1,), (64,), (emu.asarray(np.ones(50, np.float32)), out,
                                                   np.int32(50)))
    assert out.get()[0] == 50


def test_a_block_over_the_launch_bound_is_refused(module):
    x = emu.zeros((256,), np.float32)
    with pytest.raises(ValueError, match="over the kernel's launch bound 64"):
        module.get_function("scale<float>")((1,), (128,), (x, np.float32(1), np.int32(256)))


@pytest.mark.parametrize("args, message", [
    (lambda x: (x, 2.0, np.int32(4)), "argument 1 must be numpy.float32"),
    (lambda x: (x, np.float32(2), 4), "argument 2 must be numpy.int32"),
    (lambda x: (x.get(), np.float32(2), np.int32(4)), "argument 0 must be an array of the "
                                                      "emulated device"),
])
def test_arguments_are_checked_against_the_cpp_signature(module, args, message):
    x = emu.zeros((4,), np.float32)
    with pytest.raises(TypeError, match=message):
        module.get_function("scale<float>")((1,), (32,), args(x))


def test_a_write_out_of_bounds_is_caught_and_named(module):
    x = emu.zeros((10,), np.float32)
    with pytest.raises(RuntimeError, match=r"^write_one_past: out-of-bounds write of x \(argument "
                                           r"0: float32 \(10,\)\): element 10, past its last "
                                           r"element 9 \(byte offset 40\); by thread 0 of block "
                                           r"\(0, 0, 0\)$"):
        module.get_function("write_one_past")((1,), (32,), (x, np.int32(10)))


@pytest.mark.parametrize("shift, element, side", [
    (1, 64, "past its last element 63"),       # one past the end: inside the guard zone
    (-3, -3, "before its first element 0"),    # before the start
])
def test_a_read_out_of_bounds_stops_the_launch_and_names_argument_element_and_thread(
        module, shift, element, side):
    x, y = emu.asarray(np.arange(64, dtype=np.float32)), emu.empty((64,), np.float32)
    kernel = module.get_function("copy_shifted")
    thread = 63 if shift > 0 else 0   # the first thread whose read is outside x
    with pytest.raises(RuntimeError) as caught:
        kernel((2,), (32,), (x, y, np.int32(64), np.int32(shift)))
    assert str(caught.value) == (f"copy_shifted: out-of-bounds read of x (argument 0: float32 "
                                 f"(64,)): element {element}, {side} (byte offset {4 * element}); "
                                 f"by thread {thread % 32} of block ({thread // 32}, 0, 0)")
    kernel((2,), (32,), (x, y, np.int32(64), np.int32(0)))   # the next launch runs normally
    np.testing.assert_array_equal(y.get(), x.get())


def test_a_vector_read_that_runs_past_the_end_is_caught(module):
    x, y = emu.asarray(np.arange(6, dtype=np.float32)), emu.zeros((8,), np.float32)
    with pytest.raises(RuntimeError, match=r"read of x .*: element 4, 16 bytes from there run "
                                           r"past its last element 5 .*by thread 1 "):
        module.get_function("copy_vectors")((1,), (32,), (x, y, np.int32(6)))
    module.get_function("copy_vectors")((1,), (32,), (y, y, np.int32(8)))


def test_shared_memory_read_before_it_is_written_is_nan(module):
    out = emu.zeros((1,), np.float32)
    module.get_function("forgot_the_barrier")((1,), (64,), (emu.asarray(np.ones(64, np.float32)),
                                                            out))
    assert np.isnan(out.get()[0])


def test_a_barrier_not_every_thread_reaches_fails_the_launch(module):
    with pytest.raises(RuntimeError, match="__syncthreads not reached by every thread"):
        module.get_function("barrier_in_a_branch")((1,), (64,), (emu.zeros((64,), np.float32),))


def test_a_source_that_does_not_compile_reports_the_compiler_message():
    with pytest.raises(RuntimeError, match=r"could not compile(.|\n)*broken.cu"):
        emu.RawModule(code="// broken.cu\n__global__ void f(float* x) { x[0] = y; }",
                      name_expressions=["f"])


def test_builds_go_to_the_cache_the_environment_names_and_say_so(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("MINIGAN_EMULATOR_CACHE", str(tmp_path / "cache"))
    code = "// tiny.cu\n__global__ void tiny(float* x) { x[threadIdx.x] = 1; }"
    emu.RawModule(code=code, name_expressions=["tiny"])
    assert f"compiling tiny.cu with g++ into {tmp_path / 'cache'}" in capfd.readouterr().err
    assert list((tmp_path / "cache").glob("*.so"))
    emu.RawModule(code=code, name_expressions=["tiny"])   # cached: compiled once
    assert "compiling" not in capfd.readouterr().err


def test_a_kernel_built_without_the_access_checks_still_runs(monkeypatch, tmp_path):
    """What the emulator falls back to where the shadow memory cannot be mapped."""
    from minigan.emulator import kernels
    monkeypatch.setattr(kernels, "CHECK_FLAGS", ())
    monkeypatch.setenv("MINIGAN_EMULATOR_CACHE", str(tmp_path))
    module = emu.RawModule(code=SCALE, name_expressions=NAMES)
    x = emu.asarray(np.arange(64, dtype=np.float32))
    module.get_function("scale<float>")((1,), (64,), (x, np.float32(3), np.int32(64)))
    np.testing.assert_array_equal(x.get(), 3 * np.arange(64, dtype=np.float32))


def test_unwritten_outputs_are_nan_and_mixing_with_host_arrays_is_an_error():
    assert np.isnan(emu.empty((3,), np.float32).get()).all()
    with pytest.raises(TypeError, match="mixed with a host NumPy array"):
        emu.asarray(np.ones(3)) + np.ones(3)
    assert backend.device_of(emu.asarray(np.ones(3)).sum()) == "emulator"


def test_the_emulator_is_a_device_of_its_own():
    x = backend.to_device(np.arange(3.0), "emulator")
    assert backend.device_of(x) == "emulator" and backend.get_array_module(x) is emu
    np.testing.assert_array_equal(backend.to_numpy(x), np.arange(3.0))
    assert backend.resolve_device("emulator") == "emulator"


SIMGAN_CONFIG = dict(steps=2, pretrain_refiner_steps=1, pretrain_discriminator_steps=1,
                     batch_size=4, history_batches=2, refiner_channels=4, refiner_blocks=1,
                     discriminator_width=0.125, n_synthetic=16, n_real=16, sample_every=1,
                     checkpoint_every=1)


def test_simgan_trains_resumes_refines_and_evaluates_on_the_emulator(tmp_path):
    """The whole GPU path of the product, not only the kernels: a tiny SimGAN run on the emulated
    device ends with the refiner a CPU run of the same seed gets (within float tolerance) and
    resumes; then refine and evaluate_gaze run on it as commands."""
    from minigan.data.eyes import render_eyes
    from minigan.simgan import TrainConfig, load_refiner, train

    synthetic, real = render_eyes(16, "synthetic", seed=1), render_eyes(16, "photo", seed=2)
    for device in ("cpu", "emulator"):
        with precision.tf32(False):   # compared with the CPU run at fp32 tolerance below
            train(TrainConfig.cpu_preset(device=device, **SIMGAN_CONFIG), synthetic, real,
                  tmp_path / device, progress=False)
    on_cpu = load_refiner(tmp_path / "cpu" / "checkpoints" / "last.npz", device="cpu")
    emulated = load_refiner(tmp_path / "emulator" / "checkpoints" / "last.npz", device="cpu")
    for (name, a), (_, b) in zip(on_cpu.named_parameters(), emulated.named_parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-4, err_msg=name)
    train(TrainConfig.cpu_preset(device="emulator", **dict(SIMGAN_CONFIG, steps=3)), synthetic,
          real, tmp_path / "emulator", progress=False, resume=True)

    checkpoint = str(tmp_path / "emulator" / "checkpoints" / "last.npz")
    commands = [["minigan.refine", "--checkpoint", checkpoint, "--input", "builtin:synthetic",
                 "--n", "6", "--out", str(tmp_path / "refined")],
                ["minigan.evaluate_gaze", "--refiner", checkpoint, "--preset", "tiny",
                 "--out", str(tmp_path / "eval")]]
    for command in commands:
        result = subprocess.run([sys.executable, "-m", *command, "--device", "emulator"],
                                cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr[-20000:]
    assert (tmp_path / "refined" / "labels.jsonl").is_file()
    assert (tmp_path / "eval" / "results.json").is_file()
