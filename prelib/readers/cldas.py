"""CLDAS-V2.0 hourly precipitation (NetCDF) reader — the PRE-Net label.

The public evidence for the CLDAS file layout is thin (data_formats.md §5): ``PRCP`` on 1-D
``LAT``/``LON`` coordinates, 0.0625° over 0–65°N, 60–160°E, latitude order unknown, no time
variable (the valid hour is in the file name), fill value unknown. Everything uncertain is a
field of :class:`CldasLayout`, so a user with a different rendering changes a parameter, not code.

Output: ``precip`` (lat, lon) mm h-1, latitude descending, longitude ascending; ``time`` = the
valid hour, i.e. the **end** of the accumulation hour (HH−1, HH] (UTC).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import xarray as xr

from prelib.conventions import CONVENTIONS_ATTR, UNITS_LAT, UNITS_LON, UNITS_PRECIP
from prelib.readers.errors import ProductError, warn_all_fill
from prelib.validation import clean_field

_ACCUMULATION_UNITS = {"mm", "kg m-2", "kg/m2", "kg m**-2", "millimeter", "millimetre"}
"""Units of an amount per time step (divided by ``hours_per_step`` to give mm h-1)."""


@dataclasses.dataclass(frozen=True)
class CldasLayout:
    """Names and conventions of a CLDAS file (defaults: the public scripts' usage).

    Attributes
    ----------
    variable, lat, lon : str
        Variable and 1-D coordinate names.
    missing_below : float
        Values below this are missing (−9999 and other negative fills), in addition to the
        variable's ``_FillValue``/``missing_value``.
    hours_per_step : float
        Divide the stored amount by this to get mm h-1 (1 for the hourly product).
    """

    variable: str = "PRCP"
    lat: str = "LAT"
    lon: str = "LON"
    missing_below: float = 0.0
    hours_per_step: float = 1.0


def read_cldas(
    path: str | os.PathLike,
    layout: CldasLayout | None = None,
    *,
    time: np.datetime64 | None = None,
) -> xr.Dataset:
    """Read one CLDAS-V2.0 hourly file.

    Parameters
    ----------
    path : str or os.PathLike
        ``Z_NAFP_C_BABJ_{prod}_P_CLDAS_{RT|NRT}_ASI_0P0625_HOR-PRE-{YYYYMMDDHH}.nc``.
    layout : CldasLayout, optional
    time : numpy.datetime64, optional
        Valid hour when the file name does not follow the CMA pattern.

    Returns
    -------
    xarray.Dataset
        ``precip`` (lat, lon) float32 mm h-1, NaN = missing; ``time`` (valid hour end, UTC).
    """
    layout = layout or CldasLayout()
    path = Path(path)
    if not path.is_file():
        raise ProductError(path, "file does not exist")
    try:
        ds = xr.open_dataset(path, engine="netcdf4", mask_and_scale=True, decode_times=False)
    except (OSError, ValueError) as err:
        raise ProductError(path, f"not a readable NetCDF file: {err}") from None
    with ds:
        for name in (layout.variable, layout.lat, layout.lon):
            if name not in ds.variables:
                raise ProductError(
                    path,
                    f"variable {name!r} missing (found {sorted(ds.variables)}); "
                    "adjust CldasLayout if your files use other names",
                )
        field = ds[layout.variable]
        lat = ds[layout.lat].values.astype(np.float64)
        lon = ds[layout.lon].values.astype(np.float64)
        if lat.ndim != 1 or lon.ndim != 1:
            raise ProductError(path, f"LAT/LON must be 1-D, got shapes {lat.shape}, {lon.shape}")
        lat_dim, lon_dim = ds[layout.lat].dims[0], ds[layout.lon].dims[0]
        extra = [d for d in field.dims if d not in (lat_dim, lon_dim)]
        if any(field.sizes[d] != 1 for d in extra) or len(field.dims) - len(extra) != 2:
            raise ProductError(path, f"{layout.variable} dims {field.dims}: expected (LAT, LON)")
        values = field.isel({d: 0 for d in extra}).transpose(lat_dim, lon_dim).values
        units = field.attrs.get("units", "mm")
    values = values.astype(np.float32)
    values[~(values >= layout.missing_below)] = np.nan
    source = f"{path}:{layout.variable}"
    if " ".join(str(units).lower().split()) in _ACCUMULATION_UNITS:
        values = clean_field(values / np.float32(layout.hours_per_step), "precip", source=source)
    else:  # a rate: mm h-1 kept, kg m-2 s-1 converted, anything else refused
        values = clean_field(values, "precip", str(units), source=source)
    all_fill = not np.isfinite(values).any()
    if all_fill:
        warn_all_fill(path, layout.variable)
    if time is None:
        from prelib.readers.names import identify_product

        try:
            time = identify_product(path).end
        except ProductError:
            raise ProductError(
                path,
                "the valid hour is only in CMA file names (…HOR-PRE-YYYYMMDDHH.nc); "
                "pass time= for a renamed file",
            ) from None
    order_lat = np.argsort(-lat, kind="stable")
    order_lon = np.argsort(lon, kind="stable")
    return xr.Dataset(
        {
            "precip": (
                ("lat", "lon"),
                values[order_lat][:, order_lon],
                {
                    "standard_name": "lwe_precipitation_rate",
                    "units": UNITS_PRECIP,
                    "long_name": "CLDAS-V2.0 hourly precipitation",
                    "file_units": str(units),
                },
            ),
        },
        coords={
            "lat": ("lat", lat[order_lat], {"standard_name": "latitude", "units": UNITS_LAT}),
            "lon": ("lon", lon[order_lon], {"standard_name": "longitude", "units": UNITS_LON}),
            "time": ((), np.datetime64(time, "ns"), {"long_name": "end of the hour (UTC)"}),
        },
        attrs={
            "Conventions": CONVENTIONS_ATTR,
            "source": "real",
            "product": "cldas",
            "filename": path.name,
            "all_fill": int(all_fill),
        },
    )
