"""Refine synthetic eyes with a trained SimGAN refiner; labels are carried over unchanged.

    python -m minigan.refine --checkpoint runs/eyes/checkpoints/last.npz \\
        --input eyes/synthetic --out eyes/refined
    python -m minigan.refine --checkpoint CKPT --input builtin:synthetic --n 100000 --out DIR

Writes OUT/<name>.png and OUT/labels.jsonl (the format of ``minigan.make_eyes``; read it back
with ``folder:OUT``). Works in chunks of --batch-size images, so memory stays flat however many
images there are. See ``minigan.pipelines.refine_dataset``.
"""
import argparse
import sys

from minigan.data.sources import FORMS, parse_source
from minigan.simgan.checkpoint import load_refiner
from minigan.pipelines.refine_dataset import refine_source


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.refine", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a .npz written by train_eyes")
    parser.add_argument("--input", required=True, help=f"images to refine: {', '.join(FORMS)}")
    parser.add_argument("--out", required=True, help="new folder for the refined PNGs + labels")
    parser.add_argument("--n", type=_positive_int,
                        help="at most this many images (builtin: how many to render, "
                             "default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="renderer seed for builtin: inputs")
    parser.add_argument("--batch-size", type=_positive_int, default=256, help="images per chunk")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "emulator"), default="auto")
    parser.add_argument("--skip-bad", action="store_true", help="skip unreadable input files")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser, parser.parse_args(argv)


def main(argv=None):
    parser, args = parse_args(argv)
    from tqdm import tqdm

    try:
        parse_source(args.input)
        refiner = load_refiner(args.checkpoint, device=args.device)
        with tqdm(total=args.n, unit="img", disable=args.no_progress, desc="refine") as bar:
            count, skipped = refine_source(refiner, args.input, args.out, args.batch_size, n=args.n,
                                           seed=args.seed, skip_bad=args.skip_bad,
                                           progress=bar.update)
    except (ValueError, OSError, RuntimeError, ImportError, KeyError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {count} refined images and labels.jsonl to {args.out}")
    for error in skipped:
        print(f"  skipped: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
