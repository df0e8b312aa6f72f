"""Benchmark minigan's kernels layer by layer and one whole SimGAN iteration.

    python -m minigan.bench                           # on the GPU when there is one, batch 512
    python -m minigan.bench --device cpu              # NumPy reference (+ PyTorch CPU), batch 32
    python -m minigan.bench --layers r_block,d_xent --batch 128 --json bench.json

For every conv / pool / loss layer of the refiner and discriminator at 35 x 55 (see
``minigan.bench_layers``): forward and backward times of minigan's kernels, an im2col + cuBLAS
baseline (CuPy) and PyTorch / cuDNN in fp32 with TF32 off and, separately, with TF32 on (its
default for convolutions) when torch imports with CUDA. Then one refiner step + one
discriminator step of SimGAN (forward, backward, SGD) in minigan and in PyTorch.

Printed per row: median ms, achieved TFLOP/s and % of the GPU's fp32 peak (FLOPs = 2 N F C K K
Ho Wo per conv pass), GB/s and % of memory bandwidth (each tensor read or written once), and the
time ratio minigan / baseline (> 1: minigan is slower; TF32 baselines against minigan's TF32
rows). On the GPU a summary follows (``minigan.benchmarks.gpu``): each conv pass in fp32 and TF32
against cuDNN of the same precision, with % of the peaks measured on that GPU. ``--json``
writes the same tables, with each row's roofline bound max(FLOPs / peak, bytes / bandwidth) in
ms.
"""
import json
import sys

from minigan.cli import (COUNT, POSITIVE, POSITIVE_INT, Parser, add_device, check_output,
                         device_from, run_program)
from minigan.benchmarks.gpu import counterpart, format_summary, measure_peaks, summary, with_tf32
from minigan.benchmarks.layers import implementations, simgan_layers
from minigan.benchmarks.timing import cupy_sync, gpu_name, import_torch, median_ms, peak_for, torch_sync

PROG = "python -m minigan.bench"
DEFAULTS = {"cuda": {"batch": 512, "repeats": 10, "warmup": 2},
            "cpu": {"batch": 32, "repeats": 3, "warmup": 1}}


def parse_args(argv=None):
    parser = Parser(PROG, __doc__.split("\n\n")[0])
    add_device(parser)
    parser.add_argument("--batch", type=POSITIVE_INT, metavar="N",
                        help="images per batch (512 on GPU, 32 on CPU)")
    parser.add_argument("--height", type=POSITIVE_INT, default=35, metavar="N")
    parser.add_argument("--width", type=POSITIVE_INT, default=55, metavar="N")
    parser.add_argument("--layers", help="comma-separated layer keys (default: all): " + ", ".join(
        layer.key for layer in simgan_layers()))
    parser.add_argument("--repeats", type=POSITIVE_INT, metavar="N",
                        help="timed samples per row (median reported; 10 on GPU, 3 on CPU)")
    parser.add_argument("--warmup", type=COUNT, metavar="N",
                        help="untimed calls before timing (2 on GPU, 1 on CPU)")
    parser.add_argument("--no-iteration", action="store_true", help="skip the whole-iteration rows")
    parser.add_argument("--no-torch", action="store_true", help="do not time PyTorch")
    parser.add_argument("--peak-tflops", type=POSITIVE, metavar="X",
                        help="fp32 peak, overrides the device table")
    parser.add_argument("--peak-gbps", type=POSITIVE, metavar="X",
                        help="memory bandwidth, overrides the table")
    parser.add_argument("--gemm-size", type=POSITIVE_INT, default=8192, metavar="N",
                        help="GPU: the n of the n^3 GEMM that measures this GPU's peaks (the "
                             "copy moves 16 n^2 bytes)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    args = parser.parse_args(argv)
    args.device = device_from(args)
    if args.json:
        check_output("--json", args.json, kind="file")
    for key, value in DEFAULTS["cuda" if args.device == "cuda" else "cpu"].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def _sync(device, torch):
    if device == "cpu":
        return None

    def sync():
        cupy_sync()
        if torch is not None:
            torch_sync()
    return sync


def _free_gpu_memory(device, torch):
    if device == "cuda":
        import cupy
        cupy.get_default_memory_pool().free_all_blocks()
        if torch is not None:
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


def time_layers(args, layers, impls, sync, torch, notes):
    rows = []
    peak = args.peak
    for layer in layers:
        for impl in impls:
            impl.prepare()
            try:
                passes = impl.passes(layer, args.batch)
                times = {which: median_ms(run, sync, args.warmup, args.repeats)
                         for which, run in passes.items()}
            except Exception as error:   # one failing baseline must not stop the benchmark
                notes.append(f"{impl.name} on {layer.key}: {type(error).__name__}: {error}")
                continue
            finally:
                passes = None
                _free_gpu_memory(args.device, torch)
            for which, ms in times.items():
                rows.append(_row(layer, which, impl.name, ms, args.batch, peak))
            if layer.kind == "conv" and len(times) == 3:   # forward + both backward passes
                rows.append(_row(layer, "total", impl.name, sum(times.values()), args.batch,
                                 peak))
    return rows


def ratios(rows):
    """minigan ms / baseline ms for every (layer, pass) that both timed (TF32 baselines against
    minigan's TF32 rows)."""
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


def time_iteration(args, torch, sync, notes):
    from minigan.benchmarks.iteration import minigan_iteration, torch_iteration
    from minigan.benchmarks.layers import set_tf32
    runs = []
    try:
        step = minigan_iteration(args.batch, args.height, args.width, args.device)
        if args.device == "cuda":   # strict fp32, then tensor cores
            runs += [("minigan", with_tf32(step, False), lambda: None),
                     ("minigan tf32", with_tf32(step, True), lambda: None)]
        else:
            runs.append(("minigan", step, lambda: None))
    except ImportError as error:
        notes.append(f"whole iteration (minigan) skipped: {error}")
    if torch is not None:
        device = args.device
        if device == "cpu":
            runs.append(("torch cpu", torch_iteration(torch, args.batch, args.height, args.width,
                                                      "cpu"), lambda: None))
        else:
            step = torch_iteration(torch, args.batch, args.height, args.width, "cuda")
            runs.append(("torch fp32", step, lambda: set_tf32(torch, False)))
            runs.append(("torch tf32", step, lambda: set_tf32(torch, True)))
    flops = iteration_flops(simgan_layers(args.height, args.width), args.batch)
    results = []
    for name, step, prepare in runs:
        prepare()
        try:
            ms = median_ms(step, sync, max(args.warmup, 1), args.repeats, min_sample_ms=0)
        except Exception as error:
            notes.append(f"whole iteration ({name}): {type(error).__name__}: {error}")
            continue
        row = {"impl": name, "ms": ms, "conv_flops": flops, "tflops": flops / ms / 1e9}
        if args.peak[0]:
            row["pct_peak"] = 100 * row["tflops"] / args.peak[0]
        results.append(row)
    return results


def format_rows(rows, iteration):
    lines = [f"{'layer':9} {'pass':11} {'impl':14} {'ms':>9} {'TFLOP/s':>8} {'%peak':>6} "
             f"{'GB/s':>7} {'%bw':>5} {'minigan/this':>12}"]
    ours = {(r["layer"], r["pass"], r["impl"]): r["ms"] for r in rows}
    for r in rows:
        ratio = ours.get((r["layer"], r["pass"], counterpart(r["impl"])))
        lines.append(
            f"{r['layer']:9} {r['pass']:11} {r['impl']:14} {r['ms']:9.3f} "
            f"{_fmt(r.get('tflops'), 8, 3)} {_fmt(r.get('pct_peak'), 6, 1)} "
            f"{_fmt(r.get('gbps'), 7, 1)} {_fmt(r.get('pct_bandwidth'), 5, 1)} "
            f"{_fmt(ratio / r['ms'] if ratio else None, 12, 2)}")
    if iteration:
        lines.append("")
        lines.append("whole SimGAN iteration (1 refiner step + 1 discriminator step):")
        ours = {r["impl"]: r["ms"] for r in iteration}
        for r in iteration:
            mine = ours.get(counterpart(r["impl"]))
            ratio = f"  minigan/this {mine / r['ms']:.2f}" if mine else ""
            lines.append(f"  {r['impl']:14} {r['ms']:10.2f} ms  {r['tflops']:7.3f} TFLOP/s of "
                         f"convs{ratio}")
    return "\n".join(lines)


def _fmt(value, width, digits):
    return f"{value:{width}.{digits}f}" if value is not None else " " * (width - 1) + "-"


def main(argv=None):
    """The report (a dict), or an exit status when the arguments cannot work."""
    return run_program(PROG, _main, argv)


def _main(argv):
    args = parse_args(argv)
    torch = None if args.no_torch else import_torch(cuda=args.device == "cuda")
    name = gpu_name() if args.device == "cuda" else "cpu"
    table_peak = peak_for(name) if args.device == "cuda" else None
    tflops = args.peak_tflops or (table_peak[0] if table_peak else None)
    gbps = args.peak_gbps or (table_peak[1] if table_peak else None)
    args.peak = (tflops, gbps)
    layers = simgan_layers(args.height, args.width)
    if args.layers:
        wanted = args.layers.split(",")
        unknown = sorted(set(wanted) - {layer.key for layer in layers})
        if unknown:
            raise SystemExit(f"unknown layer keys {unknown}; known: "
                             f"{', '.join(layer.key for layer in layers)}")
        layers = [layer for layer in layers if layer.key in wanted]
    notes = [] if torch is not None or args.no_torch else [
        "PyTorch not importable (or without CUDA on the GPU path): no torch rows"]
    sync = _sync(args.device, torch)
    print(f"minigan.bench: device {args.device} ({name}), batch {args.batch}, "
          f"{args.height}x{args.width}, peak {tflops} TFLOP/s fp32, {gbps} GB/s", flush=True)
    rows = time_layers(args, layers, implementations(args.device, torch), sync, torch, notes)
    iteration = [] if args.no_iteration else time_iteration(args, torch, sync, notes)
    print(format_rows(rows, iteration))
    gpu = None
    if args.device == "cuda":   # the same rows paired by precision, against measured peaks
        gpu = summary(rows, iteration, measure_peaks(torch, args.gemm_size))
        print(format_summary(gpu))
    for note in notes:
        print("note:", note)
    report = {"device": args.device, "device_name": name, "batch": args.batch,
              "height": args.height, "width": args.width, "peak_tflops": tflops,
              "peak_gbps": gbps, "repeats": args.repeats, "warmup": args.warmup,
              "rows": rows, "ratios": ratios(rows), "iteration": iteration, "notes": notes,
              "gpu_summary": gpu}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=1)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
