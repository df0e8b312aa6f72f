"""The gaze study at toy sizes: every control row, the gap split, the factor rows, paired
seeds, chosen seeds, resuming, refusals."""
import json

import numpy as np
import pytest

from minigan import gaze_study
from minigan.experiments import gaze_study_run as study_module
from minigan.experiments.gaze_study_protocol import ABLATIONS, StudyConfig
from minigan.experiments.gaze_study_report import run_study


def tiny(**changes):
    return StudyConfig.preset("tiny", device="cpu", **changes)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("benchmark")
    return out, run_study(tiny(), out, log=None, progress=None)


def test_the_table_has_every_control_row_and_the_curve(finished):
    out, summary = finished
    keys = [row["key"] for row in summary["rows"]]
    assert keys == ["synthetic", "degraded", "simgan.average@0", "simgan.average@2", "perfect",
                    "photo"]
    assert [point["iteration"] for point in summary["curve"]] == [0, 1, 2]
    table = (out / "table.md").read_text()
    for words in ("Synthetic, as rendered", "hand-made degradation", "pretraining only",
                  "SimGAN (iteration 2", "Perfect refiner", "upper bound", "(reference)",
                  "| appearance |", "| geometry |", "share closed"):
        assert words in table
    for name in ("results.json", "cumulative_error.png", "samples.png", "protocol.json"):
        assert (out / name).exists()


def test_intervals_and_differences_are_over_the_seeds_paired(finished):
    out, summary = finished
    synthetic = summary["rows"][0]
    assert synthetic["mean_error"]["n"] == 2 and len(synthetic["mean_error"]["per_seed"]) == 2
    simgan = summary["rows"][3]["mean_error"]["per_seed"]
    expected = np.array(synthetic["mean_error"]["per_seed"]) - simgan
    np.testing.assert_allclose(synthetic["mean_error_vs_reference"]["differences"], expected)
    # each seed's estimators: k = 0, 1, with one estimator seed per (replicate, k) in every row
    seeds = {json.loads(path.read_text())["key"]["estimator_seed"]
             for path in (out / "parts" / "seed_1").glob("*__est1.json")}
    assert seeds == {1001}


def test_running_again_trains_nothing(finished, monkeypatch):
    out, summary = finished

    def refuse(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(study_module, "train_gaze_estimator", refuse)
    monkeypatch.setattr(study_module, "train", refuse)
    again = run_study(tiny(), out, log=None, progress=None)
    assert again["rows"] == summary["rows"]


def test_another_protocol_in_the_same_folder_is_refused(finished):
    out, _ = finished
    with pytest.raises(ValueError, match="normalization"):
        run_study(tiny(normalization="none"), out, log=None, progress=None)


def test_the_upper_bound_trains_on_photo_geometry_with_the_same_gaze(tmp_path):
    bench = study_module.GazeStudy(tiny(), tmp_path, log=None)
    data = bench.replicate_data(0)
    assert not np.array_equal(data["photo"], data["synthetic"])
    from minigan.data.eyes import render_eyes
    photo = render_eyes(48, "photo", seed=study_module.data_seed("train", 0))
    np.testing.assert_array_equal(data["photo"], photo.images)
    np.testing.assert_allclose(photo.gaze, data["gaze"], atol=1e-6)


def test_ablation_arms_share_runs_and_name_their_references():
    names = {arm.name for arm in ABLATIONS} | {"SimGAN"}
    assert all(arm.reference in names for arm in ABLATIONS)
    runs = {study_module.run_name(arm) for arm in ABLATIONS}
    assert "simgan" in runs       # R's own weights come from the SimGAN runs themselves
    authors = [arm for arm in ABLATIONS if arm.authors][0]
    config = tiny().simgan_config(authors, 0)
    assert (config.k_g, config.k_d, config.discriminator_batch_norm) == (50, 1, True)


@pytest.mark.parametrize("changes, match", [
    (dict(checkpoints=(0, 1)), "checkpoints"), (dict(normalization="zscore"), "normalization"),
    (dict(seeds=(0, 0)), "seeds"), (dict(ablation_seeds=(7,)), "ablation_seeds"),
])
def test_bad_configs_name_the_field(changes, match):
    with pytest.raises(ValueError, match=match):
        tiny(**changes)


def test_the_command_prints_the_table_and_bad_flags_are_one_line(tmp_path, capsys):
    assert gaze_study.main(["--preset", "tiny", "--seeds", "1", "--estimator-seeds", "1",
                                "--out", str(tmp_path / "b"), "--no-progress",
                                "--device", "cpu"]) == 0
    assert "Synthetic, as rendered" in capsys.readouterr().out
    assert gaze_study.main(["--preset", "tiny", "--checkpoints", "0", "1",
                                "--out", str(tmp_path / "c"), "--device", "cpu"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "checkpoints" in error[0]


def test_ctrl_c_prints_the_same_command_to_continue_and_keeps_finished_estimators(
        tmp_path, monkeypatch, capsys):
    argv = ["--preset", "tiny", "--seeds", "1", "--estimator-seeds", "1",
            "--out", str(tmp_path / "b"), "--no-progress", "--device", "cpu"]
    train_estimator = study_module.train_gaze_estimator
    calls = []

    def interrupted_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return train_estimator(*args, **kwargs)

    monkeypatch.setattr(study_module, "train_gaze_estimator", interrupted_third)
    assert gaze_study.main(argv) == 130
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"what was done is kept in {tmp_path / 'b'}" in error
    assert error.endswith("continue with: python -m minigan.gaze_study " + " ".join(argv))
    monkeypatch.setattr(study_module, "train_gaze_estimator", train_estimator)
    assert gaze_study.main(argv) == 0
    assert "2 of 7 estimators were finished before" in capsys.readouterr().err


def test_the_perfect_refiner_is_the_same_eyes_in_the_photo_style(tmp_path):
    from minigan.data.eyes import render_eyes
    study = study_module.GazeStudy(tiny(), tmp_path, log=None)
    data = study.replicate_data(0)
    perfect = study.training_set(data, "perfect", None, None, 0)
    same = render_eyes(48, "photo", seed=study_module.data_seed("train", 0), params=data["params"])
    np.testing.assert_array_equal(perfect, same.images)
    np.testing.assert_allclose(same.gaze, data["gaze"], atol=1e-6)   # the synthetic labels
    without = study.training_set(data, "without:glasses", None, None, 0)
    only = study.training_set(data, "only:webcam", None, None, 0)
    assert without.shape == only.shape == perfect.shape
    assert not np.array_equal(without, perfect) and not np.array_equal(only, data["synthetic"])


def test_the_gap_split_and_the_closed_shares_follow_from_the_per_seed_errors(finished):
    _, summary = finished
    rows = {row["key"]: np.array(row["mean_error"]["per_seed"]) for row in summary["rows"]}
    gap = summary["gap"]
    np.testing.assert_allclose(gap["geometry"]["per_seed"], rows["perfect"] - rows["photo"])
    appearance = rows["synthetic"] - rows["perfect"]
    np.testing.assert_allclose(gap["appearance"]["per_seed"], appearance)
    np.testing.assert_allclose(gap["appearance_share"]["per_seed"],
                               appearance / (rows["synthetic"] - rows["photo"]))
    closed = gap["closed"]["simgan.average@2"]["mean"]
    np.testing.assert_allclose(closed, np.mean((rows["synthetic"] - rows["simgan.average@2"])
                                               / appearance))
    assert gap["closed"]["perfect"]["mean"] == pytest.approx(1.0)


def test_without_simgan_the_factor_rows_give_the_factor_table(tmp_path):
    summary = run_study(tiny(seeds=(3,), ablation_seeds=(3,), estimator_seeds=1, simgan=False,
                             factors=True),
                        tmp_path, log=None, progress=None)
    assert [row["key"] for row in summary["rows"]] == ["synthetic", "degraded", "perfect",
                                                       "photo"]
    assert summary["curve"] == [] and summary["cost"]["simgan_runs"] == 0
    assert not (tmp_path / "simgan").exists()
    factors = [row["factor"] for row in summary["factors"]]
    assert factors == ["identity", "light", "glints", "glasses", "webcam", "equalization"]
    table = (tmp_path / "table.md").read_text()
    assert "row - synthetic" in table and "What the appearance gap is made of" in table
    parts = {path.name for path in (tmp_path / "parts" / "seed_3").iterdir()}
    assert "without-glasses__est0.json" in parts and "only-light__est0.json" in parts


def test_ablations_without_simgan_are_refused():
    with pytest.raises(ValueError, match="ablations need simgan"):
        tiny(simgan=False, ablations=True)


@pytest.mark.parametrize("text, seeds", [
    ("3", (0, 1, 2)), ("5-9", (5, 6, 7, 8, 9)), ("7,11", (7, 11)), ("7,", (7,)),
    ("0-2,9", (0, 1, 2, 9)), ("1,1,2", (1, 2)), (" 4 , 6 ", (4, 6)),
])
def test_seeds_are_a_count_a_range_or_a_list(text, seeds):
    from minigan.cli import SEEDS
    assert SEEDS(text) == seeds


@pytest.mark.parametrize("text", ["0", "-1", "9-5", "a", "3-", ",", "1.5", "-3-4"])
def test_bad_seeds_are_refused_with_the_forms_that_work(text):
    import argparse
    from minigan.cli import SEEDS
    with pytest.raises(argparse.ArgumentTypeError, match="A-B"):
        SEEDS(text)


def test_the_command_runs_on_the_seeds_it_is_given(tmp_path, capsys):
    out = tmp_path / "chosen"
    assert gaze_study.main(["--preset", "tiny", "--seeds", "7,11", "--estimator-seeds", "1",
                            "--no-simgan", "--out", str(out), "--no-progress",
                            "--device", "cpu"]) == 0
    assert json.loads((out / "protocol.json").read_text())["seeds"] == [7, 11]
    assert sorted(path.name for path in (out / "parts").iterdir()) == ["seed_11", "seed_7"]
    assert "seeds 7, 11 (2 replicates)" in capsys.readouterr().out


def test_simgan_set_changes_the_simgan_config_and_is_part_of_the_protocol(tmp_path):
    out = tmp_path / "set"
    argv = ["--preset", "tiny", "--seeds", "1", "--estimator-seeds", "1", "--out", str(out),
            "--no-progress", "--device", "cpu", "--simgan-set", "optimizer=adam", "lr=0.0002",
            "psi=blur"]
    assert gaze_study.main(argv) == 0
    changes = json.loads((out / "protocol.json").read_text())["simgan_overrides"]
    assert (changes["optimizer"], changes["lr"], changes["psi"]) == ("adam", 0.0002, "blur")
    config = json.loads((out / "simgan" / "simgan" / "seed_0" / "config.json").read_text())
    assert (config["optimizer"], config["lr"], config["psi"]) == ("adam", 0.0002, "blur")
    # the same folder with other changes is another protocol
    assert gaze_study.main(argv[:-1] + ["psi=identity"]) == 2


@pytest.mark.parametrize("pair, words", [("foo=1", "expected FIELD=VALUE"),
                                         ("lr", "expected FIELD=VALUE"),
                                         ("lr=-1", "lr must be > 0"),
                                         ("steps=5", "--simgan-steps")])
def test_a_bad_simgan_set_is_one_line_naming_it(pair, words, tmp_path, capsys):
    assert gaze_study.main(["--preset", "tiny", "--simgan-set", pair,
                            "--out", str(tmp_path / "b")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and words in error[0] and "--simgan-set" in error[0]


def tiny_protocol(tmp_path, **changes):
    from minigan.experiments.confirmatory import KEYS
    study = {k: v for k, v in tiny(seeds=(4,), ablation_seeds=(4,), estimator_seeds=1).to_dict()
             .items() if k != "device"}
    values = dict(name="tiny-1", written="2026-12-07", notes="a test", study=study,
                  row="simgan.average@2", better_than=["synthetic", "degraded"],
                  closes_appearance_share=0.5, pupil_shift_at_most=1.1)
    values.update(changes)
    assert set(values) == set(KEYS)
    path = tmp_path / "protocol.json"
    path.write_text(json.dumps(values))
    return path


def test_a_protocol_file_runs_its_study_and_decides_each_claim(tmp_path, capsys):
    path, out = tiny_protocol(tmp_path), tmp_path / "confirm"
    assert gaze_study.main(["--protocol", str(path), "--out", str(out), "--no-progress",
                            "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "Confirmatory protocol tiny-1" in printed
    claims = json.loads((out / "claims.json").read_text())
    assert [c["claim"] for c in claims] == [
        "simgan.average@2 has a lower mean error than synthetic",
        "simgan.average@2 has a lower mean error than degraded",
        "simgan.average@2 closes at least 50 % of the appearance gap",
        "simgan.average@2 moves the pupil at most 1.1 px"]
    summary = json.loads((out / "results.json").read_text())
    rows = {row["key"]: row for row in summary["rows"]}
    difference = (rows["simgan.average@2"]["mean_error"]["mean"]
                  - rows["synthetic"]["mean_error"]["mean"])
    assert claims[0]["value"]["mean"] == pytest.approx(difference)
    # one replicate: no interval, so no "better than" claim can hold
    assert claims[0]["holds"] is False and claims[0]["value"]["high"] is None
    assert json.loads((out / "protocol.json").read_text())["seeds"] == [4]


def test_a_protocol_refuses_flags_that_change_the_study_and_another_protocol(tmp_path, capsys):
    path, out = tiny_protocol(tmp_path), tmp_path / "confirm"
    assert gaze_study.main(["--protocol", str(path), "--seeds", "3", "--out", str(out)]) == 2
    assert "leave out --seeds" in capsys.readouterr().err
    assert gaze_study.main(["--protocol", str(path), "--out", str(out), "--no-progress",
                            "--device", "cpu"]) == 0
    other = tiny_protocol(tmp_path, pupil_shift_at_most=2.0)
    assert gaze_study.main(["--protocol", str(other), "--out", str(out), "--device", "cpu"]) == 2
    assert "another protocol" in capsys.readouterr().err


@pytest.mark.parametrize("changes, words", [
    (dict(row="simgan.average@9"), "no row of this study"),
    (dict(better_than=["nothing"]), "no row of this study"),
])
def test_a_bad_protocol_file_is_one_line(changes, words, tmp_path, capsys):
    path = tiny_protocol(tmp_path, **changes)
    assert gaze_study.main(["--protocol", str(path), "--out", str(tmp_path / "c")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and words in error[0]


def test_compare_puts_every_snapshot_of_finished_studies_side_by_side(finished, tmp_path, capsys):
    out, summary = finished
    assert gaze_study.main(["--compare", str(out)]) == 0
    table = capsys.readouterr().out.strip().splitlines()
    assert table[0].startswith("| study | SimGAN changes | iteration")
    assert len(table) == 2 + len(summary["curve"])
    assert all(line.split(" | ")[5] != "-" for line in table[2:])   # every snapshot's share
    assert gaze_study.main(["--compare", str(tmp_path)]) == 2
    assert "no finished gaze study" in capsys.readouterr().err
