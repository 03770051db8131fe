"""Parameters of the four precipitation regimes of the synthetic world.

Each regime is a mixture of up to three rain components, all in mm h-1:

* **main** — the mesoscale rain area: a latent Gaussian field ``L = w E + sqrt(1 − w²) N``
  (regime envelope ``E``: a front, a mesoscale cluster, a synoptic sheet; power-law texture
  ``N``), turned into rain by ``R = s · expm1(σ (L − L₀))₊`` with the threshold ``L₀`` set so
  that a fraction ``wet_fraction`` of the scene rains. A thresholded lognormal is the standard
  stochastic model of intermittent rain (e.g. STEPS, Seed 2003; pysteps);
* **cells** — convective cells 5–30 km across: the same construction with a rough
  (``β = 2``), high-passed texture and a short lifetime;
* **orographic** — the linear upslope rain of Smith & Barstad (2004) on the scene's terrain,
  times the main texture, scaled by a moisture factor (1 for the orographic regime, whose flow is
  saturated and onshore; smaller for the others).

The ranges below are the world's design values for a 256 × 256 scene at 4 km; they reproduce
the magnitudes of sensor_physics.md (stratiform 1–5 mm h-1, convective cores 30–100 mm h-1,
5–30 % wet pixels) and are checked by the tests (``WET_FRACTION_RANGE`` and ``MEAN_RAIN_RANGE``
for the hourly label).
"""

from __future__ import annotations

from dataclasses import dataclass

from prelib.conventions import REGIMES


@dataclass(frozen=True)
class RegimeParams:
    """Design parameters of one regime (see the module docstring for the model)."""

    wet_fraction: tuple[float, float]
    """Range of the main component's wet fraction at the observation time (drawn uniformly)."""
    main_scale: float
    """``s`` of the main component (mm h-1)."""
    main_sigma: float
    """``σ``: log-intensity growth per unit latent excess (sets the lognormal spread)."""
    main_beta: float
    """Spectral slope of the main texture."""
    envelope_weight: float
    """``w``: share of the envelope in the main latent field."""
    main_lifetime_min: float
    """Decorrelation time of the main texture (minutes)."""
    cell_fraction: tuple[float, float]
    """Range of the fraction of the scene covered by convective cells."""
    cell_scale: float
    cell_sigma: float
    cell_lifetime_min: float
    """Convective cell lifetime ≈ 30–60 min (Byers & Braham 1949)."""
    orographic_factor: float
    """Moisture/saturation factor applied to the Smith–Barstad rate."""
    growth_std_per_hour: float
    """Standard deviation of the envelope's growth/decay per hour (latent units)."""
    main_top_above_freezing_km: tuple[float, float]
    """Cloud-top height of the main rain area above the 0 °C level (km): negative = warm rain."""


REGIME_PARAMS: dict[str, RegimeParams] = {
    "frontal": RegimeParams(
        wet_fraction=(0.10, 0.25),
        main_scale=2.4,
        main_sigma=1.1,
        main_beta=3.0,
        envelope_weight=0.8,
        main_lifetime_min=150.0,
        cell_fraction=(0.005, 0.02),
        cell_scale=4.0,
        cell_sigma=1.3,
        cell_lifetime_min=45.0,
        orographic_factor=0.5,
        growth_std_per_hour=0.25,
        main_top_above_freezing_km=(2.5, 5.5),
    ),
    "convective": RegimeParams(
        wet_fraction=(0.04, 0.12),
        main_scale=0.8,
        main_sigma=0.9,
        main_beta=3.0,
        envelope_weight=0.85,
        main_lifetime_min=90.0,
        cell_fraction=(0.02, 0.06),
        cell_scale=3.0,
        cell_sigma=1.2,
        cell_lifetime_min=35.0,
        orographic_factor=0.2,
        growth_std_per_hour=0.4,
        main_top_above_freezing_km=(3.0, 7.0),
    ),
    "orographic": RegimeParams(
        wet_fraction=(0.05, 0.15),
        main_scale=1.2,
        main_sigma=0.9,
        main_beta=3.0,
        envelope_weight=0.6,
        main_lifetime_min=120.0,
        cell_fraction=(0.002, 0.01),
        cell_scale=3.0,
        cell_sigma=1.3,
        cell_lifetime_min=40.0,
        orographic_factor=1.0,
        growth_std_per_hour=0.2,
        main_top_above_freezing_km=(-1.5, 2.0),
    ),
    "stratiform": RegimeParams(
        wet_fraction=(0.15, 0.35),
        main_scale=1.6,
        main_sigma=0.8,
        main_beta=3.3,
        envelope_weight=0.8,
        main_lifetime_min=180.0,
        cell_fraction=(0.0, 0.0),
        cell_scale=2.0,
        cell_sigma=1.0,
        cell_lifetime_min=45.0,
        orographic_factor=0.3,
        growth_std_per_hour=0.15,
        main_top_above_freezing_km=(1.5, 4.0),
    ),
}

WET_FRACTION_RANGE: dict[str, tuple[float, float]] = {
    "frontal": (0.08, 0.40),
    "convective": (0.03, 0.30),
    "orographic": (0.05, 0.55),
    "stratiform": (0.08, 0.55),
}
"""Documented range of the hourly label's fraction of pixels ≥ 0.1 mm h-1 per regime
(single scenes of 128–256 scans or 256 × 256 pixels, 2–65°N, any season; checked by the
tests). Cold-season scenes sit at the low end: the wet fraction scales with season and latitude
(:mod:`prelib.sim.scene`)."""

MEAN_RAIN_RANGE: dict[str, tuple[float, float]] = {
    "frontal": (0.2, 6.0),
    "convective": (0.8, 12.0),
    "orographic": (0.5, 8.0),
    "stratiform": (0.15, 3.0),
}
"""Documented range of the hourly label's conditional mean (mm h-1, over pixels ≥ 0.1).
Intensities scale with temperature by Clausius–Clapeyron, so winter scenes are light."""


def check_regime(regime: str) -> str:
    """Return ``regime`` if known, else raise ``ValueError`` listing the regimes."""
    if regime not in REGIME_PARAMS:
        raise ValueError(f"unknown regime {regime!r}; choose one of {list(REGIMES)} or None")
    return regime
