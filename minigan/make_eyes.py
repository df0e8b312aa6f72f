"""Write eye images as PNGs plus ``labels.jsonl``, and/or a 10 x 10 grid PNG to look at.

    python -m minigan.make_eyes --style synthetic --n 1000 --out eyes/synthetic
    python -m minigan.make_eyes --style photo --n 100 --grid tutorials/figures/eyes_photo.png
    python -m minigan.make_eyes --source mpiigaze:~/MPIIGaze --n 500 --out eyes/real --skip-bad

``--style`` renders with the procedural renderer (``--seed`` picks the eyes: the same seed
gives the same eyes, with the same labels, in both styles); ``--source`` converts any data
source ``load_source`` reads. The output folder reads back with ``folder:DIR``.
"""
import argparse
import os
import sys

from minigan.data.folder import LABELS_FILE, write_folder
from minigan.io.png import save_grid
from minigan.data.sources import FORMS, load_source


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.make_eyes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--style", choices=("synthetic", "photo"), default="synthetic",
                      help="render with the procedural renderer in this style (default)")
    what.add_argument("--source", help=f"read this data source instead: {', '.join(FORMS)}")
    parser.add_argument("--n", type=int, default=100, help="number of images (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="renderer seed (default 0)")
    parser.add_argument("--out", help="folder for NNNNN.png + labels.jsonl")
    parser.add_argument("--grid", nargs="?", const="", metavar="PNG",
                        help="also write the first 100 images as a 10x10 grid "
                             "(to PNG, default OUT/grid.png)")
    parser.add_argument("--scale", type=int, default=2, help="grid pixel size (default 2)")
    parser.add_argument("--skip-bad", action="store_true",
                        help="skip unreadable files of --source, counting them, instead of failing")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    if args.out is None and not args.grid:
        parser.error("give --out DIR, --grid PNG, or both")
    return args


def main(argv=None):
    args = parse_args(argv)
    spec = args.source or f"builtin:{args.style}"
    data = load_source(spec, n=args.n, seed=args.seed, skip_bad=args.skip_bad)
    if args.out is not None:
        write_folder(args.out, data.images, data.labels)
        print(f"wrote {len(data)} images of {spec} and {LABELS_FILE} to {args.out}")
    if args.grid is not None:
        grid = args.grid or os.path.join(args.out, "grid.png")
        os.makedirs(os.path.dirname(os.path.abspath(grid)), exist_ok=True)
        save_grid(grid, data.images[:100], nrow=10, scale=args.scale)
        print(f"wrote a grid of {min(len(data), 100)} images to {grid}")
    if data.skipped:
        print(f"skipped {len(data.skipped)} bad file(s):", file=sys.stderr)
        for error in data.skipped:
            print(f"  {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
