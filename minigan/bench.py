"""Benchmark minigan's kernels layer by layer and one whole SimGAN iteration.

    python -m minigan.bench                           # on the GPU when there is one, batch 512
    python -m minigan.bench --device cpu              # the CPU backend (+ PyTorch CPU), batch 32
    python -m minigan.bench --layers r_block,d_xent --batch 128 --json bench.json
    python -m minigan.bench --device cpu --profile 3   # where a whole iteration's time goes

For every conv / pool / loss layer of the refiner and discriminator at 35 x 55: forward and
backward times of minigan (the kernels on a GPU, the CPU backend on a CPU) against its baselines
(on a GPU: an im2col + cuBLAS convolution and PyTorch / cuDNN in fp32 and in TF32, minigan's TF32
rows against cuDNN's; on a CPU: the plain im2col reference and PyTorch CPU). Then one refiner
step + one discriminator step of SimGAN (forward, backward, SGD) in minigan and in PyTorch.

Printed per row: median ms, achieved FLOP/s and % of the peak (the GPU's data sheet; on a CPU
the fp32 GEMM rate measured at the start of the run), GB/s and % of memory bandwidth, and the
time ratio minigan / baseline (> 1: minigan is slower). On a GPU a summary follows: each conv
pass in fp32 and TF32 against cuDNN of the same precision, with % of the peaks measured on that
GPU. ``--json`` writes the same tables, with each row's roofline bound in ms. The work is done by
``minigan.benchmarks.suite``.
"""

from minigan.benchmarks.iteration import profile_iteration
from minigan.benchmarks.simgan_layers import simgan_layers
from minigan.benchmarks.suite import Settings, format_report, run, select_layers
from minigan.benchmarks.timing import import_torch
from minigan.cli import (COUNT, POSITIVE, POSITIVE_INT, Parser, UsageError, add_device,
                         check_output, device_from, program_main)
from minigan.io.atomic import write_json

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
                        help="fp32 peak: overrides the device table (GPU) or the measured GEMM "
                             "rate (CPU)")
    parser.add_argument("--peak-gbps", type=POSITIVE, metavar="X",
                        help="memory bandwidth, overrides the table")
    parser.add_argument("--gemm-size", type=POSITIVE_INT, default=8192, metavar="N",
                        help="GPU: the n of the n^3 GEMM that measures this GPU's peaks (the "
                             "copy moves 16 n^2 bytes)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--profile", type=POSITIVE_INT, metavar="N",
                        help="instead of the tables: profile N whole minigan iterations and "
                             "print the functions that take the most time")
    args = parser.parse_args(argv)
    args.device = device_from(args)
    if args.json:
        check_output("--json", args.json, kind="file")
    for key, value in DEFAULTS["cuda" if args.device == "cuda" else "cpu"].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.settings = Settings(args.device, args.batch, args.height, args.width,
                             args.layers.split(",") if args.layers else None, args.repeats,
                             args.warmup, not args.no_iteration, args.peak_tflops, args.peak_gbps,
                             args.gemm_size)
    try:
        select_layers(args.settings)
    except ValueError as error:
        raise UsageError(f"--layers: {error}") from None
    return args


def benchmark(argv=None):
    """Run the benchmark the arguments ask for, print its table; returns the report (a dict)
    (with ``--profile``: prints the profile and returns None)."""
    args = parse_args(argv)
    if args.profile:
        print(profile_iteration(args.batch, args.height, args.width, args.device, args.profile))
        return None
    torch = None if args.no_torch else import_torch(cuda=args.device == "cuda")
    notes = [] if torch is not None or args.no_torch else [
        "PyTorch not importable (or without CUDA on the GPU path): no torch rows"]
    print(f"minigan.bench: device {args.device}, batch {args.batch}, {args.height}x{args.width}",
          flush=True)
    report = run(args.settings, torch, notes)
    print(format_report(report))
    if args.json:
        write_json(args.json, report, indent=1)
    return report


def _main(argv):
    benchmark(argv)
    return 0


main = program_main(PROG, _main, __name__, memory_hint="a smaller --batch needs less")
