"""Time the procedural eye renderer: seconds to render N images per style.

    python -m minigan.bench_eyes              # 10,000 images of each style
    python -m minigan.bench_eyes --n 2000 --repeat 3

Prints the best of ``--repeat`` runs per style: wall-clock seconds, images per second, and
the CPU seconds the process used (summed over its threads). On a busy machine the wall time
grows with the other load while the CPU time stays close to the work itself. The target is
under 10 s wall for 10,000 images of either style on a 2-core CPU. The renderer is NumPy code:
it runs on the CPU whatever --device says.
"""
import os
import time

from minigan.cli import POSITIVE_INT, Parser, add_device, device_from, program_main
from minigan.data.eyes import STYLES, render_eyes

PROG = "python -m minigan.bench_eyes"


def time_render(n, style, repeat=1, seed=0):
    """``(wall, cpu)`` seconds of the fastest of ``repeat`` calls of ``render_eyes``."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        render_eyes(n, style=style, seed=seed)
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def _main(argv):
    parser = Parser(PROG, __doc__)
    parser.add_argument("--n", type=POSITIVE_INT, default=10000, metavar="N",
                        help="images per style")
    parser.add_argument("--repeat", type=POSITIVE_INT, default=1, metavar="N",
                        help="runs per style; best is shown")
    parser.add_argument("--styles", nargs="+", choices=STYLES, default=list(STYLES))
    add_device(parser)
    args = parser.parse_args(argv)
    device_from(args)  # checked like every program's; the renderer itself runs on the CPU
    render_eyes(16, style="photo")  # warm-up: imports and first-call costs are not rendering
    print(f"rendering {args.n} images of 35x55 per style on {os.cpu_count()} CPU core(s)")
    for style in args.styles:
        wall, cpu = time_render(args.n, style, args.repeat)
        print(f"{style:>10}: {wall:6.2f} s  ({args.n / wall:7.0f} images/s, {cpu:5.2f} CPU s)")
    return 0


main = program_main(PROG, _main, __name__, memory_hint="a smaller --n needs less")
