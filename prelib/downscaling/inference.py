"""Apply a trained downscaler to any CF-annotated precipitation field, tile by tile.

The optional pipeline step after PRE-Net: its 4 km retrieval (or any ``(y, x)`` rain-rate
field) goes in, a field ``factor`` times finer comes out with refined coordinates. Large fields
are cut into overlapping coarse tiles; each tile is processed with a halo of ``halo`` coarse
cells on every side, and only its core is kept, so tile seams see the same context as the
interior (the overlap/boundary idea of CorrDiff's patched generation).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch
import xarray as xr
from tqdm.auto import tqdm

from prelib.conventions import UNITS_PRECIP, cf_attrs
from prelib.data.precip_grids import check_factor, check_precip, upsample
from prelib.models.maunet import MAUNet
from prelib.models.precip_transform import PrecipTransform
from prelib.models.precipdiff import PrecipDiff

TILE_MULTIPLE: int = 16
"""Padded tiles are multiples of this many coarse cells, enough for every U-Net depth here."""

ACCEPTED_UNITS: tuple[str, ...] = (UNITS_PRECIP, "mm/h", "mm hr-1", "mm h**-1")


def model_function(
    model: MAUNet | PrecipDiff | str,
    factor: int,
    n_members: int = 1,
    seed: int = 0,
    transform: PrecipTransform | None = None,
) -> Callable[[np.ndarray], np.ndarray]:
    """A function ``coarse (B, h, w) → fine (B, h·f, w·f)`` (mm h-1) for a model or a method.

    ``model`` may be a :class:`MAUNet`, a :class:`PrecipDiff` (ensemble mean of ``n_members``)
    or an interpolation name (``"bilinear"``, ``"bicubic"``, ``"nearest"``).
    """
    factor = check_factor(factor)
    if isinstance(model, str):
        return lambda coarse: upsample(coarse, factor, model)
    if isinstance(model, PrecipDiff):
        if model.factor != factor:
            raise ValueError(f"PrecipDiff was trained for factor {model.factor}, got {factor}")
        return lambda coarse: model.predict(coarse, n_members, seed).mean(axis=0)
    if isinstance(model, MAUNet):
        if model.config.factor != factor:
            raise ValueError(f"MAUNet was trained for factor {model.config.factor}, got {factor}")
        transform = transform or PrecipTransform()

        @torch.no_grad()
        def run(coarse: np.ndarray) -> np.ndarray:
            model.eval()
            out = model(transform.forward(coarse).unsqueeze(1))
            return transform.inverse(out).squeeze(1).numpy()

        return run
    raise ValueError(
        f"model must be a MAUNet, a PrecipDiff or an interpolation name, got {model!r}"
    )


def downscale_field(
    model: MAUNet | PrecipDiff | str,
    field: xr.DataArray,
    factor: int,
    tile: int = 48,
    halo: int = 8,
    n_members: int = 1,
    seed: int = 0,
    fill_nan: bool = False,
    accumulation: str | None = None,
) -> xr.DataArray:
    """Downscale a ``(y, x)`` precipitation field by ``factor``.

    Parameters
    ----------
    model : MAUNet, PrecipDiff or str
        See :func:`model_function`.
    field : xr.DataArray, dims ``(y, x)`` (any names; the last two are the grid)
        Rain rate or accumulation: the ``units`` attribute, when present, may be any rate
        (``mm h-1``, ``kg m-2 s-1`` …) or accumulation (``mm``, ``kg m-2`` with
        ``accumulation``) known to :mod:`prelib.downscaling.user_fields`; it is converted to
        mm h-1 (accumulations with a ``UserWarning`` that says so). Unknown units raise.
        1-D or 2-D coordinates along the grid dims are refined linearly.
    factor : int
        Resolution factor.
    tile : int
        Padded tile side in coarse cells, a multiple of :data:`TILE_MULTIPLE`.
    halo : int
        Context cells discarded on each tile side (``0 <= 2·halo < tile``).
    n_members : int
        Ensemble size averaged for PrecipDiff.
    seed : int
    fill_nan : bool
        Treat NaN as 0 for the model and put NaN back (refined nearest-neighbour mask)
        afterwards; when False, NaN raises ``ValueError``.
    accumulation : str, optional
        Period of an accumulation field (``"1h"``, ``"10min"``).

    Returns
    -------
    xr.DataArray, dims as ``field``, shape ``(ny·factor, nx·factor)``, mm h-1
    """
    if not isinstance(field, xr.DataArray) or field.ndim != 2:
        raise ValueError(f"field must be a 2-D xarray.DataArray (y, x), got {type(field)}")
    units = field.attrs.get("units")
    to_rate = 1.0
    if units is not None and units not in ACCEPTED_UNITS:
        from prelib.downscaling.user_fields import rate_factor

        to_rate, note = rate_factor(units, accumulation, None, f"field {field.name or ''}")
        if note:
            warnings.warn(note, UserWarning, stacklevel=2)
    factor = check_factor(factor)
    if tile % TILE_MULTIPLE or tile < TILE_MULTIPLE:
        raise ValueError(f"tile must be a positive multiple of {TILE_MULTIPLE}, got {tile}")
    if halo < 0 or 2 * halo >= tile:
        raise ValueError(f"halo must satisfy 0 <= 2*halo < tile={tile}, got {halo}")
    values = check_precip(field.values, field.name or "field", allow_nan=fill_nan) * np.float32(
        to_rate
    )
    missing = np.isnan(values)
    values = np.where(missing, 0.0, values).astype(np.float32)
    run = model_function(model, factor, n_members, seed)
    fine = _tiled(run, values, factor, tile, halo)
    if missing.any():
        fine[np.repeat(np.repeat(missing, factor, 0), factor, 1)] = np.nan
    return _wrap(fine, field, factor)


def _tiled(run, values: np.ndarray, factor: int, tile: int, halo: int) -> np.ndarray:
    height, width = values.shape
    core = tile - 2 * halo
    rows = range(0, height, core)
    cols = range(0, width, core)
    pad_y = len(rows) * core - height
    pad_x = len(cols) * core - width
    # reflect-free padding: edge values avoid inventing rain patterns at the border
    padded = np.pad(values, ((halo, halo + pad_y), (halo, halo + pad_x)), mode="edge")
    out = np.zeros((len(rows) * core * factor, len(cols) * core * factor), dtype=np.float32)
    starts = [(r, c) for r in rows for c in cols]
    for r, c in tqdm(starts, desc="downscale tiles", disable=len(starts) < 4, leave=False):
        result = run(padded[None, r : r + tile, c : c + tile])[0]
        keep = result[
            halo * factor : (halo + core) * factor, halo * factor : (halo + core) * factor
        ]
        out[r * factor : (r + core) * factor, c * factor : (c + core) * factor] = keep
    return out[: height * factor, : width * factor]


def refine_coordinate(values: np.ndarray, axis: int, factor: int) -> np.ndarray:
    """Cell-centre coordinates ``factor`` times finer along ``axis`` (linear, extrapolated)."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[axis]
    if n < 2:
        raise ValueError(f"need at least 2 coordinate values along axis {axis}, got {n}")
    position = (np.arange(n * factor) + 0.5) / factor - 0.5
    lower = np.clip(np.floor(position).astype(int), 0, n - 2)
    weight = position - lower
    shape = [1] * values.ndim
    shape[axis] = -1
    weight = weight.reshape(shape)
    below = np.take(values, lower, axis=axis)
    above = np.take(values, lower + 1, axis=axis)
    return below * (1 - weight) + above * weight


def _wrap(fine: np.ndarray, field: xr.DataArray, factor: int) -> xr.DataArray:
    dims = field.dims
    coords = {}
    for name, coord in field.coords.items():
        if coord.ndim == 0:
            coords[name] = coord
            continue
        refinable = set(coord.dims) <= set(dims) and np.issubdtype(coord.dtype, np.number)
        if not refinable or any(field.sizes[d] < 2 for d in coord.dims):
            continue  # cannot be refined consistently; dropped rather than left misaligned
        data = coord.values
        for axis in range(coord.ndim):
            data = refine_coordinate(data, axis, factor)
        coords[name] = (coord.dims, data.astype(coord.dtype), coord.attrs)
    out = xr.DataArray(fine, dims=dims, coords=coords, name=field.name or "precip")
    out.attrs.update(cf_attrs("precip"))
    out.attrs["downscaling_factor"] = factor
    return out
