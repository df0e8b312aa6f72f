"""The paper's experiments (section 3.1), rebuilt on minigan: does refining help?

    metrics         angular_error, percent_within, cumulative_error_curve, pupil_centers,
                    pupil_shift, binomial_p_value
    gaze_estimator  GazeEstimator (the paper's CNN), train_gaze_estimator, predict_gaze
    eval_data       the evaluation's images, rendered from seeds SimGAN never trains on
    gaze_eval       evaluate_refiner: Table 2, Figure 7, pupil shift and realism for one refiner
    realism         critic_accuracy: a fresh critic's held-out accuracy, set A vs set B
    turing_page     make_turing_page: the visual Turing test (Table 1) as one HTML file
    curve_plot      draw_cumulative_curves: Figure 7 with matplotlib
    ablation_study  run_ablations: no history buffer, global adversarial loss, lambda sweep
    gaze_study_protocol, gaze_study_run, gaze_study_report
                    the gaze study: replicate seeds x estimator seeds, every control row,
                    SimGAN at fixed iterations, ablation arms; run_study -> tables
    statistics      t_interval, paired_difference: intervals over seeds

Commands: ``python -m minigan.evaluate_gaze``, ``python -m minigan.turing``,
``python -m minigan.ablations``, ``python -m minigan.gaze_study``.
"""
from minigan.experiments.ablation_study import ablation_configs, ablation_variants, run_ablations
from minigan.experiments.gaze_study_protocol import ABLATIONS, Arm, StudyConfig
from minigan.experiments.gaze_study_report import run_study
from minigan.experiments.curve_plot import draw_cumulative_curves
from minigan.experiments.gaze_estimator import (ESTIMATOR_PRESETS, GazeEstimator, gaze_loss,
                                                predict_gaze, train_gaze_estimator)
from minigan.experiments.gaze_eval import (GazeEvalConfig, evaluate_refiner, format_report)
from minigan.experiments.metrics import (angular_error, binomial_p_value,
                                         cumulative_error_curve, percent_within, pupil_centers,
                                         pupil_shift)
from minigan.experiments.realism import Critic, CriticConfig, critic_accuracy, realism_report
from minigan.experiments.statistics import paired_difference, t_interval
from minigan.experiments.turing_page import load_turing_images, make_turing_page

__all__ = ["GazeEstimator", "ESTIMATOR_PRESETS", "gaze_loss", "train_gaze_estimator",
           "predict_gaze", "GazeEvalConfig", "evaluate_refiner", "format_report",
           "angular_error", "percent_within", "cumulative_error_curve", "pupil_centers",
           "pupil_shift", "binomial_p_value", "Critic", "CriticConfig", "critic_accuracy",
           "realism_report", "make_turing_page", "load_turing_images", "draw_cumulative_curves",
           "ablation_configs", "ablation_variants", "run_ablations", "ABLATIONS", "Arm",
           "StudyConfig", "run_study", "paired_difference", "t_interval"]
