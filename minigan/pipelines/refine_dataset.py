"""Refine a whole dataset with a trained refiner, chunk by chunk, labels carried over unchanged.

    refine_source(load_refiner("run/checkpoints/last.npz"), "folder:eyes/synthetic", "eyes/refined")

Output: ``OUT/<name>.png`` (8-bit grayscale) and ``OUT/labels.jsonl`` with one line per image,
``{"file": "<name>.png", ...}``, the format ``minigan.make_eyes`` writes and ``folder:OUT``
reads back.

Memory stays flat on any number of images: only one chunk of ``chunk_size`` images is held at a
time, read or rendered just before it is refined and written.

* ``folder:DIR`` / ``DIR``: images are read a chunk at a time; each output keeps its input's
  name (suffix ``.png``) and its labels line *as it was* (every key, numeric or not).
* ``builtin:STYLE``: the geometry of all ``n`` eyes is drawn from ``seed`` as ``make_eyes`` does
  (so the labels are the same as ``make_eyes --seed S --n N``); images are rendered per chunk.
* other sources (``unityeyes:``, ``mpiigaze:``, ``h5:``): their loaders read the whole set
  first (``minigan.data``), so memory is flat only in the refining and writing.
"""
import json
import os

import numpy as np

from minigan.data.errors import BadFiles, DataError
from minigan.data.eyes import render_eyes, sample_eye_params
from minigan.data.folder import LABELS_FILE, list_images, read_labels
from minigan.data.images import EYE_SIZE, load_image_gray
from minigan.io.png import save_png, to_uint8
from minigan.data.sources import DEFAULT_BUILTIN_N, load_source, parse_source
from minigan.simgan.models import refine_images


def _label_rows(labels, count):
    """``name -> (m, ...)`` arrays -> m dicts of plain lists, rounded as ``write_folder`` does."""
    rounded = {key: np.round(np.asarray(values, dtype=np.float64), 6).tolist()
               for key, values in labels.items()}
    return [{key: values[i] for key, values in rounded.items()} for i in range(count)]


def _builtin_chunks(style, n, seed, chunk_size):
    params = sample_eye_params(n, np.random.default_rng(seed))
    digits = max(5, len(str(n - 1)))
    for number, start in enumerate(range(0, n, chunk_size)):
        part = {name: values[start:start + chunk_size] for name, values in params.items()}
        # each chunk its own appearance stream, so chunks do not repeat each other's looks
        batch = render_eyes(len(part["pitch"]), style, seed=seed * 100003 + number + 1, params=part)
        names = [f"{start + i:0{digits}d}.png" for i in range(len(batch))]
        yield names, batch.images, _label_rows(batch.labels(), len(batch))


def _folder_chunks(folder, n, chunk_size, bad):
    names = list_images(folder)[:n]
    label_path = os.path.join(folder, LABELS_FILE)
    rows = read_labels(label_path, bad) if os.path.exists(label_path) else None
    outputs = [os.path.splitext(name)[0] + ".png" for name in names]
    if len(set(outputs)) != len(outputs):
        raise DataError(folder, "two images differ only in their suffix (e.g. a.png and a.jpg); "
                                "their refined .png files would collide")
    for start in range(0, len(names), chunk_size):
        kept, images, label_rows = [], [], []
        for name, out in zip(names[start:start + chunk_size], outputs[start:start + chunk_size]):
            path = os.path.join(folder, name)
            with bad.guard():
                if rows is not None and name not in rows:
                    raise DataError(path, f"has no line in {label_path}")
                images.append(load_image_gray(path, EYE_SIZE))
                kept.append(out)
                label_rows.append(dict(rows[name]) if rows is not None else {})
        if images:
            yield kept, np.stack(images)[:, None], label_rows


def _dataset_chunks(dataset, chunk_size):
    digits = max(5, len(str(len(dataset) - 1)))
    for start in range(0, len(dataset), chunk_size):
        part = dataset.subset(slice(start, start + chunk_size))
        names = [f"{start + i:0{digits}d}.png" for i in range(len(part))]
        yield names, part.images, _label_rows(part.labels, len(part))


def source_chunks(spec, chunk_size=256, n=None, seed=0, skip_bad=False, bad=None):
    """Yield ``(names, images (m, 1, 35, 55) float32, label rows)`` of ``spec``, m <= chunk_size.

    ``n`` caps the number of images (builtin: how many to render, default 10000).
    """
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    kind, argument = parse_source(spec)
    bad = BadFiles(skip_bad) if bad is None else bad
    if kind == "builtin":
        return _builtin_chunks(argument, DEFAULT_BUILTIN_N if n is None else n, seed, chunk_size)
    if kind == "folder":
        return _folder_chunks(argument, n, chunk_size, bad)
    return _dataset_chunks(load_source(spec, n=n, seed=seed, skip_bad=skip_bad), chunk_size)


def refine_source(refiner, spec, out_dir, chunk_size=256, n=None, seed=0, skip_bad=False,
                  progress=None):
    """Refine every image of ``spec`` into ``out_dir`` (PNGs + labels.jsonl).

    Returns ``(count, skipped)``: images written and the ``DataError``s of skipped files.
    ``progress``: an optional callable ``progress(m)`` told after each chunk of m images.
    Raises ValueError when ``out_dir`` already holds files (nothing is overwritten).
    """
    if os.path.isdir(out_dir) and os.listdir(out_dir):
        raise ValueError(f"output folder {out_dir} is not empty; refined images go to a new folder")
    os.makedirs(out_dir, exist_ok=True)
    bad = BadFiles(skip_bad)
    count = 0
    with open(os.path.join(out_dir, LABELS_FILE), "w", encoding="utf-8") as labels_file:
        for names, images, rows in source_chunks(spec, chunk_size, n, seed, skip_bad, bad):
            refined = to_uint8(refine_images(refiner, images))
            for name, image, row in zip(names, refined, rows):
                save_png(os.path.join(out_dir, name), image)
                labels_file.write(json.dumps({"file": name, **row}) + "\n")
            count += len(names)
            if progress is not None:
                progress(len(names))
    return count, list(bad)
