"""A full-disc AGRI scan of smooth synthetic clouds, for full-disc inference runs and benchmarks.

The field is cheap to make (seconds, not the synthetic world's minutes for 7.5 M pixels) and
has the properties inference cost depends on: space pixels exactly where the geostationary
projection misses the Earth, warm surfaces and cold cloud systems on several scales, and all
eight IR channels. It is not physically consistent between channels; use the synthetic world
(:mod:`prelib.sim`) for retrieval skill.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy import ndimage

from prelib.readers.geostationary import GeosProjection, line_column_to_latlon

CHANNEL_OFFSETS_K: tuple[float, ...] = (12.0, 10.0, -40.0, -30.0, 2.0, 0.0, -2.0, -15.0)
"""Clear-sky offsets of the eight IR channels from the 10.8 µm window (water-vapour channels
are colder), K."""


def synthetic_disc_bt(
    seed: int = 0, sub_lon: float = 104.7, resolution_m: int = 4000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Brightness temperatures of a full disc, NaN in space.

    Parameters
    ----------
    seed : int
        Seed of the cloud field.
    sub_lon : float
        Sub-satellite longitude, degrees east.
    resolution_m : int
        4000 gives the 2748 × 2748 disc.

    Returns
    -------
    bt : ndarray, shape (8, N, N), float32
        K, the eight IR channels in PRE-Net's order (``conventions.AGRI_IR_CHANNELS``).
    lat, lon : ndarray, shape (N, N), float32
        Degrees, NaN in space.
    """
    projection = GeosProjection(sub_lon, resolution_m)
    n = projection.disc_size
    index = np.arange(n, dtype=np.float64)
    lat, lon = line_column_to_latlon(index[:, None], index[None, :], projection)
    rng = np.random.default_rng(seed)
    coarse = rng.standard_normal((n // 32 + 2, n // 32 + 2))
    clouds = ndimage.zoom(ndimage.gaussian_filter(coarse, 1.5), 32, order=1)[:n, :n]
    fine = ndimage.zoom(rng.standard_normal((n // 4 + 2, n // 4 + 2)), 4, order=1)[:n, :n]
    cover = np.clip(1.6 * clouds + 0.3 * fine - 0.4, 0.0, None)
    with np.errstate(invalid="ignore"):
        surface = 300.0 - 0.35 * np.abs(lat) - 0.004 * lat**2
    window = (surface - 45.0 * cover).astype(np.float32)
    bt = np.stack(
        [window + np.float32(offset) * (1 - 0.5 * np.tanh(cover)) for offset in CHANNEL_OFFSETS_K]
    ).astype(np.float32)
    bt[:, np.isnan(lat)] = np.nan
    return bt, lat.astype(np.float32), lon.astype(np.float32)


def write_synthetic_disc(
    directory: str | os.PathLike,
    start: np.datetime64 | str = "2023-07-01T06:00",
    seed: int = 0,
    satellite: str = "FY4A",
    compression: int | None = 1,
) -> Path:
    """Write :func:`synthetic_disc_bt` as a real-layout AGRI L1 full-disc file; returns its path.

    The file has every channel of the satellite (C01–C14 for FY-4A) with real names, tables and
    attributes (:func:`prelib.writers.agri.write_agri_l1`).
    """
    from prelib.readers import agri_channels
    from prelib.writers.agri import write_agri_l1

    bt, _, _ = synthetic_disc_bt(seed)
    names = agri_channels.default_ir_channels(satellite)
    return write_agri_l1(
        directory,
        dict(zip(names, bt, strict=True)),
        np.datetime64(start),
        satellite=satellite,
        compression=compression,
    )
