"""fused_conv2d: act(conv2d(x, w, b) + residual) as one op.

On the CPU it must give bit for bit what the unfused ops give (forward and every gradient), and
pass a float64 gradient check; on a CUDA device (the emulator, and a GPU when usable) the fused
kernel epilogue must give what the unfused device ops give, and pass the gradient check through
the kernels."""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck
from minigan.backend import precision, to_numpy
from minigan.functional.fused import fused_conv2d
from minigan.simgan.models import Refiner


def _inputs(dtype, n=2, c=3, h=7, w=6, f=4, k=3, stride=1, padding=1, seed=0):
    gen = np.random.default_rng(seed)
    ho, wo = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    return [gen.standard_normal(shape).astype(dtype)
            for shape in ((n, c, h, w), (f, c, k, k), (f,), (n, f, ho, wo))]


def _unfused(x, w, b, r, stride, padding, activation):
    y = F.conv2d(x, w, b, stride, padding)
    if r is not None:
        y = r + y
    return F.relu(y) if activation == "relu" else y


def _forward_and_grads(op, arrays, device="cpu"):
    tensors = [None if a is None else Tensor(a, requires_grad=True, device=device)
               for a in arrays]
    out = op(*tensors)
    out.backward(np.linspace(-1, 1, out.numel()).reshape(out.shape).astype(out.dtype))
    return out.numpy(), [_grad(t) for t in tensors if t is not None]


def _grad(tensor):
    return to_numpy(tensor.grad)


CASES = [  # (bias, residual, activation, stride, padding)
    (True, True, "relu", 1, 1),      # the second conv of a ResNet block
    (True, False, "relu", 1, 1),     # conv + ReLU
    (False, True, None, 1, 1),       # residual only
    (True, False, "relu", 2, 0),     # stride 2, no padding
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias, residual, activation, stride, padding", CASES)
def test_fused_conv2d_is_bit_for_bit_the_unfused_chain_on_the_cpu(dtype, bias, residual,
                                                                  activation, stride, padding):
    x, w, b, r = _inputs(dtype, stride=stride, padding=padding)
    arrays = [x, w, b if bias else None, r if residual else None]

    def fused(x, w, b, r):
        return fused_conv2d(x, w, b, stride, padding, residual=r, activation=activation)

    def unfused(x, w, b, r):
        return _unfused(x, w, b, r, stride, padding, activation)

    y_fused, grads_fused = _forward_and_grads(fused, arrays)
    y_plain, grads_plain = _forward_and_grads(unfused, arrays)
    np.testing.assert_array_equal(y_fused, y_plain)
    for got, expected in zip(grads_fused, grads_plain):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("bias, residual, activation, stride, padding", CASES)
def test_fused_conv2d_gradcheck(bias, residual, activation, stride, padding):
    x, w, b, r = _inputs(np.float64, stride=stride, padding=padding, seed=1)
    arrays = [x, w] + ([b] if bias else []) + ([r] if residual else [])

    def fn(*tensors):
        tensors = list(tensors)
        x, w = tensors[:2]
        b = tensors[2] if bias else None
        r = tensors[-1] if residual else None
        return fused_conv2d(x, w, b, stride, padding, residual=r, activation=activation)

    assert gradcheck(fn, arrays)


def test_refiner_with_fused_layers_is_bit_for_bit_the_unfused_refiner_on_the_cpu():
    refiner = Refiner(channels=8, blocks=2, rng=np.random.default_rng(3))
    x = np.random.default_rng(4).uniform(-1, 1, (2, 1, 12, 16)).astype(np.float32)

    def unfused(x):
        h = _unfused(x, refiner.stem.weight, refiner.stem.bias, None, 1, 1, "relu")
        for block in refiner.blocks:
            inner = _unfused(h, block.conv1.weight, block.conv1.bias, None, 1, 1, "relu")
            h = _unfused(inner, block.conv2.weight, block.conv2.bias, h, 1, 1, "relu")
        return refiner.head(h).tanh()

    outputs, grads = [], []
    for forward in (refiner, unfused):
        for p in refiner.parameters():
            p.grad = None
        out = forward(Tensor(x))
        (out * out).sum().backward()
        outputs.append(out.numpy())
        grads.append([_grad(p) for p in refiner.parameters()])
    np.testing.assert_array_equal(outputs[0], outputs[1])
    for fused_grad, plain_grad in zip(*grads):
        np.testing.assert_array_equal(fused_grad, plain_grad)


def test_a_residual_of_the_wrong_shape_is_a_value_error():
    x, w, b, r = _inputs(np.float32)
    with pytest.raises(ValueError, match="residual must have the output's shape"):
        fused_conv2d(x, w, b, 1, 1, residual=r[:, :2], activation="relu")


def test_a_residual_of_another_dtype_is_a_type_error():
    x, w, b, r = _inputs(np.float32)
    with pytest.raises(TypeError, match="residual must have the input's dtype"):
        fused_conv2d(x, w, b, 1, 1, residual=r.astype(np.float64))


def test_an_unknown_activation_is_a_value_error():
    x, w, b, _ = _inputs(np.float32)
    with pytest.raises(ValueError, match="activation must be one of"):
        fused_conv2d(x, w, b, 1, 1, activation="gelu")


# --- on a CUDA device --------------------------------------------------------------------------

@pytest.mark.parametrize("tf32", [False, True])
@pytest.mark.parametrize("bias, residual, activation, stride, padding", CASES[:3])
def test_fused_conv2d_on_the_device_is_the_unfused_device_chain(bias, residual, activation,
                                                                stride, padding, tf32,
                                                                cuda_device):
    """Same kernels, same order of additions: the epilogue's result and every gradient equal
    the unfused GPU ops' bit for bit, in strict fp32 and with TF32."""
    x, w, b, r = _inputs(np.float32, c=20, f=24, stride=stride, padding=padding, seed=2)
    arrays = [x, w, b if bias else None, r if residual else None]
    with precision.tf32(tf32):
        y_fused, grads_fused = _forward_and_grads(
            lambda x, w, b, r: fused_conv2d(x, w, b, stride, padding, residual=r,
                                            activation=activation), arrays, cuda_device)
        y_plain, grads_plain = _forward_and_grads(
            lambda x, w, b, r: _unfused(x, w, b, r, stride, padding, activation), arrays,
            cuda_device)
    np.testing.assert_array_equal(y_fused, y_plain)
    for got, expected in zip(grads_fused, grads_plain):
        np.testing.assert_array_equal(got, expected)


def test_fused_conv2d_gradcheck_through_the_kernels(cuda_device):
    x, w, b, r = _inputs(np.float64, seed=3)
    assert gradcheck(lambda x, w, b, r: fused_conv2d(x, w, b, 1, 1, residual=r,
                                                     activation="relu"),
                     [x, w, b, r], device=cuda_device)
