"""Forward operator of the GPM DPR Ku-band radar: 176-bin reflectivity profiles in dBZ.

Bins are 125 m deep, bin 0 at the top (≈ 22 km) and bin 175 at the ellipsoid (≈ sea level),
as in the V07 full-scan product. For each column:

* surface rain → reflectivity by a **Z–R relation** ``Z = a R^b`` (mm6 m-3): Marshall–Palmer
  ``a = 200, b = 1.6`` for stratiform rain, ``a = 300, b = 1.4`` (WSR-88D convective) for
  convective rain, with a **stochastic prefactor per rain cell**: the drop-size distribution's
  normalised intercept ``N_w`` and mass-weighted diameter ``D_m`` vary from cell to cell
  (σ(log10 N_w) ≈ 0.3, Testud et al. 2001; Bringi et al. 2003), which at a fixed rain rate
  spreads Z by a few dB. ``10 log10 a`` gets a spatially coherent Gaussian perturbation with
  standard deviation :data:`DSD_SPREAD_DB` (stratiform, convective) on cell scales
  (wavelengths ≤ 40 km), so the same reflectivity means different rain in different cells;
* **stratiform** profiles: constant Z in rain, a **bright band** of +4–10 dB centred ≈ 200 m
  below the 0 °C level, snow above it 4 dB below the rain value and falling 1.5 dB km-1 to the
  echo top (Fabry & Zawadzki 1995);
* **convective** profiles: tall, no bright band, Z slightly above the rain value up to 1.5 km
  above the 0 °C level, then falling 2.5 dB km-1 to echo tops of 8–16 km;
* **warm rain** (echo top below the 0 °C level): Z grows downwards by 1 dB km-1 (coalescence);
* two-way **path attenuation** at Ku, ``k = 0.025 R^1.1`` dB km-1 in liquid (order of the
  Ku k–R relations of Iguchi et al. 2000), so near-surface Z is reduced in heavy rain (the
  measured, not the attenuation-corrected, reflectivity);
* the ≈ 5 km **footprint** (Gaussian beam in linear Z, hence non-uniform beam filling mixes
  cores and surroundings), measurement noise of 0.7 dB (Rayleigh fading after averaging);
* the **sensitivity floor**: Z < 13 dBZ is not detected (V07 minimum detectable ≈ 12–15 dBZ;
  light drizzle is missed) and is NaN;
* **ground clutter**: bins below the clutter-free bottom — 0.5 km above the surface at nadir,
  rising to ≈ 2 km at the swath edges, more over rough terrain — and below the surface are NaN.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from prelib.conventions import DPR_BIN_SPACING_M, DPR_N_BINS, DPR_N_RAYS
from prelib.sim.geography import SceneGrid
from prelib.sim.noise import power_law_noise

DPR_MIN_DETECTABLE_DBZ = 13.0
"""Detection threshold of the synthetic Ku radar (dBZ)."""

DPR_FOOTPRINT_KM = 5.0

Z_R_STRATIFORM = (200.0, 1.6)
"""Marshall & Palmer (1948): Z = 200 R^1.6."""
Z_R_CONVECTIVE = (300.0, 1.4)
"""WSR-88D default convective relation: Z = 300 R^1.4 (Fulton et al. 1998)."""


DSD_SPREAD_DB = (2.0, 3.0)
"""σ of the per-cell Z–R prefactor in dB (stratiform, convective); convective DSDs vary more
(maritime versus continental convection, Bringi et al. 2003)."""


def bin_heights_km() -> np.ndarray:
    """(176,) centre height of each range bin above the ellipsoid (km), bin 0 = top."""
    return (DPR_N_BINS - 1 - np.arange(DPR_N_BINS) + 0.5) * DPR_BIN_SPACING_M / 1000.0


def rain_reflectivity_dbz(
    rain_rate: np.ndarray, convective: np.ndarray, dsd_db: np.ndarray | float = 0.0
) -> np.ndarray:
    """Reflectivity (dBZ) of surface rain by regime-dependent Z–R relations, ``10 log10 a +
    b · 10 log10 R + dsd_db`` (``dsd_db``: the drop-size perturbation of ``10 log10 a``);
    −inf for no rain."""
    log_a = np.where(
        convective, 10.0 * np.log10(Z_R_CONVECTIVE[0]), 10.0 * np.log10(Z_R_STRATIFORM[0])
    )
    b = np.where(convective, Z_R_CONVECTIVE[1], Z_R_STRATIFORM[1])
    with np.errstate(divide="ignore"):
        return log_a + b * 10.0 * np.log10(np.maximum(rain_rate, 0.0)) + dsd_db


def clutter_depth_km(ray_offset: np.ndarray, roughness_m: np.ndarray) -> np.ndarray:
    """Depth of ground clutter above the surface (km): 0.5 km at nadir, ≈ 2 km at the swath
    edge (the sidelobe/main-lobe surface echo widens with incidence angle), plus a tenth of the
    local terrain roughness (m)."""
    edge = np.clip(np.abs(ray_offset) / (DPR_N_RAYS // 2), 0.0, 1.0)
    return 0.5 + 1.5 * edge**2 + 0.1 * roughness_m / 1000.0


def dpr_reflectivity_profile(
    rng: np.random.Generator,
    grid: SceneGrid,
    rain_rate: np.ndarray,
    convective: np.ndarray,
    echo_top_km: np.ndarray,
    freezing_level_km: np.ndarray,
    elevation_m: np.ndarray,
    ray_offset: np.ndarray,
    noise: bool = True,
    dsd_spread_db: tuple[float, float] | None = None,
) -> np.ndarray:
    """Ku measured reflectivity profiles.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream for the measurement noise.
    grid : SceneGrid
        Grid of the columns (footprint smoothing uses its spacing).
    rain_rate : numpy.ndarray
        (ny, nx) instantaneous surface rain (mm h-1).
    convective : numpy.ndarray
        (ny, nx) bool rain type.
    echo_top_km, freezing_level_km : numpy.ndarray
        (ny, nx) heights above sea level (km).
    elevation_m : numpy.ndarray
        (ny, nx) surface height (m).
    ray_offset : numpy.ndarray
        (ny, nx) cross-track ray index relative to nadir (0 at nadir, ±24 at the edges).
    noise : bool
        Add measurement noise.
    dsd_spread_db : (float, float)
        σ (dB) of the per-cell Z–R prefactor for stratiform and convective rain (default
        :data:`DSD_SPREAD_DB`); ``(0, 0)`` gives the fixed climatological relations.

    Returns
    -------
    numpy.ndarray
        float32 (176, ny, nx) dBZ, NaN where nothing is detected, in clutter or underground.
    """
    ny, nx = rain_rate.shape
    out = np.full((DPR_N_BINS, ny, nx), np.nan, dtype=np.float32)
    px_km = float(np.sqrt(grid.dy_km * grid.dx_km))
    sigma = DPR_FOOTPRINT_KM / 2.3548 / px_km
    # Only columns with rain, and their neighbours within the beam, can hold an echo: compute
    # profiles there (compressed), then place them in the cube for the beam smoothing.
    raining = rain_rate >= 0.05
    reach = int(np.ceil(3.0 * sigma))
    near = ndimage.binary_dilation(raining, iterations=reach) if reach > 0 else raining
    if not raining.any():
        return out
    rate = rain_rate[raining][None]
    # Only bins below the highest echo top can hold an echo: skip the empty upper profile.
    all_heights = bin_heights_km()
    top_bin = int(np.searchsorted(-all_heights, -float(echo_top_km[raining].max())))
    heights = all_heights[top_bin:, None].astype(np.float32)  # single precision throughout
    if dsd_spread_db is None:
        dsd_spread_db = DSD_SPREAD_DB
    dsd = power_law_noise(
        rng, (ny, nx), 3.0, (grid.dy_km, grid.dx_km), max_wavelength_km=40.0
    ) * np.where(convective, np.float32(dsd_spread_db[1]), np.float32(dsd_spread_db[0]))
    z_rain = rain_reflectivity_dbz(rate, convective[raining][None], dsd[raining][None])
    fl = freezing_level_km[raining][None]
    top = echo_top_km[raining][None]
    ground = (elevation_m[raining] / 1000.0)[None]
    conv = convective[raining][None]
    warm = top <= fl
    above = heights - fl
    strength = np.clip(7.0 + 2.0 * np.log10(np.maximum(rate, 1e-3)), 4.0, 10.0)
    bright_band = strength * np.exp(-(((heights - (fl - 0.2)) / 0.25) ** 2))
    stratiform_profile = np.where(above < 0, bright_band, -4.0 - 1.5 * above + bright_band)
    convective_profile = np.where(above < 1.5, 1.0 * (above > 0), 1.0 - 2.5 * (above - 1.5))
    warm_profile = -1.0 * np.maximum(heights - ground, 0.0)
    profile = np.where(warm, warm_profile, np.where(conv, convective_profile, stratiform_profile))
    inside = (heights <= top) & (heights >= ground)
    # Two-way attenuation accumulated from the top of the liquid layer downwards.
    k_liquid = 0.025 * np.power(rate, 1.1) * ((heights < fl) & (heights >= ground))
    path = 2.0 * np.cumsum(k_liquid, axis=0) * (DPR_BIN_SPACING_M / 1000.0)
    linear_columns = np.where(inside, np.power(10.0, (z_rain + profile - path) / 10.0), 0.0)

    cube = np.zeros((DPR_N_BINS - top_bin, ny, nx), dtype=np.float32)
    cube[:, raining] = linear_columns
    if sigma > 0:
        cube = ndimage.gaussian_filter(cube, (0.0, sigma, sigma), mode="nearest", truncate=3.0)
    cube = cube[:, near]
    with np.errstate(divide="ignore"):
        measured = 10.0 * np.log10(cube)
    if noise:
        echo = np.isfinite(measured)
        measured[echo] += 0.7 * rng.standard_normal(int(echo.sum())).astype(np.float32)

    roughness = ndimage.maximum_filter(elevation_m, 3) - ndimage.minimum_filter(elevation_m, 3)
    bottom = elevation_m[near] / 1000.0 + clutter_depth_km(ray_offset[near], roughness[near])
    valid = (measured >= DPR_MIN_DETECTABLE_DBZ) & (bin_heights_km()[top_bin:, None] >= bottom)
    profiles = np.full((DPR_N_BINS, measured.shape[1]), np.nan, dtype=np.float32)
    profiles[top_bin:] = np.where(valid, measured, np.nan)
    out[:, near] = profiles
    return out
