"""The CUDA wrappers' launch planning (minigan.cuda.plans: tiles, split-K, blocks per
multiprocessor, the bias reduction) and where the kernel sources are; no GPU needed. Each op's
argument checks before a launch are in its tests/test_op_*.py."""
import pytest

from minigan.cuda import checks, plans
from minigan.cuda.compiler import SOURCES, kernels_dir


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
