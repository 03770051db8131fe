"""RainFARM stochastic downscaling (Rebora, Ferraris, von Hardenberg & Provenzale 2006).

RainFARM (Rainfall Filtered Autoregressive Model; J. Hydrometeor. 7, 724–738) generates fine
detail as a log-normal field with a power-law spectrum extrapolated from the coarse field, then
rescales it so every coarse box keeps its rain:

1. fit the spectral slope ``α`` of the coarse field's radially averaged power spectrum
   (``P(k) ∝ k^-α``; :func:`~prelib.metrics.spectrum.spectral_slope`);
2. draw a Gaussian field ``g`` on the fine grid with amplitude spectrum ``|k|^-α/2`` and random
   phases, normalised to unit variance;
3. take ``w = exp(g)`` (log-normal), weight it by the bilinear interpolation of the coarse field
   so the large-scale gradients are kept (our choice, smoother than pure block rescaling);
4. rescale inside each coarse box so that the box mean equals the coarse value exactly
   (mass conservation; a dry coarse box stays dry).

Written for this package from the paper's algorithm (pysteps ships a version that compiles
extensions on install, too slow for CI). Ensembles come from different seeds.
"""

from __future__ import annotations

import numpy as np

from prelib.data.precip_grids import check_factor, check_precip, coarsen, upsample
from prelib.metrics.spectrum import spectral_slope

DEFAULT_ALPHA: float = 2.0
"""Slope used when the coarse field is too small or uniform to fit one (our choice)."""


def rainfarm_downscale(
    coarse: np.ndarray,
    factor: int,
    alpha: float | None = None,
    n_members: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """Downscale a coarse field with RainFARM.

    Parameters
    ----------
    coarse : np.ndarray, shape ``(h, w)``
        Coarse precipitation, mm h-1, finite and non-negative.
    factor : int
        Resolution factor; the output is ``(h·factor, w·factor)``.
    alpha : float, optional
        Spectral slope; default fitted on ``coarse`` (falls back to :data:`DEFAULT_ALPHA`).
    n_members : int
        Ensemble size (≥ 1).
    seed : int
        Member ``m`` uses ``numpy.random.default_rng([seed, m])``.

    Returns
    -------
    np.ndarray, shape ``(n_members, h·factor, w·factor)``, float32, mm h-1
        The block mean of each member equals ``coarse`` (to float precision).
    """
    coarse = check_precip(coarse, "coarse")
    if coarse.ndim != 2:
        raise ValueError(f"coarse must be 2-D (y, x), got shape {coarse.shape}")
    factor = check_factor(factor)
    if n_members < 1:
        raise ValueError(f"n_members must be >= 1, got {n_members}")
    if alpha is None:
        alpha = spectral_slope(coarse) if min(coarse.shape) >= 4 else float("nan")
        if not np.isfinite(alpha) or alpha <= 0:
            alpha = DEFAULT_ALPHA
    height, width = coarse.shape[0] * factor, coarse.shape[1] * factor
    amplitude = _power_law_amplitude(height, width, alpha)
    smooth = upsample(coarse, factor, "bilinear")
    block = np.repeat(np.repeat(coarse, factor, axis=0), factor, axis=1)
    members = np.empty((n_members, height, width), dtype=np.float32)
    for member in range(n_members):
        rng = np.random.default_rng([seed, member])
        phases = np.fft.fft2(rng.standard_normal((height, width)))
        gaussian = np.real(np.fft.ifft2(phases * amplitude))
        gaussian = (gaussian - gaussian.mean()) / max(gaussian.std(), 1e-12)
        weight = np.exp(gaussian) * np.maximum(smooth, 1e-6)
        box_mean = np.repeat(np.repeat(coarsen(weight, factor, "mean"), factor, 0), factor, 1)
        members[member] = np.where(block > 0, weight * block / box_mean, 0.0)
    return members


def _power_law_amplitude(height: int, width: int, alpha: float) -> np.ndarray:
    """Fourier amplitude ``|k|^-α/2`` on an ``(height, width)`` grid, 0 at ``k = 0``."""
    ky = np.fft.fftfreq(height) * height
    kx = np.fft.fftfreq(width) * width
    radius = np.hypot(*np.meshgrid(ky, kx, indexing="ij"))
    amplitude = np.zeros_like(radius)
    nonzero = radius > 0
    amplitude[nonzero] = radius[nonzero] ** (-alpha / 2.0)
    return amplitude
