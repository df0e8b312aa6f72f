// registry.h: the C API through which minigan.emulator (Python, ctypes) launches the kernels of
// one compiled source. minigan/emulator/kernels.py generates, for each RawModule, a file that
// includes cuda_emu.h, then the kernel source, then this header, then a table with one
// emu_entry() per name expression ("conv2d_forward<float, TileBig>", ...):
//
//   emu_signature(name)    argument codes, one per parameter: p pointer, i int, u unsigned int,
//                          l long long, f float, d double (NULL for an unknown name)
//   emu_max_threads(name)  the kernel's __launch_bounds__ (1024 when it has none)
//   emu_launch(name, gx, gy, gz, bx, by, bz, params)
//                          runs the grid on the runtime (runtime.cpp); params[i] points at
//                          argument i, as for cuLaunchKernel; 0 on success, -1 unknown name,
//                          -2 failed launch (emu_runtime_last_error says why)
#pragma once

template <typename T> struct EmuCode;
template <> struct EmuCode<int> { static constexpr char c = 'i'; };
template <> struct EmuCode<unsigned> { static constexpr char c = 'u'; };
template <> struct EmuCode<long long> { static constexpr char c = 'l'; };
template <> struct EmuCode<float> { static constexpr char c = 'f'; };
template <> struct EmuCode<double> { static constexpr char c = 'd'; };
template <typename T> struct EmuCode<T*> { static constexpr char c = 'p'; };
template <typename T> struct EmuCode<const T*> { static constexpr char c = 'p'; };

template <unsigned... I> struct EmuIndices {};
template <unsigned N, unsigned... I> struct EmuMakeIndices : EmuMakeIndices<N - 1, N - 1, I...> {};
template <unsigned... I> struct EmuMakeIndices<0, I...> { using type = EmuIndices<I...>; };

struct EmuLaunch { void (*kernel)(); void** params; };

// Not instrumented: it reads the launch's parameter block (Python's memory); the kernel it calls
// is not inlined into it (the attributes differ), so every access of the kernel is checked.
template <typename... Args, unsigned... I>
__attribute__((no_sanitize_address)) void emu_call(void* launch, EmuIndices<I...>) {
    const EmuLaunch& l = *static_cast<const EmuLaunch*>(launch);
    reinterpret_cast<void (*)(Args...)>(l.kernel)(*static_cast<Args*>(l.params[I])...);
}

template <typename... Args>
void emu_call(void* launch) {
    emu_call<Args...>(launch, typename EmuMakeIndices<sizeof...(Args)>::type{});
}

template <typename... Args>
struct EmuSignature { static constexpr char text[] = {EmuCode<Args>::c..., '\0'}; };

struct EmuEntry {
    const char* name;
    const char* signature;
    unsigned max_threads;
    void (*kernel)();
    void (*call)(void*);
};

template <typename... Args>
EmuEntry emu_entry(const char* name, void (*fn)(Args...), unsigned max_threads) {
    return EmuEntry{name, EmuSignature<Args...>::text, max_threads,
                    reinterpret_cast<void (*)()>(fn), &emu_call<Args...>};
}

extern const EmuEntry emu_entries[];
extern const int emu_entry_count;

EMU_RUNTIME int emu_runtime_run(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                                unsigned bz, void (*fn)(void*), void* arg,
                                const void* kernel_library);

#define EMU_API extern "C" __attribute__((visibility("default")))

inline const EmuEntry* emu_find(const char* name) {
    for (int i = 0; i < emu_entry_count; ++i)
        if (strcmp(emu_entries[i].name, name) == 0) return &emu_entries[i];
    return nullptr;
}

inline thread_local char emu_tls_marker;   // makes sure the library has a TLS block

EMU_API const char* emu_signature(const char* name) {
    const EmuEntry* entry = emu_find(name);
    return entry ? entry->signature : nullptr;
}

EMU_API unsigned emu_max_threads(const char* name) {
    const EmuEntry* entry = emu_find(name);
    return entry ? entry->max_threads : 0;
}

EMU_API int emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                       unsigned by, unsigned bz, void** params) {
    const EmuEntry* entry = emu_find(name);
    if (!entry) return -1;
    emu_tls_marker = 1;   // allocates this library's TLS block (shared memory) for this thread
    EmuLaunch launch{entry->kernel, params};
    return emu_runtime_run(gx, gy, gz, bx, by, bz, entry->call, &launch,
                           reinterpret_cast<const void*>(&emu_launch));
}
