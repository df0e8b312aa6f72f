"""The paper's ablations (section 3.3) and a lambda sweep, each scored with ``gaze_eval``.

    train_config, eval_config = ablation_configs("small")
    result = run_ablations(train_config, eval_config, "runs/ablations")

Variants of one SimGAN training config, each trained from scratch with the same seed and data:

    SimGAN                    the config as given: local (patch) adversarial loss, history
    no history buffer         use_history=False: D sees only the current refiner's images
    global adversarial loss   global_adversarial=True: one real/refined logit per image
    lambda = x                lam=x, for each x of the sweep (the paper gives no value)

Each refiner is then evaluated as ``gaze_eval.evaluate_refiner`` does, but only the estimator
on its refined images is trained per variant: the synthetic-data estimator and critic do not
depend on the refiner, so they are computed once, as the "no refiner" reference row.
Writes ``OUT/<variant>/`` (the SimGAN run folder and its ``eval/``), ``OUT/ablations.json``
and ``OUT/ablations.md``.
"""
import json
import os
import re

from minigan.experiments.gaze_eval import GazeEvalConfig, evaluate_refiner
from minigan.simgan import TrainConfig, load_refiner, train
from minigan.pipelines.training_data import load_training_data

PAPER_VARIANTS = (("SimGAN", {}),
                  ("no history buffer", {"use_history": False}),
                  ("global adversarial loss", {"global_adversarial": True}))
DEFAULT_LAMBDAS = (0.0, 0.01, 0.2, 1.0)
# SimGAN training per preset: (TrainConfig preset, overrides); the evaluation uses the
# GazeEvalConfig preset of the same name.
TRAIN_PRESETS = {
    "paper": ("gpu_preset", {}),
    "small": ("cpu_preset", {"steps": 150}),
    "tiny": ("cpu_preset", dict(steps=2, pretrain_refiner_steps=1, pretrain_discriminator_steps=1,
                                batch_size=4, buffer_size=8, refiner_channels=4,
                                refiner_blocks=1, discriminator_width=0.125, n_synthetic=16,
                                n_real=16, sample_every=1, checkpoint_every=1)),
}


def ablation_configs(preset, seed=0, device=None, train_overrides=None, eval_overrides=None):
    """``(TrainConfig, GazeEvalConfig)`` of a preset (``paper``, ``small``, ``tiny``), both
    with ``seed`` and ``device``; overrides (None values ignored) change single fields."""
    if preset not in TRAIN_PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(TRAIN_PRESETS)}")
    factory, values = TRAIN_PRESETS[preset]
    values = dict(values, seed=seed, device=device)
    values.update({k: v for k, v in (train_overrides or {}).items() if v is not None})
    train_config = getattr(TrainConfig, factory)(**values)
    eval_config = GazeEvalConfig.preset(preset, seed=seed, device=device,
                                        **(eval_overrides or {}))
    return train_config, eval_config


def ablation_variants(lambdas=DEFAULT_LAMBDAS):
    """``[(name, TrainConfig overrides)]``: the paper's two ablations around the baseline, then
    one variant per lambda (a lambda equal to the baseline's is still trained: same seed, so
    it checks that the run is reproducible)."""
    return list(PAPER_VARIANTS) + [(f"lambda = {lam:g}", {"lam": float(lam)}) for lam in lambdas]


def folder_name(name):
    """A variant's name as a folder name: 'lambda = 0.2' -> 'lambda_0.2'."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", name).strip("_")


def _row(name, report, key):
    gaze = {row["key"]: row for row in report["gaze"]}[key]
    shift = report["pupil_shift"]
    realism = report["realism"]["refined_vs_real" if key == "refined" else "synthetic_vs_real"]
    return {"variant": name, "percent_within_7": gaze["percent_within_7"],
            "mean_error": gaze["mean_error"],
            "pupil_shift_mean": shift["mean"] if key == "refined" else 0.0,
            "pupil_shift_std": shift["std"] if key == "refined" else 0.0,
            "critic_accuracy": realism}


def run_ablations(train_config, eval_config, out_dir, lambdas=DEFAULT_LAMBDAS, variants=None,
                  log=print, progress=False):
    """Train and evaluate every variant; returns ``{"test_set", "rows", "train_config",
    "eval_config"}`` (also written to ``out_dir``).

    ``variants``: names from ``ablation_variants(lambdas)`` to run (default: all). Each row:
    variant, % within 7 degrees and mean error of the estimator trained on its refined eyes,
    pupil shift (mean, std, px), and the held-out accuracy of a fresh critic refined vs real.
    """
    log = log or (lambda message: None)
    chosen = ablation_variants(lambdas)
    if variants is not None:
        unknown = sorted(set(variants) - {name for name, _ in chosen})
        if unknown:
            raise ValueError(f"unknown variant(s) {unknown}; choose from "
                             f"{[name for name, _ in chosen]}")
        chosen = [(name, changes) for name, changes in chosen if name in variants]
    os.makedirs(out_dir, exist_ok=True)
    synthetic, real = load_training_data(train_config)

    log("reference: estimator and critic on unrefined synthetic eyes")
    reference = evaluate_refiner(None, eval_config, os.path.join(out_dir, "no_refiner"),
                                 log=log, training_sets=("synthetic",))
    rows = [_row("no refiner (synthetic data)", reference, "synthetic")]
    for name, changes in chosen:
        run_dir = os.path.join(out_dir, folder_name(name))
        log(f"variant {name!r}: training SimGAN with {changes or 'the config as given'}")
        train(train_config.replace(**changes), synthetic, real, run_dir, progress=progress)
        refiner = load_refiner(os.path.join(run_dir, "checkpoints", "last.npz"),
                               device=eval_config.device)
        report = evaluate_refiner(refiner, eval_config, os.path.join(run_dir, "eval"), log=log,
                                  training_sets=("refined",))
        rows.append(_row(name, report, "refined"))

    result = {"test_set": reference["test_set"], "rows": rows,
              "train_config": train_config.to_dict(), "eval_config": reference["config"]}
    with open(os.path.join(out_dir, "ablations.json"), "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")
    with open(os.path.join(out_dir, "ablations.md"), "w", encoding="utf-8") as handle:
        handle.write(format_ablations(rows, reference["test_set"]))
    return result


def format_ablations(rows, test_set):
    """The rows as a Markdown table."""
    lines = [f"Test set: {test_set}", "",
             "| Variant | % within 7 degrees | mean error (degrees) | pupil shift (px) "
             "| critic accuracy vs real |", "|---|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['variant']} | {row['percent_within_7']:.1f} | "
                     f"{row['mean_error']:.2f} | {row['pupil_shift_mean']:.2f} +- "
                     f"{row['pupil_shift_std']:.2f} | {100 * row['critic_accuracy']:.1f}% |")
    return "\n".join(lines) + "\n"
