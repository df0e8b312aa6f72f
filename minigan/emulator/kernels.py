"""Compiling CUDA kernel source for the CPU and launching it: ``RawModule`` and ``RawKernel``.

``RawModule(code=..., options=..., name_expressions=[...])`` takes the same arguments as CuPy's,
and compiles *whatever source it is given*: g++ builds ``code`` against ``cuda_emu.h`` (the CUDA
names) and ``registry.h`` into a small shared library, with one table entry per name expression
generated here, e.g.

    emu_entry("conv2d_forward<float, TileBig>", &conv2d_forward<float, TileBig>,
              emu_bounds_conv2d_forward<float, TileBig>),

where ``emu_bounds_*`` is the kernel's ``__launch_bounds__`` expression, read from the source.
What every kernel shares (fibers, the scheduler, barriers, shuffles, the tensor-core
instruction, the memory checks) is ``runtime.cpp``, compiled once and loaded before any kernel.
A kernel is compiled with ``-fsanitize=kernel-address`` against the runtime's shadow memory
(``CHECK_FLAGS``), so that each of its loads and stores first checks that it stays out of the
guard zones of the launch's arrays (without the checks where the shadow cannot be mapped).

Both are cached on disk, in ``$MINIGAN_EMULATOR_CACHE`` (default ``~/.cache/minigan/emulator``),
keyed by the generated source, the emulator's files and the compiler command, so a source
compiles once; each build says on stderr what it compiles and where it goes.

A launch checks what a GPU would refuse or silently get wrong: each argument against the
kernel's C++ parameter (a device array for a pointer, ``numpy.int32`` for ``int``, ...), arrays
C-contiguous and on the current device, grid and block limits and the kernel's launch bound;
during it, every read and write (one in a guard zone stops the launch, and ``out_of_bounds``
names the kernel, the argument, the element and the thread); after it, the guard zones of
every array argument (``arrays.check_guards``).
"""
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy

from minigan.emulator import arrays

HERE = Path(__file__).resolve().parent
SOURCES = ("cuda_emu.h", "registry.h", "runtime.cpp")   # a change to any rebuilds every kernel
RUNTIME_FLAGS = ("-std=c++20", "-O2", "-shared", "-fPIC", "-pthread", "-fno-gnu-unique",
                 "-fvisibility=hidden", "-w")
KERNEL_FLAGS = ("-std=c++20", "-O2", "-shared", "-fPIC", "-fno-gnu-unique", "-fvisibility=hidden",
                "-w")
# Every load and store first reads its shadow byte (inline, no sanitizer library: the runtime
# maps the shadow and reports); no red zones around stack variables or globals.
CHECK_FLAGS = ("-fsanitize=kernel-address", "-fasan-shadow-offset=0x100000000000",
               "--param=asan-instrumentation-with-call-threshold=1000000",
               "--param=asan-stack=0", "--param=asan-globals=0")
SCALARS = {"i": (numpy.int32, ctypes.c_int32), "u": (numpy.uint32, ctypes.c_uint32),
           "l": (numpy.int64, ctypes.c_int64), "f": (numpy.float32, ctypes.c_float),
           "d": (numpy.float64, ctypes.c_double)}
GRID_X_LIMIT, GRID_YZ_LIMIT, BLOCK_LIMIT = 2**31 - 1, 65535, 1024
COMPILE_TIMEOUT_S = 600


def compiler():
    """The C++ compiler the emulator uses (``CXX``, else g++), or None when there is none."""
    return shutil.which(os.environ.get("CXX", "g++"))


def cache_dir():
    """Where compiled kernels are kept: ``$MINIGAN_EMULATOR_CACHE``, else
    ``~/.cache/minigan/emulator``."""
    return Path(os.environ.get("MINIGAN_EMULATOR_CACHE")
                or Path.home() / ".cache" / "minigan" / "emulator").expanduser()


# --- generating the C++ file --------------------------------------------------------------------

def _balanced(text, start):
    """The index just past the parenthesis that closes the one at ``text[start]``."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i + 1
    raise ValueError("unbalanced parentheses in __launch_bounds__")


def launch_bounds(code):
    """``{kernel name: (template parameter list or None, max-threads expression)}`` for every
    kernel declared with ``__launch_bounds__(expr[, ...])`` in ``code``."""
    found = {}
    for match in re.finditer(r"__launch_bounds__\s*\(", code):
        end = _balanced(code, match.end() - 1)
        arguments = code[match.end():end - 1]
        depth, first = 0, arguments
        for i, char in enumerate(arguments):   # the first top-level argument
            depth += {"(": 1, ")": -1, "<": 1, ">": -1}.get(char, 0)
            if char == "," and depth == 0:
                first = arguments[:i]
                break
        name = re.match(r"\s*(\w+)\s*\(", code[end:])
        if not name:
            continue
        declaration_start = max(code.rfind(";", 0, match.start()), code.rfind("}", 0, match.start()))
        template = re.search(r"template\s*<(.*)>\s*__global__", code[declaration_start + 1:match.start()],
                             re.S)
        found[name.group(1)] = (template.group(1).strip() if template else None, first.strip())
    return found


def registration_source(code, name_expressions, source_name="kernel.cu"):
    """The C++ file that makes ``code``'s kernels launchable by name expression."""
    bounds = launch_bounds(code)
    lines = ['#include "cuda_emu.h"', '#include "registry.h"', f'#line 1 "{source_name}"', code,
             "", "// generated by minigan.emulator: one table entry per name expression"]
    for name, (template, expression) in bounds.items():
        head = f"template <{template}> " if template else ""
        lines.append(f"{head}constexpr unsigned emu_bounds_{name} = ({expression});")
    entries = []
    for expression in name_expressions:
        name, _, arguments = expression.partition("<")
        name = name.strip()
        bound = (f"emu_bounds_{name}" + (f"<{arguments}" if arguments else "")
                 if name in bounds else "1024u")
        entries.append(f'    emu_entry("{expression}", &{expression}, {bound}),')
    lines += [f"const EmuEntry emu_entries[{max(len(entries), 1)}] = {{", *entries, "};",
              f"const int emu_entry_count = {len(entries)};", ""]
    return "\n".join(lines)


_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


def parameter_names(code, name):
    """The parameter names of the kernel ``name``'s definition in ``code`` (None for one
    without a name), or None when ``code`` has no single definition of it."""
    code = _COMMENT.sub(" ", code)
    found = []
    for match in re.finditer(rf"\b{re.escape(name)}\s*\(", code):
        end = _balanced(code, match.end() - 1)
        if code[end:].lstrip().startswith("{"):
            found.append(code[match.end():end - 1])
    if len(found) != 1:
        return None
    names, depth, part = [], 0, ""
    for char in found[0] + ",":
        depth += {"(": 1, ")": -1, "<": 1, ">": -1}.get(char, 0)
        if char == "," and depth == 0:
            words = re.findall(r"[A-Za-z_]\w*", part.split("=")[0])
            names.append(words[-1] if len(words) > 1 and words[-1] not in _TYPE_WORDS else None)
            part = ""
        else:
            part += char
    return names


_TYPE_WORDS = {"int", "unsigned", "long", "float", "double", "char", "short", "const",
               "__restrict__", "i64", "T"}


def _source_name(code):
    """A file name for compiler messages: the one a leading ``// name.cu:`` comment gives."""
    first = re.match(r"\s*//\s*([\w.\-]+\.cu[h]?)\b", code)
    return first.group(1) if first else "kernel.cu"


def _include_dirs(options):
    dirs = []
    for option in options:
        if option.startswith("-I"):
            dirs.append(option[2:])
        elif option.startswith("--include-path="):
            dirs.append(option.split("=", 1)[1])
    return dirs


def _defines(options):
    return [option for option in options if option.startswith("-D")]


# --- compiling ----------------------------------------------------------------------------------

def _compiler_or_error():
    cxx = compiler()
    if cxx is None:
        raise RuntimeError("the CUDA emulator needs a C++ compiler: g++ was not found on PATH "
                           "(Debian/Ubuntu: apt install g++)")
    return cxx


def _cached_build(command, source_text, key_parts, stem, what):
    """The library that ``command`` + a file holding ``source_text`` builds, from the cache
    when a build with the same ``key_parts`` is there; RuntimeError with the compiler's
    messages when it does not compile."""
    key = hashlib.sha256()
    for part in key_parts:
        key.update(part if isinstance(part, bytes) else part.encode())
    library = cache_dir() / f"{stem}{key.hexdigest()[:32]}.so"
    if library.is_file():
        return library
    library.parent.mkdir(parents=True, exist_ok=True)
    print(f"minigan emulator: compiling {what} with g++ into {library.parent} "
          f"(MINIGAN_EMULATOR_CACHE sets the folder)", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(dir=library.parent) as work:
        source, output = Path(work) / "module.cpp", Path(work) / "module.so"
        source.write_text(source_text, encoding="utf-8")
        built = subprocess.run(command + [str(source), "-o", str(output)], capture_output=True,
                               text=True, timeout=COMPILE_TIMEOUT_S)
        if built.returncode != 0:
            raise RuntimeError(f"the CUDA emulator could not compile {what}:\n"
                               + (built.stderr or built.stdout)[-6000:])
        os.replace(output, library)   # atomic: another process sees all of it or nothing
    return library


def _emulator_sources():
    return [(HERE / name).read_text(encoding="utf-8") for name in SOURCES]


def build_runtime():
    """Compile runtime.cpp (or take it from the cache); returns the .so's path."""
    command = [_compiler_or_error(), *RUNTIME_FLAGS]
    return _cached_build(command, (HERE / "runtime.cpp").read_text(encoding="utf-8"),
                         [" ".join(command)] + _emulator_sources(), "runtime-",
                         "the emulator's runtime")


def build_library(code, options=(), name_expressions=()):
    """Compile ``code`` for the emulator (or take it from the cache); returns the .so's path.

    Raises RuntimeError with the compiler's messages when the source does not compile.
    """
    name = _source_name(code)
    generated = registration_source(code, name_expressions, name)
    checks = CHECK_FLAGS if runtime().emu_runtime_shadow() else ()
    command = [_compiler_or_error(), *KERNEL_FLAGS, *checks, f"-I{HERE}"] \
        + [f"-I{d}" for d in _include_dirs(options)] + _defines(options)
    headers = [header.read_bytes() for directory in _include_dirs(options)
               for header in sorted(Path(directory).glob("*.cuh"))]   # what the source may include
    return _cached_build(command, generated, [generated, " ".join(command)]
                         + _emulator_sources() + headers, "", f"{name}")


_runtime = []   # the runtime library, once loaded


def runtime():
    """The runtime library, built and loaded (globally, so kernel libraries link to it) once."""
    if not _runtime:
        lib = ctypes.CDLL(str(build_runtime()), mode=ctypes.RTLD_GLOBAL)
        lib.emu_runtime_last_error.restype = ctypes.c_char_p
        lib.emu_runtime_last_error.argtypes = []
        lib.emu_runtime_fault.restype = ctypes.POINTER(Fault)
        lib.emu_runtime_fault.argtypes = []
        lib.emu_runtime_zones.restype = None
        lib.emu_runtime_zones.argtypes = [ctypes.POINTER(ctypes.c_uint64),
                                          ctypes.POINTER(ctypes.c_uint64), ctypes.c_int]
        lib.emu_runtime_shadow.restype = ctypes.c_int
        lib.emu_runtime_shadow.argtypes = []
        _runtime.append(lib)
    return _runtime[0]


class Fault(ctypes.Structure):
    """runtime.cpp's record of the access that stopped a launch."""
    _fields_ = [("address", ctypes.c_uint64), ("size", ctypes.c_uint64), ("write", ctypes.c_int),
                ("thread", ctypes.c_uint), ("block_x", ctypes.c_uint), ("block_y", ctypes.c_uint),
                ("block_z", ctypes.c_uint)]


def _load(library):
    runtime()
    lib = ctypes.CDLL(str(library))
    lib.emu_signature.restype = ctypes.c_char_p
    lib.emu_signature.argtypes = [ctypes.c_char_p]
    lib.emu_max_threads.restype = ctypes.c_uint
    lib.emu_max_threads.argtypes = [ctypes.c_char_p]
    lib.emu_launch.restype = ctypes.c_int
    lib.emu_launch.argtypes = ([ctypes.c_char_p] + [ctypes.c_uint] * 6
                               + [ctypes.POINTER(ctypes.c_void_p)])
    return lib


def out_of_bounds(kernel, fault, arrays_by_index, names):
    """The message for ``fault`` (an access in a guard zone): the argument whose array is
    nearest to it, the element of it that the access meant, the thread and the block."""
    def distance(array):
        start = array.ctypes.data
        return max(start - fault.address, fault.address + 1 - (start + array.nbytes), 0)

    index = min(arrays_by_index, key=lambda i: distance(arrays_by_index[i]))
    array = arrays_by_index[index]
    name = names[index] if names and index < len(names) and names[index] else None
    label = (f"{name} (argument {index}: " if name else f"argument {index} (") \
        + f"{array.dtype} {array.shape})"
    offset = fault.address - array.ctypes.data
    element, rest = divmod(offset, array.itemsize)
    at = f"element {element}" + (f" + {rest} bytes" if rest else "")
    last = f"its last element {array.size - 1}" if array.size else "the end of an empty array"
    side = ("before its first element 0" if offset < 0 else f"past {last}"
            if offset >= array.nbytes else f"{fault.size} bytes from there run past {last}")
    return (f"{kernel}: out-of-bounds {'write' if fault.write else 'read'} of {label}: {at}, "
            f"{side} (byte offset {offset}); by thread {fault.thread} of block ({fault.block_x}, "
            f"{fault.block_y}, {fault.block_z})")


# --- CuPy's API ---------------------------------------------------------------------------------

launch_log = []   # (kernel, grid, block) of every launch, for tests that check launch plans


class RawModule:
    """CuPy's ``RawModule`` on the emulator: compiles ``code`` and hands out its kernels."""

    def __init__(self, code=None, options=(), name_expressions=(), **kwargs):
        if code is None:
            raise ValueError("RawModule on the CUDA emulator needs code= (the kernel source)")
        self.name_expressions = tuple(name_expressions)
        self.code = code
        self.library = _load(build_library(code, tuple(options), self.name_expressions))

    def get_function(self, name):
        return RawKernel(self.library, name, parameter_names(self.code, name.split("<")[0]))


class RawKernel:
    """One kernel of a compiled module, launched as ``kernel(grid, block, args)``."""

    def __init__(self, library, name, parameters=None):
        self.library, self.name, self.parameters = library, name, parameters
        signature = library.emu_signature(name.encode())
        if signature is None:
            raise RuntimeError(f"emulator: no kernel named {name!r} in this module (was it in "
                               "name_expressions?)")
        self.signature = signature.decode()
        self.max_threads = library.emu_max_threads(name.encode())

    def __call__(self, grid, block, args, **kwargs):
        grid = tuple(grid) + (1,) * (3 - len(grid))
        block = tuple(block) + (1,) * (3 - len(block))
        self._check_geometry(grid, block)
        if len(args) != len(self.signature):
            raise TypeError(f"{self.name}: {len(args)} arguments for a kernel with "
                            f"{len(self.signature)} parameters")
        keep, params = [], (ctypes.c_void_p * len(args))()
        for i, (code, arg) in enumerate(zip(self.signature, args)):
            value = self._argument(i, code, arg)
            keep.append(value)
            params[i] = ctypes.cast(ctypes.pointer(value), ctypes.c_void_p)
        pointers = {i: arg for i, (code, arg) in enumerate(zip(self.signature, args))
                    if code == "p"}
        zones = [zone for a in pointers.values() for zone in arrays.guard_zones(a)]
        run = runtime()
        run.emu_runtime_zones((ctypes.c_uint64 * len(zones))(*(b for b, _ in zones)),
                              (ctypes.c_uint64 * len(zones))(*(e for _, e in zones)), len(zones))
        launch_log.append((self.name, grid, block))
        status = self.library.emu_launch(self.name.encode(), *grid, *block, params)
        if status != 0:
            fault = run.emu_runtime_fault()
            if fault:
                raise RuntimeError(out_of_bounds(self.name, fault.contents, pointers,
                                                 self.parameters))
            raise RuntimeError(f"emulated launch of {self.name} failed: "
                               f"{run.emu_runtime_last_error().decode() or status}")
        for i, (code, arg) in enumerate(zip(self.signature, args)):
            if code == "p":
                arrays.check_guards(self.name, i, arg)

    def _check_geometry(self, grid, block):
        for size in grid + block:
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                raise ValueError(f"{self.name}: grid {grid} and block {block} must be positive "
                                 "Python ints")
        if grid[0] > GRID_X_LIMIT or grid[1] > GRID_YZ_LIMIT or grid[2] > GRID_YZ_LIMIT:
            raise ValueError(f"{self.name}: grid {grid} is over CUDA's limits "
                             f"({GRID_X_LIMIT}, {GRID_YZ_LIMIT}, {GRID_YZ_LIMIT})")
        threads = block[0] * block[1] * block[2]
        if threads > min(BLOCK_LIMIT, self.max_threads):
            raise ValueError(f"{self.name}: block {block} has {threads} threads, over the "
                             f"kernel's launch bound {min(BLOCK_LIMIT, self.max_threads)}")

    def _argument(self, i, code, arg):
        if code == "p":
            if not isinstance(arg, arrays.ndarray):
                raise TypeError(f"{self.name}: argument {i} must be an array of the emulated "
                                f"device, got {type(arg).__name__}")
            if not arg.flags.c_contiguous:
                raise ValueError(f"{self.name}: argument {i} is not C-contiguous")
            if arg._device_id != arrays.current_device_id():
                raise ValueError(f"{self.name}: argument {i} is on device {arg._device_id}, the "
                                 f"launch on device {arrays.current_device_id()}")
            return ctypes.c_void_p(arg.ctypes.data)
        kind, ctype = SCALARS[code]
        if type(arg) is not kind:
            raise TypeError(f"{self.name}: argument {i} must be numpy.{kind.__name__} (the "
                            f"kernel's parameter type), got {type(arg).__name__}")
        return ctype(arg.item())
