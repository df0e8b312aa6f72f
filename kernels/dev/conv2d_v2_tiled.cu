// conv2d_v2_tiled.cu: the convolution forward pass as a tiled matrix product in shared memory
// (version 2 of 3; v1 is conv2d_v1_naive.cu, v3 minigan's kernels/conv2d.cu).
//
// Reference: minigan/reference/conv_spec.py (conv2d_forward). Harness: minigan/benchmarks/kernel_lab.py.
//
// The convolution is one matrix product  Y (M x Ncol) = A (M x Kdim) @ B (Kdim x Ncol)  with
//
//   M = F (filters),  Ncol = N*Ho*Wo (output pixels of every image),  Kdim = C*K*K (taps),
//   A[f][k] = w[f, c, ky, kx],   B[k][col] = x[n, c, oh*s - p + ky, ow*s - p + kx] (0 outside),
//   k = (c*K + ky)*K + kx,   col = (n*Ho + oh)*Wo + ow,   y[n, f, oh, ow] = Y[f][col] + b[f]
//
// B is never built in memory ("implicit GEMM"): each tile of it is gathered from x when loaded.
//
// Entry point (T in {float, double}; name expressions "conv2d_v2_tiled<float>", ...):
//
//   conv2d_v2_tiled<T>   grid (ceil(Ncol / 16), ceil(F / 16)), block 256 (1-D): a block
//                        computes a 16 x 16 tile of Y, thread t the element (row t / 16,
//                        column t % 16) of it. has_bias = 0 leaves b unread.
//
// The reduction walks Kdim 16 at a time: the block loads a 16 x 16 tile of A and of B into
// shared memory (one element per thread; neighbouring threads read neighbouring addresses), waits
// at a barrier until both tiles are complete, multiplies them, and waits again before the next
// tiles overwrite them. Each value loaded from global memory is now used by 16 threads.
#include "common.cuh"

constexpr int TILE = 16;

template <typename T>
__global__ void __launch_bounds__(TILE * TILE)
conv2d_v2_tiled(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                T* __restrict__ y, int has_bias, int N, int C, int H, int W, int F, int K,
                int stride, int pad, int Ho, int Wo) {
    __shared__ T As[TILE][TILE];   // As[row][k]: weights of 16 filters, 16 taps
    __shared__ T Bs[TILE][TILE];   // Bs[k][col]: 16 taps of 16 output pixels
    const int ty = threadIdx.x / TILE, tx = threadIdx.x % TILE;
    const int row = blockIdx.y * TILE + ty;   // the filter of this thread's output
    const int col = blockIdx.x * TILE + tx;   // the output pixel of this thread's output
    const int taps = K * K, depth = C * taps, pixels = Ho * Wo;
    const bool col_inside = col < N * pixels;
    const int n = col_inside ? col / pixels : 0;
    const int hw = col_inside ? col % pixels : 0;
    const int ih0 = (hw / Wo) * stride - pad, iw0 = (hw % Wo) * stride - pad;
    const T* x_image = x + (i64)n * C * H * W;

    T acc = T(0);
    for (int k0 = 0; k0 < depth; k0 += TILE) {
        const int ka = k0 + tx;   // this thread loads A[row][ka] ...
        As[ty][tx] = (row < F && ka < depth) ? w[(i64)row * depth + ka] : T(0);
        const int kb = k0 + ty;   // ... and B[kb][col], gathered from x
        T v = T(0);
        if (col_inside && kb < depth) {
            const int c = kb / taps, tap = kb % taps;
            const int ih = ih0 + tap / K, iw = iw0 + tap % K;
            if (0 <= ih && ih < H && 0 <= iw && iw < W)
                v = x_image[((i64)c * H + ih) * W + iw];
        }
        Bs[ty][tx] = v;
        __syncthreads();   // both tiles complete before anyone reads them
        for (int kk = 0; kk < TILE; ++kk)
            acc += As[ty][kk] * Bs[kk][tx];
        __syncthreads();   // everyone done reading before the next tiles overwrite them
    }
    if (row < F && col_inside)
        y[((i64)n * F + row) * pixels + hw] = has_bias ? acc + b[row] : acc;
}

template __global__ void conv2d_v2_tiled<float>(const float*, const float*, const float*, float*,
                                                int, int, int, int, int, int, int, int, int, int,
                                                int);
template __global__ void conv2d_v2_tiled<double>(const double*, const double*, const double*,
                                                 double*, int, int, int, int, int, int, int, int,
                                                 int, int, int);
