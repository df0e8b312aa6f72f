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
"""
import argparse
import os

from minigan.experiments.gaze_eval import (GazeEvalConfig, default_preset, evaluate_refiner,
                                           format_report)
from minigan.simgan import load_refiner


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.evaluate_gaze", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refiner", required=True, metavar="CKPT",
                        help="a SimGAN checkpoint (.npz), e.g. RUN/checkpoints/last.npz")
    parser.add_argument("--preset", choices=sorted(GazeEvalConfig.PRESETS),
                        help="sizes: paper (GPU), small (CPU, minutes), tiny (tests); "
                             "default: paper on a GPU, small on a CPU")
    parser.add_argument("--train-n", type=int, help="training eyes per estimator")
    parser.add_argument("--test-n", type=int, help="test images")
    parser.add_argument("--steps", type=int, help="estimator training steps")
    parser.add_argument("--batch-size", type=int, help="estimator batch size (paper: 512)")
    parser.add_argument("--upper-bound", action="store_true", default=None,
                        help="also train on photo-style renders of the same eyes")
    parser.add_argument("--mpiigaze", metavar="DIR", help="test on MPIIGaze (normalized .mat)")
    parser.add_argument("--out", default="eval_gaze", help="output folder (default eval_gaze)")
    parser.add_argument("--seed", type=int, default=0, help="seed of data, nets and batches")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "emulator"), default="auto")
    args = parser.parse_args(argv)
    for name in ("train_n", "test_n", "steps", "batch_size"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not os.path.isfile(args.refiner):
        parser.error(f"--refiner {args.refiner}: no such checkpoint file")
    if args.mpiigaze and not os.path.exists(os.path.expanduser(args.mpiigaze)):
        parser.error(f"--mpiigaze {args.mpiigaze}: no such file or folder")
    return args


def main(argv=None):
    args = parse_args(argv)
    preset = args.preset or default_preset(args.device)
    config = GazeEvalConfig.preset(
        preset, train_n=args.train_n, test_n=args.test_n, steps=args.steps,
        batch_size=args.batch_size, upper_bound=args.upper_bound,
        mpiigaze=args.mpiigaze and os.path.expanduser(args.mpiigaze), seed=args.seed,
        device=args.device)
    print(f"preset {preset}: {config}")
    refiner = load_refiner(args.refiner, device=config.device)
    report = evaluate_refiner(refiner, config, out_dir=args.out)
    print()
    print(format_report(report))
    print(f"wrote results.json, table.md, cumulative_error.png and samples.png to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
