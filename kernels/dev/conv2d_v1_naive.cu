// conv2d_v1_naive.cu: the convolution forward pass as the plainest CUDA kernel, one thread per
// output element (version 1 of 3; v2 is conv2d_v2_tiled.cu, v3 minigan's kernels/conv2d.cu).
//
// Reference: minigan/reference/conv_spec.py (conv2d_forward). Harness: minigan/benchmarks/kernel_lab.py
// checks it against the reference (on a GPU, or on the CPU emulator) and times it on a GPU.
//
//   y[n, f, oh, ow] = b[f] + sum_{c,ky,kx} w[f, c, ky, kx] * x[n, c, oh*s - p + ky, ow*s - p + kx]
//
// where a tap outside the image contributes nothing: skipping it *is* the zero padding.
//
// Entry point (T in {float, double}; name expressions "conv2d_v1_naive<float>", ...):
//
//   conv2d_v1_naive<T>   grid ceil(N*F*Ho*Wo / 256), block 256: thread i computes the output
//                        element whose flat index in y (N, F, Ho, Wo) is i. has_bias = 0 leaves
//                        b unread.
//
// Every thread reads its C*K*K weights and input taps from global memory, and its neighbours read
// almost the same ones again: nothing is shared. v2 stages them in shared memory.
#include "common.cuh"

template <typename T>
__global__ void conv2d_v1_naive(const T* __restrict__ x, const T* __restrict__ w,
                                const T* __restrict__ b, T* __restrict__ y, int has_bias, int N,
                                int C, int H, int W, int F, int K, int stride, int pad, int Ho,
                                int Wo) {
    const i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (i64)N * F * Ho * Wo)   // the last block runs past the end of y
        return;
    const int ow = (int)(i % Wo);
    const int oh = (int)(i / Wo % Ho);
    const int f = (int)(i / ((i64)Wo * Ho) % F);
    const int n = (int)(i / ((i64)Wo * Ho * F));
    T acc = has_bias ? b[f] : T(0);
    for (int c = 0; c < C; ++c) {
        const T* x_plane = x + ((i64)n * C + c) * H * W;
        const T* w_taps = w + ((i64)f * C + c) * K * K;
        for (int ky = 0; ky < K; ++ky) {
            const int ih = oh * stride - pad + ky;
            if (ih < 0 || ih >= H)
                continue;
            for (int kx = 0; kx < K; ++kx) {
                const int iw = ow * stride - pad + kx;
                if (iw < 0 || iw >= W)
                    continue;
                acc += w_taps[ky * K + kx] * x_plane[(i64)ih * W + iw];
            }
        }
    }
    y[i] = acc;
}

template __global__ void conv2d_v1_naive<float>(const float*, const float*, const float*, float*,
                                                int, int, int, int, int, int, int, int, int, int,
                                                int);
template __global__ void conv2d_v1_naive<double>(const double*, const double*, const double*,
                                                 double*, int, int, int, int, int, int, int, int,
                                                 int, int, int);
