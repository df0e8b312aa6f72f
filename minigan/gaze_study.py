"""The gaze study: does SimGAN beat every baseline that could explain a gain? Seeds, intervals.

    python -m minigan.gaze_study --out runs/gaze_study                 # the CPU protocol
    python -m minigan.gaze_study --out runs/gaze_study --ablations     # and the ablations
    python -m minigan.gaze_study --no-simgan --factors --out runs/gap  # the gap, no refiner
    python -m minigan.gaze_study --seeds 5-9 --out runs/confirm        # replicates 5 .. 9
    python -m minigan.gaze_study --preset tiny --out /tmp/b            # a smoke test

For each replicate seed: SimGAN trained from that seed (snapshots at iterations fixed in
advance), then gaze estimators (one per estimator seed) on each training set: synthetic eyes
as rendered, the same with a hand-made degradation (blur, noise, JPEG), refined by R after
pretraining only, refined by SimGAN at each snapshot, the perfect refiner (the same eyes drawn
in the photo style) and labelled photo-style eyes (the upper bound), all normalized alike
(--normalization), each tested on the replicate's held-out photo eyes. The table gives mean
angular error (primary) and % within 7 degrees over the seeds with 95 % t-intervals, SimGAN's
paired difference to each row, and the gap split into geometry (perfect refiner - photo) and
appearance (synthetic - perfect refiner) with the share of the appearance gap each row closes.
--factors adds the factor table (each photo factor off alone, and on alone); --no-simgan runs
only the rows without a refiner. --ablations adds SimGAN variants (R's own weights instead of
their running average, no history buffer, a global D at the local loss's scale, reflect
padding, the authors' setting), each against its reference on --ablation-seeds.

Writes OUT/table.md, OUT/results.json, OUT/cumulative_error.png, OUT/samples.png, and keeps
every SimGAN run and every estimator's result: after a stop, the same command goes on.
"""
import dataclasses
import json
import sys

from minigan.cli import (POSITIVE_INT, SEEDS, Parser, UsageError, add_device, add_progress,
                         check_output, device_from, preset_for, preset_in_argv, program_main,
                         progress_bar_wanted, resumable, show_defaults)
from minigan.data.normalize import NORMALIZATIONS
from minigan.experiments.confirmatory import format_verdicts, load_protocol, run_confirmatory
from minigan.experiments.gaze_study_protocol import StudyConfig
from minigan.experiments.gaze_study_report import (compare_studies, format_comparison,
                                                 format_summary, run_study)
from minigan.simgan.config import TrainConfig

PROG = "python -m minigan.gaze_study"


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    shown = preset_in_argv(PROG, StudyConfig.PRESETS, "gpu", "cpu", argv)
    parser = Parser(PROG, __doc__ + f"\nDefaults shown below: preset {shown}.")
    parser.add_argument("--preset", choices=sorted(StudyConfig.PRESETS),
                        help="sizes: gpu, cpu (about 2 hours on one core, 3 with "
                             "--ablations), tiny (tests) "
                             f"(default: gpu on a GPU, cpu on a CPU; here {shown})")
    parser.add_argument("--seeds", type=SEEDS, metavar="SEEDS",
                        help="replicate seeds: N (0 .. N-1), A-B (A .. B), or a list: 7,11")
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
    parser.add_argument("--no-simgan", action="store_true",
                        help="only the rows without a refiner (synthetic, degraded, perfect "
                             "refiner, photo): what calibrating a renderer may look at")
    parser.add_argument("--factors", action="store_true",
                        help="also the factor rows: each photo factor off alone in the perfect "
                             "refiner's eyes, and on alone in the synthetic eyes")
    parser.add_argument("--simgan-set", nargs="+", metavar="FIELD=VALUE", default=[],
                        help="change SimGAN's TrainConfig fields from the preset's (e.g. "
                             "optimizer=adam lr=0.0002 refiner_padding=reflect); part of the "
                             "protocol")
    parser.add_argument("--ablations", action="store_true", help="also run the ablation arms")
    parser.add_argument("--ablation-seeds", type=SEEDS, metavar="SEEDS",
                        help="replicate seeds of the ablation arms (as --seeds; among them)")
    parser.add_argument("--protocol", metavar="FILE",
                        help="run the study a confirmatory protocol file fixes (seeds, sizes, "
                             "SimGAN's config) and check the claims it declares; no flag that "
                             "changes the study may come with it")
    parser.add_argument("--compare", nargs="+", metavar="FOLDER",
                        help="print SimGAN's snapshots of finished study folders side by side "
                             "(what each changed, mean error, appearance gap closed, pupil "
                             "shift) and exit")
    parser.add_argument("--out", default="runs/gaze_study", help="output folder")
    add_device(parser)
    add_progress(parser)
    defaults = StudyConfig.preset(shown).to_dict()
    defaults.update(seeds=_seed_text(defaults["seeds"]),
                    ablation_seeds=_seed_text(defaults["ablation_seeds"]))
    show_defaults(parser, defaults)
    return parser.parse_args(argv)


# flags that shape the study (refused beside --protocol): flag -> argparse dest
STUDY_FLAGS = {"--seeds": "seeds", "--estimator-seeds": "estimator_seeds",
               "--normalization": "normalization", "--train-n": "train_n", "--test-n": "test_n",
               "--steps": "steps", "--simgan-steps": "simgan_steps",
               "--checkpoints": "checkpoints", "--simgan-set": "simgan_set",
               "--no-simgan": "no_simgan", "--factors": "factors", "--ablations": "ablations",
               "--ablation-seeds": "ablation_seeds"}


def simgan_changes(pairs):
    """``["lr=0.0002", "optimizer=adam"]`` -> ``{"lr": 0.0002, "optimizer": "adam"}``: each value
    read as JSON (numbers, true/false) or else kept as text; UsageError naming a pair that is
    no TrainConfig field or whose value the config refuses."""
    fields = set(TrainConfig.cpu_preset().to_dict()) - {"steps", "seed", "device"}
    changes = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        if not equals or name not in fields:
            raise UsageError(f"--simgan-set {pair!r}: expected FIELD=VALUE with FIELD one of "
                             f"{', '.join(sorted(fields))} (steps: --simgan-steps)")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        changes[name] = tuple(value) if isinstance(value, list) else value
    try:
        TrainConfig.cpu_preset(**changes)
    except (TypeError, ValueError) as error:
        raise UsageError(f"--simgan-set: {error}") from None
    return changes


def _seed_text(seeds):
    seeds = list(seeds)
    if seeds == list(range(len(seeds))):
        return str(len(seeds))
    return ",".join(map(str, seeds))


def _main(argv):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.compare:
        print(format_comparison(compare_studies(args.compare)), end="")
        return 0
    device = device_from(args)
    check_output("--out", args.out)
    preset = preset_for(args, "gpu", "cpu")
    overrides = dict(seeds=args.seeds, estimator_seeds=args.estimator_seeds,
                     normalization=args.normalization, train_n=args.train_n, test_n=args.test_n,
                     steps=args.steps, simgan_steps=args.simgan_steps,
                     checkpoints=args.checkpoints and tuple(args.checkpoints),
                     ablations=args.ablations or None, simgan=False if args.no_simgan else None,
                     factors=args.factors or None, ablation_seeds=args.ablation_seeds,
                     device=device)
    if args.simgan_set:
        base = StudyConfig.preset(preset).simgan_overrides
        overrides["simgan_overrides"] = dict(base, **simgan_changes(args.simgan_set))
    if args.simgan_steps is not None and args.checkpoints is None:
        # the preset's curve, cut to the new length, ending at it
        kept = [c for c in StudyConfig.preset(preset).checkpoints if c < args.simgan_steps]
        overrides["checkpoints"] = tuple(kept) + (args.simgan_steps,)
    if args.seeds is not None and args.ablation_seeds is None:
        # the preset's share of ablation replicates, taken from the first of the chosen seeds
        share = len(StudyConfig.preset(preset).ablation_seeds)
        overrides["ablation_seeds"] = args.seeds[:share]
    protocol = None
    if args.protocol:
        given = [flag for flag, value in STUDY_FLAGS.items() if getattr(args, value) not in
                 (None, False, [])] + (["--preset"] if args.preset else [])
        if given:
            raise UsageError(f"--protocol {args.protocol} fixes the study; leave out "
                             f"{', '.join(given)}")
        try:
            protocol = load_protocol(args.protocol)
        except ValueError as error:
            raise UsageError(f"--protocol: {error}") from None
        config = dataclasses.replace(protocol.study, device=device)
        print(f"protocol {protocol.name} ({args.protocol}): {config}", file=sys.stderr)
    else:
        config = StudyConfig.preset(preset, **overrides)
        print(f"preset {preset}: {config}", file=sys.stderr)
    log = lambda line: print(line, file=sys.stderr)
    with resumable(PROG, argv, f"what was done is kept in {args.out}"):
        if protocol is None:
            summary = run_study(config, args.out, log=log, progress=progress_bar_wanted(args),
                                status_every=args.status_every)
        else:
            summary = run_confirmatory(protocol, config, args.out, log=log,
                                       progress=progress_bar_wanted(args),
                                       status_every=args.status_every)
    print(format_summary(summary))
    if protocol is not None:
        print(format_verdicts(protocol, summary["claims"]))
    print(f"wrote table.md, results.json, cumulative_error.png and samples.png to {args.out}")
    return 0


main = program_main(PROG, _main, __name__,
                    memory_hint="a smaller --train-n, --test-n or --preset needs less")
