"""patch_cross_entropy: logits (N, C, H, W), labels (N, H, W) in [0, C) ->

    loss[n, h, w] = logsumexp_c logits[n, :, h, w] - logits[n, labels[n, h, w], h, w]

reduced by 'sum', 'mean' or 'none'; its gradient softmax - onehot comes from the same pass.
The NumPy reference against the log-softmax formula and central differences; the op's float64
gradient check on every device; the kernels against the reference on every CUDA device; the
labels the op accepts and the argument checks.
"""
import numpy as np
import pytest

from minigan import F, Tensor, cuda, gradcheck, reference
from minigan.backend import to_device, to_numpy
from minigan.cuda import checks

from op_cases import assert_close, central_differences, logits_id, randn, rng


# --- the reference ------------------------------------------------------------------------------

@pytest.mark.task2_4
def test_patch_cross_entropy_matches_log_softmax_formula():
    logits = randn(3, 2, 4, 5) * 5
    labels = rng.integers(0, 2, (3, 4, 5))
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -np.take_along_axis(log_softmax, labels[:, None], axis=1)[:, 0]
    loss, dlogits = reference.patch_cross_entropy_forward(logits, labels.astype(np.int32))
    np.testing.assert_allclose(loss, expected, rtol=1e-7, atol=1e-12)
    onehot = np.eye(2)[labels].transpose(0, 3, 1, 2)
    np.testing.assert_allclose(dlogits, np.exp(log_softmax) - onehot, atol=1e-12)
    assert F.patch_cross_entropy(Tensor(logits), labels, "sum").item() == \
        pytest.approx(expected.sum())
    assert F.patch_cross_entropy(Tensor(logits), labels, "mean").item() == \
        pytest.approx(expected.mean())


@pytest.mark.task2_4
def test_patch_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[[[1000.0]], [[-1000.0]]]], dtype=np.float32)
    loss, dlogits = reference.patch_cross_entropy_forward(logits, np.ones((1, 1, 1), np.int32))
    assert np.isfinite(loss).all() and loss[0, 0, 0] == pytest.approx(2000.0)
    assert np.isfinite(dlogits).all()


@pytest.mark.task2_4
def test_patch_cross_entropy_gradient_matches_central_differences():
    logits = randn(2, 3, 2, 3) * 2
    labels = rng.integers(0, 3, (2, 2, 3)).astype(np.int32)
    _, dlogits = reference.patch_cross_entropy_forward(logits, labels)
    numeric = central_differences(
        lambda: reference.patch_cross_entropy_forward(logits, labels)[0].sum(), logits, 1e-6)
    for index in np.ndindex(logits.shape):
        assert numeric[index] == pytest.approx(dlogits[index], abs=1e-7), index


# --- the op: the labels it takes, float64 gradient check on every device ------------------------

def test_patch_labels_accept_int_and_per_image_labels():
    logits = Tensor(randn(2, 2, 3, 3))
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


def test_patch_loss_checks_host_labels_and_leaves_device_labels_to_the_kernel(cuda_device):
    """A label given from the host is range-checked for free; one already on the device is not
    read back (no wait for the GPU in a training step): its patch's loss is NaN instead."""
    logits = Tensor(np.zeros((1, 2, 2, 3), np.float32), device=cuda_device)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        F.patch_cross_entropy(logits, 2)
    labels = to_device(np.array([[[0, 1, 7], [1, 0, 1]]], np.int32), cuda_device)
    loss = to_numpy(F.patch_cross_entropy(logits, labels, "none").data)
    assert np.isnan(loss[0, 0, 2]) and np.isfinite(np.delete(loss.ravel(), 2)).all()


@pytest.mark.task2_5
@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_patch_cross_entropy_gradcheck(reduction, classes, device):
    labels = rng.integers(0, classes, (2, 4, 5))
    gradcheck(lambda z: F.patch_cross_entropy(z, labels, reduction), [randn(2, classes, 4, 5)],
              device=device)


# --- the kernels against the reference, on every CUDA device ------------------------------------

DTYPES = [np.float32, np.float64]

# (N, C, H, W)
KERNEL_SHAPES = [(2, 2, 9, 14), (3, 5, 4, 7), (1, 2, 1, 1), (2, 1, 3, 3), (64, 2, 9, 14)]


def xent_inputs(shape, dtype, seed=0, spread=3.0):
    n, c, h, w = shape
    gen = np.random.default_rng(seed)
    logits = (spread * gen.standard_normal(shape)).astype(dtype)
    labels = gen.integers(0, c, size=(n, h, w)).astype(np.int32)
    return logits, labels


@pytest.mark.task4_4
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", KERNEL_SHAPES, ids=logits_id)
def test_patch_cross_entropy_kernel_matches_the_reference(shape, dtype, xp):
    logits, labels = xent_inputs(shape, dtype)
    loss, dlogits = cuda.patch_cross_entropy_forward(xp.asarray(logits), xp.asarray(labels))
    loss_ref, dlogits_ref = reference.patch_cross_entropy_forward(logits.astype(np.float64),
                                                                  labels)
    c = shape[1]
    assert_close(loss, loss_ref, np.abs(loss_ref) + 10, 2 * c, dtype, "patch xent loss")
    assert_close(dlogits, dlogits_ref, np.ones_like(dlogits_ref), 2 * c, dtype, "patch xent grad")


@pytest.mark.task4_4
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", KERNEL_SHAPES, ids=logits_id)
def test_patch_cross_entropy_sum_kernel_is_the_sum_of_the_patch_losses(shape, dtype, xp):
    logits, labels = xent_inputs(shape, dtype, seed=1)
    total, dlogits = cuda.patch_cross_entropy_sum(xp.asarray(logits), xp.asarray(labels))
    loss_ref, dlogits_ref = reference.patch_cross_entropy_forward(logits.astype(np.float64),
                                                                  labels)
    assert total.shape == () and total.dtype == dtype
    patches = loss_ref.size
    assert_close(total, np.asarray(loss_ref.sum()), np.asarray(np.abs(loss_ref).sum() + 10),
                 patches * 2 * shape[1], dtype, "patch xent total")
    assert_close(dlogits, dlogits_ref, np.ones_like(dlogits_ref), 2 * shape[1], dtype,
                 "patch xent grad")


@pytest.mark.task4_4
def test_patch_cross_entropy_kernel_is_stable_for_huge_logits(xp):
    logits, labels = xent_inputs((2, 2, 3, 4), np.float32, spread=1e4)
    loss, dlogits = cuda.patch_cross_entropy_forward(xp.asarray(logits), xp.asarray(labels))
    assert np.isfinite(to_numpy(loss)).all() and np.isfinite(to_numpy(dlogits)).all()
    loss_ref, _ = reference.patch_cross_entropy_forward(logits.astype(np.float64), labels)
    np.testing.assert_allclose(to_numpy(loss), loss_ref, rtol=1e-6, atol=1e-3)


@pytest.mark.task4_4
def test_patch_cross_entropy_kernel_turns_an_out_of_range_label_into_nan(xp):
    logits, labels = xent_inputs((1, 2, 2, 2), np.float32)
    labels[0, 1, 1] = 7
    loss, dlogits = cuda.patch_cross_entropy_forward(xp.asarray(logits), xp.asarray(labels))
    loss = to_numpy(loss)
    assert np.isnan(loss[0, 1, 1]) and np.isfinite(np.delete(loss.ravel(), 3)).all()
    assert np.isnan(to_numpy(dlogits)[0, :, 1, 1]).all()


# --- argument checks of the kernels -------------------------------------------------------------

@pytest.mark.parametrize("call", [cuda.patch_cross_entropy_forward, cuda.patch_cross_entropy_sum],
                         ids=["xent", "xent_sum"])
def test_numpy_array_to_a_patch_loss_kernel_wrapper_is_a_type_error(call):
    with pytest.raises(TypeError, match="must be an array on a CUDA device"):
        call(np.zeros((2, 3, 7, 9), np.float32), np.zeros((2, 7, 9), np.int32))


def test_check_needs_int32_labels():
    logits = np.zeros((2, 2, 3, 4), np.float32)
    for dtype in (np.int64, np.float32, np.uint8):
        with pytest.raises(TypeError, match="labels must be int32"):
            checks.check_patch_xent(logits, np.zeros((2, 3, 4), dtype))


def test_check_refuses_labels_of_the_wrong_shape():
    logits = np.zeros((2, 2, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"labels must have shape \(2, 3, 4\)"):
        checks.check_patch_xent(logits, np.zeros((2, 4, 3), np.int32))


def test_check_refuses_non_contiguous_labels():
    logits = np.zeros((2, 2, 3, 4), np.float32)
    labels = np.zeros((2, 3, 8), np.int32)[:, :, ::2]
    with pytest.raises(ValueError, match="labels must be C-contiguous"):
        checks.check_patch_xent(logits, labels)


def test_check_refuses_integer_logits():
    with pytest.raises(TypeError, match="logits must be float32 or float64"):
        checks.check_patch_xent(np.zeros((2, 2, 3, 4), np.int32), np.zeros((2, 3, 4), np.int32))


def test_kernel_wrapper_refuses_int64_labels(xp):
    logits, labels = xent_inputs((1, 2, 2, 2), np.float32)
    with pytest.raises(TypeError, match="labels must be int32"):
        cuda.patch_cross_entropy_forward(xp.asarray(logits), xp.asarray(labels.astype(np.int64)))
