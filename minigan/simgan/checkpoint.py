"""A SimGAN checkpoint: one ``.npz`` (no pickle) holding everything a run needs to go on.

Layout (``name -> array``; see also the package docstring):

    meta                          0-d unicode array: JSON {"format", "version", "refiner":
                                  architecture, "discriminator": architecture, "config":
                                  TrainConfig.to_dict(), "counters": {...}}
    refiner/<param>               Refiner.state_dict(), e.g. refiner/stem.weight
    discriminator/<param>         Discriminator (or GlobalDiscriminator) state_dict()
    refiner_optimizer/<key>       optimizer state_dict(): step, hyperparameters, buffers
    discriminator_optimizer/<key>
    refiner_average/<param>       running average of the refiner's parameters (if enabled)
    history/images, history/size, history/rng     ImageHistoryBuffer.state_dict()
    rng/train                     the training generator's bit-generator state (JSON string)

Written with ``minigan.io.save_npz``: to a temporary file, then renamed, so a crash mid-write
leaves the previous checkpoint whole. Reading one that does not fit (another file, another
format, a network of other shapes) is a ValueError that names the file and what was expected.
"""
import json

import numpy as np

from minigan.io.npz import load_npz, save_npz
from minigan.simgan.models import Refiner

FORMAT = "minigan-simgan-checkpoint"
VERSION = 1


def save_checkpoint(path, meta, groups):
    """Write ``meta`` (a JSON-able dict) and ``groups`` ({group: {key: array}}) to ``path``."""
    arrays = {"meta": np.array(json.dumps(dict(meta, format=FORMAT, version=VERSION)))}
    for group, state in groups.items():
        for key, value in state.items():
            arrays[f"{group}/{key}"] = value
    save_npz(path, arrays)


def read_checkpoint(path):
    """``(meta, groups)`` from a file written by ``save_checkpoint``.

    Raises FileNotFoundError for a missing file and ValueError naming the file when it is not
    a SimGAN checkpoint (not an .npz, no meta entry, or another format/version).
    """
    arrays = load_npz(path)
    if "meta" not in arrays:
        raise ValueError(f"{path} is not a minigan SimGAN checkpoint (it has no 'meta' entry; "
                         "expected a file written by minigan.train_eyes)")
    try:
        meta = json.loads(str(arrays.pop("meta")[()]))
    except (json.JSONDecodeError, TypeError) as error:
        raise ValueError(f"{path}: the checkpoint's 'meta' entry is not valid JSON "
                         f"({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
        meta = meta if isinstance(meta, dict) else {}
        raise ValueError(f"{path}: checkpoint format {meta.get('format')!r} version "
                         f"{meta.get('version')!r}, expected {FORMAT!r} version {VERSION}")
    groups = {}
    for name, value in arrays.items():
        group, _, key = name.partition("/")
        groups.setdefault(group, {})[key] = value
    return meta, groups


def load_refiner(checkpoint_path, device=None, average=True):
    """The trained ``Refiner`` of a checkpoint, in eval mode, on ``device`` (None: default).

    The architecture (channels, blocks) comes from the checkpoint's metadata, so no
    hyperparameter needs repeating. ``average``: the running average of R's weights when the
    checkpoint has one (the run's result, see ``simgan.average``); False: R's last weights.
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
    return refiner.to(device).eval()
