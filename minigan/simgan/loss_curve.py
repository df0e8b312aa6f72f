"""Draw a run's loss curves as a PNG with Pillow (no plotting library needed).

Two panels over the log's records (one per step of every phase, in order):

    top:    D's loss, R's realism loss and its (lambda-weighted) self-regularization
    bottom: D's patch accuracy on real and on refined images, in [0, 1]

The x axis is ``t``, the step count over all phases, with tick labels; vertical grey lines
mark where the phases change, and each phase is named at the top of its stretch with its number
of steps (iterations for the adversarial phase). The loss axis fits the adversarial phase
(values beyond it, early in pretraining, are clipped at the top). Each series is smoothed with
a running mean over ``smooth`` records so the trend shows through mini-batch noise.
"""
import math

import numpy as np

from minigan.io.png import save_image

COLOURS = {"realism_loss": (200, 60, 40), "self_regularization": (230, 150, 30),
           "discriminator_loss": (40, 90, 200),
           "d_accuracy_real": (40, 150, 60), "d_accuracy_refined": (150, 60, 170)}
SIZE = (900, 620)
MARGIN = (70, 20, 20, 40)  # left, top, right, bottom of each panel
PHASE_NAMES = {"pretrain_refiner": ("pretrain R", "steps"),
               "pretrain_discriminator": ("pretrain D", "steps"),
               "adversarial": ("adversarial", "iterations")}
TICKS = 6


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
    return np.array([p[0] for p in points]), np.array([p[1] for p in points])


def _phase_spans(records):
    """``[(first index, end index)]`` of each run of records of one phase."""
    starts = [i for i in range(len(records))
              if i == 0 or records[i].get("phase") != records[i - 1].get("phase")]
    return list(zip(starts, starts[1:] + [len(records)]))


def _panel(draw, box, records, keys, y_range, title, smooth, title_phases=False):
    """One panel of line plots in ``box`` = (left, top, right, bottom) pixels."""
    left, top, right, bottom = box
    draw.rectangle(box, outline=(0, 0, 0))
    draw.text((left, top - 14), title, fill=(0, 0, 0))
    count = max(len(records) - 1, 1)
    low, high = y_range
    if high <= low:
        high = low + 1.0

    def to_pixel(i, v):
        v = min(max(v, low), high)
        return (left + (right - left) * i / count,
                bottom - (bottom - top) * (v - low) / (high - low))

    for fraction in (0.0, 0.5, 1.0):  # y axis labels
        value = low + fraction * (high - low)
        y = to_pixel(0, value)[1]
        draw.line((left - 4, y, left, y), fill=(0, 0, 0))
        draw.text((5, y - 6), f"{value:.3g}", fill=(0, 0, 0))
    for start, end in _phase_spans(records):
        x = to_pixel(start, low)[0]
        if start:
            draw.line((x, top, x, bottom), fill=(170, 170, 170))
        if title_phases:
            name, unit = PHASE_NAMES.get(records[start].get("phase"),
                                         (str(records[start].get("phase")), "steps"))
            draw.text((x + 3, top + 3), f"{name}: {end - start} {unit}", fill=(110, 110, 110))
    for i in np.unique(np.linspace(0, len(records) - 1, TICKS).round().astype(int)):  # x ticks
        x = to_pixel(i, low)[0]
        draw.line((x, bottom, x, bottom + 4), fill=(0, 0, 0))
        draw.text((x - 8, bottom + 6), str(records[i].get("t", i + 1)), fill=(0, 0, 0))
    for key in keys:
        index, values = _series(records, key)
        if len(index) >= 2:
            points = [to_pixel(i, v) for i, v in zip(index, _smooth(values, smooth))]
            draw.line(points, fill=COLOURS[key], width=2)
    legend = (right - 185, top + 18, right - 3, top + 23 + 14 * len(keys))
    draw.rectangle(legend, fill=(255, 255, 255), outline=(200, 200, 200))  # over the lines
    for row, key in enumerate(keys):
        draw.text((right - 180, top + 20 + 14 * row), key, fill=COLOURS[key])


def draw_loss_curve(records, path, smooth=10):
    """Write the two-panel PNG of ``records`` (dicts from log.jsonl) to ``path``."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", SIZE, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    width, height = SIZE
    left, top, right, bottom = MARGIN
    half = height // 2
    loss_keys = ("discriminator_loss", "realism_loss", "self_regularization")
    adversarial = [r for r in records if r.get("phase") == "adversarial"] or records
    values = np.concatenate([_series(adversarial, k)[1] for k in loss_keys] + [np.zeros(1)])
    high = float(np.percentile(values, 99)) * 1.05 if values.size > 1 else 1.0
    _panel(draw, (left, top, width - right, half - bottom), records, loss_keys,
           (min(0.0, float(values.min())), high), "losses (per image)", smooth,
           title_phases=True)
    _panel(draw, (left, half + top, width - right, height - bottom), records,
           ("d_accuracy_real", "d_accuracy_refined"), (0.0, 1.0),
           "discriminator accuracy on patches", smooth)
    draw.text((left, height - 18), f"t: steps of every phase ({len(records)} logged)",
              fill=(0, 0, 0))
    save_image(path, image)
