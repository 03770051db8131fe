"""The CLDAS-like hourly precipitation label on a model grid.

CLDAS-V2.0 provides hourly precipitation on a 0.0625° grid over 0–65°N, 60–160°E (the paper's
label). The synthetic label is the scene's hourly mean rate averaged over each 0.0625° CLDAS
cell (box mean of all scene pixels in the cell) and put back on the model grid by nearest cell,
as a label regridded from CLDAS to the 4 km / 5 km model grids would be.
"""

from __future__ import annotations

import numpy as np

from prelib.conventions import DOMAIN_LAT, DOMAIN_LON, LABEL_RESOLUTION_DEG


def cldas_cell_index(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Integer id of the 0.0625° CLDAS cell holding each point (row-major over the domain)."""
    row = np.floor((np.asarray(lat) - DOMAIN_LAT[0]) / LABEL_RESOLUTION_DEG).astype(np.int64)
    col = np.floor((np.asarray(lon) - DOMAIN_LON[0]) / LABEL_RESOLUTION_DEG).astype(np.int64)
    n_cols = round((DOMAIN_LON[1] - DOMAIN_LON[0]) / LABEL_RESOLUTION_DEG) + 4
    return (row + 2) * n_cols + (col + 2)


def cldas_label(hourly_rate: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Hourly rate (mm h-1) box-averaged on the CLDAS grid and mapped back to the pixels.

    Parameters
    ----------
    hourly_rate : numpy.ndarray
        (ny, nx) mean rate over the label hour on the model grid (mm h-1).
    lat, lon : numpy.ndarray
        (ny, nx) pixel-centre coordinates (degrees).

    Returns
    -------
    numpy.ndarray
        (ny, nx) float64 label in mm h-1.
    """
    hourly_rate = np.asarray(hourly_rate, dtype=np.float64)
    if hourly_rate.shape != np.shape(lat) or hourly_rate.shape != np.shape(lon):
        raise ValueError(
            f"rate, lat and lon must share a shape, got {hourly_rate.shape}, "
            f"{np.shape(lat)}, {np.shape(lon)}"
        )
    if not np.all(np.isfinite(hourly_rate)):
        raise ValueError("hourly_rate contains NaN or infinite values")
    _, inverse = np.unique(cldas_cell_index(lat, lon).ravel(), return_inverse=True)
    totals = np.bincount(inverse, weights=hourly_rate.ravel())
    counts = np.bincount(inverse)
    return (totals / counts)[inverse].reshape(hourly_rate.shape)
