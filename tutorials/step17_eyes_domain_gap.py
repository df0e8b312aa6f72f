"""Step 17 - eyes with exact labels, and the gap between two domains.

Teaches: a simulator gives every image an exact label for free (the gaze vector, the pupil
centre) - that is why the paper refines synthetic eyes instead of labelling photos; the
built-in renderer draws one geometry in two styles ("synthetic", the simulator; "photo", the
stand-in for webcam eyes), so one seed gives the same gaze in both; the styles differ in ways a
statistic can show (fine texture, the histogram), and part of the gap survives per-image
histogram equalization: a global normalization cannot replace a refiner.
Opens: minigan/data/eyes.py (render_eyes), minigan/data/image_statistics.py,
minigan/data/normalize.py.
Run: python tutorials/step17_eyes_domain_gap.py
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import QUICK, Checks, output_folder  # noqa: E402
from minigan.data.eyes import render_eyes  # noqa: E402
from minigan.data.image_statistics import eye_statistics  # noqa: E402
from minigan.data.normalize import equalize_histogram  # noqa: E402
from minigan.io.png import save_grid  # noqa: E402

check = Checks()
n = 100 if QUICK else 400
synthetic = render_eyes(n, "synthetic", seed=0)
photo = render_eyes(n, "photo", seed=0)
print(f"{n} eyes per style: images {synthetic.images.shape}, gaze {synthetic.gaze.shape}, "
      f"pupil centres {synthetic.pupil_center.shape}")

# 1. The labels: unit gaze vectors, the same for both styles of one seed; the pupil centre is
#    where the image is dark (the pupil and iris), so the label really belongs to the image.
check.close("gaze vectors have unit length", np.linalg.norm(synthetic.gaze, axis=1),
            np.ones(n), atol=1e-5)
check.close("one seed: the same gaze in both styles", photo.gaze, synthetic.gaze)
rows, cols = np.mgrid[0:35, 0:55]


def near_pupil(batch, radius=2.0):
    """Mean of each image within ``radius`` pixels of its labelled pupil centre: (n,)."""
    x, y = batch.pupil_center[:, 0, None, None], batch.pupil_center[:, 1, None, None]
    disk = (cols - x) ** 2 + (rows - y) ** 2 <= radius ** 2
    return (batch.images[:, 0] * disk).sum(axis=(1, 2)) / disk.sum(axis=(1, 2))


darker = near_pupil(synthetic) < synthetic.images.mean(axis=(1, 2, 3))
check.true("the labelled pupil centre is darker than the eye (85%+)", darker.mean() > 0.85,
           f"{darker.mean():.0%} of images")

# 2. A statistic, checked by hand: the high-frequency residual |x - box3(x)| over the interior.
image = photo.images[0, 0].astype(np.float64)
box = sum(image[1 + dy:34 + dy, 1 + dx:54 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)) / 9
by_hand = np.abs(image[1:34, 1:54] - box).mean()
check.close("high-frequency residual = loops' value", eye_statistics(photo.images[:1])
            ["high_frequency"], by_hand, rtol=1e-5)

# 3. The gap, before and after per-image histogram equalization of the synthetic eyes.
stats = {"synthetic": eye_statistics(synthetic.images), "photo": eye_statistics(photo.images),
         "synthetic, equalized": eye_statistics(equalize_histogram(synthetic.images))}
print(f"{'':22} {'mean':>7} {'sd of means':>12} {'high-freq.':>11}  quartiles of [-1, 1]")
for name, s in stats.items():
    print(f"{name:22} {s['mean']:7.3f} {s['sd_of_means']:12.3f} {s['high_frequency']:11.4f}  "
          + " ".join(f"{q:.2f}" for q in s["quartiles"]))
equalized, real = stats["synthetic, equalized"], stats["photo"]
check.close("equalized quartiles ~ the photos' (1/4 each)", equalized["quartiles"],
            real["quartiles"], atol=0.03)
check.true("equalizing closes the brightness spread", equalized["sd_of_means"] < 0.05,
           f"sd of means {equalized['sd_of_means']:.3f}")
ratio = real["high_frequency"] / equalized["high_frequency"]
check.true("but not the texture: high-freq. differs by > 20%", abs(ratio - 1) > 0.2,
           f"photo / equalized synthetic = {ratio:.2f}")

# 4. Look at them: 8 of each style, side by side (a PNG under runs/tutorials/step17/).
grid = output_folder("step17") / "eyes.png"
save_grid(grid, np.concatenate([synthetic.images[:8], photo.images[:8]]), nrow=8,
          scale=2)
print(f"wrote {grid} (top: synthetic, bottom: photo; same gaze column by column)")
check.finish()
