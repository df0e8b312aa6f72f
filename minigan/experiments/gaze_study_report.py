"""The gaze study's numbers: per-seed values, intervals, paired differences, tables, figures.

Each estimator gives a mean angular error and a % within 7 degrees on the replicate's test set;
a row's value for a seed is the average over its estimator seeds, and the table gives, over
the seeds, the mean with its 95 % t-interval and the paired difference to the reference row
(``statistics``). Ablation arms are compared with their reference arm on the ablation seeds
and estimator seeds only.
"""
import json
import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from minigan.data.eye_styles import FACTORS
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
    "perfect": "Perfect refiner (the same eyes in the photo style: synthetic geometry)",
    "photo": "Photo-style training data (upper bound: photo geometry, same gaze)",
}


def reference_row(config):
    """The row every other is compared with: SimGAN's last iteration, or without SimGAN the
    synthetic eyes."""
    return row_key(SIMGAN, config.checkpoints[-1]) if config.simgan else "synthetic"


def main_rows(config):
    """``[(key, label)]`` of the main table, in order: controls, the curve's first and last
    points, the perfect refiner, the upper bound."""
    first, last = config.checkpoints[0], config.checkpoints[-1]
    rows = [("synthetic", CONTROL_LABELS["synthetic"]),
            ("degraded", CONTROL_LABELS["degraded"])]
    if config.simgan and first == 0:
        rows.append((row_key(SIMGAN, 0), "Refiner after self-regularization pretraining only "
                                         "(SimGAN iteration 0)"))
    if config.simgan:
        rows.append((row_key(SIMGAN, last), f"SimGAN (iteration {last}, running average of R)"))
    rows += [("perfect", CONTROL_LABELS["perfect"]), ("photo", CONTROL_LABELS["photo"])]
    return rows


def gap_split(config, results):
    """Per replicate (mean error): the gap synthetic - photo, its geometry part perfect - photo
    and appearance part synthetic - perfect, the appearance share, and for every main row r
    the share of the appearance gap it closes, (synthetic - r) / (synthetic - perfect); each
    with its t-interval over the seeds."""
    value = lambda key: per_seed(results, config.seeds, key, "mean_error")  # noqa: E731
    synthetic, perfect, photo = value("synthetic"), value("perfect"), value("photo")
    appearance = synthetic - perfect
    split = {"total": synthetic - photo, "geometry": perfect - photo, "appearance": appearance,
             "appearance_share": appearance / (synthetic - photo)}
    entry = {name: dict(t_interval(v), per_seed=v.tolist()) for name, v in split.items()}
    shown = [(key, label) for key, label in main_rows(config) if key not in ("synthetic", "photo")]
    if config.simgan:
        shown += [(row_key(SIMGAN, i), f"SimGAN (iteration {i})") for i in config.checkpoints
                  if row_key(SIMGAN, i) not in dict(shown)]
    entry["closed"] = {key: dict(t_interval((synthetic - value(key)) / appearance), label=label)
                       for key, label in shown}
    return entry


def factor_table(config, results):
    """For each photo factor X: the error of ``without:X`` and its cost over the perfect
    refiner (``without:X - perfect``), the error of ``only:X`` and its gain over synthetic
    (``synthetic - only:X``), each paired by seed."""
    value = lambda key: per_seed(results, config.seeds, key, "mean_error")  # noqa: E731
    synthetic, perfect = value("synthetic"), value("perfect")
    rows = []
    for factor in FACTORS:
        without, only = value(f"without:{factor}"), value(f"only:{factor}")
        rows.append({"factor": factor,
                     "without": dict(t_interval(without), per_seed=without.tolist()),
                     "cost": paired_difference(without, perfect),
                     "only": dict(t_interval(only), per_seed=only.tolist()),
                     "gain": paired_difference(synthetic, only)})
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
    reference = reference_row(config)
    rows = [dict(_summary(results, shifts, seeds, key, reference), label=label)
            for key, label in main_rows(config)]
    curve = [dict(_summary(results, shifts, seeds, row_key(SIMGAN, i), reference), iteration=i)
             for i in config.checkpoints] if config.simgan else []
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
            "gap": gap_split(config, results),
            "factors": factor_table(config, results) if config.factors else [],
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
    """The summary as Markdown: main table, the gap split, the factor table, SimGAN's curve,
    ablations, cost."""
    c = summary["config"]
    seeds, k = len(c["seeds"]), c["estimator_seeds"]
    simgan = c.get("simgan", True)
    versus = "SimGAN - row" if simgan else "row - synthetic"
    lines = [f"Test sets: {c['test_n']} held-out photo-style eyes per replicate; seeds "
             f"{_seed_list(c['seeds'])} ({seeds} replicates) x {k} estimator seeds; estimator "
             f"input: {c['normalization']}; {c['train_n']} training eyes and {c['steps']} steps "
             "per estimator. Cells: mean over seeds [95 % t-interval]; differences are "
             f"{versus}, paired by seed"
             + (" (negative error difference: SimGAN better)" if simgan else "")
             + ". Pupil shift: how far the pupil finder's estimate moves from a synthetic eye to "
             f"the row's image of it (first {c['pupil_n']} eyes).", "",
             f"| Training data | mean error (deg) | % within 7 deg | {versus}: mean error "
             f"| {versus}: % within 7 | pupil shift (px) |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in summary["rows"]:
        differences = [row.get(f"{m}_vs_reference") for m in METRICS]
        cells = ["(reference)" if v is None else
                 _signed(_negated(v) if simgan else v, 2 if i == 0 else 1)
                 for i, v in enumerate(differences)]
        lines.append(f"| {row['label']} | {_interval(row['mean_error'])} | "
                     f"{_interval(row['percent_within_7'], 1)} | {cells[0]} | {cells[1]} | "
                     f"{_shift(row)} |")
    lines += [""] + format_gap(summary["gap"])
    if summary.get("factors"):
        lines += [""] + format_factors(summary["factors"])
    if summary["curve"]:
        lines += ["", "SimGAN at the iterations fixed in advance (iteration 0: pretraining "
                      "only):", "",
                  "| iteration | mean error (deg) | % within 7 deg | share of the appearance gap "
                  "closed | pupil shift (px) |",
                  "|---:|---:|---:|---:|---:|"]
        closed = summary["gap"]["closed"]
        for point in summary["curve"]:
            share = closed.get(point["key"])
            lines.append(f"| {point['iteration']} | {_interval(point['mean_error'])} | "
                         f"{_interval(point['percent_within_7'], 1)} | "
                         f"{_percent(share) if share else '-'} | {point['pupil_shift']:.2f} |")
    if summary["ablations"]:
        lines += ["", f"Ablations ({len(c['ablation_seeds'])} seeds x "
                      f"{c['ablation_estimator_seeds']} estimator seed(s), each arm at its last "
                      "iteration; difference: arm minus its reference, paired by seed):", "",
                  "| arm | refiner | mean error (deg) | reference | arm - reference: mean error "
                  "| p | % within 7 deg | pupil shift (px) |",
                  "|---|---|---:|---|---:|---:|---:|---:|"]
        for arm in summary["ablations"]:
            difference = arm["mean_error_vs_reference"]
            p = "-" if difference["p"] is None else f"{difference['p']:.2f}"
            lines.append(f"| {arm['arm']} ({arm['iterations']} it.) | {arm['weights']} | "
                         f"{_interval(arm['mean_error'])} | {arm['reference']}: "
                         f"{arm['reference_mean_error']['mean']:.2f} | {_signed(difference)} | "
                         f"{p} | {_interval(arm['percent_within_7'], 1)} | "
                         f"{arm['pupil_shift']:.2f} |")
    cost = summary["cost"]
    lines += ["", f"Cost: {cost['simgan_runs']} SimGAN runs, {cost['simgan_seconds'] / 60:.1f} min "
                  f"of training steps; {cost['estimators']} estimators, "
                  f"{cost['estimator_seconds'] / 60:.1f} min "
                  f"({cost['estimator_cpu_seconds'] / 60:.1f} CPU min)."]
    return "\n".join(lines) + "\n"


def format_gap(gap):
    """The gap split and the share of the appearance gap each row closes, as Markdown lines."""
    lines = ["The gap synthetic - photo, split by replicate (mean error, deg): geometry = perfect "
             "refiner - photo (no refiner that keeps the labels may change it), appearance = "
             "synthetic - perfect refiner (what a refiner can learn):", "",
             "| gap | deg [95 % t-interval] | per seed |", "|---|---:|---|"]
    for name in ("total", "geometry", "appearance"):
        entry = gap[name]
        lines.append(f"| {name} | {_signed(entry)} | "
                     f"{', '.join(f'{v:+.2f}' for v in entry['per_seed'])} |")
    share = gap["appearance_share"]
    lines += [f"| appearance share of the gap | {_percent(share)} | "
              f"{', '.join(f'{100 * v:.0f} %' for v in share['per_seed'])} |", "",
              "Share of the appearance gap a row closes, (synthetic - row) / (synthetic - perfect "
              "refiner), by replicate:", "", "| row | share closed [95 % t-interval] |",
              "|---|---:|"]
    for entry in gap["closed"].values():
        lines.append(f"| {entry['label']} | {_percent(entry)} |")
    return lines


def format_factors(factors):
    """The factor table as Markdown lines."""
    lines = ["What the appearance gap is made of (mean error, deg): each photo factor turned off "
             "alone in the perfect refiner's eyes (cost: without - perfect refiner) and turned "
             "on alone in the synthetic eyes (gain: synthetic - only), paired by seed:", "",
             "| factor | perfect refiner without it | cost | synthetic with it alone | gain |",
             "|---|---:|---:|---:|---:|"]
    for row in factors:
        lines.append(f"| {row['factor']} | {_interval(row['without'])} | {_signed(row['cost'])} | "
                     f"{_interval(row['only'])} | {_signed(row['gain'])} |")
    return lines


def _percent(entry):
    scaled = {name: None if entry[name] is None else 100 * entry[name]
              for name in ("mean", "low", "high")}
    return f"{_interval(scaled, 0)} %"


def _seed_list(seeds):
    """``(0, 1, 2, 3, 4)`` -> ``0-4``; ``(7, 11)`` -> ``7, 11``."""
    seeds = list(seeds)
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


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
    written there (``table.md``, ``results.json``, figures). ``out_dir`` is this process's
    alone meanwhile: new, empty, or a study of this protocol (refused before any work)."""
    study = GazeStudy(config, out_dir, log, progress, status_every)
    with study.claim():
        results, shifts, samples = study.run()
        summary = summarize(config, results, shifts, out_dir)
        write_summary(summary, samples, out_dir)
    return summary


def compare_studies(folders: Sequence[Union[str, os.PathLike]]) -> List[Dict[str, Any]]:
    """One row per SimGAN snapshot of each finished study folder (its ``results.json``): what
    its SimGAN changed from its preset (``simgan_overrides``), the iteration, the mean error with
    its interval, the share of the appearance gap closed and the pupil shift. ValueError naming
    a folder that holds no finished study."""
    rows = []
    for folder in folders:
        path = os.path.join(folder, "results.json")
        try:
            with open(path, encoding="utf-8") as handle:
                summary = json.load(handle)
            config = summary["config"]
            points = summary["curve"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{folder}: no finished gaze study ({error})") from None
        for point in points:
            rows.append({"folder": os.fspath(folder), "changes": config["simgan_overrides"],
                         "simgan_preset": config["simgan_preset"],
                         "iteration": point["iteration"], "seeds": config["seeds"],
                         "estimator_seeds": config["estimator_seeds"],
                         "mean_error": point["mean_error"],
                         "closed": summary["gap"]["closed"].get(point["key"]),
                         "pupil_shift": point["pupil_shift"]})
    return rows


def format_comparison(rows: Sequence[Dict[str, Any]]) -> str:
    """``compare_studies``' rows as a Markdown table."""
    lines = ["| study | SimGAN changes | iteration | seeds x estimators | mean error (deg) "
             "| appearance gap closed | pupil shift (px) |", "|---|---|---:|---|---:|---:|---:|"]
    for row in rows:
        changes = ", ".join(f"{k}={v}" for k, v in row["changes"].items()) or "(preset)"
        closed = "-" if row["closed"] is None else _percent(row["closed"])
        lines.append(f"| {os.path.basename(os.path.normpath(row['folder']))} | "
                     f"{row['simgan_preset']}: {changes} | {row['iteration']} | "
                     f"{_seed_list(row['seeds'])} x {row['estimator_seeds']} | "
                     f"{_interval(row['mean_error'])} | {closed} | {_shift(row)} |")
    return "\n".join(lines) + "\n"
