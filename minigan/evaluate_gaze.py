"""Evaluate a trained refiner as the paper does: gaze error, annotation preservation, realism.

Gaze estimators are trained on synthetic and on refined eyes and tested on held-out photo-style
eyes (or MPIIGaze); annotation preservation is the pupil shift between synthetic and refined
eyes, realism a fresh critic's accuracy.

    python -m minigan.evaluate_gaze --refiner runs/eyes/checkpoints/last.npz
    python -m minigan.evaluate_gaze --refiner CKPT --preset small --upper-bound --out runs/eval
    python -m minigan.evaluate_gaze --refiner CKPT --mpiigaze ~/MPIIGaze/Data/Normalized

Prints the table in the paper's form (Table 2: % of test images within 7 degrees, and the mean
error) and writes OUT/results.json, OUT/table.md, OUT/cumulative_error.png (Figure 7) and
OUT/samples.png. The preset is ``paper`` on a GPU, ``small`` on a CPU; flags override it.
Each trained estimator is kept in OUT/parts/: after a stop, the same command goes on from there.
"""
import dataclasses
import os
import sys

from minigan.cli import (POSITIVE_INT, Parser, UsageError, add_device, add_seed, check_output,
                         device_from, preset_for, preset_in_argv, program_main, resumable,
                         show_defaults)
from minigan.data.normalize import NORMALIZATIONS
from minigan.experiments.gaze_eval import GazeEvalConfig, evaluate_refiner, format_report
from minigan.simgan import load_refiner

PROG = "python -m minigan.evaluate_gaze"


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    shown = preset_in_argv(PROG, GazeEvalConfig.PRESETS, "paper", "small", argv)
    parser = Parser(PROG, __doc__ + f"\nDefaults shown below: preset {shown}.")
    parser.add_argument("--refiner", required=True, metavar="CKPT",
                        help="a SimGAN checkpoint (.npz), e.g. RUN/checkpoints/last.npz")
    parser.add_argument("--preset", choices=sorted(GazeEvalConfig.PRESETS),
                        help="sizes: paper (GPU), small (CPU, minutes), tiny (tests) "
                             f"(default: paper on a GPU, small on a CPU; here {shown})")
    parser.add_argument("--train-n", type=POSITIVE_INT, metavar="N",
                        help="training eyes per estimator")
    parser.add_argument("--test-n", type=POSITIVE_INT, metavar="N", help="test images")
    parser.add_argument("--steps", type=POSITIVE_INT, metavar="N",
                        help="estimator training steps")
    parser.add_argument("--batch-size", type=POSITIVE_INT, metavar="N",
                        help="estimator batch size (paper: 512)")
    parser.add_argument("--normalization", choices=NORMALIZATIONS,
                        help="per-image normalization of every estimator input, training and "
                             "test (MPIIGaze's normalized eyes are histogram-equalized)")
    parser.add_argument("--upper-bound", action="store_true", default=None,
                        help="also train on labelled photo-style eyes with the same gaze "
                             "(the photo style's own geometry): the upper bound")
    parser.add_argument("--mpiigaze", metavar="DIR", help="test on MPIIGaze (normalized .mat)")
    parser.add_argument("--out", default="eval_gaze", help="output folder")
    add_seed(parser, text="seed of data, nets and batches")
    add_device(parser)
    show_defaults(parser, dataclasses.asdict(GazeEvalConfig.preset(shown)))
    return parser.parse_args(argv)


def _main(argv):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    device = device_from(args)
    if not os.path.exists(args.refiner):
        raise UsageError(f"--refiner {args.refiner}: no such checkpoint file")
    if args.mpiigaze and not os.path.exists(os.path.expanduser(args.mpiigaze)):
        raise UsageError(f"--mpiigaze {args.mpiigaze}: no such file or folder")
    check_output("--out", args.out)
    preset = preset_for(args, "paper", "small")
    config = GazeEvalConfig.preset(
        preset, train_n=args.train_n, test_n=args.test_n, steps=args.steps,
        batch_size=args.batch_size, upper_bound=args.upper_bound,
        normalization=args.normalization,
        mpiigaze=args.mpiigaze and os.path.expanduser(args.mpiigaze), seed=args.seed,
        device=device)
    refiner = load_refiner(args.refiner, device=device)
    print(f"preset {preset}: {config}")
    try:
        with resumable(PROG, argv, f"what was done is kept in {args.out}/parts"):
            report = evaluate_refiner(refiner, config, out_dir=args.out)
    except FileExistsError as error:
        raise UsageError(f"--out {args.out}: {error.strerror}") from None
    print()
    print(format_report(report))
    print(f"wrote results.json, table.md, cumulative_error.png and samples.png to {args.out}")
    return 0


main = program_main(PROG, _main, __name__,
                    memory_hint="a smaller --batch-size or --train-n needs less")
