"""Print image statistics of eye data sources, to hold a simulator against real data.

    python -m minigan.eye_stats builtin:synthetic builtin:photo
    python -m minigan.eye_stats unityeyes:~/UnityEyes mpiigaze:~/MPIIGaze --n 2000
    python -m minigan.eye_stats folder:eyes/refined --skip-bad

For each source (any spec ``load_source`` reads: builtin:STYLE, folder:DIR, unityeyes:DIR,
mpiigaze:DIR, h5:FILE) it prints one row of a Markdown table: the mean and the spread over
images of the per-image mean brightness, the mean per-image contrast (std), the 3x3
high-frequency residual mean |x - box3(x)|, the share of nearly flat 5x5 neighbourhoods
(std < 0.01) and how the pixels fill the quarters of [-1, 1]. Pixel values are in [-1, 1].
See ``minigan.data.image_statistics``. Files are read in their order (at most --n of them);
builtin sources render --n images from --seed.
"""
import sys

from minigan.cli import COUNT, POSITIVE_INT, Parser, UsageError, check_source, program_main
from minigan.data.image_statistics import eye_statistics, format_statistics
from minigan.data.sources import FORMS, load_source

PROG = "python -m minigan.eye_stats"


def parse_args(argv=None):
    parser = Parser(PROG, __doc__)
    parser.add_argument("sources", nargs="+", metavar="SPEC",
                        help=f"data sources: {', '.join(FORMS)}")
    parser.add_argument("--n", type=POSITIVE_INT, default=1000, metavar="N",
                        help="images per source (builtin: rendered; files: at most, in file "
                             "order)")
    parser.add_argument("--seed", type=COUNT, default=0, metavar="N",
                        help="renderer seed for builtin: sources")
    parser.add_argument("--skip-bad", action="store_true",
                        help="skip unreadable files instead of failing")
    return parser.parse_args(argv)


def _main(argv):
    args = parse_args(argv)
    for spec in args.sources:
        check_source("SPEC", spec)   # every spec checked before the first is loaded
    rows = {}
    for spec in args.sources:
        data = load_source(spec, n=args.n, seed=args.seed, skip_bad=args.skip_bad)
        if len(data) == 0:
            raise UsageError(f"{spec}: no images found")
        rows[spec] = eye_statistics(data.images)
        for error in data.skipped:
            print(f"  {spec}: skipped {error}", file=sys.stderr)
    print(format_statistics(rows))
    return 0


main = program_main(PROG, _main, __name__, memory_hint="a smaller --n needs less")
