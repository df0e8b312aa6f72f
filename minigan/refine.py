"""Refine synthetic eyes with a trained SimGAN refiner; labels are carried over unchanged.

    python -m minigan.refine --checkpoint runs/eyes/checkpoints/last.npz \\
        --input eyes/synthetic --out eyes/refined
    python -m minigan.refine --checkpoint CKPT --input builtin:synthetic --n 100000 --out DIR

Writes OUT/<name>.png and OUT/labels.jsonl (the format of ``minigan.make_eyes``; read it back
with ``folder:OUT``). Works in chunks of --batch-size images, so memory stays flat however many
images there are. Until it is done the work sits in OUT.partial: when a run stops (Ctrl-C, a
kill, a bad file), the same command continues it. See ``minigan.pipelines.refine_dataset``.
"""
import os
import sys

from minigan.cli import (POSITIVE_INT, Parser, add_device, add_progress, add_seed, check_output,
                         check_source, device_from, one_line, program_main,
                         progress_bar_wanted, resumable)
from minigan.data.sources import DEFAULT_BUILTIN_N, FORMS
from minigan.pipelines.refine_dataset import PARTIAL_SUFFIX, refine_source
from minigan.simgan.checkpoint import load_refiner

PROG = "python -m minigan.refine"


def parse_args(argv=None):
    parser = Parser(PROG, __doc__)
    parser.add_argument("--checkpoint", required=True, metavar="CKPT",
                        help="a .npz written by train_eyes")
    parser.add_argument("--input", required=True, metavar="SRC",
                        help=f"images to refine: {', '.join(FORMS)}")
    parser.add_argument("--out", required=True, help="new folder for the refined PNGs + labels")
    parser.add_argument("--n", type=POSITIVE_INT, metavar="N",
                        help=f"at most this many images (default: all; builtin: "
                             f"{DEFAULT_BUILTIN_N})")
    add_seed(parser, text="renderer seed for builtin: inputs")
    parser.add_argument("--batch-size", type=POSITIVE_INT, default=256, metavar="N",
                        help="images per chunk")
    add_device(parser)
    parser.add_argument("--skip-bad", action="store_true", help="skip unreadable input files")
    add_progress(parser)
    return parser.parse_args(argv)


def _main(argv):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    device = device_from(args)
    check_source("--input", args.input)
    check_output("--out", args.out)
    refiner = load_refiner(args.checkpoint, device=device)
    partial = os.path.abspath(args.out) + PARTIAL_SUFFIX
    try:
        with resumable(PROG, argv):
            count, skipped = refine_source(refiner, args.input, args.out, args.batch_size,
                                           n=args.n, seed=args.seed, skip_bad=args.skip_bad,
                                           progress=progress_bar_wanted(args),
                                           status_every=args.status_every)
    except (ValueError, OSError) as error:
        if os.path.isdir(partial) and partial not in str(error) \
                and "continue with" not in str(error):
            raise ValueError(f"{one_line(error)} (the images refined so far stay in {partial}; "
                             "the same command continues; --skip-bad skips bad files)") from None
        raise
    print(f"wrote {count} refined images and labels.jsonl to {args.out}")
    for error in skipped:
        print(f"  skipped: {error}", file=sys.stderr)
    return 0


main = program_main(PROG, _main, __name__,
                    memory_hint="a smaller --batch-size needs less; with another --batch-size "
                                "refine starts over, so remove OUT.partial first")
