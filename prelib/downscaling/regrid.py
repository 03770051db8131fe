"""Exact first-order conservative regridding between rectilinear latitude/longitude grids.

Used by ``prelib downscale --bias paired`` to put a real coarse product (IMERG, a satellite or
model field) on the block grid of the fine radar field. Neither pyresample (whose bucket
resampling averages source *points* per target cell) nor xESMF (which needs the ESMF library,
not installable from PyPI) gives area-weighted conservative regridding in a pip environment, so
this module does it directly.

On a rectilinear grid the overlap area of a source cell ``(i, j)`` and a target cell ``(k, l)``
factorises: ``A = Δ(sin φ) · Δλ`` (spherical cell area over R²), so the overlap weights are the
outer product of a latitude overlap matrix (in ``sin φ``) and a longitude overlap matrix
(in degrees). The regridded value of a target cell is::

    out[k, l] = Σ_ij Wy[k, i] Wx[l, j] m[i, j] f[i, j] / Σ_ij Wy[k, i] Wx[l, j] m[i, j]

with ``m`` the valid-data mask. Area means are conserved exactly: the area integral of ``out``
over the target cells equals that of ``f`` over the covered area. Target cells whose valid
overlap covers less than ``min_coverage`` of their area are NaN (missing, never dry).
"""

from __future__ import annotations

import numpy as np


def cell_edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges ``(n + 1,)`` from cell centres ``(n,)`` (mid-points, ends extrapolated).

    Centres may be ascending or descending; edges follow the same order.
    """
    centres = np.asarray(centres, dtype=np.float64)
    if centres.ndim != 1 or centres.size < 2:
        raise ValueError(f"need at least 2 cell centres along an axis, got shape {centres.shape}")
    steps = np.diff(centres)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        raise ValueError("cell centres must be strictly monotonic")
    middle = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[centres[0] - 0.5 * steps[0]], middle, [centres[-1] + 0.5 * steps[-1]]])


def overlap_matrix(source_edges: np.ndarray, target_edges: np.ndarray) -> np.ndarray:
    """``(n_target, n_source)`` lengths of the overlaps of 1-D cells (any edge order)."""
    src = np.sort(np.stack([source_edges[:-1], source_edges[1:]], axis=1), axis=1)
    dst = np.sort(np.stack([target_edges[:-1], target_edges[1:]], axis=1), axis=1)
    low = np.maximum(dst[:, None, 0], src[None, :, 0])
    high = np.minimum(dst[:, None, 1], src[None, :, 1])
    return np.clip(high - low, 0.0, None)


def conservative_weights(
    source_lat: np.ndarray,
    source_lon: np.ndarray,
    target_lat_edges: np.ndarray,
    target_lon_edges: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Latitude (in ``sin φ``) and longitude (degrees) overlap matrices.

    Parameters
    ----------
    source_lat, source_lon : np.ndarray, shapes ``(ny,)``, ``(nx,)``
        Source cell centres, degrees.
    target_lat_edges, target_lon_edges : np.ndarray, shapes ``(my + 1,)``, ``(mx + 1,)``
        Target cell edges, degrees.

    Returns
    -------
    wy : np.ndarray ``(my, ny)``, wx : np.ndarray ``(mx, nx)``
    """
    lat_edges = np.clip(cell_edges(source_lat), -90.0, 90.0)
    wy = overlap_matrix(
        np.sin(np.radians(lat_edges)), np.sin(np.radians(np.clip(target_lat_edges, -90, 90)))
    )
    wx = overlap_matrix(cell_edges(source_lon), np.asarray(target_lon_edges, dtype=np.float64))
    return wy, wx


def regrid_conservative(
    field: np.ndarray,
    source_lat: np.ndarray,
    source_lon: np.ndarray,
    target_lat_edges: np.ndarray,
    target_lon_edges: np.ndarray,
    min_coverage: float = 0.999,
) -> np.ndarray:
    """Area-weighted mean of ``field`` over every target cell.

    Parameters
    ----------
    field : np.ndarray, shape ``(..., ny, nx)``
        Source values (NaN = missing), e.g. mm h-1.
    source_lat, source_lon : np.ndarray
        Source cell centres, degrees.
    target_lat_edges, target_lon_edges : np.ndarray
        Target cell edges, degrees (``(my + 1,)``, ``(mx + 1,)``).
    min_coverage : float
        Fraction of a target cell's area that valid source data must cover (0 < c ≤ 1); cells
        below it, including cells outside the source grid, are NaN.

    Returns
    -------
    np.ndarray, shape ``(..., my, mx)``, float64
    """
    if not 0 < min_coverage <= 1:
        raise ValueError(f"min_coverage must be in (0, 1], got {min_coverage}")
    values = np.asarray(field, dtype=np.float64)
    wy, wx = conservative_weights(source_lat, source_lon, target_lat_edges, target_lon_edges)
    if values.shape[-2:] != (wy.shape[1], wx.shape[1]):
        raise ValueError(
            f"field grid {values.shape[-2:]} does not match the coordinates "
            f"({wy.shape[1]}, {wx.shape[1]})"
        )
    valid = np.isfinite(values)
    filled = np.where(valid, values, 0.0)
    numerator = np.einsum("ki,...ij,lj->...kl", wy, filled, wx, optimize=True)
    covered = np.einsum("ki,...ij,lj->...kl", wy, valid.astype(np.float64), wx, optimize=True)
    area = np.outer(
        np.abs(np.diff(np.sin(np.radians(np.clip(target_lat_edges, -90, 90))))),
        np.abs(np.diff(np.asarray(target_lon_edges, dtype=np.float64))),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out = numerator / covered
    out[covered < min_coverage * area] = np.nan
    return out
