"""Algorithm 1 of the paper: train the refiner R and the discriminator D alternately.

    train(TrainConfig.cpu_preset(), synthetic, real, "runs/eyes")      # -> "runs/eyes"

Phases, each counted in the checkpoint so a run resumes exactly where it stopped:

1. pretrain R for ``pretrain_refiner_steps`` on the self-regularization term alone,
   pretrain_lam ||psi(R(x)) - psi(x)||_1 (see ``config``); R starts by producing a blurry copy
   of its input, as the authors describe.
2. pretrain D for ``pretrain_discriminator_steps`` against that R (real vs refined).
3. ``steps`` iterations of: K_g refiner steps on realism_loss + self_regularization, then K_d
   discriminator steps; each D mini-batch holds b real images and b refined ones, half from the
   history buffer (``history``).

While R learns, D's parameters are frozen (requires_grad off) and vice versa, so each step
touches exactly one network. A loss that is not finite stops training with ``TrainingDiverged``
*before* the update, leaving the last checkpoint as the last good state; a checkpoint is never
written with a number that is not finite. Ctrl-C (SIGINT) or SIGTERM stops after the current
step with a checkpoint (``TrainingInterrupted``). The run folder's files are those of
``run_folder``, and only this process writes it while it trains (``RunFolder.claim``);
``progress`` reports each phase and one ETA for the whole run.

Randomness: the refiner's and D's initial weights, the mini-batch draws, the history buffer
and the sample grid's picks each have their own generator, all seeded from ``config.seed``. The
same seed and config give the same run bit for bit on one machine with one BLAS thread count;
another thread count rounds sums differently, and adversarial training amplifies that.
"""
import contextlib
import os
import time
import uuid
from typing import Any, Optional, Union

import numpy as np

from minigan import optim
from minigan.autograd import Tensor, no_grad
from minigan.backend import get_array_module, resolve_device, to_numpy
from minigan.cpu.threads import blas_held
from minigan.io.interrupt import JobInterrupted, StopRequests
from minigan.io.progress import Progress
from minigan.simgan.average import ParameterAverage
from minigan.simgan.checkpoint import (PHASE_LABELS, PHASES, describe, first_non_finite,
                                       read_checkpoint, restore, save_checkpoint, trainer_state)
from minigan.simgan.config import TrainConfig  # noqa: F401  (public here: trainer.TrainConfig)
from minigan.simgan.history import ImageHistoryBuffer
from minigan.simgan.losses import (REAL, REFINED, discriminator_loss, patch_accuracy,
                                   realism_loss, self_regularization)
from minigan.simgan.models import (Discriminator, GlobalDiscriminator, Refiner,
                                   patch_map_size)
from minigan.simgan.run_folder import RunFolder

SAMPLES_SHOWN = 12


class Trainer:
    """Holds R, D, their optimizers, the history buffer and the generators of one run."""

    def refiner_step(self, adversarial=True):
        """One update of R on x, a synthetic mini-batch of b = ``config.batch_size``, D frozen:

            adversarial:  loss = realism_loss(D(R(x)), adversarial_scale)
                                 + self_regularization(R(x), x, config.lam, config.psi)
            pretraining:  loss = self_regularization(R(x), x, config.pretrain_lam, config.psi)

        checked finite before the step (``_finite``); then the average follows R (decay 0, a
        copy, while pretraining). Returns ``{"refiner_loss", "self_regularization",
        "realism_loss"}`` as floats (``realism_loss`` None while pretraining).
        """
        cfg = self.config
        x = self._batch(self.synthetic, cfg.batch_size)
        with _frozen(self.discriminator):
            refined = self.refiner(x)
            lam = cfg.lam if adversarial else cfg.pretrain_lam
            regularization = self_regularization(refined, x, lam, cfg.psi)
            realism = (realism_loss(self.discriminator(refined), self.adversarial_scale)
                       if adversarial else None)
            loss = regularization if realism is None else realism + regularization
            value = self._finite(loss, "refiner loss")
            self.refiner_optimizer.zero_grad()
            loss.backward()
        self.refiner_optimizer.step()
        if self.average is not None:
            self.average.update(self.refiner, decay=None if adversarial else 0.0)
        return {"refiner_loss": value, "self_regularization": float(regularization.item()),
                "realism_loss": None if realism is None else float(realism.item())}

    def discriminator_step(self):
        """One update of D, R frozen, on b real images and b refined ones: b - k fresh R(x)
        (no graph), then k = min(b/2, len(history)) from the history (0 without one), drawn in
        that order (fresh, real, history):

            loss = discriminator_loss(D(refined), D(real), adversarial_scale)

        checked finite before the step; after it the first b/2 fresh images go into the
        history. Returns ``{"discriminator_loss", "d_accuracy_real", "d_accuracy_refined"}``:
        floats, the accuracies ``patch_accuracy`` of D's logits against REAL and REFINED.
        """
        b = self.config.batch_size
        k = min(b // 2, len(self.history)) if self.history is not None else 0
        with no_grad():
            fresh = self.refiner(self._batch(self.synthetic, b - k)).data
        real = self._batch(self.real, b)
        refined = fresh
        if k:
            xp = get_array_module(fresh)
            refined = xp.concatenate([fresh, self.history.sample(k)])
        with _frozen(self.refiner):
            logits_refined = self.discriminator(Tensor.wrap(refined))
            logits_real = self.discriminator(real)
            loss = discriminator_loss(logits_refined, logits_real, self.adversarial_scale)
            value = self._finite(loss, "discriminator loss")
            self.discriminator_optimizer.zero_grad()
            loss.backward()
        self.discriminator_optimizer.step()
        if self.history is not None:
            self.history.push(fresh[:b // 2])
        return {"discriminator_loss": value,
                "d_accuracy_real": patch_accuracy(logits_real, REAL),
                "d_accuracy_refined": patch_accuracy(logits_refined, REFINED)}

    def iteration(self):
        """``config.k_g`` refiner steps, then ``config.k_d`` discriminator steps. Returns, for
        every key of their records in sorted order, the mean (a float) over the steps that
        have it."""
        parts = [self.refiner_step() for _ in range(self.config.k_g)]
        parts += [self.discriminator_step() for _ in range(self.config.k_d)]
        keys = {key for part in parts for key in part}
        return {key: float(np.mean([p[key] for p in parts if key in p])) for key in sorted(keys)}

    # -- setting up ---------------------------------------------------------------------------
    def __init__(self, config, synthetic, real, out_dir, progress=True, status_every=30.0):
        self.config, self.progress, self.status_every = config, progress, status_every
        self.device = resolve_device(config.device)
        self.synthetic, self.real = _images(synthetic, "synthetic"), _images(real, "real")
        shape = self.synthetic.shape[1:]
        if self.real.shape[1:] != shape:
            raise ValueError(f"train: synthetic images are {shape} but real images are "
                             f"{self.real.shape[1:]}; both must be (C, H, W) alike")
        self.folder = RunFolder(out_dir)
        self.run_id = None  # set by load_checkpoint, or new when the run starts
        seed, c = config.seed, shape[0]
        self.refiner = Refiner(c, config.refiner_channels, config.refiner_blocks,
                               rng=np.random.default_rng([seed, 1]),
                               padding_mode=config.refiner_padding).to(self.device)
        d_rng = np.random.default_rng([seed, 2])
        width, norm = config.discriminator_width, config.discriminator_batch_norm
        self.discriminator = (GlobalDiscriminator(c, width, shape[1:], rng=d_rng, batch_norm=norm)
                              if config.global_adversarial
                              else Discriminator(c, width, rng=d_rng, batch_norm=norm)
                              ).to(self.device)
        self.adversarial_scale = adversarial_scale(config, shape[1:])
        self.refiner_optimizer = _optimizer(config, self.refiner.parameters())
        self.average = (ParameterAverage(self.refiner, config.average_decay)
                        if config.average_decay > 0 else None)
        self.discriminator_optimizer = _optimizer(config, self.discriminator.parameters())
        self.rng = np.random.default_rng([seed, 3])
        self.history = (ImageHistoryBuffer(config.buffer_size, shape,
                                           np.random.default_rng([seed, 4]), device=self.device)
                        if config.use_history else None)
        picks = np.random.default_rng([seed, 5])
        self.shown_synthetic, self.shown_real = (
            images[picks.choice(len(images), SAMPLES_SHOWN, replace=len(images) < SAMPLES_SHOWN)]
            for images in (self.synthetic, self.real))
        self.counters = dict.fromkeys(PHASES, 0)
        self.elapsed = 0.0

    def _batch(self, images, n):
        rows = self.rng.choice(len(images), size=n, replace=n > len(images))
        return Tensor(images[rows], device=self.device)

    def _finite(self, loss, what):
        value = float(loss.item())
        if not np.isfinite(value):
            self._diverged(what, value)
        return value

    # -- the loop ---------------------------------------------------------------------------
    @property
    def t(self):
        """Steps logged so far over all phases (the ``t`` of log.jsonl)."""
        return sum(self.counters.values())

    def totals(self):
        cfg = self.config
        return {"pretrain_refiner": cfg.pretrain_refiner_steps,
                "pretrain_discriminator": cfg.pretrain_discriminator_steps,
                "adversarial": cfg.steps}

    def images_per_step(self):
        """Images through a network per step of each phase (the progress's cost unit)."""
        cfg = self.config
        return {"pretrain_refiner": cfg.batch_size, "pretrain_discriminator": 2 * cfg.batch_size,
                "adversarial": (cfg.k_g + 2 * cfg.k_d) * cfg.batch_size}

    def run(self):
        """Run (or finish) all three phases; returns the run folder's path.

        Only this process writes the folder meanwhile. Ctrl-C (or SIGTERM) stops after the
        current step: a checkpoint is written and ``TrainingInterrupted`` raised; resuming from
        it gives the run that was not interrupted.
        """
        with self.folder.claim(resume=True):  # (already held when ``train`` called this)
            # a loss or weight that overflows is reported as TrainingDiverged, not as warnings
            # BLAS one thread per call: the convolutions split images over the cores themselves
            with StopRequests() as stop, np.errstate(over="ignore", invalid="ignore"), \
                    blas_held():
                self._run(stop)
        return self.folder.path

    def _run(self, stop):
        cfg, totals = self.config, self.totals()
        self.run_id = self.run_id or uuid.uuid4().hex
        self.folder.write_config(dict(cfg.to_dict(), device_used=self.device, run_id=self.run_id))
        self.folder.make_subfolders()
        if self.t == 0:
            self.folder.truncate_log(0)  # a fresh start keeps no record of an earlier attempt
        if cfg.keep_checkpoints:
            self.folder.prune_snapshots(cfg.keep_checkpoints)
        images = self.images_per_step()
        steps = {"pretrain_refiner": lambda: self.refiner_step(adversarial=False),
                 "pretrain_discriminator": self.discriminator_step,
                 "adversarial": self.iteration}
        progress = Progress("train", {PHASE_LABELS[p]: (totals[p], self.counters[p], images[p])
                                      for p in PHASES},
                            bar=bool(self.progress),
                            every_s=None if self.progress is None else self.status_every)
        try:
            for phase in PHASES:
                if self.counters[phase] >= totals[phase]:
                    continue
                progress.start(PHASE_LABELS[phase])
                while self.counters[phase] < totals[phase]:
                    start = time.perf_counter()
                    self.phase = phase
                    record = steps[phase]()
                    seconds = time.perf_counter() - start
                    self.elapsed += seconds
                    self.counters[phase] += 1
                    record.update(t=self.t, phase=phase, step=self.counters[phase],
                                  images_per_s=round(images[phase] / seconds, 1),
                                  elapsed_s=round(self.elapsed, 2))
                    self.folder.append_log(record)
                    progress.advance(figures=_figures(record))
                    if phase == "adversarial":
                        self._after_iteration(totals[phase])
                    if stop.requested and self.counters[phase] < totals[phase]:
                        self._interrupted(stop.requested, self.save_checkpoint())
                if phase == "pretrain_refiner":
                    self.save_samples("pretrained_refiner")
                pretrained = phase != "adversarial" and all(
                    self.counters[p] >= totals[p] for p in PHASES if p != "adversarial")
                # iteration 0 is the end of pretraining: with keep_checkpoints it is a snapshot
                # too, the refiner after self-regularization alone
                path = self._checkpoint(self.counters[phase] if phase == "adversarial"
                                        else 0 if pretrained else None)
                if stop.requested and self.t < sum(totals.values()):
                    self._interrupted(stop.requested, path)
        finally:
            progress.close()

    def _after_iteration(self, total):
        n = self.counters["adversarial"]
        if n % self.config.sample_every == 0 or n == total:
            self.save_samples(f"iteration_{n:06d}")
        if n % self.config.checkpoint_every == 0 and n != total:
            self._checkpoint(n)  # (the last one is written at the end of the phase)

    def _checkpoint(self, iteration=None):
        """Write last.npz; at a periodic checkpoint with ``keep_checkpoints``, first as the
        snapshot ``iteration_NNNNNN.npz`` that last.npz then becomes (so a kill between the two
        leaves the older last.npz, and the resumed run writes the same snapshot again)."""
        keep, every = self.config.keep_checkpoints, self.config.checkpoint_every
        if iteration is None or not keep or iteration % every:
            return self.save_checkpoint()
        snapshot = self.save_checkpoint(self.folder.snapshot_path(iteration))
        self.folder.promote(snapshot, keep)
        return self.folder.last_checkpoint

    def _interrupted(self, signal_name, path):
        raise TrainingInterrupted(f"{signal_name}: training stopped {describe(self.counters)}; "
                                  f"the checkpoint {path} holds that point", checkpoint=path)

    @property
    def kept_refiner(self):
        """The refiner a run hands on: the parameter average when there is one, else R."""
        return self.refiner if self.average is None else self.average.module

    def save_samples(self, name):
        with no_grad():
            shown = Tensor(self.shown_synthetic, device=self.device)
            refined = to_numpy(self.kept_refiner(shown).data)
        self.folder.save_samples(name, self.shown_synthetic, refined, self.shown_real)
        self.folder.draw_loss_curve()

    def _diverged(self, what, value, before_update=True):
        phase = getattr(self, "phase", "?")
        where = f"{phase} step {self.counters.get(phase, 0) + (1 if before_update else 0)}"
        checkpoint = self.folder.last_checkpoint
        try:
            saved = read_checkpoint(checkpoint)[0]["counters"]
            last = f"the last good checkpoint is {checkpoint} ({describe(saved)})"
        except (FileNotFoundError, ValueError):
            checkpoint, last = None, "no checkpoint had been written yet"
        stopped = "before the update" if before_update else "without writing a checkpoint"
        message = f"{what} became {value} at {where}; training stopped {stopped}; {last}"
        self.folder.append_log({"t": self.t + 1, "phase": phase, "event": "diverged",
                                "message": message})
        raise TrainingDiverged(message, checkpoint=checkpoint)

    # -- checkpoints ------------------------------------------------------------------------
    def save_checkpoint(self, path=None):
        """Write everything needed to continue to ``path`` (default checkpoints/last.npz).

        Raises TrainingDiverged, writing nothing, when a number in it is NaN or infinite.
        """
        meta, groups = trainer_state(self)
        bad = first_non_finite(groups)
        if bad is not None:
            self._diverged(f"the checkpoint's {bad}", "NaN or infinite", before_update=False)
        path = path or self.folder.last_checkpoint
        save_checkpoint(path, meta, groups)
        return path

    def load_checkpoint(self, path):
        """Restore a checkpoint of this run; see ``checkpoint.restore`` for what must fit."""
        return restore(self, path)


def adversarial_scale(config, image_size):
    """What the adversarial losses are multiplied by: the local D's patch count h * w for a
    global D with ``global_loss_scale`` (one term per image then weighs as much as h * w patch
    terms), else 1."""
    if config.global_adversarial and config.global_loss_scale:
        height, width = patch_map_size(*image_size)
        return height * width
    return 1


def _figures(record):
    """What the progress shows of a step's record: losses, D's accuracy, images/s."""
    names = {"refiner_loss": "R", "discriminator_loss": "D", "d_accuracy_real": "acc_real",
             "d_accuracy_refined": "acc_ref", "images_per_s": "img/s"}
    return {short: float(record[key]) for key, short in names.items()
            if record.get(key) is not None}


def train(config: TrainConfig, synthetic: Any, real: Any, out_dir: Union[str, os.PathLike],
          progress: Optional[bool] = True, resume: Union[bool, str, os.PathLike] = False,
          status_every: float = 30.0, run_id: Optional[str] = None) -> str:
    """Train SimGAN with ``config`` (a TrainConfig) on two datasets; returns ``out_dir``.

    synthetic, real: ArrayDatasets (or (N, C, H, W) arrays in [-1, 1]); labels are not used.
    resume: True continues from ``out_dir/checkpoints/last.npz``, or from the beginning when the
    run was stopped before writing one (or ``out_dir`` is new); a path continues from that
    .npz. False starts a new run: ``out_dir`` must be new or empty. progress: a bar per
    phase (True), or a plain status line every ``status_every`` seconds (False; None: silent).
    run_id: the id of the run being resumed when it has no checkpoint yet (from config.json).
    """
    trainer = Trainer(config, synthetic, real, out_dir, progress=progress,
                      status_every=status_every)
    folder = trainer.folder
    checkpoint = folder.last_checkpoint if resume is True else resume
    with folder.claim(resume=bool(resume)):
        if checkpoint and (resume is not True or os.path.lexists(checkpoint)):
            trainer.load_checkpoint(checkpoint)
        else:
            trainer.run_id = run_id
        return trainer.run()


class TrainingDiverged(RuntimeError):
    """A loss or a weight became NaN or infinite. The message names the step and the last good
    checkpoint; ``checkpoint`` is its path (None when none was written yet)."""

    def __init__(self, message, checkpoint=None):
        super().__init__(message)
        self.checkpoint = checkpoint


class TrainingInterrupted(JobInterrupted):
    """Training stopped on Ctrl-C (SIGINT) or SIGTERM after writing ``checkpoint``."""

    def __init__(self, message, checkpoint):
        super().__init__(message)
        self.checkpoint = checkpoint


def _images(data, name):
    """An ArrayDataset (anything with ``.images``) or an array -> float32 (N, C, H, W) NumPy."""
    images = np.asarray(getattr(data, "images", data))
    if images.ndim != 4 or images.dtype.kind != "f" or len(images) == 0:
        raise ValueError(f"train: {name} must be an ArrayDataset or a non-empty float (N, C, H, W) "
                         f"array, got shape {images.shape} dtype {images.dtype}")
    return images.astype(np.float32, copy=False)


def _optimizer(config, params):
    if config.optimizer == "adam":
        return optim.Adam(params, lr=config.lr, betas=config.betas)
    return optim.SGD(params, lr=config.lr, momentum=config.momentum)


@contextlib.contextmanager
def _frozen(module):
    """Inside the block no gradient is computed for ``module``'s parameters."""
    params = module.parameters()
    for p in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p in params:
            p.requires_grad = True
