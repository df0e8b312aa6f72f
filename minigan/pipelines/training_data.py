"""The two datasets a SimGAN run trains on, as its config names them (data joined to simgan)."""
from minigan.data.sources import load_source


def load_training_data(config, skip_bad=False):
    """``(synthetic, real)`` ArrayDatasets named by ``config.synthetic`` / ``config.real``.

    The built-in renderer draws the real (photo) set from ``seed + 1``, so the two sets never
    share an eye geometry: SimGAN's data are unpaired. Raises ``minigan.data.DataError`` (a
    ValueError) naming the file or spec that cannot be read.
    """
    synthetic = load_source(config.synthetic, n=config.n_synthetic, seed=config.seed,
                            skip_bad=skip_bad)
    real = load_source(config.real, n=config.n_real, seed=config.seed + 1, skip_bad=skip_bad)
    return synthetic, real
