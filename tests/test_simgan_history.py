"""ImageHistoryBuffer: filling from empty, b/2 replaced per step, draws, state in checkpoints."""
import numpy as np
import pytest

from minigan.simgan.history import ImageHistoryBuffer, generator_from_state, generator_state

SHAPE = (1, 2, 3)


def tagged(values):
    """Images whose every pixel holds their tag, so a buffer slot tells which image it has."""
    values = np.asarray(values, dtype=np.float32)
    return np.broadcast_to(values[:, None, None, None], (len(values),) + SHAPE).copy()


def tags(images):
    return sorted(int(v) for v in np.asarray(images)[:, 0, 0, 0])


def buffer(size=8, seed=0):
    return ImageHistoryBuffer(size, SHAPE, np.random.default_rng(seed))


@pytest.mark.task5_2
def test_an_empty_buffer_gives_nothing():
    history = buffer()
    assert len(history) == 0
    assert history.sample(4).shape == (0,) + SHAPE


@pytest.mark.task5_2
def test_it_fills_empty_slots_in_order_before_replacing_any():
    history = buffer(size=8)
    history.push(tagged([1, 2, 3]))
    history.push(tagged([4, 5, 6]))
    assert len(history) == 6 and not history.full
    assert tags(history.images[:6]) == [1, 2, 3, 4, 5, 6]
    assert tags(history.images[6:]) == [0, 0]  # untouched


@pytest.mark.task5_2
def test_while_filling_a_draw_returns_only_what_it_has():
    history = buffer(size=8)
    history.push(tagged([1, 2]))
    drawn = history.sample(4)
    assert tags(drawn) == [1, 2]  # two, not four, and never the empty slots


@pytest.mark.task5_2
def test_draws_come_from_distinct_slots():
    history = buffer(size=8)
    history.push(tagged(range(1, 9)))
    drawn = tags(history.sample(4))
    assert len(set(drawn)) == 4 and set(drawn) <= set(range(1, 9))


@pytest.mark.task5_2
def test_a_push_that_overflows_fills_the_rest_then_replaces_older_images():
    history = buffer(size=8)
    history.push(tagged(range(1, 7)))          # 6 of 8 slots
    history.push(tagged([10, 11, 12, 13]))     # 2 fill, 2 replace older images
    assert history.full
    content = tags(history.images)
    assert {10, 11, 12, 13} <= set(content)
    assert len([t for t in content if t < 10]) == 4


@pytest.mark.task5_2
def test_when_full_each_push_replaces_exactly_that_many_random_slots():
    history = buffer(size=8)
    history.push(tagged(range(1, 9)))
    before = history.images.copy()
    history.push(tagged([20, 21, 22, 23]))     # b/2 = 4 new images
    changed = np.flatnonzero((history.images != before).any(axis=(1, 2, 3)))
    assert len(changed) == 4
    assert tags(history.images[changed]) == [20, 21, 22, 23]
    assert len(history) == 8


@pytest.mark.task5_2
def test_replaced_slots_vary_from_push_to_push():
    history = buffer(size=64)
    history.push(tagged(np.arange(64) + 1))
    hit = set()
    for step in range(10):
        before = history.images.copy()
        history.push(tagged(np.full(4, 100 + step)))
        hit |= set(np.flatnonzero((history.images != before).any(axis=(1, 2, 3))).tolist())
    assert len(hit) > 20  # random slots, not always the same ones


@pytest.mark.task5_2
def test_state_dict_restores_images_count_and_random_stream():
    history = buffer(size=8, seed=3)
    history.push(tagged([1, 2, 3, 4, 5]))
    state = history.state_dict()
    assert state["images"].shape == (5,) + SHAPE  # only the filled part is saved
    restored = buffer(size=8, seed=99)
    restored.load_state_dict(state)
    assert len(restored) == 5
    np.testing.assert_array_equal(restored.sample(3), history.sample(3))
    history.push(tagged([6, 7, 8, 9]))
    restored.push(tagged([6, 7, 8, 9]))
    np.testing.assert_array_equal(restored.images, history.images)


def test_load_state_dict_rejects_another_size():
    state = buffer(size=8).state_dict()
    with pytest.raises(ValueError, match="size"):
        buffer(size=16).load_state_dict(state)


@pytest.mark.task5_2
def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="size"):
        ImageHistoryBuffer(0, SHAPE, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        ImageHistoryBuffer(4, SHAPE, rng=0)
    with pytest.raises(ValueError, match="shape"):
        buffer().push(np.zeros((2, 1, 3, 3), np.float32))
    with pytest.raises(ValueError, match="do not fit"):
        buffer(size=2).push(tagged([1, 2, 3]))


def test_generator_state_round_trips_exactly():
    rng = np.random.default_rng(7)
    rng.normal(size=3)
    copy = generator_from_state(generator_state(rng))
    np.testing.assert_array_equal(copy.integers(0, 1 << 62, 5), rng.integers(0, 1 << 62, 5))
