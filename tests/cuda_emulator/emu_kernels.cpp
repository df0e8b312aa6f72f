// emu_kernels.cpp: a TEST TOOL (see cuda_emu.h and fakecupy/cupy/__init__.py), not part of
// minigan. Compiles the real kernels/*.cu against cuda_emu.h and registers every kernel
// instantiation that minigan.cuda asks NVRTC for, under the same name expression
// ("conv2d_forward<float, TileBig>", ...), behind a small C API for ctypes:
//
//   emu_signature(name)    argument codes, one per parameter: p pointer, i int, l long long
//                          (NULL for an unknown name)
//   emu_max_threads(name)  the kernel's __launch_bounds__ (1024 when it has none)
//   emu_launch(name, gx, gy, gz, bx, by, bz, params)
//                          runs the grid; params[i] points at argument i, as for cuLaunchKernel;
//                          0 on success, -1 unknown name, -2 bad launch (emu_last_error says why)
//
// Built by tests/test_kernels_on_emulator.py:
//   g++ -std=c++20 -O2 -shared -fPIC -pthread -I<repo>/kernels emu_kernels.cpp -o libemu.so
// A kernel added to minigan.cuda.SOURCES must be registered in init() below too.
#include "cuda_emu.h"
#include <map>
#include <tuple>
#include <utility>
#include <functional>
#include "conv2d.cu"
#include "maxpool2d.cu"
#include "patch_xent.cu"

template <typename T> struct Code;
template <> struct Code<int> { static char c() { return 'i'; } };
template <> struct Code<long long> { static char c() { return 'l'; } };
template <typename T> struct Code<T*> { static char c() { return 'p'; } };
template <typename T> struct Code<const T*> { static char c() { return 'p'; } };

struct Entry {
    std::string signature;
    unsigned max_threads;
    std::function<void(dim3, dim3, void**)> launch;
};
static std::map<std::string, Entry>& registry() { static std::map<std::string, Entry> r; return r; }

template <typename... Args, std::size_t... I>
static void call(void (*fn)(Args...), void** params, std::index_sequence<I...>) {
    fn(*static_cast<Args*>(params[I])...);
}

template <typename... Args>
static void reg(const std::string& name, void (*fn)(Args...), unsigned max_threads = 1024) {
    Entry e;
    e.signature = std::string{Code<Args>::c()...};
    e.max_threads = max_threads;
    e.launch = [fn](dim3 g, dim3 b, void** params) {
        emu_run(g, b, [&] { call(fn, params, std::index_sequence_for<Args...>{}); });
    };
    registry()[name] = e;
}

static bool init() {
#define CONV_PIX(T, Tile) \
    reg(std::string("conv2d_forward<") + #T + ", " + #Tile + ">", conv2d_forward<T, Tile>, Tile::THREADS); \
    reg(std::string("conv2d_backward_input<") + #T + ", " + #Tile + ">", conv2d_backward_input<T, Tile>, Tile::THREADS);
#define CONV_W(T, Tile) \
    reg(std::string("conv2d_backward_weight<") + #T + ", " + #Tile + ">", conv2d_backward_weight<T, Tile>, Tile::THREADS);
    CONV_PIX(float, TileBig) CONV_PIX(float, TileSmallM) CONV_PIX(double, TileBig) CONV_PIX(double, TileSmallM)
    CONV_W(float, TileBig) CONV_W(float, TileSmallM) CONV_W(float, TileSmallN)
    CONV_W(double, TileBig) CONV_W(double, TileSmallM) CONV_W(double, TileSmallN)
    CONV_PIX(float, Tf32<TileBig>) CONV_PIX(float, Tf32<TileSmallM>)
    CONV_W(float, Tf32<TileBig>) CONV_W(float, Tf32<TileSmallM>) CONV_W(float, Tf32<TileSmallN>)
    reg("conv2d_backward_bias<float>", conv2d_backward_bias<float>);
    reg("conv2d_backward_bias<double>", conv2d_backward_bias<double>);
    reg("reduce_splits<float>", reduce_splits<float>);
    reg("reduce_splits<double>", reduce_splits<double>);
    reg("max_pool2d_forward<float>", max_pool2d_forward<float>);
    reg("max_pool2d_forward<double>", max_pool2d_forward<double>);
    reg("max_pool2d_backward<float>", max_pool2d_backward<float>);
    reg("max_pool2d_backward<double>", max_pool2d_backward<double>);
    reg("patch_xent_forward<float>", patch_xent_forward<float>);
    reg("patch_xent_forward<double>", patch_xent_forward<double>);
    reg("sum_partials<float>", sum_partials<float>);
    reg("sum_partials<double>", sum_partials<double>);
    return true;
}
static bool initialized = init();

static std::string last_error;

extern "C" {
const char* emu_signature(const char* name) {
    auto it = registry().find(name);
    return it == registry().end() ? nullptr : it->second.signature.c_str();
}
unsigned emu_max_threads(const char* name) {
    auto it = registry().find(name);
    return it == registry().end() ? 0 : it->second.max_threads;
}
const char* emu_last_error() { return last_error.c_str(); }
int emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
               unsigned bz, void** params) {
    auto it = registry().find(name);
    if (it == registry().end()) return -1;
    try {
        it->second.launch(dim3{gx, gy, gz}, dim3{bx, by, bz}, params);
    } catch (const std::exception& error) {
        last_error = error.what();
        return -2;
    }
    return 0;
}
}
