"""CPU tests of the first-GPU-run plan: the script's time budget and devices, the summary it ends
with (after a GPU run and after the rehearsal on the emulator), the benchmark's pairing of
minigan rows with baselines of the same precision, and the probe on the emulator and without a
GPU."""
import functools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from minigan import backend, bench, gpu_probe
from minigan.benchmarks import first_run, gpu, probe
from minigan.benchmarks.timing import import_torch

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "gpu_first_run.sh"
CALL_LIMIT_S = 600   # one command on the GPU machine
STAGES = {"facts", "probe", "tests", "bench", "train", "eval"}


def _plans():
    """{"tiny": text, "full": text}: the script's two branches of settings."""
    text = SCRIPT.read_text(encoding="utf-8")
    tiny = text[text.index('if [[ "$scale" == tiny ]]; then'):text.index("\nelse\n")]
    full = text[text.index("\nelse\n"):text.index("\nfi\n")]
    return {"tiny": tiny, "full": full}


def _caps(plan):
    caps = dict(re.findall(r"(\w+):(\d+)", re.search(r"caps=\(([^)]*)\)", plan).group(1)))
    return {k: int(v) for k, v in caps.items()}


def _default_deadline(text):
    return int(re.search(r'deadline="\$\{DEADLINE:-(\d+)\}"', text).group(1))


def test_the_script_is_valid_bash():
    assert subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True).returncode == 0


def test_the_full_plan_fits_one_call_with_room_to_spare():
    """Every stage has a cap; the caps and the deadline keep the run under 10 minutes."""
    caps = _caps(_plans()["full"])
    assert set(caps) == STAGES
    deadline = _default_deadline(SCRIPT.read_text(encoding="utf-8"))
    assert sum(caps.values()) <= deadline + 60
    assert deadline + 30 <= CALL_LIMIT_S - 30


def test_the_tiny_plan_caps_every_stage_within_its_own_deadline():
    plan = _plans()["tiny"]
    caps = _caps(plan)
    assert set(caps) == STAGES
    assert max(caps.values()) < _default_deadline(plan) <= 900


def test_the_full_plan_runs_on_cuda_and_the_tiny_plan_on_the_emulator():
    plans = _plans()
    assert "device=cuda" in plans["full"] and "tests_args=(-m gpu)" in plans["full"]
    assert "device=emulator" in plans["tiny"] and "tests_args=(-m emulator" in plans["tiny"]
    stages = SCRIPT.read_text(encoding="utf-8").split("stage_facts()")[1].split("start_all=")[0]
    assert "--device cuda" not in stages and "-m gpu" not in stages   # only through the plan
    assert stages.count('--device "$device"') == 4   # probe, bench, train, eval


def _stage_files(folder):
    (folder / "run").mkdir()
    (folder / "eval").mkdir()
    (folder / "stages.tsv").write_text("facts\t0\t1\t15\nprobe\t0\t40\t75\ntests\t1\t60\t100\n"
                                       "bench\t124\t100\t100\n")
    kernel = {"registers": 141, "shared_bytes": 12800, "local_bytes": 0, "threads": 128,
              "blocks_per_sm_plan": 3, "blocks_per_sm_driver": 3}
    (folder / "probe.json").write_text(json.dumps({
        "versions": {"cupy": "14.2.0", "device": "NVIDIA H200"},
        "kernel_builds": {"conv2d": {"compile_s": 6.5, "kernels": {
            "conv2d_forward<float, TileBig>": kernel,
            "max_pool2d_forward<float>": dict(kernel, blocks_per_sm_driver=8)}}},
        "launch_overhead": {"conv2d_forward wrapper us": 9.0},
        "bandwidth": {"d2d_gbps": 4000.0},
        "convs_vs_reference": {"reference": "cudnn", "batch": 512, "layers": {
            "r_block": {"forward": {"fp32": 1e-6, "tf32": 3e-4},
                        "grad_input": {"fp32": 2e-6, "tf32": 4e-4}}}}}))
    (folder / "tests.log").write_text("..F\nFAILED tests/test_x.py::test_y - boom\n"
                                      "1 failed, 280 passed in 40.0s\n")
    rows = [{"layer": "r_block", "pass": "forward", "impl": impl, "ms": ms, "flops": 7e10,
             "bytes": 5e8} for impl, ms in (("minigan", 2.0), ("torch fp32", 1.6),
                                           ("minigan tf32", 0.6), ("torch tf32", 0.4))]
    iteration = [{"impl": impl, "ms": ms, "tflops": 2.4e12 / ms / 1e9} for impl, ms in (
        ("minigan", 100.0), ("minigan tf32", 45.0), ("torch fp32", 65.0), ("torch tf32", 28.0))]
    peaks = {"fp32_tflops": 55.0, "tf32_tflops": 380.0, "copy_gbps": 4100.0, "how": "test"}
    (folder / "bench.json").write_text(json.dumps({
        "device_name": "NVIDIA H200", "batch": 512, "notes": [],
        "gpu_summary": gpu.summary(rows, iteration, peaks)}))
    records = [{"phase": "pretrain_refiner", "images_per_s": 5000.0, "refiner_loss": 1.5},
               {"phase": "adversarial", "images_per_s": 9000.0, "realism_loss": 80.0,
                "elapsed_s": 90.0}]
    (folder / "run" / "log.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    (folder / "eval" / "table.md").write_text("| Training data | images |\n|---|---:|\n")


def test_summary_reports_every_stage(tmp_path):
    _stage_files(tmp_path)
    text = first_run.summarize(tmp_path)
    assert "tests       1       60   100  FAILED" in text
    assert "bench     124      100   100  TIMED OUT" in text
    assert "FAILED tests/test_x.py::test_y - boom" in text and "1 failed, 280 passed" in text
    assert "conv2d_forward<float, TileBig>" in text
    assert "max_pool2d_forward<float>" in text and "PLAN != DRIVER" in text
    assert "r_block  2.0e-06 / 4.0e-04" in text
    assert "adversarial: 1 steps, median 9000 images/s" in text
    assert "| Training data | images |" in text
    assert len(text) < 8000


def test_summary_names_what_is_missing(tmp_path):
    text = first_run.summarize(tmp_path)
    assert text.count("(missing:") == 6


def test_gpu_summary_pairs_each_precision_with_its_own_baseline():
    rows = [{"layer": "r_block", "pass": "forward", "impl": impl, "ms": ms, "flops": 7e10,
             "bytes": 5e8} for impl, ms in (("minigan", 2.0), ("torch fp32", 1.6),
                                           ("minigan tf32", 0.6), ("torch tf32", 0.4))]
    report = gpu.summary(rows, [], {"fp32_tflops": 70.0, "tf32_tflops": None})
    (entry,) = report["convs"]
    assert entry["minigan / torch fp32"] == pytest.approx(1.25)
    assert entry["minigan tf32 / torch tf32"] == pytest.approx(1.5)
    assert entry["minigan %peak"] == pytest.approx(50.0)
    assert "minigan tf32 %peak" not in entry          # no TF32 peak measured
    assert "1.25" in gpu.format_summary(report) and "1.50" in gpu.format_summary(report)


def test_counterpart_of_a_baseline_is_the_minigan_row_of_its_precision():
    assert gpu.counterpart("torch tf32") == "minigan tf32"
    assert gpu.counterpart("torch fp32") == "minigan"
    assert gpu.counterpart("im2col+cuBLAS") == "minigan"
    assert gpu.counterpart("minigan tf32") is None


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="a GPU may be here")
def test_gpu_probe_without_a_gpu_says_so(capsys):
    if backend.cuda_available():
        pytest.skip("a CUDA device is usable here")
    assert gpu_probe.main([]) == 1
    assert "no usable CUDA device" in capsys.readouterr().err


def _emulator_stage_files(folder):
    """What the tiny plan leaves: the probe's GPU-only facts skipped, no GPU summary."""
    _stage_files(folder)
    (folder / "probe.json").write_text(json.dumps({
        "device": "emulator",
        "versions": {"numpy": "2.4", "device": "CUDA emulator (CPU)", "nvrtc": probe.NEEDS_GPU,
                     "cuda_driver": probe.NEEDS_GPU},
        "kernel_builds": probe.gpu_only("NVRTC builds"),
        "launch_overhead": {"conv2d_forward wrapper us": 1234.5678},
        "bandwidth": {"h2d_gbps": 2.87654},
        "convs_vs_reference": {"reference": "numpy-float64", "batch": 2, "layers": {
            "d_conv5": {"forward": {"fp32": 1e-7, "tf32": 3e-4}}}}}))
    rows = [{"layer": layer, "pass": "forward", "impl": impl, "ms": 1.0}
            for layer in ("r_block", "d_pool") for impl in ("minigan", "minigan tf32")]
    (folder / "bench.json").write_text(json.dumps({
        "device_name": "CUDA emulator (CPU; timings meaningless)", "batch": 2, "notes": [],
        "gpu_summary": None, "rows": rows,
        "iteration": [{"impl": "minigan", "ms": 4901.19}, {"impl": "minigan tf32", "ms": 2e4}]}))


def test_summary_of_the_emulator_rehearsal_reads_what_tiny_mode_writes(tmp_path):
    _emulator_stage_files(tmp_path)
    text = first_run.summarize(tmp_path, "emulator")
    assert text.startswith("first run on the emulator (timings meaningless)")
    assert "== tests (pytest -m emulator)" in text
    assert "'device': 'CUDA emulator (CPU)'" in text
    assert "needs a real GPU: nvrtc, cuda_driver" in text
    assert "kernel builds: needs a real GPU (NVRTC builds)" in text
    assert "{'conv2d_forward wrapper us': 1230.0}" in text and "{'h2d_gbps': 2.88}" in text
    assert "relative L2 error vs numpy-float64" in text and "d_conv5  1.0e-07 / 3.0e-04" in text
    assert "rows timed over 2 layers: minigan 2, minigan tf32 2" in text
    assert "whole SimGAN iteration: minigan 4901.2 ms, minigan tf32 20000.0 ms" in text
    assert "(missing:" not in text and "(could not read:" not in text


def test_summary_of_a_gpu_run_names_the_gpu_marker(tmp_path):
    _stage_files(tmp_path)
    text = first_run.summarize(tmp_path)
    assert text.startswith("first run on a GPU (cuda)") and "== tests (pytest -m gpu)" in text


def _small_layers(height, width, real=probe.simgan_layers):
    return [layer for layer in real(height, width) if layer.key in ("d_conv4", "d_conv5")]


@pytest.mark.emulator
def test_probe_on_the_emulator_reports_gpu_only_facts_as_needing_a_gpu():
    versions = probe.versions("emulator")
    assert versions["device"] == "CUDA emulator (CPU)"
    assert versions["nvrtc"] == versions["cuda_driver"] == probe.NEEDS_GPU
    assert probe.kernel_builds("emulator")["skipped"].startswith(probe.NEEDS_GPU)


@pytest.mark.emulator
def test_probe_on_the_emulator_checks_conv_passes_against_float64_numpy(monkeypatch):
    monkeypatch.setattr(probe, "simgan_layers", _small_layers)
    report = probe.convs_vs_reference("emulator", batch=1, height=8, width=12)
    assert report["reference"] == "numpy-float64" and set(report["layers"]) == {"d_conv4",
                                                                               "d_conv5"}
    for passes in report["layers"].values():
        assert set(passes) == {"forward", "grad_input", "grad_weight", "grad_bias"}
        for errors in passes.values():
            assert errors["fp32"] < 1e-5 and errors["tf32"] < 2e-3


@pytest.mark.emulator
def test_gpu_probe_program_runs_on_the_emulator_and_writes_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(probe, "simgan_layers", _small_layers)
    monkeypatch.setattr(probe, "launch_overhead", functools.partial(probe.launch_overhead,
                                                                    calls=10))
    path = tmp_path / "probe.json"
    assert gpu_probe.main(["--device", "emulator", "--batch", "1", "--copy-mib", "1",
                           "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "kernel_builds: needs a real GPU" in out and "FAILED" not in out
    facts = json.loads(path.read_text())
    assert facts["device"] == "emulator" and facts["bandwidth"]["d2d_gbps"] > 0
    assert facts["launch_overhead"]["conv2d_forward wrapper us"] > 0


@pytest.mark.emulator
def test_bench_on_the_emulator_times_every_row_beside_a_cpu_only_torch():
    """No note of a failed row: PyTorch without CUDA must not be synchronized on the emulator."""
    report = bench.benchmark(["--device", "emulator", "--batch", "1", "--height", "8",
                              "--width", "12", "--layers", "d_conv5", "--no-iteration",
                              "--repeats", "1", "--warmup", "0"])
    expected_notes = [] if import_torch(cuda=False) is not None else [
        "PyTorch not importable (or without CUDA on the GPU path): no torch rows"]
    assert report["notes"] == expected_notes
    assert {row["impl"] for row in report["rows"]} >= {"minigan", "minigan tf32"}
