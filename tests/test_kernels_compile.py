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
        for ctype, tile in re.findall(rf"^{macro}\((\w+), (\w+)\)", text, flags=re.M):
            instantiated.update(f"{kernel}<{ctype}, {tile}>" for kernel in kernels)
    missing = [e for e in expressions if e not in instantiated]
    assert not missing, f"{filename} does not instantiate {missing}"


def test_python_tile_table_matches_conv2d_cu():
    text = _source("conv2d.cu")
    for tile in plans.WEIGHT_TILES:
        body = re.search(rf"struct {tile.name} \{{(.*?)\}};", text, flags=re.S).group(1)
        values = dict(re.findall(r"(\w+) = (\d+)", body))
        assert (int(values["BM"]), int(values["BN"]), int(values["BK"])) == \
            (tile.bm, tile.bn, tile.bk), tile.name
        tm, tn = int(values["TM"]), int(values["TN"])
        assert (tile.bm // tm) * (tile.bn // tn) == tile.threads, tile.name
    for tile in plans.PIXEL_TILES:   # forward / grad input: one thread per pixel column
        assert tile.threads == tile.bn


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


def _nvrtc_compile(lib, code, filename, options, expressions):
    """PTX and lowered names of ``expressions``, or raise with NVRTC's log."""
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
        assert status == 0 and not log.value.strip(), log.value.decode()
        lowered = {}
        for expression in expressions:
            name = ctypes.c_char_p()
            assert lib.nvrtcGetLoweredName(prog, expression.encode(), ctypes.byref(name)) == 0
            lowered[expression] = name.value.decode()
        lib.nvrtcGetPTXSize(prog, ctypes.byref(size))
        ptx = ctypes.create_string_buffer(size.value)
        assert lib.nvrtcGetPTX(prog, ptx) == 0
        return ptx.value.decode(), lowered
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
            ptx, lowered = _nvrtc_compile(lib, code, filename, options, expressions)
        except AssertionError as error:
            _skip_when_builtins_are_missing(nvrtc, str(error))
            raise
        for expression, name in lowered.items():
            assert f".entry {name}(" in ptx, expression
