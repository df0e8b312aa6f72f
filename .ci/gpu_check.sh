#!/usr/bin/env bash
# What to run on a machine with an NVIDIA GPU: the checks CI (which has no GPU) cannot make, at
# full size (15-20 minutes for `all`). For one 10-minute call, .ci/gpu_first_run.sh runs a short
# version of every stage (and SCALE=tiny rehearses it on the CPU emulator).
#
#   .ci/gpu_check.sh OUT tests      # pytest -m gpu: every kernel vs its NumPy reference, GPU engine
#   .ci/gpu_check.sh OUT bench      # python -m minigan.bench at batch 512 -> OUT/bench.json
#   .ci/gpu_check.sh OUT train      # the default GPU run of train_eyes -> OUT/run (resumes if there)
#   .ci/gpu_check.sh OUT eval       # evaluate_gaze (paper preset, upper bound) on OUT/run
#   .ci/gpu_check.sh OUT all        # the four, in that order
#
# TRAIN_ARGS and EVAL_ARGS add flags to train_eyes and evaluate_gaze, e.g. to fit a time limit:
#   EVAL_ARGS="--steps 3000 --train-n 20000" .ci/gpu_check.sh OUT eval
# Each stage writes its log to OUT/<stage>.log as well as to the terminal. Needs CuPy and
# pytest (and PyTorch for the cuDNN baselines) in the Python on PATH; the package is used from
# this checkout, so no install is needed. Stages that take long (train, eval) can be stopped
# and started again: train resumes from OUT/run/checkpoints/last.npz.
set -uo pipefail

if [[ $# -lt 2 ]]; then
    sed -n '2,17p' "$0"
    exit 2
fi
out="$(mkdir -p "$1" && cd "$1" && pwd)"
shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MINIGAN_DEVICE=cuda
python3 -c "import cupy; print('cupy', cupy.__version__, cupy.cuda.runtime.getDeviceProperties(0)['name'].decode())" \
    || { echo "gpu_check: CuPy cannot use a GPU here"; exit 1; }

stage_tests() { python3 -m pytest -q -m gpu tests/ -p no:cacheprovider; }
stage_bench() { python3 -m minigan.bench --json "$out/bench.json"; }
stage_train() {
    if [[ -f "$out/run/checkpoints/last.npz" ]]; then
        python3 -m minigan.train_eyes --no-progress --resume "$out/run" ${TRAIN_ARGS:-}
    else
        python3 -m minigan.train_eyes --no-progress --out "$out/run" ${TRAIN_ARGS:-}
    fi
}
stage_eval() {
    python3 -m minigan.evaluate_gaze --refiner "$out/run/checkpoints/last.npz" --upper-bound \
        --out "$out/eval" ${EVAL_ARGS:-}
}

status=0
if [[ " $* " == *" all "* ]]; then set -- tests bench train eval; fi
for stage in "$@"; do
    case "$stage" in
        tests|bench|train|eval) ;;
        *) echo "gpu_check: unknown stage '$stage' (tests, bench, train, eval, all)"; exit 2 ;;
    esac
    echo "== $stage"
    start=$SECONDS
    "stage_$stage" 2>&1 | tee "$out/$stage.log"
    code=${PIPESTATUS[0]}
    echo "== $stage: exit $code after $((SECONDS - start)) s" | tee -a "$out/$stage.log"
    [[ $code -eq 0 ]] || status=$code
done
exit $status
