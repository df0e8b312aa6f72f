"""Eye data for SimGAN: a procedural renderer, loaders for the real datasets, batching.

    from minigan.data import render_eyes, load_source
    clean = load_source("builtin:synthetic", n=10000, seed=0)   # ArrayDataset
    x, labels = clean.sample(64, rng, device="cuda")

Files: ``eyes`` (renderer; geometry in ``eye_geometry``, looks in ``eye_styles``),
``unityeyes``, ``mpiigaze``, ``h5``, ``folder`` (loaders), ``images`` (uint8 <-> [-1, 1],
PNG grids), ``batches`` (``ArrayDataset``), ``sources`` (``load_source`` by name),
``errors`` (``DataError``).
"""
from minigan.data.batches import ArrayDataset, Batch
from minigan.data.errors import DataError
from minigan.data.eyes import STYLES, EyeBatch, render_eyes, sample_eye_params
from minigan.data.sources import load_source, parse_source

__all__ = ["ArrayDataset", "Batch", "DataError", "EyeBatch", "STYLES", "load_source",
           "parse_source", "render_eyes", "sample_eye_params"]
