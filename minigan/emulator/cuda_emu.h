// cuda_emu.h: the CUDA names a kernel source uses, for g++: the kernel side of minigan's CPU
// emulator of the CUDA device (minigan/emulator/). minigan/emulator/kernels.py compiles any .cu
// source against this header and registry.h into a small library; what every kernel shares
// (fibers, the scheduler, barriers, shuffles, the tensor-core instruction, the check of every
// memory access) is runtime.cpp, compiled once. Not a CUDA implementation: it runs kernels/*.cu
// unchanged on the CPU, so that CI without a GPU checks their index math against the NumPy
// references. runtime.cpp's header comment says what it models and what it does not.
//
// Kept free of C++ standard headers, so that a kernel compiles in a fraction of a second.
// Every thread_local of the library is poisoned with the shared memory: declare none but these.
#pragma once
#define _GLIBCXX_INCLUDE_NEXT_C_HEADERS   // the C library's math.h and string.h, not <cmath>
#include <math.h>
#include <string.h>
#undef _GLIBCXX_INCLUDE_NEXT_C_HEADERS

#define EMU_RUNTIME extern "C" __attribute__((visibility("default")))

struct dim3 { unsigned x = 1, y = 1, z = 1; };
EMU_RUNTIME dim3 threadIdx, blockIdx, blockDim, gridDim;   // of the thread running now

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
// __shared__ variables are the only thread_locals of the library: one copy, since every fiber
// runs on the launching OS thread, in the library's TLS block, which each block starts by
// filling with 0xFF bytes.
#define __shared__ static thread_local
#define __align__(n) __attribute__((aligned(n)))

struct alignas(16) float4 { float x, y, z, w; };
struct alignas(16) double2 { double x, y; };

EMU_RUNTIME void emu_syncthreads();
EMU_RUNTIME void emu_shfl_down(const void* value, void* out, unsigned size, int offset);
EMU_RUNTIME void emu_mma_m16n8k8_tf32(const unsigned* a, const unsigned* b, float* c);

inline void __syncthreads() { emu_syncthreads(); }

template <typename T>
inline T __shfl_down_sync(unsigned, T v, int offset) {
    static_assert(sizeof(T) <= sizeof(double), "slot size");
    T out;
    emu_shfl_down(&v, &out, sizeof(T), offset);
    return out;
}

inline unsigned __umulhi(unsigned a, unsigned b) {
    return (unsigned)(((unsigned long long)a * b) >> 32);
}
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
inline float __int_as_float(int x) { float f; memcpy(&f, &x, 4); return f; }
inline float __int_as_float(unsigned x) { float f; memcpy(&f, &x, 4); return f; }
inline double __longlong_as_double(long long x) { double d; memcpy(&d, &x, 8); return d; }
inline unsigned __float_as_uint(float x) { unsigned u; memcpy(&u, &x, 4); return u; }
inline float __uint_as_float(unsigned u) { float x; memcpy(&x, &u, 4); return x; }
inline int max(int a, int b) { return a > b ? a : b; }
inline int min(int a, int b) { return a < b ? a : b; }

// --- tensor cores: the PTX instructions of kernels/mma.cuh ---------------------------------------

#define MINIGAN_EMULATED_PTX 1   // mma.cuh then takes the two functions below instead of asm

// cvt.rna.tf32.f32, bit for bit: a finite x gets 0x1000 added to its bits (round half away from
// zero), then the low 13 bits are cleared.
inline unsigned cvt_rna_tf32(float x) {
    unsigned bits = __float_as_uint(x);
    if ((bits & 0x7fffffffu) < 0x7f800000u)   // finite: carry into the kept bits at half or more
        bits += 0x1000u;
    return bits & 0xffffe000u;
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 of the calling lane's warp (runtime.cpp).
inline void mma_m16n8k8_tf32(const unsigned (&a)[4], const unsigned (&b)[2], float& c0, float& c1,
                             float& c2, float& c3) {
    float c[4] = {c0, c1, c2, c3};
    emu_mma_m16n8k8_tf32(a, b, c);
    c0 = c[0]; c1 = c[1]; c2 = c[2]; c3 = c[3];
}
