"""A result computed once and kept in a file, so a long job that stops goes on where it was.

    errors, reused = computed_once("eval/parts/refined.json", key, lambda: train_and_test(...))

``key`` is anything JSON-able that decides the result (the config, checksums of the data); a
file whose key differs, or that cannot be read, is computed again and replaced. Arrays are kept
with their dtype, so what is read back equals what was computed, bit for bit.
"""
import json
import os
import zlib

import numpy as np

from minigan.io.atomic import write_json


def checksum(array):
    """crc32 of an array's bytes, with its shape and dtype: what a result was computed from."""
    array = np.ascontiguousarray(array)
    return {"shape": list(array.shape), "dtype": str(array.dtype), "crc32": zlib.crc32(array)}


def _to_json(value):
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    return value


def _from_json(value):
    if isinstance(value, dict) and "__array__" in value:
        return np.asarray(value["__array__"], dtype=value["dtype"])
    return value


def computed_once(path, key, compute):
    """``(value, reused)``: ``compute()`` (then saved at ``path``), or the value an earlier call
    with the same ``key`` saved there (``reused`` True)."""
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as handle:
                saved = json.load(handle)
            if saved.get("key") == json.loads(json.dumps(key)):
                return _from_json(saved["value"]), True
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # unreadable: compute it again
    value = compute()
    write_json(path, {"key": key, "value": _to_json(value)}, indent=None)
    return value, False
