#!/usr/bin/env bash
# Compile every kernels/*.cu with nvcc for sm_80 (A100) and sm_90 (H100); any warning is an error.
#
#   .ci/compile_kernels.sh            # from anywhere; exit 0 = all clean
#   VERBOSE=1 .ci/compile_kernels.sh  # also print ptxas register / shared-memory / spill usage
#                                     # of nvcc's build, then of the build CuPy really makes
#                                     # (NVRTC with CuPy's options, when libnvrtc is found)
#
# At run time CuPy compiles the same sources with NVRTC (minigan/cuda/), whose register counts
# differ from nvcc's; this is the no-GPU check that they build. Skips (exit 0) with a message
# when nvcc is not installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kernels="$here/kernels"

if ! command -v nvcc >/dev/null 2>&1; then
    echo "compile_kernels: nvcc not found on PATH; skipping the CUDA compile check"
    exit 0
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

flags=(-std=c++17 -I"$kernels" -c
       -gencode arch=compute_80,code=sm_80
       -gencode arch=compute_90,code=sm_90
       -Werror all-warnings -Xptxas -Werror
       -Xcompiler -Wall,-Wextra,-Werror)
if [[ "${VERBOSE:-0}" != "0" ]]; then
    flags+=(-Xptxas -v)
fi

status=0
shopt -s nullglob
sources=("$kernels"/*.cu "$kernels"/dev/*.cu)
if [[ ${#sources[@]} -eq 0 ]]; then
    echo "compile_kernels: no .cu files in $kernels" >&2
    exit 1
fi
for source in "${sources[@]}"; do
    name="$(basename "$source" .cu)"
    if nvcc "${flags[@]}" "$source" -o "$out/$name.o"; then
        echo "compile_kernels: ok     $name.cu"
    else
        echo "compile_kernels: FAILED $name.cu" >&2
        status=1
    fi
done
if [[ "${VERBOSE:-0}" != "0" ]]; then
    echo "compile_kernels: the NVRTC build CuPy makes (tests/test_kernels_compile.py -k usage):"
    (cd "$here" && PYTHONPATH="$here" python3 -m pytest -q -p no:cacheprovider -s \
        tests/test_kernels_compile.py -k usage) || status=1
fi
exit $status
