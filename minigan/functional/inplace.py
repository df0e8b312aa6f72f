"""How in-place ops (``t += x``, ``t.add_(x)``, ``t.zero_()``, ``t[i] = v`` ...) change t itself.

``t.op_(...)`` computes y = op(t, ...) with the out-of-place op and makes y t's values, as in
PyTorch, in one of two ways:

* **no graph is recorded** (under ``no_grad()``, or nothing involved requires grad): y is
  written into t's own memory, so every tensor sharing it (a view, ``detach()``, the array of
  ``numpy()``) sees the change, and t's version counts up: a later ``backward()`` through an
  op that used the old values raises;
* **the op joins the graph**: t becomes the op's output. Its old values and history move to a
  hidden tensor, the op's input, and t gets new memory. Tensors that shared the old memory (a
  view of t, ``detach()``, t's base when t is a view) become stale: using one raises, where
  PyTorch would have changed it too. An op that used t before refuses ``backward()`` (t's
  version changed). A leaf that requires grad, or a view of one, refuses, as in PyTorch.

``no_grad(): p -= lr * p.grad`` is therefore the manual SGD step; ``optim.SGD`` does the same.
Each in-place op sits beside its out-of-place op (``add_`` beside ``add``).
"""
import numpy as np

from minigan.autograd import Tensor, is_grad_enabled, no_grad

LEAF_IN_PLACE = "a leaf Variable that requires grad is being used in an in-place operation."


def in_place(t, op, *args):
    """t's values become ``op(t, *args)`` (a Tensor of t's shape); returns t."""
    if not isinstance(t, Tensor):
        raise TypeError(f"in-place ops need a Tensor, got {type(t).__name__}")
    records = is_grad_enabled() and (t.requires_grad or any(
        isinstance(a, Tensor) and a.requires_grad for a in args))
    if not records:
        with no_grad():
            _write(t, op(t, *args).data)
        return t
    if t.requires_grad and t.is_leaf:
        raise RuntimeError(f"{LEAF_IN_PLACE} Do it under minigan.no_grad() (an update of the "
                           "parameter), or out of place: y = t + x")
    base = t._base
    if base is not None and base.requires_grad and base.is_leaf:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    old = Tensor.wrap(t.data)
    old.creator, old._requires_grad = t.creator, t.requires_grad
    old._version_counter.value = t._version
    out = op(old, *args)
    _check_fits(t, out.data)
    if out.dtype != t.dtype:
        raise RuntimeError(f"result type {out.dtype} can't be cast to the desired output "
                           f"type {t.dtype} in an in-place op that is recorded in the graph")
    t._move_to_new_memory(out.data)   # the old array stays with ``old``, whose op saved it
    t.creator, t._requires_grad = out.creator, out.requires_grad
    if t.creator is not None:
        t.creator.output_version = t._version
    return t


def _check_fits(t, values):
    if values.shape != t.shape:
        raise RuntimeError(f"output with shape {t.shape} doesn't match the broadcast shape "
                           f"{values.shape}")
    if values.dtype != t.dtype and not np.can_cast(values.dtype, t.dtype, "same_kind"):
        raise RuntimeError(f"result type {values.dtype} can't be cast to the desired output "
                           f"type {t.dtype}")


def _write(t, values):
    """``values`` into t's own memory, and t's version counts up."""
    _check_fits(t, values)
    array = t.data
    if isinstance(array, np.generic) or not getattr(array.flags, "writeable", True):
        t._move_to_new_memory(values.astype(t.dtype))   # a NumPy scalar, a read-only array
        return
    array[...] = values
    t._version_counter.value += 1
