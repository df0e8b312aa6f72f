"""Launch planning for the kernels: GEMM tiles, split-K and grid sizes. Pure Python, so the
CPU tests check it without a GPU."""
from typing import NamedTuple

from minigan.cuda.checks import GRID_YZ_LIMIT

BLOCK = 256              # threads per block of the elementwise-style kernels
XENT_MAX_BLOCKS = 1024   # partial sums of the fused loss; sum_partials adds them in one block
MIN_TILES_PER_SPLIT = 16  # a split-K block reduces at least 16 * BK pixels


class Tile(NamedTuple):
    """A conv GEMM tile as declared in kernels/conv2d.cu (keep the two in step)."""
    name: str
    bm: int       # rows of out (filters / channels) per block
    bn: int       # columns of out (pixels / weight taps) per block
    bk: int       # reduction step
    threads: int


TILE_BIG = Tile("TileBig", 64, 128, 8, 128)
TILE_SMALL_M = Tile("TileSmallM", 16, 128, 8, 128)
TILE_SMALL_N = Tile("TileSmallN", 64, 32, 8, 128)
PIXEL_TILES = (TILE_BIG, TILE_SMALL_M)                 # forward and grad input
WEIGHT_TILES = (TILE_BIG, TILE_SMALL_M, TILE_SMALL_N)  # grad weight


def cdiv(a, b):
    """ceil(a / b) for positive integers."""
    return -(-a // b)


def pixel_tile(rows):
    """Tile for forward / grad input, whose GEMM has ``rows`` = F or C rows."""
    return TILE_BIG if rows > TILE_SMALL_M.bm else TILE_SMALL_M


def weight_tile(filters, taps):
    """Tile for grad weight: out is (F, C*K*K)."""
    if filters <= TILE_SMALL_M.bm:
        return TILE_SMALL_M
    if taps <= TILE_SMALL_N.bn:
        return TILE_SMALL_N
    return TILE_BIG


def split_k_plan(tile, rows, columns, reduction, sm_count):
    """(splits, k_chunk) for grad weight: enough blocks to fill ~4 waves of the GPU, each split
    a multiple of BK long and at least MIN_TILES_PER_SPLIT tiles; splits * k_chunk >= reduction
    and no split is empty."""
    k_tiles = cdiv(reduction, tile.bk)
    tiles_mn = cdiv(rows, tile.bm) * cdiv(columns, tile.bn)
    wanted = max(1, (4 * sm_count) // tiles_mn)
    splits = max(1, min(wanted, k_tiles // MIN_TILES_PER_SPLIT, GRID_YZ_LIMIT))
    chunk_tiles = cdiv(k_tiles, splits)
    return cdiv(k_tiles, chunk_tiles), chunk_tiles * tile.bk


def bias_plan(n_images, filters, sm_count):
    """(splits, images_per_split) for grad bias: grid (F, splits), no split empty."""
    wanted = max(1, (4 * sm_count) // filters)
    per_split = cdiv(n_images, min(n_images, wanted, GRID_YZ_LIMIT))
    return cdiv(n_images, per_split), per_split
