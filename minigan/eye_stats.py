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
import argparse
import sys

from minigan.data.image_statistics import eye_statistics, format_statistics
from minigan.data.sources import FORMS, load_source, parse_source


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.eye_stats", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="+", metavar="SPEC",
                        help=f"data sources: {', '.join(FORMS)}")
    parser.add_argument("--n", type=int, default=1000,
                        help="images per source (builtin: rendered; files: at most, in file "
                             "order; default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="renderer seed for builtin: sources")
    parser.add_argument("--skip-bad", action="store_true",
                        help="skip unreadable files instead of failing")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    return parser, args


def main(argv=None):
    parser, args = parse_args(argv)
    rows = {}
    try:
        for spec in args.sources:
            parse_source(spec)   # every spec checked before the first is loaded
        for spec in args.sources:
            data = load_source(spec, n=args.n, seed=args.seed, skip_bad=args.skip_bad)
            if len(data) == 0:
                raise ValueError(f"{spec}: no images found")
            rows[spec] = eye_statistics(data.images)
            for error in data.skipped:
                print(f"  {spec}: skipped {error}", file=sys.stderr)
    except (ValueError, OSError, ImportError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    print(format_statistics(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
