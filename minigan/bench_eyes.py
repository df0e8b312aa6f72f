"""Time the procedural eye renderer: seconds to render N images per style.

    python -m minigan.bench_eyes              # 10,000 images of each style
    python -m minigan.bench_eyes --n 2000 --repeat 3

Prints the best of ``--repeat`` runs per style: wall-clock seconds, images per second, and
the CPU seconds the process used (summed over its threads). On a busy machine the wall time
grows with the other load while the CPU time stays close to the work itself. The renderer is
meant to draw 10,000 images of either style in under 10 s wall on a 2-core CPU.
"""
import argparse
import os
import sys
import time

from minigan.data.eyes import STYLES, render_eyes


def time_render(n, style, repeat=1, seed=0):
    """``(wall, cpu)`` seconds of the fastest of ``repeat`` calls of ``render_eyes``."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        render_eyes(n, style=style, seed=seed)
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.bench_eyes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10000, help="images per style (default 10000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per style; best is shown")
    parser.add_argument("--styles", nargs="+", choices=STYLES, default=list(STYLES))
    args = parser.parse_args(argv)
    render_eyes(16, style="photo")  # warm-up: imports and first-call costs are not rendering
    print(f"rendering {args.n} images of 35x55 per style on {os.cpu_count()} CPU core(s)")
    for style in args.styles:
        wall, cpu = time_render(args.n, style, args.repeat)
        print(f"{style:>10}: {wall:6.2f} s  ({args.n / wall:7.0f} images/s, {cpu:5.2f} CPU s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
