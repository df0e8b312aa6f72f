"""fused_conv2d: act(conv2d(x, w, b) + residual) as one op, and the conv kernel's fused
epilogue (bias, residual, ReLU) under it.

On the CPU the op gives bit for bit what the unfused ops give (forward and every gradient); on
a CUDA device the kernel epilogue gives what the unfused device ops give; the float64 gradient
check passes on every device; bad residuals and activations are clear errors.
"""
import numpy as np
import pytest

from minigan import F, Tensor, cuda, gradcheck
from minigan.backend import precision, to_numpy
from minigan.functional.fused import fused_conv2d
from minigan.simgan.models import Refiner

from op_cases import conv_id, conv_inputs, per_device

pytestmark = pytest.mark.usefixtures("strict_fp32")   # TF32 only where a test asks for it


def unfused(x, w, b, r, stride, padding, activation):
    y = F.conv2d(x, w, b, stride, padding)
    if r is not None:
        y = r + y
    return F.relu(y) if activation == "relu" else y


def forward_and_grads(op, arrays, device="cpu"):
    tensors = [None if a is None else Tensor(a, requires_grad=True, device=device)
               for a in arrays]
    out = op(*tensors)
    out.backward(np.linspace(-1, 1, out.numel()).reshape(out.shape).astype(out.dtype))
    return out.detach().numpy(), [to_numpy(t.grad) for t in tensors if t is not None]


CASES = [  # (bias, residual, activation, stride, padding)
    (True, True, "relu", 1, 1),      # the second conv of a ResNet block
    (True, False, "relu", 1, 1),     # conv + ReLU
    (False, True, None, 1, 1),       # residual only
    (True, False, "relu", 2, 0),     # stride 2, no padding
]


# --- the op -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias, residual, activation, stride, padding", CASES)
def test_fused_conv2d_is_bit_for_bit_the_unfused_chain_on_the_cpu(dtype, bias, residual,
                                                                  activation, stride, padding):
    x, w, b, r = conv_inputs((2, 3, 7, 6, 4, 3, stride, padding), dtype)
    arrays = [x, w, b if bias else None, r if residual else None]
    y_fused, grads_fused = forward_and_grads(
        lambda x, w, b, r: fused_conv2d(x, w, b, stride, padding, residual=r,
                                        activation=activation), arrays)
    y_plain, grads_plain = forward_and_grads(
        lambda x, w, b, r: unfused(x, w, b, r, stride, padding, activation), arrays)
    np.testing.assert_array_equal(y_fused, y_plain)
    for got, expected in zip(grads_fused, grads_plain):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("tf32", [False, True])
@pytest.mark.parametrize("bias, residual, activation, stride, padding", CASES[:3])
def test_fused_conv2d_on_the_device_is_the_unfused_device_chain(bias, residual, activation,
                                                                stride, padding, tf32,
                                                                cuda_device):
    """Same kernels, same order of additions: the epilogue's result and every gradient equal
    the unfused GPU ops' bit for bit, in strict fp32 and with TF32."""
    x, w, b, r = conv_inputs((2, 20, 7, 6, 24, 3, stride, padding), np.float32, seed=2)
    arrays = [x, w, b if bias else None, r if residual else None]
    with precision.tf32(tf32):
        y_fused, grads_fused = forward_and_grads(
            lambda x, w, b, r: fused_conv2d(x, w, b, stride, padding, residual=r,
                                            activation=activation), arrays, cuda_device)
        y_plain, grads_plain = forward_and_grads(
            lambda x, w, b, r: unfused(x, w, b, r, stride, padding, activation), arrays,
            cuda_device)
    np.testing.assert_array_equal(y_fused, y_plain)
    for got, expected in zip(grads_fused, grads_plain):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("bias, residual, activation, stride, padding", CASES)
def test_fused_conv2d_gradcheck(bias, residual, activation, stride, padding, device):
    n, c, h, w, f = per_device(device, cpu=(2, 3, 7, 6, 4), cuda=(1, 2, 5, 6, 2))
    x, wt, b, r = conv_inputs((n, c, h, w, f, 3, stride, padding), np.float64, seed=1)
    arrays = [x, wt] + ([b] if bias else []) + ([r] if residual else [])

    def fn(*tensors):
        x, w = tensors[:2]
        return fused_conv2d(x, w, tensors[2] if bias else None, stride, padding,
                            residual=tensors[-1] if residual else None, activation=activation)

    assert gradcheck(fn, arrays, device=device)


def test_refiner_with_fused_layers_is_bit_for_bit_the_unfused_refiner_on_the_cpu():
    refiner = Refiner(channels=8, blocks=2, rng=np.random.default_rng(3))
    x = np.random.default_rng(4).uniform(-1, 1, (2, 1, 12, 16)).astype(np.float32)

    def unfused_refiner(x):
        h = unfused(x, refiner.stem.weight, refiner.stem.bias, None, 1, 1, "relu")
        for block in refiner.blocks:
            inner = unfused(h, block.conv1.weight, block.conv1.bias, None, 1, 1, "relu")
            h = unfused(inner, block.conv2.weight, block.conv2.bias, h, 1, 1, "relu")
        return refiner.head(h).tanh()

    outputs, grads = [], []
    for forward in (refiner, unfused_refiner):
        for p in refiner.parameters():
            p.grad = None
        out = forward(Tensor(x))
        (out * out).sum().backward()
        outputs.append(out.detach().numpy())
        grads.append([to_numpy(p.grad) for p in refiner.parameters()])
    np.testing.assert_array_equal(outputs[0], outputs[1])
    for fused_grad, plain_grad in zip(*grads):
        np.testing.assert_array_equal(fused_grad, plain_grad)


def test_a_residual_of_the_wrong_shape_is_a_value_error():
    x, w, b, r = conv_inputs((2, 3, 7, 6, 4, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="residual must have the output's shape"):
        fused_conv2d(x, w, b, 1, 1, residual=r[:, :2], activation="relu")


def test_a_residual_of_another_dtype_is_a_type_error():
    x, w, b, r = conv_inputs((2, 3, 7, 6, 4, 3, 1, 1), np.float32)
    with pytest.raises(TypeError, match="residual must have the input's dtype"):
        fused_conv2d(x, w, b, 1, 1, residual=r.astype(np.float64))


def test_an_unknown_activation_is_a_value_error():
    x, w, b, _ = conv_inputs((2, 3, 7, 6, 4, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="activation must be one of"):
        fused_conv2d(x, w, b, 1, 1, activation="gelu")


# --- the kernel's epilogue, on every CUDA device ------------------------------------------------

EPILOGUE_SHAPES = [   # (N, C, H, W, F, K, stride, padding)
    (2, 1, 35, 55, 64, 3, 1, 1),     # refiner: conv3x3 1->64
    (2, 64, 35, 55, 64, 3, 1, 1),    # refiner: ResNet block conv3x3 64->64
    (2, 64, 35, 55, 1, 1, 1, 0),     # refiner: conv1x1 64->1
    (2, 1, 35, 55, 96, 3, 2, 1),     # discriminator: conv3x3 s2 1->96
]

RESIDUAL_SHAPES = [
    (2, 64, 9, 14, 32, 3, 1, 1),     # discriminator: conv3x3 64->32
    (1, 3, 7, 9, 5, 5, 1, 0),        # batch 1, odd sizes, K=5
    (1, 16, 5, 6, 16, 3, 1, 1),      # tile boundary: F = C = 16 (small tiles)
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", EPILOGUE_SHAPES, ids=conv_id)
def test_conv2d_kernel_with_fused_relu_is_relu_of_the_forward(shape, dtype, xp):
    x, w, b, _ = conv_inputs(shape, dtype, seed=2)
    x, w, b = xp.asarray(x), xp.asarray(w), xp.asarray(b)
    s, p = shape[6], shape[7]
    y = cuda.conv2d_forward(x, w, b, s, p)
    y_relu = cuda.conv2d_forward(x, w, b, s, p, relu=True)
    np.testing.assert_array_equal(to_numpy(y_relu), np.maximum(to_numpy(y), 0))


@pytest.mark.parametrize("tf32", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", RESIDUAL_SHAPES, ids=conv_id)
def test_conv2d_kernel_with_fused_residual_and_relu_is_the_unfused_chain(shape, dtype, tf32, xp):
    """relu(conv + b + r) in the epilogue is bit for bit relu((conv + b) + r) done after it."""
    x, w, b, r = conv_inputs(shape, dtype, seed=7)
    s, p = shape[6], shape[7]
    x, w, b, rd = xp.asarray(x), xp.asarray(w), xp.asarray(b), xp.asarray(r)
    y = to_numpy(cuda.conv2d_forward(x, w, b, s, p, tf32=tf32))
    fused = cuda.conv2d_forward(x, w, b, s, p, residual=rd, relu=True, tf32=tf32)
    np.testing.assert_array_equal(to_numpy(fused), np.maximum(y + r, 0))
    no_relu = cuda.conv2d_forward(x, w, None, s, p, residual=rd, tf32=tf32)
    y = to_numpy(cuda.conv2d_forward(x, w, None, s, p, tf32=tf32))
    np.testing.assert_array_equal(to_numpy(no_relu), y + r)


def test_conv2d_kernel_refuses_a_residual_of_the_wrong_shape(xp):
    x, w, b, r = conv_inputs((1, 3, 5, 5, 2, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="residual must have the output shape"):
        cuda.conv2d_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), 1, 1,
                            residual=xp.asarray(r[:, :1]))
