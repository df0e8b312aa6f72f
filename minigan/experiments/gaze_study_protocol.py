"""The gaze study's protocol, fixed before any test result is seen: seeds, rows, sizes, metric.

A *replicate* is one seed s: SimGAN's initialization and training data (``TrainConfig.seed =
s``), the estimators' training eyes and the held-out photo test set (``eval_data.data_seed``),
and the estimators' seeds ``1000 s + k``, k < ``estimator_seeds``. Every row of a replicate is
trained on the same eyes (same gaze labels) from the same estimator initializations and tested
on the same test set, so rows are compared *paired by seed*.

Rows of the main table (``CONTROL_ROWS`` + the SimGAN curve):

    synthetic             the synthetic training eyes as rendered
    degraded              the same eyes through ``data.degrade`` (random blur, noise, JPEG)
    simgan@0              refined by R after self-regularization pretraining alone
    simgan@t              refined by SimGAN's R (the running average) at iteration t, for each
                          t of ``checkpoints``; the last one is the primary comparison
    perfect               the perfect refiner: the same eyes (the synthetic geometry and labels)
                          drawn in the photo style, the best any refiner that keeps the
                          annotations can do
    photo                 labelled photo-style eyes, the upper bound: the photo style's own
                          geometry and head poses (``PHOTO_PARAM_RANGES``) with the same gaze
                          directions as the synthetic eyes (the renderer draws gaze first)

The gap splits per replicate into geometry = perfect - photo (what no refiner that keeps the
labels may change) and appearance = synthetic - perfect (what a refiner can learn). With
``factors``, the factor rows say what the appearance gap is made of: for each group X of
``eye_styles.FACTORS``, ``without:X`` is the perfect refiner's eyes with X as in the synthetic
style, ``only:X`` the synthetic eyes with X alone as in the photo style. With ``simgan`` off
the study runs the rows that involve no refiner only: what calibrating a renderer may use.

Every training set and the test set go through the same ``normalization`` before the estimator
(default ``histeq``, what MPIIGaze's normalized files already are). The primary metric is the
mean angular error; % within 7 degrees is secondary.

Ablation arms (``ABLATIONS``) are other SimGAN configurations, each compared with the SimGAN
run of the same seed, evaluated at its last iteration.
"""
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Optional

from minigan.data.eye_styles import FACTORS
from minigan.data.normalize import NORMALIZATIONS
from minigan.experiments.gaze_eval import preset_values
from minigan.simgan.config import TrainConfig

CONTROL_ROWS = ("synthetic", "degraded", "perfect", "photo")
FACTOR_ROWS = tuple(f"{kind}:{factor}" for kind in ("without", "only") for factor in FACTORS)
WEIGHTS = ("average", "last")


@dataclass(frozen=True)
class Arm:
    """A SimGAN configuration under test: ``changes`` to the preset's TrainConfig.

    ``weights``: which refiner of a checkpoint is evaluated, ``average`` (the running average of
    R, what a run hands on) or ``last`` (R's own last weights: no running average).
    ``authors``: apply ``TrainConfig.authors_setting`` (BN in D, K_g = 50, K_d = 1, as many
    refiner steps). ``reference``: the arm it is compared with. Arms with the same training
    config share their runs, whatever their weights.
    """

    name: str
    changes: tuple = ()          # (field, value) pairs, hashable
    weights: str = "average"
    authors: bool = False
    reference: str = "SimGAN"

    def train_config(self, base):
        config = base.replace(**dict(self.changes))
        return config.authors_setting() if self.authors else config


SIMGAN = Arm("SimGAN")
ABLATIONS = (
    Arm("SimGAN, R's own weights (no running average)", weights="last", reference="SimGAN"),
    Arm("no history buffer, R's own weights", (("use_history", False),), weights="last",
        reference="SimGAN, R's own weights (no running average)"),
    Arm("global adversarial loss (scaled to the local one)", (("global_adversarial", True),)),
    Arm("reflect padding in R", (("refiner_padding", "reflect"),)),
    Arm("authors' setting: BN in D, K_g = 50, K_d = 1", authors=True),
)


@dataclass
class StudyConfig:
    """Sizes and seeds of the gaze study. Defaults: the ``cpu`` preset, sized to finish in about
    two hours on one CPU core (five SimGAN runs of ~5 minutes, 90 estimators of ~1 minute;
    the ablations add ~1 hour): 5 replicates x 3 estimator seeds, 2,000 training and 2,000
    test eyes, the small estimator for 400 steps, SimGAN's CPU preset evaluated at iterations
    0, 150 and 300."""

    seeds: tuple = (0, 1, 2, 3, 4)
    estimator_seeds: int = 3
    normalization: str = "histeq"
    train_n: int = 2000           # training eyes per estimator (the same eyes in every row)
    test_n: int = 2000            # held-out photo test eyes
    steps: int = 400              # estimator training steps (fixed in advance)
    batch_size: int = 64
    lr: float = 0.001
    estimator: str = "small"      # a key of gaze_estimator.ESTIMATOR_PRESETS
    simgan_preset: str = "cpu"    # TrainConfig.cpu_preset | gpu_preset
    simgan_steps: int = 300
    checkpoints: tuple = (0, 150, 300)        # iterations of the SimGAN curve
    pupil_n: int = 100
    simgan: bool = True           # False: the rows without a refiner only
    factors: bool = False         # the factor rows (FACTOR_ROWS)
    ablations: bool = False
    ablation_seeds: tuple = (0, 1, 2)
    ablation_estimator_seeds: int = 1
    device: Optional[str] = None
    simgan_overrides: dict = field(default_factory=dict)   # e.g. tiny networks for tests

    PRESETS = {
        "cpu": {},
        "gpu": dict(train_n=20000, test_n=5000, steps=3000, batch_size=512, estimator="paper",
                    simgan_preset="gpu", simgan_steps=2000, checkpoints=(0, 500, 1000, 2000),
                    ablation_seeds=(0, 1, 2, 3, 4), ablation_estimator_seeds=3),
        "tiny": dict(seeds=(0, 1), estimator_seeds=2, train_n=48, test_n=24, steps=2,
                     batch_size=8, estimator="tiny", simgan_steps=2, checkpoints=(0, 1, 2),
                     pupil_n=8, ablation_seeds=(0,), ablation_estimator_seeds=1,
                     simgan_overrides=dict(pretrain_refiner_steps=1,
                                           pretrain_discriminator_steps=1, batch_size=4,
                                           history_batches=2, refiner_channels=4,
                                           refiner_blocks=1, discriminator_width=0.125,
                                           n_synthetic=16, n_real=16)),
    }

    def __post_init__(self):
        self.seeds = tuple(int(s) for s in self.seeds)
        self.checkpoints = tuple(sorted({int(c) for c in self.checkpoints}))
        self.ablation_seeds = tuple(int(s) for s in self.ablation_seeds)
        self.validate()

    @classmethod
    def preset(cls, name, **overrides):
        """The named preset (``cpu``, ``gpu``, ``tiny``) with ``overrides`` (None ignored)."""
        return cls(**preset_values(cls.PRESETS, name, overrides))

    def validate(self):
        """Raise ValueError naming the field when a value cannot work."""
        for name in ("estimator_seeds", "train_n", "test_n", "steps", "batch_size",
                     "simgan_steps", "pupil_n", "ablation_estimator_seeds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"StudyConfig.{name} must be a positive integer, "
                                 f"got {value!r}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
            raise ValueError(f"StudyConfig.seeds must be distinct seeds >= 0, got {self.seeds}")
        if not set(self.ablation_seeds) <= set(self.seeds):
            raise ValueError(f"StudyConfig.ablation_seeds {self.ablation_seeds} must be "
                             f"among the seeds {self.seeds}")
        if self.ablation_estimator_seeds > self.estimator_seeds:
            raise ValueError("StudyConfig.ablation_estimator_seeds must be at most "
                             f"estimator_seeds ({self.estimator_seeds})")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"StudyConfig.normalization must be one of {NORMALIZATIONS}, "
                             f"got {self.normalization!r}")
        if not self.checkpoints or self.checkpoints[0] < 0 \
                or self.checkpoints[-1] != self.simgan_steps:
            raise ValueError(f"StudyConfig.checkpoints {self.checkpoints} must be iterations "
                             f">= 0 ending at simgan_steps ({self.simgan_steps})")
        if self.ablations and not self.simgan:
            raise ValueError("StudyConfig.ablations need simgan (the arms are SimGAN runs)")
        if self.simgan_preset not in ("cpu", "gpu"):
            raise ValueError(f"StudyConfig.simgan_preset must be cpu or gpu, "
                             f"got {self.simgan_preset!r}")

    def to_dict(self):
        return dataclasses.asdict(self)

    def simgan_config(self, arm, seed):
        """The TrainConfig of ``arm`` for replicate ``seed``, keeping a snapshot at every
        iteration of ``checkpoints`` (iteration 0: the pretrained refiner)."""
        factory = TrainConfig.cpu_preset if self.simgan_preset == "cpu" else TrainConfig.gpu_preset
        every = math.gcd(*[c for c in self.checkpoints if c > 0]) if self.simgan_steps else 1
        base = factory(**dict(self.simgan_overrides, steps=self.simgan_steps, seed=int(seed),
                              device=self.device, checkpoint_every=every,
                              sample_every=every, keep_checkpoints=len(self.checkpoints) + 1))
        return arm.train_config(base)

    def arms(self):
        """SimGAN, then the ablation arms when ``ablations`` is on; none without ``simgan``."""
        if not self.simgan:
            return ()
        return (SIMGAN,) + (ABLATIONS if self.ablations else ())

    def control_rows(self):
        """The rows without a refiner: ``CONTROL_ROWS``, and ``FACTOR_ROWS`` with ``factors``."""
        return CONTROL_ROWS + (FACTOR_ROWS if self.factors else ())

    def estimator_seed(self, seed, k):
        """Seed of the k-th estimator of replicate ``seed``: shared by every row, so paired."""
        return 1000 * int(seed) + int(k)
