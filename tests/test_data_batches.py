"""ArrayDataset: seeded random minibatches, one-pass iteration, subsets, clear errors."""
import numpy as np
import pytest

from minigan.data.batches import ArrayDataset


def make_dataset(n=10):
    rows = np.arange(n, dtype=np.float32)[:, None, None, None]
    images = rows * np.ones((1, 1, 35, 55), np.float32)  # image i is filled with the value i
    return ArrayDataset(images, {"gaze": np.arange(3 * n, dtype=np.float32).reshape(n, 3)})


def test_sample_is_reproducible_and_labels_follow_their_images():
    data = make_dataset()
    first = data.sample(4, np.random.default_rng(1))
    again = data.sample(4, 1)  # an int seed works too
    np.testing.assert_array_equal(first.images, again.images)
    index = first.images[:, 0, 0, 0].astype(int)
    np.testing.assert_array_equal(first.labels["gaze"], data.labels["gaze"][index])
    assert len(set(index)) == 4  # no repeats inside a batch
    assert isinstance(first.images, np.ndarray)


def test_sample_larger_than_the_data_draws_with_replacement():
    assert make_dataset(3).sample(8, 0).images.shape == (8, 1, 35, 55)


def test_batches_cover_every_row_once():
    data = make_dataset(10)
    seen = [batch.images[:, 0, 0, 0] for batch in data.batches(4, rng=0)]
    assert [len(part) for part in seen] == [4, 4, 2]
    np.testing.assert_array_equal(np.sort(np.concatenate(seen)), np.arange(10))
    ordered = [batch.images[:, 0, 0, 0] for batch in data.batches(4, shuffle=False)]
    np.testing.assert_array_equal(np.concatenate(ordered), np.arange(10))
    assert len(list(data.batches(4, rng=0, drop_last=True))) == 2


def test_shuffling_without_a_generator_is_refused():
    with pytest.raises(ValueError, match="rng"):
        next(make_dataset().batches(4))


def test_subset_keeps_labels_aligned():
    part = make_dataset().subset(np.array([7, 2]))
    assert len(part) == 2
    np.testing.assert_array_equal(part.labels["gaze"][:, 0], [21, 6])


def test_shape_and_label_length_errors():
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        ArrayDataset(np.zeros((3, 35, 55)))
    with pytest.raises(ValueError, match="'gaze' has 2 rows"):
        ArrayDataset(np.zeros((3, 1, 35, 55)), {"gaze": np.zeros((2, 3))})
    assert ArrayDataset(np.zeros((3, 1, 35, 55))).labels == {}
