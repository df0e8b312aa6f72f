// maxpool2d.cu: 2-D max-pooling over K x K windows (NCHW), forward with a compact argmax and
// backward as a gather (each input pixel collects its own gradient: no atomics, deterministic).
//
// Reference: minigan/reference/pool_spec.py (max_pool2d_forward, max_pool2d_backward).
// Launch wrappers: minigan/cuda.py.
//
//   y[n, c, oh, ow]      = max_{ky, kx < K} xpad[n, c, oh*s + ky, ow*s + kx]   (padding is -inf)
//   argmax[n, c, oh, ow] = ky * K + kx of that maximum, int8 (K <= 11); the first one in
//                          row-major window order on ties; a NaN wins, as in numpy.argmax
//   gx[n, c, ih, iw]     = sum of gy[n, c, oh, ow] over the windows (oh, ow) that contain
//                          (ih, iw) and whose argmax points at it
//
// Entry points (T in {float, double}; name expressions "max_pool2d_forward<float>", ...):
//
//   max_pool2d_forward<T>   grid (ceil(Ho*Wo / 256), min(N*C, 65535)), block 256:
//                           one thread per output pixel of a plane, planes in a grid-stride loop
//   max_pool2d_backward<T>  grid (ceil(H*W / 256), min(N*C, 65535)), block 256:
//                           one thread per input pixel of a plane, planes in a grid-stride loop
//
// minigan/cuda.py checks 1 <= K <= 11, 0 <= pad < K (so every window holds an input pixel),
// N*C < 2^31 and H*W < 2^31; plane offsets are 64-bit.
#include "common.cuh"

template <typename T>
__global__ void max_pool2d_forward(const T* __restrict__ x, T* __restrict__ y,
                                   signed char* __restrict__ argmax, int planes, int H, int W,
                                   int K, int stride, int pad, int Ho, int Wo) {
    const int hw = blockIdx.x * blockDim.x + threadIdx.x;
    if (hw >= Ho * Wo)
        return;
    const int oh = hw / Wo, ow = hw % Wo;
    const int ih0 = oh * stride - pad, iw0 = ow * stride - pad;
    for (int plane = blockIdx.y; plane < planes; plane += gridDim.y) {
        const T* x_plane = x + (i64)plane * H * W;
        T best = negative_infinity<T>();
        int best_tap = -1;
        for (int ky = 0; ky < K; ++ky) {
            const int ih = ih0 + ky;
            if ((unsigned)ih >= (unsigned)H)
                continue;
            for (int kx = 0; kx < K; ++kx) {
                const int iw = iw0 + kx;
                if ((unsigned)iw >= (unsigned)W)
                    continue;
                const T v = x_plane[ih * W + iw];
                // Strictly greater keeps the first maximum; a NaN beats any number, and once
                // best is NaN nothing replaces it (numpy.argmax returns the first NaN).
                const bool best_is_nan = best != best;
                if (best_tap < 0 || (!best_is_nan && (v > best || v != v))) {
                    best = v;
                    best_tap = ky * K + kx;
                }
            }
        }
        const i64 out = (i64)plane * Ho * Wo + hw;
        y[out] = best;
        argmax[out] = (signed char)best_tap;
    }
}

template <typename T>
__global__ void max_pool2d_backward(const T* __restrict__ gy,
                                    const signed char* __restrict__ argmax, T* __restrict__ gx, int planes, int H, int W, int K,
                                    int stride, int pad, int Ho, int Wo) {
    const int hw = blockIdx.x * blockDim.x + threadIdx.x;
    if (hw >= H * W)
        return;
    const int ih = hw / W, iw = hw % W;
    const int th = ih + pad, tw = iw + pad;   // position in the padded input
    // Window oh covers padded rows [oh*s, oh*s + K - 1]: oh*s <= th and oh*s + K - 1 >= th.
    const int oh_begin = th - K + 1 <= 0 ? 0 : (th - K + stride) / stride;
    const int oh_end = min_int(Ho - 1, th / stride);
    const int ow_begin = tw - K + 1 <= 0 ? 0 : (tw - K + stride) / stride;
    const int ow_end = min_int(Wo - 1, tw / stride);
    for (int plane = blockIdx.y; plane < planes; plane += gridDim.y) {
        const i64 base = (i64)plane * Ho * Wo;
        T sum = T(0);
        for (int oh = oh_begin; oh <= oh_end; ++oh) {
            const int ky = th - oh * stride;
            for (int ow = ow_begin; ow <= ow_end; ++ow) {
                const int kx = tw - ow * stride;
                const i64 o = base + oh * Wo + ow;
                if (argmax[o] == ky * K + kx)
                    sum += gy[o];
            }
        }
        gx[(i64)plane * H * W + hw] = sum;
    }
}

template __global__ void max_pool2d_forward<float>(const float*, float*, signed char*, int, int,
                                                   int, int, int, int, int, int);
template __global__ void max_pool2d_forward<double>(const double*, double*, signed char*, int,
                                                    int, int, int, int, int, int, int);
template __global__ void max_pool2d_backward<float>(const float*, const signed char*, float*, int,
                                                    int, int, int, int, int, int, int);
template __global__ void max_pool2d_backward<double>(const double*, const signed char*, double*,
                                                     int, int, int, int, int, int, int, int);
