"""Eye data for SimGAN: a procedural renderer, loaders for the real datasets, batching.

    from minigan.data import render_eyes, load_source
    clean = load_source("builtin:synthetic", n=10000, seed=0)   # ArrayDataset
    x, labels = clean.sample(64, rng, device="cuda")

Files: ``eyes`` (the renderer: geometry and labels in ``eye_geometry``, per-style appearance
ranges in ``eye_styles``, texture maps and hair in ``eye_texture``, light in ``eye_shading``,
the photo style's glasses and webcam in ``eye_camera``), ``normalize`` (per-image histogram
equalization, standardization), ``image_statistics`` (how a set of eyes compares with real
data), ``unityeyes``, ``mpiigaze``, ``h5``, ``folder`` (loaders), ``images`` (reading image
files), ``batches`` (``ArrayDataset``), ``sources`` (``load_source`` by name), ``errors``
(``DataError``).
"""
from minigan.data.batches import ArrayDataset, Batch
from minigan.data.bad_files import DataError
from minigan.data.eyes import STYLES, EyeBatch, render_eyes, sample_eye_params
from minigan.data.image_statistics import eye_statistics, format_statistics
from minigan.data.normalize import equalize_histogram, standardize
from minigan.data.sources import load_source, parse_source

__all__ = ["ArrayDataset", "Batch", "DataError", "EyeBatch", "STYLES", "equalize_histogram",
           "eye_statistics", "format_statistics", "load_source", "parse_source", "render_eyes",
           "sample_eye_params", "standardize"]
