"""The teaching versions of the convolution kernel (kernels/dev/: v1 naive, v2 tiled) against the
NumPy reference through the kernel lab, on every CUDA device under test (the emulator always):
the float32 bound of ``kernel_lab.error_bound`` in float32, and the same bound with float64's
eps in float64."""
import numpy as np
import pytest

from minigan.backend import to_numpy
from minigan.benchmarks import kernel_lab
from minigan.grading import stubs

from op_cases import conv_id

DTYPES = [np.float32, np.float64]

# (N, C, H, W, F, K, stride, padding): small enough for the emulator, with the edge cases.
SHAPES = [
    (2, 1, 35, 55, 64, 3, 1, 1),     # the refiner's first conv on a 35x55 eye
    (1, 3, 7, 9, 5, 5, 1, 0),        # batch 1, odd sizes, K=5
    (3, 3, 13, 11, 7, 7, 2, 1),      # K=7, stride 2
    (1, 5, 17, 19, 130, 3, 2, 0),    # F > 128: many row tiles
    (2, 20, 5, 5, 17, 1, 2, 0),      # 1x1 with stride 2, F just over a 16-row tile
    (1, 1, 1, 1, 1, 1, 1, 0),        # the smallest
    (2, 3, 8, 8, 4, 3, 3, 2),        # stride 3, padding 2
    (1, 70, 6, 5, 3, 3, 1, 1),       # C*K*K = 630: many reduction tiles, a ragged last one
    (2, 32, 9, 14, 2, 1, 1, 0),      # the discriminator's last conv: 2 logits per patch
]


def assert_matches_reference(version, shape, dtype, device):
    result = kernel_lab.check(version, shape, dtype, device)
    assert result.nan_count == 0, f"{version}: {result.nan_count} outputs are NaN (never written?)"
    assert result.ok, (f"{version}: error {result.max_error:.3g} is {result.worst:.3g} times the "
                       f"rounding bound")


@pytest.mark.task4_1
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=conv_id)
def test_v1_naive_matches_the_reference(shape, dtype, cuda_device):
    assert_matches_reference("v1", shape, dtype, cuda_device)


@pytest.mark.task4_2
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=conv_id)
def test_v2_tiled_matches_the_reference(shape, dtype, cuda_device):
    assert_matches_reference("v2", shape, dtype, cuda_device)


@pytest.mark.parametrize("version", [pytest.param("v1", marks=pytest.mark.task4_1),
                                     pytest.param("v2", marks=pytest.mark.task4_2)])
def test_without_bias_the_bias_is_not_read(version, xp):
    x, w, _ = kernel_lab.inputs((2, 3, 6, 7, 5, 3, 1, 1), np.float64)
    y = kernel_lab.forward(version, xp.asarray(x), xp.asarray(w), None, 1, 1)
    expected = kernel_lab.forward("v3", xp.asarray(x), xp.asarray(w), None, 1, 1)
    np.testing.assert_allclose(to_numpy(y), to_numpy(expected), rtol=1e-12, atol=1e-12)


def test_the_lab_knows_three_versions_and_refuses_others():
    assert list(kernel_lab.VERSIONS) == ["v1", "v2", "v3"]
    with pytest.raises(ValueError, match="unknown version 'v9'; known: v1, v2, v3"):
        kernel_lab.version("v9")


def test_v3_is_minigans_kernel_and_takes_no_replacement_source(xp):
    x, w, b = (xp.asarray(a) for a in kernel_lab.inputs((1, 2, 5, 5, 3, 3, 1, 1), np.float32))
    with pytest.raises(ValueError, match="code= replaces v1 or v2 only"):
        kernel_lab.forward("v3", x, w, b, 1, 1, code="")


def test_host_arrays_are_refused_before_any_launch():
    x, w, b = kernel_lab.inputs((1, 2, 5, 5, 3, 3, 1, 1), np.float32)
    with pytest.raises(TypeError, match="x must be an array on a CUDA device"):
        kernel_lab.forward("v1", x, w, b, 1, 1)


def test_timing_needs_a_real_gpu():
    with pytest.raises(ValueError, match="timings need a real GPU"):
        kernel_lab.time_forward("v2", (1, 1, 5, 5, 1, 3, 1, 1), device="emulator")


@pytest.mark.emulator
def test_a_kernel_that_writes_nothing_is_reported_as_nan_on_the_emulator():
    path = "kernels/dev/conv2d_v1_naive.cu"
    stubbed = stubs.stub(kernel_lab.source("v1"), path, "conv2d_v1_naive", "4.1", "task4_1")
    result = kernel_lab.check("v1", (1, 2, 5, 6, 3, 3, 1, 1), np.float32, "emulator", code=stubbed)
    assert not result.ok and result.nan_count == 3 * 5 * 6


@pytest.mark.parametrize("name", ["v1", "v2"])
def test_nvrtc_compiles_the_teaching_kernels_without_a_warning(name):
    """What the lab hands CuPy's RawModule on a GPU, compiled by every NVRTC found (no GPU
    needed; the helpers and the skip rule are test_kernels_compile.py's)."""
    from test_kernels_compile import (KERNELS, NVRTC_PATHS, _load_nvrtc, _nvrtc_compile,
                                      _skip_when_builtins_are_missing)
    if not NVRTC_PATHS:
        pytest.skip("libnvrtc not found (pip install nvidia-cuda-nvrtc-cu12 nvidia-cuda-nvrtc)")
    version = kernel_lab.version(name)
    expressions = [f"{version.kernel}<{t}>" for t in ("float", "double")]
    for path in NVRTC_PATHS:
        for arch in ("compute_80", "compute_90"):
            options = ["--std=c++17", f"-I{KERNELS}", f"-arch={arch}"]
            try:
                ptx, lowered, log = _nvrtc_compile(_load_nvrtc(path), kernel_lab.source(name),
                                                   version.source, options, expressions)
            except AssertionError as error:
                _skip_when_builtins_are_missing(path, str(error))
                raise
            assert not log.strip(), log
            assert all(f".entry {entry}(" in ptx for entry in lowered.values())
