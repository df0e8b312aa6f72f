"""``TrainConfig``: every hyperparameter of a SimGAN run, with the GPU preset as defaults.

    config = TrainConfig()                      # the paper's sizes, for a GPU
    config = TrainConfig.cpu_preset()           # small and quick: < 10 minutes on 2 CPU cores
    config = TrainConfig.cpu_preset(steps=50, lam=0.5)   # a preset with overrides
    config = TrainConfig.lesson_preset()        # a classroom run: under a minute on a CPU

Choices the paper leaves open, and what minigan does (see also ``losses``):

* K_g. Section 3.1 says "for each update of D, we update R twice, i.e. K_d is set to 1, and
  K_g is set to 50": the words (twice) and the number (50) disagree. The authors' notes say
  they *raised* K_g to 50 for eyes because their D (with batch-norm) converged much faster than
  R. We take the words, K_g = 2 and K_d = 1 (also the hand-pose setting of section 3.2), with
  no batch norm in D; ``authors_setting`` gives their notes' D with batch norm, K_g = 50 and
  K_d = 1 as one configuration.
* lambda. The paper gives no value for the eyes. Our losses are *sums* over pixels (and over
  patches) per image, averaged over the batch; for 35 x 55 images the self-regularization sum
  has 1925 terms and the adversarial sum 126, so lambda is small (see ``DEFAULT_LAMBDA``).
* Pretraining R. Its loss is the self-regularization alone, weighted by ``pretrain_lam``
  rather than ``lam``: alone, the weight only sets the SGD step size, and a fixed weight lets
  every lambda of an ablation (lambda = 0 included) start from the same pretrained refiner.
* A running average of R's weights (``average_decay``), which the paper names as the
  complement of its history buffer (Salimans et al.): the refiner that is saved and shown is
  the average, so the run's result does not hinge on where the last step fell in the
  adversarial oscillation. ``average_decay=0`` keeps R's last weights instead.
* History buffer size B: not given in the paper; ``history_batches`` mini-batches of refined
  images, 100 by default (as mjdietzx's and AlexHex7's ports; carpedm20's uses 50). Each push
  replaces b/2 of the B = 100 b images at random, so an image survives a push with
  probability 1 - 1/200 and half of them are still there after 139 pushes (one push per
  discriminator step): long enough for D to be reminded of what R did ~100 steps ago. Memory:
  100 x 32 images of 35 x 55 float32 = 25 MB on the CPU preset, 100 x 512 = 394 MB (GPU memory,
  and in every checkpoint) on the GPU preset.
* The global discriminator's loss (the ablation) is one cross-entropy term per image against
  h * w = 126 patch terms for the local one; at one lambda its refiner would feel ~126 times
  less adversarial pressure. ``global_loss_scale`` (on by default) multiplies it by the local
  D's patch count, so both ablation arms weigh realism against self-regularization alike.
"""
import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Optional

from minigan.backend import CHOICES

PSI_CHOICES = ("identity", "mean", "gradients", "blur")
OPTIMIZERS = ("sgd", "adam")
DEFAULT_LAMBDA = 0.05

PADDINGS = ("zeros", "reflect", "replicate")
# Fields that may change when a run is resumed; everything else must match the checkpoint.
# The learning rate may change so that a run that diverged can go on from its last good
# checkpoint with a smaller one.
RESUMABLE = ("steps", "lr", "sample_every", "checkpoint_every", "keep_checkpoints", "device",
             "extra")


@dataclass
class TrainConfig:
    """All hyperparameters of ``trainer.train``. Defaults: the GPU preset (paper sizes)."""

    # Algorithm 1
    steps: int = 2000                       # T: iterations of K_g refiner + K_d discriminator steps
    k_g: int = 2                            # refiner steps per iteration
    k_d: int = 1                            # discriminator steps per iteration
    pretrain_refiner_steps: int = 1000      # R on self-regularization only (paper: 1000)
    pretrain_discriminator_steps: int = 200  # D against the pretrained R (paper: 200)
    batch_size: int = 512                   # b (paper: 512)
    # optimisation
    optimizer: str = "sgd"                  # "sgd" (paper) | "adam"
    lr: float = 0.001                       # paper: 0.001
    momentum: float = 0.0                   # SGD momentum
    betas: tuple = (0.5, 0.999)             # Adam betas (beta1 = 0.5 as usual for GANs)
    # losses
    lam: float = DEFAULT_LAMBDA             # lambda of the self-regularization term
    pretrain_lam: float = DEFAULT_LAMBDA    # its weight while pretraining R (sets the step size)
    psi: str = "identity"                   # feature map of the self-regularization
    # the paper's two stabilisers (the ablations switch them off)
    use_history: bool = True
    history_batches: int = 100              # B = history_batches * batch_size images
    global_adversarial: bool = False        # a whole-image D instead of the local patch D
    global_loss_scale: bool = True          # its loss x the local D's patch count (h * w)
    average_decay: float = 0.99             # running average of R's weights (0: keep R as is)
    # networks
    refiner_channels: int = 64
    refiner_blocks: int = 4
    refiner_padding: str = "zeros"          # what R's 3x3 convs pad with: zeros | reflect | replicate
    discriminator_width: float = 1.0
    discriminator_batch_norm: bool = False  # the authors' D had batch norm (their notes)
    # data (used by the command line; ``train`` takes the datasets themselves)
    synthetic: str = "builtin:synthetic"
    real: str = "builtin:photo"
    n_synthetic: int = 20000
    n_real: int = 20000
    # bookkeeping
    sample_every: int = 100                 # iterations between sample grids
    checkpoint_every: int = 250             # iterations between checkpoints
    keep_checkpoints: int = 0               # also keep the newest N periodic snapshots
    seed: int = 0
    device: Optional[str] = None            # None: the default device (MINIGAN_DEVICE), or one of
                                            # "auto" | "cpu" | "cuda" | "emulator"
    extra: dict = field(default_factory=dict)  # free-form notes kept in config.json

    def __post_init__(self):
        try:
            self.betas = tuple(float(b) for b in self.betas)
        except (TypeError, ValueError):
            raise ValueError(f"TrainConfig.betas must be two numbers, got {self.betas!r}") from None
        self.validate()

    @classmethod
    def gpu_preset(cls, **overrides):
        """The paper's networks and batch (the defaults), with ``overrides``."""
        return cls(**overrides)

    @classmethod
    def cpu_preset(cls, **overrides):
        """A small run that finishes in < 10 minutes on 2 CPU cores and visibly refines.

        The paper's algorithm and optimiser (SGD, lr 0.001) at a smaller scale: a 16-channel
        refiner with 3 blocks, a half-width D, batch 32, 100 + 50 pretraining steps and 300
        iterations. K_d = 2: at this size and step count D learns too slowly with one step
        per iteration, and R then wins by shifting the tone alone (with K_d = 1 the refined
        eyes kept a bright frame where the convolutions' zero padding shows; a fresh critic
        told them from photos 94% of the time, 88% with K_d = 2).
        """
        preset = dict(steps=300, k_g=2, k_d=2, pretrain_refiner_steps=100,
                      pretrain_discriminator_steps=50, batch_size=32, optimizer="sgd", lr=0.001,
                      refiner_channels=16, refiner_blocks=3,
                      discriminator_width=0.5, n_synthetic=3000, n_real=3000, sample_every=50,
                      checkpoint_every=100)
        preset.update(overrides)
        return cls(**preset)

    @classmethod
    def lesson_preset(cls, **overrides):
        """A classroom run: visible refinement in under a minute on a CPU (about 15 s of CPU
        time on 2 cores; tutorial step 20).

        Algorithm 1 unchanged, at toy scale: an 8-channel refiner with 2 blocks, a quarter-width
        D, batch 16, 40 + 20 pretraining steps and 100 iterations on 1000 images of each
        domain. Adam (lr 0.001) instead of the paper's SGD: at 100 iterations SGD with lr 0.001
        has barely moved R away from its pretrained copy of the input, Adam makes the change
        of tone and texture visible: a fresh critic (``experiments.realism``, 60 steps, 200
        held-out eyes per set) told synthetic eyes from photos 94% of the time and refined
        ones 80%. That is still above the histogram-equalization control's ~73% (step 23): a
        lesson's result, not the paper's; use ``cpu_preset`` or ``gpu_preset`` for
        experiments.
        """
        preset = dict(steps=100, k_g=2, k_d=1, pretrain_refiner_steps=40,
                      pretrain_discriminator_steps=20, batch_size=16, history_batches=20,
                      optimizer="adam", lr=0.001, refiner_channels=8, refiner_blocks=2,
                      discriminator_width=0.25, n_synthetic=1000, n_real=1000, sample_every=25,
                      checkpoint_every=50)
        preset.update(overrides)
        return cls(**preset)

    def authors_setting(self):
        """This config with the D and schedule of the authors' notes: batch norm in D, K_g = 50,
        K_d = 1, and as many refiner steps as before (``steps`` becomes ceil(steps * k_g / 50)),
        so the refiner trains as long and D gets 50 / (k_g k_d) times fewer steps."""
        refiner_steps = self.steps * self.k_g
        return self.replace(discriminator_batch_norm=True, k_g=50, k_d=1,
                            steps=max(1, -(-refiner_steps // 50)))

    @property
    def buffer_size(self):
        """B, images in the history buffer."""
        return self.history_batches * self.batch_size

    def validate(self):
        """Raise ValueError naming the field when a value is out of range."""
        positive = ("steps", "k_g", "k_d", "batch_size", "refiner_channels", "n_synthetic",
                    "n_real", "sample_every", "checkpoint_every", "history_batches")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainConfig.{name} must be a positive integer, got {value!r}")
        for name in ("pretrain_refiner_steps", "pretrain_discriminator_steps", "refiner_blocks",
                     "keep_checkpoints", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"TrainConfig.{name} must be an integer >= 0, got {value!r}")
        for name in ("use_history", "global_adversarial", "global_loss_scale",
                     "discriminator_batch_norm"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"TrainConfig.{name} must be true or false, "
                                 f"got {getattr(self, name)!r}")
        for name in ("synthetic", "real"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"TrainConfig.{name} must be a data source (a string), "
                                 f"got {getattr(self, name)!r}")
        if not isinstance(self.extra, dict):
            raise ValueError(f"TrainConfig.extra must be a dict, got {self.extra!r}")
        if self.batch_size < 2 or self.batch_size % 2:
            raise ValueError("TrainConfig.batch_size must be even (half of each discriminator "
                             f"batch comes from the history buffer), got {self.batch_size}")
        if self.refiner_padding not in PADDINGS:
            raise ValueError(f"TrainConfig.refiner_padding must be one of {PADDINGS}, "
                             f"got {self.refiner_padding!r}")
        for name in ("lr", "momentum", "lam", "pretrain_lam", "average_decay",
                     "discriminator_width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                raise ValueError(f"TrainConfig.{name} must be a finite number, got {value!r}")
        for name in ("lr", "discriminator_width"):
            if not getattr(self, name) > 0:
                raise ValueError(f"TrainConfig.{name} must be > 0, got {getattr(self, name)!r}")
        if not self.lam >= 0:
            raise ValueError(f"TrainConfig.lam must be >= 0, got {self.lam!r}")
        if not self.pretrain_lam > 0:
            raise ValueError(f"TrainConfig.pretrain_lam must be > 0, got {self.pretrain_lam!r}")
        if not 0 <= self.average_decay < 1:
            raise ValueError("TrainConfig.average_decay must lie in [0, 1), got "
                             f"{self.average_decay!r}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"TrainConfig.momentum must lie in [0, 1), got {self.momentum!r}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"TrainConfig.betas must be two numbers in [0, 1), got {self.betas!r}")
        if self.psi not in PSI_CHOICES:
            raise ValueError(f"TrainConfig.psi must be one of {PSI_CHOICES}, got {self.psi!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"TrainConfig.optimizer must be one of {OPTIMIZERS}, "
                             f"got {self.optimizer!r}")
        if self.device is not None and self.device not in CHOICES:
            raise ValueError(f"TrainConfig.device must be one of {', '.join(CHOICES)}, "
                             f"got {self.device!r}")

    # -- (de)serialisation ------------------------------------------------------------------
    def to_dict(self):
        values = dataclasses.asdict(self)
        values["betas"] = list(self.betas)
        return values

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values):
        """Inverse of ``to_dict``; raises ValueError naming unknown fields. A config written
        before the buffer was sized in batches (``buffer_size``, in images) is read with
        ``history_batches = buffer_size / batch_size``, rounded up."""
        if not isinstance(values, dict):
            raise ValueError(f"TrainConfig: expected an object of fields, got "
                             f"{type(values).__name__}")
        values = dict(values)
        if "buffer_size" in values and "history_batches" not in values:
            batch = int(values.get("batch_size", cls.batch_size))
            values["history_batches"] = max(1, -(-int(values.pop("buffer_size")) // batch))
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"TrainConfig: unknown field(s) {unknown}")
        return cls(**values)

    def replace(self, **changes):
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def resumed_with(self, **changes):
        """This (a checkpoint's) config with ``changes`` for a resumed run.

        Only the fields in ``RESUMABLE`` may differ from the checkpoint: changing the networks,
        the losses or the data mid-run would make the checkpoint meaningless. Raises ValueError
        naming the fields that may not change.
        """
        resumed = self.replace(**changes)
        before, after = self.to_dict(), resumed.to_dict()
        fixed = sorted(name for name in after
                       if name not in RESUMABLE and after[name] != before[name])
        if fixed:
            raise ValueError(f"cannot change {', '.join(fixed)} when resuming (the checkpoint has "
                             + ", ".join(f"{name}={before[name]!r}" for name in fixed)
                             + f"); only {', '.join(RESUMABLE)} may change")
        return resumed
