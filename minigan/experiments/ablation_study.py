"""The paper's ablations (section 3.3) and a lambda sweep, each scored with ``gaze_eval``.

    train_config, eval_config = ablation_configs("small")
    result = run_ablations(train_config, eval_config, "runs/ablations")

Variants of one SimGAN training config, each trained from scratch with the same seed and data,
all without the running average of R's weights (``average_decay = 0``: every variant is judged
by R itself, as in the paper, so the average cannot hide what the history buffer is for):

    SimGAN                    the config as given: local (patch) adversarial loss, history
    no history buffer         use_history=False: D sees only the current refiner's images
    global adversarial loss   global_adversarial=True: one real/refined logit per image, its
                              loss scaled to the local D's patch count (``global_loss_scale``)
    lambda = x                lam=x, for each x of the sweep (the paper gives no value)

One seed per call (``--seed``); ``python -m minigan.gaze_study --ablations`` runs the
ablations over several seeds with every control row and paired intervals.

Each refiner is then evaluated as ``gaze_eval.evaluate_refiner`` does, but only the estimator
on its refined images is trained per variant: the synthetic-data estimator and critic do not
depend on the refiner, so they are computed once, as the "no refiner" reference row.
Writes ``OUT/study.json`` (the two configs), ``OUT/<variant>/`` (the SimGAN run folder and its
``eval/``), ``OUT/ablations.json`` and ``OUT/ablations.md``.

Resuming. A variant whose ``eval/results.json`` exists is done and is read back, not redone; a
variant whose training stopped goes on from its checkpoint (``train(..., resume=True)``). So
the same call after a stop (Ctrl-C, a kill) finishes the study, and a call with more lambdas
trains only the new ones. An ``OUT`` that holds a study with other configs is refused.
"""
import dataclasses
import errno
import json
import os
import re
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple, Union

from minigan.experiments.gaze_eval import GazeEvalConfig, evaluate_refiner
from minigan.io.atomic import write_json, write_text
from minigan.io.folders import claim_folder
from minigan.io.inputs import open_regular
from minigan.io.progress import LogLines, Progress
from minigan.pipelines.training_data import load_training_data
from minigan.simgan import TrainConfig, load_refiner, train

PAPER_VARIANTS = (("SimGAN", {}),
                  ("no history buffer", {"use_history": False}),
                  ("global adversarial loss", {"global_adversarial": True}))
ABLATIONS_JOB = "ablation study"
DEFAULT_LAMBDAS = (0.0, 0.01, 0.2, 1.0)
# SimGAN training per preset: (TrainConfig preset, overrides); the evaluation uses the
# GazeEvalConfig preset of the same name.
TRAIN_PRESETS = {
    "paper": ("gpu_preset", {"average_decay": 0.0}),
    "small": ("cpu_preset", {"steps": 150, "average_decay": 0.0}),
    "tiny": ("cpu_preset", dict(steps=2, average_decay=0.0, pretrain_refiner_steps=1, pretrain_discriminator_steps=1,
                                batch_size=4, history_batches=2, refiner_channels=4,
                                refiner_blocks=1, discriminator_width=0.125, n_synthetic=16,
                                n_real=16, sample_every=1, checkpoint_every=1)),
}


def ablation_configs(preset: str, seed: int = 0, device: Optional[str] = None,
                     train_overrides: Optional[Dict[str, Any]] = None,
                     eval_overrides: Optional[Dict[str, Any]] = None
                     ) -> Tuple[TrainConfig, GazeEvalConfig]:
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


def _study(claim, train_config, eval_config):
    """Write ``OUT/study.json``, or check that the one there has these configs (and that a
    folder with files holds a study)."""
    out_dir = claim.path
    study = {"train_config": train_config.to_dict(), "eval_config": dataclasses.asdict(eval_config)}
    path = os.path.join(out_dir, "study.json")
    if claim.names() and not os.path.lexists(path):
        raise FileExistsError(errno.EEXIST, "holds files that are not an ablation study's "
                              f"({', '.join(claim.names()[:3])}); nothing was written: choose a "
                              "new or empty folder", out_dir)
    if os.path.lexists(path):
        try:
            with open_regular(path, "r") as handle:
                found = json.load(handle)
        except (OSError, ValueError):
            found = None
        if found != json.loads(json.dumps(study)):
            changed = sorted(f"{part}.{key}" for part in study
                             for key in study[part]
                             if not isinstance(found, dict)
                             or (found.get(part) or {}).get(key) != study[part][key])
            raise ValueError(f"{out_dir} holds an ablation study with other settings (they "
                             f"differ in {', '.join(changed) or 'format'}); choose another "
                             "output folder, or the settings it was made with")
    else:
        write_json(path, study)


def _finished_report(eval_dir):
    """The report an earlier run wrote to ``eval_dir``, or None when it did not finish."""
    path = os.path.join(eval_dir, "results.json")
    if not os.path.lexists(path):
        return None
    try:
        with open_regular(path, "r") as handle:
            report = json.load(handle)
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def run_ablations(train_config: TrainConfig, eval_config: GazeEvalConfig,
                  out_dir: Union[str, os.PathLike], lambdas: Sequence[float] = DEFAULT_LAMBDAS,
                  variants: Optional[Iterable[str]] = None,
                  log: Optional[Callable[[str], None]] = print, progress: Optional[bool] = True,
                  status_every: float = 30.0) -> Dict[str, Any]:
    """Train and evaluate every variant; returns ``{"test_set", "rows", "train_config",
    "eval_config"}`` (also written to ``out_dir``).

    ``variants``: names from ``ablation_variants(lambdas)`` to run (default: all). Each row:
    variant, % within 7 degrees and mean error of the estimator trained on its refined eyes,
    pupil shift (mean, std, px), and the held-out accuracy of a fresh critic refined vs real.
    Finished variants are read back, stopped ones resumed (see the module docstring).
    ``progress``: SimGAN's progress (see ``simgan.train``); ``log`` gets one line per variant.
    """
    log = log or (lambda message: None)
    chosen = ablation_variants(lambdas)
    if variants is not None:
        unknown = sorted(set(variants) - {name for name, _ in chosen})
        if unknown:
            raise ValueError(f"unknown variant(s) {unknown}; choose from "
                             f"{[name for name, _ in chosen]}")
        chosen = [(name, changes) for name, changes in chosen if name in variants]
    with claim_folder(out_dir, ABLATIONS_JOB,
                      lambda claim: _study(claim, train_config, eval_config)):
        return _run_variants(train_config, eval_config, out_dir, chosen, log, progress,
                             status_every)


def _run_variants(train_config, eval_config, out_dir, chosen, log, progress, status_every):
    jobs = [("no refiner (synthetic data)", None)] + chosen
    eval_dirs = [os.path.join(out_dir, "no_refiner")] + [
        os.path.join(out_dir, folder_name(name), "eval") for name, _ in chosen]
    reports = [_finished_report(path) for path in eval_dirs]
    done = sum(report is not None for report in reports)
    status = Progress("ablations", {"variants": (len(jobs), done, 1)}, bar=False, every_s=0,
                      stream=LogLines(log))
    status.start("variants")
    if done:
        log(f"{done} of {len(jobs)} variants were finished before: read back, not redone")
    data = None
    for index, ((name, changes), eval_dir) in enumerate(zip(jobs, eval_dirs)):
        if reports[index] is not None:
            continue
        log(f"[{index + 1}/{len(jobs)}] {name}")
        if changes is None:
            reports[index] = evaluate_refiner(None, eval_config, eval_dir, log=log,
                                              training_sets=("synthetic",))
        else:
            data = data or load_training_data(train_config)
            run_dir = os.path.dirname(eval_dir)
            log(f"training SimGAN with {changes or 'the config as given'} in {run_dir}")
            train(train_config.replace(**changes), *data, run_dir, progress=progress,
                  resume=True, status_every=status_every)
            refiner = load_refiner(os.path.join(run_dir, "checkpoints", "last.npz"),
                                   device=eval_config.device)
            reports[index] = evaluate_refiner(refiner, eval_config, eval_dir, log=log,
                                              training_sets=("refined",))
        status.advance()
    rows = [_row(name, report, "synthetic" if changes is None else "refined")
            for (name, changes), report in zip(jobs, reports)]
    reference = reports[0]
    result = {"test_set": reference["test_set"], "rows": rows,
              "train_config": train_config.to_dict(), "eval_config": reference["config"]}
    write_json(os.path.join(out_dir, "ablations.json"), result)
    write_text(os.path.join(out_dir, "ablations.md"), format_ablations(rows, reference["test_set"]))
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
