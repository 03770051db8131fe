"""GPM 2B-CMB (DPR+GMI combined, "CORRA") reader: surface precipitation on the DPR swath.

The surface-rate names differ between versions (data_formats.md §4): V07 (groups ``KuKaGMI``,
``KuGMI``) has ``nearSurfPrecipTotRate`` (lowest clutter-free bin) and ``estimSurfPrecipTotRate``
(extrapolated to the surface); V06 (groups ``NS``, ``MS``) has ``surfPrecipTotRate`` only.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from prelib.conventions import CONVENTIONS_ATTR, DIM_RAY, DIM_SCAN, UNITS_PRECIP
from prelib.readers.errors import warn_all_fill
from prelib.readers.gpm_granule import granule_attrs, pick_scan_mode, product_version, swath_coords
from prelib.readers.hdf5_file import open_hdf5, read_masked, require, units_of
from prelib.validation import clean_field

# KuGMI first: it covers the whole 245 km Ku swath in every year (KuKaGMI's outer rays are fill
# before the 2018 Ka scan change), matching the Ku profile used as the PR modality.
_MODES = {"V07": ("KuGMI", "KuKaGMI"), "V06": ("NS", "MS")}
_SURFACE_NAME = {"V07": "nearSurfPrecipTotRate", "V06": "surfPrecipTotRate"}


def read_cmb_2b(path: str | os.PathLike, scan_mode: str | None = None) -> xr.Dataset:
    """Read a 2B-CMB granule.

    Parameters
    ----------
    path : str or os.PathLike
        ``2B.GPM.DPRGMI.CORRA2022.{date}-S…-E….{granule}.V07A.HDF5`` (or CORRA2018 … V06A).
    scan_mode : str, optional
        V07 ``KuGMI`` (default: full Ku swath in every year) or ``KuKaGMI``; V06 ``NS``
        (default) or ``MS``.

    Returns
    -------
    xarray.Dataset
        ``precip_surface`` (scan, ray) float32 mm h-1 (V07 ``nearSurfPrecipTotRate``, V06
        ``surfPrecipTotRate``); V07 adds ``precip_estimated_surface``
        (``estimSurfPrecipTotRate``). Coordinates ``lat``, ``lon`` (scan, ray), ``time`` (scan).
    """
    path = Path(path)
    with open_hdf5(path) as handle:
        version = product_version(handle, path)
        mode = pick_scan_mode(handle, path, scan_mode, _MODES[version])
        group = handle[mode]
        coords = swath_coords(group, path, DIM_SCAN, DIM_RAY)
        surface_name = _SURFACE_NAME[version]
        rates = {}
        names = {"precip_surface": surface_name}
        if version == "V07":
            names["precip_estimated_surface"] = "estimSurfPrecipTotRate"
        for var, name in names.items():
            dataset = require(group, name, path)
            values = clean_field(
                read_masked(dataset), "precip", units_of(dataset), source=f"{path}:{mode}/{name}"
            )
            rates[var] = (name, values)
        attrs = granule_attrs(handle, path, "cmb_2b")
    all_fill = not np.isfinite(rates["precip_surface"][1]).any()
    if all_fill:
        warn_all_fill(path, f"{mode}/{surface_name}")
    attrs["all_fill"] = int(all_fill)
    data_vars = {
        var: (
            (DIM_SCAN, DIM_RAY),
            values,
            {
                "standard_name": "lwe_precipitation_rate",
                "units": UNITS_PRECIP,
                "long_name": f"combined DPR+GMI surface precipitation rate ({source})",
            },
        )
        for var, (source, values) in rates.items()
    }
    attrs.update({"scan_mode": mode, "version": version})
    return xr.Dataset(data_vars, coords=coords, attrs={"Conventions": CONVENTIONS_ATTR, **attrs})
