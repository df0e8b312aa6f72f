"""The paper's Figure 7 with Pillow: cumulative gaze-error curves, one line per training set.

    x: angular error d in degrees (0 .. max)      y: % of test images with error <= d

A dashed vertical line marks d = 7 degrees, where Table 2 reads the curves off.
"""
import numpy as np

from minigan.io.png import save_image

SIZE = (720, 480)
MARGIN = (60, 40, 20, 50)  # left, top, right, bottom
PALETTE = [(200, 60, 40), (40, 90, 200), (40, 150, 60), (150, 60, 170), (220, 140, 20),
           (20, 160, 170), (120, 120, 120), (0, 0, 0)]


def _font(size):
    from PIL import ImageFont
    try:
        return ImageFont.load_default(size=size)  # a scalable font (Pillow >= 10.1)
    except TypeError:
        return ImageFont.load_default()


def draw_cumulative_curves(curves, path, title="Gaze error on the test set", mark=7.0):
    """Write a PNG of ``curves``: ``{label: (thresholds, percents)}`` as from
    ``metrics.cumulative_error_curve`` (all with the same thresholds). Returns ``path``."""
    from PIL import Image, ImageDraw

    if not curves:
        raise ValueError("draw_cumulative_curves: no curves to draw")
    image = Image.new("RGB", SIZE, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font, small = _font(14), _font(12)
    left, top, right, bottom = MARGIN[0], MARGIN[1], SIZE[0] - MARGIN[2], SIZE[1] - MARGIN[3]
    x_max = max(float(np.max(t)) for t, _ in curves.values())

    def to_pixel(degrees, percent):
        return (left + (right - left) * degrees / x_max, bottom - (bottom - top) * percent / 100)

    for percent in range(0, 101, 20):
        y = to_pixel(0, percent)[1]
        draw.line((left, y, right, y), fill=(225, 225, 225))
        draw.text((left - 8, y), f"{percent}", fill=(0, 0, 0), font=small, anchor="rm")
    step = 5 if x_max > 10 else 1
    for degrees in np.arange(0, x_max + 1e-9, step):
        x = to_pixel(degrees, 0)[0]
        draw.line((x, top, x, bottom), fill=(225, 225, 225))
        draw.text((x, bottom + 6), f"{degrees:g}", fill=(0, 0, 0), font=small, anchor="mt")
    if 0 < mark < x_max:
        x = to_pixel(mark, 0)[0]
        for y in range(top, bottom, 8):  # Pillow has no dashed lines: draw the dashes
            draw.line((x, y, x, min(y + 4, bottom)), fill=(90, 90, 90))
        draw.text((x + 4, bottom - 18), f"d = {mark:g}", fill=(90, 90, 90), font=small)
    draw.rectangle((left, top, right, bottom), outline=(0, 0, 0))

    legend_x = right - 50 - max(draw.textlength(label, font=small) for label in curves)
    for i, (label, (thresholds, percents)) in enumerate(curves.items()):
        colour = PALETTE[i % len(PALETTE)]
        points = [to_pixel(t, p) for t, p in zip(thresholds, percents)]
        draw.line(points, fill=colour, width=3)
        y = bottom - 20 - 20 * (len(curves) - 1 - i)
        draw.line((legend_x, y, legend_x + 30, y), fill=colour, width=3)
        draw.text((legend_x + 38, y), label, fill=(0, 0, 0), font=small, anchor="lm")

    draw.text((SIZE[0] / 2, 12), title, fill=(0, 0, 0), font=font, anchor="mt")
    draw.text(((left + right) / 2, SIZE[1] - 14), "angular error d (degrees)", fill=(0, 0, 0),
              font=small, anchor="mb")
    draw.text((6, top - 22), "% of images with error <= d", fill=(0, 0, 0), font=small)
    save_image(path, image)
    return path
