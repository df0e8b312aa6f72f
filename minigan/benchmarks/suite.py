"""The benchmark behind ``python -m minigan.bench``: time every layer and one whole iteration,
put each against the machine's peak and the baselines, and format the table.

A row: one (layer, pass, implementation) with its median ms, achieved FLOP rate (FLOPs = 2 N F C
K K Ho Wo per conv pass) and % of the peak, GB/s (each tensor read or written once) and % of the
memory bandwidth, and the roofline bound max(FLOPs / peak, bytes / bandwidth) in ms when both
peaks are known. The peak is the data sheet's on a GPU; on a CPU, the fp32 matrix product rate
measured at the start of the same run (NumPy's OpenBLAS, and PyTorch's beside it), so a row's
"% peak" says how close that pass comes to the GEMM it is built on.
"""
from typing import NamedTuple, Optional

import numpy as np

from minigan.backend import xp_for
from minigan.benchmarks.gpu import (GEMM_SIZE, counterpart, format_summary, measure_peaks,
                                    summary, with_tf32)
from minigan.benchmarks.simgan_layers import implementations, set_tf32, simgan_layers
from minigan.benchmarks.timing import (gpu_name, median_ms, peak_for, sgemm_tflops, torch_sync)


class Settings(NamedTuple):
    device: str                     # "cpu" | "cuda" | "emulator" (timings meaningless)
    batch: int
    height: int = 35
    width: int = 55
    layers: Optional[list] = None   # layer keys; None: all
    repeats: int = 3
    warmup: int = 1
    iteration: bool = True          # time one whole SimGAN iteration too
    peak_tflops: Optional[float] = None   # overrides the data sheet / the measured SGEMM rate
    peak_gbps: Optional[float] = None
    gemm_size: int = GEMM_SIZE      # GPU: the n^3 GEMM that measures the peaks


def select_layers(settings):
    """The layers to time; raises ValueError naming unknown keys."""
    layers = simgan_layers(settings.height, settings.width)
    if not settings.layers:
        return layers
    unknown = sorted(set(settings.layers) - {layer.key for layer in layers})
    if unknown:
        raise ValueError(f"unknown layer keys {unknown}; known: "
                         f"{', '.join(layer.key for layer in layers)}")
    return [layer for layer in layers if layer.key in settings.layers]


def machine(settings, torch):
    """{"name", "peak_tflops", "peak_gbps", "sgemm_tflops"}: the device and its peaks."""
    if settings.device == "emulator":
        return {"name": "CUDA emulator (CPU; timings meaningless)", "sgemm_tflops": {},
                "peak_tflops": settings.peak_tflops, "peak_gbps": settings.peak_gbps}
    if settings.device == "cuda":
        name = gpu_name()
        tflops, gbps = peak_for(name) or (None, None)
        return {"name": name, "peak_tflops": settings.peak_tflops or tflops,
                "peak_gbps": settings.peak_gbps or gbps, "sgemm_tflops": {}}
    sgemm = {"numpy": sgemm_tflops(np.matmul, lambda shape: np.zeros(shape, np.float32))}
    if torch is not None:
        sgemm["torch"] = sgemm_tflops(torch.mm, torch.zeros)
    return {"name": "cpu", "peak_tflops": settings.peak_tflops or sgemm["numpy"],
            "peak_gbps": settings.peak_gbps, "sgemm_tflops": sgemm}


def _sync(device, torch):
    """Waits for the device and, on a GPU, for PyTorch's work too (a CPU-only torch beside the
    emulator has no CUDA to wait for)."""
    if device == "cpu":
        return None
    stream = xp_for(device).cuda.get_current_stream()
    torch_on_gpu = torch is not None and device == "cuda"

    def sync():
        stream.synchronize()
        if torch_on_gpu:
            torch_sync()
    return sync


def _free_gpu_memory(device, torch):
    if device != "cpu":
        xp_for(device).get_default_memory_pool().free_all_blocks()
        if torch is not None and device == "cuda":
            torch.cuda.empty_cache()


def _row(layer, which, impl, ms, n, peak):
    """One table row: time, achieved FLOP and byte rates, and the roofline bound
    max(FLOPs / peak, bytes / bandwidth) when the peaks are known."""
    passes = ("forward", "grad_input", "grad_weight") if which == "total" else (which,)
    flops = len(passes) * layer.flops(n)
    moved = sum(layer.bytes(n, p) for p in passes)
    row = {"layer": layer.key, "title": layer.title, "pass": which, "impl": impl, "ms": ms,
           "flops": flops, "bytes": moved, "gbps": moved / ms / 1e6}
    if flops:
        row["tflops"] = flops / ms / 1e9
    if peak[0] and flops:
        row["pct_peak"] = 100 * row["tflops"] / peak[0]
    if peak[1]:
        row["pct_bandwidth"] = 100 * row["gbps"] / peak[1]
    if peak[0] and peak[1]:
        row["roofline_ms"] = max(flops / peak[0] / 1e9, moved / peak[1] / 1e6)
    return row


def time_layers(settings, layers, impls, peak, torch, notes):
    rows = []
    sync = _sync(settings.device, torch)
    for layer in layers:
        for impl in impls:
            impl.prepare()
            try:
                passes = impl.passes(layer, settings.batch)
                times = {which: median_ms(run, sync, settings.warmup, settings.repeats)
                         for which, run in passes.items()}
            except Exception as error:   # one failing baseline must not stop the benchmark
                notes.append(f"{impl.name} on {layer.key}: {type(error).__name__}: {error}")
                continue
            finally:
                passes = None
                _free_gpu_memory(settings.device, torch)
            for which, ms in times.items():
                rows.append(_row(layer, which, impl.name, ms, settings.batch, peak))
            if layer.kind == "conv" and len(times) == 3:   # forward + both backward passes
                rows.append(_row(layer, "total", impl.name, sum(times.values()), settings.batch,
                                 peak))
    return rows


def ratios(rows):
    """minigan ms / baseline ms for every (layer, pass) that both timed (TF32 baselines against
    minigan's TF32 rows, see ``benchmarks.gpu.counterpart``)."""
    ours = {(r["layer"], r["pass"], r["impl"]): r["ms"] for r in rows
            if r["impl"].startswith("minigan")}
    return [{"layer": r["layer"], "pass": r["pass"], "baseline": r["impl"],
             "ratio": ours[(r["layer"], r["pass"], counterpart(r["impl"]))] / r["ms"]}
            for r in rows if (r["layer"], r["pass"], counterpart(r["impl"])) in ours]


def iteration_flops(layers, n):
    """Conv FLOPs of one refiner step + one discriminator step (napkin math)."""
    by_key = {layer.key: layer.flops(n) for layer in layers if layer.kind == "conv"}
    r = by_key["r_conv1"] + 8 * by_key["r_block"] + by_key["r_head"]
    d = sum(by_key[k] for k in ("d_conv1", "d_conv2", "d_conv3", "d_conv4", "d_conv5"))
    refiner_step = r + (2 * r - by_key["r_conv1"]) + d + d             # R fwd+bwd, D fwd+gx
    discriminator_step = r + 2 * d + 2 * (2 * d - by_key["d_conv1"])   # R fwd, D on 2 batches
    return refiner_step + discriminator_step


def time_iteration(settings, torch, peak, notes):
    from minigan.benchmarks.iteration import minigan_iteration, torch_iteration
    n, h, w, device = settings.batch, settings.height, settings.width, settings.device
    runs = []
    try:
        step = minigan_iteration(n, h, w, device)
        if device == "cpu":
            runs.append(("minigan", step, lambda: None))
        else:   # strict fp32, then tensor cores
            runs += [("minigan", with_tf32(step, False), lambda: None),
                     ("minigan tf32", with_tf32(step, True), lambda: None)]
    except ImportError as error:
        notes.append(f"whole iteration (minigan) skipped: {error}")
    if torch is not None and device == "cpu":
        runs.append(("torch cpu", torch_iteration(torch, n, h, w, "cpu"), lambda: None))
    elif torch is not None and device == "cuda":
        step = torch_iteration(torch, n, h, w, "cuda")
        runs.append(("torch fp32", step, lambda: set_tf32(torch, False)))
        runs.append(("torch tf32", step, lambda: set_tf32(torch, True)))
    flops = iteration_flops(simgan_layers(h, w), n)
    sync = _sync(device, torch)
    results = []
    for name, step, prepare in runs:
        prepare()
        try:
            ms = median_ms(step, sync, max(settings.warmup, 1), settings.repeats, min_sample_ms=0)
        except Exception as error:
            notes.append(f"whole iteration ({name}): {type(error).__name__}: {error}")
            continue
        row = {"impl": name, "ms": ms, "conv_flops": flops, "tflops": flops / ms / 1e9}
        if peak[0]:
            row["pct_peak"] = 100 * row["tflops"] / peak[0]
        results.append(row)
    return results


def run(settings, torch=None, notes=None):
    """Time the layers and the iteration; returns the report (a JSON-ready dict)."""
    notes = [] if notes is None else notes
    layers = select_layers(settings)
    info = machine(settings, torch)
    peak = (info["peak_tflops"], info["peak_gbps"])
    rows = time_layers(settings, layers, implementations(settings.device, torch), peak, torch,
                       notes)
    iteration = time_iteration(settings, torch, peak, notes) if settings.iteration else []
    gpu = None
    if settings.device == "cuda":   # the same rows paired by precision, against measured peaks
        gpu = summary(rows, iteration, measure_peaks(torch, settings.gemm_size))
    return {"device": settings.device, "device_name": info["name"], "batch": settings.batch,
            "height": settings.height, "width": settings.width,
            "peak_tflops": info["peak_tflops"], "peak_gbps": info["peak_gbps"],
            "sgemm_tflops": info["sgemm_tflops"], "repeats": settings.repeats,
            "warmup": settings.warmup, "rows": rows, "ratios": ratios(rows),
            "iteration": iteration, "gpu_summary": gpu, "notes": notes}


def format_report(report):
    """The table: one line per row, then the whole iteration and the notes."""
    cpu = report["device"] == "cpu"
    scale, unit = (1e3, "GFLOP/s") if cpu else (1, "TFLOP/s")
    lines = []
    if not cpu:
        lines.append(f"{report['device_name']}: peak {report['peak_tflops']} TFLOP/s fp32, "
                     f"{report['peak_gbps']} GB/s")
    if report["sgemm_tflops"]:
        rates = ", ".join(f"{name} {rate * 1e3:.0f} GFLOP/s"
                          for name, rate in report["sgemm_tflops"].items())
        lines.append(f"fp32 GEMM 2048^3 on this machine: {rates} (%peak: against numpy's)")
    lines.append(f"{'layer':9} {'pass':11} {'impl':14} {'ms':>9} {unit:>8} {'%peak':>6} "
                 f"{'GB/s':>7} {'%bw':>5} {'minigan/this':>12}")
    ours = {(r["layer"], r["pass"], r["impl"]): r["ms"] for r in report["rows"]}
    for r in report["rows"]:
        ratio = ours.get((r["layer"], r["pass"], counterpart(r["impl"])))
        rate = r["tflops"] * scale if "tflops" in r else None
        lines.append(
            f"{r['layer']:9} {r['pass']:11} {r['impl']:14} {r['ms']:9.3f} "
            f"{_fmt(rate, 8, 1 if cpu else 3)} {_fmt(r.get('pct_peak'), 6, 1)} "
            f"{_fmt(r.get('gbps'), 7, 1)} {_fmt(r.get('pct_bandwidth'), 5, 1)} "
            f"{_fmt(ratio / r['ms'] if ratio else None, 12, 2)}")
    if report["iteration"]:
        lines += ["", "whole SimGAN iteration (1 refiner step + 1 discriminator step):"]
        ours = {r["impl"]: r["ms"] for r in report["iteration"]}
        for r in report["iteration"]:
            mine = ours.get(counterpart(r["impl"]))
            ratio = f"  minigan/this {mine / r['ms']:.2f}" if mine else ""
            lines.append(f"  {r['impl']:14} {r['ms']:10.2f} ms  {r['tflops'] * scale:7.3f} {unit} "
                         f"of convs{ratio}")
    if report.get("gpu_summary"):
        lines += ["", format_summary(report["gpu_summary"])]
    lines += [f"note: {note}" for note in report["notes"]]
    return "\n".join(lines)


def _fmt(value, width, digits):
    return f"{value:{width}.{digits}f}" if value is not None else " " * (width - 1) + "-"
