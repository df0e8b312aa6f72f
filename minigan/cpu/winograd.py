"""Winograd F(2x2, 3x3): the CPU backend's stride-1 3x3 convolution, with 2.25x fewer
multiplications than im2col (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
2016).

The output is cut into 2 x 2 tiles. Tile (ti, tj) reads the 4 x 4 patch d of the padded input at
rows 2ti .. 2ti + 3, columns 2tj .. 2tj + 3, and for one weight g (3 x 3) gives

    y_tile = A^T [ (G g G^T) * (B^T d B) ] A        (* elementwise on 4 x 4)

    B^T = [1  0 -1  0]     G = [ 1    0    0 ]     A^T = [1  1  1  0]
          [0  1  1  0]         [1/2  1/2  1/2]           [0  1 -1 -1]
          [0 -1  1  0]         [1/2 -1/2  1/2]
          [0  1  0 -1]         [ 0    0    1 ]

Summed over channels, each of the 16 positions (k, l) of the 4 x 4 transformed tile is one matrix
product over all tiles at once, x (N, C, H, W), w (F, C, 3, 3), T tiles:

    U = G w G^T   (16, F, C)     V = B^T d B   (16, C, T)     M = U @ V   (16, F, T)
    y = A^T M A + b              16 F C multiplications per tile of 4 outputs (im2col: 36 F C)

    grad input  : the same pass over gy with the kernel flipped and transposed, padding 2 - p
    grad weight : its adjoint in g, dW = G^T [ sum over tiles of (A gy_tile A^T) * V ] G

Layout: the 4 x 4 patches at stride 2 are the windows of ``minigan.reference.windows``'s stride-2
phases, so B^T d B is 8 + 16 additions of contiguous slices (rows, then columns) and the tiles
of a chunk of images come out as the columns of V, on a th x (tw + 1) grid per image (th, tw =
ceil(Ho / 2), ceil(Wo / 2); the last tile column is junk, cropped going forward and given a zero
gradient going back). Chunks of images keep V and M in a core's cache; the batch is split over
the cores (``minigan.cpu.threads``). The bias goes into M[1, 1], which A^T . A adds to every
output; ``epilogue`` adds a residual and applies ReLU to each chunk while it is in cache.

Error bound. With unit roundoff u (2^-24 in float32) and gamma_n = n u / (1 - n u),

    |y_computed - y| <= gamma_(C + 8) * S,
    S = |A^T| [ sum over c of |G w G^T| * (|B^T| |d| |B|) + |b| at (1, 1) ] |A|

(2 additions in V, U rounded from float64, the product, C - 1 additions over channels, the bias,
4 additions in A^T . A), and for the weight gradient summed over T tiles (with junk ones)

    |dW_computed - dW| <= gamma_(T + 12) * |G^T| [ sum over tiles of (|A| |gy| |A^T|) * (|B^T| |d| |B|) ] |G|

S bounds conv(|x|, |w|) + |b| from above (it also counts the other pixels of each 4 x 4 patch),
so the error is of the order of im2col's gamma_(9C) conv(|x|, |w|); in float32 on random data it
measures 2-4 times im2col's. ``tests/test_cpu_winograd.py`` checks both bounds.
"""
import numpy as np

from minigan.cpu.threads import over_images
from minigan.reference.windows import Grid, phases_buffer, to_phases

G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
CHUNK_BYTES = 3 << 19   # the transformed tiles V of one chunk: 1.5 MB, inside a core's L2 cache


def tile_grid(h, w, padding):
    """The tiles of a 3x3 stride-1 convolution of an h x w image: Grid(th, tw, hq, wq) with
    th x tw tiles of 2 x 2 outputs, on stride-2 phases of (hq + 1) x wq = (th + 1) x (tw + 1)
    pixels (a phase buffer of ``phases_buffer``); a plane of tiles is (th + 1) x wq."""
    ho, wo = h + 2 * padding - 2, w + 2 * padding - 2
    th, tw = -(-ho // 2), -(-wo // 2)
    return Grid(th, tw, th, tw + 1)


def _plane(tiles):
    return (tiles.ho + 1) * tiles.wq


def _chunk_size(n, c, tiles, itemsize):
    return max(1, min(n, CHUNK_BYTES // (16 * c * _plane(tiles) * itemsize)))


class _Buffers:
    """One thread's buffers for chunks of m images with c input and f output channels, reused
    from chunk to chunk: the stride-2 phases (planes in (channel, image) order), the
    row-transformed tiles, V, M, and the two stages of A^T M A."""
    def __init__(self, m, c, f, tiles, dtype):
        length = m * _plane(tiles)
        self.phases = phases_buffer(m, c, 2, tiles, dtype, fill=0)
        self.input_rows = np.empty((2, c * length + 1), dtype)
        self.v = np.empty((16, c, length), dtype)
        self.product = np.empty((16, f, length), dtype)
        self.output_rows = np.empty((4, f * length), dtype)
        self.pairs = np.empty((f * length, 2), dtype)


def weight_transform(w):
    """U (16, F, C) = G w G^T for w (F, C, 3, 3), computed in float64, in w's dtype."""
    u = np.einsum("ku,fcuv,lv->klfc", G, w.astype(np.float64), G)
    return u.reshape(16, w.shape[0], w.shape[1]).astype(w.dtype)


def _input_tiles(buffers, size, wq):
    """V (16, size) = B^T d B of every tile in ``buffers.phases``, whose first ``size``
    positions are the tile planes: for each row k of B^T, the row over the two column phases,
    then its four columns. Every step is one contiguous slice of all planes at once; what
    crosses a plane's end lands in its junk positions."""
    flat = buffers.phases.reshape(4, -1)
    v = buffers.v.reshape(16, -1)[:, :size]
    rows = buffers.input_rows[:, :size + 1]
    # d_r = row r of the patch: phase (r % 2, b) from r // 2 rows on
    d = [(flat[r % 2 * 2, r // 2 * wq:][:size + 1], flat[r % 2 * 2 + 1, r // 2 * wq:][:size + 1])
         for r in range(4)]
    for k, (plus, minus) in enumerate(((0, 2), (1, 2), (2, 1), (1, 3))):   # B^T[k]: d_p -/+ d_q
        op = np.add if k == 1 else np.subtract
        for b in range(2):
            op(d[plus][b], d[minus][b], out=rows[b])
        e0, e1, e2, e3 = rows[0, :size], rows[1, :size], rows[0, 1:], rows[1, 1:]
        np.subtract(e0, e2, out=v[4 * k])
        np.add(e1, e2, out=v[4 * k + 1])
        np.subtract(e2, e1, out=v[4 * k + 2])
        np.subtract(e1, e3, out=v[4 * k + 3])


def _output_tiles(buffers, f, tiles, y):
    """y (m, F, Ho, Wo) = A^T M A of M = ``buffers.product`` (16, F, m planes): for each row a
    of A^T, the row, then its two columns into interleaved pairs, then that row phase of y."""
    m = y.shape[0]
    size = f * m * _plane(tiles)
    product, rows = buffers.product.reshape(16, -1)[:, :size], buffers.output_rows[:, :size]
    pairs = buffers.pairs[:size]
    left, right = pairs[:, 0], pairs[:, 1]
    for a in range(2):
        for l in range(4):   # A^T[0] = (1, 1, 1, 0), A^T[1] = (0, 1, -1, -1)
            m0, m1, m2, m3 = (product[4 * k + l] for k in range(4))
            if a == 0:
                np.add(m0, m1, out=rows[l])
                rows[l] += m2
            else:
                np.subtract(m1, m2, out=rows[l])
                rows[l] -= m3
        r0, r1, r2, r3 = rows
        np.add(r0, r1, out=left)
        left += r2
        np.subtract(r1, r2, out=right)
        right -= r3
        out = y.transpose(1, 0, 2, 3)[:, :, a::2]
        out[...] = pairs.reshape(f, m, tiles.ho + 1, -1)[:, :, :out.shape[2], :y.shape[3]]


def conv3x3_forward(x, w, b, padding, residual=None, relu=False):
    """y = conv(x, w) + b for a 3x3 kernel at stride 1; then + residual and ReLU when given.
    x (N, C, H, W), w (F, C, 3, 3), b (F,) or None, residual (N, F, Ho, Wo) -> y (N, F, Ho, Wo)."""
    n, c, h, wd = x.shape
    f = w.shape[0]
    tiles = tile_grid(h, wd, padding)
    u = weight_transform(w)
    y = np.empty((n, f, h + 2 * padding - 2, wd + 2 * padding - 2), x.dtype)

    def images(lo, hi):
        m = _chunk_size(hi - lo, c, tiles, x.itemsize)
        buffers = _Buffers(m, c, f, tiles, x.dtype)
        for n0 in range(lo, hi, m):
            count = min(m, hi - n0)
            length = count * _plane(tiles)
            # planes in (channel, image) order: V's columns are (image, tile) for each c
            to_phases(x[n0:n0 + count].transpose(1, 0, 2, 3), buffers.phases, 2, padding)
            _input_tiles(buffers, c * length, tiles.wq)
            v = buffers.v.reshape(16, -1)[:, :c * length].reshape(16, c, length)
            product = buffers.product.reshape(16, -1)[:, :f * length].reshape(16, f, length)
            np.matmul(u, v, out=product)
            if b is not None:
                product[5] += b[:, None]
            out = y[n0:n0 + count]
            _output_tiles(buffers, f, tiles, out)
            if residual is not None:
                out += residual[n0:n0 + count]
            if relu:
                np.maximum(out, 0, out=out)
    over_images(n, images)
    return y


def conv3x3_backward_input(gy, w, x_shape, padding):
    """dL/dx (N, C, H, W) for padding <= 2: the forward pass of gy with w[f, c, u, v] ->
    w[c, f, 2 - u, 2 - v] and padding 2 - p."""
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    return conv3x3_forward(gy, flipped, None, 2 - padding)


def _gradient_tiles(phases, size, z):
    """z (16, size) = s_k s_l (A gy_tile A^T)[k, l] for the gy tiles in ``phases`` (stride-2
    phases of gy, zero outside it), s = (1, 1, 1, -1): the signs go into the weight's
    transform (``_weight_gradient``). Columns first (l), then rows (k)."""
    flat = phases.reshape(4, -1)[:, :size]
    for a, k in ((0, 0), (1, 3)):   # row a of the tile lands in row k (times s_k)
        g0, g1 = flat[2 * a], flat[2 * a + 1]
        z[4 * k] = g0
        np.add(g0, g1, out=z[4 * k + 1])
        np.subtract(g0, g1, out=z[4 * k + 2])
        z[4 * k + 3] = g1
    for l in range(4):
        np.add(z[l], z[12 + l], out=z[4 + l])
        np.subtract(z[l], z[12 + l], out=z[8 + l])


def conv3x3_backward_weight(gy, x, padding):
    """dL/dw (F, C, 3, 3) = G^T [ sum over tiles of (A gy_tile A^T) * (B^T d B) ] G."""
    n, c, h, wd = x.shape
    f = gy.shape[1]
    tiles = tile_grid(h, wd, padding)

    def images(lo, hi):
        m = _chunk_size(hi - lo, max(c, f), tiles, x.itemsize)
        buffers = _Buffers(m, c, 0, tiles, x.dtype)
        gy_phases = phases_buffer(m, f, 2, tiles, gy.dtype, fill=0)   # gy: padding 0
        z = np.empty((16, f * m * _plane(tiles)), gy.dtype)
        total = np.zeros((16, c, f), x.dtype)
        part = np.empty_like(total)
        for n0 in range(lo, hi, m):
            count = min(m, hi - n0)
            length = count * _plane(tiles)
            to_phases(x[n0:n0 + count].transpose(1, 0, 2, 3), buffers.phases, 2, padding)
            to_phases(gy[n0:n0 + count].transpose(1, 0, 2, 3), gy_phases, 2, 0)
            _input_tiles(buffers, c * length, tiles.wq)
            _gradient_tiles(gy_phases, f * length, z[:, :f * length])
            v = buffers.v.reshape(16, -1)[:, :c * length].reshape(16, c, length)
            chunk_z = z[:, :f * length].reshape(16, f, length)
            # V @ Z^T (C x F), not Z @ V^T: OpenBLAS is faster at the tall product
            np.matmul(v, chunk_z.transpose(0, 2, 1), out=part)
            total += part
        return total
    return _weight_gradient(sum(over_images(n, images)), gy.dtype)


def _weight_gradient(total, dtype):
    """dW (F, C, 3, 3) = G'^T dU G' with G' = diag(1, 1, 1, -1) G, from dU^T (16, C, F)."""
    signed = G * np.array([1, 1, 1, -1])[:, None]
    du = total.astype(np.float64).reshape(4, 4, *total.shape[1:])
    return np.ascontiguousarray(np.einsum("ku,klcf,lv->fcuv", signed, du, signed)).astype(dtype)
