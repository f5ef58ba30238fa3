"""Bootstrap intervals: numbers checkable by hand, and the paired test's extra power."""

import math

import pytest
import torch

from grpodx.report.intervals import bootstrap_means, interval, paired_difference, slope_interval


def test_constant_values_have_a_zero_width_interval():
    assert interval([0.25] * 10) == [0.25, 0.25, 0.25]


def test_a_proportion_matches_the_normal_approximation():
    # 200 patients, 100 correct: the standard error is sqrt(0.5 * 0.5 / 200) = 0.0354, so the 95 %
    # interval is about 0.5 +- 1.96 * 0.0354 = [0.431, 0.569]
    lo, mean, hi = interval([1.0] * 100 + [0.0] * 100, resamples=4000)
    assert mean == 0.5
    assert lo == pytest.approx(0.5 - 1.96 * math.sqrt(0.25 / 200), abs=0.01)
    assert hi == pytest.approx(0.5 + 1.96 * math.sqrt(0.25 / 200), abs=0.01)


def test_resampling_is_seeded():
    values = torch.rand(50, generator=torch.Generator().manual_seed(1))
    assert torch.equal(bootstrap_means(values, seed=3), bootstrap_means(values, seed=3))
    assert not torch.equal(bootstrap_means(values, seed=3), bootstrap_means(values, seed=4))


def test_paired_difference_sees_a_small_consistent_gain_that_unpaired_intervals_miss():
    # patient difficulty varies widely; the second policy scores 0.05 more on every patient
    before = torch.linspace(0.0, 0.9, 100)
    after = before + 0.05
    lo, mean, hi = paired_difference(after, before)
    assert mean == pytest.approx(0.05) and lo == pytest.approx(0.05) and hi == pytest.approx(0.05)
    assert interval(after)[0] < interval(before)[2]  # unpaired intervals overlap


def test_paired_difference_needs_the_same_patients():
    with pytest.raises(ValueError, match="same patients"):
        paired_difference([1.0, 0.0], [1.0])


def test_slope_of_a_line_is_exact_and_of_noise_straddles_zero():
    lo, slope, hi = slope_interval([0.1 + 0.02 * step for step in range(10)])  # exactly 0.02 a step
    assert slope == pytest.approx(0.02) and lo == pytest.approx(0.02) and hi == pytest.approx(0.02)
    noise = torch.Generator().manual_seed(1)
    lo, slope, hi = slope_interval(torch.rand(30, generator=noise).tolist())
    assert lo < 0 < hi and lo < slope < hi
    rising = [0.02 * step + float(v) for step, v in enumerate(torch.rand(30, generator=noise) * 0.1)]
    assert slope_interval(rising)[0] > 0
    with pytest.raises(ValueError):
        slope_interval([1.0, 2.0])
