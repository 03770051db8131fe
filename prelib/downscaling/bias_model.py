"""A documented error model that turns a fine "truth" field into a coarse, biased satellite product.

The model makes the (semi-)synthetic training pairs of :mod:`prelib.downscaling.data`: the fine
field (synthetic world at ≈1 km, or MRMS radar at 0.01°) plays the ground truth, and the output
plays an IMERG-like 0.1° product. It applies, in this order,

1. **displacement** — the whole fine field is shifted by ``displacement_px`` fine pixels
   ``(dy, dx)`` (parallax / advection-timing error of geostationary-IR and PMW-morphed products);
2. **coarsening** — block mean over ``factor × factor`` pixels (the product is an area average);
3. **intensity compression** — wet pixels map ``p → p_ref · (p / p_ref) ** gamma`` with
   ``gamma < 1``: rates above ``p_ref`` are lowered and rates below it raised, the
   well-documented under-estimation of heavy and over-estimation of light rain by satellite
   products;
4. **multiplicative bias** — every rate is multiplied by ``multiplicative``;
5. **random error** (optional) — log-normal multiplicative noise with log-standard-deviation
   ``noise_std`` on wet pixels, seeded;
6. **drizzle** — dry coarse pixels within ``drizzle_spread`` cells of a pixel at or above
   ``RAIN_THRESHOLD`` are set to ``drizzle_rate`` (false light rain around storms, the too-wide
   rain area of passive-microwave and IR products).

The effects and their default strengths are our design choice (PrecipDiff and MAUNet-Light use
real IMERG / TRMM against radar / gauges; they publish no error model).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from prelib.config import Config, require_positive
from prelib.conventions import RAIN_THRESHOLD
from prelib.data.precip_grids import check_factor, check_precip, coarsen

MAX_DRIZZLE_RATE: float = 1.0
"""Upper limit (mm h-1, exclusive) of the false-drizzle rate: drizzle is light rain."""


@dataclasses.dataclass(frozen=True)
class BiasModel(Config):
    """Parameters of the satellite-product error model (see the module docstring).

    Attributes
    ----------
    multiplicative : float
        Factor applied to every rate (1 = none).
    displacement_px : tuple of float
        ``(dy, dx)`` shift of the fine field in fine pixels (0, 0 = none); positive moves rain
        towards larger indices.
    drizzle_rate : float
        Rate (mm h-1) given to false-drizzle pixels (0 = none).
    drizzle_spread : int
        Reach of the false drizzle around rain, in coarse cells.
    gamma : float
        Intensity-compression exponent (1 = none, < 1 compresses).
    reference_rate : float
        Fixed point ``p_ref`` of the compression, mm h-1.
    noise_std : float
        Log-standard-deviation of the multiplicative random error (0 = none).
    """

    multiplicative: float = 0.8
    displacement_px: tuple[float, float] = (3.0, -2.0)
    drizzle_rate: float = 0.2
    drizzle_spread: int = 1
    gamma: float = 0.7
    reference_rate: float = 2.0
    noise_std: float = 0.2

    def validate(self) -> None:
        require_positive(self, "multiplicative", "gamma", "reference_rate")
        require_positive(self, "drizzle_rate", "drizzle_spread", "noise_std", allow_zero=True)
        if len(self.displacement_px) != 2:
            raise ValueError(
                f"BiasModel.displacement_px must be (dy, dx), got {self.displacement_px!r}"
            )
        if self.drizzle_rate >= MAX_DRIZZLE_RATE:
            raise ValueError(
                f"BiasModel.drizzle_rate must be light rain (< {MAX_DRIZZLE_RATE} mm h-1), "
                f"got {self.drizzle_rate}"
            )

    @classmethod
    def identity(cls) -> BiasModel:
        """A model with every effect switched off (pure block-mean coarsening)."""
        return cls(1.0, (0.0, 0.0), 0.0, 1, 1.0, 2.0, 0.0)

    def apply(self, fine: np.ndarray, factor: int, seed: int | None = 0) -> np.ndarray:
        """Degrade a fine truth field into a coarse biased product.

        Parameters
        ----------
        fine : np.ndarray, shape ``(..., H, W)``
            Fine precipitation, mm h-1, finite and non-negative; ``H``, ``W`` multiples of
            ``factor``.
        factor : int
            Coarsening factor (10 for 1 km → 10 km).
        seed : int, optional
            Seed of the random error.

        Returns
        -------
        np.ndarray, shape ``(..., H / factor, W / factor)``, float32, mm h-1
        """
        fine = check_precip(fine, "fine truth")
        factor = check_factor(factor, fine.shape)
        shifted = displace(fine, self.displacement_px)
        coarse = coarsen(shifted, factor, "mean")
        coarse = compress_intensity(coarse, self.gamma, self.reference_rate)
        coarse = coarse * np.float32(self.multiplicative)
        if self.noise_std > 0:
            rng = np.random.default_rng(seed)
            noise = rng.normal(0.0, self.noise_std, size=coarse.shape)
            # mean-one log-normal, so the noise adds spread but no bias of its own
            coarse = coarse * np.exp(noise - 0.5 * self.noise_std**2).astype(np.float32)
        if self.drizzle_rate > 0:
            coarse = add_drizzle(coarse, self.drizzle_rate, self.drizzle_spread)
        return coarse.astype(np.float32)


def displace(field: np.ndarray, shift_px: tuple[float, float]) -> np.ndarray:
    """Shift the last two axes by ``(dy, dx)`` pixels (bilinear, edge values extend the field)."""
    from scipy import ndimage

    dy, dx = (float(s) for s in shift_px)
    if dy == 0 and dx == 0:
        return np.asarray(field, dtype=np.float32)
    shift = (0.0,) * (np.ndim(field) - 2) + (dy, dx)
    out = ndimage.shift(np.asarray(field, dtype=np.float32), shift, order=1, mode="nearest")
    return np.maximum(out, 0.0).astype(np.float32)


def compress_intensity(field: np.ndarray, gamma: float, reference_rate: float) -> np.ndarray:
    """Map wet pixels ``p > 0`` to ``reference_rate · (p / reference_rate) ** gamma``; 0 stays 0."""
    field = np.asarray(field, dtype=np.float32)
    if gamma == 1.0:
        return field
    wet = field > 0
    out = np.zeros_like(field)
    out[wet] = reference_rate * (field[wet] / reference_rate) ** gamma
    return out


def add_drizzle(field: np.ndarray, rate: float, spread: int) -> np.ndarray:
    """Set dry pixels within ``spread`` cells (square neighbourhood) of rain to ``rate``."""
    from scipy import ndimage

    field = np.asarray(field, dtype=np.float32)
    rain = field >= RAIN_THRESHOLD
    size = (1,) * (field.ndim - 2) + (2 * spread + 1, 2 * spread + 1)
    near_rain = ndimage.maximum_filter(rain.astype(np.uint8), size=size, mode="constant") > 0
    out = field.copy()
    out[near_rain & (field < rate)] = rate
    return out
