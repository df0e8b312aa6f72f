"""Plots as PNG files: a matplotlib ``Figure`` drawn by the Agg renderer, written atomically.

No pyplot: a figure made here belongs to its caller alone (no global state, no window, nothing
to close), so plotting works in any thread and on a machine without a display.
"""
from minigan.io.atomic import atomic_file


def _matplotlib():
    """matplotlib's ``Figure`` and Agg canvas (an install requirement: say so if missing)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("minigan draws its plots with matplotlib, which is missing: "
                          "pip install matplotlib") from error
    return Figure, FigureCanvasAgg


def new_figure(width, height, dpi=100, layout="constrained"):
    """An empty figure of ``width x height`` pixels on an Agg canvas. The default layout,
    matplotlib's constrained layout, places axes, labels and legends so that none overlaps
    another; ``layout=None`` leaves the placement to the caller (cheaper to draw)."""
    Figure, FigureCanvasAgg = _matplotlib()
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure, path):
    """Write ``figure`` as a PNG to ``path`` atomically; returns ``path``."""
    with atomic_file(path, "wb") as handle:
        figure.savefig(handle, format="png", pil_kwargs={"compress_level": 3})
    return path
