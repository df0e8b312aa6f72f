"""The two plots (a run's loss curves, the paper's Figure 7): what they draw, and legends that
cover no line."""
import numpy as np
import pytest
from PIL import Image

from minigan.experiments.curve_plot import (cumulative_curves_figure, draw_cumulative_curves,
                                            figure_size)
from minigan.simgan.loss_curve import SIZE, draw_loss_curve, loss_curve_figure


def log_records(pretrain_refiner=40, pretrain_discriminator=20, adversarial=100, seed=0):
    """Records shaped like a run's log.jsonl: one per step of each phase, ``t`` counting all."""
    rng = np.random.default_rng(seed)
    records = []
    for phase, steps in (("pretrain_refiner", pretrain_refiner),
                         ("pretrain_discriminator", pretrain_discriminator),
                         ("adversarial", adversarial)):
        for step in range(1, steps + 1):
            record = {"t": len(records) + 1, "phase": phase, "step": step,
                      "self_regularization": float(rng.uniform(5, 30))}
            if phase != "pretrain_refiner":
                record.update(discriminator_loss=float(rng.uniform(150, 180)),
                              d_accuracy_real=float(rng.uniform(0, 1)),
                              d_accuracy_refined=float(rng.uniform(0, 1)))
            if phase == "adversarial":
                record["realism_loss"] = float(rng.uniform(80, 100))
            records.append(record)
    return records


def points_under_legends(figure):
    """Every plotted point (in pixels) that lies inside its axes and under one of the figure's
    legends: what a legend would hide."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    legends = [axes.get_legend() for axes in figure.axes if axes.get_legend() is not None]
    assert legends, "the figure has no legend"
    boxes = [legend.get_window_extent(renderer) for legend in legends]
    hidden = []
    for axes in figure.axes:
        area = axes.get_window_extent(renderer)
        for line in axes.get_lines():
            for x, y in line.get_transform().transform(line.get_xydata()):
                if area.contains(x, y) and any(box.contains(x, y) for box in boxes):
                    hidden.append((line.get_label(), x, y))
    return hidden


def cumulative(errors, thresholds=np.arange(0.0, 25.25, 0.5)):
    """(thresholds, % of errors <= each): a cumulative error curve, computed here so that these
    tests do not lean on the metric a homework asks for."""
    return thresholds, 100.0 * np.mean(errors[:, None] <= thresholds, axis=0)


# Mean errors of 3 to 40 degrees: the worst curve crosses the lower right, where a legend
# inside the axes would usually go.
FIGURE_7 = {label: cumulative(np.random.default_rng(0).exponential(scale, 500))
            for label, scale in (("photo-style (upper bound)", 3.0), ("refined", 5.0),
                                 ("synthetic + degradation (blur, noise, JPEG)", 6.0),
                                 ("a poor estimator", 40.0))}


# -- the loss curves -------------------------------------------------------------------------
def test_the_loss_curves_show_every_series_in_two_panels():
    losses, accuracies = loss_curve_figure(log_records()).axes
    assert [line.get_label() for line in losses.get_lines() if not line.get_label().startswith(
        "_")] == ["discriminator_loss", "realism_loss", "self_regularization"]
    assert [line.get_label() for line in accuracies.get_lines() if not line.get_label()
            .startswith("_")] == ["d_accuracy_real", "d_accuracy_refined"]
    assert accuracies.get_ylim() == (0.0, 1.0)


def test_the_loss_curves_name_each_phase_and_mark_where_it_changes():
    figure = loss_curve_figure(log_records(40, 20, 100))
    losses = figure.axes[0]
    names = [text.get_text() for text in losses.texts]
    assert names == ["pretrain R\n40 steps", "pretrain D\n20 steps", "adversarial\n100 iterations"]
    marks = sorted({line.get_xdata()[0] for line in losses.get_lines()
                    if line.get_label().startswith("_")})
    assert marks == [41, 61]  # t of the first step of the second and third phase


def test_the_loss_axis_fits_the_adversarial_phase():
    records = log_records()
    records[0]["self_regularization"] = 5000.0  # early pretraining, far above the rest
    low, high = loss_curve_figure(records).axes[0].get_ylim()
    assert low == 0.0 and 180 < high < 200


def test_the_loss_curves_legends_cover_no_line():
    assert points_under_legends(loss_curve_figure(log_records())) == []


def test_the_loss_curves_png(tmp_path):
    path = draw_loss_curve(log_records(), tmp_path / "loss_curve.png")
    with Image.open(path) as image:
        assert image.size == SIZE
    assert [p.name for p in tmp_path.iterdir()] == ["loss_curve.png"]  # no temporary file left


def test_a_log_of_one_record_still_draws(tmp_path):
    draw_loss_curve(log_records(1, 0, 0), tmp_path / "one.png")
    assert (tmp_path / "one.png").stat().st_size > 0


# -- Figure 7 --------------------------------------------------------------------------------
def test_figure_7_has_a_curve_per_training_set_and_the_7_degree_mark():
    axes = cumulative_curves_figure(FIGURE_7, title="test").axes[0]
    curves = [line for line in axes.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in curves] == list(FIGURE_7)
    for line, (thresholds, percents) in zip(curves, FIGURE_7.values()):
        assert np.array_equal(line.get_xdata(), thresholds)
        assert np.array_equal(line.get_ydata(), percents)
    (mark,) = [line for line in axes.get_lines() if line.get_label().startswith("_")]
    assert mark.get_xdata()[0] == 7.0 and mark.get_linestyle() == "--"
    assert axes.get_ylim() == (0.0, 100.0) and axes.get_title() == "test"


def test_figure_7s_legend_covers_no_curve():
    assert points_under_legends(cumulative_curves_figure(FIGURE_7)) == []


def test_figure_7_png(tmp_path):
    path = draw_cumulative_curves(FIGURE_7, tmp_path / "f.png")
    with Image.open(path) as image:
        assert image.size == figure_size(len(FIGURE_7))


def test_figure_7_needs_a_curve(tmp_path):
    with pytest.raises(ValueError, match="no curves"):
        draw_cumulative_curves({}, tmp_path / "f.png")
    assert not list(tmp_path.iterdir())
