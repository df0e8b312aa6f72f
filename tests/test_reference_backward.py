"""The NumPy references' window layout and backward passes, checked without the autograd engine:
im2col against explicit windows, every linear backward pass as the adjoint of its forward pass
(<A x, g> = <x, A^T g> for random x and g, exact up to rounding), max-pooling's backward against
a loop over windows, and the loss gradient against central differences."""
import numpy as np
import pytest

from minigan.reference import conv, pool, xent

rng = np.random.default_rng(7)

# (N, C, H, W, F, K, stride, padding)
CONV_SHAPES = [(2, 3, 7, 6, 4, 3, 1, 1), (1, 2, 9, 5, 3, 3, 2, 1), (2, 1, 8, 8, 2, 5, 2, 2),
               (1, 3, 5, 7, 2, 1, 1, 0), (2, 2, 6, 9, 3, 3, 3, 0), (1, 1, 35, 55, 2, 3, 1, 1)]


def dot(a, b):
    return float(np.sum(a * b))


def conv_arrays(shape):
    n, c, h, w, f, k, s, p = shape
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return (rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, k, k)),
            rng.standard_normal(f), rng.standard_normal((n, f, ho, wo)))


@pytest.mark.task2_1
@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
def test_im2col_columns_are_the_padded_windows(shape):
    n, c, h, w, f, k, s, p = shape
    x = rng.standard_normal((n, c, h, w))
    cols, (ho, wo) = conv.im2col(x, k, s, p)
    assert cols.shape == (c * k * k, n * ho * wo)
    xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    for image in range(n):
        for i in range(ho):
            for j in range(wo):
                window = xpad[image, :, s * i:s * i + k, s * j:s * j + k]
                np.testing.assert_array_equal(cols[:, (image * ho + i) * wo + j], window.ravel())


@pytest.mark.task2_1
def test_conv2d_forward_without_bias_and_in_float32():
    x, w, _, _ = conv_arrays(CONV_SHAPES[0])
    y32 = conv.conv2d_forward(x.astype(np.float32), w.astype(np.float32), None, 1, 1)
    assert y32.dtype == np.float32 and y32.flags.c_contiguous
    np.testing.assert_allclose(y32, conv.conv2d_forward(x, w, None, 1, 1), rtol=1e-4, atol=1e-4)


@pytest.mark.task2_2
@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
def test_col2im_is_the_adjoint_of_im2col(shape):
    n, c, h, w, f, k, s, p = shape
    x = rng.standard_normal((n, c, h, w))
    cols, _ = conv.im2col(x, k, s, p)
    dcols = rng.standard_normal(cols.shape)
    dx = conv.col2im(dcols, x.shape, k, s, p)
    assert dx.shape == x.shape
    assert dot(cols, dcols) == pytest.approx(dot(x, dx), rel=1e-12, abs=1e-12)


@pytest.mark.task2_2
@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
def test_conv2d_backward_input_and_weight_are_adjoints_of_the_forward_pass(shape):
    """y = conv(x, w) is linear in x and in w: <y, gy> = <x, gx> = <w, gw>."""
    x, w, _, gy = conv_arrays(shape)
    s, p = shape[6], shape[7]
    gx = conv.conv2d_backward_input(gy, w, x.shape, s, p)
    gw = conv.conv2d_backward_weight(gy, x, w.shape, s, p)
    assert gx.shape == x.shape and gw.shape == w.shape
    forward = dot(conv.conv2d_forward(x, w, None, s, p), gy)
    assert dot(x, gx) == pytest.approx(forward, rel=1e-12)
    assert dot(w, gw) == pytest.approx(forward, rel=1e-12)


@pytest.mark.task2_2
@pytest.mark.parametrize("shape", CONV_SHAPES[:3], ids=str)
def test_conv2d_backward_bias_sums_the_gradient_over_images_and_pixels(shape):
    _, _, _, gy = conv_arrays(shape)
    gb = conv.conv2d_backward_bias(gy)
    expected = [sum(gy[n, f].sum() for n in range(gy.shape[0])) for f in range(gy.shape[1])]
    np.testing.assert_allclose(gb, expected, rtol=1e-12)


@pytest.mark.task2_2
def test_conv2d_backward_input_matches_a_scatter_loop():
    x, w, _, gy = conv_arrays((1, 2, 6, 7, 3, 3, 2, 1))
    k, s, p = 3, 2, 1
    gpad = np.zeros((1, 2, 6 + 2 * p, 7 + 2 * p))
    for i in range(gy.shape[2]):
        for j in range(gy.shape[3]):
            gpad[:, :, s * i:s * i + k, s * j:s * j + k] += np.einsum("nf,fcuv->ncuv",
                                                                       gy[:, :, i, j], w)
    np.testing.assert_allclose(conv.conv2d_backward_input(gy, w, x.shape, s, p),
                               gpad[:, :, p:-p, p:-p], rtol=1e-12, atol=1e-12)


POOL_CASES = [(3, 1, 1), (3, 2, 1), (2, 2, 0), (3, 2, 0), (2, 2, 1), (5, 1, 2)]


@pytest.mark.task2_3
@pytest.mark.parametrize("kernel,stride,padding", POOL_CASES)
def test_max_pool2d_backward_sends_each_gradient_to_its_windows_argmax(kernel, stride, padding):
    x = rng.standard_normal((2, 3, 7, 9))
    y, argmax = pool.max_pool2d_forward(x, kernel, stride, padding)
    gy = rng.standard_normal(y.shape)
    gpad = np.zeros((2, 3, 7 + 2 * padding, 9 + 2 * padding))
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            u, v = np.divmod(argmax[:, :, i, j].astype(int), kernel)
            for n in range(2):
                for c in range(3):
                    gpad[n, c, stride * i + u[n, c], stride * j + v[n, c]] += gy[n, c, i, j]
    gx = pool.max_pool2d_backward(gy, argmax, x.shape, kernel, stride, padding)
    np.testing.assert_allclose(gx, gpad[:, :, padding:padding + 7, padding:padding + 9],
                               rtol=1e-12, atol=1e-12)
    assert dot(y, gy) == pytest.approx(dot(x, gx), rel=1e-12)   # y is x at the argmaxes


@pytest.mark.task2_3
def test_max_pool2d_ties_pick_the_first_window_element_and_nan_wins():
    _, argmax = pool.max_pool2d_forward(np.ones((1, 1, 4, 4)), 2, 2, 0)
    np.testing.assert_array_equal(argmax, 0)
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 1, 0] = np.nan
    y, argmax = pool.max_pool2d_forward(x, 2, 2, 0)
    assert np.isnan(y[0, 0, 0, 0]) and argmax[0, 0, 0, 0] == 2


@pytest.mark.task2_3
def test_max_pool2d_never_picks_the_padding():
    x = -np.abs(rng.standard_normal((1, 2, 5, 6))) - 1   # all negative: padding must not win
    y, argmax = pool.max_pool2d_forward(x, 3, 2, 1)
    assert (y < -1).all() and argmax.dtype == np.int8


@pytest.mark.task2_4
def test_patch_cross_entropy_gradient_matches_central_differences():
    logits = rng.standard_normal((2, 3, 2, 3)) * 2
    labels = rng.integers(0, 3, (2, 2, 3)).astype(np.int32)
    _, dlogits = xent.patch_cross_entropy_forward(logits, labels)
    eps = 1e-6
    for index in np.ndindex(logits.shape):
        plus, minus = logits.copy(), logits.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric = (xent.patch_cross_entropy_forward(plus, labels)[0].sum()
                   - xent.patch_cross_entropy_forward(minus, labels)[0].sum()) / (2 * eps)
        assert numeric == pytest.approx(dlogits[index], abs=1e-7), index
