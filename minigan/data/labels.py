"""Eye labels: the one reader and writer of ``labels.jsonl``, and the check of label arrays
that every loader makes.

    labels.jsonl    one JSON object per line: {"file": "00000.png", "gaze": [x, y, z], ...}

A label is a key with numeric values. The known ones have a fixed shape; any other key that is
numeric on some line is a label too, with the shape most of its lines give it:

    gaze (3,)   pupil_center (2,)   iris_radius ()   eyelid_landmarks (16, 2)   head_pose (3,)
    eye ()

Every value of a label is a finite number (not a bool, not a string): JSON has no NaN or
Infinity, so ``NaN``, ``Infinity`` and numbers that overflow to infinity (``1e999``) are refused.
A line that breaks this (a label missing, of another shape or type, a file named twice) stops
the loader with ``DataError`` naming the file and the line, or with ``skip_bad`` is counted and
its image left out. Keys that are never numeric (a camera name, ...) are carried along as they
are. Labels are written as standard JSON, rounded to 6 digits.
"""
import json
import math
import os
from collections import Counter

import numpy as np

from minigan.data.bad_files import DataError
from minigan.io.atomic import atomic_file
from minigan.io.inputs import open_regular

LABEL_SHAPES = {"gaze": (3,), "pupil_center": (2,), "iris_radius": (), "eyelid_landmarks": (16, 2),
                "head_pose": (3,), "eye": ()}


FLOAT32_MAX = float(np.finfo(np.float32).max)


class _Refused(ValueError):
    pass


def _no_constant(name):
    raise _Refused(f"{name} is not a number JSON allows")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text} is too large to be a label (it overflows)")
    return value


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numeric(value):
    """True for a number or a (nested) list whose leaves are all numbers."""
    if isinstance(value, list):
        return bool(value) and all(_numeric(item) for item in value)
    return _is_number(value)


def _array(value):
    """A numeric value as float64, or None when it is ragged or beyond float32's range."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, OverflowError):
        return None
    return array if np.all(np.abs(array) <= FLOAT32_MAX) else None


def parse_line(line, path, number):
    """One line of a labels file -> ``(file name, row)``; ``DataError`` naming the line."""
    try:
        row = json.loads(line, parse_constant=_no_constant, parse_float=_finite_float)
    except _Refused as error:
        raise DataError(path, f"line {number}: {error}") from None
    except json.JSONDecodeError as error:
        raise DataError(path, f"line {number} is not JSON ({error})") from None
    if not isinstance(row, dict) or not isinstance(row.get("file"), str) or not row["file"]:
        raise DataError(path, f'line {number}: expected an object with a "file" name')
    name = row.pop("file")
    if name in (".", "..") or "/" in name or "\\" in name or os.sep in name:
        raise DataError(path, f"line {number}: \"file\" is {name!r}; expected the name of an "
                              "image in the labels file's own folder, not a path")
    return name, row


def label_shapes(rows):
    """``{key: shape}`` of the labels among ``rows`` (dicts): the known keys that appear, and
    every other key that is numeric on some row, with its most common shape."""
    shapes, seen = {}, {}
    for row in rows:
        for key, value in row.items():
            if key in LABEL_SHAPES:
                shapes[key] = LABEL_SHAPES[key]
            elif _numeric(value) and _array(value) is not None:
                seen.setdefault(key, Counter())[_array(value).shape] += 1
    for key, counts in seen.items():
        shapes.setdefault(key, counts.most_common(1)[0][0])
    return shapes


def check_row(row, shapes, path, number):
    """``DataError`` naming the line unless ``row`` holds every label of ``shapes`` as finite
    numbers of that shape."""
    for key, shape in shapes.items():
        if key not in row:
            raise DataError(path, f"line {number}: label {key!r} is missing (every line needs "
                                  "the same labels)")
        value = row[key]
        array = _array(value) if _numeric(value) else None
        if array is None or array.shape != shape:
            raise DataError(path, f"line {number}: label {key!r} is {json.dumps(value)[:60]}; "
                                  f"expected {_describe(shape)} (finite, within float32)")


def _describe(shape):
    if shape == ():
        return "a number"
    return f"numbers of shape {list(shape)}" if len(shape) > 1 else f"a list of {shape[0]} numbers"


def read_labels(path, bad):
    """``{file name: row}`` of a labels file, in its order, every row checked (see the module
    docstring); a bad line raises ``DataError``, or goes to ``bad`` (a ``BadFiles``) when it
    skips. A path that is no regular file (a FIFO ...) is refused, not waited on."""
    try:
        with open_regular(path, "r") as handle:
            lines = handle.read().split("\n")
    except UnicodeDecodeError as error:
        raise DataError(path, f"not a UTF-8 text file ({error})") from None
    except OSError as error:
        raise DataError(path, error.strerror or str(error)) from None
    parsed, lines_of = [], {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        with bad.guard():
            name, row = parse_line(line, path, number)
            if name in lines_of:
                raise DataError(path, f"line {number}: {name!r} is listed already on line "
                                      f"{lines_of[name]}")
            lines_of[name] = number
            parsed.append((number, name, row))
    shapes = label_shapes([row for _, _, row in parsed])
    rows = {}
    for number, name, row in parsed:
        with bad.guard():
            check_row(row, shapes, path, number)
            rows[name] = row
    return rows


def label_arrays(rows, path):
    """Checked rows (a list of dicts) -> ``{label: (N, ...) float32}`` (an ``int8`` for eye)."""
    shapes = label_shapes(rows)
    labels = {}
    for key in shapes:
        values = np.asarray([row[key] for row in rows], dtype=np.float32)
        labels[key] = values.astype(np.int8) if key == "eye" else values
    check_label_arrays(labels, path)
    return labels


def check_label_arrays(labels, path, what="labels"):
    """``DataError`` naming ``path`` unless every array of ``labels`` (``{name: (N, ...)}``) is
    numeric, finite and, for a known label, of its shape."""
    for key, values in labels.items():
        values = np.asarray(values)
        if values.dtype.kind not in "fiu":
            raise DataError(path, f"{what}: {key!r} has dtype {values.dtype}; expected numbers")
        if key in LABEL_SHAPES and values.shape[1:] != LABEL_SHAPES[key]:
            raise DataError(path, f"{what}: {key!r} has shape {values.shape}; expected "
                                  f"(N, {', '.join(map(str, LABEL_SHAPES[key]))})")
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            row = int(np.argwhere(~np.isfinite(values.reshape(len(values), -1)))[0][0])
            raise DataError(path, f"{what}: {key!r} of item {row} is NaN or infinite")


def label_rows(labels, count):
    """``{name: (m, ...)}`` arrays -> m dicts of plain lists, rounded to 6 digits."""
    rounded = {key: np.round(np.asarray(values, dtype=np.float64), 6).tolist()
               for key, values in labels.items()}
    return [{key: values[i] for key, values in rounded.items()} for i in range(count)]


def label_lines(names, rows):
    """``labels.jsonl`` text for ``names`` and their rows; standard JSON only (ValueError for
    a NaN or Infinity)."""
    return "".join(json.dumps({"file": name, **row}, allow_nan=False) + "\n"
                   for name, row in zip(names, rows))


def write_labels(path, names, rows):
    """Write ``labels.jsonl`` at ``path`` atomically."""
    text = label_lines(names, rows)
    with atomic_file(path, "w") as handle:
        handle.write(text)
