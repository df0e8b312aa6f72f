"""Step 23 - ablations and honest comparison: paired differences over seeds, and controls.

Teaches: one run proves little - repeat the experiment over seeds (a seed = one whole replicate:
data, initialization, test set) and report the mean difference with its interval:

    t-interval:  mean +- t_{0.975, n-1} * sd / sqrt(n)
    paired:      d_s = a_s - b_s on each seed s, then the t-interval of the d_s and the paired
                 t-test's p-value (what the seeds share cancels out of d_s)

and a gain is only a gain over the *controls* that could explain it: if histogram
equalization (one line of preprocessing) or a hand-made degradation (blur, noise, JPEG) closed
the same gap, the refiner would not be needed. Here every arm is scored by the step-22 critic
(held-out accuracy against photos: lower = closer to photos), one critic per arm and seed.
An ablation is the same comparison with one piece of the method switched off
(python -m minigan.ablations; python -m minigan.gaze_study runs every control row).
Opens: minigan/experiments/statistics.py, minigan/data/normalize.py, minigan/data/degrade.py.
Homework task 6.2.
Run: python tutorials/step23_ablations_honest_comparison.py
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from lesson import QUICK, Checks  # noqa: E402
from minigan.data.degrade import degrade  # noqa: E402
from minigan.data.eyes import render_eyes  # noqa: E402
from minigan.data.normalize import equalize_histogram  # noqa: E402
from minigan.experiments.realism import CriticConfig, critic_accuracy  # noqa: E402
from minigan.experiments.statistics import paired_difference, t_interval  # noqa: E402

check = Checks()
seeds = range(4) if QUICK else range(6)
n = 120 if QUICK else 200
config = CriticConfig(steps=40 if QUICK else 60, batch_size=32, lr=3e-3)
arms = {"synthetic": lambda x, s: x,
        "histeq control": lambda x, s: equalize_histogram(x),
        "degrade control": lambda x, s: degrade(x, seed=s)}
scores = {arm: [] for arm in arms}
for seed in seeds:
    synthetic = render_eyes(n, "synthetic", seed=10 * seed).images
    photo = render_eyes(n, "photo", seed=10 * seed + 1).images
    for arm, transform in arms.items():
        scores[arm].append(critic_accuracy(transform(synthetic, seed), photo, config, seed=seed))
scores = {arm: np.array(values) for arm, values in scores.items()}

print(f"critic accuracy against photos over {len(seeds)} seeds (lower = closer to photos)")
for arm, values in scores.items():
    ci = t_interval(values)
    print(f"  {arm:16} {ci['mean']:.3f}  [{ci['low']:.3f}, {ci['high']:.3f}]   "
          + " ".join(f"{v:.3f}" for v in values))

# 1. The t-interval and the paired test, against scipy and the formula.
values = scores["synthetic"]
ci = t_interval(values)
half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
check.close("t-interval = mean +- t sd / sqrt(n)", [ci["low"], ci["high"]],
            [values.mean() - half, values.mean() + half], rtol=1e-9)
paired = {arm: paired_difference(scores[arm], scores["synthetic"]) for arm in arms
          if arm != "synthetic"}
for arm, result in paired.items():
    check.close(f"{arm}: paired p = scipy's ttest_rel", result["p"] or 1.0,
                stats.ttest_rel(scores[arm], scores["synthetic"]).pvalue, rtol=1e-7)
    check.close(f"{arm}: differences are per seed", result["differences"],
                scores[arm] - scores["synthetic"], rtol=1e-12)
    print(f"  {arm} - synthetic: {result['mean']:+.3f}  [{result['low']:+.3f}, "
          f"{result['high']:+.3f}]  p = {result['p']:.3g}")

# 2. The controls: what a refiner's gain must be measured against.
histeq = paired["histeq control"]
check.true("equalizing alone closes part of the gap (interval < 0)", histeq["high"] < 0,
           f"{histeq['mean']:+.3f} [{histeq['low']:+.3f}, {histeq['high']:+.3f}]")
check.true("... but not all of it (critic still > 60%)",
           scores["histeq control"].mean() > 0.6, f"{scores['histeq control'].mean():.3f}")
lowest = min(arms, key=lambda arm: scores[arm].mean())
print(f"the strongest control here: {lowest}. A refiner must beat it, with a paired interval "
      f"that excludes 0, before its gain counts - not just beat plain synthetic eyes.")
check.finish()
