"""conv2d: x (N, C, H, W) * weight (F, C, K, K) + bias (F,) -> y (N, F, Ho, Wo).

The NumPy references (the plain im2col one a student writes, the fast one the CPU backend runs)
against loops; their backward passes as adjoints and central differences; the op's float64
gradient check on every device; the kernels (``minigan.cuda``) against the references on every
CUDA device, in strict fp32 and with TF32 tensor cores; the argument checks. Cases are
``(N, C, H, W, F, K, stride, padding)`` (``op_cases``).
"""
import numpy as np
import pytest

from minigan import F, cuda, gradcheck, reference
from minigan.backend import precision, to_numpy
from minigan.cuda import checks
from minigan.cpu import conv_blocked, threads
from minigan.reference import conv_spec

from op_cases import (assert_close, central_differences, conv_id, conv_inputs, f64, output_size,
                      per_device, randn, sampled_indices)

pytestmark = pytest.mark.usefixtures("strict_fp32")   # TF32 only where a test asks for it


def conv_implementations(task):
    """Both CPU convolutions; the plain one carries the homework ``task``'s marker (it is the
    code a student writes; the fast one is what the CPU backend runs)."""
    return pytest.mark.parametrize("impl", [pytest.param(conv_spec, id="plain", marks=task),
                                            pytest.param(conv_blocked, id="fast")])


def dot(a, b):
    return float(np.sum(a * b))


def direct_conv2d(x, w, b, stride, padding):
    """y[n, f, i, j] = b[f] + sum over c, u, v of w[f, c, u, v] xpad[n, c, s i + u, s j + v]."""
    n, _, h, wd = x.shape
    f, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    y = np.zeros((n, f, output_size(h, k, stride, padding), output_size(wd, k, stride, padding)))
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            window = xp[:, :, stride * i:stride * i + k, stride * j:stride * j + k]
            y[:, :, i, j] = np.einsum("ncuv,fcuv->nf", window, w) + b
    return y


# --- the references: forward --------------------------------------------------------------------

@conv_implementations(pytest.mark.task2_1)
@pytest.mark.parametrize("kernel,stride,padding", [(1, 1, 0), (3, 1, 1), (3, 2, 1), (5, 2, 0),
                                                   (7, 1, 3)])
def test_conv2d_matches_direct_loops(impl, kernel, stride, padding):
    x, w, b = randn(2, 3, 35, 55), randn(4, 3, kernel, kernel), randn(4)
    np.testing.assert_allclose(impl.conv2d_forward(x, w, b, stride, padding),
                               direct_conv2d(x, w, b, stride, padding), atol=1e-10)


# batch 1, odd sizes, 35x55, K 1/3/5, stride 1/2/3, padding 0-2
REFERENCE_SHAPES = [(2, 3, 7, 6, 4, 3, 1, 1), (1, 2, 9, 5, 3, 3, 2, 1), (2, 1, 8, 8, 2, 5, 2, 2),
                    (1, 3, 5, 7, 2, 1, 1, 0), (2, 2, 6, 9, 3, 3, 3, 0),
                    (1, 1, 35, 55, 2, 3, 1, 1)]


@pytest.mark.task2_1
@pytest.mark.parametrize("shape", REFERENCE_SHAPES, ids=conv_id)
def test_im2col_columns_are_the_padded_windows(shape):
    n, c, h, w, f, k, s, p = shape
    x = randn(n, c, h, w)
    cols, (ho, wo) = conv_spec.im2col(x, k, s, p)
    assert cols.shape == (c * k * k, n * ho * wo)
    xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    for image in range(n):
        for i in range(ho):
            for j in range(wo):
                window = xpad[image, :, s * i:s * i + k, s * j:s * j + k]
                np.testing.assert_array_equal(cols[:, (image * ho + i) * wo + j], window.ravel())


@pytest.mark.task2_1
def test_conv2d_forward_without_bias_and_in_float32():
    x, w, _, _ = conv_inputs(REFERENCE_SHAPES[0], np.float64, seed=10)
    y32 = conv_spec.conv2d_forward(x.astype(np.float32), w.astype(np.float32), None, 1, 1)
    assert y32.dtype == np.float32, f"conv2d_forward of float32 input returned {y32.dtype}"
    assert y32.flags.c_contiguous, "conv2d_forward must return a C-contiguous array"
    np.testing.assert_allclose(y32, conv_spec.conv2d_forward(x, w, None, 1, 1),
                               rtol=1e-4, atol=1e-4)


FAST_SHAPES = [(1, 1, 5, 5, 1, 3, 1, 1), (2, 3, 7, 6, 4, 3, 2, 1), (1, 2, 35, 55, 3, 3, 1, 1),
               (3, 2, 35, 55, 5, 3, 2, 1), (2, 4, 9, 10, 3, 1, 1, 0), (1, 3, 9, 11, 2, 1, 2, 1),
               (2, 2, 11, 13, 3, 5, 1, 2), (2, 3, 12, 9, 2, 5, 2, 0), (1, 2, 7, 8, 2, 3, 3, 1),
               (3, 1, 4, 11, 2, 3, 1, 0), (2, 2, 6, 6, 2, 1, 1, 1)]


@pytest.mark.parametrize("small_chunks", [False, True], ids=["chunks", "one-image-chunks"])
@pytest.mark.parametrize("shape", FAST_SHAPES, ids=conv_id)
def test_fast_conv2d_matches_the_plain_one_in_every_pass(shape, small_chunks, monkeypatch):
    if small_chunks:
        monkeypatch.setattr(conv_blocked, "CHUNK_BYTES", 1)
    x, wt, b, _ = conv_inputs(shape, np.float64, seed=11)
    s, p = shape[6], shape[7]
    y = conv_spec.conv2d_forward(x, wt, b, s, p)
    gy = randn(*y.shape)
    close = dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv_blocked.conv2d_forward(x, wt, b, s, p), y, **close)
    np.testing.assert_allclose(conv_blocked.conv2d_forward(x, wt, None, s, p),
                               conv_spec.conv2d_forward(x, wt, None, s, p), **close)
    np.testing.assert_allclose(conv_blocked.conv2d_backward_input(gy, wt, x.shape, s, p),
                               conv_spec.conv2d_backward_input(gy, wt, x.shape, s, p), **close)
    np.testing.assert_allclose(conv_blocked.conv2d_backward_weight(gy, x, wt.shape, s, p),
                               conv_spec.conv2d_backward_weight(gy, x, wt.shape, s, p),
                               rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(conv_blocked.conv2d_backward_bias(gy),
                               conv_spec.conv2d_backward_bias(gy))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_conv2d_keeps_the_dtype_and_takes_strided_input(dtype):
    x = randn(2, 6, 9, 11).astype(dtype)[:, ::2]     # not contiguous
    w, b = randn(4, 3, 3, 3).astype(dtype), randn(4).astype(dtype)
    y = conv_blocked.conv2d_forward(x, w, b, 1, 1)
    assert y.dtype == dtype and y.flags.c_contiguous
    np.testing.assert_allclose(y, conv_spec.conv2d_forward(x, w, b, 1, 1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("split", [True, False], ids=["over-cores", "one-thread"])
def test_fast_conv2d_gives_the_same_numbers_split_over_cores_or_not(split, monkeypatch):
    if not split:
        monkeypatch.setattr(threads, "ThreadpoolController", None)
    monkeypatch.setattr(threads, "cores", lambda: 3)
    x, w, b, gy = conv_inputs((5, 3, 9, 11, 4, 3, 2, 1), np.float64)
    for fast, plain in [(conv_blocked.conv2d_forward(x, w, b, 2, 1),
                         conv_spec.conv2d_forward(x, w, b, 2, 1)),
                        (conv_blocked.conv2d_backward_weight(gy, x, w.shape, 2, 1),
                         conv_spec.conv2d_backward_weight(gy, x, w.shape, 2, 1)),
                        (conv_blocked.conv2d_backward_input(gy, w, x.shape, 2, 1),
                         conv_spec.conv2d_backward_input(gy, w, x.shape, 2, 1))]:
        np.testing.assert_allclose(fast, plain, rtol=1e-12, atol=1e-11)


# --- the references: backward -------------------------------------------------------------------

@pytest.mark.task2_2
@pytest.mark.parametrize("shape", REFERENCE_SHAPES, ids=conv_id)
def test_col2im_is_the_adjoint_of_im2col(shape):
    n, c, h, w, f, k, s, p = shape
    x = randn(n, c, h, w)
    cols, _ = conv_spec.im2col(x, k, s, p)
    dcols = randn(*cols.shape)
    dx = conv_spec.col2im(dcols, x.shape, k, s, p)
    assert dx.shape == x.shape
    assert dot(cols, dcols) == pytest.approx(dot(x, dx), rel=1e-12, abs=1e-12)


@pytest.mark.task2_2
@pytest.mark.parametrize("shape", REFERENCE_SHAPES, ids=conv_id)
def test_conv2d_backward_input_and_weight_are_adjoints_of_the_forward_pass(shape):
    """y = conv(x, w) is linear in x and in w: <y, gy> = <x, gx> = <w, gw>."""
    x, w, _, gy = conv_inputs(shape, np.float64, seed=12)
    s, p = shape[6], shape[7]
    gx = conv_spec.conv2d_backward_input(gy, w, x.shape, s, p)
    gw = conv_spec.conv2d_backward_weight(gy, x, w.shape, s, p)
    assert gx.shape == x.shape and gw.shape == w.shape
    forward = dot(conv_spec.conv2d_forward(x, w, None, s, p), gy)
    assert dot(x, gx) == pytest.approx(forward, rel=1e-12)
    assert dot(w, gw) == pytest.approx(forward, rel=1e-12)


@pytest.mark.task2_2
@pytest.mark.parametrize("shape", REFERENCE_SHAPES[:3], ids=conv_id)
def test_conv2d_backward_bias_sums_the_gradient_over_images_and_pixels(shape):
    gy = conv_inputs(shape, np.float64, seed=13)[3]
    gb = conv_spec.conv2d_backward_bias(gy)
    expected = [sum(gy[n, f].sum() for n in range(gy.shape[0])) for f in range(gy.shape[1])]
    np.testing.assert_allclose(gb, expected, rtol=1e-12)


@pytest.mark.task2_2
def test_conv2d_backward_input_matches_a_scatter_loop():
    x, w, _, gy = conv_inputs((1, 2, 6, 7, 3, 3, 2, 1), np.float64, seed=14)
    k, s, p = 3, 2, 1
    gpad = np.zeros((1, 2, 6 + 2 * p, 7 + 2 * p))
    for i in range(gy.shape[2]):
        for j in range(gy.shape[3]):
            gpad[:, :, s * i:s * i + k, s * j:s * j + k] += np.einsum("nf,fcuv->ncuv",
                                                                       gy[:, :, i, j], w)
    np.testing.assert_allclose(conv_spec.conv2d_backward_input(gy, w, x.shape, s, p),
                               gpad[:, :, p:-p, p:-p], rtol=1e-12, atol=1e-12)


@conv_implementations(pytest.mark.task2_2)
@pytest.mark.parametrize("shape", [(1, 2, 5, 9, 3, 3, 1, 1), (2, 2, 7, 6, 2, 3, 2, 1),
                                   (2, 3, 6, 7, 2, 1, 1, 0), (1, 2, 7, 7, 2, 5, 2, 0),
                                   (1, 1, 6, 5, 2, 5, 1, 1)], ids=conv_id)
def test_conv2d_passes_are_the_gradients_of_the_forward(impl, shape):
    """float64 central differences of L = <gy, conv(x, w, b)> against the backward passes."""
    x, wt, b, gy = conv_inputs(shape, np.float64, seed=15)
    s, p = shape[6], shape[7]

    def loss():
        return (impl.conv2d_forward(x, wt, b, s, p) * gy).sum()

    close = dict(rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(impl.conv2d_backward_input(gy, wt, x.shape, s, p),
                               central_differences(loss, x, 1e-6), **close)
    np.testing.assert_allclose(impl.conv2d_backward_weight(gy, x, wt.shape, s, p),
                               central_differences(loss, wt, 1e-6), **close)
    np.testing.assert_allclose(impl.conv2d_backward_bias(gy), central_differences(loss, b, 1e-6),
                               **close)


# --- the op: float64 gradient check on every device ---------------------------------------------

@pytest.mark.task2_5
@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", [0, 1])
def test_conv2d_gradcheck(kernel, stride, padding, device):
    n, c, h, w, f = per_device(device, cpu=(2, 3, 7, 6, 4), cuda=(1, 2, 5, 6, 2))
    x, w, b = randn(n, c, h, w), randn(f, c, kernel, kernel), randn(f)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding), [x, w, b], device=device)


@pytest.mark.task2_5
def test_conv2d_gradcheck_batch_one_without_bias_odd_size(device):
    gradcheck(lambda x, w: F.conv2d(x, w, None, 1, 1), [randn(1, 2, 5, 9), randn(3, 2, 3, 3)],
              device=device)


# --- the kernels against the references, on every CUDA device -----------------------------------
# float32 within eps * (4 sqrt(L) + 4) * scale of the float64 reference (``assert_close``);
# float64 within the same bound with float64's eps, which is tight.

DTYPES = [np.float32, np.float64]

KERNEL_SHAPES = [
    (2, 1, 35, 55, 64, 3, 1, 1),     # refiner: conv3x3 1->64
    (2, 64, 35, 55, 64, 3, 1, 1),    # refiner: ResNet block conv3x3 64->64
    (2, 64, 35, 55, 1, 1, 1, 0),     # refiner: conv1x1 64->1
    (2, 1, 35, 55, 96, 3, 2, 1),     # discriminator: conv3x3 s2 1->96
    (2, 96, 18, 28, 64, 3, 2, 1),    # discriminator: conv3x3 s2 96->64
    (2, 64, 9, 14, 32, 3, 1, 1),     # discriminator: conv3x3 64->32
    (2, 32, 9, 14, 32, 1, 1, 0),     # discriminator: conv1x1 32->32
    (2, 32, 9, 14, 2, 1, 1, 0),      # discriminator: conv1x1 32->2
    (1, 3, 7, 9, 5, 5, 1, 0),        # batch 1, odd sizes, K=5
    (3, 3, 13, 11, 7, 7, 2, 1),      # K=7, stride 2
    (1, 5, 17, 19, 130, 3, 2, 0),    # F > 128: several row tiles
    (2, 20, 5, 5, 17, 1, 2, 0),      # 1x1 with stride 2
    (1, 1, 1, 1, 1, 1, 1, 0),        # smallest possible
    (2, 3, 8, 8, 4, 3, 3, 2),        # stride 3, padding 2
    (1, 70, 6, 5, 3, 3, 1, 1),       # C*K*K = 630: several column tiles of grad weight
    (1, 3, 11, 10, 40, 5, 2, 2),     # K=5, padding 2
    (4, 2, 6, 7, 24, 3, 1, 0),       # 16 < F < 64; grad weight with C*K*K <= 32
    (1, 16, 5, 6, 16, 3, 1, 1),      # tile boundary: F = C = 16 (small tiles)
    (1, 17, 5, 6, 17, 3, 1, 1),      # tile boundary: F = C = 17 (big tiles)
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", KERNEL_SHAPES, ids=conv_id)
def test_conv2d_forward_kernel_matches_the_reference(shape, dtype, xp):
    x, w, b, _ = conv_inputs(shape, dtype)
    s, p = shape[6], shape[7]
    y = cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), s, p)
    expected = reference.conv2d_forward(*f64(x, w, b), s, p)
    scale = reference.conv2d_forward(*f64(np.abs(x), np.abs(w), np.abs(b)), s, p)
    assert_close(y, expected, scale, w[0].size, dtype, "conv2d_forward")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", KERNEL_SHAPES[:4] + KERNEL_SHAPES[8:10], ids=conv_id)
def test_conv2d_forward_kernel_without_bias_matches_the_reference(shape, dtype, xp):
    x, w, _, _ = conv_inputs(shape, dtype, seed=1)
    s, p = shape[6], shape[7]
    y = cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), None, s, p)
    expected = reference.conv2d_forward(*f64(x, w), None, s, p)
    scale = reference.conv2d_forward(*f64(np.abs(x), np.abs(w)), None, s, p)
    assert_close(y, expected, scale, w[0].size, dtype, "conv2d_forward (no bias)")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", KERNEL_SHAPES, ids=conv_id)
def test_conv2d_backward_input_kernel_matches_the_reference(shape, dtype, xp):
    x, w, _, gy = conv_inputs(shape, dtype)
    s, p = shape[6], shape[7]
    gx = cuda.conv2d_backward_input(xp.asarray(gy), xp.asarray(w), x.shape, s, p)
    expected = reference.conv2d_backward_input(*f64(gy, w), x.shape, s, p)
    scale = reference.conv2d_backward_input(*f64(np.abs(gy), np.abs(w)), x.shape, s, p)
    reduction = w.shape[0] * w.shape[2] * w.shape[3]
    assert_close(gx, expected, scale, reduction, dtype, "conv2d_backward_input")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", KERNEL_SHAPES, ids=conv_id)
def test_conv2d_backward_weight_kernel_matches_the_reference(shape, dtype, xp):
    x, w, _, gy = conv_inputs(shape, dtype)
    s, p = shape[6], shape[7]
    gw = cuda.conv2d_backward_weight(xp.asarray(gy), xp.asarray(x), w.shape, s, p)
    expected = reference.conv2d_backward_weight(*f64(gy, x), w.shape, s, p)
    scale = reference.conv2d_backward_weight(*f64(np.abs(gy), np.abs(x)), w.shape, s, p)
    reduction = gy.shape[0] * gy.shape[2] * gy.shape[3]
    assert_close(gw, expected, scale, reduction, dtype, "conv2d_backward_weight")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", KERNEL_SHAPES, ids=conv_id)
def test_conv2d_backward_bias_kernel_matches_the_reference(shape, dtype, xp):
    gy = conv_inputs(shape, dtype)[3]
    gb = cuda.conv2d_backward_bias(xp.asarray(gy))
    expected = reference.conv2d_backward_bias(gy.astype(np.float64))
    scale = reference.conv2d_backward_bias(np.abs(gy).astype(np.float64))
    reduction = gy.shape[0] * gy.shape[2] * gy.shape[3]
    assert_close(gb, expected, scale, reduction, dtype, "conv2d_backward_bias")


def test_conv2d_backward_weight_and_bias_kernels_are_deterministic(xp):
    x, w, _, gy = conv_inputs((8, 64, 35, 55, 64, 3, 1, 1), np.float32)
    gx, gg = xp.asarray(x), xp.asarray(gy)
    first = cuda.conv2d_backward_weight(gg, gx, w.shape, 1, 1)
    second = cuda.conv2d_backward_weight(gg, gx, w.shape, 1, 1)
    np.testing.assert_array_equal(to_numpy(first), to_numpy(second))
    np.testing.assert_array_equal(to_numpy(cuda.conv2d_backward_bias(gg)),
                                  to_numpy(cuda.conv2d_backward_bias(gg)))


def test_conv2d_kernels_are_the_gradients_of_the_forward_kernel(xp):
    """float64 central differences of sum(r * conv(x, w, b)), all on the device, against the
    backward kernels at 12 sampled elements of each of x, w, b."""
    shape = (2, 3, 7, 6, 4, 3, 2, 1)
    s, p = shape[6], shape[7]
    x, w, b, r = conv_inputs(shape, np.float64, seed=3)

    def loss():
        y = cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), s, p)
        return float((y * xp.asarray(r)).sum())

    analytic = {"x": cuda.conv2d_backward_input(xp.asarray(r), xp.asarray(w), x.shape, s, p),
                "w": cuda.conv2d_backward_weight(xp.asarray(r), xp.asarray(x), w.shape, s, p),
                "b": cuda.conv2d_backward_bias(xp.asarray(r))}
    for seed, (name, array) in enumerate({"x": x, "w": w, "b": b}.items()):
        indices = sampled_indices(array.shape, 12, seed)
        numeric = central_differences(loss, array, 1e-6, indices)
        for index in indices:
            error = abs(numeric[index] - to_numpy(analytic[name])[index])
            assert error <= 1e-6 * (1 + abs(numeric[index])), (name, index)


# --- TF32 tensor cores ------------------------------------------------------------------------

def tf32_round(a):
    """float32 -> TF32 as cvt.rna.tf32.f32: 10 mantissa bits, to nearest, ties away from zero."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    finite = (bits & np.uint32(0x7FFFFFFF)) < np.uint32(0x7F800000)
    bits = np.where(finite, bits + np.uint32(0x1000), bits) & np.uint32(0xFFFFE000)
    return bits.astype(np.uint32).view(np.float32)


# Each tile of the tensor-core path, partial tiles, batch 1, odd sizes, K = 5, stride 2, a
# refiner-sized conv and several row tiles (the emulator runs every mma lane by lane: kept small).
TF32_SHAPES = [
    (1, 64, 35, 55, 64, 3, 1, 1),    # refiner block conv, one image: Tf32<TileBig> everywhere
    (2, 64, 9, 14, 32, 3, 1, 1),     # discriminator conv3
    (2, 1, 35, 55, 96, 3, 2, 1),     # discriminator conv1: grad input C = 1, grad weight 9 taps
    (1, 3, 7, 9, 5, 5, 1, 0),        # batch 1, odd sizes, K = 5, F <= 16 (Tf32<TileSmallM>)
    (1, 5, 17, 19, 130, 3, 2, 0),    # F > 128: several row tiles
    (1, 17, 5, 6, 17, 3, 1, 1),      # tile boundary: F = C = 17
]


def kernel_passes(xp, shape, x, w, b, gy, **kwargs):
    s, p = shape[6], shape[7]
    x, w, b, gy = (xp.asarray(a) for a in (x, w, b, gy))
    return {"forward": cuda.conv2d_forward(x, w, b, s, p, **kwargs),
            "grad_input": cuda.conv2d_backward_input(gy, w, x.shape, s, p, **kwargs),
            "grad_weight": cuda.conv2d_backward_weight(gy, x, w.shape, s, p, **kwargs)}


def reference_passes(shape, x, w, b, gy):
    s, p = shape[6], shape[7]
    return {"forward": reference.conv2d_forward(x, w, b, s, p),
            "grad_input": reference.conv2d_backward_input(gy, w, x.shape, s, p),
            "grad_weight": reference.conv2d_backward_weight(gy, x, w.shape, s, p)}


def reduction_lengths(shape):
    n, c, h, w, f, k, s, p = shape
    return {"forward": c * k * k, "grad_input": f * k * k,
            "grad_weight": n * output_size(h, k, s, p) * output_size(w, k, s, p)}


@pytest.mark.parametrize("shape", TF32_SHAPES, ids=conv_id)
def test_conv2d_tf32_is_the_exact_product_of_tf32_operands_summed_in_fp32(shape, xp):
    """Each pass equals the float64 product of its operands rounded to TF32, within fp32's
    summation bound (doubled: tensor cores add with truncation, Fasi et al. 2021)."""
    x, w, b, gy = conv_inputs(shape, np.float32, seed=5)
    got = kernel_passes(xp, shape, x, w, b, gy, tf32=True)
    rounded = [tf32_round(a).astype(np.float64) for a in (x, w)] + [b.astype(np.float64)]
    rounded.append(tf32_round(gy).astype(np.float64))
    expected = reference_passes(shape, *rounded)
    scale = reference_passes(shape, *[np.abs(a) for a in rounded])
    for name, length in reduction_lengths(shape).items():
        assert_close(got[name], expected[name], 2 * scale[name], length, np.float32,
                     f"{name} (TF32)")


@pytest.mark.parametrize("shape", TF32_SHAPES[1:3], ids=conv_id)
def test_conv2d_tf32_error_is_that_of_tf32_operands(shape, xp):
    """Against the exact float64 result: relative L2 error near 3e-4 (each operand carries a
    rounding error of up to 2^-11), far above fp32's 1e-7: the tensor cores really ran."""
    x, w, b, gy = conv_inputs(shape, np.float32, seed=6)
    got = kernel_passes(xp, shape, x, w, b, gy, tf32=True)
    exact = reference_passes(shape, *f64(x, w, b, gy))
    for name, ref in exact.items():
        error = np.linalg.norm(to_numpy(got[name]) - ref) / np.linalg.norm(ref)
        assert 5e-5 < error < 1e-3, f"{name}: relative L2 error {error:.2e}"


def test_conv2d_tf32_on_small_integers_is_exact(xp):
    """Integers below 2^10 are TF32 values and their sums stay below 2^24: every output element
    is exact, so any slip in the mma fragment layout shows as a wrong value."""
    shape = (2, 20, 9, 14, 40, 3, 1, 1)
    gen = np.random.default_rng(8)
    x, w, gy = (gen.integers(-3, 4, size).astype(np.float32) for size in (
        (2, 20, 9, 14), (40, 20, 3, 3), (2, 40, 9, 14)))
    b = np.zeros(40, np.float32)
    got = kernel_passes(xp, shape, x, w, b, gy, tf32=True)
    for name, expected in reference_passes(shape, *f64(x, w, b, gy)).items():
        np.testing.assert_array_equal(to_numpy(got[name]), expected, err_msg=name)


def test_conv2d_tf32_rounds_operands_to_nearest_with_ties_away_from_zero(xp):
    """A 1x1 conv with one input channel multiplies one pair per output: y = tf32(w) tf32(x),
    exact in fp32. x holds values below, at and above the rounding ties, of both signs."""
    one = np.float32(1.0).view(np.uint32)
    mantissas = np.array([0x0FFF, 0x1000, 0x1001, 0x2FFF, 0x3000, 0x7FFFF000 & 0x7FFFFF,
                          0x7FFFFF, 0x5A5A5A], dtype=np.uint32)
    positive = (one + mantissas).view(np.float32) * np.float32(4.0)
    x = np.concatenate([positive, -positive, [0.0, -0.0]]).astype(np.float32)
    x = x.reshape(1, 1, 1, -1)
    w = np.array([1.0, -1.5, 1.0 + 2.0**-11, 3.0 * (1 + 2.0**-12)], np.float32).reshape(4, 1, 1, 1)
    y = to_numpy(cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), None, 1, 0, tf32=True))
    expected = tf32_round(w).reshape(4, 1, 1, 1) * tf32_round(x)
    np.testing.assert_array_equal(y, expected.reshape(y.shape))
    assert not np.array_equal(tf32_round(x), x)   # the inputs do need rounding


def test_tf32_is_the_default_for_float32_and_never_touches_float64(xp):
    x, w, b, _ = conv_inputs((1, 8, 6, 7, 20, 3, 1, 1), np.float32, seed=9)
    x, w, b = xp.asarray(x), xp.asarray(w), xp.asarray(b)
    x64, w64, b64 = (xp.asarray(a) for a in f64(to_numpy(x), to_numpy(w), to_numpy(b)))
    strict = to_numpy(cuda.conv2d_forward(x, w, b, 1, 1))
    wide = to_numpy(cuda.conv2d_forward(x64, w64, b64, 1, 1))
    with precision.tf32(True):
        default = to_numpy(cuda.conv2d_forward(x, w, b, 1, 1))
        np.testing.assert_array_equal(to_numpy(cuda.conv2d_forward(x64, w64, b64, 1, 1)), wide)
    tf32 = to_numpy(cuda.conv2d_forward(x, w, b, 1, 1, tf32=True))
    np.testing.assert_array_equal(default, tf32)
    assert not np.array_equal(tf32, strict)


# --- argument checks --------------------------------------------------------------------------

@pytest.mark.parametrize("x_shape,w_shape,b_shape,match", [
    ((2, 3, 8, 8), (4, 2, 3, 3), (4,), "input has 3 channels but the weight expects 2"),
    ((3, 8, 8), (4, 3, 3, 3), (4,), r"input must be \(N, C, H, W\)"),
    ((2, 3, 8, 8), (4, 3, 3, 2), (4,), "square kernel"),
    ((2, 3, 8, 8), (4, 3, 3, 3), (5,), r"bias must have shape \(4,\)"),
    ((2, 3, 2, 2), (4, 3, 5, 5), (4,), "smaller than the 5x5 window"),
])
def test_bad_conv2d_shapes_are_clear_errors(x_shape, w_shape, b_shape, match):
    with pytest.raises(ValueError, match=match):
        F.conv2d(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32),
                 np.zeros(b_shape, np.float32), 1, 0)


def test_conv2d_dtype_mismatch_is_a_clear_error():
    with pytest.raises(TypeError, match="input float32, weight float64"):
        F.conv2d(np.zeros((1, 1, 5, 5), np.float32), np.zeros((1, 1, 3, 3), np.float64))


# The checks before a launch (``minigan.cuda.checks``) read only shape, dtype, flags and
# strides: NumPy arrays, and small stand-ins for sizes too large to allocate, exercise them
# without a device.

def check_arrays(n=2, c=3, h=7, w=9, f=4, k=3, dtype=np.float32):
    gen = np.random.default_rng(0)
    return (gen.standard_normal((n, c, h, w)).astype(dtype),
            gen.standard_normal((f, c, k, k)).astype(dtype), gen.standard_normal(f).astype(dtype))


class FakeArray:
    """Shape/dtype/flags only: stands in for arrays too large to allocate."""

    class Flags:
        c_contiguous = True

    def __init__(self, shape, dtype=np.float32):
        self.shape, self.dtype, self.ndim = shape, np.dtype(dtype), len(shape)
        self.flags, self.strides = self.Flags(), ()


class OnDevice:
    """A stand-in with a .device.id, for the same-GPU check."""

    def __init__(self, device_id):
        self.device = type("Device", (), {"id": device_id})()


@pytest.mark.parametrize("call", [
    lambda x, w, b: cuda.conv2d_forward(x, w, b, 1, 1),
    lambda x, w, b: cuda.conv2d_backward_input(np.zeros((2, 4, 7, 9), np.float32), w, x.shape,
                                               1, 1),
    lambda x, w, b: cuda.conv2d_backward_weight(np.zeros((2, 4, 7, 9), np.float32), x, w.shape,
                                                1, 1),
    lambda x, w, b: cuda.conv2d_backward_bias(np.zeros((2, 4, 7, 9), np.float32)),
], ids=["conv_forward", "conv_grad_input", "conv_grad_weight", "conv_grad_bias"])
def test_numpy_array_to_a_conv_kernel_wrapper_is_a_type_error(call):
    with pytest.raises(TypeError, match="must be an array on a CUDA device"):
        call(*check_arrays())


def test_the_type_error_names_the_numpy_argument():
    x, w, b = check_arrays()
    with pytest.raises(TypeError, match=r"conv2d_forward: x must be an array on a CUDA device"
                                        r".*numpy\.ndarray"):
        cuda.conv2d_forward(x, w, b, 1, 1)


def test_check_gives_the_geometry_of_a_valid_call():
    x, w, b = check_arrays(n=2, c=3, h=35, w=55, f=64)
    g = checks.check_conv2d_forward(x, w, b, 2, 1)
    assert (g.N, g.C, g.H, g.W, g.F, g.K, g.stride, g.padding, g.Ho, g.Wo) == \
        (2, 3, 35, 55, 64, 3, 2, 1, 18, 28)


def test_check_refuses_a_float64_weight_with_float32_input():
    x, w, b = check_arrays()
    with pytest.raises(TypeError, match=r"w must have the dtype of x \(float32\), got float64"):
        checks.check_conv2d_forward(x, w.astype(np.float64), b, 1, 1)


def test_check_refuses_a_float64_bias_with_float32_input():
    x, w, b = check_arrays()
    with pytest.raises(TypeError, match="b must have the dtype of x"):
        checks.check_conv2d_forward(x, w, b.astype(np.float64), 1, 1)


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.complex64])
def test_check_refuses_an_input_dtype_other_than_float32_or_float64(dtype):
    x, w, b = check_arrays()
    with pytest.raises(TypeError, match="x must be float32 or float64"):
        checks.check_conv2d_forward(x.astype(dtype), w.astype(dtype), b.astype(dtype), 1, 1)


def test_check_refuses_a_non_contiguous_input():
    x, w, b = check_arrays(w=18)
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        checks.check_conv2d_forward(x[:, :, :, ::2], w, b, 1, 1)


def test_check_refuses_a_transposed_weight():
    x, w, b = check_arrays(c=3, f=3)
    with pytest.raises(ValueError, match="w must be C-contiguous"):
        checks.check_conv2d_forward(x, w.transpose(1, 0, 2, 3), b, 1, 1)


def test_check_refuses_a_wrong_channel_count():
    x, w, b = check_arrays(c=3)
    with pytest.raises(ValueError, match="input has 3 channels but the weight expects 2"):
        checks.check_conv2d_forward(x, np.ascontiguousarray(w[:, :2]), b, 1, 1)


def test_check_refuses_an_empty_batch():
    x, w, b = check_arrays()
    with pytest.raises(ValueError, match=r"empty batch \(N = 0\)"):
        checks.check_conv2d_forward(x[:0], w, b, 1, 1)


def test_check_refuses_a_wrong_bias_shape():
    x, w, b = check_arrays(f=4)
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        checks.check_conv2d_forward(x, w, b[:3].copy(), 1, 1)


def test_check_refuses_a_non_square_kernel():
    x, _, b = check_arrays()
    with pytest.raises(ValueError, match=r"weight must be \(F, C, K, K\) with a square kernel"):
        checks.check_conv2d_forward(x, np.zeros((4, 3, 3, 2), np.float32), b, 1, 1)


def test_check_refuses_a_wrong_input_rank():
    x, w, b = check_arrays()
    with pytest.raises(ValueError, match=r"x must be \(N, C, H, W\)"):
        checks.check_conv2d_forward(x[0], w, b, 1, 1)


@pytest.mark.parametrize("stride, padding, error, message", [
    (0, 1, ValueError, "stride must be >= 1"),
    (1, -1, ValueError, "padding must be >= 0"),
    (1.5, 1, TypeError, "stride must be an integer"),
    (True, 1, TypeError, "stride must be an integer"),
    (1, "1", TypeError, "padding must be an integer"),
])
def test_check_refuses_a_bad_stride_or_padding(stride, padding, error, message):
    x, w, b = check_arrays()
    with pytest.raises(error, match=message):
        checks.check_conv2d_forward(x, w, b, stride, padding)


def test_check_accepts_a_numpy_integer_stride():
    x, w, b = check_arrays()
    assert checks.check_conv2d_forward(x, w, b, np.int64(2), np.int32(1)).stride == 2


def test_check_refuses_a_kernel_larger_than_the_padded_input():
    x, w, b = check_arrays(h=2, w=2, k=5)
    with pytest.raises(ValueError, match="smaller than the 5x5 window"):
        checks.check_conv2d_forward(x, w, b, 1, 1)


def test_grad_input_check_refuses_a_gy_of_the_wrong_shape():
    x, w, _ = check_arrays(n=2, f=4, h=7, w=9)
    with pytest.raises(ValueError, match=r"gy must have the output shape \(2, 4, 7, 9\)"):
        checks.check_conv2d_backward_input(np.zeros((2, 4, 7, 8), np.float32), w, x.shape, 1, 1)


def test_grad_input_check_refuses_a_bad_x_shape():
    _, w, _ = check_arrays()
    gy = np.zeros((2, 4, 7, 9), np.float32)
    with pytest.raises(ValueError, match="x_shape must be a tuple of 4"):
        checks.check_conv2d_backward_input(gy, w, (2, 3, 7), 1, 1)
    with pytest.raises(TypeError, match="x_shape must be a tuple of 4 ints"):
        checks.check_conv2d_backward_input(gy, w, (2, 3, 7.0, 9), 1, 1)


def test_grad_input_check_refuses_a_float64_gy_with_a_float32_weight():
    x, w, _ = check_arrays()
    with pytest.raises(TypeError, match="w must have the dtype of gy"):
        checks.check_conv2d_backward_input(np.zeros((2, 4, 7, 9)), w, x.shape, 1, 1)


def test_grad_weight_check_refuses_a_gy_of_the_wrong_shape():
    x, w, _ = check_arrays()
    with pytest.raises(ValueError, match="gy must have the output shape"):
        checks.check_conv2d_backward_weight(np.zeros((2, 5, 7, 9), np.float32), x, w.shape, 1, 1)


def test_grad_weight_check_refuses_a_non_contiguous_x():
    x, w, _ = check_arrays(w=18)
    gy = np.zeros((2, 4, 7, 9), np.float32)
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        checks.check_conv2d_backward_weight(gy, x[..., ::2], w.shape, 1, 1)


def test_grad_bias_check_refuses_an_empty_batch():
    with pytest.raises(ValueError, match="empty batch"):
        checks.check_conv2d_backward_bias(np.zeros((0, 4, 7, 9), np.float32))


def test_check_refuses_sizes_past_the_32_bit_index_limit():
    x = FakeArray((600_000, 1, 64, 64))
    w = FakeArray((8, 1, 3, 3))
    with pytest.raises(ValueError, match="too large for the kernels' 32-bit indices"):
        checks.check_conv2d_forward(x, w, None, 1, 1)


def test_check_refuses_arrays_on_different_gpus():
    with pytest.raises(ValueError, match="x on GPU 0, w on GPU 1"):
        checks.require_same_device("conv2d_forward", x=OnDevice(0), w=OnDevice(1), b=None)
    assert checks.require_same_device("conv2d_forward", x=OnDevice(1), w=OnDevice(1)) == 1


# The wrappers run those checks on device arrays, before any launch.

def test_kernel_wrapper_refuses_a_float64_weight_with_float32_input(xp):
    x, w, b, _ = conv_inputs((1, 3, 5, 5, 2, 3, 1, 1), np.float32)
    with pytest.raises(TypeError, match="w must have the dtype of x"):
        cuda.conv2d_forward(xp.asarray(x), xp.asarray(w.astype(np.float64)), xp.asarray(b), 1, 1)


def test_kernel_wrapper_refuses_a_non_contiguous_input(xp):
    x, w, b, _ = conv_inputs((1, 3, 5, 10, 2, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        cuda.conv2d_forward(xp.asarray(x)[:, :, :, ::2], xp.asarray(w), xp.asarray(b), 1, 1)


def test_kernel_wrapper_refuses_a_wrong_channel_count(xp):
    x, w, b, _ = conv_inputs((1, 3, 5, 5, 2, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="input has 3 channels but the weight expects 2"):
        cuda.conv2d_forward(xp.asarray(x), xp.asarray(w[:, :2].copy()), xp.asarray(b), 1, 1)


def test_kernel_wrapper_refuses_an_empty_batch(xp):
    x, w, b, _ = conv_inputs((1, 3, 5, 5, 2, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="empty batch"):
        cuda.conv2d_forward(xp.asarray(x[:0]), xp.asarray(w), xp.asarray(b), 1, 1)


def test_kernel_wrapper_refuses_a_numpy_array_among_device_arrays(xp):
    x, w, b, _ = conv_inputs((1, 3, 5, 5, 2, 3, 1, 1), np.float32)
    with pytest.raises(TypeError, match="w must be an array on a CUDA device"):
        cuda.conv2d_forward(xp.asarray(x), w, xp.asarray(b), 1, 1)


def test_kernel_wrapper_refuses_arrays_on_different_gpus(xp):
    if xp.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("needs two GPUs")
    x, w, b, _ = conv_inputs((1, 3, 5, 5, 2, 3, 1, 1), np.float32)
    with xp.cuda.Device(1):
        w1 = xp.asarray(w)
    with pytest.raises(ValueError, match="same GPU"):
        cuda.conv2d_forward(xp.asarray(x), w1, xp.asarray(b), 1, 1)
