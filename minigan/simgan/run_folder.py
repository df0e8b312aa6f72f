"""The folder one training run writes, and the only code that writes into it.

    OUT/config.json               the TrainConfig (and the data actually used)
    OUT/log.jsonl                 one JSON object per step of every phase (see ``trainer``)
    OUT/samples/iteration_NNNNNN.png   columns synthetic | refined | real, every N iterations
    OUT/samples/pretrained_refiner.png the same after R's pretraining
    OUT/samples/latest.png        a copy of the newest grid
    OUT/loss_curve.png            losses and D accuracy so far (rewritten with each grid)
    OUT/checkpoints/last.npz      the newest checkpoint (atomic; see ``simgan.checkpoint``)
"""
import json
import math
import os
import shutil

import numpy as np

from minigan.io.png import make_grid
from minigan.simgan.loss_curve import draw_loss_curve

COLUMNS = ("synthetic", "refined", "real")
HEADER = 14  # pixels of column titles above a sample grid


class RunFolder:
    """Paths and writers of one run folder; creates the folder and its sub-folders."""

    def __init__(self, path):
        self.path = os.fspath(path)
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise NotADirectoryError(f"run folder {self.path} exists and is not a directory")
        self.samples = os.path.join(self.path, "samples")
        self.checkpoints = os.path.join(self.path, "checkpoints")
        for folder in (self.path, self.samples, self.checkpoints):
            os.makedirs(folder, exist_ok=True)
        self.config_path = os.path.join(self.path, "config.json")
        self.log_path = os.path.join(self.path, "log.jsonl")
        self.curve_path = os.path.join(self.path, "loss_curve.png")
        self.last_checkpoint = os.path.join(self.checkpoints, "last.npz")

    # -- config and log ---------------------------------------------------------------------
    def write_config(self, config_dict):
        with open(self.config_path, "w", encoding="utf-8") as handle:
            json.dump(config_dict, handle, indent=2, sort_keys=True)
            handle.write("\n")

    def append_log(self, record):
        """Append one record as a JSON line (NaN/Inf written as null, so every line stays JSON)."""
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                 for k, v in record.items()}
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(clean) + "\n")

    def read_log(self):
        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def truncate_log(self, last_t):
        """Keep only the records with ``t <= last_t`` (a resumed run redoes the later steps)."""
        kept = [r for r in self.read_log() if r.get("t", 0) <= last_t]
        tmp = self.log_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            for record in kept:
                handle.write(json.dumps(record) + "\n")
        os.replace(tmp, self.log_path)

    # -- pictures ---------------------------------------------------------------------------
    def save_samples(self, name, synthetic, refined, real, scale=3):
        """Write a grid whose rows are (synthetic_i | refined_i | real_i), two triplets a row.

        All three are (n, 1, H, W) NumPy arrays in [-1, 1]; refined_i is R(synthetic_i), real_i
        an unrelated real image (the data are unpaired). Returns the PNG's path.
        """
        from PIL import Image, ImageDraw

        n = min(len(synthetic), len(refined), len(real))
        triplets = np.stack([synthetic[:n], refined[:n], real[:n]], axis=1)  # (n, 3, 1, H, W)
        per_row = 2 if n % 2 == 0 else 1
        grid = make_grid(triplets.reshape((-1,) + synthetic.shape[1:]), nrow=3 * per_row,
                         padding=2, scale=scale)
        image = Image.new("L", (grid.shape[1], grid.shape[0] + HEADER), 255)
        image.paste(Image.fromarray(grid), (0, HEADER))
        draw = ImageDraw.Draw(image)
        tile = synthetic.shape[3] * scale + 2
        for column in range(3 * per_row):
            draw.text((2 + column * tile + 2, 1), COLUMNS[column % 3], fill=0)
        path = os.path.join(self.samples, f"{name}.png")
        image.save(path)
        shutil.copyfile(path, os.path.join(self.samples, "latest.png"))
        return path

    def draw_loss_curve(self):
        records = self.read_log()
        if records:
            draw_loss_curve(records, self.curve_path)
        return self.curve_path


def next_free_path(base):
    """``base`` if it does not exist yet, else the first free ``base-2``, ``base-3``, ..."""
    path, number = base, 1
    while os.path.exists(path):
        number += 1
        path = f"{base}-{number}"
    return path
