"""Files and long jobs: what is written is whole or absent, and a job says where it is.

    npz        arrays to .npz without pickle, written atomically; clear errors for other files
    png        images to 8-bit PNGs and grids
    figure     plots: matplotlib figures (Agg, no pyplot) to PNGs
    atomic     write to a temporary file, then rename; append without following a link
    folders    one writer per output folder (create or claim, lock, clean only its own);
               a new folder that appears whole or not at all
    inputs     a user's file opened for reading: a regular file, never a FIFO that hangs
    memo       a result computed once and kept, so a stopped job goes on where it was
    progress   a bar or plain status lines with one ETA for a job of phases
    interrupt  Ctrl-C (SIGINT, SIGTERM) as a request to stop at a safe point
"""
from minigan.io.npz import load_npz, save_npz
from minigan.io.png import from_uint8, make_grid, save_grid, save_png, to_uint8

__all__ = ["load_npz", "save_npz", "from_uint8", "to_uint8", "make_grid", "save_grid", "save_png"]
