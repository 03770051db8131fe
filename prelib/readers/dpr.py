"""GPM DPR Level-2A reader: Ku (or Ka) reflectivity profiles, clutter-free bottom, surface rain.

Versions and scan modes (data_formats.md §3): V07 has ``FS`` (Ku+Ka, 49 rays, 176 bins, the last
axis ``nfreq`` with Ku at index 0) and ``HS`` (Ka, 24 rays, 88 bins); V06 has ``NS`` (Ku),
``MS`` (Ka, 25 rays) and ``HS``, with ``SLV/zFactorCorrected`` instead of ``zFactorFinal`` and no
frequency axis. Single-band files (``2A.GPM.Ku``/``2A.GPM.Ka``) have no frequency axis either.

Reflectivity conventions: bins without echo are −9999.9 in the file and the measured profile
also carries −28888 (below noise / clutter); both become NaN (anything below −80 dBZ, as in
gpm-api's decoding). Bin numbers in the file are 1-based; the reader returns 0-based indices
into the ``bin`` dimension (bin 0 = top of the profile) as float with NaN for fill.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from prelib.conventions import (
    CONVENTIONS_ATTR,
    DIM_BIN,
    DIM_RAY,
    DIM_SCAN,
    DPR_BIN_SPACING_M,
    UNITS_PRECIP,
    UNITS_REFLECTIVITY,
)
from prelib.readers.errors import ProductError
from prelib.readers.gpm_granule import granule_attrs, pick_scan_mode, product_version, swath_coords
from prelib.readers.hdf5_file import open_hdf5, read_masked, require

NO_ECHO_BELOW_DBZ = -80.0
"""Reflectivities below this are flags (−9999.9 no echo, −28888 below noise), not values."""

_DEFAULT_MODES = {"V07": ("FS", "NS", "MS", "HS"), "V06": ("NS", "MS", "HS", "FS")}
_KA_ONLY_MODES = ("MS", "HS")


def read_dpr_2a(
    path: str | os.PathLike,
    scan_mode: str | None = None,
    *,
    band: str = "Ku",
    mask_clutter: bool = True,
    corrected: bool = True,
    allow_version: str | None = None,
) -> xr.Dataset:
    """Read a 2A-DPR (or 2A-Ku / 2A-Ka) granule.

    Parameters
    ----------
    path : str or os.PathLike
        ``2A.GPM.DPR.V9-20211125.{date}-S…-E….{granule}.V07A.HDF5`` (or V06A, Ku, Ka).
    scan_mode : str, optional
        Swath group: V07 ``FS``/``HS``, V06 ``NS``/``MS``/``HS``. Default: ``FS`` for V07, ``NS``
        for V06 (the Ku normal scan).
    band : {"Ku", "Ka"}
        Frequency taken from two-frequency (``nfreq``) arrays (V07 FS). Ignored for
        single-band groups, whose band is recorded in the ``band`` attribute.
    mask_clutter : bool
        Set bins below the clutter-free bottom to NaN in both profiles.
    corrected : bool
        Also read the attenuation-corrected profile (a full V07 granule's Ku profile is
        ~270 MB as float32; builders that use only the measured one pass ``False``).
    allow_version : str, optional
        Read a product version this reader does not know (e.g. ``"V08"``) with the layout its
        groups show, with a warning. V05 files with the V06 ``NS`` layout need no flag.

    Returns
    -------
    xarray.Dataset
        Dims ``(scan, ray, bin)``. ``reflectivity`` (measured, ``PRE/zFactorMeasured``) and
        ``reflectivity_corrected`` (``SLV/zFactorFinal`` V07, ``zFactorCorrected`` V06), float32
        dBZ with NaN where there is no echo; ``clutter_free_bottom`` and ``real_surface_bin``
        (scan, ray) 0-based bin indices (float, NaN = fill); ``precip_near_surface`` (scan, ray)
        mm h-1; coordinates ``lat``, ``lon`` (scan, ray), ``time`` (scan).

    Raises
    ------
    ProductError
        Unknown version, missing scan mode or variable, an all-fill granule.
    """
    if band not in ("Ku", "Ka"):
        raise ValueError(f"band must be 'Ku' or 'Ka', got {band!r}")
    path = Path(path)
    with open_hdf5(path) as handle:
        version = product_version(handle, path, allow_version=allow_version)
        mode = pick_scan_mode(handle, path, scan_mode, _DEFAULT_MODES[version])
        group = handle[mode]
        coords = swath_coords(group, path, DIM_SCAN, DIM_RAY)
        measured_ds = require(group, "PRE/zFactorMeasured", path)
        corrected_key = "SLV/zFactorFinal" if version == "V07" else "SLV/zFactorCorrected"
        corrected_ds = require(group, corrected_key, path)
        two_band = measured_ds.ndim == 4
        if two_band:
            freq = 0 if band == "Ku" else 1
            index = (slice(None), slice(None), slice(None), freq)
            used_band = band
        else:
            index = ()
            used_band = _single_band(path, mode)
        measured = read_masked(measured_ds, index)
        corrected_values = read_masked(corrected_ds, index) if corrected else None
        cfb_ds = require(group, "PRE/binClutterFreeBottom", path)
        clutter_free = read_masked(cfb_ds) - 1.0
        surface_ds = require(group, "PRE/binRealSurface", path)
        surface_index = (slice(None), slice(None), freq) if surface_ds.ndim == 3 else ()
        surface = read_masked(surface_ds, surface_index) - 1.0
        rain = read_masked(require(group, "SLV/precipRateNearSurface", path))
        attrs = granule_attrs(handle, path, "dpr_2a")
    n_bins = measured.shape[2] if measured.ndim == 3 else 0
    expected = coords["lat"][1].shape
    profiles = [measured] + ([corrected_values] if corrected_values is not None else [])
    if (
        measured.ndim != 3
        or measured.shape[:2] != expected
        or any(p.shape != measured.shape for p in profiles)
    ):
        raise ProductError(
            path,
            f"{mode}: reflectivity shapes {[p.shape for p in profiles]} do not match "
            f"(nscan, nray) = {expected} plus a bin axis",
        )
    below = np.arange(n_bins)[None, None, :] > clutter_free[..., None]
    below |= ~np.isfinite(clutter_free)[..., None]
    for profile in profiles:
        profile[profile < NO_ECHO_BELOW_DBZ] = np.nan
        if mask_clutter:
            profile[below] = np.nan
    spacing = DPR_BIN_SPACING_M if n_bins == 176 else 250.0
    profile_dims = (DIM_SCAN, DIM_RAY, DIM_BIN)
    ray_dims = (DIM_SCAN, DIM_RAY)
    bin_note = "0-based index into bin (bin 0 = top); the file stores 1-based bin numbers"
    data_vars = {
        "reflectivity": (
            profile_dims,
            measured,
            {
                "standard_name": "equivalent_reflectivity_factor",
                "units": UNITS_REFLECTIVITY,
                "long_name": f"DPR {used_band} measured reflectivity (PRE/zFactorMeasured)",
            },
        ),
        "clutter_free_bottom": (
            ray_dims,
            clutter_free,
            {
                "long_name": "lowest clutter-free range bin",
                "comment": bin_note,
                "units": "1",
            },
        ),
        "real_surface_bin": (
            ray_dims,
            surface,
            {
                "long_name": "range bin of the surface echo",
                "comment": bin_note,
                "units": "1",
            },
        ),
        "precip_near_surface": (
            ray_dims,
            rain,
            {
                "standard_name": "lwe_precipitation_rate",
                "units": UNITS_PRECIP,
                "long_name": "near-surface precipitation rate (SLV/precipRateNearSurface)",
            },
        ),
    }
    if corrected_values is not None:
        data_vars["reflectivity_corrected"] = (
            profile_dims,
            corrected_values,
            {
                "standard_name": "equivalent_reflectivity_factor",
                "units": UNITS_REFLECTIVITY,
                "long_name": (
                    f"DPR {used_band} attenuation-corrected reflectivity ({corrected_key})"
                ),
            },
        )
    attrs.update(
        {
            "scan_mode": mode,
            "band": used_band,
            "version": version,
            "bin_spacing_m": spacing,
            "clutter_masked": int(mask_clutter),
        }
    )
    return xr.Dataset(data_vars, coords=coords, attrs={"Conventions": CONVENTIONS_ATTR, **attrs})


def _single_band(path: Path, mode: str) -> str:
    if ".Ka." in path.name or mode in _KA_ONLY_MODES:
        return "Ka"
    return "Ku"
