"""Jobs that join the data to SimGAN (above both; neither knows the other).

    training_data    load_training_data(config): the two datasets a run's config names
    refine_dataset   refine_source(refiner, spec, out_dir): a whole dataset refined to a folder
"""
from minigan.pipelines.refine_dataset import refine_source, source_chunks
from minigan.pipelines.training_data import load_training_data

__all__ = ["load_training_data", "refine_source", "source_chunks"]
