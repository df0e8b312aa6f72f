"""SimGAN (Shrivastava et al., CVPR 2017): refiner, discriminator, losses, history, Algorithm 1.

    from minigan.simgan import TrainConfig, train, load_refiner
    out = train(TrainConfig.cpu_preset(), synthetic, real, "runs/eyes")   # datasets in [-1, 1]
    refiner = load_refiner("runs/eyes/checkpoints/last.npz")             # a Refiner, eval mode

Files: ``models`` (Refiner, Discriminator, GlobalDiscriminator), ``losses`` (equations 2-4),
``history`` (ImageHistoryBuffer), ``average`` (running average of R's weights), ``config``
(TrainConfig and its presets), ``trainer`` (Algorithm 1), ``checkpoint`` (what a checkpoint
holds of a trainer, the file, reading and checking it, resuming), ``run_folder`` /
``loss_curve`` (what a run writes, one process at a time).

Checkpoint layout: one ``.npz`` written atomically (temp file + rename), loadable with
``allow_pickle=False``; every entry is ``group/key -> array`` except ``meta``:

    meta                         0-d str array, JSON: {"format": "minigan-simgan-checkpoint",
                                 "version": 1, "refiner": {"in_channels", "channels", "blocks"},
                                 "discriminator": {"kind": "local"|"global", "in_channels",
                                 "width"[, "image_size"]}, "config": TrainConfig.to_dict(),
                                 "counters": {"pretrain_refiner", "pretrain_discriminator",
                                 "adversarial"} (steps done), "elapsed_s",
                                 "data": {"synthetic"|"real": {"n", "crc32"}}}
    refiner/<name>               Refiner parameters, e.g. refiner/blocks.0.conv1.weight
    refiner_average/<name>       running average of them (when average_decay > 0): the result
    discriminator/<name>         discriminator parameters, e.g. discriminator/layers.0.weight
    refiner_optimizer/<key>      SGD/Adam state: step, lr, ..., momentum_buffer.<i> | exp_avg.<i>
    discriminator_optimizer/<key>
    history/images               (count, C, H, W) float32, the filled part of the buffer
    history/size                 B
    history/rng                  the buffer generator's state (JSON of bit_generator.state)
    rng/train                    the mini-batch generator's state (same encoding)

``load_refiner(path, device=None, average=True)`` rebuilds the Refiner from ``meta["refiner"]``
with the averaged parameters when the checkpoint has them (else R's own).
"""
from minigan.simgan.checkpoint import load_refiner, read_checkpoint
from minigan.simgan.config import TrainConfig
from minigan.simgan.history import ImageHistoryBuffer
from minigan.simgan.losses import (discriminator_loss, local_adversarial_loss, realism_loss,
                                   self_regularization)
from minigan.simgan.models import Discriminator, GlobalDiscriminator, Refiner, patch_map_size
from minigan.simgan.trainer import Trainer, TrainingDiverged, TrainingInterrupted, train

__all__ = ["Refiner", "Discriminator", "GlobalDiscriminator", "patch_map_size",
           "ImageHistoryBuffer", "TrainConfig", "Trainer", "TrainingDiverged",
           "TrainingInterrupted", "train",
           "load_refiner", "read_checkpoint", "local_adversarial_loss", "discriminator_loss",
           "realism_loss", "self_regularization"]
