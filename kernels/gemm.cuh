// gemm.cuh: the tiled matrix product at the heart of conv2d.cu, in two flavours.
//
// A block computes a BM x BN tile of  out = A (M x Kdim) @ B (Kdim x Ncol);  the reduction axis
// advances BK at a time through two shared-memory buffers, the next tile being fetched from
// global memory into registers while the current one is multiplied. A Loader (conv2d.cu) knows
// how to gather its pass's operands:
//
//   fetch(k0)                  reads tile k0 .. k0+BK-1 of A and B into registers (0 out of range)
//   stash<Convert>(As, Bs)     writes them to shared memory as As[k][m], Bs[k][n], each value
//                              through Convert::apply (KeepValue, or RoundTf32 for tensor cores)
//
// Tiles, and how each thread holds its part of out (TileMath<Tile>: ROWS x COLS accumulators,
// row(i) and col(j) of acc[i][j] in the block tile, and mainloop):
//
//   TileBig, TileSmallM,   FMA: each thread holds a TM x TN block of out in registers and
//   TileSmallN             multiplies with fused multiply-adds (float or double, exact fp math)
//   Tf32<Tile>             the same block tile on tensor cores (float, sm_80+): warp w holds a
//                          WM x WN part as m16n8k8 accumulator fragments; A and B are rounded
//                          to TF32 (10-bit mantissa, round to nearest, ties away from zero) when
//                          stashed, products are exact and summed in fp32
//
// Kept free of standard headers (NVRTC has none), like common.cuh.
#pragma once
#include "common.cuh"
#include "mma.cuh"

// ---------------------------------------------------------------------------------------------
// FMA tiles. THREADS == BN for the tiles used by forward / grad input: there every thread owns
// one column of B (one pixel) and walks its K-strip.

struct TileBig {      // M > 16: 64 filters x 128 pixels, 8 x 8 outputs per thread
    static constexpr int BM = 64, BN = 128, BK = 8, TM = 8, TN = 8;
    static constexpr int THREADS = (BM / TM) * (BN / TN);   // 128
    static constexpr int MIN_BLOCKS = 0;                     // __launch_bounds__: no minimum
};
struct TileSmallM {   // M <= 16 (a 1-channel image, 2 logits): 16 x 128, 4 x 4 per thread
    static constexpr int BM = 16, BN = 128, BK = 8, TM = 4, TN = 4;
    static constexpr int THREADS = (BM / TM) * (BN / TN);   // 128
    static constexpr int MIN_BLOCKS = 0;                     // __launch_bounds__: no minimum
};
struct TileSmallN {   // grad weight with C*K*K <= 32 (first layers): 64 x 32, 4 x 4 per thread
    static constexpr int BM = 64, BN = 32, BK = 8, TM = 4, TN = 4;
    static constexpr int THREADS = (BM / TM) * (BN / TN);   // 128
    static constexpr int MIN_BLOCKS = 0;                     // __launch_bounds__: no minimum
};

struct KeepValue {
    template <typename T> __device__ __forceinline__ static T apply(T v) { return v; }
};

__device__ __forceinline__ void load4(const float* p, float* out) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    out[0] = v.x; out[1] = v.y; out[2] = v.z; out[3] = v.w;
}
__device__ __forceinline__ void load4(const double* p, double* out) {
    const double2 a = reinterpret_cast<const double2*>(p)[0];
    const double2 b = reinterpret_cast<const double2*>(p)[1];
    out[0] = a.x; out[1] = a.y; out[2] = b.x; out[3] = b.y;
}

// A thread's TM rows are TM/4 groups of 4 consecutive rows, the groups BM/(TM/4) apart (TN
// columns likewise). Threads of a warp then read 4-wide vectors from consecutive addresses of a
// shared-memory row, which is free of bank conflicts (8 x 16 bytes per quarter warp).
template <typename Tile>
__device__ __forceinline__ int thread_row(int ty, int i) {
    return (i / 4) * (4 * Tile::BM / Tile::TM) + ty * 4 + i % 4;
}
template <typename Tile>
__device__ __forceinline__ int thread_col(int tx, int j) {
    return (j / 4) * (4 * Tile::BN / Tile::TN) + tx * 4 + j % 4;
}

template <typename Tile>
struct TileMath {
    static constexpr int BM = Tile::BM, BN = Tile::BN, BK = Tile::BK, TM = Tile::TM, TN = Tile::TN;
    static constexpr int ROWS = TM, COLS = TN;
    static_assert(TM % 4 == 0 && TN % 4 == 0, "register blocks are made of 4-wide vectors");

    __device__ __forceinline__ static int row(int i) {
        return thread_row<Tile>((int)threadIdx.x / (BN / TN), i);
    }
    __device__ __forceinline__ static int col(int j) {
        return thread_col<Tile>((int)threadIdx.x % (BN / TN), j);
    }

    template <typename T, typename Loader>
    __device__ __forceinline__ static void mainloop(Loader& loader, int k_begin, int k_end,
                                                    T (&acc)[TM][TN]) {
        // +4 pads each row so that stores with k varying fastest hit 8 different banks.
        __shared__ __align__(16) T As[2][BK][BM + 4];
        __shared__ __align__(16) T Bs[2][BK][BN + 4];

        const int ty = threadIdx.x / (BN / TN);
        const int tx = threadIdx.x % (BN / TN);
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
            for (int j = 0; j < TN; ++j)
                acc[i][j] = T(0);
        if (k_begin >= k_end)   // the same for the whole block, so no thread skips a barrier
            return;

        loader.fetch(k_begin);
        loader.template stash<KeepValue>(As[0], Bs[0]);
        __syncthreads();
        int buf = 0;
        for (int k0 = k_begin; k0 < k_end; k0 += BK) {
            const bool has_next = k0 + BK < k_end;
            if (has_next)
                loader.fetch(k0 + BK);   // global loads in flight while we multiply below
#pragma unroll
            for (int kk = 0; kk < BK; ++kk) {
                T a[TM], b[TN];
#pragma unroll
                for (int g = 0; g < TM / 4; ++g)
                    load4(&As[buf][kk][thread_row<Tile>(ty, 4 * g)], &a[4 * g]);
#pragma unroll
                for (int g = 0; g < TN / 4; ++g)
                    load4(&Bs[buf][kk][thread_col<Tile>(tx, 4 * g)], &b[4 * g]);
#pragma unroll
                for (int i = 0; i < TM; ++i)
#pragma unroll
                    for (int j = 0; j < TN; ++j)
                        acc[i][j] += a[i] * b[j];
            }
            // The other buffer was last read before the previous barrier, so it is free to fill.
            if (has_next)
                loader.template stash<KeepValue>(As[buf ^ 1], Bs[buf ^ 1]);
            __syncthreads();
            buf ^= 1;
        }
    }
};

// ---------------------------------------------------------------------------------------------
// Tensor cores (the PTX instructions: mma.cuh).

struct RoundTf32 {
    __device__ __forceinline__ static float apply(float v) {
        return __uint_as_float(cvt_rna_tf32(v));
    }
};

// Tf32<Tile>: Tile's block shape and threads, multiplied on tensor cores by WARPS_M x WARPS_N
// warps, each owning a WM x WN part of the block tile (a grid of m16n8 mma tiles).
template <typename Tile, int WARPS_M_, int WARPS_N_>
struct Tf32Layout {
    static constexpr int BM = Tile::BM, BN = Tile::BN, BK = Tile::BK, THREADS = Tile::THREADS;
    // 4 blocks (16 warps) per multiprocessor: at most 128 registers a thread, which NVRTC 12.9
    // and 13 meet without spilling (tests/test_kernels_compile.py checks it).
    static constexpr int MIN_BLOCKS = 4;
    static constexpr int WARPS_M = WARPS_M_, WARPS_N = WARPS_N_;
    static constexpr int WM = BM / WARPS_M, WN = BN / WARPS_N;
    static_assert(WARPS_M * WARPS_N * 32 == THREADS, "every warp owns one part of the tile");
    static_assert(WM % 16 == 0 && WN % 8 == 0 && BK == 8, "parts are made of m16n8k8 tiles");
};
template <typename Tile> struct Tf32;
template <> struct Tf32<TileBig> : Tf32Layout<TileBig, 2, 2> {};         // 32 x 64 per warp
template <> struct Tf32<TileSmallM> : Tf32Layout<TileSmallM, 1, 4> {};   // 16 x 32 per warp
template <> struct Tf32<TileSmallN> : Tf32Layout<TileSmallN, 4, 1> {};   // 16 x 32 per warp

template <typename Tile>
struct TileMath<Tf32<Tile>> {
    using Layout = Tf32<Tile>;
    static constexpr int BM = Layout::BM, BN = Layout::BN, BK = Layout::BK;
    static constexpr int MT = Layout::WM / 16, NT = Layout::WN / 8;   // mma tiles per warp
    static constexpr int ROWS = 2 * MT, COLS = 2 * NT;

    // acc[i][j] is accumulator c(2 (i % 2) + j % 2) of mma tile (i / 2, j / 2).
    __device__ __forceinline__ static int row(int i) {
        const int warp_row = (int)threadIdx.x / 32 % Layout::WARPS_M * Layout::WM;
        return warp_row + (i / 2) * 16 + (i % 2) * 8 + ((int)threadIdx.x & 31) / 4;
    }
    __device__ __forceinline__ static int col(int j) {
        const int warp_col = (int)threadIdx.x / 32 / Layout::WARPS_M * Layout::WN;
        return warp_col + (j / 2) * 8 + 2 * ((int)threadIdx.x & 3) + j % 2;
    }

    template <typename Loader>
    __device__ __forceinline__ static void mainloop(Loader& loader, int k_begin, int k_end,
                                                    float (&acc)[ROWS][COLS]) {
        // +8 pads each row so that a warp's fragment loads (lane (g, t) reads row t, column g
        // of a tile) hit 32 different banks.
        __shared__ __align__(16) float As[2][BK][BM + 8];
        __shared__ __align__(16) float Bs[2][BK][BN + 8];

        const int lane = threadIdx.x & 31, g = lane / 4, t = lane % 4;
        const int m_warp = row(0) - g, n_warp = col(0) - 2 * t;
#pragma unroll
        for (int i = 0; i < ROWS; ++i)
#pragma unroll
            for (int j = 0; j < COLS; ++j)
                acc[i][j] = 0.0f;
        if (k_begin >= k_end)   // the same for the whole block, so no thread skips a barrier
            return;

        loader.fetch(k_begin);
        loader.template stash<RoundTf32>(As[0], Bs[0]);
        __syncthreads();
        int buf = 0;
        for (int k0 = k_begin; k0 < k_end; k0 += BK) {
            const bool has_next = k0 + BK < k_end;
            if (has_next)
                loader.fetch(k0 + BK);
            unsigned a[MT][4], b[NT][2];
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
                const int m = m_warp + 16 * mt + g;
                a[mt][0] = __float_as_uint(As[buf][t][m]);
                a[mt][1] = __float_as_uint(As[buf][t][m + 8]);
                a[mt][2] = __float_as_uint(As[buf][t + 4][m]);
                a[mt][3] = __float_as_uint(As[buf][t + 4][m + 8]);
            }
#pragma unroll
            for (int nt = 0; nt < NT; ++nt) {
                const int n = n_warp + 8 * nt + g;
                b[nt][0] = __float_as_uint(Bs[buf][t][n]);
                b[nt][1] = __float_as_uint(Bs[buf][t + 4][n]);
            }
#pragma unroll
            for (int mt = 0; mt < MT; ++mt)
#pragma unroll
                for (int nt = 0; nt < NT; ++nt)
                    mma_m16n8k8_tf32(a[mt], b[nt], acc[2 * mt][2 * nt], acc[2 * mt][2 * nt + 1],
                                     acc[2 * mt + 1][2 * nt], acc[2 * mt + 1][2 * nt + 1]);
            if (has_next)
                loader.template stash<RoundTf32>(As[buf ^ 1], Bs[buf ^ 1]);
            __syncthreads();
            buf ^= 1;
        }
    }
};
