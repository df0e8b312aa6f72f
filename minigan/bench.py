"""Benchmark minigan's kernels layer by layer and one whole SimGAN iteration.

    python -m minigan.bench                           # on the GPU when there is one, batch 512
    python -m minigan.bench --device cpu              # the CPU backend + PyTorch CPU, batch 32
    python -m minigan.bench --layers r_block,d_xent --batch 128 --json bench.json

For every conv / pool / loss layer of the refiner and discriminator at 35 x 55: forward and
backward times of minigan, its baselines and PyTorch (on the GPU: the kernels, an im2col +
cuBLAS baseline, cuDNN in fp32 with TF32 off and on; on the CPU: the CPU backend, the plain
im2col reference, PyTorch CPU). Then one refiner step + one discriminator step of SimGAN
(forward, backward, SGD) in minigan and in PyTorch.

Printed per row: median ms, achieved FLOP/s and % of the peak (the GPU's data sheet; on a CPU
the fp32 GEMM rate measured at the start of the run), GB/s and % of memory bandwidth, and the
time ratio minigan / baseline (> 1: minigan is slower). ``--json`` writes the same table, with
each row's roofline bound max(FLOPs / peak, bytes / bandwidth) in ms. The work is done by
``minigan.benchmarks.suite``.
"""
import argparse
import json
import sys

from minigan import backend
from minigan.benchmarks.layers import simgan_layers
from minigan.benchmarks.suite import Settings, format_report, run, select_layers
from minigan.benchmarks.timing import import_torch

DEFAULTS = {"cuda": {"batch": 512, "repeats": 10, "warmup": 2},
            "cpu": {"batch": 32, "repeats": 3, "warmup": 1}}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.bench", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--batch", type=int, help="images per batch (512 on GPU, 32 on CPU)")
    parser.add_argument("--height", type=int, default=35)
    parser.add_argument("--width", type=int, default=55)
    parser.add_argument("--layers", help="comma-separated layer keys (default: all): " + ", ".join(
        layer.key for layer in simgan_layers()))
    parser.add_argument("--repeats", type=int, help="timed samples per row (median reported)")
    parser.add_argument("--warmup", type=int, help="untimed calls before timing")
    parser.add_argument("--no-iteration", action="store_true", help="skip the whole-iteration rows")
    parser.add_argument("--no-torch", action="store_true", help="do not time PyTorch")
    parser.add_argument("--peak-tflops", type=float,
                        help="fp32 peak: overrides the device table (GPU) or the measured "
                        "GEMM rate (CPU)")
    parser.add_argument("--peak-gbps", type=float, help="memory bandwidth, overrides the table")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    args = parser.parse_args(argv)
    args.device = backend.resolve_device(args.device)
    for key, value in DEFAULTS[args.device].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.batch < 1 or args.repeats < 1 or args.warmup < 0:
        parser.error("--batch and --repeats must be >= 1, --warmup >= 0")
    args.settings = Settings(args.device, args.batch, args.height, args.width,
                             args.layers.split(",") if args.layers else None, args.repeats,
                             args.warmup, not args.no_iteration, args.peak_tflops, args.peak_gbps)
    try:
        select_layers(args.settings)
    except ValueError as error:
        parser.error(str(error))
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    torch = None if args.no_torch else import_torch(cuda=args.device == "cuda")
    notes = [] if torch is not None or args.no_torch else [
        "PyTorch not importable (or without CUDA on the GPU path): no torch rows"]
    print(f"minigan.bench: device {args.device}, batch {args.batch}, {args.height}x{args.width}",
          flush=True)
    report = run(args.settings, torch, notes)
    print(format_report(report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=1)
    return report


if __name__ == "__main__":
    main()
