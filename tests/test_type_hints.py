"""The public API of the data, the trainer, the pipelines and the experiments the programs call
is annotated: every parameter and every return, with names that resolve (``get_type_hints``)."""
import inspect
import typing

import pytest

from minigan.data import batches, degrade, eye_geometry, eyes, folder, h5, image_statistics
from minigan.data import mpiigaze, normalize, sources, unityeyes
from minigan.experiments import ablation_study, gaze_eval, gaze_study_report, turing_page
from minigan.pipelines import refine_dataset, training_run
from minigan.simgan import trainer

API = [
    eyes.render_eyes, eyes.EyeBatch.labels, eye_geometry.sample_eye_params,
    batches.ArrayDataset.__init__, batches.ArrayDataset.subset, batches.ArrayDataset.take,
    batches.ArrayDataset.sample, batches.ArrayDataset.batches,
    sources.parse_source, sources.load_source, folder.load_folder, folder.write_folder,
    h5.load_h5, mpiigaze.load_mpiigaze, unityeyes.load_unityeyes,
    image_statistics.eye_statistics, image_statistics.format_statistics,
    normalize.equalize_histogram, normalize.standardize, normalize.normalize, degrade.degrade,
    trainer.train,
    training_run.new_run, training_run.resumed_run, training_run.train_run,
    training_run.format_summary, refine_dataset.refine_source,
    ablation_study.ablation_configs, ablation_study.run_ablations,
    gaze_eval.evaluate_refiner, gaze_eval.format_report,
    gaze_study_report.run_study, gaze_study_report.format_summary,
    turing_page.make_turing_page, turing_page.load_turing_images,
]


@pytest.mark.parametrize("function", API, ids=lambda f: f"{f.__module__}.{f.__qualname__}")
def test_every_parameter_and_return_is_annotated(function):
    signature = inspect.signature(function)
    bare = [name for name, parameter in signature.parameters.items()
            if name != "self" and parameter.annotation is inspect.Parameter.empty]
    assert not bare, f"parameters without a type hint: {bare}"
    if function.__name__ != "__init__":
        assert signature.return_annotation is not inspect.Signature.empty, "no return type hint"
    typing.get_type_hints(function)  # every name in the hints resolves
