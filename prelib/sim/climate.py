"""Climatology of the synthetic world: temperature, moisture, freezing level, wind and regimes.

Smooth, documented functions of latitude, season, time of day, land/sea and elevation. They set
the physical background on which the weather of :mod:`prelib.sim.weather` is drawn and give the
regime climatology of East Asia (tropical convection in the south, Meiyu/Baiu fronts in early
summer, orographic rain on the Himalaya and the south-east flank of the Tibetan Plateau,
mid-latitude fronts and stratiform rain in the north and in the cold season).
"""

from __future__ import annotations

import numpy as np

from prelib.conventions import REGIMES
from prelib.sim.seeding import as_datetime64

LAPSE_RATE_K_PER_KM = 6.5
"""Environmental lapse rate of the standard atmosphere (K km-1)."""

MOIST_LAPSE_RATE_K_PER_KM = 5.8
"""Lower-tropospheric lapse rate in precipitating air, used for the 0 °C level (K km-1).

A saturated column cools more slowly than 6.5 K km-1; 5.8 K km-1 puts the tropical 0 °C level
near the observed 4.5–5 km (sensor_physics.md)."""


def day_of_year(time: object) -> float:
    """Fractional day of year (1.0 = 1 January 00 UTC)."""
    t = as_datetime64(time)
    year_start = t.astype("datetime64[Y]").astype("datetime64[ns]")
    return 1.0 + float((t - year_start) / np.timedelta64(1, "D"))


def season_phase(time: object) -> float:
    """+1 in mid-July (boreal summer peak), −1 in mid-January; a cosine of the day of year."""
    return float(np.cos(2.0 * np.pi * (day_of_year(time) - 196.0) / 365.25))


def solar_zenith_deg(lat: np.ndarray, lon: np.ndarray, time: object) -> np.ndarray:
    """Solar zenith angle (degrees) from the declination and hour angle (Cooper 1969 approx.)."""
    doy = day_of_year(time)
    declination = np.deg2rad(23.44) * np.sin(2.0 * np.pi * (284.0 + doy) / 365.0)
    utc_hours = (doy % 1.0) * 24.0
    hour_angle = np.deg2rad(15.0 * (utc_hours + np.asarray(lon) / 15.0 - 12.0))
    phi = np.deg2rad(lat)
    cos_z = np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(declination) * np.cos(
        hour_angle
    )
    return np.rad2deg(np.arccos(np.clip(cos_z, -1.0, 1.0)))


def sea_level_temperature(
    lat: np.ndarray,
    lon: np.ndarray,
    land: np.ndarray,
    time: object,
    diurnal: bool = True,
) -> np.ndarray:
    """Surface temperature reduced to sea level, K.

    Ocean: ≈ 302 K at the equator falling as ``sin²(lat)`` to ≈ 280 K at 60°N, with a seasonal
    amplitude of 1 + 0.1 |lat| K. Land: the same annual mean with a continental seasonal
    amplitude of 2 + 0.2 |lat| K in summer and 2 + 0.3 |lat| K in winter (continental winters
    are colder than summers are warm) and, with ``diurnal``, a skin-temperature cycle of ±6 K
    peaking at 14 local solar time. Use ``diurnal=False`` for the air column (0 °C level, cloud
    tops), ``True`` for the emitting surface.
    """
    lat = np.asarray(lat, dtype=np.float64)
    phase = season_phase(time)
    base = 302.0 - 30.0 * np.sin(np.deg2rad(lat)) ** 2
    ocean = base + (1.0 + 0.1 * np.abs(lat)) * phase
    continental = base + (2.0 + (0.25 - 0.05 * phase) * np.abs(lat)) * phase
    if diurnal:
        local_hour = ((day_of_year(time) % 1.0) * 24.0 + np.asarray(lon) / 15.0) % 24.0
        continental = continental + 6.0 * np.cos(2.0 * np.pi * (local_hour - 14.0) / 24.0)
    return np.where(land, continental, ocean)


def surface_temperature(sea_level_t: np.ndarray, elevation_m: np.ndarray) -> np.ndarray:
    """Skin temperature (K) at the surface: sea-level value minus 6.5 K km-1 × elevation."""
    return sea_level_t - LAPSE_RATE_K_PER_KM * np.asarray(elevation_m) / 1000.0


def freezing_level_km(sea_level_t: np.ndarray) -> np.ndarray:
    """Height of the 0 °C level above sea level (km), from the moist lapse rate, in [0, 5.5]."""
    return np.clip((sea_level_t - 273.15) / MOIST_LAPSE_RATE_K_PER_KM, 0.0, 5.5)


def tropopause(lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(height km, temperature K) of the tropopause: 16.5 km / 193 K in the tropics to
    ≈ 11 km / 218 K at 60°N (standard climatology)."""
    s = np.clip(np.abs(np.asarray(lat, dtype=np.float64)) / 60.0, 0.0, 1.0)
    height = 16.5 - 5.5 * np.sin(0.5 * np.pi * s) ** 2
    temperature = 193.0 + 25.0 * np.sin(0.5 * np.pi * s) ** 2
    return height, temperature


def air_temperature(
    sea_level_t: np.ndarray,
    height_km: np.ndarray,
    lat: np.ndarray,
    tropopause_t: np.ndarray | None = None,
) -> np.ndarray:
    """Air temperature (K) at ``height_km``: 6.5 K km-1 lapse capped at the tropopause.

    ``tropopause_t`` (K) may be passed to skip recomputing it from ``lat``.
    """
    t_trop = tropopause(lat)[1] if tropopause_t is None else tropopause_t
    return np.maximum(sea_level_t - LAPSE_RATE_K_PER_KM * np.asarray(height_km), t_trop)


OVERSHOOT_LAPSE_RATE_K_PER_KM = 7.0
"""Cooling of an overshooting convective top above the tropopause (≈ dry adiabatic ascent of
the updraft core; overshooting tops are 5–15 K colder than the surrounding anvil)."""


def cloud_top_temperature(
    sea_level_t: np.ndarray, top_km: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """Temperature (K) of a cloud top: the environment below the tropopause and adiabatically
    cooled updraft air for tops overshooting it (Adler & Mack 1986)."""
    z_trop, t_trop = tropopause(lat)
    below = np.maximum(sea_level_t - LAPSE_RATE_K_PER_KM * np.asarray(top_km), t_trop)
    overshoot = np.maximum(np.asarray(top_km) - z_trop, 0.0)
    return below - OVERSHOOT_LAPSE_RATE_K_PER_KM * overshoot


def column_water_vapour(sea_level_t: np.ndarray) -> np.ndarray:
    """Total precipitable water (kg m-2): 50 kg m-2 at 300 K scaled by Clausius–Clapeyron
    (≈ 6.5 % K-1), i.e. ≈ 14 kg m-2 at 280 K."""
    return 50.0 * np.exp(0.065 * (np.asarray(sea_level_t) - 300.0))


def intensity_scale(sea_level_t: float) -> float:
    """Multiplier of rain intensities: Clausius–Clapeyron ≈ 7 % K-1 about 300 K, in [0.3, 1.2]
    (extreme hourly rain follows this scaling; Lenderink & van Meijgaard 2008)."""
    return float(np.clip(np.exp(0.07 * (sea_level_t - 300.0)), 0.3, 1.2))


def regime_weights(lat: float, time: object, rugged_fraction: float) -> dict[str, float]:
    """Relative frequency of each regime at a latitude and season.

    Parameters
    ----------
    lat : float
        Scene-centre latitude (degrees north).
    time : date-time-like
        Scene time (sets the season).
    rugged_fraction : float
        Fraction of the scene with elevation above 1500 m or steep slopes, in [0, 1].
    """
    summer = 0.5 * (1.0 + season_phase(time))  # 1 in July, 0 in January
    tropical = float(np.clip((25.0 - lat) / 15.0, 0.0, 1.0))
    midlat = float(np.exp(-(((lat - 38.0) / 12.0) ** 2)))
    # Meiyu/Baiu season: early-summer front between 25 and 38°N (June–July).
    doy = day_of_year(time)
    meiyu = float(np.exp(-(((doy - 180.0) / 25.0) ** 2)) * np.exp(-(((lat - 31.0) / 6.0) ** 2)))
    weights = {
        "convective": 0.15 + 0.9 * tropical + 0.5 * summer * (1 - tropical),
        "frontal": 0.1 + 0.8 * midlat * (1.0 - 0.5 * summer) + 1.5 * meiyu,
        "orographic": 2.5 * rugged_fraction,
        "stratiform": 0.1 + 0.6 * (1.0 - summer) * (1 - tropical) + 0.3 * midlat,
    }
    return {name: weights[name] for name in REGIMES}


def choose_regime(
    rng: np.random.Generator, lat: float, time: object, rugged_fraction: float
) -> str:
    """Draw a regime from :func:`regime_weights` (deterministic given ``rng``)."""
    weights = regime_weights(lat, time, rugged_fraction)
    p = np.array([weights[name] for name in REGIMES])
    return str(REGIMES[int(rng.choice(len(REGIMES), p=p / p.sum()))])


def steering_wind(
    rng: np.random.Generator, lat: float, time: object, regime: str
) -> tuple[float, float]:
    """Storm-steering / low-level moist flow (u east, v north) in m s-1.

    Tropics: easterlies (trades) in winter, south-westerly monsoon in summer; mid-latitudes:
    westerlies strengthening in winter. Orographic scenes use the moist low-level flow
    (south-westerly summer monsoon, north-westerly winter monsoon). Speeds 5–20 m s-1
    (sensor_physics.md), with a random perturbation of a few m s-1.
    """
    summer = 0.5 * (1.0 + season_phase(time))
    tropical = float(np.clip((25.0 - lat) / 15.0, 0.0, 1.0))
    if regime == "orographic":
        direction_from = 225.0 * summer + 315.0 * (1.0 - summer)  # SW monsoon / NW winter flow
        speed = rng.uniform(8.0, 16.0)
    else:
        westerly = 8.0 + 8.0 * (1.0 - summer)
        u_mean = tropical * (-5.0 + 9.0 * summer) + (1.0 - tropical) * westerly
        v_mean = tropical * 3.0 * summer + (1.0 - tropical) * 2.0
        u, v = u_mean + rng.normal(0, 3.0), v_mean + rng.normal(0, 3.0)
        speed = float(np.clip(np.hypot(u, v), 4.0, 20.0))
        direction_from = float(np.rad2deg(np.arctan2(-u, -v)) % 360.0)
        direction_from += rng.normal(0.0, 10.0)
    direction_from += rng.normal(0.0, 15.0) if regime == "orographic" else 0.0
    towards = np.deg2rad(direction_from + 180.0)
    return float(speed * np.sin(towards)), float(speed * np.cos(towards))
