"""The images of one evaluation: rendered from fixed seeds, refined once, split by purpose.

Seeds. SimGAN's trainer renders its synthetic set from ``seed`` and its photo set from
``seed + 1`` (``simgan.config.load_training_data``); the evaluation renders from
``DATA_SEEDS[kind] + seed``, millions away, so the photo images the estimators are tested on
were never shown to the refiner or its discriminator, and the test set is never used for
anything but the final numbers.

    train    the estimators' training eyes: synthetic, refined = R(synthetic), and (upper
             bound) labelled photo-style eyes from the same seed: the photo style's own people,
             head poses and crops around the same gaze directions (the renderer draws gaze
             first), so all three carry the same gaze labels
    test     held-out labelled photo eyes, or MPIIGaze when a folder is given
    realism  photo eyes for the critic (with MPIIGaze: the MPIIGaze test images)
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from minigan.data.eyes import render_eyes
from minigan.data.sources import load_source
from minigan.simgan.models import refine_images

DATA_SEEDS = {"train": 1_000_000, "test": 2_000_000, "realism": 3_000_000,
              "degrade": 4_000_000}


def data_seed(kind, seed):
    """The renderer seed of the evaluation's ``kind`` of data (see the module docstring)."""
    return DATA_SEEDS[kind] + int(seed)


def refine_all(refiner, images, batch_size=256, device=None):
    """R(images) for ``(N, 1, H, W)`` NumPy images, ``batch_size`` at a time -> NumPy."""
    chunks = [refine_images(refiner, images[start:start + batch_size], device)
              for start in range(0, len(images), batch_size)]
    return np.concatenate(chunks).astype(np.float32) if chunks else images[:0].copy()


@dataclass
class EvalSets:
    """Everything an evaluation reads. Images ``(N, 1, 35, 55)`` in [-1, 1], gaze ``(N, 3)``.

    ``perfect``: the synthetic training eyes rendered in the photo style with *their* geometry
    (the same eyes, pixel for pixel in place): the perfect refiner's output, the best any
    refiner that keeps the labels can do; only when asked for. ``photo_pairs``: the first
    ``pupil_n`` of them, the pupil estimator's noise floor. ``photo``: the upper bound's
    training set, photo-style eyes with the photo style's own geometry and the same gaze
    labels, only when the upper bound is asked for.
    """

    synthetic: np.ndarray
    gaze: np.ndarray
    refined: np.ndarray
    perfect: Optional[np.ndarray]
    photo: Optional[np.ndarray]
    photo_pairs: np.ndarray
    test_images: np.ndarray
    test_gaze: np.ndarray
    test_description: str
    realism_real: np.ndarray


def make_eval_sets(refiner, train_n, test_n, pupil_n, realism_n, seed=0, upper_bound=False,
                   mpiigaze=None, device=None, log=None, perfect=False):
    """Render, refine and load the data of one evaluation; returns ``EvalSets``.

    ``refiner``: a trained ``Refiner`` (None: refined = synthetic, for a no-refiner baseline).
    ``mpiigaze``: a folder for ``load_source("mpiigaze:...")``; None tests on rendered photos.
    """
    log = log or (lambda message: None)
    train_seed = data_seed("train", seed)
    log(f"rendering {train_n} synthetic training eyes (seed {train_seed})")
    synthetic = render_eyes(train_n, "synthetic", seed=train_seed)
    log(f"refining them ({'no refiner: identity' if refiner is None else 'refiner'})")
    refined = (synthetic.images.copy() if refiner is None
               else refine_all(refiner, synthetic.images, device=device))
    photo = None
    if upper_bound:
        log(f"rendering {train_n} photo-style eyes with the same gaze (upper bound)")
        photo_eyes = render_eyes(train_n, "photo", seed=train_seed)
        if not np.allclose(photo_eyes.gaze, synthetic.gaze, atol=1e-6):
            raise RuntimeError("the renderer no longer draws the same gaze in both styles")
        photo = photo_eyes.images
    perfect_images = None
    if perfect:
        log(f"rendering the same {train_n} eyes in the photo style (perfect refiner)")
        perfect_images = render_eyes(train_n, "photo", seed=train_seed,
                                     params=synthetic.params).images
        photo_pairs = perfect_images[:pupil_n]
    else:
        pairs = {name: values[:pupil_n] for name, values in synthetic.params.items()}
        photo_pairs = render_eyes(min(pupil_n, train_n), "photo", seed=train_seed,
                                  params=pairs).images

    if mpiigaze:
        test = load_source(f"mpiigaze:{mpiigaze}", n=test_n)
        if "gaze" not in test.labels:
            raise ValueError(f"{mpiigaze}: the MPIIGaze loader returned no gaze labels")
        test_images, test_gaze = test.images, test.labels["gaze"].astype(np.float32)
        description = f"{len(test)} MPIIGaze images from {mpiigaze}"
        realism_real = test_images[:realism_n]
    else:
        test_seed = data_seed("test", seed)
        log(f"rendering {test_n} held-out photo test eyes (seed {test_seed})")
        test = render_eyes(test_n, "photo", seed=test_seed)
        test_images, test_gaze = test.images, test.gaze
        description = f"{test_n} held-out built-in photo eyes (renderer seed {test_seed})"
        realism_real = render_eyes(realism_n, "photo", seed=data_seed("realism", seed)).images
    return EvalSets(synthetic=synthetic.images, gaze=synthetic.gaze, refined=refined,
                    perfect=perfect_images, photo=photo, photo_pairs=photo_pairs,
                    test_images=test_images, test_gaze=test_gaze, test_description=description,
                    realism_real=realism_real)
