"""Step 21 - the gaze estimator and the paper's metrics, on a tiny run.

Teaches: how the paper scores refinement - not by looks but by a task: train a gaze estimator
(a CNN regressing the 3-D gaze vector) on labelled images and measure it on other eyes. The
metrics (Table 2, Figure 7 of the paper):

    angular error(a, b) = atan2(|a x b|, a . b)   in degrees (no unit length needed)
    % within d          = share of test images with error <= d degrees (the paper: d = 7)
    cumulative curve    = % within d for d = 0, 0.5, ..., 25 degrees

and the baseline every number needs: the error of always predicting the mean training gaze.
Opens: minigan/experiments/metrics.py, minigan/experiments/gaze_estimator.py. Homework task 6.1.
Run: python tutorials/step21_gaze_estimator_metrics.py
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import QUICK, Checks  # noqa: E402
from minigan.data.eyes import render_eyes  # noqa: E402
from minigan.data.normalize import normalize  # noqa: E402
from minigan.experiments.gaze_estimator import predict_gaze, train_gaze_estimator  # noqa: E402
from minigan.experiments.metrics import (angular_error, cumulative_error_curve,  # noqa: E402
                                         percent_within)

check = Checks()

# 1. The metrics against answers computed another way.
rng = np.random.default_rng(0)
a, b = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
cosine = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
check.close("angular error = degrees(arccos(cos))", angular_error(a, b),
            np.degrees(np.arccos(cosine)), rtol=1e-9, atol=1e-9)
check.close("known pairs: 0, 90, 180 degrees",
            angular_error([[0, 0, -1], [1, 0, 0], [0, 0, 1]],
                          [[0, 0, -2], [0, 1, 0], [0, 0, -1]]),
            [0, 90, 180], atol=1e-12)
errors = rng.exponential(8.0, size=1000)
check.close("% within 7 = 100 x count(error <= 7) / n", percent_within(errors, 7),
            100 * sum(e <= 7 for e in errors) / len(errors))
thresholds, percents = cumulative_error_curve(errors)
check.true("the cumulative curve never falls",
           bool(np.all(np.diff(percents) >= 0)), f"{len(thresholds)} thresholds")
check.close("... and passes through % within 7 at 7 degrees", percents[thresholds == 7.0],
            [percent_within(errors, 7)])

# 2. A tiny run: train on synthetic eyes, test on held-out synthetic eyes and on photos.
#    Every image is histogram-equalized first (as MPIIGaze's files are), so the estimator
#    cannot lean on the styles' different brightness.
n_train, steps = (600, 100) if QUICK else (1000, 200)
train = render_eyes(n_train, "synthetic", seed=0)
test = {style: render_eyes(300, style, seed=100) for style in ("synthetic", "photo")}
model, losses = train_gaze_estimator(normalize(train.images, "histeq"), train.gaze,
                                     steps=steps, batch_size=32, lr=1e-3, preset="small", seed=0)
print(f"trained the small estimator: {steps} steps of 32 on {n_train} synthetic eyes, loss "
      f"{np.mean(losses[:10]):.3f} -> {np.mean(losses[-10:]):.3f}")
mean_gaze = train.gaze.mean(axis=0)
print(f"{'test set':10} {'mean error':>11} {'% within 7':>11}   constant (mean gaze)")
results = {}
for style, batch in test.items():
    model_errors = angular_error(predict_gaze(model, normalize(batch.images, "histeq")),
                                 batch.gaze)
    constant = angular_error(np.tile(mean_gaze, (len(batch), 1)), batch.gaze)
    results[style] = (model_errors.mean(), constant.mean())
    print(f"{style:10} {model_errors.mean():10.2f}d {percent_within(model_errors):10.1f}%   "
          f"{constant.mean():.2f}d, {percent_within(constant):.1f}%")
check.true("the loss fell", np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10]))
check.true("on synthetic eyes it beats the constant guess by 1/3",
           results["synthetic"][0] < 2 / 3 * results["synthetic"][1],
           f"{results['synthetic'][0]:.2f} vs {results['synthetic'][1]:.2f} degrees")
gap = results["photo"][0] - results["synthetic"][0]
print(f"domain gap in the task: {gap:+.2f} degrees on photos - the error SimGAN sets out to "
      f"close (the paper: training on refined instead of synthetic eyes)")
check.finish()
