"""Complete a prelib dataset's CF metadata before it is written to a file.

Every writer of prelib (the benchmark stores, the scene and case files, the retrieval files)
passes its dataset through :func:`cf_complete`, so that every file carries the same CF
description, and cf-xarray (``ds.cf``) and the CF checker can read it:

* ``crs`` — a ``latitude_longitude`` grid mapping on the WGS 84 ellipsoid, named by the
  ``grid_mapping`` attribute of every field that has spatial dimensions;
* X / Y axes — index coordinates on the spatial dimensions (``x``/``y`` on grids; ``ray``
  (cross-track) / ``scan`` (along-track) on swaths) with ``axis`` attributes; the geolocation
  is in the 2-D auxiliary coordinates ``lat`` / ``lon``;
* rain variables told apart as CF intends — they share ``standard_name:
  lwe_precipitation_rate`` and differ in ``cell_methods``: the hourly label ``precip`` is
  ``time: mean area: mean`` (the CLDAS 0.0625° cell mean of the hour), ``precip_hourly`` is
  ``time: mean`` (the hour at the grid's own resolution), ``precip_instant`` is ``time: point``;
  hour means point at ``time_bnds`` = [time − 1 h, time];
* ``time`` with ``standard_name``, ``long_name``, ``axis`` (where it is a dimension) and
  ``bounds``;
* ``ir_channel`` — the AGRI channel labels (``C07`` … ``C14``) keep the dimension; the numeric
  auxiliary coordinate ``wavelength`` (µm, ``sensor_band_central_radiation_wavelength``) gives
  each channel's central wavelength. The wavelength cannot be the dimension coordinate itself:
  C07 and C08 are the high- and low-gain readings of the same 3.72 µm band, and CF requires
  coordinate variables to be strictly monotonic. In NetCDF files the labels are written as
  fixed-width characters (:func:`netcdf_string_encoding`), which every netCDF tool reads;
* ``pmw_channel`` — likewise, with the numeric ``frequency`` (GHz);
* ``land`` — ``standard_name: land_binary_mask`` with ``flag_values`` / ``flag_meanings``.

The function is idempotent and never changes data values.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from prelib import conventions as cv

CRS_VAR: str = "crs"
"""Name of the grid-mapping variable."""

BOUNDS_DIM: str = "nv"
"""Dimension of the two cell bounds (start, end)."""

TIME_BOUNDS_VAR: str = "time_bnds"
"""Bounds of the label hour: [time − 1 h, time]."""

WAVELENGTH_VAR: str = "wavelength"
"""Auxiliary coordinate (ir_channel): central wavelength in µm."""

FREQUENCY_VAR: str = "frequency"
"""Auxiliary coordinate (pmw_channel): central frequency in GHz."""

LABEL_HOUR: np.timedelta64 = np.timedelta64(3600, "s")

HOUR_MEAN_VARIABLES: dict[str, str] = {
    cv.VAR_PRECIP: "time: mean area: mean",
    "precip_hourly": "time: mean",
}
"""Rain variables that are means over the label hour, with their ``cell_methods``."""

POINT_VARIABLES: dict[str, str] = {"precip_instant": "time: point"}
"""Rain variables valid at one instant, with their ``cell_methods``."""

_AXES: dict[str, str] = {cv.DIM_X: "X", cv.DIM_Y: "Y", cv.DIM_RAY: "X", cv.DIM_SCAN: "Y"}
_AXIS_NAMES: dict[str, str] = {
    cv.DIM_X: "grid column index (west to east)",
    cv.DIM_Y: "grid row index",
    cv.DIM_RAY: "cross-track ray index",
    cv.DIM_SCAN: "along-track scan index",
}


def crs_variable() -> xr.Variable:
    """The ``crs`` grid-mapping variable: geographic latitude/longitude on WGS 84."""
    return xr.Variable(
        (),
        np.int32(0),
        {
            "grid_mapping_name": "latitude_longitude",
            "long_name": "geographic coordinates on the WGS 84 ellipsoid",
            "semi_major_axis": 6378137.0,
            "inverse_flattening": 298.257223563,
            "longitude_of_prime_meridian": 0.0,
        },
    )


def _spatial_dims(ds: xr.Dataset) -> list[str]:
    return [dim for dim in _AXES if dim in ds.dims]


def cf_complete(ds: xr.Dataset) -> xr.Dataset:
    """Return ``ds`` with the CF metadata described in the module docstring added.

    Parameters
    ----------
    ds : xarray.Dataset
        A dataset in prelib's schema (:mod:`prelib.conventions`): a scene, a stacked benchmark
        (``sample`` first) or a retrieval; fields on ``(y, x)`` or ``(scan, ray)``; an optional
        ``time`` coordinate (scalar, ``(sample,)`` or ``(time,)``).

    Returns
    -------
    xarray.Dataset
        A shallow copy; data values are unchanged.
    """
    ds = ds.copy()
    spatial = _spatial_dims(ds)
    for dim in spatial:
        if dim not in ds.coords:
            ds = ds.assign_coords({dim: np.arange(ds.sizes[dim], dtype=np.int32)})
        ds[dim].attrs.update(axis=_AXES[dim], long_name=_AXIS_NAMES[dim], units="1")
    if spatial:
        ds[CRS_VAR] = crs_variable()
        for var in ds.data_vars.values():
            if set(spatial) & set(var.dims):
                var.attrs["grid_mapping"] = CRS_VAR
    _rain(ds)
    _time(ds)
    _channels(ds)
    if cv.VAR_LAND in ds.variables:
        land = ds[cv.VAR_LAND]
        land.attrs.update(
            standard_name="land_binary_mask",
            long_name="land (1) / water (0) mask",
            units="1",
            flag_values=np.array([0, 1], dtype=land.dtype),
            flag_meanings="water land",
        )
    ds.attrs["Conventions"] = cv.CONVENTIONS_ATTR
    return ds


def _rain(ds: xr.Dataset) -> None:
    for name, methods in {**HOUR_MEAN_VARIABLES, **POINT_VARIABLES}.items():
        if name in ds.data_vars:
            ds[name].attrs.update(standard_name="lwe_precipitation_rate", cell_methods=methods)


def _time(ds: xr.Dataset) -> None:
    if cv.VAR_TIME not in ds.variables:
        return
    time = ds[cv.VAR_TIME]
    time.attrs.update(standard_name="time")
    time.attrs.setdefault("long_name", "end of the label hour (UTC)")
    if cv.VAR_TIME in ds.dims:
        time.attrs["axis"] = "T"
    if not any(name in ds.data_vars for name in HOUR_MEAN_VARIABLES):
        return
    if not np.issubdtype(time.dtype, np.datetime64):
        return  # an undecoded file: leave it as it is
    end = time.variable
    bounds = xr.Variable.concat([end - LABEL_HOUR, end], dim=BOUNDS_DIM)
    bounds = bounds.transpose(*end.dims, BOUNDS_DIM)
    bounds.attrs = {}
    ds[TIME_BOUNDS_VAR] = bounds
    time.attrs["bounds"] = TIME_BOUNDS_VAR
    ds[TIME_BOUNDS_VAR].encoding = dict(time.encoding)


def _channels(ds: xr.Dataset) -> None:
    if cv.DIM_IR_CHANNEL in ds.dims:
        if WAVELENGTH_VAR not in ds.coords:
            lookup = dict(zip(cv.AGRI_IR_CHANNELS, cv.AGRI_IR_WAVELENGTHS_UM, strict=True))
            labels = [str(v) for v in ds[cv.DIM_IR_CHANNEL].values]
            if all(label in lookup for label in labels):
                values = np.array([lookup[label] for label in labels], dtype=np.float32)
                ds.coords[WAVELENGTH_VAR] = (cv.DIM_IR_CHANNEL, values)
        if WAVELENGTH_VAR in ds.coords:
            ds[WAVELENGTH_VAR].attrs.update(
                standard_name="sensor_band_central_radiation_wavelength",
                long_name="central wavelength of the AGRI channel",
                units="um",
            )
        ds[cv.DIM_IR_CHANNEL].attrs.update(
            long_name="FY-4A/4B AGRI channel label", label_meaning="AGRI channel number"
        )
    if cv.DIM_PMW_CHANNEL in ds.dims:
        if FREQUENCY_VAR not in ds.coords:
            lookup = dict(zip(cv.GMI_CHANNELS, cv.GMI_FREQUENCIES_GHZ, strict=True))
            labels = [str(v) for v in ds[cv.DIM_PMW_CHANNEL].values]
            if all(label in lookup for label in labels):
                values = np.array([lookup[label] for label in labels], dtype=np.float32)
                ds.coords[FREQUENCY_VAR] = (cv.DIM_PMW_CHANNEL, values)
        if FREQUENCY_VAR in ds.coords:
            ds[FREQUENCY_VAR].attrs.update(
                standard_name="sensor_band_central_radiation_frequency",
                long_name="central frequency of the GMI channel (V/H: polarisation)",
                units="GHz",
            )
        ds[cv.DIM_PMW_CHANNEL].attrs.update(long_name="GPM GMI channel label")


def netcdf_string_encoding(ds: xr.Dataset) -> dict[str, dict]:
    """Encoding that writes string variables as fixed-width characters (``dtype: S1``).

    Variable-length strings (xarray's default for ``str`` in NetCDF-4) are not classic CF and
    crash older CF checkers; fixed-width character arrays are read back as ``str`` by xarray.
    """
    return {name: {"dtype": "S1"} for name, var in ds.variables.items() if var.dtype.kind in "UO"}
