"""CPU tests of the first-GPU-run plan: the script's time budget, the summary it ends with, the
benchmark's pairing of minigan rows with baselines of the same precision, and the probe's
refusal without a GPU."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from minigan.benchmarks import first_run, gpu

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "gpu_first_run.sh"
CALL_LIMIT_S = 600   # one command on the GPU machine


def test_the_script_is_valid_bash():
    assert subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True).returncode == 0


def test_the_full_plan_fits_one_call_with_room_to_spare():
    """Every stage has a cap; the caps and the deadline keep the run under 10 minutes."""
    text = SCRIPT.read_text(encoding="utf-8")
    full = text[text.index("else\n    probe_args=(--batch 512)"):]
    caps = dict(re.findall(r"(\w+):(\d+)", re.search(r"caps=\(([^)]*)\)", full).group(1)))
    assert set(caps) == {"facts", "probe", "tests", "bench", "train", "eval"}
    deadline = int(re.search(r'deadline="\$\{DEADLINE:-(\d+)\}"', text).group(1))
    assert sum(int(c) for c in caps.values()) <= deadline + 60
    assert deadline + 30 <= CALL_LIMIT_S - 30


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
    from minigan import backend, gpu_probe
    if backend.cuda_available():
        pytest.skip("a CUDA device (or the emulator) is usable here")
    assert gpu_probe.main([]) == 1
    assert "no usable CUDA device" in capsys.readouterr().err
