"""Forward operator of FY-4A AGRI's infrared channels 07–14 (brightness temperature, K).

A two-layer grey-cloud radiative model evaluated in radiance at each channel's central
wavelength and inverted with Planck's law:

    L = ε_h B(T_h) + (1 − ε_h) [ε_m B(T_m) + (1 − ε_m) L_clear] + L_solar (3.7 µm only),

with cloud-top temperatures ``T = T_sfc,sl − 6.5 K km-1 · z`` capped at the tropopause (and
cooling further in overshooting convective tops), grey
emissivities ``ε = 1 − exp(−k_c τ / 2)`` (thermal absorption optical depth ≈ half the visible
one; ``k_c`` > 1 at 12 µm and < 1 at 8.5 µm for ice, which gives thin cirrus its positive
split-window difference T10.8 − T12.0 of a few K; Inoue 1985), clear-sky window radiance from
the surface skin temperature and emissivity minus water-vapour continuum absorption,
water-vapour channels that see the temperature at a humidity-dependent weighting-function peak
(≈ 7.5–10 km for 6.25 µm, 4.5–7 km for 7.1 µm; Soden & Bretherton 1993), a CO2 channel
(13.5 µm) peaking in the lower-middle troposphere, daytime solar reflection at 3.72 µm
(strong for water clouds), parallax (clouds displaced away from the sub-satellite point by
``z tan θ``), limb cooling ``−k (sec θ − 1)`` and Gaussian NEΔT scaled by the Planck slope.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from prelib.conventions import AGRI_IR_CHANNELS, AGRI_IR_WAVELENGTHS_UM
from prelib.sim.climate import (
    air_temperature,
    cloud_top_temperature,
    solar_zenith_deg,
    tropopause,
)
from prelib.sim.clouds import CloudFields
from prelib.sim.geography import SceneGrid

FY4A_SUBSATELLITE_LON = 104.7
"""FY-4A's nominal sub-satellite longitude (degrees east; ``NOMCenterLon`` of its L1 files)."""

EARTH_RADIUS_KM = 6371.0
GEOSTATIONARY_RADIUS_KM = 42164.0

# Per channel C07..C14: (kind, ice absorption factor k, WV continuum K per 10 kg m-2,
# limb-cooling coefficient K, NEΔT K, NEΔT reference temperature K, land / ocean emissivity).
# NEΔT values follow the AGRI specification (Yang et al. 2017, BAMS 98, 1637-1658).
_CHANNELS = (
    ("mir", 0.7, 0.3, 1.0, 0.7, 315.0, 0.90, 0.98),  # C07 3.72 µm high gain
    ("mir", 0.7, 0.3, 1.0, 0.2, 300.0, 0.90, 0.98),  # C08 3.72 µm low gain
    ("wv_high", 1.0, 0.0, 3.5, 0.3, 260.0, 1.0, 1.0),  # C09 6.25 µm
    ("wv_mid", 1.0, 0.0, 3.0, 0.3, 260.0, 1.0, 1.0),  # C10 7.1 µm
    ("window", 0.85, 0.8, 1.5, 0.2, 300.0, 0.93, 0.985),  # C11 8.5 µm
    ("window", 1.0, 0.6, 1.5, 0.2, 300.0, 0.97, 0.99),  # C12 10.8 µm
    ("window", 1.15, 1.0, 2.0, 0.2, 300.0, 0.975, 0.985),  # C13 12.0 µm
    ("co2", 1.05, 0.0, 3.0, 0.5, 260.0, 1.0, 1.0),  # C14 13.5 µm
)

_C1 = 1.191042e8  # W m-2 sr-1 µm4  (2 h c^2)
_C2 = 1.4387770e4  # µm K          (h c / k)
SOLAR_IRRADIANCE_372 = 10.5
"""Top-of-atmosphere solar spectral irradiance near 3.72 µm (W m-2 µm-1; Thuillier et al. 2003)."""


def planck_radiance(wavelength_um: float, temperature_k: np.ndarray) -> np.ndarray:
    """Spectral radiance B_λ(T) in W m-2 sr-1 µm-1."""
    return _C1 / (wavelength_um**5 * np.expm1(_C2 / (wavelength_um * temperature_k)))


def brightness_temperature(wavelength_um: float, radiance: np.ndarray) -> np.ndarray:
    """Inverse of :func:`planck_radiance` (K)."""
    return _C2 / (wavelength_um * np.log1p(_C1 / (wavelength_um**5 * np.maximum(radiance, 1e-12))))


def geostationary_view(
    lat: np.ndarray, lon: np.ndarray, subsatellite_lon: float = FY4A_SUBSATELLITE_LON
) -> tuple[np.ndarray, np.ndarray]:
    """(view zenith angle, azimuth from the sub-satellite point) in degrees.

    The zenith angle follows from the Earth-centre angle γ between the pixel and the
    sub-satellite point: ``sin θ = r_geo sin γ / d``, ``d² = r² + R² − 2 r R cos γ``.
    """
    phi = np.deg2rad(lat)
    dlon = np.deg2rad(np.asarray(lon) - subsatellite_lon)
    cos_gamma = np.clip(np.cos(phi) * np.cos(dlon), -1.0, 1.0)
    sin_gamma = np.sqrt(1.0 - cos_gamma**2)
    r, re = GEOSTATIONARY_RADIUS_KM, EARTH_RADIUS_KM
    distance = np.sqrt(r**2 + re**2 - 2 * r * re * cos_gamma)
    zenith = np.rad2deg(np.arcsin(np.clip(r * sin_gamma / distance, 0.0, 1.0)))
    azimuth = np.rad2deg(np.arctan2(np.sin(dlon) * np.cos(phi), np.sin(phi)))
    return zenith, azimuth


def apply_parallax(
    grid: SceneGrid, clouds: CloudFields, zenith_deg: np.ndarray, azimuth_deg: np.ndarray
) -> CloudFields:
    """Clouds as a geostationary imager maps them: displaced by ``z tan θ`` away from the
    sub-satellite point (a 12 km top at 45° lands 12 km — three 4 km pixels — poleward)."""
    top = np.where(clouds.high_tau > 0.5, clouds.high_top_km, clouds.main_top_km)
    shift_km = np.maximum(top, 0.0) * np.tan(np.deg2rad(zenith_deg))
    az = np.deg2rad(azimuth_deg)
    dy, dx = grid.to_grid_components(shift_km * np.cos(az), shift_km * np.sin(az))
    rows, cols = np.indices(grid.shape, dtype=np.float64)
    coords = [rows - dy / grid.dy_km, cols - dx / grid.dx_km]

    def move(field: np.ndarray) -> np.ndarray:
        return ndimage.map_coordinates(field, coords, order=1, mode="nearest")

    return CloudFields(
        main_top_km=move(clouds.main_top_km),
        main_tau=move(clouds.main_tau),
        high_top_km=move(clouds.high_top_km),
        high_tau=move(clouds.high_tau),
        ice_water_path=clouds.ice_water_path,
        cloud_liquid_path=clouds.cloud_liquid_path,
        rain_water_path=clouds.rain_water_path,
        upper_humidity=clouds.upper_humidity,
    )


def agri_brightness_temperature(
    rng: np.random.Generator,
    grid: SceneGrid,
    clouds: CloudFields,
    sea_level_t: np.ndarray,
    surface_t: np.ndarray,
    water_vapour: np.ndarray,
    freezing_level_km: np.ndarray,
    land: np.ndarray,
    elevation_m: np.ndarray,
    time: object,
    noise: bool = True,
) -> np.ndarray:
    """AGRI channels 07–14 brightness temperatures.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream for the instrument noise.
    grid : SceneGrid
        Grid with lat/lon (for view and solar geometry).
    clouds : CloudFields
        Cloud layers at the IR observation time (parallax is applied here).
    sea_level_t, surface_t : numpy.ndarray
        (ny, nx) sea-level and surface skin temperature (K).
    water_vapour : numpy.ndarray
        (ny, nx) column water vapour (kg m-2).
    freezing_level_km : numpy.ndarray
        (ny, nx) 0 °C level (km), separates water from ice cloud tops.
    land : numpy.ndarray
        (ny, nx) bool.
    elevation_m : numpy.ndarray
        (ny, nx) terrain (m).
    time : date-time-like
        Observation time (solar geometry at 3.72 µm).
    noise : bool
        Add NEΔT noise.

    Returns
    -------
    numpy.ndarray
        float32 (8, ny, nx) in K, channels in :data:`prelib.conventions.AGRI_IR_CHANNELS` order.
    """
    zenith, azimuth = geostationary_view(grid.lat, grid.lon)
    clouds = apply_parallax(grid, clouds, zenith, azimuth)
    lat = grid.lat
    t_trop = tropopause(lat)[1]
    t_high = cloud_top_temperature(sea_level_t, clouds.high_top_km, lat)
    t_main = cloud_top_temperature(sea_level_t, clouds.main_top_km, lat)
    ground_km = elevation_m / 1000.0
    water_top = clouds.main_top_km < freezing_level_km + 1.5  # liquid-topped main cloud
    cos_sun = np.clip(np.cos(np.deg2rad(solar_zenith_deg(lat, grid.lon, time))), 0.0, 1.0)
    secant_excess = 1.0 / np.cos(np.deg2rad(np.minimum(zenith, 80.0))) - 1.0
    out = np.empty((len(AGRI_IR_CHANNELS), *grid.shape), dtype=np.float32)
    for index, (wavelength, spec) in enumerate(zip(AGRI_IR_WAVELENGTHS_UM, _CHANNELS, strict=True)):
        kind, k_ice, wv_k, limb, nedt, t_ref, e_land, e_ocean = spec
        eps_high = 1.0 - np.exp(-k_ice * clouds.high_tau / 2.0)
        k_main = np.where(water_top, 1.0, k_ice)
        eps_main = 1.0 - np.exp(-k_main * clouds.main_tau / 2.0)
        if kind in ("window", "mir"):
            emissivity = np.where(land, e_land, e_ocean)
            sky = planck_radiance(wavelength, surface_t - 40.0)
            clear = emissivity * planck_radiance(wavelength, surface_t) + (1 - emissivity) * sky
            clear_t = brightness_temperature(wavelength, clear) - wv_k * water_vapour / 10.0
            clear = planck_radiance(wavelength, clear_t)
            if kind == "mir":  # water droplets reflect ~20 % at 3.7 µm: emissivity <= 0.8
                eps_main = eps_main * np.where(water_top, 0.8, 0.95)
        else:
            if kind == "wv_high":
                peak = 7.5 + 2.5 * clouds.upper_humidity
            elif kind == "wv_mid":
                peak = 4.5 + 2.5 * clouds.upper_humidity
            else:  # CO2 13.5 µm: lower-middle troposphere, or the ground on high plateaus
                peak = np.maximum(3.5, ground_km + 1.0)
            clear = planck_radiance(wavelength, air_temperature(sea_level_t, peak, lat, t_trop))
            # A cloud is seen only where its top reaches the channel's weighting function.
            eps_high = eps_high * np.clip((clouds.high_top_km - peak + 1.5) / 2.0, 0.0, 1.0)
            eps_main = eps_main * np.clip((clouds.main_top_km - peak + 1.5) / 2.0, 0.0, 1.0)
        below = eps_main * planck_radiance(wavelength, t_main) + (1 - eps_main) * clear
        radiance = eps_high * planck_radiance(wavelength, t_high) + (1 - eps_high) * below
        if kind == "mir":
            reflect_main = np.where(water_top, 0.2, 0.05) * (1 - np.exp(-clouds.main_tau / 6.0))
            reflect_surface = np.where(land, 0.08, 0.02) * (1 - eps_main)
            reflectance = (1 - eps_high) * (reflect_main + reflect_surface) + 0.04 * eps_high
            radiance = radiance + reflectance * SOLAR_IRRADIANCE_372 * cos_sun / np.pi
        tb = brightness_temperature(wavelength, radiance) - limb * secant_excess
        if noise:
            slope_ratio = _planck_slope(wavelength, t_ref) / _planck_slope(wavelength, tb)
            tb = tb + rng.standard_normal(grid.shape) * np.minimum(nedt * slope_ratio, 4.0)
        out[index] = tb
    return out


def _planck_slope(wavelength_um: float, temperature_k: np.ndarray) -> np.ndarray:
    """dB/dT (W m-2 sr-1 µm-1 K-1), used to scale NEΔT with scene temperature."""
    x = _C2 / (wavelength_um * np.asarray(temperature_k))
    return (
        planck_radiance(wavelength_um, temperature_k)
        * x
        * np.exp(x)
        / (np.expm1(x) * temperature_k)
    )
