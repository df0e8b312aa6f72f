"""Run the paper's ablations and a lambda sweep, and tabulate what each does to the metrics.

    python -m minigan.ablations --preset small --out runs/ablations
    python -m minigan.ablations --preset paper --lambdas 0.01 0.05 0.2 --out runs/ablations
    python -m minigan.ablations --preset small --variants SimGAN "no history buffer"

Variants: SimGAN as configured; no history buffer; global instead of local adversarial loss;
one run per --lambdas value. Each trains SimGAN from scratch (same data and seed), then a gaze
estimator on its refined eyes, tested on held-out photo-style eyes; the table gives % within 7
degrees, mean error, pupil shift and a fresh critic's refined-vs-real accuracy, with a
"no refiner" reference row. Writes OUT/ablations.md, OUT/ablations.json and one folder per
variant (its SimGAN run and eval/). The preset is ``paper`` on a GPU, ``small`` on a CPU.
"""
import argparse

from minigan.experiments.ablation_study import (DEFAULT_LAMBDAS, TRAIN_PRESETS, ablation_configs,
                                           format_ablations, run_ablations)
from minigan.experiments.gaze_eval import default_preset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.ablations", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(TRAIN_PRESETS),
                        help="sizes of SimGAN training and of the evaluation "
                             "(default: paper on a GPU, small on a CPU)")
    parser.add_argument("--lambdas", type=float, nargs="*", default=list(DEFAULT_LAMBDAS),
                        help=f"lambda sweep (default: {' '.join(map(str, DEFAULT_LAMBDAS))})")
    parser.add_argument("--variants", nargs="+", metavar="NAME",
                        help="run only these variants (names as in the table)")
    parser.add_argument("--simgan-steps", type=int, help="SimGAN iterations per variant")
    parser.add_argument("--train-n", type=int, help="training eyes per gaze estimator")
    parser.add_argument("--test-n", type=int, help="test images")
    parser.add_argument("--steps", type=int, help="gaze estimator training steps")
    parser.add_argument("--out", default="ablations", help="output folder (default ablations)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "emulator"), default="auto")
    parser.add_argument("--progress", action="store_true", help="show SimGAN progress bars")
    args = parser.parse_args(argv)
    if any(lam < 0 for lam in args.lambdas):
        parser.error("--lambdas must be >= 0")
    for name in ("simgan_steps", "train_n", "test_n", "steps"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    preset = args.preset or default_preset(args.device)
    train_config, eval_config = ablation_configs(
        preset, seed=args.seed, device=args.device,
        train_overrides={"steps": args.simgan_steps},
        eval_overrides={"train_n": args.train_n, "test_n": args.test_n, "steps": args.steps})
    print(f"preset {preset}\nSimGAN: {train_config}\nevaluation: {eval_config}")
    result = run_ablations(train_config, eval_config, args.out, lambdas=args.lambdas,
                           variants=args.variants, progress=args.progress)
    print()
    print(format_ablations(result["rows"], result["test_set"]))
    print(f"wrote ablations.md, ablations.json and one folder per variant to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
