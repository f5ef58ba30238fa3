"""Bootstrap intervals for held-out metrics: a gain without an interval is an anecdote.

Percentile bootstrap (Efron & Tibshirani 1993, ch. 13) over patients: resample the held-out patients
with replacement, recompute the mean, take the 2.5 and 97.5 percentiles. Two policies scored on the
same patients are compared by the paired bootstrap: the per-patient differences are resampled
together, so patient difficulty, shared by both policies, cancels out of the interval.
"""

from __future__ import annotations

import torch


def bootstrap_means(values: torch.Tensor, resamples: int = 2000, seed: int = 0) -> torch.Tensor:
    """Means of `resamples` bootstrap resamples of `values` [N] (float64)."""
    values = torch.as_tensor(values, dtype=torch.float64)
    if values.numel() == 0:
        raise ValueError("no values to bootstrap")
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randint(values.numel(), (resamples, values.numel()), generator=generator)
    return values[picks].mean(dim=1)


def interval(values, confidence: float = 0.95, resamples: int = 2000, seed: int = 0) -> list[float]:
    """[lo, mean, hi]: the sample mean inside its percentile bootstrap interval."""
    values = torch.as_tensor(values, dtype=torch.float64)
    means = bootstrap_means(values, resamples, seed)
    tail = (1 - confidence) / 2
    lo, hi = torch.quantile(means, torch.tensor([tail, 1 - tail], dtype=torch.float64)).tolist()
    return [lo, float(values.mean()), hi]


def paired_difference(after, before, confidence: float = 0.95, resamples: int = 2000,
                      seed: int = 0) -> list[float]:
    """[lo, mean, hi] of mean(after - before) over the same patients, by the paired bootstrap."""
    after = torch.as_tensor(after, dtype=torch.float64)
    before = torch.as_tensor(before, dtype=torch.float64)
    if after.shape != before.shape:
        raise ValueError(f"paired values need the same patients: {tuple(after.shape)} vs {tuple(before.shape)}")
    return interval(after - before, confidence, resamples, seed)


def slope_interval(values, confidence: float = 0.95, resamples: int = 2000, seed: int = 0) -> list[float]:
    """[lo, slope, hi] of the least-squares slope of `values` against their index (per step, for a
    training curve with one value a step), with a percentile bootstrap over the (step, value) pairs:
    "is train/reward rising" answered with an interval, not by eye."""
    y = torch.as_tensor(values, dtype=torch.float64)
    if y.numel() < 3:
        raise ValueError("a slope needs at least 3 values")
    x = torch.arange(1, y.numel() + 1, dtype=torch.float64)

    def slope(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        dx = xs - xs.mean(dim=-1, keepdim=True)
        return (dx * (ys - ys.mean(dim=-1, keepdim=True))).sum(-1) / (dx * dx).sum(-1).clamp(min=1e-12)

    generator = torch.Generator().manual_seed(seed)
    picks = torch.randint(y.numel(), (resamples, y.numel()), generator=generator)
    tail = (1 - confidence) / 2
    lo, hi = torch.quantile(slope(x[picks], y[picks]), torch.tensor([tail, 1 - tail], dtype=torch.float64)).tolist()
    return [lo, float(slope(x, y)), hi]
