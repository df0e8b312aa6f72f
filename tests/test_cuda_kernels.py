"""The kernels of minigan.cuda against the NumPy references (minigan.reference), on every CUDA
device under test: the CPU emulator always, a real GPU when one is usable (``xp`` fixture).

float32 results must match a float64 reference within a bound that grows with the reduction
length L (terms summed per output): |gpu - ref| <= eps * (4 sqrt(L) + 4) * scale, where scale is
the same op applied to |inputs| (the sum of |terms|). float64 uses the same bound with float64's
eps, which is tight. These run in strict fp32; the TF32 tensor-core path (on by default for
float32 convolutions, as in PyTorch) has its own tests.
"""
import math

import numpy as np
import pytest

from minigan import cuda, reference
from minigan.backend import precision, to_numpy

DTYPES = [np.float32, np.float64]


@pytest.fixture(autouse=True)
def strict_fp32():
    """fp32's bounds hold for the FMA kernels: TF32 is off unless a test asks for it."""
    with precision.tf32(False):
        yield


# (N, C, H, W, F, K, stride, padding)
CONV_SHAPES = [
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

# (N, C, H, W, K, stride, padding)
POOL_SHAPES = [
    (2, 64, 9, 14, 3, 1, 1),         # discriminator: maxpool 3x3 s1 p1
    (2, 3, 35, 55, 3, 2, 0),         # 3x3 s2
    (2, 3, 35, 55, 3, 2, 1),         # 3x3 s2 with padding
    (1, 2, 7, 9, 2, 2, 0),           # 2x2 s2
    (1, 2, 7, 9, 2, 2, 1),           # 2x2 s2 with padding
    (3, 1, 5, 5, 5, 1, 2),           # window as large as the image
    (1, 1, 1, 1, 1, 1, 0),
    (1, 2, 12, 13, 11, 3, 5),        # K = 11, the largest an int8 argmax holds
]

# (N, C, H, W)
XENT_SHAPES = [(2, 2, 9, 14), (3, 5, 4, 7), (1, 2, 1, 1), (2, 1, 3, 3), (64, 2, 9, 14)]


def assert_close(actual, expected, scale, reduction, dtype, what):
    """|actual - expected| <= eps * (4 sqrt(L) + 4) * scale elementwise."""
    actual = to_numpy(actual)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == dtype, f"{what}: dtype {actual.dtype} != {np.dtype(dtype)}"
    bound = np.finfo(dtype).eps * (4 * math.sqrt(reduction) + 4) * scale + np.finfo(dtype).tiny
    error = np.abs(actual.astype(np.float64) - expected)
    worst = np.unravel_index(np.argmax(error - bound), error.shape)
    assert np.all(error <= bound), (f"{what}: error {error[worst]:.3g} > bound {bound[worst]:.3g} "
                                    f"at {worst}")


def conv_inputs(shape, dtype, seed=0):
    n, c, h, w, f, k, s, p = shape
    rng = np.random.default_rng(seed)
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((f, c, k, k)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    gy = rng.standard_normal((n, f, ho, wo)).astype(dtype)
    return x, wt, b, gy


def f64(*arrays):
    return [a.astype(np.float64) for a in arrays]


# --- convolution -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
def test_conv2d_forward_matches_reference(shape, dtype, xp):
    x, w, b, _ = conv_inputs(shape, dtype)
    s, p = shape[6], shape[7]
    y = cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), s, p)
    expected = reference.conv2d_forward(*f64(x, w, b), s, p)
    scale = reference.conv2d_forward(*f64(np.abs(x), np.abs(w), np.abs(b)), s, p)
    assert_close(y, expected, scale, w[0].size, dtype, "conv2d_forward")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CONV_SHAPES[:4] + CONV_SHAPES[8:10], ids=str)
def test_conv2d_forward_without_bias_matches_reference(shape, dtype, xp):
    x, w, _, _ = conv_inputs(shape, dtype, seed=1)
    s, p = shape[6], shape[7]
    y = cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), None, s, p)
    expected = reference.conv2d_forward(*f64(x, w), None, s, p)
    scale = reference.conv2d_forward(*f64(np.abs(x), np.abs(w)), None, s, p)
    assert_close(y, expected, scale, w[0].size, dtype, "conv2d_forward (no bias)")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CONV_SHAPES[:4], ids=str)
def test_conv2d_forward_fused_relu_is_relu_of_forward(shape, dtype, xp):
    x, w, b, _ = conv_inputs(shape, dtype, seed=2)
    s, p = shape[6], shape[7]
    y = cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), s, p)
    y_relu = cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), s, p, relu=True)
    np.testing.assert_array_equal(to_numpy(y_relu), np.maximum(to_numpy(y), 0))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
def test_conv2d_backward_input_matches_reference(shape, dtype, xp):
    x, w, _, gy = conv_inputs(shape, dtype)
    s, p = shape[6], shape[7]
    gx = cuda.conv2d_backward_input(xp.asarray(gy), xp.asarray(w), x.shape, s, p)
    expected = reference.conv2d_backward_input(*f64(gy, w), x.shape, s, p)
    scale = reference.conv2d_backward_input(*f64(np.abs(gy), np.abs(w)), x.shape, s, p)
    reduction = w.shape[0] * w.shape[2] * w.shape[3]
    assert_close(gx, expected, scale, reduction, dtype, "conv2d_backward_input")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
def test_conv2d_backward_weight_matches_reference(shape, dtype, xp):
    x, w, _, gy = conv_inputs(shape, dtype)
    s, p = shape[6], shape[7]
    gw = cuda.conv2d_backward_weight(xp.asarray(gy), xp.asarray(x), w.shape, s, p)
    expected = reference.conv2d_backward_weight(*f64(gy, x), w.shape, s, p)
    scale = reference.conv2d_backward_weight(*f64(np.abs(gy), np.abs(x)), w.shape, s, p)
    reduction = gy.shape[0] * gy.shape[2] * gy.shape[3]
    assert_close(gw, expected, scale, reduction, dtype, "conv2d_backward_weight")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
def test_conv2d_backward_bias_matches_reference(shape, dtype, xp):
    _, _, _, gy = conv_inputs(shape, dtype)
    gb = cuda.conv2d_backward_bias(xp.asarray(gy))
    expected = reference.conv2d_backward_bias(gy.astype(np.float64))
    scale = reference.conv2d_backward_bias(np.abs(gy).astype(np.float64))
    reduction = gy.shape[0] * gy.shape[2] * gy.shape[3]
    assert_close(gb, expected, scale, reduction, dtype, "conv2d_backward_bias")


def test_conv2d_backward_weight_and_bias_are_deterministic(xp):
    x, w, _, gy = conv_inputs((8, 64, 35, 55, 64, 3, 1, 1), np.float32)
    gx, gg = xp.asarray(x), xp.asarray(gy)
    first = cuda.conv2d_backward_weight(gg, gx, w.shape, 1, 1)
    second = cuda.conv2d_backward_weight(gg, gx, w.shape, 1, 1)
    np.testing.assert_array_equal(to_numpy(first), to_numpy(second))
    np.testing.assert_array_equal(to_numpy(cuda.conv2d_backward_bias(gg)),
                                  to_numpy(cuda.conv2d_backward_bias(gg)))


def test_conv2d_gradients_match_central_differences_on_the_device(xp):
    """float64 gradient check through the GPU path: d sum(r * conv(x, w, b)) / d(x, w, b)."""
    shape = (2, 3, 7, 6, 4, 3, 2, 1)
    s, p = shape[6], shape[7]
    x, w, b, r = conv_inputs(shape, np.float64, seed=3)
    values = {"x": x, "w": w, "b": b}

    def loss(v):
        y = cuda.conv2d_forward(xp.asarray(v["x"]), xp.asarray(v["w"]), xp.asarray(v["b"]), s, p)
        return float((y * xp.asarray(r)).sum())

    analytic = {"x": to_numpy(cuda.conv2d_backward_input(xp.asarray(r), xp.asarray(w), x.shape, s, p)),
                "w": to_numpy(cuda.conv2d_backward_weight(xp.asarray(r), xp.asarray(x), w.shape, s, p)),
                "b": to_numpy(cuda.conv2d_backward_bias(xp.asarray(r)))}
    rng = np.random.default_rng(4)
    for name, array in values.items():
        for flat in rng.choice(array.size, size=min(12, array.size), replace=False):
            index = np.unravel_index(flat, array.shape)
            plus, minus = dict(values), dict(values)
            plus[name], minus[name] = array.copy(), array.copy()
            plus[name][index] += 1e-6
            minus[name][index] -= 1e-6
            numeric = (loss(plus) - loss(minus)) / 2e-6
            assert abs(numeric - analytic[name][index]) <= 1e-6 * (1 + abs(numeric)), (name, index)


# --- fused epilogue: bias, residual, ReLU ------------------------------------------------------

@pytest.mark.parametrize("tf32", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [CONV_SHAPES[5], CONV_SHAPES[8], CONV_SHAPES[17]], ids=str)
def test_conv2d_forward_fused_residual_and_relu_is_the_unfused_chain(shape, dtype, tf32, xp):
    """relu(conv + b + r) in the epilogue is bit for bit relu((conv + b) + r) done after it."""
    x, w, b, r = conv_inputs(shape, dtype, seed=7)
    s, p = shape[6], shape[7]
    y = to_numpy(cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), s, p, tf32=tf32))
    fused = cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), s, p, residual=xp.asarray(r), relu=True,
                                tf32=tf32)
    np.testing.assert_array_equal(to_numpy(fused), np.maximum(y + r, 0))
    no_relu = cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), None, s, p, residual=xp.asarray(r), tf32=tf32)
    y = to_numpy(cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), None, s, p, tf32=tf32))
    np.testing.assert_array_equal(to_numpy(no_relu), y + r)


def test_conv2d_forward_residual_of_the_wrong_shape_is_a_value_error(xp):
    x, w, b, r = conv_inputs((1, 3, 5, 5, 2, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="residual must have the output shape"):
        cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), 1, 1, residual=xp.asarray(r[:, :1]))


# --- TF32 tensor cores -------------------------------------------------------------------------

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


def _passes(xp, shape, x, w, b, gy, **kwargs):
    s, p = shape[6], shape[7]
    return {"forward": cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), s, p, **kwargs),
            "grad_input": cuda.conv2d_backward_input(xp.asarray(gy), xp.asarray(w), x.shape, s, p, **kwargs),
            "grad_weight": cuda.conv2d_backward_weight(xp.asarray(gy), xp.asarray(x), w.shape, s, p, **kwargs)}


def _reference_passes(shape, x, w, b, gy):
    s, p = shape[6], shape[7]
    return {"forward": reference.conv2d_forward(x, w, b, s, p),
            "grad_input": reference.conv2d_backward_input(gy, w, x.shape, s, p),
            "grad_weight": reference.conv2d_backward_weight(gy, x, w.shape, s, p)}


def _reductions(shape):
    n, c, h, w, f, k, s, p = shape
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return {"forward": c * k * k, "grad_input": f * k * k, "grad_weight": n * ho * wo}


@pytest.mark.parametrize("shape", TF32_SHAPES, ids=str)
def test_conv2d_tf32_is_the_exact_product_of_tf32_operands_summed_in_fp32(shape, xp):
    """Each pass equals the float64 product of its operands rounded to TF32, within fp32's
    summation bound (doubled: tensor cores add with truncation, Fasi et al. 2021)."""
    x, w, b, gy = conv_inputs(shape, np.float32, seed=5)
    got = _passes(xp, shape, x, w, b, gy, tf32=True)
    rounded = [tf32_round(a).astype(np.float64) for a in (x, w)] + [b.astype(np.float64)]
    rounded.append(tf32_round(gy).astype(np.float64))
    expected = _reference_passes(shape, *rounded)
    scale = _reference_passes(shape, *[np.abs(a) for a in rounded])
    for name, length in _reductions(shape).items():
        assert_close(got[name], expected[name], 2 * scale[name], length, np.float32,
                     f"{name} (TF32)")


@pytest.mark.parametrize("shape", TF32_SHAPES[1:3], ids=str)
def test_conv2d_tf32_error_is_that_of_tf32_operands(shape, xp):
    """Against the exact float64 result: relative L2 error near 3e-4 (each operand carries a
    rounding error of up to 2^-11), far above fp32's 1e-7: the tensor cores really ran."""
    x, w, b, gy = conv_inputs(shape, np.float32, seed=6)
    got = _passes(xp, shape, x, w, b, gy, tf32=True)
    exact = _reference_passes(shape, *f64(x, w, b, gy))
    for name, ref in exact.items():
        error = np.linalg.norm(to_numpy(got[name]) - ref) / np.linalg.norm(ref)
        assert 5e-5 < error < 1e-3, f"{name}: relative L2 error {error:.2e}"


def test_conv2d_tf32_on_small_integers_is_exact(xp):
    """Integers below 2^10 are TF32 values and their sums stay below 2^24: every output element
    is exact, so any slip in the mma fragment layout shows as a wrong value."""
    shape = (2, 20, 9, 14, 40, 3, 1, 1)
    rng = np.random.default_rng(8)
    x, w, gy = (rng.integers(-3, 4, size).astype(np.float32) for size in (
        (2, 20, 9, 14), (40, 20, 3, 3), (2, 40, 9, 14)))
    b = np.zeros(40, np.float32)
    got = _passes(xp, shape, x, w, b, gy, tf32=True)
    for name, expected in _reference_passes(shape, *f64(x, w, b, gy)).items():
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
    x64, w64, b64 = (xp.asarray(a) for a in f64(x, w, b))
    strict = to_numpy(cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), 1, 1))
    wide = to_numpy(cuda.conv2d_forward(x64, w64, b64, 1, 1))
    with precision.tf32(True):
        default = to_numpy(cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), 1, 1))
        np.testing.assert_array_equal(to_numpy(cuda.conv2d_forward(x64, w64, b64, 1, 1)),
                                      wide)
    tf32 = to_numpy(cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), 1, 1, tf32=True))
    np.testing.assert_array_equal(default, tf32)
    assert not np.array_equal(tf32, strict)


# --- max-pooling -------------------------------------------------------------------------------

def pool_inputs(shape, dtype, seed=0):
    n, c, h, w, k, s, p = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    gy = rng.standard_normal((n, c, ho, wo)).astype(dtype)
    return x, gy


@pytest.mark.task4_3
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", POOL_SHAPES, ids=str)
def test_max_pool2d_forward_matches_reference(shape, dtype, xp):
    x, _ = pool_inputs(shape, dtype)
    k, s, p = shape[4:]
    y, argmax = cuda.max_pool2d_forward(xp.asarray(x), k, s, p)
    y_ref, argmax_ref = reference.max_pool2d_forward(x, k, s, p)
    assert argmax.dtype == np.int8 and y.dtype == dtype
    np.testing.assert_array_equal(to_numpy(y), y_ref)
    np.testing.assert_array_equal(to_numpy(argmax), argmax_ref)


@pytest.mark.task4_3
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", POOL_SHAPES, ids=str)
def test_max_pool2d_backward_matches_reference(shape, dtype, xp):
    x, gy = pool_inputs(shape, dtype)
    k, s, p = shape[4:]
    _, argmax = reference.max_pool2d_forward(x, k, s, p)
    gx = cuda.max_pool2d_backward(xp.asarray(gy), xp.asarray(argmax), x.shape, k, s, p)
    expected = reference.max_pool2d_backward(gy.astype(np.float64), argmax, x.shape, k, s, p)
    scale = reference.max_pool2d_backward(np.abs(gy).astype(np.float64), argmax, x.shape, k, s, p)
    assert_close(gx, expected, scale, math.ceil(k / s) ** 2, dtype, "max_pool2d_backward")


@pytest.mark.task4_3
@pytest.mark.parametrize("padding", [0, 1])
def test_max_pool2d_ties_pick_the_first_window_element(padding, xp):
    x = np.ones((1, 2, 6, 7), dtype=np.float32)
    y, argmax = cuda.max_pool2d_forward(xp.asarray(x), 3, 2, padding)
    _, argmax_ref = reference.max_pool2d_forward(x, 3, 2, padding)
    np.testing.assert_array_equal(to_numpy(argmax), argmax_ref)


@pytest.mark.task4_3
def test_max_pool2d_handles_more_planes_than_one_grid_column(xp):
    x, gy = pool_inputs((1, 70000, 2, 3, 2, 1, 0), np.float32)
    y, argmax = cuda.max_pool2d_forward(xp.asarray(x), 2, 1, 0)
    y_ref, argmax_ref = reference.max_pool2d_forward(x, 2, 1, 0)
    np.testing.assert_array_equal(to_numpy(y), y_ref)
    gx = cuda.max_pool2d_backward(xp.asarray(gy), argmax, x.shape, 2, 1, 0)
    np.testing.assert_allclose(to_numpy(gx),
                               reference.max_pool2d_backward(gy, argmax_ref, x.shape, 2, 1, 0),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.task4_3
def test_max_pool2d_gradient_matches_central_differences_on_the_device(xp):
    x, r = pool_inputs((2, 3, 7, 8, 3, 2, 1), np.float64, seed=5)
    _, argmax = cuda.max_pool2d_forward(xp.asarray(x), 3, 2, 1)
    analytic = to_numpy(cuda.max_pool2d_backward(xp.asarray(r), argmax, x.shape, 3, 2, 1))
    loss = lambda x_: float((cuda.max_pool2d_forward(xp.asarray(x_), 3, 2, 1)[0] * xp.asarray(r)).sum())
    for flat in np.random.default_rng(6).choice(x.size, size=20, replace=False):
        index = np.unravel_index(flat, x.shape)
        plus, minus = x.copy(), x.copy()
        plus[index] += 1e-7
        minus[index] -= 1e-7
        numeric = (loss(plus) - loss(minus)) / 2e-7
        assert abs(numeric - analytic[index]) <= 1e-6 * (1 + abs(numeric)), index


# --- patch cross-entropy -----------------------------------------------------------------------

def xent_inputs(shape, dtype, seed=0, spread=3.0):
    n, c, h, w = shape
    rng = np.random.default_rng(seed)
    logits = (spread * rng.standard_normal(shape)).astype(dtype)
    labels = rng.integers(0, c, size=(n, h, w)).astype(np.int32)
    return logits, labels


@pytest.mark.task4_4
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", XENT_SHAPES, ids=str)
def test_patch_cross_entropy_forward_matches_reference(shape, dtype, xp):
    logits, labels = xent_inputs(shape, dtype)
    loss, dlogits = cuda.patch_cross_entropy_forward(xp.asarray(logits), xp.asarray(labels))
    loss_ref, dlogits_ref = reference.patch_cross_entropy_forward(logits.astype(np.float64), labels)
    c = shape[1]
    assert_close(loss, loss_ref, np.abs(loss_ref) + 10, 2 * c, dtype, "patch xent loss")
    assert_close(dlogits, dlogits_ref, np.ones_like(dlogits_ref), 2 * c, dtype, "patch xent grad")


@pytest.mark.task4_4
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", XENT_SHAPES, ids=str)
def test_patch_cross_entropy_sum_is_the_sum_of_the_patch_losses(shape, dtype, xp):
    logits, labels = xent_inputs(shape, dtype, seed=1)
    total, dlogits = cuda.patch_cross_entropy_sum(xp.asarray(logits), xp.asarray(labels))
    loss_ref, dlogits_ref = reference.patch_cross_entropy_forward(logits.astype(np.float64), labels)
    assert total.shape == () and total.dtype == dtype
    patches = loss_ref.size
    assert_close(total, np.asarray(loss_ref.sum()), np.asarray(np.abs(loss_ref).sum() + 10),
                 patches * 2 * shape[1], dtype, "patch xent total")
    assert_close(dlogits, dlogits_ref, np.ones_like(dlogits_ref), 2 * shape[1], dtype,
                 "patch xent grad")


@pytest.mark.task4_4
def test_patch_cross_entropy_is_stable_for_huge_logits(xp):
    logits, labels = xent_inputs((2, 2, 3, 4), np.float32, spread=1e4)
    loss, dlogits = cuda.patch_cross_entropy_forward(xp.asarray(logits), xp.asarray(labels))
    assert np.isfinite(to_numpy(loss)).all() and np.isfinite(to_numpy(dlogits)).all()
    loss_ref, _ = reference.patch_cross_entropy_forward(logits.astype(np.float64), labels)
    np.testing.assert_allclose(to_numpy(loss), loss_ref, rtol=1e-6, atol=1e-3)


@pytest.mark.task4_4
def test_patch_cross_entropy_turns_an_out_of_range_label_into_nan(xp):
    logits, labels = xent_inputs((1, 2, 2, 2), np.float32)
    labels[0, 1, 1] = 7
    loss, dlogits = cuda.patch_cross_entropy_forward(xp.asarray(logits), xp.asarray(labels))
    loss = to_numpy(loss)
    assert np.isnan(loss[0, 1, 1]) and np.isfinite(np.delete(loss.ravel(), 3)).all()
    assert np.isnan(to_numpy(dlogits)[0, :, 1, 1]).all()


# --- bad input on the GPU ----------------------------------------------------------------------

def test_float64_weight_with_float32_input_is_a_type_error(xp):
    x, w, b, _ = conv_inputs((1, 3, 5, 5, 2, 3, 1, 1), np.float32)
    with pytest.raises(TypeError, match="w must have the dtype of x"):
        cuda.conv2d_forward(xp.asarray(x), xp.asarray(w.astype(np.float64)), xp.asarray(b), 1, 1)


def test_non_contiguous_input_is_a_value_error(xp):
    x, w, b, _ = conv_inputs((1, 3, 5, 10, 2, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        cuda.conv2d_forward(xp.asarray(x)[:, :, :, ::2], xp.asarray(w), xp.asarray(b), 1, 1)


def test_wrong_channel_count_is_a_value_error(xp):
    x, w, b, _ = conv_inputs((1, 3, 5, 5, 2, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="input has 3 channels but the weight expects 2"):
        cuda.conv2d_forward(xp.asarray(x), xp.asarray(w[:, :2].copy()), xp.asarray(b), 1, 1)


def test_empty_batch_is_a_value_error(xp):
    x, w, b, _ = conv_inputs((1, 3, 5, 5, 2, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="empty batch"):
        cuda.conv2d_forward(xp.asarray(x[:0]), xp.asarray(w), xp.asarray(b), 1, 1)
    with pytest.raises(ValueError, match="empty batch"):
        cuda.max_pool2d_forward(xp.asarray(x[:0]), 3, 1, 1)


def test_numpy_array_mixed_with_device_arrays_is_a_type_error(xp):
    x, w, b, _ = conv_inputs((1, 3, 5, 5, 2, 3, 1, 1), np.float32)
    with pytest.raises(TypeError, match="w must be an array on a CUDA device"):
        cuda.conv2d_forward(xp.asarray(x), w, xp.asarray(b), 1, 1)


def test_int64_labels_are_a_type_error(xp):
    logits, labels = xent_inputs((1, 2, 2, 2), np.float32)
    with pytest.raises(TypeError, match="labels must be int32"):
        cuda.patch_cross_entropy_forward(xp.asarray(logits), xp.asarray(labels.astype(np.int64)))


def test_arrays_on_different_gpus_are_a_value_error(xp):
    if xp.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("needs two GPUs")
    x, w, b, _ = conv_inputs((1, 3, 5, 5, 2, 3, 1, 1), np.float32)
    with xp.cuda.Device(1):
        w1 = xp.asarray(w)
    with pytest.raises(ValueError, match="same GPU"):
        cuda.conv2d_forward(xp.asarray(x), w1, xp.asarray(b), 1, 1)


# --- end to end --------------------------------------------------------------------------------

def test_simgan_gradients_on_the_device_match_the_cpu(cuda_device):
    """Dispatch end to end: R and D on device arrays run these kernels through minigan's ops, and
    every parameter gradient of the refiner and discriminator losses matches the NumPy path."""
    from minigan import Tensor
    from minigan.simgan import losses, models

    images = np.random.default_rng(0).uniform(-1, 1, (2, 3, 1, 12, 16)).astype(np.float32)
    grads = {}
    for device in ("cpu", cuda_device):
        refiner = models.Refiner(channels=8, blocks=1, rng=np.random.default_rng(1)).to(device)
        discriminator = models.Discriminator(width=0.25, rng=np.random.default_rng(2)).to(device)
        synthetic, real = Tensor(images[0], device=device), Tensor(images[1], device=device)
        refined = refiner(synthetic)
        loss = (losses.realism_loss(discriminator(refined))
                + losses.self_regularization(refined, synthetic, 0.5)
                + losses.discriminator_loss(discriminator(refined), discriminator(real)))
        loss.backward()
        grads[device] = [to_numpy(p.grad)
                         for p in list(refiner.parameters()) + list(discriminator.parameters())]
    for cpu_grad, gpu_grad in zip(grads["cpu"], grads[cuda_device]):
        np.testing.assert_allclose(gpu_grad, cpu_grad, rtol=1e-3,
                                   atol=1e-4 * float(np.abs(cpu_grad).max()))
