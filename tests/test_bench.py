"""CPU tests of ``python -m minigan.bench``: it runs at a tiny size on the NumPy path and writes
its JSON; the im2col baseline computes the same convolution as the reference."""
import json

import numpy as np
import pytest

from minigan import bench, reference
from minigan.benchmarks import im2col as bench_im2col
from minigan.benchmarks.simgan_layers import simgan_layers
from minigan.benchmarks.timing import median_ms, peak_for
from minigan.simgan.models import patch_map_size

SMALL = ["--device", "cpu", "--batch", "1", "--repeats", "1", "--warmup", "0"]


def test_bench_writes_its_table_as_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    report = bench.benchmark(SMALL + ["--layers", "r_head,d_pool,d_xent", "--no-iteration",
                                 "--no-torch", "--json", str(path)])
    saved = json.loads(path.read_text())
    assert saved["device"] == "cpu" and saved["batch"] == 1
    assert saved["rows"] == json.loads(json.dumps(report["rows"]))
    passes = {(r["layer"], r["pass"]) for r in saved["rows"] if r["impl"] == "minigan"}
    assert passes == {("r_head", "forward"), ("r_head", "grad_input"), ("r_head", "grad_weight"),
                      ("r_head", "total"), ("d_pool", "forward"), ("d_pool", "backward"),
                      ("d_xent", "fused")}
    assert all(r["ms"] > 0 for r in saved["rows"])
    assert "r_head" in capsys.readouterr().out


def test_bench_conv_rows_report_flops_and_pool_rows_bandwidth():
    report = bench.benchmark(SMALL + ["--layers", "d_conv4,d_pool", "--no-iteration", "--no-torch"])
    conv = next(r for r in report["rows"] if r["layer"] == "d_conv4" and r["pass"] == "forward")
    assert conv["flops"] == 2 * 1 * 32 * 32 * 1 * 1 * 9 * 14 and conv["tflops"] > 0
    pool = next(r for r in report["rows"] if r["layer"] == "d_pool" and r["pass"] == "forward")
    assert pool["flops"] == 0 and pool["gbps"] > 0 and "tflops" not in pool
    total = next(r for r in report["rows"] if r["layer"] == "d_conv4" and r["pass"] == "total")
    assert total["flops"] == 3 * conv["flops"] and total["bytes"] == 3 * conv["bytes"]


def test_cpu_rows_are_put_against_a_gemm_rate_measured_in_the_same_run():
    report = bench.benchmark(SMALL + ["--layers", "d_conv4", "--no-iteration", "--no-torch"])
    assert report["sgemm_tflops"]["numpy"] > 0
    assert report["peak_tflops"] == report["sgemm_tflops"]["numpy"]
    forward = [r for r in report["rows"] if r["pass"] == "forward"]
    assert {r["impl"] for r in forward} == {"minigan", "plain im2col"}
    assert all(r["pct_peak"] == 100 * r["tflops"] / report["peak_tflops"] for r in forward)


def test_bench_rows_carry_the_roofline_when_peaks_are_given():
    report = bench.benchmark(SMALL + ["--layers", "r_head", "--no-iteration", "--no-torch",
                                 "--peak-tflops", "67", "--peak-gbps", "3350"])
    row = report["rows"][0]
    assert row["roofline_ms"] == max(row["flops"] / 67e9, row["bytes"] / 3350e6)
    assert 0 < row["pct_peak"] and 0 < row["pct_bandwidth"]


def test_bench_times_one_whole_simgan_iteration_on_the_cpu():
    report = bench.benchmark(SMALL + ["--height", "12", "--width", "16", "--layers", "d_xent",
                                 "--no-torch"])
    (row,) = report["iteration"]
    assert row["impl"] == "minigan" and row["ms"] > 0 and row["conv_flops"] > 0


def test_bench_rejects_an_unknown_layer(capsys):
    assert bench.main(SMALL + ["--layers", "nope", "--no-iteration", "--no-torch"]) == 2
    assert "--layers: unknown layer keys ['nope']" in capsys.readouterr().err


def test_layer_list_follows_the_models_sizes():
    layers = {layer.key: layer for layer in simgan_layers(35, 55)}
    assert layers["d_conv2"].out == (9, 14) == patch_map_size(35, 55)
    assert (layers["d_xent"].h, layers["d_xent"].w) == patch_map_size(35, 55)
    assert layers["r_block"].flops(512) == 2 * 512 * 64 * 64 * 9 * 35 * 55


def test_peak_table_knows_the_h100_and_tells_pcie_apart():
    assert peak_for("NVIDIA H100 80GB HBM3") == (66.9, 3350.0)
    assert peak_for("NVIDIA H100 PCIe")[0] == 51.2
    assert peak_for("Some Unknown GPU") is None


def test_median_ms_is_positive_and_calls_the_function():
    calls = []
    assert median_ms(lambda: calls.append(1), warmup=1, repeats=3) >= 0
    assert len(calls) >= 5


@pytest.mark.parametrize("shape", [(2, 3, 7, 9, 4, 3, 1, 1), (1, 2, 8, 7, 5, 3, 2, 1),
                                   (2, 4, 5, 6, 3, 1, 1, 0), (1, 1, 9, 9, 2, 5, 2, 2)])
def test_im2col_baseline_matches_the_reference(shape):
    n, c, h, w, f, k, s, p = shape
    rng = np.random.default_rng(0)
    x, wt, b = (rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, k, k)),
                rng.standard_normal(f))
    y = reference.conv2d_forward(x, wt, b, s, p)
    gy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(bench_im2col.conv2d_forward(x, wt, b, s, p), y, atol=1e-12)
    np.testing.assert_allclose(bench_im2col.conv2d_backward_input(gy, wt, x.shape, s, p),
                               reference.conv2d_backward_input(gy, wt, x.shape, s, p), atol=1e-12)
    np.testing.assert_allclose(bench_im2col.conv2d_backward_weight(gy, x, wt.shape, s, p),
                               reference.conv2d_backward_weight(gy, x, wt.shape, s, p), atol=1e-12)


def test_profile_names_the_convolutions_with_their_enclosing_function(capsys):
    assert bench.benchmark(SMALL + ["--height", "12", "--width", "16", "--profile", "1"]) is None
    out = capsys.readouterr().out
    assert "ms per iteration under the profiler" in out
    assert "conv2d_forward.images" in out and "Tensor.backward" in out
    shares = [float(line.split()[1].rstrip("%")) for line in out.splitlines()[2:]]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 100.01
