"""Precipitation retrieval over a region: tiled prediction → CF-annotated xarray → NetCDF.

The output follows prelib's schema (``prelib.conventions``): variable ``precip`` in mm h-1 with
the CF attributes of ``lwe_precipitation_rate``, dims ``(y, x)`` (or ``(time, y, x)``), ``lat`` /
``lon`` coordinates in degrees, and the global ``Conventions`` attribute. Pixels whose IR input is
missing (NaN) are NaN in the output (``nan_policy="mask"``) — explicitly, not by propagation:
the network sees them filled with the channel's median, and the result is masked afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

from prelib import __version__
from prelib import conventions as cv
from prelib.atomic import atomic_path
from prelib.inference.tiling import Predictor

NAN_POLICIES: tuple[str, ...] = ("mask", "raise")


def normalize_ir(bt: np.ndarray) -> np.ndarray:
    """The paper's IR scaling x = (BT − 100 K) / 400 K (``conventions.IR_NORM``)."""
    offset, scale = cv.IR_NORM
    return (np.asarray(bt, dtype=np.float32) - offset) / scale


def _fill_missing(ir: np.ndarray, nan_policy: str) -> tuple[np.ndarray, np.ndarray]:
    missing = ~np.isfinite(ir).all(axis=0)
    if not missing.any():
        return ir, missing
    if nan_policy == "raise":
        raise ValueError(
            f"IR input has {int(missing.sum())} pixels with missing values; use nan_policy='mask'"
        )
    if missing.all():
        raise ValueError("IR input has no pixel with all channels valid")
    filled = ir.copy()
    for c in range(ir.shape[0]):
        bad = ~np.isfinite(filled[c])
        filled[c][bad] = np.median(filled[c][~bad]) if (~bad).any() else 0.0
    return filled, missing


def _coords(lat: np.ndarray, lon: np.ndarray, shape: tuple[int, int]) -> dict[str, Any]:
    lat, lon = np.asarray(lat, dtype=np.float32), np.asarray(lon, dtype=np.float32)
    if lat.ndim == 1 and lon.ndim == 1:
        if (lat.size, lon.size) != shape:
            raise ValueError(f"1-D lat/lon must have sizes {shape}, got {(lat.size, lon.size)}")
        return {
            cv.VAR_LAT: (cv.DIM_Y, lat, cv.cf_attrs(cv.VAR_LAT)),
            cv.VAR_LON: (cv.DIM_X, lon, cv.cf_attrs(cv.VAR_LON)),
        }
    if lat.shape != shape or lon.shape != shape:
        raise ValueError(f"2-D lat/lon must have shape {shape}, got {lat.shape} and {lon.shape}")
    return {
        cv.VAR_LAT: (cv.GRID_DIMS, lat, cv.cf_attrs(cv.VAR_LAT)),
        cv.VAR_LON: (cv.GRID_DIMS, lon, cv.cf_attrs(cv.VAR_LON)),
    }


def precipitation_dataset(
    precip: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    time: np.datetime64 | str | None = None,
    attrs: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Wrap a precipitation field (H, W) in mm h-1 as a CF-annotated dataset.

    Parameters
    ----------
    precip : ndarray, shape (H, W)
        Rain rate, mm h-1 (NaN = no retrieval).
    lat, lon : ndarray, shapes (H,) and (W,), or both (H, W)
        Degrees north / east.
    time : datetime64 or str, optional
        Valid time; adds a length-1 ``time`` dimension.
    attrs : dict, optional
        Extra global attributes.
    """
    precip = np.asarray(precip, dtype=np.float32)
    if precip.ndim != 2:
        raise ValueError(f"precip must have shape (H, W), got {precip.shape}")
    coords = _coords(lat, lon, precip.shape)
    dims: tuple[str, ...] = cv.GRID_DIMS
    data = precip
    if time is not None:
        coords[cv.VAR_TIME] = (cv.DIM_TIME, np.array([np.datetime64(time, "ns")]))
        dims, data = (cv.DIM_TIME, *cv.GRID_DIMS), precip[None]
    ds = xr.Dataset({cv.VAR_PRECIP: (dims, data, cv.cf_attrs(cv.VAR_PRECIP))}, coords=coords)
    ds.attrs.update(
        {
            "Conventions": cv.CONVENTIONS_ATTR,
            "title": "PRE-Net precipitation retrieval from geostationary IR",
            "source": f"prelib {__version__}",
            "history": f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ} created by prelib",
            **(attrs or {}),
        }
    )
    return ds


def retrieve_precipitation(
    predictor: Predictor,
    ir: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    time: np.datetime64 | str | None = None,
    tile: int = 256,
    overlap: int = 28,
    margin: int = 8,
    batch_size: int | None = None,
    device: str | torch.device | None = None,
    normalize: bool = True,
    nan_policy: str = "mask",
    show_progress: bool = False,
) -> xr.Dataset:
    """Retrieve hourly precipitation over an in-memory region of any size.

    A thin wrapper of the streaming engine (:func:`prelib.inference.engine.infer`) for arrays.

    Parameters
    ----------
    predictor : callable
        :class:`prelib.inference.composition.TwoNetworkRetrieval` (blended before composing), or
        any ``(B, 8, h, w) -> (B, 1, h, w)`` callable in mm h-1.
    ir : ndarray, shape (8, H, W)
        Brightness temperature in K, channels in ``conventions.AGRI_IR_CHANNELS`` order.
    lat, lon : ndarray
        (H,) and (W,), or (H, W) each, degrees.
    time : optional
        Valid time of the retrieval.
    tile, overlap, margin, batch_size, show_progress
        See :class:`prelib.inference.engine.InferenceSettings`.
    device : str or torch.device, optional
        Moves a ``torch.nn.Module`` predictor there first.
    normalize : bool
        Apply the paper's IR scaling first (the networks are trained on scaled input); False
        passes ``ir`` through unscaled (already normalised input).
    nan_policy : {"mask", "raise"}
        Missing IR pixels become NaN in the output, or raise.

    Returns
    -------
    xarray.Dataset
        ``precip`` (y, x) or (time, y, x) in mm h-1, with ``lat``/``lon`` coordinates.
    """
    from prelib.inference.engine import InferenceSettings, infer
    from prelib.inference.sources import ArraySource

    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {list(NAN_POLICIES)}, got {nan_policy!r}")
    ir = np.asarray(ir, dtype=np.float32)
    if ir.ndim != 3 or ir.shape[0] != cv.N_IR:
        raise ValueError(f"ir must have shape ({cv.N_IR}, H, W) in K, got {ir.shape}")
    missing = ~np.isfinite(ir).all(axis=0)
    if missing.any() and nan_policy == "raise":
        raise ValueError(
            f"IR input has {int(missing.sum())} pixels with missing values; use nan_policy='mask'"
        )
    if missing.all():
        raise ValueError("IR input has no pixel with all channels valid")
    if not normalize:
        # the engine applies (BT - offset) / scale: undo it on the given values
        offset, scale = cv.IR_NORM
        ir = ir * np.float32(scale) + np.float32(offset)
    source = ArraySource(ir, lat, lon, time)
    if device is not None and isinstance(predictor, torch.nn.Module):
        predictor = predictor.to(device)
    settings = InferenceSettings(
        tile=tile,
        overlap=overlap,
        margin=margin,
        batch_size=batch_size,
        show_progress=show_progress,
    )
    attrs = {"title": "PRE-Net precipitation retrieval from geostationary IR"}
    _, writer = infer(predictor, source, settings=settings, attrs=attrs)
    return writer.dataset


def write_precipitation_netcdf(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to NetCDF-4 atomically (compressed ``precip``); returns the path."""
    from prelib.data.cf import cf_complete, netcdf_string_encoding

    path = Path(path)
    ds = cf_complete(ds)
    encoding = netcdf_string_encoding(ds)
    encoding[cv.VAR_PRECIP] = {"zlib": True, "complevel": 4, "dtype": "float32"}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=encoding)
    return path
