"""Precipitation fields of a scene and their evolution over the label hour.

:func:`simulate_precipitation` draws the regime's rain components (see
:mod:`prelib.sim.regimes`) on a padded :class:`~prelib.sim.geography.SceneGrid` and evolves
them in time by

* **advection** with the steering wind (Lagrangian persistence, the basis of nowcasting; Germann
  & Zawadzki 2002): ``L(x, t) = L(x − u Δt, t_obs)``,
* **growth/decay** of the envelope (a smooth latent trend) and **renewal** of the small-scale
  texture with the regime's lifetime: ``N(t) = cos φ N₁ + sin φ N₂``, ``φ = π/2 · Δt / τ``,
  which keeps the texture's variance while decorrelating it over ``τ`` (an AR-type evolution as
  in STEPS' cascade levels, Seed 2003).

The instantaneous rain at the observation time (the satellites' view) and the mean over the
label hour (the CLDAS-like truth) therefore differ exactly as they do in reality.

**Storms over several hours.** The same fields continue beyond their first hour: with
``lead_s`` (the time since the storm's first observation) the drawn fields are evaluated
``lead_s`` later instead of being drawn anew, so the hour ``h + 1`` of a storm is the hour ``h``
carried on by the wind, grown or decayed along its trend, with its texture renewed at the
regime's lifetime. Beyond one lifetime the renewal continues through a chain of independent
textures, ``N(t) = cos φ N_j + sin φ N_{j+1}``, ``φ = π/2 · (t − jτ) / τ`` for
``jτ ≤ t < (j + 1)τ`` (continuous, variance-preserving, the texture's correlation over ``Δt``
being ``cos(π/2 · Δt / τ)`` within a segment), so cells are born and die while the envelope
persists and moves. ``lead_s = 0`` is the single-hour scene, bit for bit. The linear latent
trend is meant for the few hours of a case, not for days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from prelib.sim.geography import SceneGrid
from prelib.sim.noise import power_law_noise
from prelib.sim.orographic import smith_barstad_precipitation
from prelib.sim.regimes import REGIME_PARAMS, RegimeParams

MAX_SHIFT_PER_SUBSTEP_PX = 1.5
"""The hourly label is integrated with enough sub-steps that the rain moves at most this many
pixels between them (4–24 sub-steps), so the accumulation has no stepping artefacts at any
resolution while coarse grids stay cheap."""


@dataclass(frozen=True)
class PrecipitationFields:
    """Rain of one scene on the padded grid (all (ny, nx) float64, mm h-1 unless stated).

    Attributes
    ----------
    instant : surface rain rate at the observation time.
    hourly : mean rate over the label hour ``(time − 1 h, time]``.
    main, cells, orographic : the components of ``instant``.
    convective : bool, rain type (convective where cells dominate; Steiner et al. 1995 use
        the same "peakedness" idea).
    envelope : the regime envelope (standardised latent units) at the observation time.
    wind_yx : (along +y, along +x) steering wind in m s-1.
    ir_view : (main, cells, orographic) at the IR image time, when it differs from the
        microwave overpass (``None`` otherwise).
    antecedent : mean rate over the hour that ends at the observation time (the label
        sub-steps at or before the observation, plus the observation itself): what the soil
        has received when the satellite looks. Nothing after the observation enters it, so no
        sensor can see label minutes that lie after its own time.
    decaying : rain of the cells half an hour before the observation, advected to it: where
        this exceeds the present cells, convection is decaying and its anvil and cold tops
        outlive the rain (:mod:`prelib.sim.clouds`).
    """

    instant: np.ndarray
    hourly: np.ndarray
    main: np.ndarray
    cells: np.ndarray
    orographic: np.ndarray
    convective: np.ndarray
    envelope: np.ndarray
    wind_yx: tuple[float, float]
    ir_view: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    antecedent: np.ndarray | None = None
    decaying: np.ndarray | None = None


def _band_envelope(
    rng: np.random.Generator, grid: SceneGrid, width_km: float, curvature: float
) -> np.ndarray:
    """A curved band (front, squall line): ``exp(−(d/w)²)`` of the distance ``d`` in km to a
    parabola crossing the scene near its centre, oriented SW–NE ± 25° (the usual orientation of
    Meiyu/Baiu and cold fronts over East Asia)."""
    ny, nx = grid.shape
    y = (np.arange(ny) - ny / 2)[:, None] * grid.dy_km
    x = (np.arange(nx) - nx / 2)[None, :] * grid.dx_km
    bearing = np.deg2rad(rng.uniform(20.0, 70.0) - grid.heading_deg)  # front axis, from +y
    along = y * np.cos(bearing) + x * np.sin(bearing)
    across = -y * np.sin(bearing) + x * np.cos(bearing)
    offset = rng.uniform(-0.2, 0.2) * min(ny * grid.dy_km, nx * grid.dx_km)
    distance = across - offset - curvature * along**2
    return np.exp(-((distance / width_km) ** 2))


def _standardise(field: np.ndarray) -> np.ndarray:
    std = field.std()
    return (field - field.mean()) / (std if std > 0 else 1.0)


def regime_envelope(rng: np.random.Generator, regime: str, grid: SceneGrid) -> np.ndarray:
    """The regime's large-scale organisation, standardised (mean 0, std 1) on the grid.

    frontal: a 100–300 km wide band plus synoptic variability; convective: mesoscale clusters
    (wavelengths > 100 km) and, in 40 % of scenes, a squall line; orographic and stratiform: a
    synoptic sheet (wavelengths > 150 km).
    """
    spacing = (grid.dy_km, grid.dx_km)
    synoptic = power_law_noise(rng, grid.shape, 3.5, spacing, min_wavelength_km=150.0)
    if regime == "frontal":
        band = _band_envelope(rng, grid, rng.uniform(50.0, 150.0), rng.uniform(-8e-4, 8e-4))
        return _standardise(3.0 * band + 0.5 * synoptic)
    if regime == "convective":
        clusters = power_law_noise(rng, grid.shape, 3.0, spacing, min_wavelength_km=80.0)
        # Convection is organised: flat (suppressed) between the mesoscale clusters.
        clusters = np.maximum(clusters, 0.3)
        if rng.uniform() < 0.4:
            line = _band_envelope(rng, grid, rng.uniform(15.0, 35.0), rng.uniform(-1e-3, 1e-3))
            clusters = clusters + 2.5 * line
        return _standardise(clusters)
    return synoptic


def _rain_from_latent(latent: np.ndarray, threshold: float, scale: float, sigma: float):
    return scale * np.expm1(sigma * np.maximum(latent - threshold, 0.0))


def _rotate(n1: np.ndarray, n2: np.ndarray, dt_s: float, lifetime_min: float) -> np.ndarray:
    phi = 0.5 * np.pi * np.clip(dt_s / (60.0 * lifetime_min), -1.0, 1.0)
    return np.cos(phi) * n1 + np.sin(phi) * n2


def _renew(textures: list[np.ndarray], dt_s: float, lifetime_min: float) -> np.ndarray:
    """Texture at ``dt_s`` (s) after the first observation, renewed with lifetime ``τ``.

    Up to one lifetime, or with only two textures, this is :func:`_rotate` of the first two
    (the single-hour world, unchanged); later it walks the chain ``textures[j] →
    textures[j + 1]`` one lifetime per link (see the module docstring).

    Raises
    ------
    ValueError
        If a chain of more than two textures is too short for ``dt_s``.
    """
    tau_s = 60.0 * lifetime_min
    if dt_s <= tau_s or len(textures) == 2:
        return _rotate(textures[0], textures[1], dt_s, lifetime_min)
    link = int(dt_s // tau_s)
    if link + 1 >= len(textures):
        raise ValueError(
            f"{len(textures)} textures cover {len(textures) - 1} lifetimes, not {dt_s:.0f} s"
        )
    phi = 0.5 * np.pi * (dt_s - link * tau_s) / tau_s
    return np.cos(phi) * textures[link] + np.sin(phi) * textures[link + 1]


def textures_needed(max_dt_s: float, lifetime_min: float) -> int:
    """How many independent textures :func:`_renew` needs to reach ``max_dt_s`` (s)."""
    return max(2, int(max_dt_s // (60.0 * lifetime_min)) + 2)


def simulate_precipitation(
    rng: np.random.Generator,
    regime: str,
    grid: SceneGrid,
    elevation_m: np.ndarray,
    wind_ne: tuple[float, float],
    observation_offset_s: float,
    sea_level_t: float,
    intensity_scale: float = 1.0,
    wet_scale: float = 1.0,
    ir_offset_s: float | None = None,
    lead_s: float = 0.0,
) -> PrecipitationFields:
    """Draw a scene's rain and integrate the hourly label.

    Parameters
    ----------
    rng : numpy.random.Generator
        The scene's weather stream.
    regime : str
        One of :data:`prelib.conventions.REGIMES`.
    grid : SceneGrid
        Padded simulation grid.
    elevation_m : numpy.ndarray
        (ny, nx) terrain on ``grid`` (m).
    wind_ne : (float, float)
        Steering wind (north, east components) in m s-1.
    observation_offset_s : float
        Observation time minus the label time (s); the label hour is ``[−3600, 0]`` s.
    sea_level_t : float
        Scene-mean sea-level temperature (K), for the Smith–Barstad uplift sensitivity.
    intensity_scale, wet_scale : float
        Climate multipliers of intensity (Clausius–Clapeyron) and of the wet fraction.
    ir_offset_s : float, optional
        IR image time minus the observation time (s); when given, the rain components at that
        time are returned in ``ir_view`` (the geostationary image nearest an overpass is up to
        several minutes away from it).
    lead_s : float
        Time (s, ≥ 0) since the storm's first observation: the rain drawn for that first hour
        (from the same ``rng`` stream), carried on by ``lead_s``: advected by the wind, grown
        or decayed along its trend, its texture renewed (see the module docstring). The
        observation and the label hour are then ``lead_s`` later; ``observation_offset_s`` and
        ``ir_offset_s`` stay relative to this hour. ``0`` is a single-hour scene.

    Returns
    -------
    PrecipitationFields
    """
    params: RegimeParams = REGIME_PARAMS[regime]
    if not lead_s >= 0.0:
        raise ValueError(f"lead_s must be >= 0 s, got {lead_s!r}")
    spacing = (grid.dy_km, grid.dx_km)
    wind_yx = grid.to_grid_components(*wind_ne)
    interior = grid.interior

    envelope = regime_envelope(rng, regime, grid)
    growth = power_law_noise(rng, grid.shape, 3.5, spacing, min_wavelength_km=150.0)
    growth *= params.growth_std_per_hour
    fine = 2.0 * max(spacing)
    main_1 = power_law_noise(rng, grid.shape, params.main_beta, spacing, min_wavelength_km=fine)
    main_2 = power_law_noise(rng, grid.shape, params.main_beta, spacing, min_wavelength_km=fine)
    cell_band = dict(min_wavelength_km=fine, max_wavelength_km=60.0)
    cell_1 = power_law_noise(rng, grid.shape, 2.0, spacing, **cell_band)
    cell_2 = power_law_noise(rng, grid.shape, 2.0, spacing, **cell_band)

    w = params.envelope_weight
    w_tex = np.sqrt(1.0 - w**2)
    # Cells live where the envelope is strong (mesoscale organisation of convection).
    w_cell = 0.85

    main_textures, cell_textures = [main_1, main_2], [cell_1, cell_2]

    def latents(dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        trend = envelope + growth * (dt_s / 3600.0)
        main = w * trend + w_tex * _renew(main_textures, dt_s, params.main_lifetime_min)
        cells = w_cell * trend + np.sqrt(1 - w_cell**2) * _renew(
            cell_textures, dt_s, params.cell_lifetime_min
        )
        return main, cells

    main_obs, cells_obs = latents(0.0)
    wet = float(np.clip(rng.uniform(*params.wet_fraction) * wet_scale, 0.005, 0.6))
    main_threshold = float(np.quantile(main_obs[interior], 1.0 - wet))
    cell_cover = rng.uniform(*params.cell_fraction) * wet_scale
    cell_threshold = (
        float(np.quantile(cells_obs[interior], 1.0 - cell_cover)) if cell_cover > 0 else np.inf
    )
    main_scale = params.main_scale * intensity_scale
    cell_scale = params.cell_scale * intensity_scale
    if lead_s > 0.0:
        # Later textures of a multi-hour storm, drawn after every draw of the first hour so
        # that the first hour stays what it is.
        latest = lead_s + abs(observation_offset_s) + abs(ir_offset_s or 0.0)
        for textures, beta, band, lifetime in (
            (
                main_textures,
                params.main_beta,
                dict(min_wavelength_km=fine),
                params.main_lifetime_min,
            ),
            (cell_textures, 2.0, cell_band, params.cell_lifetime_min),
        ):
            while len(textures) < textures_needed(latest, lifetime):
                textures.append(power_law_noise(rng, grid.shape, beta, spacing, **band))

    orographic_rate = np.zeros(grid.shape, np.float32)
    if params.orographic_factor > 0 and float(np.ptp(elevation_m)) > 50.0:
        # The linear theory's C_w is uniform; air lifted from a high plateau holds far less
        # vapour, so the rate is scaled by exp(-z / H_w) with the vapour scale height 2.5 km.
        orographic_rate = (
            params.orographic_factor
            * smith_barstad_precipitation(elevation_m, spacing, wind_yx, surface_t=sea_level_t)
            * np.exp(-elevation_m / 2500.0)
        )

    # Orographic flow is moist over most of the scene; elsewhere only near the rain area.
    moist_margin = 0.4 if regime == "orographic" else 0.3
    # Instantaneous rates saturate (moisture supply): soft cap at 100 mm h-1 at 300 K.
    peak_rate = 100.0 * intensity_scale

    def advected(dt_s: float) -> tuple[float, float]:
        """Pixels the flow moves the rain in ``dt_s`` seconds, along (y, x)."""
        return (wind_yx[0] * dt_s / (1000 * grid.dy_km), wind_yx[1] * dt_s / (1000 * grid.dx_km))

    def rain_at(dt_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rain components ``dt_s`` after this hour's observation (``lead_s + dt_s`` after
        the storm's first)."""
        dt_s = dt_s + lead_s
        main_l, cell_l = latents(dt_s)
        shift = advected(dt_s)
        if dt_s != 0.0:
            main_l = ndimage.shift(main_l, shift, order=1, mode="nearest")
            cell_l = ndimage.shift(cell_l, shift, order=1, mode="nearest")
        main_r = _rain_from_latent(main_l, main_threshold, main_scale, params.main_sigma)
        cell_r = _rain_from_latent(cell_l, cell_threshold, cell_scale, params.cell_sigma)
        # Terrain-locked upslope rain, modulated by the (advecting) mesoscale texture, where the
        # flow is moist enough to saturate when lifted (near and inside the rain area).
        texture = np.exp(0.5 * (main_l - w * envelope) - 0.125)
        moist = np.clip((main_l - main_threshold + moist_margin) / moist_margin, 0.0, 1.0)
        oro_r = orographic_rate * texture * moist
        cell_r = peak_rate * np.tanh(cell_r / peak_rate)
        return main_r, cell_r, oro_r

    main_r, cell_r, oro_r = rain_at(0.0)
    instant = main_r + cell_r + oro_r
    speed_px_per_hour = 3.6 * float(np.hypot(*wind_yx)) / min(spacing)
    n_steps = int(np.clip(np.ceil(speed_px_per_hour / MAX_SHIFT_PER_SUBSTEP_PX), 4, 24))
    label_times = -3600.0 + (np.arange(n_steps) + 0.5) * 3600.0 / n_steps
    hourly = np.zeros(grid.shape, dtype=np.float32)
    # Soil wetness at the overpass may only know the rain that has already fallen: the label
    # sub-steps at or before the observation time, plus the observation itself.
    antecedent = instant.astype(np.float32, copy=True)
    n_antecedent = 1
    for t in label_times:
        dt_s = float(t) - observation_offset_s
        step = sum(rain_at(dt_s))
        hourly += step
        if dt_s <= 0.0:
            antecedent += step
            n_antecedent += 1
    hourly /= n_steps
    antecedent /= n_antecedent
    convective = (cell_r > np.maximum(main_r + oro_r, 1.0)) | (instant >= 25.0)
    ir_view = rain_at(float(ir_offset_s)) if ir_offset_s else None
    # Cells 30 min earlier, carried with the flow to where they are now (the Lagrangian latent
    # without the shift): the past is visible to every sensor, because cloud tops outlive the
    # rain that built them; the future is not.
    past_latent = latents(lead_s - 1800.0)[1]
    if lead_s > 0.0:  # the first hour's frame moved on with the flow by lead_s
        past_latent = ndimage.shift(past_latent, advected(lead_s), order=1, mode="nearest")
    past_cells = _rain_from_latent(past_latent, cell_threshold, cell_scale, params.cell_sigma)
    decaying = peak_rate * np.tanh(past_cells / peak_rate)
    return PrecipitationFields(
        instant=instant,
        hourly=hourly,
        main=main_r,
        cells=cell_r,
        orographic=oro_r,
        convective=convective,
        envelope=w * envelope,
        wind_yx=(float(wind_yx[0]), float(wind_yx[1])),
        ir_view=ir_view,
        antecedent=antecedent,
        decaying=decaying,
    )
