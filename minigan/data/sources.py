"""One string names any eye data minigan can read: ``load_source(spec) -> ArrayDataset``.

    builtin:synthetic     the procedural renderer, clean style (n images, default 10000)
    builtin:photo         the procedural renderer, camera-like stand-in for real images
    unityeyes:DIR         UnityEyes renders (N.jpg + N.json)
    mpiigaze:DIR          MPIIGaze normalized .mat files (DIR/Data/Normalized/pXX/dayYY.mat)
    h5:FILE               an HDF5 pack (gaze.h5 / real_gaze.h5)
    folder:DIR or DIR     a folder of PNG/JPG images, optional labels.jsonl

Every source gives images ``(N, 1, 35, 55)`` float32 in [-1, 1]; labels where the format has
them (``gaze`` ``(N, 3)`` in minigan's camera convention, see ``eye_geometry``).
"""
import os
from typing import Optional, Tuple

from minigan.data.batches import ArrayDataset
from minigan.data.eyes import STYLES, render_eyes
from minigan.data.folder import load_folder
from minigan.data.h5 import load_h5
from minigan.data.mpiigaze import load_mpiigaze
from minigan.data.unityeyes import load_unityeyes

DEFAULT_BUILTIN_N = 10000
LOADERS = {"unityeyes": load_unityeyes, "mpiigaze": load_mpiigaze, "h5": load_h5,
           "folder": load_folder}
FORMS = ("builtin:synthetic", "builtin:photo", "unityeyes:DIR", "mpiigaze:DIR", "h5:FILE",
         "folder:DIR", "DIR (a folder of images)")


def parse_source(spec: str) -> Tuple[str, str]:
    """``spec`` -> ``(kind, argument)``, e.g. ``('mpiigaze', '/data/MPIIGaze')``; ``~`` expands.

    Raises ``ValueError`` listing the accepted forms when ``spec`` fits none.
    """
    spec = str(spec)
    kind, separator, argument = spec.partition(":")
    if separator and kind == "builtin":
        if argument in STYLES:
            return kind, argument
    elif separator and kind in LOADERS and argument:
        return kind, os.path.expanduser(argument)
    spec = os.path.expanduser(spec)
    if os.path.isdir(spec):
        return "folder", spec
    if os.path.isfile(spec) and spec.lower().endswith((".h5", ".hdf5")):
        return "h5", spec
    raise ValueError(f"unknown data source {spec!r}: expected one of {', '.join(FORMS)} "
                     "(a bare path must be an existing folder or .h5 file)")


def load_source(spec: str, n: Optional[int] = None, seed: int = 0,
                skip_bad: bool = False) -> ArrayDataset:
    """Load the data named by ``spec`` (see module docstring) as an ``ArrayDataset``.

    ``n``: how many images (builtin: rendered, default 10000; files: at most, in file
    order). ``seed``: the renderer's seed (files are read deterministically). ``skip_bad``:
    skip unreadable files and list them in ``dataset.skipped`` instead of raising.
    """
    kind, argument = parse_source(spec)
    if kind == "builtin":
        batch = render_eyes(DEFAULT_BUILTIN_N if n is None else n, style=argument, seed=seed)
        return ArrayDataset(batch.images, batch.labels())
    return LOADERS[kind](argument, n=n, skip_bad=skip_bad)
