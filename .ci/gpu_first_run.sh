#!/usr/bin/env bash
# The first run on a real GPU, in one command that fits one 10-minute call (about 5 minutes on
# an H200) and leaves at most 8 files, none over 16 MiB, directly in OUT:
#
#   OUT=/some/folder bash .ci/gpu_first_run.sh     # the files to bring back land in $OUT
#   SCALE=tiny OUT=... bash .ci/gpu_first_run.sh   # the same plan at toy sizes on minigan's CPU
#                                                  # emulator (MINIGAN_DEVICE=emulator, no GPU):
#                                                  # proves it runs end to end; timings meaningless
#
# Stages, each under its own `timeout` (cap in seconds, cut further so that the whole run ends
# by DEADLINE: 540 s, 900 s for SCALE=tiny), so a hang or a failure still leaves the other
# stages' results:
#
#   facts   nvidia-smi                                                                 15
#   probe   python -m minigan.gpu_probe: versions, NVRTC compile time, registers and
#           occupancy per kernel as CuPy builds them, launch overhead, bandwidth, every
#           conv pass at batch 512 in fp32 and TF32 vs cuDNN fp32                      75
#   tests   pytest -m gpu: every test on the cuda device (kernels vs NumPy references,
#           engine, fused conv, kernel lab)                                            100
#   bench   python -m minigan.bench: every layer, fp32 and TF32 vs cuDNN fp32 and TF32,
#           measured peaks, one whole SimGAN iteration vs PyTorch                      100
#   train   train_eyes: 8192 eyes, 200 + 50 pretraining steps, 500 iterations,
#           batch 512, TF32 (the default)                                              180
#   eval    evaluate_gaze on its refiner: 8192 training eyes, 1000 test, 500 steps      90
#
# Files in OUT: summary.txt probe.json tests.log bench.json train_log.jsonl samples.png
# refiner.npz (the averaged refiner's weights, ~1.2 MB) logs.tar.gz (every log, JSON and
# PNG of the stages, no checkpoints). The summary is printed last. Needs CuPy, pytest (and
# torch for cuDNN) in `python3`; uses the package from this checkout; no network.
#
# SCALE=tiny runs every stage on the emulator instead: the probe with --device emulator (the
# facts only a GPU has read "needs a real GPU"), pytest -m emulator (the same tests on the
# emulator, less the end-to-end SimGAN test that the train and eval stages repeat), and the
# benchmark, training and evaluation with --device emulator at toy sizes; it needs g++ and
# pytest, not CuPy, and takes about 5 minutes on two CPU cores.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-$here/first_run_out}"
scale="${SCALE:-full}"
deadline="${DEADLINE:-540}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$here"
python=python3

if [[ "$scale" == tiny ]]; then
    device=emulator
    tests_args=(-m emulator -k "not simgan_trains_resumes_refines_and_evaluates")
    probe_args=(--batch 2 --copy-mib 8)
    bench_args=(--batch 2 --height 12 --width 16 --repeats 1 --warmup 0 --gemm-size 256)
    train_args=(--n 64 --batch-size 8 --channels 8 --blocks 1 --discriminator-width 0.25
                --history-batches 8 --pretrain-refiner-steps 2 --pretrain-discriminator-steps 2
                --steps 3 --k-g 1 --k-d 1 --sample-every 2 --checkpoint-every 2)
    eval_args=(--preset tiny)
    caps=(facts:15 probe:120 tests:300 bench:300 train:300 eval:240)
    deadline="${DEADLINE:-900}"
else
    device=cuda
    tests_args=(-m gpu)
    probe_args=(--batch 512)
    bench_args=()
    train_args=(--n 8192 --batch-size 512 --pretrain-refiner-steps 200
                --pretrain-discriminator-steps 50 --steps 500 --sample-every 100
                --checkpoint-every 100)
    eval_args=(--train-n 8192 --test-n 1000 --steps 500)
    caps=(facts:15 probe:75 tests:100 bench:100 train:180 eval:90)
fi
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MINIGAN_DEVICE=$device
export CUPY_CACHE_DIR="$work/cupy_cache"   # empty: the probe times NVRTC itself, once

stage_facts() {
    if command -v nvidia-smi >/dev/null 2>&1; then
        nvidia-smi
        nvidia-smi --format=csv \
            --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.sm,power.limit
    else
        echo "nvidia-smi not found"
    fi
    $python -c "import sys, numpy; print('python', sys.version.split()[0], numpy.__version__)"
}
stage_probe() {
    $python -m minigan.gpu_probe --device "$device" "${probe_args[@]}" --json "$work/probe.json"
}
stage_tests() {
    local extra=()
    $python -c "import pytest_timeout" 2>/dev/null && extra=(--timeout=90)
    $python -m pytest "${tests_args[@]}" tests/ -p no:cacheprovider -q -rfE --durations=15 \
        "${extra[@]}"
}
stage_bench() {
    $python -m minigan.bench --device "$device" "${bench_args[@]}" --json "$work/bench.json"
}
stage_train() {
    $python -m minigan.train_eyes --device "$device" --no-progress --out "$work/run" \
        "${train_args[@]}"
}
stage_eval() {
    $python -m minigan.evaluate_gaze --device "$device" --refiner "$work/run/checkpoints/last.npz" \
        --upper-bound --out "$work/eval" "${eval_args[@]}"
}

start_all=$SECONDS
: > "$work/stages.tsv"
for entry in "${caps[@]}"; do
    stage="${entry%%:*}"
    cap="${entry##*:}"
    left=$((deadline - (SECONDS - start_all) - 20))   # 20 s kept for collecting and the summary
    ((cap > left)) && cap=$left
    if ((cap < 5)); then
        echo "== $stage: skipped, no time left" | tee "$work/$stage.log"
        printf '%s\t%s\t%s\t%s\n' "$stage" skipped 0 0 >> "$work/stages.tsv"
        continue
    fi
    echo "== $stage (at most $cap s)"
    begin=$SECONDS
    # timeout runs the stage in its own process group and kills the whole group at the cap.
    timeout --kill-after=5 "$cap" bash -c "$(declare -f "stage_$stage"); \
        $(declare -p python device tests_args probe_args bench_args train_args eval_args work); \
        stage_$stage" \
        > "$work/$stage.log" 2>&1
    code=$?
    tail -n 5 "$work/$stage.log"
    echo "== $stage: exit $code after $((SECONDS - begin)) s"
    printf '%s\t%s\t%s\t%s\n' "$stage" "$code" "$((SECONDS - begin))" "$cap" >> "$work/stages.tsv"
done

# The files that come back: flat in OUT, 8 at most, each far below 16 MiB.
cp "$work/tests.log" "$out/tests.log" 2>/dev/null
for name in probe.json bench.json; do
    [[ -f "$work/$name" ]] && cp "$work/$name" "$out/$name"
done
[[ -f "$work/run/log.jsonl" ]] && cp "$work/run/log.jsonl" "$out/train_log.jsonl"
[[ -f "$work/run/samples/latest.png" ]] && cp "$work/run/samples/latest.png" "$out/samples.png"
if [[ -f "$work/run/checkpoints/last.npz" ]]; then
    $python -c "import sys; from minigan.simgan import load_refiner; \
load_refiner(sys.argv[1], device='cpu').save(sys.argv[2])" \
        "$work/run/checkpoints/last.npz" "$out/refiner.npz" || echo "could not extract the refiner"
fi
(cd "$work" && tar --exclude='*.npz' --exclude='cupy_cache' -czf "$out/logs.tar.gz" \
    ./*.log ./*.tsv ./*.json run eval 2>/dev/null)
$python -c "import sys; from minigan.benchmarks.first_run import summarize; \
sys.stdout.write(summarize(sys.argv[1], sys.argv[2]))" "$work" "$device" > "$out/summary.txt" 2>&1
ls -l "$out"
echo "== total $((SECONDS - start_all)) s"
cat "$out/summary.txt"
