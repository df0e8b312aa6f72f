"""Probe a CUDA GPU: versions, kernel builds and occupancy, launch cost, bandwidth, convs vs cuDNN.

    python -m minigan.gpu_probe                       # everything, conv check at batch 512
    python -m minigan.gpu_probe --batch 32 --json probe.json
    python -m minigan.gpu_probe --device emulator --batch 2 --copy-mib 8   # a rehearsal, no GPU

Prints one line per fact (see ``minigan.benchmarks.probe``): the versions of Python, NumPy,
CuPy, CUDA, NVRTC, torch and cuDNN; each kernels/*.cu module's NVRTC compile time and, per
kernel, the registers, shared and spilled (local) bytes of the build CuPy made, with the blocks
per multiprocessor minigan plans for and the driver's own count; the CPU cost of a launch; copy
bandwidths; and the relative L2 error of every conv pass of SimGAN's layers, in strict fp32 and
in TF32, against cuDNN fp32 (TF32 off). A fact that fails is reported and the probe goes on.
Set CUPY_CACHE_DIR to an empty folder to time NVRTC rather than CuPy's disk cache.

``--device emulator`` runs the same probe on minigan's CPU emulator of the CUDA device: launch
cost, copies and every conv pass (against the NumPy references in float64) run, with
meaningless timings; the facts only a GPU has are printed as "needs a real GPU".
"""
import argparse
import json
import sys
import time

from minigan import backend
from minigan.benchmarks import probe
from minigan.cli import check_output, program_main
from minigan.io.atomic import write_text

PROG = "python -m minigan.gpu_probe"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cuda", "emulator"), default="cuda",
                        help="a GPU through CuPy (cuda), or minigan's CPU emulator of one")
    parser.add_argument("--batch", type=int, default=512, help="batch of the conv check (512)")
    parser.add_argument("--copy-mib", type=int, default=1024, help="size of the timed copies")
    parser.add_argument("--json", metavar="PATH", help="write every fact as JSON")
    args = parser.parse_args(argv)
    if args.batch < 1 or args.copy_mib < 1:
        parser.error("--batch and --copy-mib must be >= 1")
    if args.json:
        check_output("--json", args.json, kind="file")
    return args


def _print_fact(name, value, seconds):
    if isinstance(value, dict) and "error" in value:
        print(f"{name}: FAILED {value['error']}  [{seconds:.1f} s]", flush=True)
        return
    if isinstance(value, dict) and "skipped" in value:
        print(f"{name}: {value['skipped']}", flush=True)
        return
    if name == "kernel_builds":
        for source, entry in value.items():
            print(f"compile {source}.cu: {entry['compile_s']:.2f} s", flush=True)
            for kernel, k in entry["kernels"].items():
                print(f"  {kernel:48} regs {k['registers']} smem {k['shared_bytes']} "
                      f"local {k['local_bytes']} | {k['threads']} threads: "
                      f"{k['blocks_per_sm_plan']} blocks/SM planned, "
                      f"{k['blocks_per_sm_driver']} by the driver", flush=True)
    elif name == "convs_vs_reference":
        print(f"conv passes at batch {value['batch']}, relative L2 error vs {value['reference']} "
              f"(fp32 | tf32):", flush=True)
        for layer, passes in value["layers"].items():
            cells = "  ".join(f"{which} {e['fp32']:.1e} | {e['tf32']:.1e}"
                              for which, e in passes.items())
            print(f"  {layer:8} {cells}", flush=True)
    else:
        print(f"{name}: {value}  [{seconds:.1f} s]", flush=True)


def _main(argv):
    args = parse_args(argv)
    reason = backend.unavailable_reason(args.device)
    if reason is not None:
        what = "CUDA device" if args.device == "cuda" else "emulator"
        print(f"gpu_probe: no usable {what}: {reason}", file=sys.stderr)
        return 1
    if args.device == "emulator":
        print("gpu_probe: on minigan's CPU emulator: timings say nothing about a GPU", flush=True)
    facts = {"device": args.device}
    steps = [("versions", probe.versions, ()), ("kernel_builds", probe.kernel_builds, ()),
             ("launch_overhead", probe.launch_overhead, ()),
             ("bandwidth", probe.bandwidth, (args.copy_mib * 2**20,)),
             ("convs_vs_reference", probe.convs_vs_reference, (args.batch,))]
    for name, fn, fn_args in steps:
        start = time.perf_counter()
        facts[name] = probe.guarded(fn, args.device, *fn_args)
        _print_fact(name, facts[name], time.perf_counter() - start)
    if args.json:
        write_text(args.json, json.dumps(facts, indent=1, default=str))
    return 0


main = program_main(PROG, _main, __name__,
                    memory_hint="a smaller --batch or --copy-mib needs less")
