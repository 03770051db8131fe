"""Fixtures of the downscaling tests: small zero-inflated rain fields with spatial structure."""

from __future__ import annotations

import numpy as np
import pytest


def make_rain_fields(n: int, size: int, seed: int = 0, alpha: float = 3.0) -> np.ndarray:
    """``(n, size, size)`` mm h-1 fields: power-law Gaussian fields, exponentiated, thresholded.

    About half the pixels are dry; wet rates follow a skewed, log-normal-like distribution.
    """
    rng = np.random.default_rng(seed)
    k = np.fft.fftfreq(size) * size
    radius = np.hypot(*np.meshgrid(k, k, indexing="ij"))
    amplitude = np.where(radius > 0, np.maximum(radius, 1e-9) ** (-alpha / 2), 0.0)
    fields = []
    for _ in range(n):
        noise = np.fft.fft2(rng.standard_normal((size, size)))
        g = np.real(np.fft.ifft2(noise * amplitude))
        g = (g - g.mean()) / g.std()
        fields.append(np.maximum(np.expm1(1.2 * g) - 0.3, 0.0) * 2.0)
    return np.stack(fields).astype(np.float32)


@pytest.fixture(scope="session")
def rain_fields():
    """Factory ``rain_fields(n, size, seed=0)``."""
    return make_rain_fields


@pytest.fixture(autouse=True, scope="module")
def single_torch_thread():
    """One intra-op thread: these tensors are tiny, and on a shared 2-core machine extra
    threads only add synchronisation cost (measured: 10× slower under load)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
