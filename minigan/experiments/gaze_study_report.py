"""The gaze study's numbers: per-seed values, intervals, paired differences, tables, figures.

Each estimator gives a mean angular error and a % within 7 degrees on the replicate's test set;
a row's value for a seed is the average over its estimator seeds, and the table gives, over
the seeds, the mean with its 95 % t-interval and the paired difference to the reference row
(``statistics``). Ablation arms are compared with their reference arm on the ablation seeds
and estimator seeds only.
"""
import os
from typing import Any, Callable, Dict, Optional, Union

import numpy as np

from minigan.experiments.gaze_study_run import GazeStudy, arm_iterations, row_key
from minigan.experiments.gaze_study_protocol import SIMGAN, StudyConfig
from minigan.experiments.curve_plot import draw_cumulative_curves
from minigan.experiments.statistics import paired_difference, t_interval
from minigan.io.atomic import write_json, write_text
from minigan.io.png import save_grid
from minigan.simgan.run_folder import RunFolder

METRICS = ("mean_error", "percent_within_7")
CONTROL_LABELS = {
    "synthetic": "Synthetic, as rendered",
    "degraded": "Synthetic + hand-made degradation (blur, noise, JPEG)",
    "photo": "Photo-style training data (upper bound: photo geometry, same gaze)",
}


def main_rows(config):
    """``[(key, label)]`` of the main table, in order: controls, the curve's first and last
    points, the upper bound."""
    first, last = config.checkpoints[0], config.checkpoints[-1]
    rows = [("synthetic", CONTROL_LABELS["synthetic"]),
            ("degraded", CONTROL_LABELS["degraded"])]
    if first == 0:
        rows.append((row_key(SIMGAN, 0), "Refiner after self-regularization pretraining only "
                                         "(SimGAN iteration 0)"))
    rows.append((row_key(SIMGAN, last), f"SimGAN (iteration {last}, running average of R)"))
    rows.append(("photo", CONTROL_LABELS["photo"]))
    return rows


def per_seed(results, seeds, key, metric, estimators=None):
    """``(len(seeds),)``: each seed's mean over its (first ``estimators``) estimator seeds."""
    return np.array([np.mean([part[metric] for part in results[(s, key)][:estimators]])
                     for s in seeds])


def _summary(results, shifts, seeds, key, reference, estimators=None):
    shift = [shifts[(s, key)] for s in seeds]
    entry = {"key": key, "seeds": list(seeds),
             "pupil_shift": None if None in shift else float(np.mean([x["mean"] for x in shift]))}
    for metric in METRICS:
        values = per_seed(results, seeds, key, metric, estimators)
        entry[metric] = dict(t_interval(values), per_seed=values.tolist())
        if key != reference:
            entry[f"{metric}_vs_reference"] = paired_difference(
                values, per_seed(results, seeds, reference, metric, estimators))
    return entry


def summarize(config, results, shifts, out_dir):
    """Everything the tables say, as a JSON-able dict (see the module docstring)."""
    seeds = config.seeds
    reference = row_key(SIMGAN, config.checkpoints[-1])
    rows = [dict(_summary(results, shifts, seeds, key, reference), label=label)
            for key, label in main_rows(config)]
    curve = [dict(_summary(results, shifts, seeds, row_key(SIMGAN, i), reference), iteration=i)
             for i in config.checkpoints]
    ablations = []
    arms = {arm.name: arm for arm in config.arms()}
    for arm in config.arms()[1:]:
        ref = arms[arm.reference]
        ref_key = row_key(ref, arm_iterations(config, ref)[-1])
        key = row_key(arm, arm_iterations(config, arm)[-1])
        entry = _summary(results, shifts, config.ablation_seeds, key, ref_key,
                         config.ablation_estimator_seeds)
        reference_entry = _summary(results, shifts, config.ablation_seeds, ref_key, ref_key,
                                   config.ablation_estimator_seeds)
        ablations.append(dict(entry, arm=arm.name, reference=arm.reference,
                              reference_mean_error=reference_entry["mean_error"],
                              reference_percent_within_7=reference_entry["percent_within_7"],
                              iterations=arm_iterations(config, arm)[-1],
                              weights=arm.weights))
    curves = {}
    for key, label in main_rows(config):
        mean_curve = np.mean([part["curve"] for s in seeds for part in results[(s, key)]], axis=0)
        curves[label] = mean_curve.tolist()
    return {"reference": reference, "rows": rows, "curve": curve, "ablations": ablations,
            "cumulative_percent": curves, "cost": _cost(config, results, out_dir),
            "config": config.to_dict()}


def _cost(config, results, out_dir):
    """Seconds the protocol took: every estimator (wall and CPU) and every SimGAN run (its
    training steps, from the run folders)."""
    parts = [part for values in results.values() for part in values]
    training = []
    root = os.path.join(out_dir, "simgan")
    for name in sorted(os.listdir(root)) if os.path.isdir(root) else ():
        for seed_dir in sorted(os.listdir(os.path.join(root, name))):
            summary = RunFolder(os.path.join(root, name, seed_dir)).summary()
            if summary["elapsed_s"] is not None:
                training.append({"run": name, "seed": seed_dir, "seconds": summary["elapsed_s"]})
    return {"estimators": len(parts),
            "estimator_seconds": round(sum(p["seconds"] for p in parts), 1),
            "estimator_cpu_seconds": round(sum(p["cpu_seconds"] for p in parts), 1),
            "simgan_runs": len(training),
            "simgan_seconds": round(sum(t["seconds"] for t in training), 1),
            "simgan_by_run": training}


def _interval(entry, digits=2):
    if entry["low"] is None:
        return f"{entry['mean']:.{digits}f}"
    return f"{entry['mean']:.{digits}f} [{entry['low']:.{digits}f}, {entry['high']:.{digits}f}]"


def _signed(entry, digits=2):
    if entry["low"] is None:
        return f"{entry['mean']:+.{digits}f}"
    return (f"{entry['mean']:+.{digits}f} [{entry['low']:+.{digits}f}, "
            f"{entry['high']:+.{digits}f}]")


def format_summary(summary: Dict[str, Any]) -> str:
    """The summary as Markdown: main table, SimGAN's curve, ablations, cost."""
    c = summary["config"]
    seeds, k = len(c["seeds"]), c["estimator_seeds"]
    lines = [f"Test sets: {c['test_n']} held-out photo-style eyes per replicate; {seeds} "
             f"replicate seeds x {k} estimator seeds; estimator input: {c['normalization']}; "
             f"{c['train_n']} training eyes and {c['steps']} steps per estimator. Cells: mean "
             "over seeds [95 % t-interval]; differences are SimGAN's value minus the row's, "
             "paired by seed (negative error difference: SimGAN better). Pupil shift: how far "
             f"the pupil finder's estimate moves from a synthetic eye to the row's image of it "
             f"(first {c['pupil_n']} eyes).", "",
             "| Training data | mean error (deg) | % within 7 deg | SimGAN - row: mean error "
             "| SimGAN - row: % within 7 | pupil shift (px) |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in summary["rows"]:
        versus = [row.get(f"{m}_vs_reference") for m in ("mean_error", "percent_within_7")]
        diffs = ["(reference)" if v is None else _signed(_negated(v), 2 if i == 0 else 1)
                 for i, v in enumerate(versus)]
        lines.append(f"| {row['label']} | {_interval(row['mean_error'])} | "
                     f"{_interval(row['percent_within_7'], 1)} | {diffs[0]} | {diffs[1]} | "
                     f"{_shift(row)} |")
    lines += ["", "SimGAN at the iterations fixed in advance (iteration 0: pretraining only):", "",
              "| iteration | mean error (deg) | % within 7 deg | pupil shift (px) |",
              "|---:|---:|---:|---:|"]
    for point in summary["curve"]:
        lines.append(f"| {point['iteration']} | {_interval(point['mean_error'])} | "
                     f"{_interval(point['percent_within_7'], 1)} | {point['pupil_shift']:.2f} |")
    if summary["ablations"]:
        lines += ["", f"Ablations ({len(c['ablation_seeds'])} seeds x "
                      f"{c['ablation_estimator_seeds']} estimator seed(s), each arm at its last "
                      "iteration; difference: arm minus its reference, paired by seed):", "",
                  "| arm | refiner | mean error (deg) | reference | arm - reference: mean error "
                  "| p | % within 7 deg | pupil shift (px) |",
                  "|---|---|---:|---|---:|---:|---:|---:|"]
        for arm in summary["ablations"]:
            versus = arm["mean_error_vs_reference"]
            p = "-" if versus["p"] is None else f"{versus['p']:.2f}"
            lines.append(f"| {arm['arm']} ({arm['iterations']} it.) | {arm['weights']} | "
                         f"{_interval(arm['mean_error'])} | {arm['reference']}: "
                         f"{arm['reference_mean_error']['mean']:.2f} | {_signed(versus)} | {p} | "
                         f"{_interval(arm['percent_within_7'], 1)} | {arm['pupil_shift']:.2f} |")
    cost = summary["cost"]
    lines += ["", f"Cost: {cost['simgan_runs']} SimGAN runs, {cost['simgan_seconds'] / 60:.1f} min "
                  f"of training steps; {cost['estimators']} estimators, "
                  f"{cost['estimator_seconds'] / 60:.1f} min ({cost['estimator_cpu_seconds'] / 60:.1f}"
                  " CPU min)."]
    return "\n".join(lines) + "\n"


def _shift(entry):
    return "-" if entry["pupil_shift"] is None else f"{entry['pupil_shift']:.2f}"


def _negated(difference):
    """``row - SimGAN`` as stored -> ``SimGAN - row`` for the main table."""
    flipped = dict(difference, mean=-difference["mean"])
    if difference["low"] is not None:
        flipped.update(low=-difference["high"], high=-difference["low"])
    return flipped


def write_summary(summary, samples, out_dir):
    """table.md, cumulative_error.png, samples.png (8 eyes of each main row's training set of
    the first replicate, then of its test set), then results.json (last: it marks the report
    whole)."""
    write_text(os.path.join(out_dir, "table.md"), format_summary(summary))
    thresholds = np.arange(0.0, 25.0 + 0.25, 0.5)   # metrics.cumulative_error_curve's defaults
    draw_cumulative_curves({label: (thresholds, np.asarray(curve))
                            for label, curve in summary["cumulative_percent"].items()},
                           os.path.join(out_dir, "cumulative_error.png"),
                           title="Gaze error on held-out photo-style eyes (all seeds)")
    shown = [samples[row["key"]] for row in summary["rows"] if row["key"] in samples]
    if shown:
        save_grid(os.path.join(out_dir, "samples.png"),
                  np.concatenate(shown + [samples["test"]]), nrow=len(shown[0]), scale=3)
    write_json(os.path.join(out_dir, "results.json"), summary)


def run_study(config: StudyConfig, out_dir: Union[str, os.PathLike],
              log: Optional[Callable[[str], None]] = print, progress: Optional[bool] = False,
              status_every: float = 60.0) -> Dict[str, Any]:
    """Run (or finish) the gaze study of ``config`` in ``out_dir``; returns the summary, also
    written there (``table.md``, ``results.json``, figures)."""
    results, shifts, samples = GazeStudy(config, out_dir, log, progress, status_every).run()
    summary = summarize(config, results, shifts, out_dir)
    write_summary(summary, samples, out_dir)
    return summary
