"""The gaze study: does SimGAN beat every baseline that could explain a gain? Seeds, intervals.

    python -m minigan.gaze_study --out runs/gaze_study                 # the CPU protocol
    python -m minigan.gaze_study --out runs/gaze_study --ablations     # and the ablations
    python -m minigan.gaze_study --preset tiny --out /tmp/b           # a smoke test

For each replicate seed: SimGAN trained from that seed (snapshots at iterations fixed in
advance), then gaze estimators (one per estimator seed) on each training set: synthetic eyes
as rendered, the same with a hand-made degradation (blur, noise, JPEG), refined by R after
pretraining only, refined by SimGAN at each snapshot, and labelled photo-style eyes (the upper
bound), all normalized alike (--normalization), each tested on the replicate's held-out photo
eyes. The table gives mean angular error (primary) and % within 7 degrees over the seeds with
95 % t-intervals, and SimGAN's paired difference to each row. --ablations adds SimGAN variants
(R's own weights instead of their running average, no history buffer, a global D at the
local loss's scale, reflect padding, the authors' setting), each against its reference on
--ablation-seeds.

Writes OUT/table.md, OUT/results.json, OUT/cumulative_error.png, OUT/samples.png, and keeps
every SimGAN run and every estimator's result: after a stop, the same command goes on.
"""
import sys

from minigan.cli import (POSITIVE_INT, Parser, add_device, add_progress, check_output,
                         device_from, preset_for, preset_in_argv, program_main,
                         progress_bar_wanted, resumable, show_defaults)
from minigan.data.normalize import NORMALIZATIONS
from minigan.experiments.gaze_study_protocol import StudyConfig
from minigan.experiments.gaze_study_report import format_summary, run_study

PROG = "python -m minigan.gaze_study"


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    shown = preset_in_argv(PROG, StudyConfig.PRESETS, "gpu", "cpu", argv)
    parser = Parser(PROG, __doc__ + f"\nDefaults shown below: preset {shown}.")
    parser.add_argument("--preset", choices=sorted(StudyConfig.PRESETS),
                        help="sizes: gpu, cpu (about 2 hours on one core, 3 with "
                             "--ablations), tiny (tests) "
                             f"(default: gpu on a GPU, cpu on a CPU; here {shown})")
    parser.add_argument("--seeds", type=POSITIVE_INT, metavar="N",
                        help="replicates: seeds 0 .. N-1")
    parser.add_argument("--estimator-seeds", type=POSITIVE_INT, metavar="N",
                        help="gaze estimators per training set and replicate")
    parser.add_argument("--normalization", choices=NORMALIZATIONS,
                        help="per-image normalization of every estimator input (MPIIGaze's "
                             "normalized eyes are histogram-equalized)")
    parser.add_argument("--train-n", type=POSITIVE_INT, metavar="N",
                        help="training eyes per estimator")
    parser.add_argument("--test-n", type=POSITIVE_INT, metavar="N", help="test eyes per seed")
    parser.add_argument("--steps", type=POSITIVE_INT, metavar="N",
                        help="gaze estimator training steps")
    parser.add_argument("--simgan-steps", type=POSITIVE_INT, metavar="N",
                        help="SimGAN iterations (the last snapshot)")
    parser.add_argument("--checkpoints", type=int, nargs="+", metavar="IT",
                        help="iterations SimGAN is evaluated at (0: pretraining only; the last "
                             "must be --simgan-steps)")
    parser.add_argument("--ablations", action="store_true", help="also run the ablation arms")
    parser.add_argument("--ablation-seeds", type=POSITIVE_INT, metavar="N",
                        help="replicates of the ablation arms: seeds 0 .. N-1")
    parser.add_argument("--out", default="runs/gaze_study", help="output folder")
    add_device(parser)
    add_progress(parser)
    defaults = StudyConfig.preset(shown).to_dict()
    defaults.update(seeds=len(defaults["seeds"]), ablation_seeds=len(defaults["ablation_seeds"]))
    show_defaults(parser, defaults)
    return parser.parse_args(argv)


def _main(argv):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    device = device_from(args)
    check_output("--out", args.out)
    preset = preset_for(args, "gpu", "cpu")
    count = lambda n: None if n is None else tuple(range(n))  # noqa: E731
    overrides = dict(seeds=count(args.seeds), estimator_seeds=args.estimator_seeds,
                     normalization=args.normalization, train_n=args.train_n, test_n=args.test_n,
                     steps=args.steps, simgan_steps=args.simgan_steps,
                     checkpoints=args.checkpoints and tuple(args.checkpoints),
                     ablations=args.ablations or None,
                     ablation_seeds=count(args.ablation_seeds), device=device)
    if args.simgan_steps is not None and args.checkpoints is None:
        # the preset's curve, cut to the new length, ending at it
        kept = [c for c in StudyConfig.preset(preset).checkpoints if c < args.simgan_steps]
        overrides["checkpoints"] = tuple(kept) + (args.simgan_steps,)
    if args.seeds is not None and args.ablation_seeds is None:
        overrides["ablation_seeds"] = tuple(s for s in StudyConfig.preset(preset).ablation_seeds
                                            if s < args.seeds) or (0,)
    config = StudyConfig.preset(preset, **overrides)
    print(f"preset {preset}: {config}", file=sys.stderr)
    with resumable(PROG, argv, f"what was done is kept in {args.out}"):
        summary = run_study(config, args.out, log=lambda line: print(line, file=sys.stderr),
                            progress=progress_bar_wanted(args), status_every=args.status_every)
    print(format_summary(summary))
    print(f"wrote table.md, results.json, cumulative_error.png and samples.png to {args.out}")
    return 0


main = program_main(PROG, _main, __name__,
                    memory_hint="a smaller --train-n, --test-n or --preset needs less")
