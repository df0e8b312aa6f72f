// patch_xent.cu: softmax cross-entropy per patch of an (N, C, H, W) logit map, fused: the loss,
// its gradient and (optionally) the partial sums of the loss come out of one kernel.
//
// Reference: minigan/reference/xent_spec.py (patch_cross_entropy_forward). Wrappers: minigan/cuda.py.
//
//   z = logits[n, :, h, w], t = labels[n, h, w] in [0, C), m = max_c z_c
//   loss[n, h, w]       = m + log(sum_c exp(z_c - m)) - z_t          (no exp can overflow)
//   dlogits[n, c, h, w] = exp(z_c - m) / sum_c' exp(z_c' - m) - [c == t]
//   a label outside [0, C) gives NaN loss and NaN gradient for that patch (never a stray read)
//
// Entry points (T in {float, double}; name expressions "patch_xent_forward<float>", ...):
//
//   patch_xent_forward<T>  grid min(ceil(N*H*W / 256), 1024), block 256, grid-stride over
//                          patches; one thread per patch, the C logits of a patch are H*W apart
//                          so neighbouring threads read neighbouring addresses.
//                          loss may be null (write_loss = 0); when write_partials != 0,
//                          partials[block] = sum of the loss over that block's patches
//   sum_partials<T>        grid 1, block 1024: total[0] = sum_i partials[i] in a fixed order
//
// The two-pass sum (block partials, then one block) keeps the total deterministic.
// minigan/cuda.py checks N*H*W < 2^31 and C*H*W < 2^31; offsets are 64-bit.
#include "common.cuh"

template <typename T>
__global__ void patch_xent_forward(const T* __restrict__ logits, const int* __restrict__ labels,
                                   T* __restrict__ loss, T* __restrict__ dlogits,
                                   T* __restrict__ partials, int write_loss, int write_partials,
                                   int N, int C, int HW) {
    const int patches = N * HW;
    T block_loss = T(0);
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < patches; i += gridDim.x * blockDim.x) {
        const int img = i / HW, hw = i - img * HW;
        const T* z = logits + (i64)img * C * HW + hw;
        T* dz = dlogits + (i64)img * C * HW + hw;
        const int t = labels[i];
        const bool label_ok = 0 <= t && t < C;

        T m = z[0];
        for (int c = 1; c < C; ++c) {
            const T zc = z[(i64)c * HW];
            m = zc > m ? zc : m;
        }
        T sum = T(0), z_t = T(0);
        for (int c = 0; c < C; ++c) {
            const T zc = z[(i64)c * HW];
            sum += exp_of(zc - m);
            if (c == t)
                z_t = zc;
        }
        const T patch_loss = label_ok ? m + log_of(sum) - z_t : quiet_nan<T>();
        const T inv_sum = T(1) / sum;
        for (int c = 0; c < C; ++c) {
            const T p = exp_of(z[(i64)c * HW] - m) * inv_sum;
            dz[(i64)c * HW] = label_ok ? p - (c == t ? T(1) : T(0)) : quiet_nan<T>();
        }
        if (write_loss)
            loss[i] = patch_loss;
        block_loss += patch_loss;
    }
    if (write_partials) {   // the same for every thread of the block, so all reach the barrier
        block_loss = block_sum(block_loss);
        if (threadIdx.x == 0)
            partials[blockIdx.x] = block_loss;
    }
}

// total[0] = sum of partials[0 .. count-1]; launched with one block of 1024 threads.
template <typename T>
__global__ void sum_partials(const T* __restrict__ partials, T* __restrict__ total, int count) {
    T sum = T(0);
    for (int i = threadIdx.x; i < count; i += blockDim.x)
        sum += partials[i];
    sum = block_sum(sum);
    if (threadIdx.x == 0)
        total[0] = sum;
}

template __global__ void patch_xent_forward<float>(const float*, const int*, float*, float*,
                                                   float*, int, int, int, int, int);
template __global__ void patch_xent_forward<double>(const double*, const int*, double*, double*,
                                                    double*, int, int, int, int, int);
template __global__ void sum_partials<float>(const float*, float*, int);
template __global__ void sum_partials<double>(const double*, double*, int);
