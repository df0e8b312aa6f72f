"""Draw a run's loss curves as a PNG with matplotlib.

Two panels over the log's records (one per step of every phase, in order):

    top:    D's loss, R's realism loss and its (lambda-weighted) self-regularization
    bottom: D's patch accuracy on real and on refined images, in [0, 1]

The x axis is ``t``, the step count over all phases; vertical grey lines mark where the phases
change, and each phase is named above its stretch with its number of steps (iterations for the
adversarial phase). The loss axis fits the adversarial phase (values beyond it, early in
pretraining, run off the top). Each series is smoothed with a running mean over ``smooth``
records so the trend shows through mini-batch noise. The legends sit right of the panels, where
no line can run.
"""
import math

import numpy as np

from minigan.io.figure import new_figure, save_figure

COLOURS = {"discriminator_loss": "tab:blue", "realism_loss": "tab:red",
           "self_regularization": "tab:orange",
           "d_accuracy_real": "tab:green", "d_accuracy_refined": "tab:purple"}
LOSSES = ("discriminator_loss", "realism_loss", "self_regularization")
ACCURACIES = ("d_accuracy_real", "d_accuracy_refined")
SIZE = (900, 620)
PHASE_NAMES = {"pretrain_refiner": ("pretrain R", "steps"),
               "pretrain_discriminator": ("pretrain D", "steps"),
               "adversarial": ("adversarial", "iterations")}


def _smooth(values, window):
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(values) < window:
        return values
    kernel = np.ones(window) / window
    head = [values[:i + 1].mean() for i in range(window - 1)]
    return np.concatenate([head, np.convolve(values, kernel, mode="valid")])


def _series(records, key):
    """(index, value) of the records that have a finite ``key``."""
    points = [(i, r[key]) for i, r in enumerate(records)
              if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
    return np.array([p[0] for p in points], dtype=int), np.array([p[1] for p in points])


def _phase_spans(records):
    """``[(first index, end index)]`` of each run of records of one phase."""
    starts = [i for i in range(len(records))
              if i == 0 or records[i].get("phase") != records[i - 1].get("phase")]
    return list(zip(starts, starts[1:] + [len(records)]))


def _loss_range(records):
    """(low, high) of the loss axis: the adversarial phase's values up to their 99th percentile."""
    adversarial = [r for r in records if r.get("phase") == "adversarial"] or records
    values = np.concatenate([_series(adversarial, key)[1] for key in LOSSES] + [np.zeros(1)])
    high = float(np.percentile(values, 99)) * 1.05 if values.size > 1 else 1.0
    low = min(0.0, float(values.min()))
    return low, (high if high > low else low + 1.0)


def _plot(axes, steps, records, keys, smooth):
    for key in keys:
        index, values = _series(records, key)
        if len(index) >= 2:
            axes.plot(steps[index], _smooth(values, smooth), color=COLOURS[key], linewidth=1.5,
                      label=key)
    if axes.get_lines():
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)


def loss_curve_figure(records, smooth=10):
    """The two-panel figure of ``records`` (dicts from log.jsonl, at least one)."""
    figure = new_figure(*SIZE, layout=None)  # redrawn with every sample grid: fixed margins
    losses, accuracies = figure.subplots(2, 1, sharex=True)
    figure.subplots_adjust(left=0.08, right=0.77, top=0.92, bottom=0.09, hspace=0.08)
    steps = np.array([r.get("t", i + 1) for i, r in enumerate(records)], dtype=np.float64)
    _plot(losses, steps, records, LOSSES, smooth)
    _plot(accuracies, steps, records, ACCURACIES, smooth)
    losses.set(ylim=_loss_range(records), ylabel="loss (per image)")
    accuracies.set(ylim=(0.0, 1.0), ylabel="D's accuracy on patches",
                   xlabel=f"t: steps of every phase ({len(records)} logged)")
    accuracies.set_xlim(steps[0], steps[-1] if len(steps) > 1 else steps[0] + 1)
    for start, end in _phase_spans(records):
        if start:
            for axes in (losses, accuracies):
                axes.axvline(steps[start], color="0.7", linewidth=1)
        name, unit = PHASE_NAMES.get(records[start].get("phase"),
                                     (str(records[start].get("phase")), "steps"))
        middle = (steps[start] + steps[end - 1]) / 2
        losses.annotate(f"{name}\n{end - start} {unit}", (middle, 1.0), xytext=(0, 3),
                        xycoords=("data", "axes fraction"), textcoords="offset points",
                        ha="center", va="bottom", fontsize=8, color="0.35")
    return figure


def draw_loss_curve(records, path, smooth=10):
    """Write the two-panel PNG of ``records`` (dicts from log.jsonl) to ``path``."""
    return save_figure(loss_curve_figure(records, smooth), path)
