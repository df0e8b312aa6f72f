"""The NumPy references against plain, loop-based formulas (the specification in code)."""
import numpy as np
import pytest

from minigan import F, Tensor
from minigan.reference import (conv, conv_fast, max_pool2d_backward, max_pool2d_forward,
                               patch_cross_entropy_forward)



def conv_implementations(task):
    """Both CPU convolutions; the plain one carries the homework ``task``'s marker (it is the
    code a student writes; the fast one is what the CPU backend runs)."""
    return pytest.mark.parametrize("impl", [pytest.param(conv, id="plain", marks=task),
                                            pytest.param(conv_fast, id="fast")])

rng = np.random.default_rng(1)


def direct_conv2d(x, w, b, stride, padding):
    n, _, h, wd = x.shape
    f, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    y = np.zeros((n, f, ho, wo))
    for i in range(ho):
        for j in range(wo):
            window = xp[:, :, stride * i:stride * i + k, stride * j:stride * j + k]
            y[:, :, i, j] = np.einsum("ncuv,fcuv->nf", window, w) + b
    return y


@conv_implementations(pytest.mark.task2_1)
@pytest.mark.parametrize("kernel,stride,padding", [(1, 1, 0), (3, 1, 1), (3, 2, 1), (5, 2, 0), (7, 1, 3)])
def test_conv2d_matches_direct_loops(impl, kernel, stride, padding):
    x, w, b = rng.standard_normal((2, 3, 35, 55)), rng.standard_normal((4, 3, kernel, kernel)), rng.standard_normal(4)
    np.testing.assert_allclose(impl.conv2d_forward(x, w, b, stride, padding),
                               direct_conv2d(x, w, b, stride, padding), atol=1e-10)


# (N, C, F, H, W, K, stride, padding): batch 1, odd sizes, 35x55, K 1/3/5, stride 1/2/3, padding 0-2
CONV_SHAPES = [(1, 1, 1, 5, 5, 3, 1, 1), (2, 3, 4, 7, 6, 3, 2, 1), (1, 2, 3, 35, 55, 3, 1, 1),
               (3, 2, 5, 35, 55, 3, 2, 1), (2, 4, 3, 9, 10, 1, 1, 0), (1, 3, 2, 9, 11, 1, 2, 1),
               (2, 2, 3, 11, 13, 5, 1, 2), (2, 3, 2, 12, 9, 5, 2, 0), (1, 2, 2, 7, 8, 3, 3, 1),
               (3, 1, 2, 4, 11, 3, 1, 0), (2, 2, 2, 6, 6, 1, 1, 1)]


@pytest.mark.parametrize("small_chunks", [False, True], ids=["chunks", "one-image-chunks"])
@pytest.mark.parametrize("shape", CONV_SHAPES)
def test_fast_conv2d_matches_the_plain_one_in_every_pass(shape, small_chunks, monkeypatch):
    if small_chunks:
        monkeypatch.setattr(conv_fast, "CHUNK_BYTES", 1)
    n, c, f, h, w, k, s, p = shape
    x, wt, b = rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, k, k)), rng.standard_normal(f)
    y = conv.conv2d_forward(x, wt, b, s, p)
    gy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(conv_fast.conv2d_forward(x, wt, b, s, p), y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv_fast.conv2d_forward(x, wt, None, s, p),
                               conv.conv2d_forward(x, wt, None, s, p), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv_fast.conv2d_backward_input(gy, wt, x.shape, s, p),
                               conv.conv2d_backward_input(gy, wt, x.shape, s, p), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv_fast.conv2d_backward_weight(gy, x, wt.shape, s, p),
                               conv.conv2d_backward_weight(gy, x, wt.shape, s, p), rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(conv_fast.conv2d_backward_bias(gy), conv.conv2d_backward_bias(gy))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_conv2d_keeps_the_dtype_and_takes_strided_input(dtype):
    x = rng.standard_normal((2, 6, 9, 11)).astype(dtype)[:, ::2]     # not contiguous
    w, b = rng.standard_normal((4, 3, 3, 3)).astype(dtype), rng.standard_normal(4).astype(dtype)
    y = conv_fast.conv2d_forward(x, w, b, 1, 1)
    assert y.dtype == dtype and y.flags.c_contiguous
    np.testing.assert_allclose(y, conv.conv2d_forward(x, w, b, 1, 1), rtol=1e-5, atol=1e-5)


@conv_implementations(pytest.mark.task2_2)
@pytest.mark.parametrize("shape", [(1, 2, 3, 5, 9, 3, 1, 1), (2, 2, 2, 7, 6, 3, 2, 1),
                                   (2, 3, 2, 6, 7, 1, 1, 0), (1, 2, 2, 7, 7, 5, 2, 0),
                                   (1, 1, 2, 6, 5, 5, 1, 1)])
def test_conv2d_passes_are_the_gradients_of_the_forward(impl, shape):
    """float64 central differences of L = <gy, conv(x, w, b)> against the backward passes."""
    n, c, f, h, w, k, s, p = shape
    x, wt, b = rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, k, k)), rng.standard_normal(f)
    gy = rng.standard_normal(impl.conv2d_forward(x, wt, b, s, p).shape)

    def numerical(array):
        grad = np.zeros_like(array)
        for i in np.ndindex(array.shape):
            saved = array[i]
            array[i] = saved + 1e-6
            plus = (impl.conv2d_forward(x, wt, b, s, p) * gy).sum()
            array[i] = saved - 1e-6
            minus = (impl.conv2d_forward(x, wt, b, s, p) * gy).sum()
            array[i] = saved
            grad[i] = (plus - minus) / 2e-6
        return grad

    np.testing.assert_allclose(impl.conv2d_backward_input(gy, wt, x.shape, s, p), numerical(x),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(impl.conv2d_backward_weight(gy, x, wt.shape, s, p), numerical(wt),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(impl.conv2d_backward_bias(gy), numerical(b), rtol=1e-6, atol=1e-6)


@pytest.mark.task2_3
@pytest.mark.parametrize("shape,kernel,stride,padding", [
    ((2, 3, 9, 11), 3, 2, 1), ((2, 3, 9, 14), 3, 1, 1), ((1, 2, 7, 9), 2, 2, 0),
    ((1, 1, 35, 55), 3, 1, 1), ((2, 2, 8, 8), 5, 3, 2), ((1, 2, 5, 3), 1, 1, 0)])
def test_max_pool2d_matches_direct_loops_and_stores_argmax(shape, kernel, stride, padding):
    x = rng.standard_normal(shape)
    x[0, 0, 1, :3] = 5.0              # a tie inside some windows: the first one wins
    x[-1, -1, 2, 1] = np.nan          # a NaN wins its windows, as in numpy.argmax
    y, argmax = max_pool2d_forward(x, kernel, stride, padding)
    gy = rng.standard_normal(y.shape)
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    gpad = np.zeros_like(xp)
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            window = xp[:, :, stride * i:stride * i + kernel, stride * j:stride * j + kernel]
            window = window.reshape(*shape[:2], kernel * kernel)
            np.testing.assert_array_equal(y[:, :, i, j], window.max(-1))
            np.testing.assert_array_equal(argmax[:, :, i, j], window.argmax(-1))
            for n, c in np.ndindex(*shape[:2]):
                u, v = divmod(window[n, c].argmax(), kernel)
                gpad[n, c, stride * i + u, stride * j + v] += gy[n, c, i, j]
    assert argmax.dtype == np.int8 and y.dtype == x.dtype
    np.testing.assert_allclose(max_pool2d_backward(gy, argmax, shape, kernel, stride, padding),
                               gpad[:, :, p:p + shape[2], p:p + shape[3]], atol=1e-12)


@pytest.mark.task2_4
def test_patch_cross_entropy_matches_log_softmax_formula():
    logits = rng.standard_normal((3, 2, 4, 5)) * 5
    labels = rng.integers(0, 2, (3, 4, 5))
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -np.take_along_axis(log_softmax, labels[:, None], axis=1)[:, 0]
    loss, dlogits = patch_cross_entropy_forward(logits, labels.astype(np.int32))
    np.testing.assert_allclose(loss, expected, rtol=1e-7, atol=1e-12)
    onehot = np.eye(2)[labels].transpose(0, 3, 1, 2)
    np.testing.assert_allclose(dlogits, np.exp(log_softmax) - onehot, atol=1e-12)
    assert F.patch_cross_entropy(Tensor(logits), labels, "sum").item() == pytest.approx(expected.sum())
    assert F.patch_cross_entropy(Tensor(logits), labels, "mean").item() == pytest.approx(expected.mean())


@pytest.mark.task2_4
def test_patch_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[[[1000.0]], [[-1000.0]]]], dtype=np.float32)
    loss, dlogits = patch_cross_entropy_forward(logits, np.ones((1, 1, 1), np.int32))
    assert np.isfinite(loss).all() and loss[0, 0, 0] == pytest.approx(2000.0)
    assert np.isfinite(dlogits).all()


def test_patch_labels_accept_int_and_per_image_labels():
    logits = Tensor(rng.standard_normal((2, 2, 3, 3)))
    a = F.patch_cross_entropy(logits, 1).item()
    b = F.patch_cross_entropy(logits, np.array([1, 1])).item()
    c = F.patch_cross_entropy(logits, np.ones((2, 3, 3), dtype=np.int64)).item()
    assert a == pytest.approx(b) == pytest.approx(c)


@pytest.mark.parametrize("labels,error,match", [
    (np.full((2, 3, 3), 2), ValueError, r"labels must lie in \[0, 2\)"),
    (np.full((2, 3, 3), -1), ValueError, r"labels must lie in \[0, 2\)"),
    (np.zeros((2, 4, 3), dtype=int), ValueError, "labels must be an int, shape"),
    (np.zeros((2, 3, 3)), TypeError, "labels must be integers"),
])
def test_bad_patch_labels_are_clear_errors(labels, error, match):
    with pytest.raises(error, match=match):
        F.patch_cross_entropy(Tensor(np.zeros((2, 2, 3, 3))), labels)


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


def test_max_pool2d_bad_arguments():
    with pytest.raises(ValueError, match=r"padding must be at most kernel_size // 2 = 1"):
        F.max_pool2d(np.zeros((1, 1, 5, 5)), 3, 1, 2)
    with pytest.raises(ValueError, match=r"input must be \(N, C, H, W\)"):
        F.max_pool2d(np.zeros((5, 5)), 3)
