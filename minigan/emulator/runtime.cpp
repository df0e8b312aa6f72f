// runtime.cpp: the part of minigan's CUDA emulator that is the same for every kernel: fibers,
// the block scheduler, barriers, warp shuffles, the tensor-core instruction and the check of
// every memory access. minigan/emulator/kernels.py compiles it once with g++ into a cached
// library, loaded before any kernel library; a kernel library (a .cu source compiled against
// cuda_emu.h and registry.h, a fraction of a second of g++) calls into it.
//
// Model: every CUDA thread of a block is a fiber (ucontext, its own stack) on the calling OS
// thread. The blocks of a grid run one after another, in order (x fastest). Inside a block the
// fibers run one at a time, in thread order, each until it reaches a barrier or returns:
//   __syncthreads     waits until every thread of the block waits there, then all go on;
//   __shfl_down_sync  each lane writes its value to an exchange slot, waits for its warp's 32
//                     lanes, reads lane + offset's slot (its own value past lane 31), and waits
//                     for the warp again before anyone can overwrite a slot;
//   __shared__        one copy per variable (a static thread_local of the kernel library),
//                     filled with 0xFF bytes at the start of every block: what a block reads
//                     before writing is NaN for floats and -1 for ints, never a value left there
//                     by another block;
//   mma_m16n8k8_tf32  (mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32, kernels/mma.cuh)
//                     each lane writes its A and B fragments to its slot and waits for its warp's
//                     32 lanes; then each computes its four accumulators from the slots, with the
//                     PTX ISA's fragment layout (lane 4g + t holds A[g][t], A[g+8][t], A[g][t+4],
//                     A[g+8][t+4], B[t][g], B[t+4][g] and C[g][2t], C[g][2t+1], C[g+8][2t],
//                     C[g+8][2t+1]). Operands are read as TF32 (their low 13 bits ignored), the
//                     products are exact, and they are added to C in k order in fp32 (the
//                     hardware's summation order and rounding inside the instruction are not
//                     modelled: results agree within fp32 bounds, not bit for bit). Slots
//                     alternate between two sets per call, so one wait per call is enough.
// Memory: during a launch the guard zones around its array arguments (GUARD bytes of 0xFF on
// each side, minigan/emulator/arrays.py) are marked in a shadow memory that every access of the
// kernel checks first (see "memory" below); one that touches a guard zone stops the launch
// before it happens, and emu_runtime_fault says where it went and which thread made it.
// Runs are deterministic. When no thread can go on (a thread returned while others wait in
// __syncthreads, a warp's lanes wait at different barriers), the launch fails with an error
// naming the block and threads, instead of hanging.
//
// What it catches: wrong indices, offsets and loop bounds (wrong results, NaN), reads and writes
// just outside the arrays a launch was given (within their guard zones), barriers that not
// every thread reaches, and a missing __syncthreads when, in the fixed thread order, a thread
// reads shared memory that another thread of the block has not written yet (not every missing
// barrier: the order is always lower threads first).
// What it does not model: speed, real warp scheduling or divergence (shuffles assume the full
// mask and all 32 lanes calling them, as minigan's kernels do), concurrent blocks (so no
// inter-block races), accesses farther outside an array than its guard zone (they may land in
// other memory or crash the process), indices outside one __shared__ array but inside the
// block's shared memory, the GPU memory model and caches, FMA contraction and fast-math, and
// launch limits beyond what kernels.py checks. Blocks must be 1-D with a multiple of 32 threads.
#include <dlfcn.h>
#include <link.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#define EMU_API extern "C" __attribute__((visibility("default")))

struct dim3 { unsigned x = 1, y = 1, z = 1; };
extern "C" {   // a definition (extern "C" in front would make it a declaration only)
__attribute__((visibility("default"))) dim3 threadIdx, blockIdx, blockDim, gridDim;
}   // of the fiber running now

namespace {

// --- fibers ------------------------------------------------------------------------------------

enum class State : unsigned char { Runnable, AtSync, AtWarp, Faulted, Done };

struct Fiber {
    ucontext_t context;
    char* stack = nullptr;   // mmap'ed, lowest page PROT_NONE so an overflow faults
    State state = State::Done;
};

constexpr std::size_t stack_bytes = 256 * 1024, page = 4096;
// Grown to the largest block seen, stacks kept. A ucontext_t points into itself, so a context
// moved by the vector's growth is stale: prepare_fibers makes them all afresh per launch.
std::vector<Fiber> fibers;
ucontext_t scheduler;
unsigned current = 0;
void (*body)(void*) = nullptr;
void* body_arg = nullptr;
std::vector<double> exchange;          // shuffle slots, one per thread (8 bytes)
std::vector<unsigned> mma_slots;       // [2][threads][6]: a[0..3], b[0..1] per lane
std::vector<unsigned char> mma_set;    // per thread: which of the two slot sets is next

void switch_out(State state) {
    Fiber& fiber = fibers[current];
    fiber.state = state;
    swapcontext(&fiber.context, &scheduler);
}

struct Range { std::uintptr_t begin = 0, end = 0; };
Range shared_now;   // the block's shared memory: the kernel library's TLS block

void fiber_main() {
    for (;;) {               // one pass per block; the scheduler resumes it for the next block
        body(body_arg);
        switch_out(State::Done);
    }
}

// --- memory: the guard zones of the launch's arrays --------------------------------------------
//
// A kernel library is compiled with -fsanitize=kernel-address and -fasan-shadow-offset=
// shadow_offset: before each access of n bytes at a it reads the shadow byte of every 8-byte
// granule it touches, shadow[a / 8] (0: all 8 bytes may be accessed, k in 1..7: the first k,
// negative: none), and calls __asan_report_* (below) when the access is not allowed. During a
// launch the guard zones of its array arguments are marked inaccessible; everything else is 0.

constexpr std::uintptr_t shadow_offset = 0x100000000000ull;   // 16 TiB: free in a Linux process
constexpr std::uintptr_t shadow_bytes = 1ull << 44;           // one byte per 8 of 2^47

struct Fault {
    std::uintptr_t address;
    std::uint64_t size;
    int write;
    unsigned thread, block_x, block_y, block_z;
};

struct Zone { std::uintptr_t begin, end; };   // [begin, end): not to be touched by the kernel

bool shadow_mapped = false;
std::vector<Zone> zones;   // of the next launch
Fault fault;
bool faulted = false;

signed char* shadow(std::uintptr_t address) {
    return reinterpret_cast<signed char*>((address >> 3) + shadow_offset);
}

// Marks [begin, end) inaccessible (poison) or accessible again; a granule that the zone shares
// with the array before it keeps that array's bytes accessible.
void mark(const Zone& zone, bool poison) {
    std::uintptr_t begin = zone.begin;
    if (begin & 7) {   // the granule holding the array's last bytes
        *shadow(begin) = poison ? (signed char)(begin & 7) : 0;
        begin = (begin | 7) + 1;
    }
    if (zone.end > begin)
        std::memset(shadow(begin), poison ? 0xFA : 0, (zone.end - begin) >> 3);
}

void report(std::uintptr_t address, std::uint64_t size, int write) {
    fault = Fault{address, size, write, threadIdx.x, blockIdx.x, blockIdx.y, blockIdx.z};
    switch_out(State::Faulted);   // never resumed: the launch stops here
}

bool allowed(std::uintptr_t address, std::uint64_t size) {
    for (std::uintptr_t a = address; a < address + size; ++a) {
        const signed char k = *shadow(a);
        if (k != 0 && (k < 0 || (signed char)(a & 7) >= k)) return false;
    }
    return true;
}

void check(std::uintptr_t address, std::uint64_t size, int write) {
    if (shadow_mapped && !allowed(address, size)) report(address, size, write);
}

// The TLS block of the calling thread of the library that holds ``address`` (its __shared__
// variables), or an empty range.
Range tls_block_of(const void* address) {
    Dl_info info;
    if (!dladdr(address, &info))
        throw std::runtime_error("emu: dladdr failed");
    struct Query { const void* base; Range block; } query{info.dli_fbase, {}};
    dl_iterate_phdr([](dl_phdr_info* lib, std::size_t, void* arg) -> int {
        Query& q = *static_cast<Query*>(arg);
        if (reinterpret_cast<const void*>(lib->dlpi_addr) != q.base) return 0;
        for (int i = 0; i < lib->dlpi_phnum; ++i)
            if (lib->dlpi_phdr[i].p_type == PT_TLS && lib->dlpi_tls_data)
                q.block = Range{reinterpret_cast<std::uintptr_t>(lib->dlpi_tls_data),
                                reinterpret_cast<std::uintptr_t>(lib->dlpi_tls_data) +
                                    lib->dlpi_phdr[i].p_memsz};
        return 1;
    }, &query);
    return query.block;
}

// --- the scheduler -----------------------------------------------------------------------------

void prepare_fibers(unsigned threads) {
    while (fibers.size() < threads) {
        Fiber fiber;
        void* stack = mmap(nullptr, stack_bytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (stack == MAP_FAILED)
            throw std::runtime_error("emu: mmap of a fiber stack failed");
        fiber.stack = static_cast<char*>(stack);
        mprotect(fiber.stack, page, PROT_NONE);
        fibers.push_back(fiber);
    }
    for (unsigned t = 0; t < threads; ++t) {   // fresh contexts: a failed launch may leave
        Fiber& fiber = fibers[t];              // fibers stopped in the middle of a kernel
        getcontext(&fiber.context);
        fiber.context.uc_stack.ss_sp = fiber.stack + page;
        fiber.context.uc_stack.ss_size = stack_bytes - page;
        fiber.context.uc_link = nullptr;   // fiber_main never returns
        makecontext(&fiber.context, fiber_main, 0);
    }
}

std::string where() {
    return "block (" + std::to_string(blockIdx.x) + ", " + std::to_string(blockIdx.y) + ", " +
           std::to_string(blockIdx.z) + ")";
}

std::string threads_in(unsigned first, unsigned end, State state) {
    std::string list;
    unsigned count = 0;
    for (unsigned t = first; t < end; ++t) {
        if (fibers[t].state != state) continue;
        if (count++ < 8) list += (list.empty() ? "" : ", ") + std::to_string(t);
    }
    if (count > 8) list += ", ... (" + std::to_string(count) + ")";
    return list.empty() ? "none" : list;
}

struct OutOfBounds : std::runtime_error {
    OutOfBounds() : std::runtime_error("emu: an access in a guard zone of the launch's arrays") {}
};

// Runs the threads of the block in blockIdx until all have returned.
void run_block(unsigned threads) {
    // Shared memory is undefined at the start of a block: a read of what the block has not
    // written gets NaN (floats) or -1 (ints), not a value left by the previous block or kernel.
    std::memset(reinterpret_cast<void*>(shared_now.begin), 0xFF, shared_now.end - shared_now.begin);
    for (unsigned t = 0; t < threads; ++t) fibers[t].state = State::Runnable;
    for (;;) {
        for (unsigned t = 0; t < threads; ++t) {
            if (fibers[t].state != State::Runnable) continue;
            current = t;
            threadIdx = dim3{t, 0, 0};
            swapcontext(&scheduler, &fibers[t].context);
            if (fibers[t].state == State::Faulted) {
                faulted = true;
                throw OutOfBounds();
            }
        }
        unsigned done = 0, at_sync = 0;
        for (unsigned t = 0; t < threads; ++t) {
            done += fibers[t].state == State::Done;
            at_sync += fibers[t].state == State::AtSync;
        }
        if (done == threads) return;
        bool released = false;
        for (unsigned w = 0; w < threads / 32; ++w) {   // a warp whose 32 lanes wait at a shuffle
            unsigned waiting = 0;
            for (unsigned t = 32 * w; t < 32 * w + 32; ++t)
                waiting += fibers[t].state == State::AtWarp;
            if (waiting == 32) {
                for (unsigned t = 32 * w; t < 32 * w + 32; ++t)
                    fibers[t].state = State::Runnable;
                released = true;
            } else if (waiting > 0) {
                throw std::runtime_error(
                    "emu: " + where() + ", warp " + std::to_string(w) + ": lanes " +
                    threads_in(32 * w, 32 * w + 32, State::AtWarp) +
                    " wait in a shuffle that the others never reach (in __syncthreads: " +
                    threads_in(32 * w, 32 * w + 32, State::AtSync) + "; returned: " +
                    threads_in(32 * w, 32 * w + 32, State::Done) + ")");
            }
        }
        if (released) continue;
        if (at_sync == threads) {
            for (unsigned t = 0; t < threads; ++t) fibers[t].state = State::Runnable;
            continue;
        }
        throw std::runtime_error(
            "emu: " + where() + ": __syncthreads not reached by every thread: threads " +
            threads_in(0, threads, State::AtSync) + " wait there, threads " +
            threads_in(0, threads, State::Done) + " returned");
    }
}

// Runs body(arg) as every thread of every block of the grid (throws std::runtime_error on a bad
// launch, a barrier that cannot complete or an access outside the launch's memory).
void run(dim3 grid, dim3 block, void (*fn)(void*), void* arg, const void* kernel_library) {
    if (block.y != 1 || block.z != 1) throw std::runtime_error("emu: 1-D blocks only");
    if (block.x == 0 || block.x % 32 != 0)
        throw std::runtime_error("emu: block size must be a positive multiple of 32");
    if (grid.x == 0 || grid.y == 0 || grid.z == 0) throw std::runtime_error("emu: empty grid");
    gridDim = grid; blockDim = block;
    const unsigned threads = block.x;
    body = fn;
    body_arg = arg;
    exchange.assign(threads, 0.0);
    mma_slots.assign((std::size_t)2 * threads * 6, 0u);
    mma_set.assign(threads, 0);
    prepare_fibers(threads);
    shared_now = tls_block_of(kernel_library);
    if (shared_now.begin == 0)
        throw std::runtime_error("emu: cannot find the kernel library's TLS block (shared memory)");
    for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) {
        blockIdx = dim3{bx, by, bz};
        run_block(threads);
    }
}

std::string last_error;

}  // namespace

// --- what kernels call (cuda_emu.h) ------------------------------------------------------------

EMU_API void emu_syncthreads() { switch_out(State::AtSync); }

EMU_API void emu_shfl_down(const void* value, void* out, unsigned size, int offset) {
    const unsigned tid = threadIdx.x, lane = tid & 31;
    std::memcpy(&exchange[tid], value, size);
    switch_out(State::AtWarp);
    std::memcpy(out, lane + offset < 32 ? &exchange[tid + offset] : &exchange[tid], size);
    switch_out(State::AtWarp);
}

EMU_API void emu_mma_m16n8k8_tf32(const unsigned* a, const unsigned* b, float* c) {
    const unsigned tid = threadIdx.x, warp_first = tid & ~31u, threads = blockDim.x;
    const unsigned set = mma_set[tid];
    mma_set[tid] = (unsigned char)(set ^ 1u);
    unsigned* slots = &mma_slots[(std::size_t)set * threads * 6];
    for (int i = 0; i < 4; ++i) slots[tid * 6 + i] = a[i];
    for (int i = 0; i < 2; ++i) slots[tid * 6 + 4 + i] = b[i];
    switch_out(State::AtWarp);
    auto tf32 = [](unsigned bits) {
        bits &= 0xffffe000u;
        float x;
        std::memcpy(&x, &bits, 4);
        return x;
    };
    auto A = [&](int row, int k) {   // held by lane 4 (row % 8) + k % 4
        const unsigned lane = 4 * (row % 8) + k % 4;
        return tf32(slots[(warp_first + lane) * 6 + (row >= 8) + 2 * (k >= 4)]);
    };
    auto B = [&](int k, int col) {   // held by lane 4 col + k % 4
        const unsigned lane = 4 * col + k % 4;
        return tf32(slots[(warp_first + lane) * 6 + 4 + (k >= 4)]);
    };
    const int g = (tid & 31) / 4, t = (tid & 31) % 4;
    for (int r = 0; r < 4; ++r) {
        const int row = g + 8 * (r / 2), col = 2 * t + r % 2;
        float sum = c[r];
        for (int k = 0; k < 8; ++k) sum += A(row, k) * B(k, col);
        c[r] = sum;
    }
}

// What g++'s -fsanitize=kernel-address calls: __asan_report_* when an inline check finds a
// poisoned byte; the outlined checks (accesses of unusual size, memcpy and the like) otherwise.
#define EMU_ACCESS_HOOKS(n)                                                                       \
    EMU_API void __asan_report_load##n##_noabort(std::uintptr_t a) { report(a, n, 0); }          \
    EMU_API void __asan_report_store##n##_noabort(std::uintptr_t a) { report(a, n, 1); }         \
    EMU_API void __asan_load##n##_noabort(std::uintptr_t a) { check(a, n, 0); }                  \
    EMU_API void __asan_store##n##_noabort(std::uintptr_t a) { check(a, n, 1); }
EMU_ACCESS_HOOKS(1)
EMU_ACCESS_HOOKS(2)
EMU_ACCESS_HOOKS(4)
EMU_ACCESS_HOOKS(8)
EMU_ACCESS_HOOKS(16)
EMU_API void __asan_report_load_n_noabort(std::uintptr_t a, std::uint64_t n) { report(a, n, 0); }
EMU_API void __asan_report_store_n_noabort(std::uintptr_t a, std::uint64_t n) { report(a, n, 1); }
EMU_API void __asan_loadN_noabort(std::uintptr_t a, std::uint64_t n) { check(a, n, 0); }
EMU_API void __asan_storeN_noabort(std::uintptr_t a, std::uint64_t n) { check(a, n, 1); }
EMU_API void __asan_handle_no_return() {}
EMU_API void __asan_before_dynamic_init(const char*) {}
EMU_API void __asan_after_dynamic_init() {}
EMU_API void* __asan_memcpy(void* to, const void* from, std::uint64_t n) {
    check(reinterpret_cast<std::uintptr_t>(from), n, 0);
    check(reinterpret_cast<std::uintptr_t>(to), n, 1);
    return std::memcpy(to, from, n);
}
EMU_API void* __asan_memmove(void* to, const void* from, std::uint64_t n) {
    check(reinterpret_cast<std::uintptr_t>(from), n, 0);
    check(reinterpret_cast<std::uintptr_t>(to), n, 1);
    return std::memmove(to, from, n);
}
EMU_API void* __asan_memset(void* to, int value, std::uint64_t n) {
    check(reinterpret_cast<std::uintptr_t>(to), n, 1);
    return std::memset(to, value, n);
}

// --- what kernel libraries (registry.h) and Python (kernels.py) call ---------------------------

// Maps the shadow memory (address space only: its pages appear when first written) once;
// 1 when it is there, 0 when the address range is taken or the system refuses the mapping (the
// kernels must then be compiled without the checks).
EMU_API int emu_runtime_shadow() {
    if (!shadow_mapped) {
        void* at = mmap(reinterpret_cast<void*>(shadow_offset), shadow_bytes,
                        PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
        shadow_mapped = at == reinterpret_cast<void*>(shadow_offset);
        if (at != MAP_FAILED && !shadow_mapped) munmap(at, shadow_bytes);
    }
    return shadow_mapped;
}

// The guard zones of the next launch: count ranges [begins[i], ends[i]).
EMU_API void emu_runtime_zones(const std::uint64_t* begins, const std::uint64_t* ends, int count) {
    zones.assign(count, Zone{});
    for (int i = 0; i < count; ++i) zones[i] = Zone{begins[i], ends[i]};
}

// Runs fn(arg) as every thread of the grid; 0 on success, -2 on a failed launch (emu_last_error
// says why; after an access in a guard zone, emu_runtime_fault says where).
EMU_API int emu_runtime_run(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                            unsigned bz, void (*fn)(void*), void* arg, const void* kernel_library) {
    faulted = false;
    if (shadow_mapped)
        for (const Zone& zone : zones) mark(zone, true);
    int status = 0;
    try {
        run(dim3{gx, gy, gz}, dim3{bx, by, bz}, fn, arg, kernel_library);
    } catch (const std::exception& error) {
        last_error = error.what();
        status = -2;
    }
    if (shadow_mapped)
        for (const Zone& zone : zones) mark(zone, false);
    zones.clear();
    return status;
}

EMU_API const char* emu_runtime_last_error() { return last_error.c_str(); }

// The access that stopped the last launch, or null when none did.
EMU_API const Fault* emu_runtime_fault() { return faulted ? &fault : nullptr; }
