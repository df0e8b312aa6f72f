"""Train SimGAN to make synthetic eyes look real.

    python -m minigan.train_eyes                       # built-in renderer: synthetic -> photo
    python -m minigan.train_eyes --steps 50 --out runs/quick
    python -m minigan.train_eyes --synthetic unityeyes:~/UnityEyes --real mpiigaze:~/MPIIGaze
    python -m minigan.train_eyes --resume runs/eyes --steps 600      # go on, to 600 iterations

With no arguments it trains on the GPU when one is usable (the paper's sizes) and otherwise on
the CPU with a small preset that finishes in under 10 minutes. Every hyperparameter has a flag;
a flag overrides the preset. Output: a run folder (config.json, log.jsonl, samples/,
loss_curve.png, checkpoints/last.npz); see ``minigan.simgan.run_folder``.
"""
import argparse
import os
import sys

from minigan.backend import resolve_device
from minigan.data.sources import FORMS
from minigan.simgan.checkpoint import read_checkpoint
from minigan.pipelines.training_data import load_training_data
from minigan.simgan.config import OPTIMIZERS, PSI_CHOICES, TrainConfig
from minigan.simgan.run_folder import RunFolder, next_free_path
from minigan.simgan.trainer import TrainingDiverged, train


def _number(kind, minimum, strict):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            expected = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < minimum or (strict and value == minimum):
            relation = ">" if strict else ">="
            raise argparse.ArgumentTypeError(f"must be {relation} {minimum}, got {text}")
        return value
    return parse


SUMMARY_KEYS = ("realism_loss", "self_regularization", "discriminator_loss", "d_accuracy_real",
                "d_accuracy_refined", "images_per_s")
POSITIVE_INT, COUNT = _number(int, 1, False), _number(int, 0, False)
POSITIVE, NON_NEGATIVE = _number(float, 0, True), _number(float, 0, False)

# flag -> (TrainConfig field, type, help); defaults come from the preset, so argparse's are None
FLAGS = {
    "--steps": ("steps", POSITIVE_INT, "T: iterations of Algorithm 1"),
    "--batch-size": ("batch_size", POSITIVE_INT, "b: mini-batch size (even)"),
    "--lr": ("lr", POSITIVE, "learning rate of both networks"),
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
    "--buffer-size": ("buffer_size", POSITIVE_INT, "B: images in the history buffer"),
    "--channels": ("refiner_channels", POSITIVE_INT, "refiner feature maps (paper: 64)"),
    "--blocks": ("refiner_blocks", COUNT, "refiner ResNet blocks (paper: 4)"),
    "--discriminator-width": ("discriminator_width", POSITIVE, "D channel multiplier (paper: 1)"),
    "--sample-every": ("sample_every", POSITIVE_INT, "iterations between sample grids"),
    "--checkpoint-every": ("checkpoint_every", POSITIVE_INT, "iterations between checkpoints"),
    "--n-synthetic": ("n_synthetic", POSITIVE_INT, "synthetic images to load (at most)"),
    "--n-real": ("n_real", POSITIVE_INT, "real images to load (at most)"),
    "--synthetic": ("synthetic", str, f"synthetic data: {', '.join(FORMS)}"),
    "--real": ("real", str, "real (unlabelled) data, same forms"),
    "--seed": ("seed", COUNT, "seed of every random draw"),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.train_eyes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=("auto", "gpu", "cpu"), default="auto",
                        help="defaults to start from (auto: gpu on a GPU, else cpu)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "emulator"), default="auto")
    parser.add_argument("--out", help="run folder (default: runs/eyes, runs/eyes-2, ...)")
    parser.add_argument("--resume", metavar="RUN", help="continue the run in this folder")
    for flag, (field, kind, text) in FLAGS.items():
        choices = {"--optimizer": OPTIMIZERS, "--psi": PSI_CHOICES}.get(flag)
        parser.add_argument(flag, dest=field, type=kind, choices=choices, help=text)
    parser.add_argument("--n", type=POSITIVE_INT, help="sets both --n-synthetic and --n-real")
    parser.add_argument("--no-history", dest="use_history", action="store_const", const=False,
                        help="D sees only the current refined images (ablation)")
    parser.add_argument("--global-adversarial", action="store_const", const=True,
                        help="whole-image D with a fully connected layer (ablation)")
    parser.add_argument("--skip-bad", action="store_true", help="skip unreadable data files")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.resume and args.out:
        parser.error("--resume RUN continues in RUN; do not give --out as well")
    return parser, args


def _overrides(args):
    fields = [field for field, _, _ in FLAGS.values()] + ["use_history", "global_adversarial"]
    changes = {field: getattr(args, field) for field in fields if getattr(args, field) is not None}
    if args.n is not None:
        changes.update(n_synthetic=args.n, n_real=args.n)
    return changes


def build_config(args):
    """(config, out folder, resume?) from the flags; raises ValueError for bad combinations."""
    changes = _overrides(args)
    if args.resume:
        checkpoint = os.path.join(args.resume, "checkpoints", "last.npz")
        saved = TrainConfig.from_dict(read_checkpoint(checkpoint)[0]["config"])
        if args.device != "auto":
            changes["device"] = args.device
        return saved.resumed_with(**changes), args.resume, True
    preset = args.preset
    if preset == "auto":
        preset = "gpu" if resolve_device(args.device) == "cuda" else "cpu"
    make = TrainConfig.gpu_preset if preset == "gpu" else TrainConfig.cpu_preset
    config = make(device=args.device, **changes)
    out = args.out or next_free_path(os.path.join("runs", "eyes"))
    if os.path.exists(os.path.join(out, "checkpoints", "last.npz")):
        raise ValueError(f"{out} already holds a run; continue it with --resume {out} "
                         "or choose another --out")
    return config, out, False


def main(argv=None):
    parser, args = parse_args(argv)
    try:
        config, out, resume = build_config(args)
        print(f"loading data: {config.synthetic} ({config.n_synthetic}) and {config.real} "
              f"({config.n_real})", file=sys.stderr)
        synthetic, real = load_training_data(config, skip_bad=args.skip_bad)
    except (ValueError, OSError, RuntimeError, ImportError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    print(f"training on {resolve_device(config.device)}; run folder: {out}", file=sys.stderr)
    try:
        train(config, synthetic, real, out, progress=not args.no_progress, resume=resume)
    except TrainingDiverged as error:
        print(f"{parser.prog}: stopped: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with: python -m minigan.train_eyes --resume {out}",
              file=sys.stderr)
        return 130
    print(summary(out))
    return 0


def summary(out):
    """Three lines: where things are, and the last iteration's figures."""
    folder = RunFolder(out)
    last = next((r for r in reversed(folder.read_log()) if r.get("phase") == "adversarial"), {})
    figures = ", ".join(f"{key} {last[key]:.3f}" for key in SUMMARY_KEYS
                        if last.get(key) is not None)
    return (f"done: {out}\n  samples: {os.path.join(folder.samples, 'latest.png')}, checkpoint: "
            f"{folder.last_checkpoint}\n  last iteration: {figures}")


if __name__ == "__main__":
    sys.exit(main())
