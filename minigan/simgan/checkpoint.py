"""A SimGAN checkpoint: what it holds of a trainer, writing it atomically, reading and checking
it, and putting a trainer back in its state.

    save_checkpoint(path, *trainer_state(trainer))   # one .npz, to a temp file, then renamed
    meta, groups = read_checkpoint(path)             # checked: every meta key, every array
    restore(trainer, path)                           # only a checkpoint of the same run
    refiner = load_refiner(path)                     # for refine, turing, the evaluations

Layout (``name -> array``; see also the package docstring):

    meta                          0-d unicode array: JSON {"format", "version", "refiner": and
                                  "discriminator": architecture(), "config": TrainConfig
                                  .to_dict(), "counters": steps done per phase, "elapsed_s",
                                  "run_id", "data": {"synthetic", "real"} -> fingerprint}
    refiner/<param>               Refiner.state_dict(), e.g. refiner/stem.weight
    discriminator/<param>         Discriminator (or GlobalDiscriminator) state_dict()
    refiner_optimizer/<key>       optimizer state_dict(): step, hyperparameters, buffers
    discriminator_optimizer/<key>
    refiner_average/<param>       running average of the refiner's parameters (if enabled)
    history/images, history/size, history/rng     ImageHistoryBuffer.state_dict()
    rng/train                     the training generator's bit-generator state (JSON string)

Reading checks every meta key and its type, and that every number of every array is finite;
what fails is a ValueError naming the file and the key or parameter, whatever the checkpoint is
read for. A checkpoint restores into a trainer only when it is of the same run: the same config
up to the fields that may change when resuming (``config.RESUMABLE``), the same data (a crc32
of each image set), the same run id as the folder's config.json, no more steps done than the
config asks for, and a log that reaches the checkpoint's step.
"""
import json
import math
import zlib

import numpy as np

from minigan.backend import get_array_module
from minigan.io.npz import load_npz, save_npz
from minigan.simgan.config import TrainConfig
from minigan.simgan.history import generator_from_state, generator_state
from minigan.simgan.models import Refiner, refine_images

FORMAT = "minigan-simgan-checkpoint"
VERSION = 1
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


def trainer_state(trainer):
    """``(meta, groups)`` of everything ``restore`` needs to continue the run bit for bit.

    groups: ``{"refiner", "discriminator", "refiner_optimizer", "discriminator_optimizer"}``
    (their ``state_dict()``), ``"rng": {"train": generator_state(trainer.rng)}``, and, when the
    trainer has them, ``"history"`` (the buffer's state_dict: the images it holds, of shape
    (count, C, H, W)) and ``"refiner_average"`` (the average's state_dict()). meta:
    ``"refiner"`` and ``"discriminator"`` (their ``architecture()``), ``"config"``
    (``config.to_dict()``), ``"counters"`` (a copy of ``trainer.counters``), ``"elapsed_s"``,
    ``"run_id"``, and ``"data"``: ``{"synthetic", "real"}`` -> ``fingerprint`` of the images.
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


def first_non_finite(groups):
    """``"group/key"`` of the first array of ``groups`` holding NaN or Inf, else None."""
    for group, state in groups.items():
        for key, value in state.items():
            xp = get_array_module(value)
            if xp.asarray(value).dtype.kind in "fc" and not bool(xp.isfinite(value).all()):
                return f"{group}/{key}"
    return None


def save_checkpoint(path, meta, groups):
    """Write ``meta`` (a JSON-able dict) and ``groups`` ({group: {key: array}}) to ``path``."""
    arrays = {"meta": np.array(json.dumps(dict(meta, format=FORMAT, version=VERSION),
                                          allow_nan=False))}
    for group, state in groups.items():
        for key, value in state.items():
            arrays[f"{group}/{key}"] = value
    save_npz(path, arrays)


def read_checkpoint(path):
    """``(meta, groups)`` from a file written by ``save_checkpoint``, checked (module docstring).

    Raises FileNotFoundError for a missing file and ValueError naming the file otherwise.
    """
    arrays = load_npz(path)
    if "meta" not in arrays:
        raise ValueError(f"{path} is not a minigan SimGAN checkpoint (it has no 'meta' entry; "
                         "expected a file written by minigan.train_eyes)")
    try:
        meta = json.loads(str(arrays.pop("meta")[()]))
    except (json.JSONDecodeError, TypeError, IndexError) as error:
        raise ValueError(f"{path}: the checkpoint's 'meta' entry is not valid JSON "
                         f"({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
        meta = meta if isinstance(meta, dict) else {}
        raise ValueError(f"{path}: checkpoint format {meta.get('format')!r} version "
                         f"{meta.get('version')!r}, expected {FORMAT!r} version {VERSION}")
    _check_meta(meta, path)
    groups = {}
    for name, value in arrays.items():
        group, _, key = name.partition("/")
        groups.setdefault(group, {})[key] = value
    bad = first_non_finite(groups)
    if bad is not None:
        raise ValueError(f"{path}: {bad} holds NaN or infinite values; minigan writes only "
                         "finite checkpoints (the file is damaged or was not written by it)")
    return meta, groups


def _check_meta(meta, path):
    """ValueError naming ``path`` and the key unless ``meta`` has every key, of its type."""
    def need(mapping, key, kinds, where="", low=None):
        value = mapping.get(key)
        fits = key in mapping and isinstance(value, kinds) and (
            bool in kinds or not isinstance(value, bool))
        if fits and low is not None:
            fits = math.isfinite(value) and value >= low
        if not fits:
            expected = " or ".join(k.__name__ for k in kinds)
            found = "it is missing" if key not in mapping else f"got {json.dumps(value)[:40]}"
            raise ValueError(f"{path}: the checkpoint's meta needs {where}{key!r} as "
                             f"{expected}{'' if low is None else f' >= {low}'} ({found}); the "
                             "file is damaged or was not written by minigan")
        return value

    refiner = need(meta, "refiner", (dict,))
    for key, low in (("in_channels", 1), ("channels", 1), ("blocks", 0)):
        need(refiner, key, (int,), "refiner.", low)
    discriminator = need(meta, "discriminator", (dict,))
    need(discriminator, "in_channels", (int,), "discriminator.", 1)
    need(discriminator, "width", (int, float), "discriminator.", 0)
    counters = need(meta, "counters", (dict,))
    for phase in PHASES:
        need(counters, phase, (int,), "counters.", 0)
    need(meta, "elapsed_s", (int, float), low=0)
    need(meta, "run_id", (str, type(None)))
    data = need(meta, "data", (dict,))
    for name in ("synthetic", "real"):
        for key in ("n", "crc32"):
            need(need(data, name, (dict,), "data."), key, (int,), f"data.{name}.", 0)
    try:
        TrainConfig.from_dict(need(meta, "config", (dict,)))
    except (ValueError, TypeError) as error:
        raise ValueError(f"{path}: the checkpoint's config is not valid ({error})") from None


def load_refiner(checkpoint_path, device=None, average=True):
    """The trained ``Refiner`` of a checkpoint, in eval mode, on ``device`` (None: default).

    The architecture (channels, blocks) comes from the checkpoint's metadata, so no
    hyperparameter needs repeating. ``average``: the running average of R's weights when the
    checkpoint has one (the run's result, see ``simgan.average``); False: R's last weights.
    Its output on plain gray images must be finite (weights that overflow are refused).
    """
    meta, groups = read_checkpoint(checkpoint_path)
    group = "refiner_average" if average and "refiner_average" in groups else "refiner"
    try:
        refiner = Refiner(**meta["refiner"])
        refiner.load_state_dict(groups.get(group, {}))
    except (KeyError, TypeError, ValueError, RuntimeError) as error:  # RuntimeError: strict load
        raise ValueError(f"{checkpoint_path}: its refiner does not fit its own description "
                         f"({' '.join(str(error).split())}); the file is damaged or was "
                         "written by another program") from None
    refiner.eval()
    probe = np.stack([np.full((refiner.in_channels, 8, 8), value, np.float32)
                      for value in (-0.5, 0.0, 0.5)])
    try:
        refine_images(refiner, probe)
    except ValueError:
        raise ValueError(f"{checkpoint_path}: its refiner's weights ({group}) overflow: plain "
                         "gray images come out NaN or infinite") from None
    return refiner.to(device).eval()


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
    check_same_run(trainer.folder, path, meta["run_id"], sum(counters.values()))
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
    except (KeyError, ValueError, TypeError, RuntimeError) as error:  # RuntimeError: strict load
        raise ValueError(f"{path}: the checkpoint does not fit the networks of its own config "
                         f"({' '.join(str(error).split())}); the file is damaged or was not "
                         "written by minigan") from None
    for optimizer in (trainer.refiner_optimizer, trainer.discriminator_optimizer):
        for group in optimizer.param_groups:
            group["lr"] = trainer.config.lr  # the one hyperparameter that may change on resuming
    trainer.counters = counters
    trainer.elapsed = float(meta["elapsed_s"])
    trainer.run_id = meta["run_id"]
    trainer.folder.truncate_log(trainer.t)
    return meta


def check_same_run(folder, path, run_id, t):
    """The checkpoint at ``path``, config.json and log.jsonl of ``folder`` are one run's."""
    written = folder.read_config() or {}
    if run_id and written.get("run_id") and written["run_id"] != run_id:
        raise ValueError(f"{path} belongs to another run (run id {run_id}) than "
                         f"{folder.config_path} (run id {written['run_id']}); resume a run from "
                         "its own checkpoint, or start a new one in another folder")
    logged = [r["t"] for r in folder.read_log() if "event" not in r]
    if logged and max(logged) < t:
        raise ValueError(f"{folder.log_path} ends at step {max(logged)} but {path} is at step "
                         f"{t}: the log and the checkpoint are not of one run")
