"""Forward operator of the GPM Microwave Imager (13 channels, brightness temperature in K).

A one-layer plane-parallel emission model with an ice-scattering layer on top, per channel:

    t = exp(−sec θ · (τ_O2 + κ_v V + κ_l L + κ_r R)),    T_atm = T(z_eff)
    Tb_e = T_atm (1 − t) + t [e T_s + (1 − e)(T_atm (1 − t) + t · 2.7 K)]
    Tb   = Tb_e · exp(−s · IWP) + (1 − exp(−s · IWP)) · T_scat

(θ = 52.8° GMI incidence; V water vapour, L cloud liquid, R rain water path in kg m-2). Over the
**ocean** the low, strongly polarised emissivity (≈ 0.3 H / 0.6 V at 10–37 GHz) gives a cold
background that liquid **emission** warms towards 260–280 K; over **land** the emissivity is
0.88–0.96 and varies with soil moisture (wet soil is radiometrically colder, more at H
polarisation; Wang & Schmugge 1980), so emission is hidden and the **ice-scattering**
depression at 89–183 GHz is the signal (tens of K in stratiform rain, 100+ K in deep convection;
Spencer et al. 1989). The 183 GHz channels are opaque to the surface and see mid/upper-level
humidity. Land-surface emissivity varies with surface type (:data:`LAND_EMISSIVITY_STD`) and soil
wetness. **Non-uniform beam filling**: the footprint averages brightness temperature, not rain,
and Tb saturates with rain (emission) and with ice (scattering), so a footprint half filled by a
heavy cell reads like uniform moderate rain (Kummerow 1998). Each channel is then blurred by its
footprint (Gaussian, GMI mean IFOV from 25 km at
10.65 GHz to ≈ 5 km at 166/183 GHz; the paper's nominal resolution is 13 km) and gets NEΔT noise.
Absorption and scattering coefficients are order-of-magnitude values scaled ∝ f² for cloud
liquid (Rayleigh); they are documented here, not fitted.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from prelib.conventions import GMI_CHANNELS
from prelib.sim.climate import air_temperature, tropopause
from prelib.sim.clouds import CloudFields
from prelib.sim.geography import SceneGrid
from prelib.sim.noise import power_law_noise

GMI_INCIDENCE_DEG = 52.8

# Per channel (GMI_CHANNELS order): (footprint FWHM km, NEΔT K, τ_O2, κ_v per kg m-2,
# κ_l per kg m-2, s_ice per kg m-2, ocean emissivity, land emissivity (dry), wet-soil
# emissivity drop, effective emission height km). NEΔT from the GMI specification
# (Draper et al. 2015, IEEE JSTARS 8, 4983-4996).
_CHANNELS = (
    (25.0, 0.96, 0.008, 0.00015, 0.025, 0.0, 0.56, 0.95, 0.06, 1.5),  # 10.65V
    (25.0, 0.96, 0.008, 0.00015, 0.025, 0.0, 0.29, 0.90, 0.12, 1.5),  # 10.65H
    (14.0, 0.84, 0.012, 0.0012, 0.08, 0.01, 0.60, 0.95, 0.06, 1.5),  # 18.7V
    (14.0, 0.84, 0.012, 0.0012, 0.08, 0.01, 0.32, 0.90, 0.12, 1.5),  # 18.7H
    (12.5, 1.05, 0.015, 0.005, 0.12, 0.015, 0.62, 0.95, 0.06, 1.5),  # 23.8V
    (12.0, 0.65, 0.035, 0.0018, 0.30, 0.06, 0.66, 0.95, 0.05, 1.5),  # 36.64V
    (12.0, 0.65, 0.035, 0.0018, 0.30, 0.06, 0.37, 0.91, 0.10, 1.5),  # 36.64H
    (5.7, 0.57, 0.05, 0.0065, 1.10, 0.45, 0.76, 0.95, 0.04, 1.5),  # 89.0V
    (5.7, 0.57, 0.05, 0.0065, 1.10, 0.45, 0.48, 0.93, 0.07, 1.5),  # 89.0H
    (5.1, 1.50, 0.08, 0.015, 2.30, 0.90, 0.85, 0.94, 0.03, 2.0),  # 166V
    (5.1, 1.50, 0.08, 0.015, 2.30, 0.90, 0.65, 0.93, 0.05, 2.0),  # 166H
    (5.1, 1.50, 0.10, 0.12, 2.50, 1.10, 0.90, 0.94, 0.0, 6.0),  # 183.31+-3V
    (5.1, 1.50, 0.09, 0.04, 2.50, 1.00, 0.90, 0.94, 0.0, 4.0),  # 183.31+-7V
)

SCATTERING_TEMPERATURE_K = 90.0
"""Brightness temperature that a thick ice layer tends to (reflected cold sky)."""

LAND_EMISSIVITY_STD = 0.012
"""Standard deviation of the land-surface emissivity texture (vegetation, bare soil, urban,
wetland mixtures) at V polarisation, twice that at H: the emissivity atlases of Prigent et al.
(1997, 2006) show 0.85–0.98 at 10–37 GHz within a few hundred km. This variability is why the
emission signal of rain is unusable over land and PMW retrievals there are weaker than over
ocean."""

RAIN_ABSORPTION_FACTOR = 1.5
"""Absorption of rain water relative to the same mass of cloud liquid (larger drops)."""


def soil_moisture(rng: np.random.Generator, grid: SceneGrid, recent_rain: np.ndarray) -> np.ndarray:
    """Relative soil wetness in [0, 1]: a mesoscale pattern plus wetting by ``recent_rain``, the
    mean rate (mm h-1) over the hour that ends at the overpass: rain after it cannot wet the soil
    the radiometer sees."""
    pattern = power_law_noise(
        rng, grid.shape, 3.0, (grid.dy_km, grid.dx_km), max_wavelength_km=300.0
    )
    return np.clip(0.3 + 0.15 * pattern + 0.35 * (1.0 - np.exp(-recent_rain / 2.0)), 0.0, 1.0)


def gmi_brightness_temperature(
    rng: np.random.Generator,
    grid: SceneGrid,
    clouds: CloudFields,
    sea_level_t: np.ndarray,
    surface_t: np.ndarray,
    water_vapour: np.ndarray,
    land: np.ndarray,
    wetness: np.ndarray,
    noise: bool = True,
) -> np.ndarray:
    """GMI 1C-like calibrated brightness temperatures on the scene grid.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream for emissivity texture and noise.
    grid : SceneGrid
        Padded grid (footprint blurring uses its spacing).
    clouds : CloudFields
        Hydrometeor columns at the overpass time.
    sea_level_t, surface_t, water_vapour : numpy.ndarray
        (ny, nx) K, K, kg m-2.
    land : numpy.ndarray
        (ny, nx) bool.
    wetness : numpy.ndarray
        (ny, nx) soil wetness in [0, 1] (see :func:`soil_moisture`).
    noise : bool
        Add NEΔT noise.

    Returns
    -------
    numpy.ndarray
        float32 (13, ny, nx) in K, channels in :data:`prelib.conventions.GMI_CHANNELS` order.
    """
    secant = 1.0 / np.cos(np.deg2rad(GMI_INCIDENCE_DEG))
    surface_type = LAND_EMISSIVITY_STD * power_law_noise(
        rng, grid.shape, 2.5, (grid.dy_km, grid.dx_km), max_wavelength_km=200.0
    )
    out = np.empty((len(GMI_CHANNELS), *grid.shape), dtype=np.float32)
    px_km = float(np.sqrt(grid.dy_km * grid.dx_km))
    t_trop = tropopause(grid.lat)[1]
    for index, spec in enumerate(_CHANNELS):
        fwhm, nedt, tau_dry, k_v, k_l, s_ice, e_ocean, e_land, e_wet, z_eff = spec
        tau = (
            tau_dry
            + k_v * water_vapour
            + k_l * (clouds.cloud_liquid_path + RAIN_ABSORPTION_FACTOR * clouds.rain_water_path)
        )
        t = np.exp(-secant * tau)
        t_atm = air_temperature(sea_level_t, z_eff, grid.lat, t_trop)
        down = t_atm * (1 - t) + t * 2.7
        # H polarisation (the lower dry-land emissivities) varies about twice as much.
        texture = surface_type * (2.0 if e_land < 0.935 else 1.0)
        emissivity = np.where(land, np.minimum(e_land - e_wet * wetness + texture, 0.99), e_ocean)
        tb = t_atm * (1 - t) + t * (emissivity * surface_t + (1 - emissivity) * down)
        through_ice = np.exp(-s_ice * clouds.ice_water_path)
        tb = tb * through_ice + (1 - through_ice) * SCATTERING_TEMPERATURE_K
        sigma_px = fwhm / 2.3548 / px_km
        tb = ndimage.gaussian_filter(tb, sigma_px, mode="nearest")
        if noise:
            tb = tb + nedt * rng.standard_normal(grid.shape)
        out[index] = tb
    return out
