"""Power-law (fractal) Gaussian random fields by FFT filtering of white noise.

Radar rain fields and terrain have power-law spectra ``P(k) ∝ k^-β``; their log-intensity
structure is well modelled by filtering white noise with that spectrum (Seed 2003, STEPS;
Pulkkinen et al. 2019, pysteps' ``initialize_param_2d_fft_filter``). Spatial spacings are given in
km so that the same ``β`` and wavelength limits mean the same structure at 1, 4 or 5 km.
"""

from __future__ import annotations

import numpy as np


def power_law_noise(
    rng: np.random.Generator,
    shape: tuple[int, int],
    beta: float,
    spacing_km: tuple[float, float] = (1.0, 1.0),
    min_wavelength_km: float = 0.0,
    max_wavelength_km: float = np.inf,
) -> np.ndarray:
    """A zero-mean, unit-variance Gaussian field with spectrum ``P(k) ∝ k^-beta``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the white noise.
    shape : (int, int)
        (ny, nx) of the field.
    beta : float
        Spectral slope of the power spectrum (≈ 2.5–3.5 for rain, ≈ 2–2.5 for terrain).
    spacing_km : (float, float)
        Grid spacing (dy, dx) in km.
    min_wavelength_km, max_wavelength_km : float
        Band limits: wavelengths outside are removed (smooth high-pass/low-pass edges).

    Returns
    -------
    numpy.ndarray
        float64 (ny, nx), standardised to mean 0 and standard deviation 1.
    """
    ny, nx = int(shape[0]), int(shape[1])
    if ny < 2 or nx < 2:
        raise ValueError(f"noise field needs at least 2 x 2 pixels, got {shape}")
    white = rng.standard_normal((ny, nx))
    ky = np.fft.fftfreq(ny, d=spacing_km[0])[:, None]
    kx = np.fft.rfftfreq(nx, d=spacing_km[1])[None, :]
    k = np.hypot(ky, kx)  # cycles per km
    k_min = 1.0 / max(ny * spacing_km[0], nx * spacing_km[1])
    k_safe = np.maximum(k, k_min)
    amplitude = k_safe ** (-beta / 2.0)
    if min_wavelength_km > 0:
        amplitude *= np.exp(-((k * min_wavelength_km) ** 4))
    if np.isfinite(max_wavelength_km):
        amplitude *= 1.0 - np.exp(-((k * max_wavelength_km) ** 4))
    amplitude[0, 0] = 0.0
    field = np.fft.irfft2(np.fft.rfft2(white) * amplitude, s=(ny, nx))
    std = field.std()
    if std == 0:
        raise ValueError("band limits remove every wavelength of the noise field")
    return (field - field.mean()) / std
