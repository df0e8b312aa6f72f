"""The paper's Figure 7 with matplotlib: cumulative gaze-error curves, one line per training set.

    x: angular error d in degrees (0 .. max)      y: % of test images with error <= d

A dashed vertical line marks d = 7 degrees, where Table 2 reads the curves off. The legend sits
under the axes, where no curve can run.
"""
import numpy as np

from minigan.io.figure import new_figure, save_figure

WIDTH, PLOT_HEIGHT, LEGEND_ROW = 720, 440, 20  # pixels; the legend adds one row per curve


def figure_size(count):
    """``(width, height)`` in pixels of the figure of ``count`` curves."""
    return WIDTH, PLOT_HEIGHT + LEGEND_ROW * count


def cumulative_curves_figure(curves, title="Gaze error on the test set", mark=7.0):
    """The figure of ``curves``: ``{label: (thresholds, percents)}`` as from
    ``metrics.cumulative_error_curve``."""
    if not curves:
        raise ValueError("draw_cumulative_curves: no curves to draw")
    figure = new_figure(*figure_size(len(curves)))
    axes = figure.add_subplot()
    for label, (thresholds, percents) in curves.items():
        axes.plot(thresholds, percents, linewidth=2, label=label)
    x_max = max(float(np.max(thresholds)) for thresholds, _ in curves.values())
    if 0 < mark < x_max:
        axes.axvline(mark, color="0.4", linestyle="--", linewidth=1)
        axes.annotate(f"d = {mark:g}", (mark, 0), xytext=(4, 4), textcoords="offset points",
                      color="0.4")
    axes.set(xlim=(0, x_max), ylim=(0, 100), title=title, xlabel="angular error d (degrees)",
             ylabel="% of images with error <= d")
    axes.grid(color="0.9")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    return figure


def draw_cumulative_curves(curves, path, title="Gaze error on the test set", mark=7.0):
    """Write the PNG of ``cumulative_curves_figure(curves, title, mark)`` to ``path``; returns
    ``path``."""
    return save_figure(cumulative_curves_figure(curves, title, mark), path)
