"""Refine a whole dataset with a trained refiner, chunk by chunk, labels carried over unchanged.

    refine_source(load_refiner("run/checkpoints/last.npz"), "folder:eyes/synthetic", "eyes/refined")

Output: ``OUT/<name>.png`` (8-bit grayscale) and ``OUT/labels.jsonl`` with one line per image,
``{"file": "<name>.png", ...}``, the format ``minigan.make_eyes`` writes and ``folder:OUT``
reads back.

Memory stays flat on any number of images: only one chunk of ``chunk_size`` images is held at a
time, read or rendered just before it is refined and written.

* ``folder:DIR`` / ``DIR``: images are read a chunk at a time; each output keeps its input's
  name (suffix ``.png``) and its labels line *as it was* (every key, numeric or not).
* ``builtin:STYLE``: the geometry of all ``n`` eyes is drawn from ``seed`` and the style's own
  ranges as ``make_eyes`` does (so the labels are those of ``make_eyes --style STYLE --seed S
  --n N``); images are rendered per chunk.
* other sources (``unityeyes:``, ``mpiigaze:``, ``h5:``): their loaders read the whole set
  first (``minigan.data``), so memory is flat only in the refining and writing.

Resuming. The work goes to ``OUT.partial/``, held by this process alone (``io.folders``), and
renamed to ``OUT`` when every image is written; after each chunk
``OUT.partial/refine-state.json`` records how far it got and what it started from: the
arguments, the refiner (a crc32 of its weights) and the input (a crc32 of a folder's file
names, sizes and times and of its labels file; of a loaded source's arrays). A run that stopped
for any reason (killed, Ctrl-C, a bad file) leaves ``OUT.partial``, and the same call again, on
the same input, continues after its last whole chunk: the result is the files of a run that
never stopped. When any of that differs, the partial folder is refused, never mixed.
"""
import json
import os
import time
import zlib
from typing import List, Optional, Tuple, Union

import numpy as np

from minigan.data.bad_files import BadFiles, DataError
from minigan.data.eyes import render_eyes, sample_eye_params
from minigan.data.folder import LABELS_FILE, folder_index
from minigan.data.images import EYE_SIZE, load_image_gray
from minigan.data.labels import label_lines, label_rows
from minigan.data.sources import DEFAULT_BUILTIN_N, load_source, parse_source
from minigan.io.atomic import append_text, atomic_file, write_json
from minigan.io.folders import PARTIAL_SUFFIX, check_writable_folder, claim_folder
from minigan.io.inputs import open_regular
from minigan.io.interrupt import JobInterrupted, StopRequests
from minigan.io.png import save_png, to_uint8
from minigan.io.progress import Progress
from minigan.simgan.models import Refiner, refine_images

STATE_FILE = "refine-state.json"
REFINE_JOB = "refine"


class RefineInterrupted(JobInterrupted):
    """Refining stopped on Ctrl-C or SIGTERM after a whole chunk; the same call continues."""


def _builtin_chunks(style, n, seed, chunk_size, first):
    params = sample_eye_params(n, np.random.default_rng(seed), style)
    digits = max(5, len(str(n - 1)))
    for number, start in enumerate(range(0, n, chunk_size)):
        if number < first:
            continue
        part = {name: values[start:start + chunk_size] for name, values in params.items()}
        # each chunk its own appearance stream, so chunks do not repeat each other's looks
        batch = render_eyes(len(part["pitch"]), style, seed=seed * 100003 + number + 1, params=part)
        names = [f"{start + i:0{digits}d}.png" for i in range(len(batch))]
        yield names, batch.images, label_rows(batch.labels(), len(batch))


def _folder_chunks(folder, names, rows, chunk_size, bad, first):
    outputs = [os.path.splitext(name)[0] + ".png" for name in names]
    if len(set(outputs)) != len(outputs):
        raise DataError(folder, "two images differ only in their suffix (e.g. a.png and a.jpg); "
                                "their refined .png files would collide")
    for start in range(first * chunk_size, len(names), chunk_size):
        kept, images, label_rows_kept = [], [], []
        for name, out in zip(names[start:start + chunk_size], outputs[start:start + chunk_size]):
            with bad.guard():
                images.append(load_image_gray(os.path.join(folder, name), EYE_SIZE))
                kept.append(out)
                label_rows_kept.append(dict(rows[name]) if rows is not None else {})
        stacked = np.stack(images)[:, None] if images else np.zeros((0, 1) + EYE_SIZE, np.float32)
        yield kept, stacked, label_rows_kept  # (an empty chunk when every file in it was skipped)


def _dataset_chunks(dataset, chunk_size, first):
    digits = max(5, len(str(len(dataset) - 1)))
    for start in range(first * chunk_size, len(dataset), chunk_size):
        part = dataset.subset(slice(start, start + chunk_size))
        names = [f"{start + i:0{digits}d}.png" for i in range(len(part))]
        yield names, part.images, label_rows(part.labels, len(part))


class SourceChunks:
    """The images of ``spec`` in chunks of at most ``chunk_size``: ``total`` images in all, and
    ``chunks(first)`` yields ``(names, images (m, 1, 35, 55) float32, label rows)`` from chunk
    number ``first`` on. ``n`` caps the number of images (builtin: how many to render, default
    10000). Unreadable files go to ``bad`` (a ``BadFiles``) or raise; ``skipped_at_start``
    holds those found before the first chunk (bad label lines, a loaded source's files)."""

    def __init__(self, spec, chunk_size=256, n=None, seed=0, bad=None):
        if isinstance(chunk_size, bool) or int(chunk_size) != chunk_size or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        self.kind, self.argument = parse_source(spec)
        self.spec, self.chunk_size, self.seed = spec, int(chunk_size), seed
        self.bad = BadFiles(False) if bad is None else bad
        if self.kind == "builtin":
            self.total = DEFAULT_BUILTIN_N if n is None else n
        elif self.kind == "folder":
            names, self.rows = folder_index(self.argument, bad=self.bad)
            self.names = names[:n]
            self.total = len(self.names)
        else:
            self.dataset = load_source(spec, n=n, seed=seed, skip_bad=self.bad.skip_bad)
            self.bad.extend(self.dataset.skipped or [])
            self.total = len(self.dataset)
        self.skipped_at_start = [str(error) for error in self.bad]
        del self.bad[:]

    def chunks(self, first=0):
        if self.kind == "builtin":
            return _builtin_chunks(self.argument, self.total, self.seed, self.chunk_size, first)
        if self.kind == "folder":
            return _folder_chunks(self.argument, self.names, self.rows, self.chunk_size,
                                  self.bad, first)
        return _dataset_chunks(self.dataset, self.chunk_size, first)

    def fingerprint(self):
        """crc32 of what the images come from (None for builtin: the arguments decide it)."""
        if self.kind == "builtin":
            return None
        crc = 0
        if self.kind == "folder":
            for name in self.names + [LABELS_FILE]:
                try:
                    info = os.stat(os.path.join(self.argument, name))
                    seen = f"{name} {info.st_size} {info.st_mtime_ns}"
                except OSError:
                    seen = f"{name} missing"
                crc = zlib.crc32(seen.encode(), crc)
            return crc
        crc = zlib.crc32(np.ascontiguousarray(self.dataset.images), crc)
        for key, values in sorted(self.dataset.labels.items()):
            crc = zlib.crc32(key.encode() + np.ascontiguousarray(values).tobytes(), crc)
        return crc


def source_chunks(spec, chunk_size=256, n=None, seed=0, skip_bad=False):
    """Yield the chunks of ``spec`` (see ``SourceChunks``)."""
    return SourceChunks(spec, chunk_size, n, seed, BadFiles(skip_bad)).chunks()


def refiner_fingerprint(refiner):
    """crc32 of the refiner's parameters: which refiner made a partial output."""
    crc = 0
    for name, value in sorted(refiner.state_dict().items()):
        crc = zlib.crc32(name.encode(), crc)
        crc = zlib.crc32(np.ascontiguousarray(value).tobytes(), crc)
    return crc


def _read_state(folder):
    try:
        with open_regular(os.path.join(folder, STATE_FILE), "r") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _must_be_free(out, out_dir):
    if os.path.lexists(out) and not (os.path.isdir(out) and not os.listdir(out)):
        raise ValueError(f"output folder {out_dir} is not empty; refined images go to a new folder")


def _resume_state(claim, out, out_dir, job):
    """Under the lock of ``claim`` (the partial folder): the state of an unfinished refine of
    the same ``job`` there, or a new one; ValueError for a partial folder of something else."""
    _must_be_free(out, out_dir)  # again: another refine may have finished into it meanwhile
    state = _read_state(claim.path)
    if claim.created or not claim.names():
        pass
    elif state is None:
        raise ValueError(f"{claim.path} holds files but no readable {STATE_FILE}: it is not an "
                         "unfinished refine; remove it or choose another --out")
    elif state.get("job") != job:
        found = state.get("job") if isinstance(state.get("job"), dict) else {}
        changed = sorted(key for key in job if found.get(key) != job[key])
        why = ("the input changed since it started" if changed == ["input_crc32"]
               else f"it differs in {', '.join(changed) or 'format'}")
        raise ValueError(f"{claim.path} holds an unfinished refine of another job ({why}); "
                         "finish it with its own arguments and input, or delete the folder to "
                         "start over")
    else:
        return state
    state = {"job": job, "chunks": 0, "count": 0, "skipped": [], "done": False}
    write_json(os.path.join(claim.path, STATE_FILE), state)
    return state


def _keep_labels(path, count):
    """Cut ``labels.jsonl`` to its first ``count`` lines (a chunk written after the last
    recorded state is redone)."""
    lines = []
    if os.path.lexists(path):
        with open_regular(path, "r") as handle:
            lines = handle.read().split("\n")[:count]
    with atomic_file(path, "w") as handle:
        handle.writelines(line + "\n" for line in lines)


def refine_source(refiner: Refiner, spec: str, out_dir: Union[str, os.PathLike],
                  chunk_size: int = 256, n: Optional[int] = None, seed: int = 0,
                  skip_bad: bool = False, progress: Optional[bool] = None,
                  status_every: float = 30.0) -> Tuple[int, List[str]]:
    """Refine every image of ``spec`` into ``out_dir`` (PNGs + labels.jsonl); see the module
    docstring for the resuming.

    Returns ``(count, skipped)``: images written and the messages of skipped files. Raises
    ValueError when ``out_dir`` already holds files (nothing is overwritten), FolderInUse when
    another process refines into it, and ``RefineInterrupted`` on Ctrl-C after the chunk in
    hand is written. ``progress``: a bar (True), a status line every ``status_every`` seconds
    (False), or nothing (None).
    """
    out = os.path.abspath(os.fspath(out_dir))
    bad = BadFiles(skip_bad)
    source = SourceChunks(spec, chunk_size, n, seed, bad)
    job = {"input": spec, "n": n, "seed": seed, "chunk_size": int(chunk_size),
           "refiner_crc32": refiner_fingerprint(refiner), "input_crc32": source.fingerprint()}
    finished = _read_state(out) if os.path.isdir(out) else None
    if finished is not None and finished.get("job") == job and finished.get("done"):
        if os.path.lexists(os.path.join(out, STATE_FILE)):
            os.remove(os.path.join(out, STATE_FILE))  # the one step a killed run had left
        return finished["count"], finished["skipped"]
    _must_be_free(out, out_dir)
    partial = out + PARTIAL_SUFFIX
    check_writable_folder(partial)
    states = []  # what the check under the lock found
    usable = lambda claim: states.append(_resume_state(claim, out, out_dir, job))
    with claim_folder(partial, REFINE_JOB, usable) as claim:
        state = states[0]
        labels_path = os.path.join(partial, LABELS_FILE)
        _keep_labels(labels_path, state["count"])
        report = Progress("refine", {"images": (source.total, state["count"], 1)},
                          bar=bool(progress), every_s=None if progress is None else status_every)
        report.start("images")
        earlier = state["skipped"]
        try:
            with StopRequests() as stop:
                for names, images, rows in source.chunks(state["chunks"]):
                    start = time.perf_counter()
                    _write_chunk(refiner, partial, names, images, rows, labels_path)
                    rate = len(names) / max(time.perf_counter() - start, 1e-9)
                    state["chunks"] += 1
                    state["count"] += len(names)
                    state["skipped"] = earlier + [str(error) for error in bad]
                    write_json(os.path.join(partial, STATE_FILE), state)
                    report.advance(len(names), figures={"img/s": rate})
                    if stop.requested and state["chunks"] * source.chunk_size < source.total:
                        raise RefineInterrupted(
                            f"{stop.requested}: refining stopped after {state['count']} of "
                            f"{source.total} images, kept in {partial}; the same command "
                            "continues")
        except BaseException:
            if state["chunks"] == 0:  # nothing to keep
                claim.discard()
            raise
        finally:
            report.close()
        state["done"] = True  # then: the folder gets its name, and loses the state file
        state["skipped"] = source.skipped_at_start + state["skipped"]
        write_json(os.path.join(partial, STATE_FILE), state)
        _must_be_free(out, out_dir)
        os.replace(partial, out)   # while the lock is held
        claim.path = out
        os.remove(os.path.join(out, STATE_FILE))
    return state["count"], state["skipped"]


def _write_chunk(refiner, folder, names, images, rows, labels_path):
    if not names:
        return
    refined = to_uint8(refine_images(refiner, images))
    for name, image in zip(names, refined):
        save_png(os.path.join(folder, name), image)
    append_text(labels_path, label_lines(names, rows))
