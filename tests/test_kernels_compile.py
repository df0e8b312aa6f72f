"""CPU tests of the CUDA sources: they compile with nvcc (sm_80, sm_90, warnings as errors) when
nvcc is installed, and what minigan.cuda asks NVRTC for is really in them."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from minigan.cuda import plans
from minigan.cuda.compiler import SOURCES

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "compile_kernels.sh"
KERNELS = ROOT / "kernels"


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH")
def test_every_kernel_compiles_cleanly_for_sm80_and_sm90():
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    for source in sorted(KERNELS.glob("*.cu")):
        assert f"ok     {source.name}" in result.stdout


def test_compile_script_skips_without_nvcc(tmp_path):
    # A PATH with the shell tools the script uses, and no nvcc.
    for tool in ("dirname", "basename", "mktemp", "rm"):
        (tmp_path / tool).symlink_to(shutil.which(tool))
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    bash = shutil.which("bash")
    result = subprocess.run([bash, str(SCRIPT)], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0 and "nvcc not found" in result.stdout


def _source(filename):
    return (KERNELS / filename).read_text(encoding="utf-8")


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_every_name_expression_is_explicitly_instantiated(module):
    """NVRTC can only hand out kernels that exist; nvcc only checks instantiated templates."""
    filename, expressions = SOURCES[module]
    text = _source(filename)
    instantiated = set()
    for name, args in re.findall(r"template __global__ void (\w+)<([^>]*)>", text):
        instantiated.add(f"{name}<{', '.join(a.strip() for a in args.split(','))}>")
    # conv2d.cu instantiates through two macros: expand them by hand.
    for macro, kernels in (("MINIGAN_PIXEL_TILE", ("conv2d_forward", "conv2d_backward_input")),
                           ("MINIGAN_WEIGHT_TILE", ("conv2d_backward_weight",))):
        for ctype, tile in re.findall(rf"^{macro}\((\w+), ([\w<>]+)\)", text, flags=re.M):
            instantiated.update(f"{kernel}<{ctype}, {tile}>" for kernel in kernels)
    missing = [e for e in expressions if e not in instantiated]
    assert not missing, f"{filename} does not instantiate {missing}"


def test_python_tile_table_matches_gemm_cuh():
    text = _source("gemm.cuh")
    for tile in plans.WEIGHT_TILES:
        body = re.search(rf"struct {tile.name} \{{(.*?)\}};", text, flags=re.S).group(1)
        values = dict(re.findall(r"(\w+) = (\d+)", body))
        assert (int(values["BM"]), int(values["BN"]), int(values["BK"])) == \
            (tile.bm, tile.bn, tile.bk), tile.name
        tm, tn = int(values["TM"]), int(values["TN"])
        assert (tile.bm // tm) * (tile.bn // tn) == tile.threads, tile.name
    for tile in plans.PIXEL_TILES + plans.TF32_PIXEL_TILES:   # one thread per pixel column
        assert tile.threads == tile.bn


@pytest.mark.parametrize("tile", plans.TF32_WEIGHT_TILES, ids=lambda tile: tile.name)
def test_every_tf32_tile_has_a_warp_layout_covering_its_threads(tile):
    """Tf32<T> keeps T's block shape; its warps (WARPS_M x WARPS_N) are all of T's threads."""
    inner = tile.name[len("Tf32<"):-1]
    match = re.search(rf"struct Tf32<{inner}> : Tf32Layout<{inner}, (\d+), (\d+)>",
                      _source("gemm.cuh"))
    assert match, f"gemm.cuh has no Tf32<{inner}> layout"
    warps_m, warps_n = int(match.group(1)), int(match.group(2))
    assert warps_m * warps_n * 32 == tile.threads
    assert (tile.bm // warps_m) % 16 == 0 and (tile.bn // warps_n) % 8 == 0


@pytest.mark.parametrize("filename", ["conv2d.cu", "maxpool2d.cu", "patch_xent.cu"])
def test_kernel_header_names_its_reference_and_entry_points(filename):
    text = _source(filename)
    header = text[:text.index("#include")]
    assert "Reference: minigan/reference/" in header
    for name in set(re.findall(r"template __global__ void (\w+)<", text)) | (
            {"conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight"}
            if filename == "conv2d.cu" else set()):
        assert name in header, f"{filename}: entry point {name} missing from the header comment"
        assert "grid" in header


# --- NVRTC: the compiler CuPy really uses --------------------------------------------------------

def _nvrtc_paths():
    """Every libnvrtc found, one per major version: $MINIGAN_NVRTC_LIB (a path, or several
    joined by ':'), the nvidia-cuda-nvrtc wheels on sys.path (CUDA 12 and 13), the system's."""
    import ctypes.util
    import glob
    import os
    import sys
    candidates = [path for path in os.environ.get("MINIGAN_NVRTC_LIB", "").split(":") if path]
    for root in sys.path:
        candidates += sorted(glob.glob(os.path.join(root, "nvidia", "*", "lib", "libnvrtc.so.*")))
    candidates.append(ctypes.util.find_library("nvrtc") or "")
    found = {}
    for path in candidates:
        name = os.path.basename(path)
        if path and "builtins" not in name and "alt" not in name:
            major = name.split(".so.")[-1].split(".")[0] if ".so." in name else name
            found.setdefault(major, path)
    return sorted(found.values())


NVRTC_PATHS = _nvrtc_paths()


def _load_nvrtc(path):
    """ctypes handle of libnvrtc at ``path``, with its libnvrtc-builtins loaded first.

    NVRTC opens ``libnvrtc-builtins.so.MAJOR.MINOR`` by name when it compiles. Some wheels
    (nvidia-cuda-nvrtc 13.0.88, pulled in by PyTorch's CUDA 13 wheels) ship it beside libnvrtc
    without an RPATH that would find it there; a library already loaded under that name is
    used instead, so load the one in the same folder first.
    """
    import ctypes
    import glob
    import os
    for builtins in sorted(glob.glob(os.path.join(os.path.dirname(path),
                                                  "libnvrtc-builtins.so.*"))):
        if ".alt." not in builtins:
            try:
                ctypes.CDLL(builtins, mode=ctypes.RTLD_GLOBAL)
            except OSError:
                pass  # the compile below then says what is missing
    return ctypes.CDLL(path)


def _skip_when_builtins_are_missing(nvrtc, log):
    """Skip (unless CI requires NVRTC) when this NVRTC cannot find its builtins library: a
    broken install on this machine, not a fault of the kernels."""
    import os
    if "libnvrtc-builtins" in log and os.environ.get("MINIGAN_REQUIRE_NVRTC") != "1":
        pytest.skip(f"{nvrtc} cannot open its libnvrtc-builtins ({log.strip().splitlines()[0]}); "
                    "put its folder on LD_LIBRARY_PATH")


def _nvrtc_compile(lib, code, filename, options, expressions, ptx=True):
    """(PTX or None, lowered names of ``expressions``, NVRTC's log); raises with the log when
    the compile fails."""
    import ctypes
    prog = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), code.encode(), filename.encode(), 0,
                                  None, None) == 0
    try:
        for expression in expressions:
            assert lib.nvrtcAddNameExpression(prog, expression.encode()) == 0
        args = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
        status = lib.nvrtcCompileProgram(prog, len(options), args)
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(prog, log)
        assert status == 0, log.value.decode()
        lowered = {}
        for expression in expressions:
            name = ctypes.c_char_p()
            assert lib.nvrtcGetLoweredName(prog, expression.encode(), ctypes.byref(name)) == 0
            lowered[expression] = name.value.decode()
        if not ptx:
            return None, lowered, log.value.decode()
        lib.nvrtcGetPTXSize(prog, ctypes.byref(size))
        text = ctypes.create_string_buffer(size.value)
        assert lib.nvrtcGetPTX(prog, text) == 0
        return text.value.decode(), lowered, log.value.decode()
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))


def test_nvrtc_is_found_where_ci_asks_for_it():
    """CI installs the NVRTC wheels and sets MINIGAN_REQUIRE_NVRTC=1, so that the NVRTC test
    below fails rather than skips there when the library cannot be found."""
    import os
    if os.environ.get("MINIGAN_REQUIRE_NVRTC") == "1":
        assert NVRTC_PATHS, "MINIGAN_REQUIRE_NVRTC=1 but no libnvrtc was found"
    else:
        pytest.skip("MINIGAN_REQUIRE_NVRTC is not set")


@pytest.mark.parametrize("module", sorted(SOURCES))
@pytest.mark.parametrize("nvrtc", NVRTC_PATHS or [None], ids=lambda path: (
    path.rsplit("/", 1)[-1] if path else "no-nvrtc"))
def test_nvrtc_compiles_every_name_expression_without_a_warning(module, nvrtc):
    """What minigan.cuda hands CuPy's RawModule, compiled by each NVRTC found (no GPU needed;
    skips without one: `pip install nvidia-cuda-nvrtc-cu12 nvidia-cuda-nvrtc`)."""
    if nvrtc is None:
        pytest.skip("libnvrtc not found (pip install nvidia-cuda-nvrtc-cu12 nvidia-cuda-nvrtc)")
    lib = _load_nvrtc(nvrtc)
    filename, expressions = SOURCES[module]
    code = (KERNELS / filename).read_text(encoding="utf-8")
    for arch in ("compute_80", "compute_90"):
        options = ["--std=c++17", f"-I{KERNELS}", f"-arch={arch}"]
        try:
            ptx, lowered, log = _nvrtc_compile(lib, code, filename, options, expressions)
        except AssertionError as error:
            _skip_when_builtins_are_missing(nvrtc, str(error))
            raise
        assert not log.strip(), log
        for expression, name in lowered.items():
            assert f".entry {name}(" in ptx, expression


# What CuPy's RawModule adds to minigan.cuda's options (cupy/cuda/compiler.py): flush-to-zero,
# device as the default execution space, and the device's real architecture (a cubin).
CUPY_NVRTC_OPTIONS = ["-ftz=true", "--device-as-default-execution-space"]


def nvrtc_resource_usage(lib, module, arch):
    """{name expression: (registers, spill store bytes, spill load bytes, shared bytes)} of
    ``module`` built as CuPy builds it for ``arch`` (sm_80, sm_90), read from ptxas -v."""
    filename, expressions = SOURCES[module]
    options = (["--std=c++17", f"-I{KERNELS}", f"-arch={arch}"] + CUPY_NVRTC_OPTIONS
               + ["--ptxas-options=-v"])
    _, lowered, log = _nvrtc_compile(lib, (KERNELS / filename).read_text(encoding="utf-8"),
                                     filename, options, expressions, ptx=False)
    usage = {}
    for entry in re.split(r"Compiling entry function ", log)[1:]:
        name = entry.split("'")[1]
        spills = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", entry)
        used = re.search(r"Used (\d+) registers(?:.*?(\d+) bytes smem)?", entry)
        usage[name] = (int(used.group(1)), int(spills.group(1)), int(spills.group(2)),
                       int(used.group(2) or 0))
    return {expression: usage[name] for expression, name in lowered.items()}


# The kernels that carry the SimGAN convolutions must not spill (the tiny 1- and 2-filter
# layers' grad-weight tiles may: they are a fraction of a percent of an iteration).
NO_SPILLS = [e for e in SOURCES["conv2d"][1] if "TileBig" in e and "float" in e]


@pytest.mark.parametrize("nvrtc", NVRTC_PATHS or [None], ids=lambda path: (
    path.rsplit("/", 1)[-1] if path else "no-nvrtc"))
def test_nvrtc_resource_usage_of_cupys_build(nvrtc):
    """Registers, spills and occupancy of every kernel as CuPy's NVRTC builds it for sm_80 and
    sm_90, printed as a table (shown by pytest -s, or .ci/compile_kernels.sh with VERBOSE=1);
    written as JSON to $MINIGAN_KERNEL_USAGE when set. Every kernel fits its launch; the big
    conv tiles do not spill."""
    import ctypes
    import json
    import os
    if nvrtc is None:
        pytest.skip("libnvrtc not found (pip install nvidia-cuda-nvrtc-cu12 nvidia-cuda-nvrtc)")
    lib = _load_nvrtc(nvrtc)
    version = (ctypes.c_int(), ctypes.c_int())
    lib.nvrtcVersion(ctypes.byref(version[0]), ctypes.byref(version[1]))
    threads = {"sum_partials": 1024, "conv2d_backward_bias": 256, "reduce_splits": 256,
               "max_pool2d": 256, "patch_xent": 256}
    rows, report = [], {}
    for arch in ("sm_80", "sm_90"):
        for module in sorted(SOURCES):
            for expression, (regs, stores, loads, smem) in nvrtc_resource_usage(
                    lib, module, arch).items():
                block = next((n for prefix, n in threads.items()
                              if expression.startswith(prefix)), 128)
                blocks = plans.blocks_per_sm(regs, block, smem)
                assert blocks >= 1, f"{expression} ({arch}) cannot run {block} threads a block"
                if expression in NO_SPILLS:
                    assert stores == loads == 0, f"{expression} ({arch}) spills"
                report[f"{arch} {expression}"] = {"registers": regs, "spill_stores": stores,
                                                  "spill_loads": loads, "shared_bytes": smem,
                                                  "threads": block, "blocks_per_sm": blocks}
                rows.append(f"{arch}  {expression:48} {regs:4} {stores:4}/{loads:<4} {smem:6} "
                            f"{block:5} {blocks:3}")
    if os.environ.get("MINIGAN_KERNEL_USAGE"):
        with open(os.environ["MINIGAN_KERNEL_USAGE"], "w", encoding="utf-8") as out:
            json.dump(report, out, indent=1)
    print(f"\nNVRTC {version[0].value}.{version[1].value} ({nvrtc}), CuPy's options:")
    print(f"arch   {'kernel':48} regs spill st/ld  smem threads blocks/SM")
    print("\n".join(rows))
