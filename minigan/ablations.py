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

The study resumes: the same command after a stop (Ctrl-C, a kill) reads the finished variants
back, continues the one that was training from its checkpoint, and does the rest.
"""
import sys

from minigan.cli import (NON_NEGATIVE, POSITIVE_INT, Parser, UsageError, add_device,
                         add_progress, add_seed, check_output, device_from, preset_for,
                         preset_in_argv, program_main, progress_bar_wanted, resumable,
                         show_defaults)
from minigan.data.normalize import NORMALIZATIONS
from minigan.experiments.ablation_study import (DEFAULT_LAMBDAS, TRAIN_PRESETS, ablation_configs,
                                                ablation_variants, format_ablations,
                                                run_ablations)

PROG = "python -m minigan.ablations"


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    shown = preset_in_argv(PROG, TRAIN_PRESETS, "paper", "small", argv)
    train, evaluation = ablation_configs(shown, device="cpu")
    parser = Parser(PROG, __doc__ + f"\nDefaults shown below: preset {shown}.")
    parser.add_argument("--preset", choices=sorted(TRAIN_PRESETS),
                        help="sizes of SimGAN training and of the evaluation "
                             f"(default: paper on a GPU, small on a CPU; here {shown})")
    parser.add_argument("--lambdas", type=NON_NEGATIVE, nargs="*", default=list(DEFAULT_LAMBDAS),
                        metavar="X", help="lambda sweep")
    parser.add_argument("--variants", nargs="+", metavar="NAME",
                        help="run only these variants (names as in the table; default: all)")
    parser.add_argument("--simgan-steps", type=POSITIVE_INT, metavar="N",
                        help="SimGAN iterations per variant")
    parser.add_argument("--train-n", type=POSITIVE_INT, metavar="N",
                        help="training eyes per gaze estimator")
    parser.add_argument("--test-n", type=POSITIVE_INT, metavar="N", help="test images")
    parser.add_argument("--steps", type=POSITIVE_INT, metavar="N",
                        help="gaze estimator training steps")
    parser.add_argument("--normalization", choices=NORMALIZATIONS,
                        help="per-image normalization of every estimator input")
    parser.add_argument("--out", default="ablations", help="output folder")
    add_seed(parser)
    add_device(parser)
    add_progress(parser)
    show_defaults(parser, {"simgan_steps": train.steps, "train_n": evaluation.train_n,
                           "test_n": evaluation.test_n, "steps": evaluation.steps,
                           "normalization": evaluation.normalization})
    return parser.parse_args(argv)


def _main(argv):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    device = device_from(args)
    check_output("--out", args.out)
    names = [name for name, _ in ablation_variants(args.lambdas)]
    unknown = sorted(set(args.variants or ()) - set(names))
    if unknown:
        raise UsageError(f"--variants: unknown {', '.join(map(repr, unknown))}; choose from "
                         f"{', '.join(map(repr, names))}")
    preset = preset_for(args, "paper", "small")
    train_config, eval_config = ablation_configs(
        preset, seed=args.seed, device=device,
        train_overrides={"steps": args.simgan_steps},
        eval_overrides={"train_n": args.train_n, "test_n": args.test_n, "steps": args.steps,
                        "normalization": args.normalization})
    print(f"preset {preset}\nSimGAN: {train_config}\nevaluation: {eval_config}")
    with resumable(PROG, argv, f"finished variants are kept in {args.out}"):
        result = run_ablations(train_config, eval_config, args.out, lambdas=args.lambdas,
                               variants=args.variants, progress=progress_bar_wanted(args),
                               status_every=args.status_every)
    print()
    print(format_ablations(result["rows"], result["test_set"]))
    print(f"wrote ablations.md, ablations.json and one folder per variant to {args.out}")
    return 0


main = program_main(PROG, _main, __name__,
                    memory_hint="a smaller --train-n, --test-n or --preset needs less")
