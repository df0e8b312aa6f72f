"""Intervals over seeds, against scipy's own t-test and interval and hand-made cases."""
import numpy as np
import pytest
from scipy import stats

from minigan.experiments.statistics import paired_difference, t_interval


@pytest.mark.task6_2
def test_t_interval_matches_scipy():
    values = [9.1, 8.7, 9.5, 8.9, 9.0]
    result = t_interval(values)
    low, high = stats.t.interval(0.95, 4, loc=np.mean(values), scale=stats.sem(values))
    assert result["n"] == 5 and result["mean"] == pytest.approx(np.mean(values))
    assert (result["low"], result["high"]) == (pytest.approx(low), pytest.approx(high))
    assert result["sd"] == pytest.approx(np.std(values, ddof=1))


@pytest.mark.task6_2
def test_t_interval_of_one_value_has_no_width_and_of_equal_values_zero_width():
    assert t_interval([3.0])["low"] is None
    same = t_interval([2.0, 2.0, 2.0])
    assert same["low"] == same["high"] == 2.0


@pytest.mark.task6_2
def test_paired_difference_is_the_paired_t_test():
    a = np.array([7.9, 8.4, 8.1, 9.0, 8.2])
    b = np.array([9.2, 9.1, 9.9, 9.6, 9.0])
    result = paired_difference(a, b)
    assert result["differences"] == pytest.approx(list(a - b))
    assert result["p"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert result["high"] < 0          # a is lower on every seed: the interval excludes 0


@pytest.mark.task6_2
def test_pairing_removes_what_the_seeds_share():
    """A big shared seed effect widens unpaired intervals but not the paired one."""
    seed_effect = np.array([0.0, 5.0, -4.0, 8.0, -6.0])
    a, b = seed_effect + 1.0 + [0.1, -0.1, 0.05, 0.0, -0.05], seed_effect
    paired = paired_difference(a, b)
    assert paired["low"] > 0.8 and paired["high"] < 1.2
    assert t_interval(a)["high"] - t_interval(a)["low"] > 10


@pytest.mark.parametrize("call, match", [
    (lambda: t_interval([]), "non-empty"), (lambda: t_interval([1.0, np.nan]), "finite"),
    (lambda: t_interval([1.0, 2.0], confidence=1.0), "confidence"),
    (lambda: paired_difference([1.0, 2.0], [1.0]), "one length"),
])
@pytest.mark.task6_2
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
