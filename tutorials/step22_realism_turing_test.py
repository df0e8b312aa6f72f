"""Step 22 - realism: a critic that measures the domain gap, and the visual Turing test.

Teaches: two ways to ask "do refined eyes look real?". A machine's: train a *fresh* small CNN
(not SimGAN's own D, which was trained against this very refiner) to tell two sets apart and
score it on held-out images; 50% means indistinguishable, 100% trivially different - and the
same critic on two halves of one set must give about 50%, its null. A person's (Table 1 of the
paper): shown real and refined eyes one at a time, how many do they classify right? Is that
more than chance? The exact binomial test answers:

    p = P(X >= k),  X ~ Binomial(n, 1/2)  = sum_{i >= k} C(n, i) / 2^n

(the paper: 517 of 1000 right, p = 0.148 - people could not tell).
Opens: minigan/experiments/realism.py, minigan/experiments/turing_page.py,
minigan/experiments/metrics.py (binomial_p_value); python -m minigan.turing writes the page
for a trained refiner. Homework tasks 6.3 and 6.4.
Run: python tutorials/step22_realism_turing_test.py
"""
import json
import math
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import QUICK, Checks, output_folder  # noqa: E402
from minigan.data.eyes import render_eyes  # noqa: E402
from minigan.experiments.metrics import binomial_p_value  # noqa: E402
from minigan.experiments.realism import CriticConfig, critic_accuracy  # noqa: E402
from minigan.experiments.turing_page import make_turing_page  # noqa: E402

check = Checks()
n = 160 if QUICK else 300
synthetic = render_eyes(n, "synthetic", seed=0).images
photo = render_eyes(2 * n, "photo", seed=1).images
config = CriticConfig(steps=40 if QUICK else 80, batch_size=32, lr=3e-3)

# 1. The critic: the gap between the styles, and its null (photos against photos).
gap = critic_accuracy(synthetic, photo[:n], config, seed=0)
null = critic_accuracy(photo[:n], photo[n:], config, seed=0)
print(f"critic, held-out accuracy: synthetic vs photo {gap:.1%}, photo vs photo {null:.1%}")
check.true("the styles are told apart (> 80%)", gap > 0.8, f"{gap:.1%}")
check.true("one set against itself: near chance (35-65%)", 0.35 <= null <= 0.65, f"{null:.1%}")

# 2. The visual Turing test page: n real and n "refined" eyes in a seeded random order.
page = make_turing_page(photo, synthetic, n=20, seed=0, examples=5)
start = page.index("const TRIALS = ") + len("const TRIALS = ")
trials = json.JSONDecoder().raw_decode(page[start:])[0]
page_path = output_folder("step22") / "turing.html"
page_path.write_text(page, encoding="utf-8")
print(f"wrote {page_path}: open it in a browser and take the test yourself "
      "(here the 'refined' eyes are plain synthetic ones)")
truths = [trial["truth"] for trial in trials]
check.true("40 trials, 20 real and 20 refined",
           len(trials) == 40 and truths.count("real") == 20 and truths.count("refined") == 20)
check.true("shuffled (not all real first)", truths[:20] != ["real"] * 20)

# 3. The p-value of a score, against the binomial sum by hand.
for k, total in ((517, 1000), (162, 200), (28, 40)):
    by_hand = math.fsum(math.comb(total, i) for i in range(k, total + 1)) / 2 ** total
    check.close(f"P(X >= {k}) of {total} trials", binomial_p_value(k, total), by_hand,
                rtol=1e-9)
check.close("the paper's Table 1: 517 of 1000 -> p = 0.148", binomial_p_value(517, 1000), 0.148,
            atol=5e-4)

# 4. What p < 0.05 promises: a person who only guesses passes in at most 5% of sessions.
rng = np.random.default_rng(0)
sessions = 2000 if QUICK else 10000
scores = rng.binomial(40, 0.5, size=sessions)
p_values = {k: binomial_p_value(int(k), 40) for k in range(41)}
false_alarms = np.mean([p_values[k] < 0.05 for k in scores])
print(f"{sessions} sessions of 40 guesses: {false_alarms:.2%} 'beat chance' at p < 0.05 "
      f"(at most 5%: the test is exact, and conservative on a discrete count)")
check.true("guessers pass in <= 5% of sessions (+ sampling error)",
           false_alarms <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / sessions), f"{false_alarms:.2%}")
check.finish()
