"""Dropout: y = x * keep / (1 - p) with keep ~ Bernoulli(1 - p) while training, x itself in eval
mode. The mask comes from the seeded generator (or the ``rng`` given), so a gradient check with
a fixed generator sees one mask; the layer follows ``train()`` / ``eval()``."""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck, manual_seed, nn

from op_cases import randn


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_gradcheck_with_a_fixed_mask(p, device):
    gradcheck(lambda x: F.dropout(x, p, rng=np.random.default_rng(3)), [randn(4, 7)],
              device=device)


def test_dropout_keeps_each_element_with_probability_1_minus_p_and_scales_it(device):
    x = np.ones((400, 100))
    y = F.dropout(Tensor(x, device=device), 0.3, rng=np.random.default_rng(0)).numpy()
    keep = np.random.default_rng(0).random(x.shape) >= 0.3
    np.testing.assert_allclose(y, keep / 0.7, rtol=1e-15)
    assert abs(keep.mean() - 0.7) < 0.01


def test_dropout_is_the_identity_in_eval_mode_and_for_p_0():
    x = Tensor(randn(3, 4))
    layer = nn.Dropout(0.5).eval()
    assert layer(x) is x and F.dropout(x, 0.5, training=False) is x and F.dropout(x, 0.0) is x
    assert layer.train()(x) is not x
    assert not F.dropout(x, 1.0).numpy().any()


def test_the_seed_makes_the_masks_reproducible():
    manual_seed(7)
    a = nn.Dropout(0.5)(Tensor(np.ones(50))).numpy()
    manual_seed(7)
    np.testing.assert_array_equal(nn.Dropout(0.5)(Tensor(np.ones(50))).numpy(), a)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_a_probability_outside_0_1_is_refused(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(Tensor(np.ones(3)), p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)
