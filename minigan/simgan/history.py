"""The history of refined images (section 2.3 of the paper) and saving a generator's state.

``ImageHistoryBuffer(size, image_shape, rng)`` holds up to ``size`` = B refined images. Each
discriminator step of mini-batch size b uses

    k = min(b/2, len(buffer)) images drawn at random from the buffer (distinct slots)
    b - k images freshly refined by the current R

and after the step ``push`` stores b/2 of the fresh ones: into empty slots, in order, while the
buffer is filling; into b/2 distinct random slots once it is full. So the very first step (empty
buffer) uses b fresh images, and from the moment the buffer holds b/2 images every D batch is half
history, half fresh, as in the paper. A freshly pushed image is never drawn in the same step,
because the draw happens before the push.

The buffer's images and the state of its generator go into the checkpoint (``state_dict``).
"""
import json

import numpy as np

from minigan.autograd import Tensor
from minigan.backend import device_of, get_array_module, to_device, to_numpy


def generator_state(rng):
    """A numpy Generator's exact state as a 0-d unicode array (JSON; no pickle needed)."""
    return np.array(json.dumps(rng.bit_generator.state))


def generator_from_state(array):
    """Inverse of ``generator_state``: a new Generator in exactly that state."""
    state = json.loads(str(np.asarray(array)[()]))
    bit_generator = getattr(np.random, state["bit_generator"], None)
    if bit_generator is None:
        raise ValueError(f"unknown bit generator {state['bit_generator']!r} in a saved RNG state")
    rng = np.random.Generator(bit_generator())
    rng.bit_generator.state = state
    return rng


class ImageHistoryBuffer:
    """A fixed-size store of past refined images.

    size: B (>= 1). image_shape: (C, H, W). rng: numpy Generator for slots and draws.
    device: where the images live ("cpu" | "cuda"); draws come back on that device.
    """

    def __init__(self, size, image_shape, rng, device="cpu", dtype=np.float32):
        if isinstance(size, bool) or int(size) != size or size < 1:
            raise ValueError(f"ImageHistoryBuffer: size must be a positive integer, got {size!r}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError("ImageHistoryBuffer: rng must be a numpy Generator "
                            f"(np.random.default_rng(seed)), got {type(rng).__name__}")
        self.size = int(size)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.rng = rng
        self.images = to_device(np.zeros((self.size,) + self.image_shape, dtype=dtype), device)
        self.count = 0  # slots 0 .. count-1 hold images

    def __len__(self):
        return self.count

    @property
    def full(self):
        return self.count == self.size

    def sample(self, n):
        """Up to ``n`` images from distinct random slots: (min(n, len), C, H, W) on the device."""
        k = min(int(n), self.count)
        slots = np.sort(self.rng.choice(self.count, size=k, replace=False)) if k else []
        return self.images[self._index(slots)]

    def push(self, images):
        """Store ``images`` (m, C, H, W): empty slots first, in order, then random full slots."""
        images = images.data if isinstance(images, Tensor) else images
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(f"ImageHistoryBuffer.push: images must be (m, *{self.image_shape}), "
                             f"got shape {tuple(images.shape)}")
        m = len(images)
        if m > self.size:
            raise ValueError(f"ImageHistoryBuffer.push: {m} images do not fit a buffer of "
                             f"{self.size}")
        fill = min(m, self.size - self.count)
        if fill:
            self.images[self.count:self.count + fill] = images[:fill]
            self.count += fill
        if fill < m:
            # the rest overwrites distinct random slots among the ones filled *before* this push,
            # so no image of this push replaces another one of it
            # (m <= size guarantees that there are enough of those)
            older = self.count - fill
            slots = self.rng.choice(older, size=m - fill, replace=False)
            self.images[self._index(slots)] = images[fill:]

    def _index(self, slots):
        xp = get_array_module(self.images)
        return xp.asarray(np.asarray(slots, dtype=np.int64))

    # -- checkpointing ----------------------------------------------------------------------
    def state_dict(self):
        """``{"images": (count, C, H, W), "size": B, "rng": generator state}`` as NumPy arrays."""
        return {"images": to_numpy(self.images[:self.count]).copy(),
                "size": np.asarray(self.size), "rng": generator_state(self.rng)}

    def load_state_dict(self, state):
        """Restore what ``state_dict`` returned; raises ValueError on a size/shape mismatch."""
        images = np.asarray(state["images"])
        if int(state["size"]) != self.size:
            raise ValueError(f"ImageHistoryBuffer.load_state_dict: saved size {int(state['size'])}"
                             f", this buffer's size {self.size}")
        if (images.ndim != 4 or tuple(images.shape[1:]) != self.image_shape
                or len(images) > self.size):
            raise ValueError(f"ImageHistoryBuffer.load_state_dict: saved images have shape "
                             f"{images.shape}, expected (<= {self.size}, *{self.image_shape})")
        self.count = len(images)
        self.images[:] = 0
        self.images[:self.count] = to_device(images.astype(self.images.dtype),
                                             device_of(self.images))
        self.rng = generator_from_state(state["rng"])
