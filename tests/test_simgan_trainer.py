"""Algorithm 1 trainer: one network per step, history use, exact resume, NaN stop, checkpoints."""
import json

import numpy as np
import pytest

from minigan import Tensor, no_grad
from minigan.data.eyes import render_eyes
from minigan.simgan import TrainConfig, Trainer, TrainingDiverged, load_refiner, train
from minigan.simgan import trainer as trainer_module
from minigan.simgan.checkpoint import read_checkpoint
from minigan.simgan.history import generator_from_state, generator_state
from minigan.simgan.losses import (discriminator_loss, patch_accuracy, realism_loss,
                                   self_regularization)


def tiny(**changes):
    values = dict(steps=2, k_g=1, k_d=1, pretrain_refiner_steps=1, pretrain_discriminator_steps=1,
                  batch_size=4, history_batches=2, refiner_channels=4, refiner_blocks=1,
                  discriminator_width=0.125, n_synthetic=16, n_real=16, sample_every=1,
                  checkpoint_every=1, device="cpu", optimizer="adam", lr=0.01)
    values.update(changes)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def data():
    return render_eyes(16, "synthetic", seed=0).images, render_eyes(16, "photo", seed=1).images


def params(module):
    return {name: p.detach().numpy().copy() for name, p in module.named_parameters()}


def same(a, b):
    return all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.task5_3
def test_a_refiner_step_updates_the_refiner_and_leaves_the_discriminator(data, tmp_path):
    trainer = Trainer(tiny(), *data, tmp_path, progress=False)
    r0, d0 = params(trainer.refiner), params(trainer.discriminator)
    trainer.refiner_step()
    assert same(params(trainer.discriminator), d0)
    assert not same(params(trainer.refiner), r0)
    assert all(p.grad is None for p in trainer.discriminator.parameters())


@pytest.mark.task5_4
def test_a_discriminator_step_updates_the_discriminator_and_leaves_the_refiner(data, tmp_path):
    trainer = Trainer(tiny(), *data, tmp_path, progress=False)
    r0, d0 = params(trainer.refiner), params(trainer.discriminator)
    trainer.discriminator_step()
    assert same(params(trainer.refiner), r0)
    assert not same(params(trainer.discriminator), d0)
    assert all(p.grad is None for p in trainer.refiner.parameters())


@pytest.mark.task5_4
def test_discriminator_batches_are_fresh_at_first_then_half_history(data, tmp_path):
    trainer = Trainer(tiny(batch_size=4, history_batches=1), *data, tmp_path, progress=False)
    drawn, sample = [], trainer.history.sample
    trainer.history.sample = lambda k: drawn.append(k) or sample(k)
    trainer.discriminator_step()            # empty buffer: b fresh refined images, none drawn
    assert drawn == [] and len(trainer.history) == 2
    trainer.discriminator_step()            # 2 in the buffer = b/2: half the batch from it
    trainer.discriminator_step()
    assert drawn == [2, 2] and len(trainer.history) == 4 and trainer.history.full


def replay(rng):
    """A generator in the same state as ``rng``: it draws what ``rng`` will draw next."""
    return generator_from_state(generator_state(rng))


def rows(rng, n, total):
    """The rows Trainer._batch draws: n of total, with replacement only when n > total."""
    return rng.choice(total, size=n, replace=n > total)


def sgd_expectation(trainer, module, loss_of):
    """(loss terms, module's parameters after one plain SGD step on loss_of()'s sum)."""
    terms = loss_of()
    for p in module.parameters():
        p.grad = None
    sum(terms.values()).backward()
    lr = trainer.config.lr
    after = {name: p.detach().numpy() - lr * p.grad.numpy()
             for name, p in module.named_parameters()}
    for p in trainer.refiner.parameters() + trainer.discriminator.parameters():
        p.grad = None
    return {k: v.item() for k, v in terms.items()}, after


@pytest.mark.task5_3
def test_a_refiner_step_is_one_sgd_step_on_realism_plus_self_regularization(data, tmp_path):
    trainer = Trainer(tiny(optimizer="sgd", lr=0.1, lam=0.3), *data, tmp_path, progress=False)
    x = Tensor(data[0][rows(replay(trainer.rng), 4, 16)])

    def terms():
        refined = trainer.refiner(x)
        return {"realism_loss": realism_loss(trainer.discriminator(refined)),
                "self_regularization": self_regularization(refined, x, 0.3)}
    expected, after = sgd_expectation(trainer, trainer.refiner, terms)
    record = trainer.refiner_step()
    for key, value in expected.items():
        assert record[key] == pytest.approx(value, rel=1e-5), key
    assert record["refiner_loss"] == pytest.approx(sum(expected.values()), rel=1e-5)
    for name, p in trainer.refiner.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), after[name], rtol=1e-5, atol=1e-7,
                                   err_msg=name)


@pytest.mark.task5_4
def test_a_discriminator_step_is_one_sgd_step_on_fresh_history_and_real(data, tmp_path):
    trainer = Trainer(tiny(optimizer="sgd", lr=0.1, history_batches=1), *data, tmp_path,
                      progress=False)
    trainer.history.push(data[0][:2] * 0.5)           # b/2 = 2 images: k = 2 drawn
    draws, history_draws = replay(trainer.rng), replay(trainer.history.rng)
    fresh_rows, real_rows = rows(draws, 2, 16), rows(draws, 4, 16)
    drawn = trainer.history.images[np.sort(history_draws.choice(2, size=2, replace=False))]
    with no_grad():
        fresh = trainer.refiner(Tensor(data[0][fresh_rows])).numpy()
    refined, real = Tensor(np.concatenate([fresh, drawn])), Tensor(data[1][real_rows])

    def terms():
        return {"discriminator_loss": discriminator_loss(trainer.discriminator(refined),
                                                         trainer.discriminator(real))}
    expected, after = sgd_expectation(trainer, trainer.discriminator, terms)
    with no_grad():
        accuracy_real = patch_accuracy(trainer.discriminator(real), 0)
    record = trainer.discriminator_step()
    assert record["discriminator_loss"] == pytest.approx(expected["discriminator_loss"],
                                                         rel=1e-5)
    assert record["d_accuracy_real"] == pytest.approx(accuracy_real)
    for name, p in trainer.discriminator.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), after[name], rtol=1e-5, atol=1e-7,
                                   err_msg=name)
    # after the step the first b/2 fresh images fill the buffer's two empty slots (B = 4)
    np.testing.assert_array_equal(trainer.history.images[2:], fresh[:2])


@pytest.mark.task5_3
def test_pretraining_uses_self_regularization_only(data, tmp_path):
    trainer = Trainer(tiny(), *data, tmp_path, progress=False)
    record = trainer.refiner_step(adversarial=False)
    assert record["realism_loss"] is None
    assert record["refiner_loss"] == record["self_regularization"]


@pytest.mark.task5_5
def test_training_writes_the_run_folder(data, tmp_path):
    out = train(tiny(), *data, tmp_path / "run", progress=False)
    records = [json.loads(line) for line in open(f"{out}/log.jsonl")]
    assert [r["phase"] for r in records] == ["pretrain_refiner", "pretrain_discriminator",
                                             "adversarial", "adversarial"]
    last = records[-1]
    for key in ("refiner_loss", "realism_loss", "self_regularization", "discriminator_loss",
                "d_accuracy_real", "d_accuracy_refined", "images_per_s"):
        assert np.isfinite(last[key])
    for name in ("config.json", "loss_curve.png", "samples/pretrained_refiner.png",
                 "samples/iteration_000002.png", "samples/latest.png", "checkpoints/last.npz"):
        assert (tmp_path / "run" / name).exists(), name


@pytest.mark.task5_5
def test_the_checkpoint_holds_everything_to_continue(data, tmp_path):
    trainer = Trainer(tiny(), *data, tmp_path, progress=False)
    trainer.run()
    meta, groups = read_checkpoint(trainer.folder.last_checkpoint)
    assert set(groups) == {"refiner", "refiner_average", "discriminator", "refiner_optimizer",
                           "discriminator_optimizer", "history", "rng"}
    assert meta["refiner"] == {"in_channels": 1, "channels": 4, "blocks": 1}
    assert meta["counters"] == {"pretrain_refiner": 1, "pretrain_discriminator": 1,
                                "adversarial": 2}
    assert groups["history"]["images"].shape == (6, 1, 35, 55)  # 3 D steps x b/2 = 2 images
    assert same(params(load_refiner(trainer.folder.last_checkpoint)), params(trainer.kept_refiner))
    last = load_refiner(trainer.folder.last_checkpoint, average=False)
    assert same(params(last), params(trainer.refiner))


@pytest.mark.task5_3
def test_the_kept_refiner_is_a_running_average_of_the_refiner(data, tmp_path):
    trainer = Trainer(tiny(average_decay=0.9), *data, tmp_path, progress=False)
    trainer.refiner_step(adversarial=False)       # pretraining: the average is a plain copy
    assert same(params(trainer.kept_refiner), params(trainer.refiner))
    before, kept = params(trainer.refiner), params(trainer.kept_refiner)
    trainer.refiner_step()
    after = params(trainer.refiner)
    for name, value in params(trainer.kept_refiner).items():
        np.testing.assert_allclose(value, 0.9 * kept[name] + 0.1 * after[name], rtol=1e-5)
    assert not same(after, before)


def test_without_averaging_the_refiner_itself_is_kept(data, tmp_path):
    trainer = Trainer(tiny(average_decay=0.0), *data, tmp_path, progress=False)
    trainer.run()
    assert trainer.kept_refiner is trainer.refiner
    assert "refiner_average" not in read_checkpoint(trainer.folder.last_checkpoint)[1]


@pytest.mark.task5_5
def test_resume_gives_exactly_the_uninterrupted_run(data, tmp_path):
    config = tiny(steps=4, checkpoint_every=100, k_g=2)
    train(config, *data, tmp_path / "straight", progress=False)
    train(config.replace(steps=2), *data, tmp_path / "resumed", progress=False)
    train(config, *data, tmp_path / "resumed", progress=False, resume=True)
    _, a = read_checkpoint(tmp_path / "straight/checkpoints/last.npz")
    _, b = read_checkpoint(tmp_path / "resumed/checkpoints/last.npz")
    assert a.keys() == b.keys()
    for group in a:
        assert a[group].keys() == b[group].keys()
        for key in a[group]:
            np.testing.assert_array_equal(a[group][key], b[group][key], err_msg=f"{group}/{key}")
    logs = [[json.loads(line) for line in open(tmp_path / name / "log.jsonl")]
            for name in ("straight", "resumed")]
    untimed = [[{k: v for k, v in r.items() if k not in ("images_per_s", "elapsed_s")} for r in log]
               for log in logs]
    assert untimed[0] == untimed[1]


def test_a_different_seed_gives_a_different_run(data, tmp_path):
    a = Trainer(tiny(seed=0), *data, tmp_path / "a", progress=False)
    b = Trainer(tiny(seed=1), *data, tmp_path / "b", progress=False)
    assert not same(params(a.refiner), params(b.refiner))


def test_resuming_with_another_loss_or_other_data_is_refused(data, tmp_path):
    train(tiny(steps=1), *data, tmp_path, progress=False)
    with pytest.raises(ValueError, match="cannot change lam"):
        train(tiny(steps=2, lam=1.0), *data, tmp_path, progress=False, resume=True)
    with pytest.raises(ValueError, match="synthetic images differ"):
        train(tiny(steps=2), data[0][::-1].copy(), data[1], tmp_path, progress=False, resume=True)


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(data, tmp_path, monkeypatch):
    calls, saved = [], {}
    realism = trainer_module.realism_loss

    def poisoned(logits, scale=1.0):
        calls.append(1)
        loss = realism(logits, scale)
        if len(calls) == 2:  # the refiner step of iteration 2
            saved["bytes"] = (tmp_path / "checkpoints/last.npz").read_bytes()
            return loss * float("nan")
        return loss

    monkeypatch.setattr(trainer_module, "realism_loss", poisoned)
    with pytest.raises(TrainingDiverged) as error:
        train(tiny(steps=3), *data, tmp_path, progress=False)
    message = str(error.value)
    assert "refiner loss became nan at adversarial step 2" in message
    assert "checkpoints/last.npz" in message and "1 iterations" in message
    assert (tmp_path / "checkpoints/last.npz").read_bytes() == saved["bytes"]
    meta, groups = read_checkpoint(tmp_path / "checkpoints/last.npz")
    assert meta["counters"]["adversarial"] == 1
    assert all(np.isfinite(v).all() for v in groups["refiner"].values())
    assert json.loads(open(tmp_path / "log.jsonl").readlines()[-1])["event"] == "diverged"


def test_the_ablation_variants_train(data, tmp_path):
    out = train(tiny(steps=1, use_history=False, global_adversarial=True), *data, tmp_path,
                progress=False)
    meta, groups = read_checkpoint(f"{out}/checkpoints/last.npz")
    assert meta["discriminator"]["kind"] == "global" and "history" not in groups


def test_the_authors_setting_trains_and_resumes_with_batch_norm_in_d(data, tmp_path):
    config = tiny(steps=4, k_g=2).authors_setting()
    assert (config.k_g, config.k_d, config.steps, config.discriminator_batch_norm) == \
        (50, 1, 1, True)
    config = config.replace(k_g=3, steps=2)
    straight = train(config, *data, tmp_path / "straight", progress=False)
    train(config.replace(steps=1), *data, tmp_path / "stopped", progress=False)
    resumed = train(config, *data, tmp_path / "stopped", progress=False, resume=True)
    meta, a = read_checkpoint(f"{straight}/checkpoints/last.npz")
    _, b = read_checkpoint(f"{resumed}/checkpoints/last.npz")
    assert meta["discriminator"]["batch_norm"] is True
    assert any("running_mean" in name for name in a["discriminator"])
    for group in ("refiner", "discriminator"):
        assert all(np.array_equal(a[group][k], b[group][k]) for k in a[group])


def test_a_reflect_padded_refiner_trains_and_loads_back(data, tmp_path):
    out = train(tiny(refiner_padding="reflect"), *data, tmp_path, progress=False)
    refiner = load_refiner(f"{out}/checkpoints/last.npz")
    assert refiner.padding_mode == "reflect"
    assert refiner.stem.padding_mode == "reflect"


def test_the_global_loss_is_scaled_to_the_local_one(data, tmp_path):
    """At initialization both discriminators are near chance, so their losses should both be
    about h * w * 2 log 2 (126 patches of the 35 x 55 eyes' map): the global one only when
    it is scaled; unscaled it is h * w times smaller."""
    sizes = {}
    for name, changes in (("local", {}), ("global", dict(global_adversarial=True)),
                          ("unscaled", dict(global_adversarial=True, global_loss_scale=False))):
        trainer = Trainer(tiny(**changes), *data, tmp_path / name, progress=False)
        sizes[name] = trainer.discriminator_step()["discriminator_loss"]
    chance = 126 * 2 * np.log(2)
    assert trainer_module.adversarial_scale(tiny(global_adversarial=True), (35, 55)) == 126
    assert sizes["local"] == pytest.approx(chance, rel=0.2)
    assert sizes["global"] == pytest.approx(chance, rel=0.2)
    assert sizes["unscaled"] == pytest.approx(sizes["global"] / 126, rel=1e-5)


def test_configs_written_with_a_buffer_size_in_images_still_load():
    old = dict(tiny().to_dict(), buffer_size=320, batch_size=32)
    del old["history_batches"]
    assert TrainConfig.from_dict(old).history_batches == 10
    assert TrainConfig.from_dict(old).buffer_size == 320


@pytest.mark.parametrize("changes, match", [
    (dict(batch_size=3), "even"), (dict(psi="vgg"), "psi"), (dict(lr=0), "lr"),
    (dict(history_batches=0), "history_batches"), (dict(optimizer="rmsprop"), "optimizer"),
    (dict(refiner_padding="circular"), "refiner_padding"),
])
def test_bad_config_values_name_the_field(changes, match):
    with pytest.raises(ValueError, match=match):
        tiny(**changes)


def test_presets_and_config_round_trip():
    gpu, cpu = TrainConfig.gpu_preset(), TrainConfig.cpu_preset(steps=7)
    assert (gpu.batch_size, gpu.refiner_channels, gpu.refiner_blocks, gpu.lr, gpu.optimizer) == \
        (512, 64, 4, 0.001, "sgd")
    assert cpu.steps == 7 and cpu.batch_size < gpu.batch_size
    assert TrainConfig.from_dict(json.loads(cpu.to_json())) == cpu


def test_the_lesson_preset_is_small_and_a_flag_overrides_it():
    lesson, cpu = TrainConfig.lesson_preset(), TrainConfig.cpu_preset()
    assert lesson.refiner_channels < cpu.refiner_channels and lesson.steps < cpu.steps
    assert lesson.batch_size * lesson.steps * (lesson.k_g + 2 * lesson.k_d) < \
        cpu.batch_size * cpu.steps * (cpu.k_g + 2 * cpu.k_d) / 5
    assert TrainConfig.lesson_preset(steps=3).steps == 3
    assert TrainConfig.from_dict(json.loads(lesson.to_json())) == lesson


def test_pretraining_does_not_depend_on_lambda(data, tmp_path):
    """Every lambda of an ablation, 0 included, starts from the same pretrained refiner."""
    refiners = []
    for lam in (0.0, 1.0):
        trainer = Trainer(tiny(lam=lam), *data, tmp_path / str(lam), progress=False)
        trainer.refiner_step(adversarial=False)
        refiners.append(params(trainer.refiner))
    assert same(*refiners)
    assert not same(refiners[0], params(Trainer(tiny(), *data, tmp_path / "fresh",
                                                 progress=False).refiner))


def test_kept_snapshots_start_with_the_pretrained_refiner_at_iteration_0(data, tmp_path):
    train(tiny(steps=2, keep_checkpoints=5), *data, tmp_path, progress=False)
    snapshots = sorted((tmp_path / "checkpoints").glob("iteration_*.npz"))
    assert [p.name for p in snapshots] == ["iteration_000000.npz", "iteration_000001.npz",
                                           "iteration_000002.npz"]
    meta, groups = read_checkpoint(snapshots[0])
    assert meta["counters"] == {"pretrain_refiner": 1, "pretrain_discriminator": 1,
                                "adversarial": 0}
    # the average is a plain copy of R until the adversarial phase starts
    assert same(groups["refiner"], groups["refiner_average"])
