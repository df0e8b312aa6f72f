"""What a checkpoint holds of a ``Trainer``, and putting it back, with the checks that it fits.

    meta, groups = trainer_state(trainer)        # -> simgan.checkpoint.save_checkpoint
    restore(trainer, "runs/eyes/checkpoints/last.npz")

A checkpoint restores into a trainer only when it is of the same run: the same config up to the
fields that may change when resuming (``config.RESUMABLE``), the same data (a crc32 of each
image set), the same run id as the folder's config.json, no more steps done than the config
asks for, and a log that reaches the checkpoint's step. Anything else is a ValueError that
names the file and what differs.
"""
import zlib

import numpy as np

from minigan.backend import get_array_module
from minigan.simgan.checkpoint import read_checkpoint
from minigan.simgan.config import TrainConfig
from minigan.simgan.history import generator_from_state, generator_state

PHASES = ("pretrain_refiner", "pretrain_discriminator", "adversarial")
PHASE_LABELS = {"pretrain_refiner": "pretrain R", "pretrain_discriminator": "pretrain D",
                "adversarial": "adversarial"}


def fingerprint(images):
    """``{"n", "crc32"}`` of an image array: which data a run trained on."""
    return {"n": int(len(images)), "crc32": int(zlib.crc32(np.ascontiguousarray(images)))}


def describe(counters):
    return (f"after {counters['pretrain_refiner']} refiner and "
            f"{counters['pretrain_discriminator']} discriminator pretraining steps and "
            f"{counters['adversarial']} iterations")


def first_non_finite(modules):
    """``(owner, parameter name)`` of the first parameter holding NaN or Inf, else None."""
    for owner, module in modules.items():
        for name, p in module.named_parameters():
            if not bool(get_array_module(p.data).isfinite(p.data).all()):
                return owner, name
    return None


def trainer_state(trainer):
    """``(meta, groups)`` of everything ``restore`` needs to continue the run bit for bit
    (the layout is in ``minigan.simgan``'s docstring).

    groups: ``{"refiner", "discriminator", "refiner_optimizer", "discriminator_optimizer"}``
    (their ``state_dict()``), ``"rng": {"train": generator_state(trainer.rng)}``, and, when the
    trainer has them, ``"history"`` (the buffer's state_dict: the images it holds, of shape
    (count, C, H, W)) and ``"refiner_average"`` (the average's). meta: ``"refiner"`` and ``"discriminator"`` (their ``architecture()``),
    ``"config"`` (``config.to_dict()``), ``"counters"`` (a copy of ``trainer.counters``),
    ``"elapsed_s"`` (``trainer.elapsed``), ``"run_id"``, and ``"data"``: ``{"synthetic",
    "real"}`` -> ``fingerprint`` of the trainer's image arrays.
    """
    groups = {"refiner": trainer.refiner.state_dict(),
              "discriminator": trainer.discriminator.state_dict(),
              "refiner_optimizer": trainer.refiner_optimizer.state_dict(),
              "discriminator_optimizer": trainer.discriminator_optimizer.state_dict(),
              "rng": {"train": generator_state(trainer.rng)}}
    if trainer.history is not None:
        groups["history"] = trainer.history.state_dict()
    if trainer.average is not None:
        groups["refiner_average"] = trainer.average.state_dict()
    meta = {"refiner": trainer.refiner.architecture(),
            "discriminator": trainer.discriminator.architecture(),
            "config": trainer.config.to_dict(), "counters": dict(trainer.counters),
            "elapsed_s": trainer.elapsed, "run_id": trainer.run_id,
            "data": {"synthetic": fingerprint(trainer.synthetic),
                     "real": fingerprint(trainer.real)}}
    return meta, groups


def restore(trainer, path):
    """Load the checkpoint at ``path`` into ``trainer`` and cut the log back to its step.

    Returns the checkpoint's meta; raises ValueError naming the file when it does not fit.
    """
    meta, groups = read_checkpoint(path)
    TrainConfig.from_dict(meta["config"]).resumed_with(**trainer.config.to_dict())
    for name in ("synthetic", "real"):
        now = fingerprint(getattr(trainer, name))
        if meta["data"][name] != now:
            raise ValueError(f"{path}: the {name} images differ from the ones this checkpoint "
                             f"was trained on ({meta['data'][name]} vs now {now}); "
                             "resume with the same data and seed")
    counters = {phase: int(meta["counters"][phase]) for phase in PHASES}
    for phase, total in trainer.totals().items():
        if counters[phase] > total:
            raise ValueError(f"{path}: the run has done {counters[phase]} {PHASE_LABELS[phase]} "
                             f"steps, more than the {total} asked for; the total can grow when "
                             "resuming, not shrink")
    check_same_run(trainer.folder, path, meta.get("run_id"), sum(counters.values()))
    try:
        trainer.refiner.load_state_dict(groups["refiner"])
        trainer.discriminator.load_state_dict(groups["discriminator"])
        trainer.refiner_optimizer.load_state_dict(groups["refiner_optimizer"])
        trainer.discriminator_optimizer.load_state_dict(groups["discriminator_optimizer"])
        trainer.rng = generator_from_state(groups["rng"]["train"])
        if trainer.history is not None:
            trainer.history.load_state_dict(groups["history"])
        if trainer.average is not None:
            trainer.average.load_state_dict(groups["refiner_average"])
    except (KeyError, ValueError, TypeError, RuntimeError) as error:  # load_state_dict: RuntimeError
        raise ValueError(f"{path}: the checkpoint does not fit the networks of its own config "
                         f"({' '.join(str(error).split())}); the file is damaged or was not "
                         "written by minigan") from None
    for optimizer in (trainer.refiner_optimizer, trainer.discriminator_optimizer):
        optimizer.lr = trainer.config.lr  # the one hyperparameter that may change on resuming
    trainer.counters = counters
    trainer.elapsed = float(meta.get("elapsed_s", 0.0))
    trainer.run_id = meta.get("run_id")
    trainer.folder.truncate_log(trainer.t)
    return meta


def check_same_run(folder, path, run_id, t):
    """The checkpoint at ``path``, config.json and log.jsonl of ``folder`` are one run's."""
    written = folder.read_config() or {}
    if run_id and written.get("run_id") and written["run_id"] != run_id:
        raise ValueError(f"{path} belongs to another run (run id {run_id}) than "
                         f"{folder.config_path} (run id {written['run_id']}); resume a run from "
                         "its own checkpoint, or start a new one in another folder")
    logged = [r.get("t", 0) for r in folder.read_log() if "event" not in r]
    if logged and max(logged) < t:
        raise ValueError(f"{folder.log_path} ends at step {max(logged)} but {path} is at step "
                         f"{t}: the log and the checkpoint are not of one run")
