"""Train SimGAN to make synthetic eyes look real.

    python -m minigan.train_eyes                       # built-in renderer: synthetic -> photo
    python -m minigan.train_eyes --steps 50 --out runs/quick
    python -m minigan.train_eyes --synthetic unityeyes:~/UnityEyes --real mpiigaze:~/MPIIGaze
    python -m minigan.train_eyes --resume runs/eyes --steps 600      # go on, to 600 iterations
    python -m minigan.train_eyes --preset cpu --help                 # the values of a preset
    python -m minigan.train_eyes --preset lesson                     # under a minute on a CPU

With no arguments it trains on the GPU when one is usable (the paper's sizes) and otherwise on
the CPU with a small preset that finishes in under 10 minutes. Every hyperparameter has a flag;
a flag overrides the preset. Output: a run folder (config.json, log.jsonl, samples/,
loss_curve.png, checkpoints/last.npz); see ``minigan.simgan.run_folder``. Ctrl-C stops after
the current step with a checkpoint; --resume goes on from it (or from any run that was stopped).
"""
import contextlib
import os
import re
import shlex
import sys
import time

from minigan.cli import (COUNT, NON_NEGATIVE, POSITIVE, POSITIVE_INT, Parser, UsageError,
                         add_device, add_progress, check_output, check_source, device_from,
                         preset_for, program_main, progress_bar_wanted, resumable, show_defaults)
from minigan.cli.device import requested_device
from minigan.data.sources import FORMS
from minigan.pipelines.training_run import (claim_new_run_folder, format_summary, new_run,
                                            resumed_run, train_run)
from minigan.simgan.config import OPTIMIZERS, PADDINGS, PSI_CHOICES, TrainConfig
from minigan.simgan.run_folder import RunFolder
from minigan.simgan.trainer import TrainingDiverged

PROG = "python -m minigan.train_eyes"
PRESETS = ("auto", "gpu", "cpu", "lesson")

# flag -> (TrainConfig field, type, help); defaults come from the preset, so argparse's are None
FLAGS = {
    "--steps": ("steps", POSITIVE_INT, "T: iterations of Algorithm 1 in all"),
    "--batch-size": ("batch_size", POSITIVE_INT, "b: mini-batch size (even)"),
    "--lr": ("lr", POSITIVE, "learning rate of both networks (may change on --resume)"),
    "--optimizer": ("optimizer", str, f"one of {', '.join(OPTIMIZERS)}"),
    "--momentum": ("momentum", NON_NEGATIVE, "SGD momentum"),
    "--lam": ("lam", NON_NEGATIVE, "lambda, weight of the self-regularization"),
    "--pretrain-lam": ("pretrain_lam", POSITIVE, "weight of the self-regularization while "
                                                 "pretraining R"),
    "--psi": ("psi", str, f"self-regularization feature map: {', '.join(PSI_CHOICES)}"),
    "--k-g": ("k_g", POSITIVE_INT, "refiner steps per iteration"),
    "--k-d": ("k_d", POSITIVE_INT, "discriminator steps per iteration"),
    "--pretrain-refiner-steps": ("pretrain_refiner_steps", COUNT, "R on self-regularization only"),
    "--pretrain-discriminator-steps": ("pretrain_discriminator_steps", COUNT, "D before training"),
    "--average-decay": ("average_decay", NON_NEGATIVE, "running average of the refiner's "
                                                       "weights, saved and shown (0: off)"),
    "--history-batches": ("history_batches", POSITIVE_INT, "size of the history buffer, in "
                                                           "mini-batches (B = N x batch size)"),
    "--channels": ("refiner_channels", POSITIVE_INT, "refiner feature maps (paper: 64)"),
    "--blocks": ("refiner_blocks", COUNT, "refiner ResNet blocks (paper: 4)"),
    "--refiner-padding": ("refiner_padding", str, "what the refiner's 3x3 convolutions pad "
                                                  f"with: {', '.join(PADDINGS)}"),
    "--discriminator-width": ("discriminator_width", POSITIVE, "D channel multiplier (paper: 1)"),
    "--sample-every": ("sample_every", POSITIVE_INT, "iterations between sample grids"),
    "--checkpoint-every": ("checkpoint_every", POSITIVE_INT, "iterations between checkpoints"),
    "--keep-checkpoints": ("keep_checkpoints", COUNT, "also keep the newest N periodic "
                                                      "checkpoints (iteration_NNNNNN.npz)"),
    "--n-synthetic": ("n_synthetic", POSITIVE_INT, "synthetic images to load (at most)"),
    "--n-real": ("n_real", POSITIVE_INT, "real images to load (at most)"),
    "--synthetic": ("synthetic", str, f"synthetic data: {', '.join(FORMS)}"),
    "--real": ("real", str, "real (unlabelled) data, same forms"),
    "--seed": ("seed", COUNT, "seed of every random draw"),
}
METAVARS = {POSITIVE_INT: "N", COUNT: "N", POSITIVE: "X", NON_NEGATIVE: "X"}
FIELD_FLAGS = {field: flag for flag, (field, _, _) in FLAGS.items()}
CHOICES = {"--optimizer": OPTIMIZERS, "--psi": PSI_CHOICES, "--refiner-padding": PADDINGS}
SWITCHES = ("use_history", "global_adversarial", "global_loss_scale", "discriminator_batch_norm")


def _defaults_for_help(argv):
    """(TrainConfig whose values --help shows, where they come from)."""
    early = Parser(PROG, add_help=False)
    early.add_argument("--preset", choices=PRESETS, default="auto")
    early.add_argument("--resume")
    add_device(early)
    known, _ = early.parse_known_args(argv)
    if known.resume:
        try:
            return resumed_run(known.resume, {}).config, f"the run in {known.resume}"
        except (ValueError, OSError):
            pass
    name = preset_for(known, "gpu", "cpu")
    return _preset(name)(), f"preset {name}"


def _preset(name):
    return {"gpu": TrainConfig.gpu_preset, "cpu": TrainConfig.cpu_preset,
            "lesson": TrainConfig.lesson_preset}[name]


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    shown, source = _defaults_for_help(argv)
    parser = Parser(PROG, __doc__ + f"\nDefaults shown below: {source}.")
    parser.add_argument("--preset", choices=PRESETS, default="auto",
                        help="defaults to start from (auto: gpu on a GPU, else cpu; lesson: "
                             "under a minute on a CPU, for a classroom)")
    add_device(parser)
    parser.add_argument("--out", help="run folder (default: runs/eyes, runs/eyes-2, ...)")
    parser.add_argument("--resume", metavar="RUN", help="continue the run in this folder")
    for flag, (field, kind, text) in FLAGS.items():
        parser.add_argument(flag, dest=field, type=kind, choices=CHOICES.get(flag), help=text,
                            metavar=None if flag in CHOICES else METAVARS.get(kind, "SRC"))
    parser.add_argument("--n", type=POSITIVE_INT, metavar="N",
                        help="sets both --n-synthetic and --n-real")
    parser.add_argument("--no-history", dest="use_history", action="store_const", const=False,
                        help="D sees only the current refined images (ablation; default: "
                             f"{'with' if shown.use_history else 'without'} history)")
    parser.add_argument("--global-adversarial", action="store_const", const=True,
                        help="whole-image D with a fully connected layer (ablation; default: "
                             f"{'global' if shown.global_adversarial else 'local'} D)")
    parser.add_argument("--no-global-loss-scale", dest="global_loss_scale",
                        action="store_const", const=False,
                        help="leave the global D's loss at one term per image instead of "
                             "scaling it to the local D's patch count")
    parser.add_argument("--discriminator-batch-norm", action="store_const", const=True,
                        help="batch norm in D, as the authors' notes describe (default: "
                             f"{'on' if shown.discriminator_batch_norm else 'off'})")
    parser.add_argument("--authors-setting", action="store_true",
                        help="the authors' notes: batch norm in D, K_g = 50, K_d = 1, and "
                             "--steps cut so the refiner takes as many steps as before "
                             "(--k-g, --k-d, --steps given as well win)")
    parser.add_argument("--skip-bad", action="store_true", help="skip unreadable data files")
    add_progress(parser)
    show_defaults(parser, shown.to_dict())
    args = parser.parse_args(argv)
    if args.resume and args.out:
        parser.error("--resume RUN continues in RUN; do not give --out as well")
    if args.resume and args.authors_setting:
        parser.error("--authors-setting chooses how a new run trains; a resumed run keeps its own")
    return args


def _overrides(args):
    fields = [field for field, _, _ in FLAGS.values()] + list(SWITCHES)
    changes = {field: getattr(args, field) for field in fields if getattr(args, field) is not None}
    if args.n is not None:
        changes.update(n_synthetic=args.n, n_real=args.n)
    return changes


def _with_flag_names(error):
    """A TrainConfig message with its field names as the flags that set them."""
    text = re.sub(r"TrainConfig\.(\w+)", lambda m: FIELD_FLAGS.get(m.group(1), m.group(1)),
                  str(error))
    if text.startswith("cannot change"):  # TrainConfig.resumed_with names bare fields
        names = dict(FIELD_FLAGS, device="--device")
        text = re.sub(r"\b(\w+)(?==|\b)", lambda m: names.get(m.group(1), m.group(1)), text)
    return UsageError(text)


@contextlib.contextmanager
def claimed_folder(args):
    """The run folder of the flags, held by this process while the block runs (a new run's
    default: the first free runs/eyes, runs/eyes-2, ...)."""
    flag, path = ("--resume", args.resume) if args.resume else ("--out", args.out)
    check_output(flag, path or "runs")
    if path is None:
        with claim_new_run_folder("runs/eyes") as out:
            yield out
        return
    if args.resume and not os.path.isdir(path):
        raise UsageError(f"--resume {path}: no such run folder")
    try:
        claim = RunFolder(path).claim(resume=bool(args.resume))
    except FileExistsError as error:
        if RunFolder(path).holds_run():
            raise UsageError(f"--out {path}: the folder already holds a run; continue it with "
                             f"--resume {path}, or choose another --out") from None
        raise UsageError(f"{flag} {path}: {error.strerror}") from None
    with claim:
        yield path


def plan_run(args, device, out):
    """The RunPlan of the flags for the run folder ``out`` (held by this process); UsageError
    for values that cannot work together."""
    changes = dict(_overrides(args), device=device)
    try:
        if args.resume:
            plan = resumed_run(out, changes)
        else:
            config = _preset(preset_for(args, "gpu", "cpu"))(**changes)
            if args.authors_setting:
                given = {field: changes[field] for field in ("k_g", "k_d", "steps")
                         if field in changes}
                config = config.authors_setting().replace(**given)
            plan = new_run(config, out)
    except FileNotFoundError as error:
        raise UsageError(f"--resume {args.resume}: {error.strerror}") from None
    except ValueError as error:
        raise _with_flag_names(error) from None
    check_source("--synthetic", plan.config.synthetic)
    check_source("--real", plan.config.real)
    done = plan.done and plan.done["adversarial"]
    if done and plan.config.steps < done:
        raise UsageError(f"--steps {plan.config.steps}: the run in {plan.out} has done {done} "
                         f"iterations already (--steps is the total; it may grow, not shrink)")
    return plan


def _continue_args(out, argv):
    """How to go on after a stop: resume the run, or, when it wrote nothing, start it again."""
    return ["--resume", out] if RunFolder(out).holds_run() else argv


def _out_of_memory(error, plan):
    """The MemoryError to report: what the run keeps, and the command that goes on."""
    folder, batch = RunFolder(plan.out), plan.config.batch_size
    again = f"{PROG} --resume {shlex.quote(plan.out)}"
    if os.path.lexists(folder.last_checkpoint):
        advice = (f"its checkpoint fixes --batch-size {batch}: free memory or choose another "
                  f"--device, then continue with: {again}")
    elif folder.holds_run():
        advice = (f"no step was kept yet, so the batch may shrink: continue with: {again} "
                  f"--batch-size {max(2, batch // 4 * 2)}")
    else:
        advice = "nothing was written; a smaller --n or --batch-size needs less"
    return MemoryError(f"{error or 'no memory left'} in {plan.out}; {advice}")


def _main(argv):
    argv = sys.argv[1:] if argv is None else list(argv)
    started = time.perf_counter()
    args = parse_args(argv)
    device = device_from(args)
    with claimed_folder(args) as out:
        plan = plan_run(args, device, out)
        if plan.complete:
            print(f"{plan.out} has done all {plan.config.steps} iterations already; nothing to "
                  "do (a larger --steps goes on)")
            return 0
        name, source = requested_device(args)
        print(f"training on {device} ({source}={name}); run folder: {plan.out}",
              file=sys.stderr)
        try:
            with resumable(PROG, argv, again=lambda: _continue_args(out, argv)):
                train_run(plan, skip_bad=args.skip_bad, progress=progress_bar_wanted(args),
                          status_every=args.status_every,
                          log=lambda line: print(line, file=sys.stderr))
        except TrainingDiverged as error:
            print(f"{PROG}: stopped: {error}", file=sys.stderr)
            print(f"{PROG}: go on with a smaller learning rate: {PROG} --resume "
                  f"{shlex.quote(plan.out)} --lr {plan.config.lr / 10:g}", file=sys.stderr)
            return 1
        except MemoryError as error:
            raise _out_of_memory(error, plan) from None
    print(format_summary(plan.out, wall_s=time.perf_counter() - started))
    return 0


main = program_main(PROG, _main, __name__)
