"""Write gridded label and comparison products in their real layouts: CLDAS-V2.0 hourly NetCDF
and PERSIANN-CCS / PDIR-Now hourly gzip binaries (data_formats.md §5.3, 7.3)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from prelib.atomic import atomic_path
from prelib.readers.chrs import SHAPE, byte_order_for

CLDAS_FILL = -9999.0


def cldas_file_name(valid: np.datetime64, stream: str = "RT", element: str = "PRE") -> str:
    """``Z_NAFP_C_BABJ_{prod}_P_CLDAS_{stream}_ASI_0P0625_HOR-{element}-{YYYYMMDDHH}.nc``;
    the production time is set 41 minutes after the valid hour, as in real names."""
    valid = np.datetime64(valid, "h")
    produced = (valid + np.timedelta64(41, "m")).astype(object)
    return (
        f"Z_NAFP_C_BABJ_{produced:%Y%m%d%H%M%S}_P_CLDAS_{stream}_ASI_0P0625_HOR-{element}-"
        f"{valid.astype(object):%Y%m%d%H}.nc"
    )


def write_cldas(
    directory: str | os.PathLike,
    lat: np.ndarray,
    lon: np.ndarray,
    precip: np.ndarray,
    valid: np.datetime64,
    *,
    descending: bool = False,
    stream: str = "RT",
) -> Path:
    """Write a CLDAS-V2.0 hourly precipitation file (``PRCP`` on 1-D ``LAT``/``LON``).

    Parameters
    ----------
    lat, lon : numpy.ndarray, 1-D
        Cell centres (degrees), e.g. ``0.03125 + k * 0.0625``.
    precip : numpy.ndarray, shape (lat, lon)
        mm accumulated over the hour ending at ``valid``; NaN → −9999.
    valid : numpy.datetime64
        The valid hour (end of the accumulation, UTC).
    descending : bool
        Write latitude north-to-south (the real order is unknown; readers must sort).
    """
    import netCDF4

    lat, lon = np.asarray(lat, np.float32), np.asarray(lon, np.float32)
    values = np.asarray(precip, np.float32)
    if values.shape != (lat.size, lon.size):
        raise ValueError(f"precip must be (lat, lon) = {(lat.size, lon.size)}, got {values.shape}")
    order = np.argsort(-lat if descending else lat, kind="stable")
    lat, values = lat[order], values[order]
    target = Path(directory) / cldas_file_name(valid, stream)
    with atomic_path(target) as tmp:
        with netCDF4.Dataset(tmp, "w", format="NETCDF4") as nc:
            nc.createDimension("LAT", lat.size)
            nc.createDimension("LON", lon.size)
            v_lat = nc.createVariable("LAT", "f4", ("LAT",))
            v_lat[:] = lat
            v_lat.units = "degrees_north"
            v_lon = nc.createVariable("LON", "f4", ("LON",))
            v_lon[:] = lon
            v_lon.units = "degrees_east"
            v = nc.createVariable(
                "PRCP",
                "f4",
                ("LAT", "LON"),
                fill_value=np.float32(CLDAS_FILL),
                zlib=True,
                complevel=1,
            )
            v.units = "mm"
            v.long_name = "hourly precipitation"
            v[:] = np.where(np.isfinite(values), values, np.float32(CLDAS_FILL))
    return target


def chrs_file_name(product: str, start: np.datetime64) -> str:
    """``rgccs1h{YY}{DDD}{hh}.bin.gz`` or ``pdirnow1h{YY}{MM}{DD}{hh}.bin.gz`` (hour start)."""
    moment = np.datetime64(start, "h").astype(object)
    if product == "persiann_ccs":
        return f"rgccs1h{moment:%y}{moment.timetuple().tm_yday:03d}{moment:%H}.bin.gz"
    if product == "pdir_now":
        return f"pdirnow1h{moment:%y%m%d%H}.bin.gz"
    raise ValueError(f"product must be 'persiann_ccs' or 'pdir_now', got {product!r}")


def write_chrs_hourly(
    directory: str | os.PathLike,
    precip: np.ndarray,
    start: np.datetime64,
    product: str = "persiann_ccs",
    *,
    byte_order: str | None = None,
) -> Path:
    """Write a full-size (3000 × 9000) CHRS hourly file.

    Parameters
    ----------
    precip : numpy.ndarray, shape (3000, 9000)
        mm in the hour, row 0 = 59.98°N, column 0 = 0.02°E; NaN → −9999.
    start : numpy.datetime64
        Start of the accumulation hour (UTC), as in the file name.
    byte_order : {">", "<"}, optional
        Default: the CHRS rule for the product and date.
    """
    values = np.asarray(precip, dtype=np.float32)
    if values.shape != SHAPE:
        raise ValueError(f"precip must have shape {SHAPE}, got {values.shape}")
    order = byte_order or byte_order_for(product, np.datetime64(start, "ns"))
    scaled = np.rint(np.clip(np.nan_to_num(values) * np.float32(100.0), 0, 32767))
    counts = np.where(np.isnan(values), np.int16(-9999), scaled.astype(np.int16)).astype(
        f"{order}i2"
    )
    target = Path(directory) / chrs_file_name(product, start)
    with atomic_path(target) as tmp:
        with gzip.open(tmp, "wb", compresslevel=1) as handle:
            handle.write(counts.tobytes())
    return target
