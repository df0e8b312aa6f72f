"""Write the paper's "visual Turing test" as one self-contained HTML page (Table 1).

    python -m minigan.turing --refined runs/refined --real builtin:photo --n 50 --out page.html
    python -m minigan.turing --refined builtin:synthetic --refiner RUN/checkpoints/last.npz \\
        --real builtin:photo --n 50 --out page.html
    python -m minigan.turing --refined builtin:synthetic --real builtin:photo --n 10 \\
        --out synthetic_vs_real.html          # the paper's control: unrefined synthetic images

Open the page in any browser: it shows N real and N refined images in a random order, one at
a time, with labelled examples of both kinds alongside; the person answers "real" or "refined"
for each; the page then shows the accuracy, the confusion matrix and the one-sided binomial
p-value against guessing (the paper: 517 of 1000 correct, p = 0.148). The page needs no server
and no network: the images are embedded, and so are the true answers.
"""
import argparse
import os

from minigan.data.sources import FORMS
from minigan.experiments.turing_page import load_turing_images, make_turing_page
from minigan.simgan import load_refiner


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.turing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refined", required=True, metavar="SRC",
                        help="refined images (or synthetic ones, with --refiner): "
                             + ", ".join(FORMS))
    parser.add_argument("--real", required=True, metavar="SRC", help="real(-style) images")
    parser.add_argument("--n", type=int, default=50, help="images of each kind (paper: 50)")
    parser.add_argument("--examples", type=int, default=10,
                        help="labelled examples of each kind kept on screen (paper: 20 in all)")
    parser.add_argument("--refiner", metavar="CKPT", help="refine the --refined images first")
    parser.add_argument("--out", default="turing.html", help="the HTML file to write")
    parser.add_argument("--seed", type=int, default=0, help="picks, order and rendering seed")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "emulator"), default="auto")
    parser.add_argument("--skip-bad", action="store_true", help="skip unreadable image files")
    args = parser.parse_args(argv)
    if args.n < 1 or args.examples < 0:
        parser.error("--n must be at least 1 and --examples at least 0")
    if args.refiner and not os.path.isfile(args.refiner):
        parser.error(f"--refiner {args.refiner}: no such checkpoint file")
    return args


def main(argv=None):
    args = parse_args(argv)
    refiner = load_refiner(args.refiner, device=args.device) if args.refiner else None
    refined, real = load_turing_images(args.refined, args.real, args.n + args.examples,
                                       seed=args.seed, refiner=refiner, device=args.device,
                                       skip_bad=args.skip_bad)
    page = make_turing_page(real, refined, n=args.n, seed=args.seed, examples=args.examples)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(page)
    print(f"wrote {args.out}: {args.n} real and {args.n} refined images to classify, "
          f"{args.examples} labelled examples of each ({len(page) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
