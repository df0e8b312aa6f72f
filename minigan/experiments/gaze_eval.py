"""Does refining help a downstream model? The paper's gaze experiment (section 3.1, Table 2,
Figure 7), plus its annotation-preservation and realism checks, for one trained refiner.

    report = evaluate_refiner(load_refiner("runs/eyes/checkpoints/last.npz"),
                              GazeEvalConfig.preset("small"), out_dir="runs/eyes/eval")

1. Train one gaze estimator per training set, all on the same eyes with the simulator's gaze
   labels and the same seed: (a) synthetic, (b) refined = R(synthetic), (c) the perfect
   refiner: the same eyes drawn in the photo style, the best a refiner that keeps the labels
   can do (not with an MPIIGaze test set: the built-in photo style is not MPIIGaze's look),
   (d) optionally the labelled photo-style eyes with the same gaze (the photo style's own
   geometry), an upper bound: what labelled target-domain data would give.
2. Test each on the held-out photo set (or MPIIGaze): % of images within 7 degrees and the mean
   angular error (Table 2's form), and the cumulative error curve (Figure 7).
3. Annotation preservation: how far the pupil-centre estimate moves from synthetic to refined
   (paper: 1.1 +- 0.8 px), next to its noise floor (synthetic vs photo render of the same eyes).
4. Realism: held-out accuracy of fresh critics, synthetic vs real and refined vs real.

Writes ``OUT/results.json``, ``OUT/table.md``, ``OUT/cumulative_error.png``, ``OUT/samples.png``,
and keeps each trained estimator's test errors and the critics' accuracies in ``OUT/parts/``:
run again after a stop, the evaluation reads back what was done (when data and config are the
same) and goes on from there.
"""
import dataclasses
import errno
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Union

import numpy as np

from minigan.backend import resolve_device
from minigan.data.normalize import normalize
from minigan.io.atomic import write_json, write_text
from minigan.io.folders import claim_folder, make_subfolders
from minigan.io.memo import checksum, computed_once
from minigan.io.png import save_grid
from minigan.experiments import metrics
from minigan.experiments.curve_plot import draw_cumulative_curves
from minigan.experiments.eval_data import make_eval_sets
from minigan.experiments.gaze_estimator import predict_gaze, train_gaze_estimator
from minigan.experiments.realism import CriticConfig, realism_report
from minigan.simgan.models import Refiner

EVAL_JOB = "gaze evaluation"
TRAINING_SETS = {"synthetic": "Synthetic Data", "refined": "Refined Synthetic Data",
                 "perfect": "Perfect refiner (the same eyes in the photo style)",
                 "photo": "Photo-style Data (upper bound)"}


@dataclass
class GazeEvalConfig:
    """Sizes of one evaluation. Defaults: the ``paper`` preset (for a GPU)."""

    train_n: int = 50000         # training eyes per estimator (the same eyes in every set)
    test_n: int = 5000           # held-out test images
    steps: int = 8000            # estimator training steps (fixed: nothing peeks at the test set)
    batch_size: int = 512        # paper: 512
    lr: float = 0.001            # paper: 0.001
    estimator: str = "paper"     # a key of gaze_estimator.ESTIMATOR_PRESETS
    normalization: str = "histeq"  # every estimator input, training and test (data.normalize)
    upper_bound: bool = False    # also train on labelled photo-style eyes (same gaze)
    mpiigaze: Optional[str] = None  # test on this MPIIGaze folder instead of rendered photos
    pupil_n: int = 100           # image pairs for annotation preservation (paper: 100)
    realism_n: int = 2000        # images per set for the critics (half train, half test)
    critic_steps: int = 300      # the critics train on batches of ``batch_size`` too
    seed: int = 0
    device: Optional[str] = None    # None: the default device (MINIGAN_DEVICE)

    PRESETS = {
        "paper": {},
        "small": dict(train_n=2000, test_n=500, steps=600, batch_size=64, estimator="small",
                      realism_n=600, critic_steps=150),
        "tiny": dict(train_n=48, test_n=24, steps=2, batch_size=8, estimator="tiny", pupil_n=8,
                     realism_n=16, critic_steps=2),
    }

    @classmethod
    def preset(cls, name, **overrides):
        """The named preset (``paper``, ``small``, ``tiny``) with ``overrides`` (None ignored)."""
        return cls(**preset_values(cls.PRESETS, name, overrides))


def preset_values(presets, name, overrides):
    """The fields of preset ``name`` of ``presets`` ({name: {field: value}}), updated with the
    ``overrides`` that are not None; ValueError naming the presets for an unknown name."""
    if name not in presets:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(presets)}")
    values = dict(presets[name])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return values


def default_preset(device=None):
    """``paper`` where a GPU will compute, ``small`` on a CPU (as ``train_eyes`` chooses)."""
    return "paper" if resolve_device(device) == "cuda" else "small"


def train_and_test(images, gaze, sets, config, device, log):
    """Train an estimator on ``images``/``gaze``; its test angular errors ``(N_test,)``. Both
    the training and the test images go through ``config.normalization`` first."""
    model, _ = train_gaze_estimator(normalize(images, config.normalization), gaze,
                                    steps=config.steps, batch_size=config.batch_size,
                                    lr=config.lr, preset=config.estimator, seed=config.seed,
                                    device=device, log=log, log_every=max(1, config.steps // 5))
    test = normalize(sets.test_images, config.normalization)
    return metrics.angular_error(predict_gaze(model, test), sets.test_gaze)


def gaze_row(name, errors, n_train):
    """One row of Table 2, with its Figure 7 curve (% within 0, 0.5, ..., 25 degrees)."""
    _, percents = metrics.cumulative_error_curve(errors)
    return {"training_data": TRAINING_SETS.get(name, name), "key": name, "n_train": int(n_train),
            "percent_within_7": metrics.percent_within(errors, 7.0),
            "mean_error": float(np.mean(errors)), "median_error": float(np.median(errors)),
            "cumulative_percent": [round(float(p), 2) for p in percents]}


def evaluate_refiner(refiner: Optional[Refiner], config: GazeEvalConfig,
                     out_dir: Union[str, os.PathLike, None] = None,
                     log: Optional[Callable[[str], None]] = print,
                     training_sets: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Run the whole evaluation of ``refiner`` (see the module docstring); returns the report.

    ``training_sets``: which of ``synthetic``, ``refined``, ``perfect``, ``photo`` to train
    estimators on (default: the first two, ``perfect`` unless testing on MPIIGaze, and
    ``photo`` when ``config.upper_bound``). The report is a JSON-able dict: ``gaze`` (rows as
    in Table 2), ``pupil_shift``, ``realism``, ``config``.
    ``out_dir`` is held by this process meanwhile, and must be new, empty or an evaluation's
    (it holds ``parts/``): FolderInUse or FileExistsError otherwise, before any work.
    """
    if out_dir is None:
        return _evaluate(refiner, config, None, log, training_sets)
    with claim_folder(out_dir, EVAL_JOB, _check_usable):
        make_subfolders(out_dir, "parts")
        return _evaluate(refiner, config, out_dir, log, training_sets)


def _check_usable(claim):
    if claim.names() and not os.path.isdir(os.path.join(claim.path, "parts")):
        raise FileExistsError(errno.EEXIST, f"holds files that are not a gaze evaluation's "
                              f"({', '.join(claim.names()[:3])}); nothing was written: choose a "
                              "new or empty folder", claim.path)


def _evaluate(refiner, config, out_dir, log, training_sets):
    log = log or (lambda message: None)
    device = resolve_device(config.device)
    if training_sets is None:
        training_sets = (("synthetic", "refined") + (() if config.mpiigaze else ("perfect",))
                         + (("photo",) if config.upper_bound else ()))
    sets = make_eval_sets(refiner, config.train_n, config.test_n, config.pupil_n,
                          config.realism_n, seed=config.seed,
                          upper_bound="photo" in training_sets, mpiigaze=config.mpiigaze,
                          device=device, log=log, perfect="perfect" in training_sets)
    sources = {"synthetic": sets.synthetic, "refined": sets.refined, "perfect": sets.perfect,
               "photo": sets.photo}
    parts = os.path.join(out_dir, "parts") if out_dir is not None else None
    rows, curves = [], {}
    for name in training_sets:
        log(f"gaze estimator on {TRAINING_SETS[name]} ({config.steps} training steps)")
        key = {"config": dataclasses.asdict(config), "train": checksum(sources[name]),
               "gaze": checksum(sets.gaze), "test": checksum(sets.test_images)}
        errors = _once(parts, f"estimator_{name}", key, log, lambda: train_and_test(
            sources[name], sets.gaze, sets, config, device, log))
        rows.append(gaze_row(name, errors, len(sets.gaze)))
        curves[f"{TRAINING_SETS[name]} ({len(sets.gaze)})"] = metrics.cumulative_error_curve(errors)

    n_pairs = min(config.pupil_n, len(sets.synthetic))
    shift = metrics.pupil_shift(sets.synthetic[:n_pairs], sets.refined[:n_pairs])
    floor = metrics.pupil_shift(sets.synthetic[:n_pairs], sets.photo_pairs[:n_pairs])
    log(f"realism critics ({config.critic_steps} training steps each)")
    n_real = min(config.realism_n, len(sets.synthetic))
    critic = CriticConfig(steps=config.critic_steps, batch_size=config.batch_size)
    key = {"config": dataclasses.asdict(config), "synthetic": checksum(sets.synthetic[:n_real]),
           "refined": checksum(sets.refined[:n_real]), "real": checksum(sets.realism_real)}
    realism = _once(parts, "realism", key, log, lambda: realism_report(
        sets.synthetic[:n_real], sets.refined[:n_real], sets.realism_real, critic,
        seed=config.seed, device=device))
    report = {"test_set": sets.test_description, "gaze": rows,
              "pupil_shift": {"n": int(n_pairs), "mean": float(shift.mean()),
                              "std": float(shift.std()), "noise_floor_mean": float(floor.mean()),
                              "noise_floor_std": float(floor.std())},
              "realism": realism, "config": dataclasses.asdict(config)}
    if out_dir is not None:
        write_report(report, curves, sets, out_dir)
    return report


def _once(parts, name, key, log, compute):
    """``compute()``, or its result kept in ``parts/name.json`` by a run that was stopped later."""
    if parts is None:
        return compute()
    path = os.path.join(parts, f"{name}.json")
    value, reused = computed_once(path, key, compute)
    if reused:
        log(f"  done before (same data and config): read back from {path}")
    return value


def format_report(report: Dict[str, Any]) -> str:
    """The report as Markdown: Table 2's form, then pupil shift and realism lines."""
    lines = [f"Test set: {report['test_set']}; estimator input: "
             f"{report['config'].get('normalization', 'none')}", "",
             "| Training data | images | % of images within 7 degrees | mean error (degrees) |",
             "|---|---:|---:|---:|"]
    for row in report["gaze"]:
        lines.append(f"| {row['training_data']} | {row['n_train']} | "
                     f"{row['percent_within_7']:.1f} | {row['mean_error']:.2f} |")
    shift, real = report["pupil_shift"], report["realism"]
    lines += ["", f"Annotation preservation: the estimated pupil centre moves "
              f"{shift['mean']:.2f} +- {shift['std']:.2f} px from synthetic to refined "
              f"({shift['n']} images; paper: 1.1 +- 0.8 px). Noise floor of the estimator, "
              f"synthetic vs photo render of the same eyes: {shift['noise_floor_mean']:.2f} +- "
              f"{shift['noise_floor_std']:.2f} px.",
              "", f"Realism (held-out accuracy of a fresh critic; 50% = indistinguishable): "
              f"synthetic vs real {100 * real['synthetic_vs_real']:.1f}%, "
              f"refined vs real {100 * real['refined_vs_real']:.1f}%."]
    return "\n".join(lines) + "\n"


def write_report(report, curves, sets, out_dir):
    """table.md, cumulative_error.png, a samples.png of 10 eyes per row (synthetic, refined,
    test) and, last, results.json."""
    os.makedirs(out_dir, exist_ok=True)
    write_text(os.path.join(out_dir, "table.md"), format_report(report))
    if curves:
        draw_cumulative_curves(curves, os.path.join(out_dir, "cumulative_error.png"),
                               title=f"Gaze error on {report['test_set'].split(' (')[0]}")
    k = min(10, len(sets.synthetic), len(sets.test_images))
    save_grid(os.path.join(out_dir, "samples.png"),
              np.concatenate([sets.synthetic[:k], sets.refined[:k], sets.test_images[:k]]),
              nrow=k, scale=3)
    write_json(os.path.join(out_dir, "results.json"), report)  # last: it marks the report whole
