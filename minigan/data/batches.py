"""An in-memory dataset of eye images with labels, and seeded minibatches on a device.

    data = ArrayDataset(images, {"gaze": gaze})        # images: (N, 1, H, W) float32
    x, labels = data.sample(64, rng, device="cuda")    # a random batch, moved to the GPU
    for x, labels in data.batches(64, rng=rng): ...    # one shuffled pass over the data

The arrays stay in host memory (NumPy); each batch is copied to the device when it is drawn,
so a dataset larger than the GPU's memory still works.
"""
from typing import Any, Dict, Iterator, Mapping, NamedTuple, Optional, Sequence, Union

import numpy as np

from minigan.backend import to_device


class Batch(NamedTuple):
    """``images``: ``(B, 1, H, W)``; ``labels``: ``name -> (B, ...)``; both on the device."""

    images: Any  # a NumPy or CuPy array, on the batch's device
    labels: Dict[str, Any]


class ArrayDataset:
    """Images ``(N, 1, H, W)`` float32 in [-1, 1] and optional labels ``name -> (N, ...)``.

    ``skipped`` lists the ``DataError``s of files a loader skipped (``skip_bad=True``).
    """

    def __init__(self, images: np.ndarray, labels: Optional[Mapping[str, np.ndarray]] = None,
                 skipped: Optional[Sequence[Exception]] = None):
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[1] != 1:
            raise ValueError(f"ArrayDataset: images must be (N, 1, H, W), got shape {images.shape}")
        self.images = images.astype(np.float32, copy=False)
        self.labels = {}
        for name, values in (labels or {}).items():
            values = np.asarray(values)
            if len(values) != len(images):
                raise ValueError(f"ArrayDataset: label {name!r} has {len(values)} rows "
                                 f"but there are {len(images)} images")
            self.labels[name] = values
        self.skipped = list(skipped or [])

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        shape = "x".join(str(size) for size in self.images.shape[1:])
        return f"ArrayDataset({len(self)} images of {shape}, labels={sorted(self.labels)})"

    def subset(self, indices: Union[np.ndarray, slice]) -> "ArrayDataset":
        """A new dataset with the rows ``indices`` (an index array, a slice or a bool mask)."""
        return ArrayDataset(self.images[indices],
                            {name: values[indices] for name, values in self.labels.items()},
                            skipped=self.skipped)

    def take(self, indices: Union[np.ndarray, slice], device: str = "cpu") -> Batch:
        """``Batch`` of the rows ``indices``, images and labels moved to ``device``."""
        return Batch(to_device(self.images[indices], device),
                     {name: to_device(values[indices], device)
                      for name, values in self.labels.items()})

    def sample(self, batch_size: int, rng: Union[np.random.Generator, int],
               device: str = "cpu") -> Batch:
        """A random ``Batch`` of ``batch_size`` distinct rows (with replacement only when
        ``batch_size > len(self)``), drawn from ``rng`` (a Generator or an int seed)."""
        rng = _generator(rng, "sample")
        if len(self) == 0:
            raise ValueError("sample: the dataset is empty")
        indices = rng.choice(len(self), size=int(batch_size), replace=batch_size > len(self))
        return self.take(indices, device)

    def batches(self, batch_size: int, shuffle: bool = True,
                rng: Union[np.random.Generator, int, None] = None, device: str = "cpu",
                drop_last: bool = False) -> Iterator[Batch]:
        """Iterate once over the data in ``Batch``es of ``batch_size``.

        ``shuffle=True`` needs ``rng`` (a Generator or an int seed) for the order; the last,
        smaller batch is dropped when ``drop_last``.
        """
        if shuffle:
            order = _generator(rng, "batches(shuffle=True)").permutation(len(self))
        else:
            order = np.arange(len(self))
        stop = len(self) - len(self) % batch_size if drop_last else len(self)
        for start in range(0, stop, batch_size):
            yield self.take(order[start:start + batch_size], device)


def _generator(rng, caller):
    if rng is None or isinstance(rng, bool):
        raise ValueError(f"{caller} needs rng: a numpy Generator or an int seed, so batches "
                         "are reproducible")
    return np.random.default_rng(rng)
