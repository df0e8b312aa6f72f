// cuda_emu.h: a CPU emulation of the small CUDA subset minigan's kernels use: the C++ side of
// minigan's emulator device (minigan/emulator/, whose kernels.py compiles any .cu source with g++
// against this header). Not a CUDA implementation: it runs kernels/*.cu unchanged on the CPU, so
// that CI without a GPU checks their index math against the NumPy references.
//
// Model: every CUDA thread of a block is a fiber (ucontext, its own stack) on the calling OS
// thread. The blocks of a grid run one after another, in order (x fastest). Inside a block the
// fibers run one at a time, in thread order, each until it reaches a barrier or returns:
//   __syncthreads     waits until every thread of the block waits there, then all go on;
//   __shfl_down_sync  each lane writes its value to an exchange slot, waits for its warp's 32
//                     lanes, reads lane + offset's slot (its own value past lane 31), and waits
//                     for the warp again before anyone can overwrite a slot;
//   __shared__        one copy per variable (a static thread_local), filled with 0xFF bytes at
//                     the start of every block: what a block reads before writing is NaN for
//                     floats and -1 for ints, never a value left there by another block;
//   mma_m16n8k8_tf32  (mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32, kernels/gemm.cuh)
//                     each lane writes its A and B fragments to its slot and waits for its warp's
//                     32 lanes; then each computes its four accumulators from the slots, with the
//                     PTX ISA's fragment layout (lane 4g + t holds A[g][t], A[g+8][t], A[g][t+4],
//                     A[g+8][t+4], B[t][g], B[t+4][g] and C[g][2t], C[g][2t+1], C[g+8][2t],
//                     C[g+8][2t+1]). Operands are read as TF32 (their low 13 bits ignored), the
//                     products are exact, and they are added to C in k order in fp32 (the
//                     hardware's summation order and rounding inside the instruction are not
//                     modelled: results agree within fp32 bounds, not bit for bit). Slots
//                     alternate between two sets per call, so one wait per call is enough;
//   cvt_rna_tf32      (cvt.rna.tf32.f32) bit for bit: a finite x gets 0x1000 added to its bits
//                     (round half away from zero), then the low 13 bits are cleared.
// Runs are deterministic. When no thread can go on (a thread returned while others wait in
// __syncthreads, a warp's lanes wait at different barriers), the launch fails with an error
// naming the block and threads, instead of hanging.
//
// What it catches: wrong indices, offsets and loop bounds (wrong results, NaN; the Python side
// also catches unwritten outputs and writes just outside an array), barriers that not every thread
// reaches, and a missing __syncthreads when, in the fixed thread order, a thread reads shared
// memory that another thread of the block has not written yet (not every missing barrier: the
// order is always lower threads first).
// What it does not model: speed, real warp scheduling or divergence (shuffles assume the full
// mask and all 32 lanes calling them, as minigan's kernels do), concurrent blocks (so no
// inter-block races), the GPU memory model and caches, FMA contraction and fast-math, and launch
// limits beyond what minigan/emulator/kernels.py checks. Blocks must be 1-D with a multiple of 32
// threads.
// Every thread_local of the library is poisoned with the shared memory: declare none but these.
#pragma once
#include <dlfcn.h>
#include <link.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

struct dim3 { unsigned x = 1, y = 1, z = 1; };
inline dim3 threadIdx, blockIdx;   // of the fiber running now (set by the scheduler)
inline dim3 blockDim, gridDim;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
// __shared__ variables are the only thread_locals of the library: one copy, since every fiber
// runs on the launching OS thread, in the library's TLS block, which each block starts by
// filling with 0xFF bytes (see emu_shared_memory).
#define __shared__ static thread_local
#define __align__(n) __attribute__((aligned(n)))

struct alignas(16) float4 { float x, y, z, w; };
struct alignas(16) double2 { double x, y; };

// --- fibers ------------------------------------------------------------------------------------

enum class EmuState : unsigned char { Runnable, AtSync, AtWarp, Done };

struct EmuFiber {
    ucontext_t context;
    void* stack = nullptr;   // mmap'ed, lowest page PROT_NONE so an overflow faults
    EmuState state = EmuState::Done;
};

inline constexpr std::size_t emu_stack_bytes = 256 * 1024;
// Grown to the largest block seen, stacks kept. A ucontext_t points into itself, so a context
// moved by the vector's growth is stale: emu_prepare_fibers makes them all afresh per launch.
inline std::vector<EmuFiber> emu_fibers;
inline ucontext_t emu_scheduler;
inline unsigned emu_current = 0;
inline void (*emu_body)(void*) = nullptr;
inline void* emu_body_arg = nullptr;
inline std::vector<double> emu_exchange;   // shuffle slots, one per thread (8 bytes)

inline void emu_switch_out(EmuState state) {
    EmuFiber& fiber = emu_fibers[emu_current];
    fiber.state = state;
    swapcontext(&fiber.context, &emu_scheduler);
}

inline void emu_fiber_main() {
    for (;;) {               // one pass per block; the scheduler resumes it for the next block
        emu_body(emu_body_arg);
        emu_switch_out(EmuState::Done);
    }
}

inline void __syncthreads() { emu_switch_out(EmuState::AtSync); }

template <typename T>
inline T __shfl_down_sync(unsigned, T v, int offset) {
    static_assert(sizeof(T) <= sizeof(double), "slot size");
    const int tid = threadIdx.x, lane = tid & 31;
    std::memcpy(&emu_exchange[tid], &v, sizeof(T));
    emu_switch_out(EmuState::AtWarp);
    T out = v;
    if (lane + offset < 32) std::memcpy(&out, &emu_exchange[tid + offset], sizeof(T));
    emu_switch_out(EmuState::AtWarp);
    return out;
}

inline unsigned __umulhi(unsigned a, unsigned b) {
    return (unsigned)(((unsigned long long)a * b) >> 32);
}
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
inline float __int_as_float(int x) { float f; std::memcpy(&f, &x, 4); return f; }
inline float __int_as_float(unsigned x) { float f; std::memcpy(&f, &x, 4); return f; }
inline double __longlong_as_double(long long x) { double d; std::memcpy(&d, &x, 8); return d; }
inline unsigned __float_as_uint(float x) { unsigned u; std::memcpy(&u, &x, 4); return u; }
inline float __uint_as_float(unsigned u) { float x; std::memcpy(&x, &u, 4); return x; }
inline int max(int a, int b) { return a > b ? a : b; }
inline int min(int a, int b) { return a < b ? a : b; }

// --- tensor cores: the PTX instructions of kernels/gemm.cuh's TF32 path -------------------------

#define MINIGAN_EMULATED_PTX 1   // gemm.cuh then takes the two functions below instead of asm

inline unsigned cvt_rna_tf32(float x) {
    unsigned bits = __float_as_uint(x);
    if ((bits & 0x7fffffffu) < 0x7f800000u)   // finite: carry into the kept bits at half or more
        bits += 0x1000u;
    return bits & 0xffffe000u;
}

inline std::vector<unsigned> emu_mma_slots;    // [2][threads][6]: a[0..3], b[0..1] per lane
inline std::vector<unsigned char> emu_mma_set; // per thread: which of the two slot sets is next

inline void mma_m16n8k8_tf32(const unsigned (&a)[4], const unsigned (&b)[2], float& c0, float& c1,
                             float& c2, float& c3) {
    const unsigned tid = threadIdx.x, warp_first = tid & ~31u, threads = blockDim.x;
    const unsigned set = emu_mma_set[tid];
    emu_mma_set[tid] = (unsigned char)(set ^ 1u);
    unsigned* slots = &emu_mma_slots[(std::size_t)set * threads * 6];
    for (int i = 0; i < 4; ++i) slots[tid * 6 + i] = a[i];
    for (int i = 0; i < 2; ++i) slots[tid * 6 + 4 + i] = b[i];
    emu_switch_out(EmuState::AtWarp);
    auto tf32 = [](unsigned bits) { return __uint_as_float(bits & 0xffffe000u); };
    auto A = [&](int row, int k) {   // held by lane 4 (row % 8) + k % 4
        const unsigned lane = 4 * (row % 8) + k % 4;
        return tf32(slots[(warp_first + lane) * 6 + (row >= 8) + 2 * (k >= 4)]);
    };
    auto B = [&](int k, int col) {   // held by lane 4 col + k % 4
        const unsigned lane = 4 * col + k % 4;
        return tf32(slots[(warp_first + lane) * 6 + 4 + (k >= 4)]);
    };
    const int g = (tid & 31) / 4, t = (tid & 31) % 4;
    float* c[4] = {&c0, &c1, &c2, &c3};
    for (int r = 0; r < 4; ++r) {
        const int row = g + 8 * (r / 2), col = 2 * t + r % 2;
        float sum = *c[r];
        for (int k = 0; k < 8; ++k) sum += A(row, k) * B(k, col);
        *c[r] = sum;
    }
}

// --- the scheduler -----------------------------------------------------------------------------

inline void emu_prepare_fibers(unsigned threads) {
    const long page = 4096;
    while (emu_fibers.size() < threads) {
        EmuFiber fiber;
        fiber.stack = mmap(nullptr, emu_stack_bytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (fiber.stack == MAP_FAILED)
            throw std::runtime_error("emu: mmap of a fiber stack failed");
        mprotect(fiber.stack, page, PROT_NONE);
        emu_fibers.push_back(fiber);
    }
    for (unsigned t = 0; t < threads; ++t) {   // fresh contexts: a failed launch may leave
        EmuFiber& fiber = emu_fibers[t];       // fibers stopped in the middle of a kernel
        getcontext(&fiber.context);
        fiber.context.uc_stack.ss_sp = static_cast<char*>(fiber.stack) + page;
        fiber.context.uc_stack.ss_size = emu_stack_bytes - page;
        fiber.context.uc_link = nullptr;   // emu_fiber_main never returns
        makecontext(&fiber.context, emu_fiber_main, 0);
    }
}

inline std::string emu_where() {
    return "block (" + std::to_string(blockIdx.x) + ", " + std::to_string(blockIdx.y) + ", " +
           std::to_string(blockIdx.z) + ")";
}

inline std::string emu_threads_in(unsigned first, unsigned end, EmuState state) {
    std::string list;
    unsigned count = 0;
    for (unsigned t = first; t < end; ++t) {
        if (emu_fibers[t].state != state) continue;
        if (count++ < 8) list += (list.empty() ? "" : ", ") + std::to_string(t);
    }
    if (count > 8) list += ", ... (" + std::to_string(count) + ")";
    return list.empty() ? "none" : list;
}

inline thread_local char emu_tls_marker;   // makes sure the library has a TLS block

struct EmuTlsBlock { void* data = nullptr; std::size_t size = 0; };

// This library's TLS block for the calling OS thread: all its __shared__ variables.
inline EmuTlsBlock emu_shared_memory() {
    emu_tls_marker = 1;   // allocates the block for this thread if it was not yet
    Dl_info self;
    if (!dladdr(reinterpret_cast<void*>(&emu_shared_memory), &self))
        throw std::runtime_error("emu: dladdr failed");
    struct Query { const void* base; EmuTlsBlock block; } query{self.dli_fbase, {}};
    dl_iterate_phdr([](dl_phdr_info* info, std::size_t, void* arg) -> int {
        Query& q = *static_cast<Query*>(arg);
        if (reinterpret_cast<const void*>(info->dlpi_addr) != q.base) return 0;
        for (int i = 0; i < info->dlpi_phnum; ++i)
            if (info->dlpi_phdr[i].p_type == PT_TLS)
                q.block = EmuTlsBlock{info->dlpi_tls_data, info->dlpi_phdr[i].p_memsz};
        return 1;
    }, &query);
    if (query.block.data == nullptr || query.block.size == 0)
        throw std::runtime_error("emu: cannot find the library's TLS block (shared memory)");
    return query.block;
}

// Runs the threads of the block in blockIdx until all have returned.
inline void emu_run_block(unsigned threads, const EmuTlsBlock& shared) {
    // Shared memory is undefined at the start of a block: a read of what the block has not
    // written gets NaN (floats) or -1 (ints), not a value left by the previous block or kernel.
    std::memset(shared.data, 0xFF, shared.size);
    for (unsigned t = 0; t < threads; ++t) emu_fibers[t].state = EmuState::Runnable;
    for (;;) {
        for (unsigned t = 0; t < threads; ++t) {
            if (emu_fibers[t].state != EmuState::Runnable) continue;
            emu_current = t;
            threadIdx = dim3{t, 0, 0};
            swapcontext(&emu_scheduler, &emu_fibers[t].context);
        }
        unsigned done = 0, at_sync = 0;
        for (unsigned t = 0; t < threads; ++t) {
            done += emu_fibers[t].state == EmuState::Done;
            at_sync += emu_fibers[t].state == EmuState::AtSync;
        }
        if (done == threads) return;
        bool released = false;
        for (unsigned w = 0; w < threads / 32; ++w) {   // a warp whose 32 lanes wait at a shuffle
            unsigned waiting = 0;
            for (unsigned t = 32 * w; t < 32 * w + 32; ++t)
                waiting += emu_fibers[t].state == EmuState::AtWarp;
            if (waiting == 32) {
                for (unsigned t = 32 * w; t < 32 * w + 32; ++t)
                    emu_fibers[t].state = EmuState::Runnable;
                released = true;
            } else if (waiting > 0) {
                throw std::runtime_error(
                    "emu: " + emu_where() + ", warp " + std::to_string(w) + ": lanes " +
                    emu_threads_in(32 * w, 32 * w + 32, EmuState::AtWarp) +
                    " wait in a shuffle that the others never reach (in __syncthreads: " +
                    emu_threads_in(32 * w, 32 * w + 32, EmuState::AtSync) + "; returned: " +
                    emu_threads_in(32 * w, 32 * w + 32, EmuState::Done) + ")");
            }
        }
        if (released) continue;
        if (at_sync == threads) {
            for (unsigned t = 0; t < threads; ++t) emu_fibers[t].state = EmuState::Runnable;
            continue;
        }
        throw std::runtime_error(
            "emu: " + emu_where() + ": __syncthreads not reached by every thread: threads " +
            emu_threads_in(0, threads, EmuState::AtSync) + " wait there, threads " +
            emu_threads_in(0, threads, EmuState::Done) + " returned");
    }
}

// Runs body() as every thread of every block of the grid (throws std::runtime_error on a bad
// launch or a barrier that cannot complete).
template <typename F>
void emu_run(dim3 grid, dim3 block, F&& body) {
    if (block.y != 1 || block.z != 1) throw std::runtime_error("emu: 1-D blocks only");
    if (block.x == 0 || block.x % 32 != 0)
        throw std::runtime_error("emu: block size must be a positive multiple of 32");
    if (grid.x == 0 || grid.y == 0 || grid.z == 0) throw std::runtime_error("emu: empty grid");
    gridDim = grid; blockDim = block;
    const unsigned threads = block.x;
    using Body = std::remove_reference_t<F>;
    emu_body = [](void* arg) { (*static_cast<Body*>(arg))(); };
    emu_body_arg = const_cast<void*>(static_cast<const void*>(&body));
    emu_exchange.assign(threads, 0.0);
    emu_mma_slots.assign((std::size_t)2 * threads * 6, 0u);
    emu_mma_set.assign(threads, 0);
    emu_prepare_fibers(threads);
    const EmuTlsBlock shared = emu_shared_memory();
    for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) {
        blockIdx = dim3{bx, by, bz};
        emu_run_block(threads, shared);
    }
}
