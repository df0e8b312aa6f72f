"""The folder one training run writes, and the only code that writes into it.

    OUT/config.json                    the TrainConfig, the device used and the run's id
    OUT/log.jsonl                      one JSON object per step of every phase (see ``trainer``)
    OUT/samples/iteration_NNNNNN.png   columns synthetic | refined | real, every N iterations
    OUT/samples/latest.png             a copy of the newest grid
    OUT/loss_curve.png                 losses and D accuracy so far (rewritten with each grid)
    OUT/checkpoints/last.npz           the newest checkpoint (see ``simgan.checkpoint``)
    OUT/checkpoints/iteration_NNNNNN.npz   periodic snapshots (the newest ``keep_checkpoints``);
                                           iteration_000000: the end of pretraining

Every file but the log is written atomically (``minigan.io.atomic``), so a run killed at any
moment leaves each file whole or absent, plus perhaps a temporary ``.tmp-*`` file that the next
run in the folder deletes (its own, recorded in ``OUT/.lock``; no one else's). The log is
appended to line by line; a line cut short by a kill is dropped when the run resumes
(``truncate_log``). While a run trains, ``OUT/.lock`` keeps a second process out of the folder
(``claim``): a new run goes only into a new or empty folder, a resumed one only into a run.
"""
import errno
import json
import math
import os
import re

import numpy as np

from minigan.io.atomic import append_text, atomic_file, copy_file, temp_prefix, write_json
from minigan.io.folders import claim_folder, make_subfolders
from minigan.io.inputs import open_regular
from minigan.io.png import make_grid, save_image
from minigan.simgan.loss_curve import draw_loss_curve

COLUMNS = ("synthetic", "refined", "real")
HEADER = 14  # pixels of column titles above a sample grid
SNAPSHOT = re.compile(r"iteration_(\d+)\.npz$")
RUN_JOB = "simgan run"
SUMMARY_KEYS = ("realism_loss", "self_regularization", "discriminator_loss", "d_accuracy_real",
                "d_accuracy_refined", "images_per_s")


class RunFolder:
    """Paths and writers of one run folder; ``claim`` holds it for this process."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.samples = os.path.join(self.path, "samples")
        self.checkpoints = os.path.join(self.path, "checkpoints")
        self.config_path = os.path.join(self.path, "config.json")
        self.log_path = os.path.join(self.path, "log.jsonl")
        self.curve_path = os.path.join(self.path, "loss_curve.png")
        self.last_checkpoint = os.path.join(self.checkpoints, "last.npz")

    # -- one process at a time ----------------------------------------------------------------
    def holds_run(self):
        """True when the folder holds a run (its config.json, or a last checkpoint)."""
        return any(os.path.lexists(path) for path in (self.config_path, self.last_checkpoint))

    def claim(self, resume):
        """Hold the folder for this process (``io.folders.claim_folder``): it must be new or
        empty, or, with ``resume``, hold a run. FolderInUse when another process trains in
        it; FileExistsError when it holds a run (and not ``resume``) or other files."""
        return claim_folder(self.path, RUN_JOB, lambda claim: self._check_usable(claim, resume))

    def _check_usable(self, claim, resume):
        if self.holds_run():
            if not resume:
                raise FileExistsError(errno.EEXIST, "already holds a run (resume it, or start "
                                                    "the new one in another folder)", self.path)
        elif claim.names():
            shown = ", ".join(claim.names()[:3]) + (", ..." if len(claim.names()) > 3 else "")
            advice = "resume a run folder" if resume else "train into a new or empty folder"
            raise FileExistsError(errno.EEXIST, f"holds no run, but other files ({shown}); "
                                                f"nothing was written: {advice}", self.path)

    def make_subfolders(self):
        for name in ("samples", "checkpoints"):
            make_subfolders(self.path, name)

    # -- config and log -----------------------------------------------------------------------
    def write_config(self, config_dict):
        write_json(self.config_path, dict(sorted(config_dict.items())))

    def read_config(self):
        """config.json as a dict, or None when the run has not written one; ValueError naming
        the file when it is no JSON object."""
        if not os.path.lexists(self.config_path):
            return None
        try:
            with open_regular(self.config_path, "r") as handle:
                written = json.load(handle)
        except (ValueError, UnicodeDecodeError) as error:
            raise ValueError(f"{self.config_path} is not valid JSON ({error})") from None
        if not isinstance(written, dict):
            raise ValueError(f"{self.config_path} holds a JSON {type(written).__name__}; a run's "
                             "config is an object of its settings")
        return written

    def append_log(self, record):
        """Append one record as a JSON line (NaN/Inf written as null, so every line stays JSON)."""
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                 for k, v in record.items()}
        append_text(self.log_path, json.dumps(clean, allow_nan=False) + "\n")

    def read_log(self):
        """The log's records. A last line cut short (a kill mid-write) is left out; a bad line
        before it, or a line that is no record (an object with a step number ``t``), is a
        ValueError naming the line."""
        if not os.path.lexists(self.log_path):
            return []
        with open_regular(self.log_path, "rb") as handle:
            lines = handle.read().decode("utf-8", errors="replace").split("\n")
        records = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                if number == len(lines):  # the unfinished last line
                    break
                raise ValueError(f"{self.log_path}: line {number} is not a JSON record; the log "
                                 "was changed by something other than minigan") from None
            t = record.get("t") if isinstance(record, dict) else None
            if not isinstance(t, int) or isinstance(t, bool) or t < 1:
                raise ValueError(f"{self.log_path}: line {number} is not a record of a step (an "
                                 "object with an integer \"t\" >= 1); the log was changed by "
                                 "something other than minigan")
            records.append(record)
        return records

    def truncate_log(self, last_t):
        """Keep only the records with ``t <= last_t`` (a resumed run redoes the later steps),
        and drop a last line cut short. Returns the records kept."""
        kept = [r for r in self.read_log() if r["t"] <= last_t]
        with atomic_file(self.log_path, "w") as handle:
            handle.writelines(json.dumps(record) + "\n" for record in kept)
        return kept

    # -- pictures -----------------------------------------------------------------------------
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
        save_image(path, image)
        copy_file(path, os.path.join(self.samples, "latest.png"))
        return path

    def draw_loss_curve(self):
        records = self.read_log()
        if records:
            draw_loss_curve(records, self.curve_path)
        return self.curve_path

    # -- snapshots ----------------------------------------------------------------------------
    def snapshot_path(self, iteration):
        return os.path.join(self.checkpoints, f"iteration_{iteration:06d}.npz")

    def promote(self, snapshot, keep):
        """Make ``snapshot`` the new last.npz and delete all but the newest ``keep`` snapshots.
        A hard link where the file system allows (no copy, no extra space: last.npz is always
        replaced by a new file, never rewritten in place)."""
        tmp = os.path.join(self.checkpoints, temp_prefix("last.npz") + "link")
        try:
            os.link(snapshot, tmp)
            os.replace(tmp, self.last_checkpoint)
        except OSError:
            if os.path.exists(tmp):
                os.remove(tmp)
            copy_file(snapshot, self.last_checkpoint)
        self.prune_snapshots(keep)

    def prune_snapshots(self, keep):
        """Delete all but the newest ``keep`` periodic snapshots."""
        kept = self.snapshots()
        for old in kept[:max(len(kept) - keep, 0)]:
            os.remove(old)

    def snapshots(self):
        """Paths of the periodic snapshots, oldest first."""
        if not os.path.isdir(self.checkpoints):
            return []
        found = sorted((int(m.group(1)), name) for name in os.listdir(self.checkpoints)
                       if (m := SNAPSHOT.match(name)))
        return [os.path.join(self.checkpoints, name) for _, name in found]

    # -- what the user reads at the end -------------------------------------------------------
    def summary(self, last=50):
        """Averages over the last ``last`` iterations, the run's time and where its files are."""
        records = self.read_log()
        adversarial = [r for r in records if r.get("phase") == "adversarial"][-last:]
        means = {}
        for key in SUMMARY_KEYS:
            values = [r[key] for r in adversarial if isinstance(r.get(key), (int, float))]
            if values:
                means[key] = float(np.mean(values))
        return {"iterations_averaged": len(adversarial), "means": means,
                "elapsed_s": records[-1].get("elapsed_s") if records else None,
                "grid": os.path.join(self.samples, "latest.png"), "loss_curve": self.curve_path,
                "checkpoint": self.last_checkpoint, "snapshots": self.snapshots()}
