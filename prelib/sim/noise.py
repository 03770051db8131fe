"""Power-law (fractal) Gaussian random fields by FFT filtering of white noise.

Radar rain fields and terrain have power-law spectra ``P(k) ∝ k^-β``; their log-intensity
structure is well modelled by filtering white noise with that spectrum (Seed 2003, STEPS;
Pulkkinen et al. 2019, pysteps' ``initialize_param_2d_fft_filter``). Spatial spacings are given in
km so that the same ``β`` and wavelength limits mean the same structure at 1, 4 or 5 km.
"""

from __future__ import annotations

import numpy as np
from scipy.fft import irfft2, next_fast_len, rfft2


def power_law_noise(
    rng: np.random.Generator,
    shape: tuple[int, int],
    beta: float,
    spacing_km: tuple[float, float] = (1.0, 1.0),
    min_wavelength_km: float = 0.0,
    max_wavelength_km: float = np.inf,
    dtype: type = np.float32,
    fast_size: bool = True,
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

    dtype : numpy dtype
        ``float32`` (the world's precision) or ``float64``; the white noise is drawn in this
        precision, so the two give different (equally valid) fields.
    fast_size : bool
        Filter on the next FFT-friendly size and crop (fast); ``False`` filters on exactly
        ``shape`` (periodic field; the static terrain uses it so that it stays the same).

    Returns
    -------
    numpy.ndarray
        ``dtype`` (ny, nx), standardised to mean 0 and standard deviation 1 (over the returned
        pixels).
    """
    ny, nx = int(shape[0]), int(shape[1])
    if ny < 2 or nx < 2:
        raise ValueError(f"noise field needs at least 2 x 2 pixels, got {shape}")
    # FFTs of sizes with large prime factors are several times slower (a 298-pixel side has the
    # factor 149): filter on the next fast size and crop the margin. The field is stationary, so
    # the crop has the same statistics.
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    real = dtype.type
    fy, fx = (next_fast_len(ny, real=True), next_fast_len(nx, real=True)) if fast_size else (ny, nx)
    white = rng.standard_normal((fy, fx), dtype=dtype)
    ky = np.fft.fftfreq(fy, d=spacing_km[0]).astype(dtype)[:, None]
    kx = np.fft.rfftfreq(fx, d=spacing_km[1]).astype(dtype)[None, :]
    k = np.hypot(ky, kx)  # cycles per km
    k_min = real(1.0 / max(fy * spacing_km[0], fx * spacing_km[1]))
    k_safe = np.maximum(k, k_min)
    amplitude = k_safe ** real(-beta / 2.0)
    if min_wavelength_km > 0:
        amplitude *= np.exp(-((k * real(min_wavelength_km)) ** 4))
    if np.isfinite(max_wavelength_km):
        amplitude *= 1.0 - np.exp(-((k * real(max_wavelength_km)) ** 4))
    amplitude[0, 0] = 0.0
    spectrum = rfft2(white, workers=1)
    spectrum *= amplitude
    field = irfft2(spectrum, s=(fy, fx), workers=1)[:ny, :nx]
    std = field.std(dtype=np.float64)
    if std == 0:
        raise ValueError("band limits remove every wavelength of the noise field")
    return ((field - field.mean(dtype=np.float64)) / std).astype(dtype, copy=False)
