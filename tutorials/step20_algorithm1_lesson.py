"""Step 20 - Algorithm 1 on a lesson-sized preset: watch synthetic eyes become photo-like.

Teaches: the schedule of SimGAN's training (pretrain R on self-regularization alone, pretrain
D against that R, then K_g refiner steps and K_d discriminator steps per iteration); reading a
run: the loss numbers of log.jsonl, D's accuracy on refined patches, the sample grid; and
that a run resumes *exactly* from its checkpoint (weights, optimizer state, history buffer and
random generators are all in it).
Opens: minigan/simgan/trainer.py, minigan/simgan/config.py (TrainConfig.lesson_preset; the
same run from the command line: python -m minigan.train_eyes --preset lesson). Homework tasks
5.3-5.5.
Run: python tutorials/step20_algorithm1_lesson.py      (about 20 s of CPU; quick mode: less)
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import QUICK, Checks, output_folder  # noqa: E402
from minigan import Tensor, no_grad  # noqa: E402
from minigan.data.eyes import render_eyes  # noqa: E402
from minigan.simgan import TrainConfig, read_checkpoint, train  # noqa: E402
from minigan.simgan.trainer import Trainer  # noqa: E402

check = Checks()
quick = dict(steps=40, n_synthetic=300, n_real=300, pretrain_refiner_steps=20,
             pretrain_discriminator_steps=10, sample_every=10) if QUICK else {}
config = TrainConfig.lesson_preset(device="cpu", **quick)
synthetic = render_eyes(config.n_synthetic, "synthetic", seed=0).images
photo = render_eyes(config.n_real, "photo", seed=1).images
print(f"lesson preset: R {config.refiner_channels} channels x {config.refiner_blocks} blocks, "
      f"batch {config.batch_size}, {config.pretrain_refiner_steps} + "
      f"{config.pretrain_discriminator_steps} pretraining steps, {config.steps} iterations of "
      f"K_g = {config.k_g}, K_d = {config.k_d}")

out = output_folder("step20")
trainer = Trainer(config, synthetic, photo, out / "run", progress=None)
folder = trainer.run()
log = trainer.folder.read_log()
phases = {p: [r for r in log if r["phase"] == p]
          for p in ("pretrain_refiner", "pretrain_discriminator", "adversarial")}
print("\niteration  R loss  (realism + self-reg.)  D loss  D acc. real / refined")
for r in phases["adversarial"][::max(1, config.steps // 10)] + phases["adversarial"][-1:]:
    print(f"{r['step']:9d}  {r['refiner_loss']:6.1f}  ({r['realism_loss']:6.1f} + "
          f"{r['self_regularization']:5.1f})  {r['discriminator_loss']:6.1f}  "
          f"{r['d_accuracy_real']:.2f} / {r['d_accuracy_refined']:.2f}")
print(f"\nlook at: {folder}/samples/latest.png (rows: synthetic, refined, photos), "
      f"{folder}/loss_curve.png")

# 1. The schedule: every phase took the steps the config asks for, in order.
check.true("log: pretrain R, pretrain D, then the iterations",
           [len(phases[p]) for p in phases] == [config.pretrain_refiner_steps,
                                                 config.pretrain_discriminator_steps,
                                                 config.steps])
check.true("pretraining R uses self-regularization alone",
           all(r["realism_loss"] is None for r in phases["pretrain_refiner"]))
check.true("pretraining R: its loss fell", phases["pretrain_refiner"][-1]["refiner_loss"]
           < phases["pretrain_refiner"][0]["refiner_loss"])

# 2. D learns to spot refined patches while R stands still (pretraining D).
accuracy = [r["d_accuracy_refined"] for r in phases["pretrain_discriminator"]]
half = len(accuracy) // 2
check.true("pretraining D: it finds refined patches (> 50%)", np.mean(accuracy[half:]) > 0.5,
           f"{np.mean(accuracy[:half]):.2f} -> {np.mean(accuracy[half:]):.2f}")

fooled = [r["d_accuracy_refined"] for r in phases["adversarial"]]
third = max(1, len(fooled) // 3)
check.true("adversarial: R fools D more (D's refined accuracy falls)",
           np.mean(fooled[-third:]) < np.mean(fooled[:third]),
           f"first third {np.mean(fooled[:third]):.2f}, last {np.mean(fooled[-third:]):.2f}")

# 3. Self-regularization keeps R(x) near x: a refinement, not a new image.
with no_grad():
    refined = trainer.kept_refiner(Tensor(synthetic[:200])).numpy()
distance = np.abs(refined - synthetic[:200]).mean()
check.true("R changed the images (mean |R(x) - x| > 0.02)", distance > 0.02, f"{distance:.3f}")
check.true("... but stayed close (mean |R(x) - x| < 0.3)", distance < 0.3, f"{distance:.3f}")
check.true("sample grid and loss curve written",
           all((pathlib.Path(folder) / name).is_file()
               for name in ("samples/latest.png", "loss_curve.png", "checkpoints/last.npz")))

# 4. Stop half-way, resume from the checkpoint: the same run, bit for bit (a tiny run).
tiny = config.replace(steps=4, n_synthetic=64, n_real=64, pretrain_refiner_steps=2,
                      pretrain_discriminator_steps=2, checkpoint_every=100, sample_every=100)
small_synthetic, small_photo = synthetic[:64], photo[:64]
train(tiny, small_synthetic, small_photo, out / "straight", progress=None)
train(tiny.replace(steps=2), small_synthetic, small_photo, out / "resumed", progress=None)
train(tiny, small_synthetic, small_photo, out / "resumed", progress=None, resume=True)
_, straight = read_checkpoint(out / "straight" / "checkpoints" / "last.npz")
_, resumed = read_checkpoint(out / "resumed" / "checkpoints" / "last.npz")
check.true("resumed run = uninterrupted run (every array)",
           all(np.array_equal(straight[g][k], resumed[g][k]) for g in straight
               for k in straight[g]), f"{sum(len(v) for v in straight.values())} arrays")
check.finish()
