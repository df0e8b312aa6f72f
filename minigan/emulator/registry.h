// registry.h: the C API through which minigan.emulator (Python, ctypes) launches the kernels of
// one compiled source. minigan/emulator/kernels.py generates, for each RawModule, a file that
// includes cuda_emu.h, then the kernel source, then this header, then one emu_register() call
// per name expression ("conv2d_forward<float, TileBig>", ...):
//
//   emu_signature(name)    argument codes, one per parameter: p pointer, i int, u unsigned int,
//                          l long long, f float, d double (NULL for an unknown name)
//   emu_max_threads(name)  the kernel's __launch_bounds__ (1024 when it has none)
//   emu_launch(name, gx, gy, gz, bx, by, bz, params)
//                          runs the grid; params[i] points at argument i, as for cuLaunchKernel;
//                          0 on success, -1 unknown name, -2 bad launch (emu_last_error says why)
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <utility>

template <typename T> struct EmuCode;
template <> struct EmuCode<int> { static char c() { return 'i'; } };
template <> struct EmuCode<unsigned> { static char c() { return 'u'; } };
template <> struct EmuCode<long long> { static char c() { return 'l'; } };
template <> struct EmuCode<float> { static char c() { return 'f'; } };
template <> struct EmuCode<double> { static char c() { return 'd'; } };
template <typename T> struct EmuCode<T*> { static char c() { return 'p'; } };
template <typename T> struct EmuCode<const T*> { static char c() { return 'p'; } };

struct EmuEntry {
    std::string signature;
    unsigned max_threads;
    std::function<void(dim3, dim3, void**)> launch;
};

inline std::map<std::string, EmuEntry>& emu_registry() {
    static std::map<std::string, EmuEntry> registry;
    return registry;
}

template <typename... Args, std::size_t... I>
void emu_call(void (*fn)(Args...), void** params, std::index_sequence<I...>) {
    fn(*static_cast<Args*>(params[I])...);
}

template <typename... Args>
bool emu_register(const std::string& name, void (*fn)(Args...), unsigned max_threads) {
    EmuEntry entry;
    entry.signature = std::string{EmuCode<Args>::c()...};
    entry.max_threads = max_threads;
    entry.launch = [fn](dim3 grid, dim3 block, void** params) {
        emu_run(grid, block, [&] { emu_call(fn, params, std::index_sequence_for<Args...>{}); });
    };
    emu_registry()[name] = entry;
    return true;
}

inline std::string emu_last_error_text;

#define EMU_API extern "C" __attribute__((visibility("default")))

EMU_API const char* emu_signature(const char* name) {
    auto it = emu_registry().find(name);
    return it == emu_registry().end() ? nullptr : it->second.signature.c_str();
}

EMU_API unsigned emu_max_threads(const char* name) {
    auto it = emu_registry().find(name);
    return it == emu_registry().end() ? 0 : it->second.max_threads;
}

EMU_API const char* emu_last_error() { return emu_last_error_text.c_str(); }

EMU_API int emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                       unsigned by, unsigned bz, void** params) {
    auto it = emu_registry().find(name);
    if (it == emu_registry().end()) return -1;
    try {
        it->second.launch(dim3{gx, gy, gz}, dim3{bx, by, bz}, params);
    } catch (const std::exception& error) {
        emu_last_error_text = error.what();
        return -2;
    }
    return 0;
}
