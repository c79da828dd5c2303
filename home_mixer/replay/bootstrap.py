"""Bootstrap confidence intervals over requests, paired across configurations.

Configurations are replayed on the same request points, so their per-request values are paired:
resampling the same request indices for every configuration gives intervals for the DELTA between
two configurations that are much tighter (and more honest) than comparing two separate intervals.
Deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "low": self.low, "high": self.high}


def bootstrap_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    """``resamples`` x ``n`` request indices drawn with replacement (shared by all configurations)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(resamples, n))


def mean_interval(values: np.ndarray, indices: np.ndarray, level: float = 0.95) -> Interval:
    """Mean of ``values`` with a percentile bootstrap interval over the given resamples."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    means = values[indices].mean(axis=1)
    alpha = (1 - level) / 2
    return Interval(float(values.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)))


def delta_interval(a: np.ndarray, b: np.ndarray, indices: np.ndarray, level: float = 0.95) -> Interval:
    """Paired interval of mean(b) - mean(a)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} vs {b.shape}")
    return mean_interval(b - a, indices, level)
