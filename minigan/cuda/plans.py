"""Launch planning for the kernels: GEMM tiles, occupancy, split-K and grid sizes. Pure Python,
so the CPU tests check it without a GPU."""
import functools
from typing import NamedTuple

from minigan.cuda.checks import GRID_YZ_LIMIT

BLOCK = 256              # threads per block of the elementwise-style kernels
XENT_MAX_BLOCKS = 1024   # partial sums of the fused loss; sum_partials adds them in one block
MIN_TILES_PER_SPLIT = 16  # a split-K block reduces at least 16 * BK pixels
ASSUMED_BLOCKS_PER_SM = 4  # when the array module cannot report a kernel's resources
SPLIT_SLACK = 0.02        # take the fewest splits within 2 % of the fastest split-K plan


class Tile(NamedTuple):
    """A conv GEMM tile as declared in kernels/gemm.cuh (keep the two in step)."""
    name: str     # the C++ type in the name expression: TileBig, Tf32<TileBig>, ...
    bm: int       # rows of out (filters / channels) per block
    bn: int       # columns of out (pixels / weight taps) per block
    bk: int       # reduction step
    threads: int
    tf32: bool = False   # tensor cores (float32 only, compute capability >= 8.0)


TILE_BIG = Tile("TileBig", 64, 128, 8, 128)
TILE_SMALL_M = Tile("TileSmallM", 16, 128, 8, 128)
TILE_SMALL_N = Tile("TileSmallN", 64, 32, 8, 128)
PIXEL_TILES = (TILE_BIG, TILE_SMALL_M)                 # forward and grad input
WEIGHT_TILES = (TILE_BIG, TILE_SMALL_M, TILE_SMALL_N)  # grad weight


def tf32_tile(tile):
    """The same block tile computed on tensor cores with TF32 operands: ``Tf32<TileBig>``."""
    return tile._replace(name=f"Tf32<{tile.name}>", tf32=True)


TF32_PIXEL_TILES = tuple(tf32_tile(t) for t in PIXEL_TILES)
TF32_WEIGHT_TILES = tuple(tf32_tile(t) for t in WEIGHT_TILES)


def cdiv(a, b):
    """ceil(a / b) for positive integers."""
    return -(-a // b)


def pixel_tile(rows, tf32=False):
    """Tile for forward / grad input, whose GEMM has ``rows`` = F or C rows."""
    tile = TILE_BIG if rows > TILE_SMALL_M.bm else TILE_SMALL_M
    return tf32_tile(tile) if tf32 else tile


def weight_tile(filters, taps, tf32=False):
    """Tile for grad weight: out is (F, C*K*K)."""
    if filters <= TILE_SMALL_M.bm:
        tile = TILE_SMALL_M
    elif taps <= TILE_SMALL_N.bn:
        tile = TILE_SMALL_N
    else:
        tile = TILE_BIG
    return tf32_tile(tile) if tf32 else tile


# --- occupancy ---------------------------------------------------------------------------------

class SmLimits(NamedTuple):
    """What one multiprocessor holds (defaults: compute capability 8.0 and 9.0)."""
    registers: int = 65536
    shared_bytes: int = 233472       # 228 KiB (sm_90; 164 KiB on sm_80)
    threads: int = 2048
    blocks: int = 32
    reserved_shared_per_block: int = 1024
    register_unit: int = 256         # registers are given to a warp in units of 256
    sub_partitions: int = 4          # each scheduler has a quarter of the register file
    max_registers_per_thread: int = 255


def sm_limits_from_attributes(attributes):
    """SmLimits from CUDA device attributes (CuPy's ``Device().attributes``), defaults for the
    ones missing."""
    default = SmLimits()
    return SmLimits(
        registers=attributes.get("MaxRegistersPerMultiprocessor", default.registers),
        shared_bytes=attributes.get("MaxSharedMemoryPerMultiprocessor", default.shared_bytes),
        threads=attributes.get("MaxThreadsPerMultiProcessor", default.threads),
        blocks=attributes.get("MaxBlocksPerMultiprocessor", default.blocks),
        reserved_shared_per_block=attributes.get("ReservedSharedMemoryPerBlock",
                                                 default.reserved_shared_per_block))


def blocks_per_sm(registers, threads, shared_bytes, limits=SmLimits()):
    """Blocks of a kernel that one multiprocessor runs at once (its occupancy), as CUDA's
    occupancy calculator counts them: the smallest of the limits set by threads, blocks,
    registers (per warp, rounded up to the allocation unit, each scheduler's quarter of the
    register file holding whole warps) and shared memory (static size + the per-block reserve).
    0 when the kernel cannot run at all."""
    warps = cdiv(threads, 32)
    if registers > limits.max_registers_per_thread or warps * 32 > limits.threads:
        return 0
    by_threads = limits.threads // (warps * 32)
    registers_per_warp = cdiv(max(registers, 1) * 32, limits.register_unit) * limits.register_unit
    warps_per_partition = (limits.registers // limits.sub_partitions) // registers_per_warp
    by_registers = warps_per_partition * limits.sub_partitions // warps
    per_block = shared_bytes + limits.reserved_shared_per_block
    by_shared = limits.shared_bytes // per_block
    return max(0, min(by_threads, limits.blocks, by_registers, by_shared))


# --- split-K -----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def split_k_plan(tile, rows, columns, reduction, sm_count, blocks_per_sm=ASSUMED_BLOCKS_PER_SM):
    """(splits, k_chunk) for grad weight (out: rows x columns, summed over ``reduction`` pixels).

    Blocks run in waves of ``sm_count * blocks_per_sm``; a block reduces ceil(k_tiles / splits)
    tiles of BK pixels, so the time goes as  waves(splits) * chunk(splits).  Among the splits
    that give at least MIN_TILES_PER_SPLIT tiles each and at most 4 waves, take the fewest
    within SPLIT_SLACK of the fastest (fewer splits: smaller partial sums to add up).
    k_chunk is a multiple of BK, splits * k_chunk >= reduction and no split is empty.
    """
    k_tiles = cdiv(reduction, tile.bk)
    tiles_mn = cdiv(rows, tile.bm) * cdiv(columns, tile.bn)
    slots = sm_count * max(1, blocks_per_sm)
    most = max(1, min(k_tiles // MIN_TILES_PER_SPLIT, GRID_YZ_LIMIT, cdiv(4 * slots, tiles_mn)))
    plans = []
    for wanted in range(1, most + 1):
        chunk_tiles = cdiv(k_tiles, wanted)
        splits = cdiv(k_tiles, chunk_tiles)
        plans.append((cdiv(tiles_mn * splits, slots) * chunk_tiles, splits, chunk_tiles))
    fastest = min(cost for cost, _, _ in plans)
    splits, chunk_tiles = min((splits, chunk) for cost, splits, chunk in plans
                              if cost <= fastest * (1 + SPLIT_SLACK))
    return splits, chunk_tiles * tile.bk


def bias_plan(n_images, filters, sm_count):
    """(splits, images_per_split) for grad bias: grid (F, splits), no split empty."""
    wanted = max(1, (4 * sm_count) // filters)
    per_split = cdiv(n_images, min(n_images, wanted, GRID_YZ_LIMIT))
    return cdiv(n_images, per_split), per_split
