"""Files: arrays to .npz without pickle, written atomically; images to 8-bit PNG and grids."""
from minigan.io.npz import load_npz, save_npz
from minigan.io.png import from_uint8, make_grid, save_grid, save_png, to_uint8

__all__ = ["load_npz", "save_npz", "from_uint8", "to_uint8", "make_grid", "save_grid", "save_png"]
