// mma.cuh: the two PTX instructions of the TF32 tensor-core path (gemm.cuh's Tf32 tiles and the
// ladder's kernels/dev/conv2d_v6_tf32_mma.cu), no entry points here.
//
//   cvt_rna_tf32       x rounded to TF32 (10 mantissa bits, to nearest, ties away from zero)
//   mma_m16n8k8_tf32   D = A (16 x 8) @ B (8 x 8) + C, one warp, TF32 operands, fp32 accumulators
//
// The CPU emulator (minigan/emulator/cuda_emu.h) defines MINIGAN_EMULATED_PTX and both
// functions, emulating the instructions bit for bit (rounding) and lane for lane (fragment
// layout). Below sm_80 they trap: minigan.cuda launches TF32 kernels only on devices of compute
// capability 8.0 or more. Kept free of standard headers (NVRTC has none), like common.cuh.
#pragma once

#ifndef MINIGAN_EMULATED_PTX
// cvt.rna.tf32.f32: x rounded to TF32, i.e. to 10 mantissa bits, to nearest with ties away from
// zero; returned as fp32 bits whose low 13 bits are 0.
__device__ __forceinline__ unsigned cvt_rna_tf32(float x) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    unsigned bits;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(bits) : "f"(x));
    return bits;
#else
    __trap();
    return __float_as_uint(x);
#endif
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32, D = A (16 x 8) @ B (8 x 8) + C in place,
// one warp. Lane l holds, with g = l / 4 and t = l % 4:
//   a[0] = A[g][t], a[1] = A[g+8][t], a[2] = A[g][t+4], a[3] = A[g+8][t+4]
//   b[0] = B[t][g], b[1] = B[t+4][g]
//   c0 = C[g][2t], c1 = C[g][2t+1], c2 = C[g+8][2t], c3 = C[g+8][2t+1]
__device__ __forceinline__ void mma_m16n8k8_tf32(const unsigned (&a)[4], const unsigned (&b)[2],
                                                 float& c0, float& c1, float& c2, float& c3) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
                 : "+f"(c0), "+f"(c1), "+f"(c2), "+f"(c3)
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
    (void)a; (void)b; (void)c0; (void)c1; (void)c2; (void)c3;
    __trap();
#endif
}
#endif  // MINIGAN_EMULATED_PTX

