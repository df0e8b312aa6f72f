"""Write eye images as PNGs plus ``labels.jsonl``, and/or a 10 x 10 grid PNG to look at.

    python -m minigan.make_eyes --style synthetic --n 1000 --out eyes/synthetic
    python -m minigan.make_eyes --style photo --n 100 --grid tutorials/figures/eyes_photo.png
    python -m minigan.make_eyes --source mpiigaze:~/MPIIGaze --n 500 --out eyes/real --skip-bad

``--style`` renders with the procedural renderer (``--seed`` picks the eyes; each style draws
its own people, head poses and crops, so one seed gives the same gaze directions in both
styles, not the same eyes); ``--source`` converts any data
source ``load_source`` reads. The output folder reads back with ``folder:DIR``; it must be new
(or empty), and it appears only when every file is written. The renderer runs on the CPU
whatever ``--device`` says.
"""
import os
import sys

from minigan.cli import (POSITIVE_INT, Parser, UsageError, add_device, add_seed, check_output,
                         check_source, device_from, program_main)
from minigan.data.folder import LABELS_FILE, write_folder
from minigan.data.sources import FORMS, load_source
from minigan.io.folders import new_folder
from minigan.io.png import save_grid

PROG = "python -m minigan.make_eyes"


def parse_args(argv=None):
    parser = Parser(PROG, __doc__)
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--style", choices=("synthetic", "photo"), default="synthetic",
                      help="render with the procedural renderer in this style")
    what.add_argument("--source", metavar="SRC",
                      help=f"read this data source instead: {', '.join(FORMS)}")
    parser.add_argument("--n", type=POSITIVE_INT, default=100, metavar="N",
                        help="number of images")
    add_seed(parser, text="renderer seed")
    parser.add_argument("--out", help="new folder for NNNNN.png + labels.jsonl")
    parser.add_argument("--grid", nargs="?", const="", metavar="PNG",
                        help="also write the first 100 images as a 10x10 grid "
                             "(to PNG, default OUT/grid.png)")
    parser.add_argument("--scale", type=POSITIVE_INT, default=2, metavar="N",
                        help="grid pixel size")
    add_device(parser)
    parser.add_argument("--skip-bad", action="store_true",
                        help="skip unreadable files of --source, counting them, instead of failing")
    args = parser.parse_args(argv)
    if args.out is None and not args.grid:
        parser.error("give --out DIR, --grid PNG, or both")
    return args


def _check_outputs(args):
    """Fail before any work when an output cannot be written."""
    if args.out is not None:
        check_output("--out", args.out)
        if os.path.isdir(args.out) and os.listdir(args.out):
            raise UsageError(f"--out {args.out}: the folder is not empty; images go to a new "
                             "folder (nothing was written)")
    if args.grid:
        if not args.grid.lower().endswith(".png"):
            raise UsageError(f"--grid {args.grid}: expected a file name ending in .png")
        check_output("--grid", args.grid, kind="file")
        if args.out is not None and _inside(args.grid, args.out):
            raise UsageError(f"--grid {args.grid}: it is inside --out {args.out}, whose files "
                             "are the images; give --grid alone (OUT/grid.png) or a path "
                             "outside")


def _inside(path, folder):
    path, folder = os.path.abspath(path), os.path.abspath(folder)
    return os.path.commonpath([path, folder]) == folder


def _main(argv):
    args = parse_args(argv)
    device_from(args)
    spec = args.source or f"builtin:{args.style}"
    check_source("--source", spec)
    _check_outputs(args)
    data = load_source(spec, n=args.n, seed=args.seed, skip_bad=args.skip_bad)
    grid = args.grid
    if args.out is not None:
        with new_folder(args.out, "make_eyes") as staging:
            write_folder(staging, data.images, data.labels)
            if grid == "":
                save_grid(os.path.join(staging, "grid.png"), data.images[:100], nrow=10,
                          scale=args.scale)
        print(f"wrote {len(data)} images of {spec} and {LABELS_FILE} to {args.out}")
        grid = grid or os.path.join(args.out, "grid.png")
    if args.grid:
        save_grid(grid, data.images[:100], nrow=10, scale=args.scale)
    if args.grid is not None:
        print(f"wrote a grid of {min(len(data), 100)} images to {grid}")
    if data.skipped:
        print(f"skipped {len(data.skipped)} bad file(s):", file=sys.stderr)
        for error in data.skipped:
            print(f"  {error}", file=sys.stderr)
    return 0


main = program_main(PROG, _main, __name__, memory_hint="a smaller --n needs less")
