"""CPU tests of the CUDA wrappers' argument checks and launch planning (no GPU, no CuPy needed).

The checks in minigan.cuda.checks only read shape, dtype, flags and strides, so NumPy arrays
(and small fake descriptors for sizes too large to allocate) exercise them here.
"""
import numpy as np
import pytest

from minigan import cuda
from minigan.cuda import checks, plans
from minigan.cuda.compiler import SOURCES, kernels_dir


def conv_arrays(n=2, c=3, h=7, w=9, f=4, k=3, dtype=np.float32):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, c, h, w)).astype(dtype),
            rng.standard_normal((f, c, k, k)).astype(dtype),
            rng.standard_normal(f).astype(dtype))


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


# --- a NumPy array handed to a CUDA wrapper ----------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda x, w, b: cuda.conv2d_forward(x, w, b, 1, 1),
    lambda x, w, b: cuda.conv2d_backward_input(np.zeros((2, 4, 7, 9), np.float32), w, x.shape,
                                               1, 1),
    lambda x, w, b: cuda.conv2d_backward_weight(np.zeros((2, 4, 7, 9), np.float32), x, w.shape,
                                                1, 1),
    lambda x, w, b: cuda.conv2d_backward_bias(np.zeros((2, 4, 7, 9), np.float32)),
    lambda x, w, b: cuda.max_pool2d_forward(x, 3, 1, 1),
    lambda x, w, b: cuda.max_pool2d_backward(x, np.zeros(x.shape, np.int8), x.shape, 3, 1, 1),
    lambda x, w, b: cuda.patch_cross_entropy_forward(x, np.zeros((2, 7, 9), np.int32)),
    lambda x, w, b: cuda.patch_cross_entropy_sum(x, np.zeros((2, 7, 9), np.int32)),
], ids=["conv_forward", "conv_grad_input", "conv_grad_weight", "conv_grad_bias",
        "pool_forward", "pool_backward", "xent", "xent_sum"])
def test_numpy_array_to_a_cuda_wrapper_is_a_type_error(call):
    with pytest.raises(TypeError, match="must be an array on a CUDA device"):
        call(*conv_arrays())


def test_the_type_error_names_the_numpy_argument():
    x, w, b = conv_arrays()
    with pytest.raises(TypeError, match=r"conv2d_forward: x must be an array on a CUDA device.*numpy\.ndarray"):
        cuda.conv2d_forward(x, w, b, 1, 1)


# --- convolution -------------------------------------------------------------------------------

def test_conv2d_geometry_of_a_valid_call():
    x, w, b = conv_arrays(n=2, c=3, h=35, w=55, f=64)
    g = checks.check_conv2d_forward(x, w, b, 2, 1)
    assert (g.N, g.C, g.H, g.W, g.F, g.K, g.stride, g.padding, g.Ho, g.Wo) == \
        (2, 3, 35, 55, 64, 3, 2, 1, 18, 28)


def test_float64_weight_with_float32_input_is_a_type_error():
    x, w, b = conv_arrays()
    with pytest.raises(TypeError, match=r"w must have the dtype of x \(float32\), got float64"):
        checks.check_conv2d_forward(x, w.astype(np.float64), b, 1, 1)


def test_float64_bias_with_float32_input_is_a_type_error():
    x, w, b = conv_arrays()
    with pytest.raises(TypeError, match="b must have the dtype of x"):
        checks.check_conv2d_forward(x, w, b.astype(np.float64), 1, 1)


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.complex64])
def test_input_dtype_other_than_float32_or_float64_is_a_type_error(dtype):
    x, w, b = conv_arrays()
    with pytest.raises(TypeError, match="x must be float32 or float64"):
        checks.check_conv2d_forward(x.astype(dtype), w.astype(dtype), b.astype(dtype), 1, 1)


def test_non_contiguous_input_is_a_value_error():
    x, w, b = conv_arrays(w=18)
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        checks.check_conv2d_forward(x[:, :, :, ::2], w, b, 1, 1)


def test_transposed_weight_is_a_value_error():
    x, w, b = conv_arrays(c=3, f=3)
    with pytest.raises(ValueError, match="w must be C-contiguous"):
        checks.check_conv2d_forward(x, w.transpose(1, 0, 2, 3), b, 1, 1)


def test_wrong_channel_count_is_a_value_error():
    x, w, b = conv_arrays(c=3)
    with pytest.raises(ValueError, match="input has 3 channels but the weight expects 2"):
        checks.check_conv2d_forward(x, np.ascontiguousarray(w[:, :2]), b, 1, 1)


def test_empty_batch_is_a_value_error():
    x, w, b = conv_arrays()
    with pytest.raises(ValueError, match=r"empty batch \(N = 0\)"):
        checks.check_conv2d_forward(x[:0], w, b, 1, 1)


def test_wrong_bias_shape_is_a_value_error():
    x, w, b = conv_arrays(f=4)
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        checks.check_conv2d_forward(x, w, b[:3].copy(), 1, 1)


def test_non_square_kernel_is_a_value_error():
    x, _, b = conv_arrays()
    with pytest.raises(ValueError, match=r"weight must be \(F, C, K, K\) with a square kernel"):
        checks.check_conv2d_forward(x, np.zeros((4, 3, 3, 2), np.float32), b, 1, 1)


def test_wrong_input_rank_is_a_value_error():
    x, w, b = conv_arrays()
    with pytest.raises(ValueError, match=r"x must be \(N, C, H, W\)"):
        checks.check_conv2d_forward(x[0], w, b, 1, 1)


@pytest.mark.parametrize("stride, padding, error, message", [
    (0, 1, ValueError, "stride must be >= 1"),
    (1, -1, ValueError, "padding must be >= 0"),
    (1.5, 1, TypeError, "stride must be an integer"),
    (True, 1, TypeError, "stride must be an integer"),
    (1, "1", TypeError, "padding must be an integer"),
])
def test_bad_stride_or_padding(stride, padding, error, message):
    x, w, b = conv_arrays()
    with pytest.raises(error, match=message):
        checks.check_conv2d_forward(x, w, b, stride, padding)


def test_numpy_integer_stride_is_accepted():
    x, w, b = conv_arrays()
    assert checks.check_conv2d_forward(x, w, b, np.int64(2), np.int32(1)).stride == 2


def test_kernel_larger_than_the_padded_input_is_a_value_error():
    x, w, b = conv_arrays(h=2, w=2, k=5)
    with pytest.raises(ValueError, match="smaller than the 5x5 window"):
        checks.check_conv2d_forward(x, w, b, 1, 1)


def test_grad_input_with_wrong_gy_shape_is_a_value_error():
    x, w, _ = conv_arrays(n=2, f=4, h=7, w=9)
    with pytest.raises(ValueError, match=r"gy must have the output shape \(2, 4, 7, 9\)"):
        checks.check_conv2d_backward_input(np.zeros((2, 4, 7, 8), np.float32), w, x.shape, 1, 1)


def test_grad_input_with_a_bad_x_shape_is_an_error():
    _, w, _ = conv_arrays()
    gy = np.zeros((2, 4, 7, 9), np.float32)
    with pytest.raises(ValueError, match="x_shape must be a tuple of 4"):
        checks.check_conv2d_backward_input(gy, w, (2, 3, 7), 1, 1)
    with pytest.raises(TypeError, match="x_shape must be a tuple of 4 ints"):
        checks.check_conv2d_backward_input(gy, w, (2, 3, 7.0, 9), 1, 1)


def test_grad_input_with_float64_gy_and_float32_weight_is_a_type_error():
    x, w, _ = conv_arrays()
    with pytest.raises(TypeError, match="w must have the dtype of gy"):
        checks.check_conv2d_backward_input(np.zeros((2, 4, 7, 9)), w, x.shape, 1, 1)


def test_grad_weight_with_wrong_gy_shape_is_a_value_error():
    x, w, _ = conv_arrays()
    with pytest.raises(ValueError, match="gy must have the output shape"):
        checks.check_conv2d_backward_weight(np.zeros((2, 5, 7, 9), np.float32), x, w.shape, 1, 1)


def test_grad_weight_with_non_contiguous_x_is_a_value_error():
    x, w, _ = conv_arrays(w=18)
    gy = np.zeros((2, 4, 7, 9), np.float32)
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        checks.check_conv2d_backward_weight(gy, x[..., ::2], w.shape, 1, 1)


def test_grad_bias_of_an_empty_batch_is_a_value_error():
    with pytest.raises(ValueError, match="empty batch"):
        checks.check_conv2d_backward_bias(np.zeros((0, 4, 7, 9), np.float32))


def test_sizes_past_the_32_bit_index_limit_are_a_value_error():
    x = FakeArray((600_000, 1, 64, 64))
    w = FakeArray((8, 1, 3, 3))
    with pytest.raises(ValueError, match="too large for the kernels' 32-bit indices"):
        checks.check_conv2d_forward(x, w, None, 1, 1)


def test_arrays_on_different_gpus_are_a_value_error():
    with pytest.raises(ValueError, match="x on GPU 0, w on GPU 1"):
        checks.require_same_device("conv2d_forward", x=OnDevice(0), w=OnDevice(1), b=None)
    assert checks.require_same_device("conv2d_forward", x=OnDevice(1), w=OnDevice(1)) == 1


# --- max-pooling -------------------------------------------------------------------------------

def test_max_pool2d_geometry_of_the_discriminator_pool():
    g = checks.check_max_pool2d_forward(np.zeros((2, 64, 9, 14), np.float32), 3, 1, 1)
    assert (g.Ho, g.Wo) == (9, 14)


def test_max_pool2d_kernel_too_large_for_an_int8_argmax_is_a_value_error():
    with pytest.raises(ValueError, match="kernel_size must be <= 11"):
        checks.check_max_pool2d_forward(np.zeros((1, 1, 20, 20), np.float32), 12, 1, 0)


def test_max_pool2d_padding_over_half_the_window_is_a_value_error():
    with pytest.raises(ValueError, match=r"padding must be at most kernel_size // 2 = 1"):
        checks.check_max_pool2d_forward(np.zeros((1, 1, 9, 9), np.float32), 3, 1, 2)


def test_max_pool2d_of_an_empty_batch_is_a_value_error():
    with pytest.raises(ValueError, match="empty batch"):
        checks.check_max_pool2d_forward(np.zeros((0, 1, 9, 9), np.float32), 3, 1, 1)


def test_max_pool2d_backward_needs_an_int8_argmax():
    gy = np.zeros((1, 2, 9, 9), np.float32)
    with pytest.raises(TypeError, match="argmax must be int8"):
        checks.check_max_pool2d_backward(gy, np.zeros(gy.shape, np.int64), (1, 2, 9, 9), 3, 1, 1)


def test_max_pool2d_backward_with_mismatched_argmax_shape_is_a_value_error():
    gy = np.zeros((1, 2, 9, 9), np.float32)
    with pytest.raises(ValueError, match=r"argmax must have the pooled shape \(1, 2, 9, 9\)"):
        checks.check_max_pool2d_backward(gy, np.zeros((1, 2, 9, 8), np.int8), (1, 2, 9, 9),
                                         3, 1, 1)


# --- patch cross-entropy -----------------------------------------------------------------------

def test_patch_xent_labels_must_be_int32():
    logits = np.zeros((2, 2, 3, 4), np.float32)
    for dtype in (np.int64, np.float32, np.uint8):
        with pytest.raises(TypeError, match="labels must be int32"):
            checks.check_patch_xent(logits, np.zeros((2, 3, 4), dtype))


def test_patch_xent_labels_of_the_wrong_shape_are_a_value_error():
    logits = np.zeros((2, 2, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"labels must have shape \(2, 3, 4\)"):
        checks.check_patch_xent(logits, np.zeros((2, 4, 3), np.int32))


def test_patch_xent_non_contiguous_labels_are_a_value_error():
    logits = np.zeros((2, 2, 3, 4), np.float32)
    labels = np.zeros((2, 3, 8), np.int32)[:, :, ::2]
    with pytest.raises(ValueError, match="labels must be C-contiguous"):
        checks.check_patch_xent(logits, labels)


def test_patch_xent_integer_logits_are_a_type_error():
    with pytest.raises(TypeError, match="logits must be float32 or float64"):
        checks.check_patch_xent(np.zeros((2, 2, 3, 4), np.int32), np.zeros((2, 3, 4), np.int32))


# --- launch planning ---------------------------------------------------------------------------

def test_pixel_tile_switches_to_the_small_tile_at_16_rows():
    assert plans.pixel_tile(1) is plans.TILE_SMALL_M
    assert plans.pixel_tile(16) is plans.TILE_SMALL_M
    assert plans.pixel_tile(17) is plans.TILE_BIG


def test_weight_tile_choice():
    assert plans.weight_tile(2, 288) is plans.TILE_SMALL_M      # conv1x1 32->2 ... any F <= 16
    assert plans.weight_tile(96, 9) is plans.TILE_SMALL_N       # conv3x3 1->96: 9 taps
    assert plans.weight_tile(64, 576) is plans.TILE_BIG         # conv3x3 64->64


@pytest.mark.parametrize("rows, columns, reduction", [
    (64, 576, 512 * 35 * 55), (96, 9, 512 * 18 * 28), (1, 64, 7), (2, 32, 1), (64, 576, 8),
    (64, 576, 129), (16, 9, 10**6 + 3), (130, 45, 12345),
])
def test_split_k_plan_covers_the_reduction_without_empty_splits(rows, columns, reduction):
    for tile in plans.WEIGHT_TILES:
        splits, chunk = plans.split_k_plan(tile, rows, columns, reduction, sm_count=132)
        assert chunk % tile.bk == 0 and 1 <= splits <= checks.GRID_YZ_LIMIT
        assert splits * chunk >= reduction            # every pixel is in some split
        assert (splits - 1) * chunk < reduction       # the last split is not empty


@pytest.mark.parametrize("blocks_per_sm", [2, 3, 4])
def test_split_k_plan_fills_whole_waves_for_the_refiner_conv(blocks_per_sm):
    """64->64 3x3 grad weight at batch 512: 5 column tiles; the last wave is >= 95 % full."""
    slots = 132 * blocks_per_sm
    splits, chunk = plans.split_k_plan(plans.TILE_BIG, 64, 576, 512 * 35 * 55, 132,
                                       blocks_per_sm)
    blocks = 5 * splits
    assert blocks >= 0.95 * slots and (blocks % slots == 0 or blocks % slots >= 0.95 * slots)


def test_split_k_plan_takes_the_fewest_splits_among_equally_fast_plans():
    # 3 blocks/SM, 396 slots: 78 splits (one full wave) is as fast as 156 (two waves).
    assert plans.split_k_plan(plans.TILE_BIG, 64, 576, 512 * 35 * 55, 132, 3)[0] == 78


def test_split_k_plan_of_a_small_reduction_is_one_split():
    # fewer than 2 * MIN_TILES_PER_SPLIT tiles of 8 pixels
    assert plans.split_k_plan(plans.TILE_BIG, 64, 576, 8 * 31, 132, 3) == (1, 8 * 31)


# Registers and shared memory of CuPy's NVRTC build (compute_90) -> blocks per multiprocessor,
# as CUDA's occupancy calculator gives them.
@pytest.mark.parametrize("registers, threads, shared, blocks", [
    (145, 128, 12800, 3),     # conv2d_forward<float, TileBig>
    (167, 128, 12800, 3),     # conv2d_backward_weight<float, TileBig>
    (128, 128, 12800, 4),     # __launch_bounds__(128, 4) would give 4
    (56, 128, 9728, 9),       # conv2d_forward<float, TileSmallM>
    (72, 128, 9728, 7),       # conv2d_backward_weight<float, TileSmallM>
    (246, 128, 25600, 2),     # conv2d_forward<double, TileBig>
    (13, 256, 128, 8),        # conv2d_backward_bias<float>: threads are the limit
    (48, 256, 128, 5),        # patch_xent_forward<float>
    (14, 1024, 128, 2),       # sum_partials<float>
    (32, 128, 120000, 1),     # shared memory is the limit
    (256, 128, 0, 0),         # more registers than a thread may have
])
def test_blocks_per_sm_counts_like_the_occupancy_calculator(registers, threads, shared, blocks):
    assert plans.blocks_per_sm(registers, threads, shared) == blocks


def test_sm_limits_come_from_the_device_attributes():
    limits = plans.sm_limits_from_attributes({"MaxRegistersPerMultiprocessor": 32768,
                                              "MaxThreadsPerMultiProcessor": 1536})
    assert limits.registers == 32768 and limits.threads == 1536
    assert limits.blocks == plans.SmLimits().blocks
    assert plans.blocks_per_sm(145, 128, 12800, limits) == 1


def test_tf32_tiles_keep_the_block_shape_and_name_the_tensor_core_type():
    for tile in plans.WEIGHT_TILES:
        tf32 = plans.tf32_tile(tile)
        assert tf32.name == f"Tf32<{tile.name}>" and tf32.tf32
        assert (tf32.bm, tf32.bn, tf32.bk, tf32.threads) == (tile.bm, tile.bn, tile.bk,
                                                             tile.threads)
    assert plans.pixel_tile(64, tf32=True).name == "Tf32<TileBig>"
    assert plans.weight_tile(96, 9, tf32=True).name == "Tf32<TileSmallN>"


@pytest.mark.parametrize("images, filters", [(1, 1), (512, 64), (512, 1), (3, 1000), (7, 2)])
def test_bias_plan_covers_every_image_once(images, filters):
    splits, per_split = plans.bias_plan(images, filters, sm_count=132)
    assert splits * per_split >= images > (splits - 1) * per_split


def test_kernels_dir_holds_the_sources():
    directory = kernels_dir()
    for filename, _ in SOURCES.values():
        assert (directory / filename).is_file()
    assert (directory / "common.cuh").is_file()
