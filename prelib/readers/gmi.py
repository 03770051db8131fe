"""GPM GMI Level-1C reader: the 13 intercalibrated brightness temperatures on the S1 swath.

``S1`` holds the 9 low-frequency channels (10.65–89 GHz) and ``S2`` the 4 high-frequency ones
(166–183 GHz) on their own, offset geolocation (data_formats.md §2). PRE-Net uses all 13 as its
PMW input; here S2 is collocated onto the S1 footprints by nearest neighbour (pyresample, within
``radius_m``) so one array ``pmw`` (scan, pixel, pmw_channel) carries them in
:data:`prelib.conventions.GMI_CHANNELS` order.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from prelib.conventions import (
    CONVENTIONS_ATTR,
    DIM_PMW_CHANNEL,
    GMI_CHANNELS,
    GMI_FREQUENCIES_GHZ,
    VAR_PMW,
    cf_attrs,
)
from prelib.readers.errors import ProductError, warn_all_fill
from prelib.readers.gpm_granule import granule_attrs, product_version, swath_coords
from prelib.readers.hdf5_file import open_hdf5, read_masked, require, units_of
from prelib.validation import clean_field

DIM_ALONG, DIM_ACROSS = "scan", "pixel"
_N_S1, _N_S2 = 9, 4


def read_gmi_1c(path: str | os.PathLike, *, radius_m: float = 15000.0) -> xr.Dataset:
    """Read a 1C-GMI granule.

    Parameters
    ----------
    path : str or os.PathLike
        ``1C.GPM.GMI.XCAL2016-C.{date}-S…-E….{granule}.V07A.HDF5`` (V05–V07 share the layout).
    radius_m : float
        Largest S2→S1 footprint distance accepted by the nearest-neighbour collocation (m);
        S1 pixels without an S2 neighbour get NaN in the four S2 channels.

    Returns
    -------
    xarray.Dataset
        ``pmw`` (scan, pixel, pmw_channel) float32 K, NaN = fill; coordinates ``lat``, ``lon``
        (scan, pixel) from S1, ``time`` (scan) datetime64[ns] UTC, ``pmw_channel`` names and
        ``frequency`` (GHz).
    """
    path = Path(path)
    with open_hdf5(path) as handle:
        product_version(handle, path, supported=("V05", "V06", "V07", "V08"))
        s1, s2 = require(handle, "S1", path), require(handle, "S2", path)
        coords = swath_coords(s1, path, DIM_ALONG, DIM_ACROSS)
        tc1_ds, tc2_ds = require(s1, "Tc", path), require(s2, "Tc", path)
        tc1 = clean_field(read_masked(tc1_ds), VAR_PMW, units_of(tc1_ds), source=f"{path}:S1/Tc")
        tc2 = clean_field(read_masked(tc2_ds), VAR_PMW, units_of(tc2_ds), source=f"{path}:S2/Tc")
        lat2 = read_masked(require(s2, "Latitude", path))
        lon2 = read_masked(require(s2, "Longitude", path))
        attrs = granule_attrs(handle, path, "gmi_1c")
    lat1, lon1 = coords["lat"][1], coords["lon"][1]
    for name, tc, n, lat in (("S1", tc1, _N_S1, lat1), ("S2", tc2, _N_S2, lat2)):
        if tc.ndim != 3 or tc.shape[2] != n or tc.shape[:2] != lat.shape:
            raise ProductError(
                path,
                f"{name}/Tc has shape {tc.shape}; expected (nscan, npixel, {n}) "
                f"matching {name}/Latitude {lat.shape}",
            )
    all_fill = not (np.isfinite(tc1).any() or np.isfinite(tc2).any())
    if all_fill:
        warn_all_fill(path, "S1/Tc and S2/Tc")
    attrs["all_fill"] = int(all_fill)
    tc2_on_s1 = collocate_nearest(lat2, lon2, tc2, lat1, lon1, radius_m)
    pmw = np.concatenate([tc1, tc2_on_s1], axis=2).astype(np.float32)
    coords[DIM_PMW_CHANNEL] = (DIM_PMW_CHANNEL, list(GMI_CHANNELS))
    coords["frequency"] = (DIM_PMW_CHANNEL, np.asarray(GMI_FREQUENCIES_GHZ), {"units": "GHz"})
    return xr.Dataset(
        {VAR_PMW: ((DIM_ALONG, DIM_ACROSS, DIM_PMW_CHANNEL), pmw, cf_attrs(VAR_PMW))},
        coords=coords,
        attrs={"Conventions": CONVENTIONS_ATTR, **attrs},
    )


def collocate_nearest(
    src_lat: np.ndarray,
    src_lon: np.ndarray,
    values: np.ndarray,
    dst_lat: np.ndarray,
    dst_lon: np.ndarray,
    radius_m: float,
) -> np.ndarray:
    """Nearest-neighbour resampling between swaths (pyresample KD-tree on the ellipsoid).

    Parameters
    ----------
    src_lat, src_lon : numpy.ndarray, shape (m, n)
        Source geolocation (NaN allowed: those pixels are ignored).
    values : numpy.ndarray, shape (m, n) or (m, n, k)
        Source values.
    dst_lat, dst_lon : numpy.ndarray, shape (p, q)
        Target geolocation (NaN pixels get NaN).
    radius_m : float
        Largest accepted distance (m).

    Returns
    -------
    numpy.ndarray, shape (p, q) or (p, q, k), float32
    """
    try:
        from pyresample import geometry, kd_tree
    except ImportError as err:  # an optional extra: say which one
        raise ImportError("swath collocation needs pyresample: pip install 'prelib[real]'") from err

    dst_ok = np.isfinite(dst_lat) & np.isfinite(dst_lon)
    src_ok = np.isfinite(src_lat) & np.isfinite(src_lon)
    out_shape = dst_lat.shape + values.shape[2:]
    out = np.full(out_shape, np.nan, dtype=np.float32)
    if not dst_ok.any() or not src_ok.any():
        return out
    source = geometry.SwathDefinition(lons=src_lon[src_ok], lats=src_lat[src_ok])
    target = geometry.SwathDefinition(lons=dst_lon[dst_ok], lats=dst_lat[dst_ok])
    picked = kd_tree.resample_nearest(
        source,
        values[src_ok].astype(np.float64),
        target,
        radius_of_influence=radius_m,
        fill_value=np.nan,
    )
    out[dst_ok] = picked
    return out
