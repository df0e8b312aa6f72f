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
*before* the update, leaving the last checkpoint as the last good state.

Randomness: the refiner's and D's initial weights, the mini-batch draws, the history buffer
and the sample grid's picks each have their own generator, all seeded from ``config.seed``. The
same seed and config give the same run bit for bit on one machine with one BLAS thread count;
another thread count rounds sums differently, and adversarial training amplifies that.
"""
import contextlib
import time
import zlib

import numpy as np

from minigan import optim
from minigan.autograd import Tensor, no_grad
from minigan.backend import get_array_module, resolve_device, to_numpy
from minigan.simgan.average import ParameterAverage
from minigan.simgan.checkpoint import read_checkpoint, save_checkpoint
from minigan.simgan.config import TrainConfig  # noqa: F401  (public here: trainer.TrainConfig)
from minigan.simgan.history import ImageHistoryBuffer, generator_from_state, generator_state
from minigan.simgan.losses import (REAL, REFINED, discriminator_loss, patch_accuracy,
                                   realism_loss, self_regularization)
from minigan.simgan.models import Discriminator, GlobalDiscriminator, Refiner
from minigan.simgan.run_folder import RunFolder

PHASES = ("pretrain_refiner", "pretrain_discriminator", "adversarial")
SAMPLES_SHOWN = 12


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the message names the step and the last good checkpoint."""


def _images(data, name):
    """An ArrayDataset (anything with ``.images``) or an array -> float32 (N, C, H, W) NumPy."""
    images = np.asarray(getattr(data, "images", data))
    if images.ndim != 4 or images.dtype.kind != "f" or len(images) == 0:
        raise ValueError(f"train: {name} must be an ArrayDataset or a non-empty float (N, C, H, W) "
                         f"array, got shape {images.shape} dtype {images.dtype}")
    return images.astype(np.float32, copy=False)


def _fingerprint(images):
    return {"n": int(len(images)), "crc32": int(zlib.crc32(np.ascontiguousarray(images)))}


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


class Trainer:
    """Holds R, D, their optimizers, the history buffer and the generators of one run."""

    def __init__(self, config, synthetic, real, out_dir, progress=True):
        self.config, self.progress = config, progress
        self.device = resolve_device(config.device)
        self.synthetic, self.real = _images(synthetic, "synthetic"), _images(real, "real")
        shape = self.synthetic.shape[1:]
        if self.real.shape[1:] != shape:
            raise ValueError(f"train: synthetic images are {shape} but real images are "
                             f"{self.real.shape[1:]}; both must be (C, H, W) alike")
        self.folder = RunFolder(out_dir)
        seed, c = config.seed, shape[0]
        self.refiner = Refiner(c, config.refiner_channels, config.refiner_blocks,
                               rng=np.random.default_rng([seed, 1])).to(self.device)
        d_rng = np.random.default_rng([seed, 2])
        width = config.discriminator_width
        self.discriminator = (GlobalDiscriminator(c, width, shape[1:], rng=d_rng)
                              if config.global_adversarial
                              else Discriminator(c, width, rng=d_rng)).to(self.device)
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

    # -- one step of each kind -------------------------------------------------------------
    def _batch(self, images, n):
        rows = self.rng.choice(len(images), size=n, replace=n > len(images))
        return Tensor(images[rows], device=self.device)

    def _finite(self, loss, what):
        value = float(loss.item())
        if not np.isfinite(value):
            self._diverged(what, value)
        return value

    def refiner_step(self, adversarial=True):
        """One update of R on a synthetic mini-batch; D is only read. Returns the loss terms."""
        cfg = self.config
        x = self._batch(self.synthetic, cfg.batch_size)
        with _frozen(self.discriminator):
            refined = self.refiner(x)
            lam = cfg.lam if adversarial else cfg.pretrain_lam
            regularization = self_regularization(refined, x, lam, cfg.psi)
            realism = realism_loss(self.discriminator(refined)) if adversarial else None
            loss = regularization if realism is None else realism + regularization
            value = self._finite(loss, "refiner loss")
            self.refiner_optimizer.zero_grad()
            loss.backward()
        self.refiner_optimizer.step()
        if self.average is not None:  # while pretraining, the average is a plain copy
            self.average.update(self.refiner, decay=None if adversarial else 0.0)
        return {"refiner_loss": value, "self_regularization": float(regularization.item()),
                "realism_loss": None if realism is None else float(realism.item())}

    def discriminator_step(self):
        """One update of D on b real and b refined images (half of them from the history)."""
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
            loss = discriminator_loss(logits_refined, logits_real)
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
        """K_g refiner steps then K_d discriminator steps; returns the mean of each term."""
        parts = [self.refiner_step() for _ in range(self.config.k_g)]
        parts += [self.discriminator_step() for _ in range(self.config.k_d)]
        keys = {key for part in parts for key in part}
        return {key: float(np.mean([p[key] for p in parts if key in p])) for key in sorted(keys)}

    # -- the loop ---------------------------------------------------------------------------
    @property
    def t(self):
        """Steps logged so far over all phases (the ``t`` of log.jsonl)."""
        return sum(self.counters.values())

    def run(self):
        """Run (or finish) all three phases; returns the run folder's path."""
        cfg = self.config
        totals = {"pretrain_refiner": cfg.pretrain_refiner_steps,
                  "pretrain_discriminator": cfg.pretrain_discriminator_steps,
                  "adversarial": cfg.steps}
        self.folder.write_config(dict(cfg.to_dict(), device_used=self.device))
        images = {"pretrain_refiner": cfg.batch_size, "pretrain_discriminator": 2 * cfg.batch_size,
                  "adversarial": (cfg.k_g + 2 * cfg.k_d) * cfg.batch_size}
        steps = {"pretrain_refiner": lambda: self.refiner_step(adversarial=False),
                 "pretrain_discriminator": self.discriminator_step,
                 "adversarial": self.iteration}
        for phase in PHASES:
            if self.counters[phase] >= totals[phase]:
                continue
            # one bar per phase: their steps differ in cost, so one bar's time estimate would not
            bar = _progress_bar(phase, totals[phase], self.counters[phase], self.progress)
            try:
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
                    bar.update(1)
                    bar.set_postfix(_postfix(record), refresh=False)
                    if phase == "adversarial":
                        self._after_iteration(totals[phase])
            finally:
                bar.close()
            if phase == "pretrain_refiner":
                self.save_samples("pretrained_refiner")
            self.save_checkpoint()
        return self.folder.path

    def _after_iteration(self, total):
        n = self.counters["adversarial"]
        if n % self.config.sample_every == 0 or n == total:
            self.save_samples(f"iteration_{n:06d}")
        if n % self.config.checkpoint_every == 0 and n != total:
            self.save_checkpoint()  # (the last one is written at the end of the phase)

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

    def _diverged(self, what, value):
        phase = getattr(self, "phase", "?")
        where = f"{phase} step {self.counters.get(phase, 0) + 1}"
        try:
            saved = read_checkpoint(self.folder.last_checkpoint)[0]["counters"]
            last = (f"the last good checkpoint is {self.folder.last_checkpoint} "
                    f"({_describe(saved)}); resume from it with --resume {self.folder.path}")
        except (FileNotFoundError, ValueError):
            last = "no checkpoint had been written yet"
        message = (f"{what} became {value} at {where}; training stopped before the update, "
                   f"{last}. Try a smaller --lr or --lam.")
        self.folder.append_log({"t": self.t + 1, "phase": phase, "event": "diverged",
                                "message": message})
        raise TrainingDiverged(message)

    # -- checkpoints ------------------------------------------------------------------------
    def save_checkpoint(self, path=None):
        """Write everything needed to continue to ``path`` (default checkpoints/last.npz)."""
        groups = {"refiner": self.refiner.state_dict(),
                  "discriminator": self.discriminator.state_dict(),
                  "refiner_optimizer": self.refiner_optimizer.state_dict(),
                  "discriminator_optimizer": self.discriminator_optimizer.state_dict(),
                  "rng": {"train": generator_state(self.rng)}}
        if self.history is not None:
            groups["history"] = self.history.state_dict()
        if self.average is not None:
            groups["refiner_average"] = self.average.state_dict()
        meta = {"refiner": self.refiner.architecture(),
                "discriminator": self.discriminator.architecture(),
                "config": self.config.to_dict(), "counters": dict(self.counters),
                "elapsed_s": self.elapsed,
                "data": {"synthetic": _fingerprint(self.synthetic),
                         "real": _fingerprint(self.real)}}
        path = path or self.folder.last_checkpoint
        save_checkpoint(path, meta, groups)
        return path

    def load_checkpoint(self, path):
        """Restore a checkpoint of a run with the same config (up to ``RESUMABLE`` fields)."""
        meta, groups = read_checkpoint(path)
        TrainConfig.from_dict(meta["config"]).resumed_with(**{
            k: v for k, v in self.config.to_dict().items()})
        data = {"synthetic": _fingerprint(self.synthetic), "real": _fingerprint(self.real)}
        for name, fingerprint in data.items():
            if meta["data"][name] != fingerprint:
                raise ValueError(f"{path}: the {name} images differ from the ones this checkpoint "
                                 f"was trained on ({meta['data'][name]} vs now {fingerprint}); "
                                 "resume with the same data and seed")
        self.refiner.load_state_dict(groups["refiner"])
        self.discriminator.load_state_dict(groups["discriminator"])
        self.refiner_optimizer.load_state_dict(groups["refiner_optimizer"])
        self.discriminator_optimizer.load_state_dict(groups["discriminator_optimizer"])
        self.rng = generator_from_state(groups["rng"]["train"])
        if self.history is not None:
            self.history.load_state_dict(groups["history"])
        if self.average is not None:
            self.average.load_state_dict(groups["refiner_average"])
        self.counters = {phase: int(meta["counters"][phase]) for phase in PHASES}
        self.elapsed = float(meta.get("elapsed_s", 0.0))
        self.folder.truncate_log(self.t)
        return meta


def _describe(counters):
    return (f"after {counters['pretrain_refiner']} refiner and "
            f"{counters['pretrain_discriminator']} discriminator pretraining steps and "
            f"{counters['adversarial']} iterations")


def _postfix(record):
    names = {"refiner_loss": "R", "discriminator_loss": "D", "d_accuracy_real": "acc_real",
             "d_accuracy_refined": "acc_ref"}
    return {short: f"{record[key]:.3g}" for key, short in names.items()
            if record.get(key) is not None}


PHASE_LABELS = {"pretrain_refiner": "pretrain R", "pretrain_discriminator": "pretrain D",
                "adversarial": "adversarial"}


def _progress_bar(phase, total, initial, enabled):
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, disable=not enabled, unit="step",
                dynamic_ncols=True, desc=PHASE_LABELS[phase])


def train(config, synthetic, real, out_dir, progress=True, resume=False):
    """Train SimGAN with ``config`` (a TrainConfig) on two datasets; returns ``out_dir``.

    synthetic, real: ArrayDatasets (or (N, C, H, W) arrays in [-1, 1]); labels are not used.
    resume: continue from ``out_dir/checkpoints/last.npz`` (True), or from a given .npz path.
    """
    trainer = Trainer(config, synthetic, real, out_dir, progress=progress)
    if resume:
        trainer.load_checkpoint(trainer.folder.last_checkpoint if resume is True else resume)
    return trainer.run()
