"""Shared fixtures of the metric tests: intermittent synthetic rain fields with missing pixels."""

from __future__ import annotations

import numpy as np
import pytest


def make_rain(rng: np.random.Generator, shape: tuple[int, ...], wet_fraction: float = 0.4):
    """Intermittent gamma-distributed rain (mm h-1): ``wet_fraction`` of pixels wet, rest 0."""
    rain = rng.gamma(0.6, 2.0, size=shape)
    return np.where(rng.random(shape) < wet_fraction, rain, 0.0)


def make_pair(seed: int, shape: tuple[int, ...] = (6, 24, 20), missing: float = 0.01):
    """A (pred, truth) pair with correlated rain, NaN in both fields at ``missing`` rate."""
    rng = np.random.default_rng(seed)
    truth = make_rain(rng, shape)
    pred = np.clip(truth * rng.lognormal(0.0, 0.4, shape) + make_rain(rng, shape, 0.15), 0, None)
    truth[rng.random(shape) < missing] = np.nan
    pred[rng.random(shape) < missing / 2] = np.nan
    return pred, truth


@pytest.fixture
def pair():
    """(pred, truth), shape (6, 24, 20), float64, with NaN."""
    return make_pair(0)


@pytest.fixture(scope="session")
def pair_factory():
    """The :func:`make_pair` function, for tests that need several pairs or shapes."""
    return make_pair
