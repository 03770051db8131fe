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

Sampling geometry (the real causes of the Swath-MPR → Full-IPR shift on the IR side):

* **pixel growth towards the limb**: a geostationary pixel of 4 km at the sub-satellite point
  grows with the slant range ``d`` and, along the look direction, with ``1 / cos θ``; AGRI's
  4 km pixels are ≈ 5.6 km at θ = 55° and ≈ 7.6 km at 70° in geometric mean (≈ 13 km along
  the look direction; θ reaches 66–78° in the north-east of the domain). The
  image is blurred by a Gaussian footprint of FWHM ``4 km · (d / h₀) / sqrt(cos θ)`` (the
  geometric mean of the along- and across-look sizes: an isotropic simplification);
* **resampling to the swath grid**: Swath-MPR carries the FY-4A image *resampled* to the 5 km
  DPR swath (scan lines tilted to the geostationary grid), which adds the bilinear kernel's
  variance ``(pixel size)² / 6`` per axis; Full-IPR patches stay on the disc's own 4 km pixels
  (here approximated by the 0.04° grid);
* **scan time**: the full-disc image is scanned north to south in ≈ 15 min, so a latitude's
  line is seen :func:`line_scan_offset_s` after the image's nominal time (the label hour's
  end), whereas a swath's IR image is the one nearest the overpass;
* **calibration by year**: AGRI's on-orbit calibration drifted between years by a few tenths
  of a kelvin at 10.8–12 µm and more at 3.7 µm (inter-calibration against IASI/CrIS; e.g.
  Xu et al. 2020 report biases of −1 to +1 K changing with calibration updates):
  :func:`calibration_bias_k` gives each year and channel a fixed, documented offset.
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
from prelib.sim.seeding import as_datetime64

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


GEOSTATIONARY_ALTITUDE_KM = GEOSTATIONARY_RADIUS_KM - EARTH_RADIUS_KM
AGRI_NADIR_PIXEL_KM = 4.0
"""AGRI's infrared sampling distance at the sub-satellite point (km)."""

FULL_DISC_SCAN_S = 15.0 * 60.0
"""Duration of one AGRI full-disc scan, north to south (s)."""

CALIBRATION_BIAS_STD_K = (0.8, 0.8, 0.3, 0.3, 0.3, 0.25, 0.25, 0.4)
"""Standard deviation of the year-to-year calibration offset per channel C07..C14 (K)."""


def agri_pixel_size_km(zenith_deg: np.ndarray) -> np.ndarray:
    """Effective (geometric-mean) size of an AGRI infrared pixel at view zenith ``θ`` (km).

    The slant range grows from the altitude ``h₀`` at nadir to ``d``; along the look direction
    the footprint also stretches by ``1 / cos θ``: ``size = 4 km · (d / h₀) / sqrt(cos θ)``.
    """
    theta = np.deg2rad(np.minimum(np.asarray(zenith_deg, dtype=np.float64), 80.0))
    r, re = GEOSTATIONARY_RADIUS_KM, EARTH_RADIUS_KM
    # Slant range from the view zenith: d = sqrt(r² − re² sin² θ) − re cos θ.
    slant = np.sqrt(r**2 - (re * np.sin(theta)) ** 2) - re * np.cos(theta)
    return AGRI_NADIR_PIXEL_KM * (slant / GEOSTATIONARY_ALTITUDE_KM) / np.sqrt(np.cos(theta))


def line_scan_offset_s(lat: float) -> float:
    """Seconds between a full-disc image's nominal time and the scan of latitude ``lat``.

    The disc spans ±81.3° of latitude at the sub-satellite longitude and is scanned north to
    south in :data:`FULL_DISC_SCAN_S`.
    """
    return float(FULL_DISC_SCAN_S * np.clip((81.3 - lat) / 162.6, 0.0, 1.0))


def calibration_bias_k(year: int) -> np.ndarray:
    """(8,) fixed calibration offset (K) of AGRI channels 07–14 in ``year``: a draw of zero mean
    and :data:`CALIBRATION_BIAS_STD_K` from a generator keyed by the year alone, so every scene
    of a year shares it."""
    rng = np.random.default_rng(np.random.SeedSequence([7331, int(year)]))
    return rng.standard_normal(len(CALIBRATION_BIAS_STD_K)) * np.asarray(CALIBRATION_BIAS_STD_K)


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
    resampled_km: float | None = None,
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
    resampled_km : float, optional
        ``None``: the grid stands for the disc's own pixels (Full-IPR); a number: the image is
        resampled bilinearly onto this grid (the Swath-MPR swath), which adds the bilinear
        kernel's blur on top of the pixel footprint. Both blur with the view-angle-dependent
        pixel size (:func:`agri_pixel_size_km`).

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
    # Footprint (FWHM = pixel size) plus, for a resampled image, the bilinear kernel.
    pixel_km = float(np.mean(agri_pixel_size_km(zenith)))
    sigma_km2 = (pixel_km / 2.3548) ** 2 + (pixel_km**2 / 6.0 if resampled_km else 0.0)
    footprint_sigma_px = float(np.sqrt(sigma_km2) / np.sqrt(grid.dy_km * grid.dx_km))
    bias = calibration_bias_k(int(as_datetime64(time).astype("datetime64[Y]").astype(int)) + 1970)
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
        if footprint_sigma_px > 0:
            tb = ndimage.gaussian_filter(tb, footprint_sigma_px, mode="nearest", truncate=3.0)
        tb = tb + bias[index]
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
