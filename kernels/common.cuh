// common.cuh: small device helpers shared by minigan's kernels (no entry points here).
//
//   i64               64-bit integer for memory offsets (a tensor may pass 2^31 elements)
//   FastDiv           n / d and n % d for a runtime divisor d >= 1 and 0 <= n < 2^31, with one
//                     multiply-high and a shift instead of a ~20-instruction integer division
//   negative_infinity -inf as float / double (NVRTC has no <cmath> or <limits>)
//   quiet_nan         NaN as float / double
//   exp_of, log_of    exp and log overloaded on float / double
//   min_int, max_int  int minimum / maximum
//   block_sum         sum of one value per thread over a block (result in thread 0)
//
// Kept free of standard headers so the same text compiles under nvcc (CI) and NVRTC (CuPy).
#pragma once

typedef long long i64;

// Division by an invariant integer (Granlund & Montgomery 1994), the usual trick in GPU
// implicit-GEMM code: every pixel and filter index is decoded with a few of these per tile.
//
// With l = ceil(log2 d) and p = 31 + l, mul = ceil(2^p / d) fits in 32 bits and
// floor(n * mul / 2^p) == floor(n / d) for every 0 <= n < 2^31 (the rounding error
// n * (mul - 2^p / d) stays below 2^p / d). minigan.cuda checks that every index it decodes
// is below 2^31 before a launch.
struct FastDiv {
    unsigned divisor;
    unsigned mul;
    unsigned shift;

    __device__ explicit FastDiv(int d) : divisor((unsigned)d), mul(0), shift(0) {
        if (divisor > 1) {
            unsigned l = 32u - (unsigned)__clz((int)(divisor - 1u));   // ceil(log2 d), >= 1
            mul = (unsigned)(((1ull << (31u + l)) + divisor - 1u) / divisor);
            shift = l - 1u;                                            // p - 32
        }
    }
    __device__ __forceinline__ int div(int n) const {
        return divisor == 1u ? n : (int)(__umulhi((unsigned)n, mul) >> shift);
    }
    // Returns n / d and stores n % d in *rem.
    __device__ __forceinline__ int divmod(int n, int* rem) const {
        int q = div(n);
        *rem = n - q * (int)divisor;
        return q;
    }
};

template <typename T> __device__ __forceinline__ T negative_infinity();
template <> __device__ __forceinline__ float negative_infinity<float>() {
    return __int_as_float(0xff800000);
}
template <> __device__ __forceinline__ double negative_infinity<double>() {
    return __longlong_as_double((long long)0xfff0000000000000ull);
}

template <typename T> __device__ __forceinline__ T quiet_nan();
template <> __device__ __forceinline__ float quiet_nan<float>() {
    return __int_as_float(0x7fc00000);
}
template <> __device__ __forceinline__ double quiet_nan<double>() {
    return __longlong_as_double((long long)0x7ff8000000000000ull);
}

__device__ __forceinline__ float exp_of(float x) { return expf(x); }
__device__ __forceinline__ double exp_of(double x) { return exp(x); }
__device__ __forceinline__ float log_of(float x) { return logf(x); }
__device__ __forceinline__ double log_of(double x) { return log(x); }

__device__ __forceinline__ int min_int(int a, int b) { return a < b ? a : b; }
__device__ __forceinline__ int max_int(int a, int b) { return a > b ? a : b; }

// Sum of v over the block: shuffles inside each warp, then warp 0 adds the warp totals.
// Every thread of the block must call it (it synchronizes); blockDim.x must be a multiple of
// 32 and at most 1024. The total is returned in thread 0 (other threads get partial sums).
template <typename T>
__device__ T block_sum(T v) {
    __shared__ T warp_totals[32];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    for (int offset = 16; offset > 0; offset >>= 1)
        v += __shfl_down_sync(0xffffffffu, v, offset);
    if (lane == 0)
        warp_totals[warp] = v;
    __syncthreads();
    if (warp == 0) {
        const int warps = blockDim.x >> 5;
        v = lane < warps ? warp_totals[lane] : T(0);
        for (int offset = 16; offset > 0; offset >>= 1)
            v += __shfl_down_sync(0xffffffffu, v, offset);
    }
    return v;
}
