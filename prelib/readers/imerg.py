"""IMERG half-hourly (3B-HHR Final, -E Early, -L Late) reader, V06 and V07.

Layout (data_formats.md §6): group ``Grid`` with real dimension scales, data ordered
``(time, lon, lat)`` with latitude ascending; V07 names the calibrated rate ``precipitation``,
V06 ``precipitationCal``. ``time`` is in seconds since the GPS epoch (V07) or 1970 (V06), tagged
``calendar = "julian"`` — between 1901 and 2099 the Julian and Gregorian leap years agree, so
the numbers are read without calendar decoding and turned into ``datetime64`` directly.

Also read: the OPeNDAP ``.HDF5.nc4`` rendering (variables at the root) and PRE-Net's re-saved
regridded files (one unnamed DataArray ``__xarray_dataarray_variable__`` on ``lat``/``lon``).

Output convention (shared by all gridded readers): dims ``(lat, lon)`` with latitude
**descending** (north first, like the AGRI image) and longitude ascending; ``time`` is the **end**
of the half-hour (accumulations are labelled by their end, as the benchmark's ``time``);
``time_start`` keeps the start.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import xarray as xr

from prelib.conventions import CONVENTIONS_ATTR, UNITS_LAT, UNITS_LON, UNITS_PRECIP
from prelib.readers.errors import ProductError

_RATE_NAMES = ("precipitation", "precipitationCal", "__xarray_dataarray_variable__")
_HALF_HOUR = np.timedelta64(30, "m")


def _open(path: Path) -> xr.Dataset:
    errors = []
    for group in ("Grid", None):
        for engine in ("h5netcdf", "netcdf4"):
            try:
                ds = xr.open_dataset(path, group=group, engine=engine, decode_times=False)
            except (OSError, ValueError, KeyError) as err:
                errors.append(f"{engine}/{group}: {err}")
                continue
            if any(name in ds for name in _RATE_NAMES):
                return ds.load()
            ds.close()
    raise ProductError(
        path,
        f"no IMERG rate variable {list(_RATE_NAMES)} in group Grid or at the root "
        f"({'; '.join(errors[:2]) or 'file opened but variables missing'})",
    )


def _epoch(units: str, path: Path) -> np.datetime64:
    match = re.match(r"\s*seconds since (\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})", units)
    if not match:
        raise ProductError(path, f"time units {units!r}; expected 'seconds since YYYY-MM-DD …'")
    return np.datetime64(f"{match[1]}T{match[2]}", "ns")


def read_imerg(path: str | os.PathLike) -> xr.Dataset:
    """Read one IMERG half-hour.

    Returns
    -------
    xarray.Dataset
        ``precip`` (lat, lon) float32 mm h-1 (mean rate over the half-hour; NaN = fill), with
        ``lat`` descending and ``lon`` ascending (degrees), scalar ``time`` (half-hour end,
        datetime64[ns] UTC) and ``time_start``.
    """
    path = Path(path)
    if not path.is_file():
        raise ProductError(path, "file does not exist")
    ds = _open(path)
    name = next(n for n in _RATE_NAMES if n in ds)
    rate = ds[name]
    lat_name = next((d for d in rate.dims if d.lower() in ("lat", "latitude")), None)
    lon_name = next((d for d in rate.dims if d.lower() in ("lon", "longitude")), None)
    if lat_name is None or lon_name is None:
        raise ProductError(path, f"{name} has dims {rate.dims}; expected lat and lon dimensions")
    extra = [d for d in rate.dims if d not in (lat_name, lon_name)]
    for dim in extra:
        if rate.sizes[dim] != 1:
            raise ProductError(path, f"{name}: dimension {dim} has {rate.sizes[dim]} steps, not 1")
    rate = rate.isel({d: 0 for d in extra}).transpose(lat_name, lon_name)
    values = rate.values.astype(np.float32)
    values[values < 0] = np.nan  # fills that escaped _FillValue decoding (e.g. -9999.9 in nc4)
    lat = ds[lat_name].values.astype(np.float64)
    lon = ds[lon_name].values.astype(np.float64)
    start = None
    if "time" in ds and ds["time"].size == 1 and "units" in ds["time"].attrs:
        start = _epoch(ds["time"].attrs["units"], path) + np.timedelta64(
            int(ds["time"].values.reshape(-1)[0]), "s"
        )
    if start is None:
        from prelib.readers.names import identify_product

        start = identify_product(path).start
    version = re.search(r"\.(V\d{2}[A-Z])\.", path.name)
    order_lat = np.argsort(-lat, kind="stable")
    order_lon = np.argsort(lon, kind="stable")
    out = xr.Dataset(
        {
            "precip": (
                ("lat", "lon"),
                values[order_lat][:, order_lon],
                {
                    "standard_name": "lwe_precipitation_rate",
                    "units": UNITS_PRECIP,
                    "long_name": f"IMERG half-hourly precipitation rate ({name})",
                },
            ),
        },
        coords={
            "lat": ("lat", lat[order_lat], {"standard_name": "latitude", "units": UNITS_LAT}),
            "lon": ("lon", lon[order_lon], {"standard_name": "longitude", "units": UNITS_LON}),
            "time": ((), start + _HALF_HOUR, {"long_name": "end of the half-hour (UTC)"}),
            "time_start": ((), start, {"long_name": "start of the half-hour (UTC)"}),
        },
        attrs={
            "Conventions": CONVENTIONS_ATTR,
            "source": "real",
            "product": "imerg",
            "variable": name,
            "version": version[1] if version else "",
            "filename": path.name,
        },
    )
    return out
