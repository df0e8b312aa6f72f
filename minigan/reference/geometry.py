"""The geometry of a sliding window (convolution, pooling) along one axis.

    out = (size + 2 * padding - kernel) // stride + 1
"""


def conv2d_output_size(size, kernel, stride, padding):
    """Output length of a convolution/pooling along one axis: (size + 2p - k) // s + 1."""
    return (size + 2 * padding - kernel) // stride + 1
