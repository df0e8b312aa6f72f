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

from minigan.cli import (COUNT, POSITIVE_INT, Parser, UsageError, add_device, add_seed,
                         check_output, check_source, device_from, program_main)
from minigan.data.sources import FORMS
from minigan.experiments.turing_page import load_turing_images, make_turing_page
from minigan.io.atomic import write_text
from minigan.simgan import load_refiner

PROG = "python -m minigan.turing"


def parse_args(argv=None):
    parser = Parser(PROG, __doc__)
    parser.add_argument("--refined", required=True, metavar="SRC",
                        help="refined images (or synthetic ones, with --refiner): "
                             + ", ".join(FORMS))
    parser.add_argument("--real", required=True, metavar="SRC", help="real(-style) images")
    parser.add_argument("--n", type=POSITIVE_INT, default=50, metavar="N",
                        help="images of each kind to classify (paper: 50)")
    parser.add_argument("--examples", type=COUNT, default=10, metavar="N",
                        help="labelled examples of each kind kept on screen (paper: 20 in all)")
    parser.add_argument("--refiner", metavar="CKPT", help="refine the --refined images first")
    parser.add_argument("--out", default="turing.html", help="the HTML file to write")
    add_seed(parser, text="picks, order and rendering seed")
    add_device(parser)
    parser.add_argument("--skip-bad", action="store_true", help="skip unreadable image files")
    return parser.parse_args(argv)


def _main(argv):
    args = parse_args(argv)
    device = device_from(args)
    check_source("--refined", args.refined)
    check_source("--real", args.real)
    check_output("--out", args.out, kind="file")
    if not args.out.lower().endswith((".html", ".htm")):
        raise UsageError(f"--out {args.out}: expected a file name ending in .html (the page)")
    refiner = load_refiner(args.refiner, device=device) if args.refiner else None
    needed = args.n + args.examples
    refined, real = load_turing_images(args.refined, args.real, needed, seed=args.seed,
                                       refiner=refiner, device=device, skip_bad=args.skip_bad)
    for flag, images in (("--refined", refined), ("--real", real)):
        if len(images) < needed:
            raise UsageError(f"{flag} {getattr(args, flag[2:])}: {len(images)} images, but --n "
                             f"{args.n} plus --examples {args.examples} need {needed}")
    page = make_turing_page(real, refined, n=args.n, seed=args.seed, examples=args.examples)
    write_text(args.out, page)
    print(f"wrote {args.out}: {args.n} real and {args.n} refined images to classify, "
          f"{args.examples} labelled examples of each ({len(page) // 1024} KiB)")
    return 0


main = program_main(PROG, _main, __name__, memory_hint="a smaller --n needs less")
