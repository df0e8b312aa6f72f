"""Step 19 - the history buffer: D also sees what R did a while ago.

Teaches: a discriminator trained only on the refiner's latest images forgets the artefacts R
made earlier, and R can then bring them back (the two chase each other in circles); the
paper's fix (section 2.3) keeps a buffer of B past refined images and makes half of every D
batch from it. The rule, checked step by step below:

    k = min(b/2, len(buffer)) images drawn from distinct random slots
    b - k images freshly refined by the current R
    after the D step: b/2 of the fresh images go in - into empty slots in order while the
    buffer fills, then into b/2 distinct random slots

so an image survives one push of m = b/2 with probability 1 - m/B, and t pushes with
(1 - m/B)^t: the buffer's memory is about B/m steps.
Opens: minigan/simgan/history.py. Homework task 5.2.
Run: python tutorials/step19_history_buffer.py
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import QUICK, Checks  # noqa: E402
from minigan.simgan import ImageHistoryBuffer  # noqa: E402

check = Checks()


def stamped(step, count):
    """``count`` 1x1 "images" whose pixel holds the D step that refined them."""
    return np.full((count, 1, 1, 1), float(step), np.float32)


# 1. A D step by the rule, with b = 8 (so b/2 = 4) and B = 16.
b, B = 8, 16
history = ImageHistoryBuffer(B, (1, 1, 1), np.random.default_rng(0))
drawn_counts, ages = [], []
for step in range(1, 11):
    k = min(b // 2, len(history))
    old = history.sample(k)                                   # drawn before the push
    fresh = stamped(step, b - k)
    batch = np.concatenate([fresh, old])                      # D's refined half-batch
    drawn_counts.append(k)
    ages.append(float(np.mean(step - batch[:, 0, 0, 0])))
    history.push(fresh[:b // 2])
print("images drawn from history per D step:", drawn_counts)
print("mean age (in D steps) of the refined images D sees:", [round(a, 2) for a in ages])
check.true("step 1: an empty buffer, a batch of b fresh images", drawn_counts[0] == 0)
check.true("from step 2 on: b/2 from the history", drawn_counts[1:] == [4] * 9)
check.true("the buffer fills in 4 pushes, then stays full", len(history) == B and history.full)
check.true("D sees older images (mean age > 1 step)", min(ages[4:]) > 1,
           f"from step 5: {min(ages[4:]):.2f}")

# 2. Filling in order, then replacing b/2 random slots of the earlier ones.
fill = ImageHistoryBuffer(6, (1, 1, 1), np.random.default_rng(1))
fill.push(stamped(1, 4))
check.close("empty slots fill in order", fill.images[:4, 0, 0, 0], [1, 1, 1, 1])
fill.push(stamped(2, 4))                                      # 2 fill slots 4-5, 2 replace
content = fill.images[:, 0, 0, 0]
check.close("an overflowing push: last slots filled", content[4:], [2, 2])
check.true("... and exactly 2 of the older 4 replaced", int(np.sum(content[:4] == 2)) == 2,
           str(content))

# 3. Survival: after t pushes of m into a full buffer of B, a fraction (1 - m/B)^t remains.
B, m, t = 64, 4, 12
trials = 100 if QUICK else 400
survived = []
for trial in range(trials):
    buffer = ImageHistoryBuffer(B, (1, 1, 1), np.random.default_rng([2, trial]))
    buffer.push(stamped(0, B))                                # generation 0 fills it
    for step in range(1, t + 1):
        buffer.push(stamped(step, m))
    survived.append(np.mean(buffer.images[:, 0, 0, 0] == 0))
expected = (1 - m / B) ** t
spread = np.std(survived) / np.sqrt(trials)
print(f"survivors after {t} pushes: {np.mean(survived):.4f} measured, {expected:.4f} by the "
      f"rule (standard error {spread:.4f}); half-life {np.log(0.5) / np.log(1 - m / B):.1f} "
      f"pushes")
check.close("survival = (1 - m/B)^t (within 4 standard errors)", np.mean(survived), expected,
            atol=4 * spread)

# 4. The buffer is part of a run's state: saved and restored, it draws the same images.
state = history.state_dict()
restored = ImageHistoryBuffer(16, (1, 1, 1), np.random.default_rng(99))
restored.load_state_dict(state)
check.close("a restored buffer draws exactly what the original draws", restored.sample(4),
            history.sample(4))
check.finish()
