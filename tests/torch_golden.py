"""PyTorch's answers for the habit tests: live when torch imports, else a recorded golden file.

``tests/golden/make_torch_golden.py`` runs every case of ``tests/test_pytorch_habits.py`` on
torch once and writes the results to ``tests/golden/torch_habits.npz``. ``torch_side(cases)``
gives a function ``key -> torch's result``: with torch present it runs the case live and also
checks that the golden file still says the same (a stale file fails); without torch (CI) it
reads the golden file, so no comparison is skipped.

A result is None, a bool, int, float or str, a NumPy array, a list, or a tuple or str-keyed
dict of results. The file holds no pickle: one JSON text (``structure``) says what each result
is, and the arrays' values lie in one flat array per dtype, found by offset and shape.
"""
import json
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parent / "golden" / "torch_habits.npz"


def encode(results):
    """``{key: result}`` -> the npz entries that hold them."""
    flat = {}

    def tree(value):
        if isinstance(value, tuple):
            return {"tuple": [tree(v) for v in value]}
        if isinstance(value, dict):
            return {"dict": [[name, tree(v)] for name, v in value.items()]}
        if isinstance(value, list):
            return {"list": [tree(v) for v in value]}
        if isinstance(value, np.ndarray):
            parts = flat.setdefault(value.dtype.str, [])
            offset = sum(p.size for p in parts)
            parts.append(value.reshape(-1))
            return {"array": [value.dtype.str, offset, list(value.shape)]}
        if value is None or isinstance(value, (bool, int, float, str)):
            return {"value": value}
        raise TypeError(f"cannot record a {type(value).__name__}")

    structure = {key: tree(value) for key, value in results.items()}
    arrays = {dtype: np.concatenate(parts) for dtype, parts in flat.items()}
    arrays["structure"] = np.asarray(json.dumps(structure))
    return arrays


def load_golden():
    """``{key: result}`` as recorded."""
    with np.load(GOLDEN, allow_pickle=False) as data:
        arrays = dict(data)
    structure = json.loads(arrays.pop("structure").item())

    def value(node):
        (kind, content), = node.items()
        if kind == "tuple":
            return tuple(value(v) for v in content)
        if kind == "dict":
            return {name: value(v) for name, v in content}
        if kind == "list":
            return [value(v) for v in content]
        if kind == "array":
            dtype, offset, shape = content
            size = int(np.prod(shape, dtype=np.int64))
            return arrays[dtype][offset:offset + size].reshape(shape).copy()
        return content

    return {key: value(node) for key, node in structure.items()}


STALE_RTOL = 1e-4


def torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


def torch_side(cases, make_lib, assert_same):
    """``key -> torch's result`` for the ``cases`` (``{key: case(lib)}``): live where torch
    imports (checked against the golden file with ``assert_same``), else from the file."""
    golden = load_golden()
    torch = torch_or_none()

    def result(key):
        if key not in golden:
            raise KeyError(f"{key} is not in {GOLDEN.name}: run python "
                           "tests/golden/make_torch_golden.py where torch is installed")
        if torch is None:
            return golden[key]
        live = cases[key](make_lib(torch))
        # float32 sums round differently with another BLAS thread count or CPU: only a change
        # far above rounding means the file is stale
        assert_same(live, golden[key], f"{key}: the golden file is stale (rerun "
                                       "tests/golden/make_torch_golden.py)", STALE_RTOL)
        return live
    return result
