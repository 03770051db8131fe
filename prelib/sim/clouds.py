"""Clouds and hydrometeor columns of a scene, derived from its rain.

What the satellites see is clouds, not rain. This module builds the cloud structure that makes
the IR–rain relation weak and the microwave relation strong, as in nature (sensor_physics.md):

* **rain clouds** with tops set by the rain type: deep convective towers reaching the
  tropopause (the strongest overshooting it), nimbostratus 1.5–5 km above the 0 °C level, and
  **warm rain** from shallow (orographic) clouds whose tops stay below or near the 0 °C level
  (IR-warm, no ice);
* a **non-raining cloud shield** around every rain area (cloud decks are 2–3× larger than
  the rain they produce), of varying extent and carried downstream by the upper flow;
* **anvils** spreading 2–5× wider than the convective cores, displaced downwind by the upper
  flow, opaque near the cores and thin at the edges (Houze 2004);
* **thin cirrus** sheets unrelated to surface rain and **low clouds** (stratocumulus) without
  rain;
* columns for the microwave: ice water path (scattering), cloud liquid and rain water path
  (emission), and upper-tropospheric humidity (water-vapour channels).

Heights are km above sea level; optical depths are visible optical depths (the thermal-IR
absorption optical depth is about half of it; Minnis et al. 1993).

Where IR is weak, and why (each mechanism varies by regime through the tables below):

* **warm rain** (:data:`WARM_RAIN_FRACTION`): part of the stratiform/main rain falls from
  shallow clouds whose tops stay below the 0 °C level. TRMM found warm rain in roughly a third
  of the raining area over tropical oceans and a fifth of the rain there (Lau & Wu 2003; Liu &
  Zipser 2009), and orographic rain is largely warm and shallow (Shige & Kummerow 2016). Such
  clouds are IR-warm and carry no ice, so IR and the ice-scattering channels miss them; radar
  and ocean emission see them;
* **anvil and cirrus extent and optical-depth variability** (:data:`ANVIL_SPREAD_KM`,
  :data:`CIRRUS_COVER`): anvils spread 2–5 times wider than their cores (Houze 2004), and
  cirrus optical depth spans subvisual (< 0.03) to opaque (> 3) within one sheet (Sassen & Cho
  1992), so its visible optical depth is lognormal (σ_ln = :data:`CIRRUS_LOG_SPREAD`);
* **multi-layer cloud** (:data:`MID_DECK_COVER`): non-raining altostratus decks 0.5–3 km above
  the 0 °C level, often under cirrus, whose cold opaque tops look like nimbostratus;
* **decaying convection**: cells that rained half an hour ago (:mod:`prelib.sim.weather`) keep
  their deep, cold tops and part of their ice aloft while the surface rain has stopped — the
  cold-top-no-rain error of IR schemes (e.g. Vicente et al. 1998 screen it out with a growth
  test) and an ice-scattering signal without rain beneath it;
* **ice-scattering variability**: the ice that scatters 89–183 GHz is not tied one-to-one to
  the surface rate (riming, graupel versus snow, storm depth): a lognormal factor with
  σ_ln = :data:`ICE_LOG_SPREAD` on mesoscale (20–150 km) patterns (the scattering–rain scatter
  of e.g. Petković & Kummerow 2017).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from prelib.sim.geography import SceneGrid
from prelib.sim.noise import power_law_noise
from prelib.sim.regimes import REGIME_PARAMS
from prelib.sim.weather import PrecipitationFields

CIRRUS_COVER: dict[str, tuple[float, float]] = {
    "frontal": (0.25, 0.55),
    "convective": (0.15, 0.45),
    "orographic": (0.05, 0.3),
    "stratiform": (0.1, 0.35),
}
"""Range of the scene fraction covered by non-raining thin cirrus per regime (ISCCP and
CALIPSO find cirrus over 20–40 % of the tropics and mid-latitude storm tracks)."""

CIRRUS_LOG_SPREAD = 0.7
"""σ of ln(visible optical depth) of cirrus within a sheet (Sassen & Cho 1992 classes span
two orders of magnitude)."""

ANVIL_SPREAD_KM: dict[str, tuple[float, float]] = {
    "frontal": (15.0, 35.0),
    "convective": (20.0, 45.0),
    "orographic": (10.0, 25.0),
    "stratiform": (10.0, 25.0),
}
"""Range of the Gaussian spread (km) of anvils around their convective cores per regime:
anvils are 2–5 times wider than their cores and those of mesoscale convective systems extend
over hundreds of km (Houze 2004), widest in organised tropical convection. A spread σ gives an
anvil about 4σ across (80–180 km for the convective regime)."""

WARM_RAIN_FRACTION: dict[str, tuple[float, float]] = {
    "frontal": (0.0, 0.1),
    "convective": (0.1, 0.35),
    "orographic": (0.3, 0.7),
    "stratiform": (0.0, 0.15),
}
"""Range of the fraction of the main rain area that falls from warm (ice-free) clouds; it is
halved over land for the convective regime (the shallow maritime rain is oceanic)."""

MID_DECK_COVER: dict[str, tuple[float, float]] = {
    "frontal": (0.05, 0.2),
    "convective": (0.02, 0.1),
    "orographic": (0.03, 0.12),
    "stratiform": (0.05, 0.2),
}
"""Range of the scene fraction covered by non-raining mid-level (altostratus) decks."""

SHIELD_SPREAD_KM = (15.0, 45.0)
"""Range of the Gaussian spread (km) of the non-raining cloud shield around a rain area."""

SHIELD_DRIFT_S = (0.0, 3600.0)
"""Range of the time (s) over which the steering flow has carried the shield downstream of its
rain (upper-level outflow)."""

ICE_LOG_SPREAD = 0.35
"""σ of ln(scattering ice per unit rain) across a scene."""


@dataclass(frozen=True)
class CloudFields:
    """Cloud layers and hydrometeor columns, all (ny, nx) float64 on the padded grid.

    Attributes
    ----------
    main_top_km, main_tau : top height (km a.s.l.) and visible optical depth of the main cloud
        (rain clouds, their fringe, low clouds); ``main_tau = 0`` where clear.
    high_top_km, high_tau : the same for the upper ice layer (anvils, cirrus).
    ice_water_path : kg m-2 of precipitating/anvil ice (microwave scattering).
    cloud_liquid_path : kg m-2 of cloud liquid water.
    rain_water_path : kg m-2 of rain between the surface and the 0 °C level.
    upper_humidity : upper-tropospheric relative humidity in [0, 1].
    """

    main_top_km: np.ndarray
    main_tau: np.ndarray
    high_top_km: np.ndarray
    high_tau: np.ndarray
    ice_water_path: np.ndarray
    cloud_liquid_path: np.ndarray
    rain_water_path: np.ndarray
    upper_humidity: np.ndarray


def _blur(field: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian smoothing of ``field`` (σ in pixels). Wide kernels (σ ≥ 3 px) use three passes of
    a box filter of the same variance (Wells 1986), whose cost does not grow with σ; the result
    differs from the Gaussian by a few per cent at the peak."""
    field = np.asarray(field, dtype=np.float32)
    if sigma_px < 3.0:
        return ndimage.gaussian_filter(field, sigma_px, truncate=3.0)
    width = max(round(float(np.sqrt(4.0 * sigma_px**2 + 1.0))), 1)  # 3 boxes: 3 (w² − 1) / 12 = σ²
    for _ in range(3):
        field = ndimage.uniform_filter(field, width)
    return field


def _shift_whole(field: np.ndarray, shift: tuple[int, int]) -> np.ndarray:
    """``field`` moved by whole pixels (rows, columns), edges repeated."""
    dy, dx = (int(v) for v in shift)
    ny, nx = field.shape
    dy, dx = int(np.clip(dy, -ny + 1, ny - 1)), int(np.clip(dx, -nx + 1, nx - 1))
    padded = np.pad(field, ((max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0))), mode="edge")
    return padded[max(-dy, 0) : max(-dy, 0) + ny, max(-dx, 0) : max(-dx, 0) + nx]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def simulate_clouds(
    rng: np.random.Generator,
    regime: str,
    grid: SceneGrid,
    rain: PrecipitationFields,
    elevation_m: np.ndarray,
    land: np.ndarray,
    freezing_level_km: np.ndarray,
    tropopause_km: np.ndarray,
    advect_px: tuple[float, float] = (0.0, 0.0),
) -> CloudFields:
    """Build the cloud fields of a scene from its rain at the observation time.

    Parameters
    ----------
    rng : numpy.random.Generator
        The scene's cloud stream.
    regime : str
        Scene regime (sets rain-cloud depth and cirrus cover).
    grid : SceneGrid
        Padded grid.
    rain : PrecipitationFields
        The scene's rain (instantaneous components are used).
    elevation_m, land : numpy.ndarray
        Terrain (m) and land mask on the grid.
    freezing_level_km, tropopause_km : numpy.ndarray
        0 °C level and tropopause heights (km a.s.l.) on the grid.
    advect_px : (float, float)
        How far (pixels along y, x) the air has moved since the storm's first hour, for the
        later hours of a multi-hour storm (:mod:`prelib.sim.weather`): drawn from the same
        ``rng`` stream as that first hour, every cloud texture (decks, cirrus, warm-rain share,
        humidity) is carried this far with the flow, so the clouds of hour ``h + 1`` are those
        of hour ``h`` moved on, not a new draw. ``(0, 0)``: a single-hour scene, unchanged.
    """
    params = REGIME_PARAMS[regime]

    def texture(*args, **kwargs) -> np.ndarray:
        """A cloud texture from ``rng`` (:func:`power_law_noise`), carried by ``advect_px``."""
        field = power_law_noise(rng, *args, **kwargs)
        if advect_px[0] or advect_px[1]:
            field = ndimage.shift(field, advect_px, order=1, mode="nearest")
        return field

    spacing = (grid.dy_km, grid.dx_km)
    px_km = float(np.sqrt(grid.dy_km * grid.dx_km))
    ground_km = elevation_m / 1000.0
    fl = np.maximum(freezing_level_km, ground_km)
    trop = tropopause_km
    wobble = texture(grid.shape, 3.0, spacing, max_wavelength_km=40.0)

    # Rain-cloud tops per component (km a.s.l.).
    lo, hi = params.main_top_above_freezing_km
    main_above = rng.uniform(lo, hi) + 0.6 * wobble
    top_main = fl + main_above + 0.6 * np.log1p(rain.main)
    # Warm rain: a mesoscale pattern picks the share of the main rain area whose clouds stay
    # below the 0 °C level (ice-free, IR-warm).
    warm_field = texture(grid.shape, 3.0, spacing, min_wavelength_km=30.0)
    warm_share = rng.uniform(*WARM_RAIN_FRACTION[regime])
    if regime == "convective":
        warm_field = warm_field + np.where(land, -0.6, 0.3)
    main_raining = rain.main >= 0.05
    if warm_share > 0 and main_raining.any():
        cut = float(np.quantile(warm_field[main_raining], 1.0 - warm_share))
        warm = main_raining & (warm_field > cut)
        top_warm = fl - rng.uniform(0.2, 1.5) + 0.3 * wobble + 0.2 * np.log1p(rain.main)
        top_main = np.where(warm, np.minimum(top_warm, fl - 0.1), top_main)
    # Convective towers deepen with intensity; the strongest overshoot the tropopause by up to
    # ~1.5 km (overshooting tops, colder than the anvil they feed).
    depth = np.clip(0.45 + 0.55 * np.log1p(rain.cells) / np.log1p(60.0), 0.0, 1.0)
    top_cells = fl + depth * (trop + 1.5 - fl)
    # Orographic (upslope) rain comes from shallow, often warm clouds 1.5-3 km above the slope.
    top_oro = np.minimum(ground_km + 1.5 + 0.5 * np.log1p(rain.orographic), fl + 0.8)
    top_rain = np.full(grid.shape, -np.inf, dtype=np.float32)
    for top, rate in ((top_main, rain.main), (top_cells, rain.cells), (top_oro, rain.orographic)):
        top_rain = np.where(rate >= 0.05, np.maximum(top_rain, top), top_rain)
    raining = np.isfinite(top_rain)
    top_rain = np.clip(np.where(raining, top_rain, 0.0), ground_km + 1.0, trop + 1.5)

    # Non-raining cloud shield: precipitating systems are embedded in cloud decks 2-3 times
    # larger than their rain area (altostratus / cirrostratus ahead of fronts, stratiform decks
    # around convection). Within ~10 km of the rain the deck is as high as the rain cloud; it
    # thins and lowers outwards. Its extent varies from system to system
    # (:data:`SHIELD_SPREAD_KM`) and the upper-level flow carries it downstream of the rain
    # (the leading-line / trailing-stratiform and comma-cloud asymmetries; Houze 2004), so the
    # rain does not sit at the centre of its cold shield.
    sigma_px = rng.uniform(*SHIELD_SPREAD_KM) / px_km
    shield_drift = rng.uniform(*SHIELD_DRIFT_S)
    drift_px = (
        round(rain.wind_yx[0] * shield_drift / 1000.0 / grid.dy_km),
        round(rain.wind_yx[1] * shield_drift / 1000.0 / grid.dx_km),
    )
    top_capped = np.where(raining, np.minimum(top_rain, fl + 4.0), 0.0)
    # Whole-pixel drift is enough under a blur of σ ≥ 3 px, and costs only a copy.
    weight = _blur(_shift_whole(raining, drift_px), sigma_px)
    top_fringe = _blur(_shift_whole(top_capped, drift_px), sigma_px) / np.maximum(weight, 1e-6)
    fringe = (~raining) & (weight > 0.08)
    tau_rain = 20.0 + 15.0 * np.log1p(rain.instant)
    shield_tau = (2.0 + 40.0 * weight) * np.exp(0.5 * wobble)
    main_tau = np.where(raining, tau_rain, np.where(fringe, shield_tau, 0.0))
    main_top = np.where(raining, top_rain, np.where(fringe, top_fringe - 1.0 + 2.0 * weight, 0.0))

    # Low clouds (stratocumulus, more over the ocean) where there is no rain cloud: no rain.
    low_field = texture(grid.shape, 3.0, spacing, max_wavelength_km=300.0)
    low_field = low_field + np.where(land, -0.4, 0.4)
    low_cover = rng.uniform(0.1, 0.35)
    low = (low_field > np.quantile(low_field, 1.0 - low_cover)) & (main_tau == 0)
    main_tau = np.where(low, rng.uniform(4.0, 15.0) * (1 + 0.3 * wobble).clip(0.3), main_tau)
    main_top = np.where(low, ground_km + rng.uniform(0.8, 2.0) + 0.2 * wobble, main_top)

    # Non-raining mid-level decks (multi-layer cloud with the cirrus above).
    mid_field = texture(grid.shape, 3.0, spacing, max_wavelength_km=400.0)
    mid_cover = rng.uniform(*MID_DECK_COVER[regime])
    mid = (mid_field > np.quantile(mid_field, 1.0 - mid_cover)) & (main_tau == 0)
    mid_tau = rng.uniform(4.0, 12.0) * np.exp(0.6 * wobble)
    main_tau = np.where(mid, mid_tau, main_tau)
    main_top = np.where(mid, fl + rng.uniform(0.5, 3.0) + 0.4 * wobble, main_top)

    # Decaying convection: cells that rained 30 min ago keep deep, cold, opaque tops.
    decaying = rain.decaying if rain.decaying is not None else np.zeros(grid.shape, np.float32)
    dying = (decaying >= 1.0) & (rain.cells < 0.5 * decaying) & (rain.instant < 1.0)
    depth_past = np.clip(0.45 + 0.55 * np.log1p(decaying) / np.log1p(60.0), 0.0, 1.0)
    top_dying = fl + 0.9 * depth_past * (trop + 1.5 - fl)
    main_top = np.where(dying, np.maximum(main_top, top_dying), main_top)
    main_tau = np.where(dying, np.maximum(main_tau, 30.0), main_tau)

    # Anvils: spread of the convective cores (present and decaying), displaced downwind.
    cores = ((rain.cells >= 1.0) | (decaying >= 1.0)).astype(float)
    anvil = np.zeros(grid.shape, np.float32)
    spread_km = rng.uniform(*ANVIL_SPREAD_KM[regime])
    if cores.any():
        # Normalised so that an anvil fed by a core area of ~300 km2 is thick at its centre.
        spread_px = spread_km / px_km
        core_area_px = 300.0 / px_km**2
        anvil = _blur(cores, spread_px) * (2 * np.pi * spread_px**2)
        anvil = np.clip(anvil / core_area_px, 0.0, 1.0)
        drift = (
            rain.wind_yx[0] * 1800.0 / 1000.0 / grid.dy_km,
            rain.wind_yx[1] * 1800.0 / 1000.0 / grid.dx_km,
        )
        anvil = ndimage.shift(anvil, drift, order=1, mode="constant")
    anvil_tau = np.where(anvil > 0.03, 1.0 + 60.0 * anvil**0.7, 0.0)
    anvil_top = trop - 1.0 - 1.5 * (1.0 - anvil)

    # Thin cirrus: a synoptic sheet thresholded to the regime's cover.
    cirrus_field = texture(
        grid.shape, 3.0, spacing, min_wavelength_km=20.0, max_wavelength_km=600.0
    )
    cover = rng.uniform(*CIRRUS_COVER[regime])
    excess = cirrus_field - np.quantile(cirrus_field, 1.0 - cover)
    patchiness = texture(grid.shape, 2.5, spacing, max_wavelength_km=80.0)
    cirrus_tau = np.where(
        excess > 0,
        (0.2 + 2.5 * np.clip(excess, 0.0, 1.2))
        * np.exp(CIRRUS_LOG_SPREAD * patchiness - 0.5 * CIRRUS_LOG_SPREAD**2),
        0.0,
    )
    cirrus_top = trop - rng.uniform(1.5, 4.0) + 0.5 * wobble
    use_anvil = anvil_tau >= cirrus_tau
    high_tau = np.where(use_anvil, anvil_tau, cirrus_tau)
    high_top = np.where(use_anvil, anvil_top, cirrus_top)

    # Columns for the microwave. Ice only above the 0 °C level.
    ice_depth = np.clip((top_rain - fl) / 8.0, 0.0, 1.3) * raining
    ice_cells = 0.25 * rain.cells**0.8 * ice_depth
    ice_main = (
        0.12
        * (rain.main + 0.3 * rain.orographic) ** 0.7
        * np.clip((top_rain - fl) / 4.0, 0.0, 1.0)
        * raining
    )
    # Decaying cells keep part of their precipitation ice aloft (scattering without rain).
    ice_dying = 0.1 * decaying**0.8 * dying
    ice_scatter = texture(grid.shape, 3.0, spacing, min_wavelength_km=20.0, max_wavelength_km=150.0)
    ice_factor = np.exp(ICE_LOG_SPREAD * ice_scatter - 0.5 * ICE_LOG_SPREAD**2)
    # Anvil and cirrus ice is mostly small crystals: weak scattering per unit optical depth.
    ice_water_path = (
        (ice_cells + ice_main + ice_dying) * ice_factor + 0.004 * anvil_tau + 0.002 * cirrus_tau
    )
    cloud_liquid = np.where(raining, np.minimum(0.2 + 0.04 * rain.instant, 1.5), 0.0)
    cloud_liquid = cloud_liquid + np.where(~raining, 0.02 * main_tau, 0.0)
    # Marshall-Palmer liquid water content 0.072 R^0.88 g m-3 over the rain layer depth.
    rain_depth_m = 1000.0 * np.clip(fl - ground_km, 0.3, None)
    rain_water = 0.072e-3 * rain.instant**0.88 * rain_depth_m

    # Upper-tropospheric humidity: synoptic pattern, moistened around deep cloud.
    humid = texture(grid.shape, 3.5, spacing, max_wavelength_km=200.0)
    deep = _blur((high_tau + (main_top > fl + 3) * main_tau > 5).astype(float), 30.0 / px_km)
    upper_humidity = np.clip(_sigmoid(0.8 * humid - 0.3) + 0.4 * deep, 0.05, 1.0)

    return CloudFields(
        main_top_km=main_top,
        main_tau=main_tau,
        high_top_km=high_top,
        high_tau=high_tau,
        ice_water_path=ice_water_path,
        cloud_liquid_path=cloud_liquid,
        rain_water_path=rain_water,
        upper_humidity=upper_humidity,
    )
