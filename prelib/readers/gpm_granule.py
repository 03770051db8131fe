"""What every GPM PPS swath granule shares: FileHeader, version, scan times, geolocation, fill.

GPM HDF5 files (1C-GMI, 2A-DPR, 2B-CMB) have no dimension scales; each swath ("scan mode") is a
group holding ``Latitude``/``Longitude`` (nscan, npixel) and a ``ScanTime`` subgroup with one
entry per scan (data_formats.md §2.2–2.3, 3.5). Fill values are typed ``_FillValue`` attributes
(−9999.9 for floats, −9999/−99 for integers) and become NaN here.
"""

from __future__ import annotations

import os
import re
import warnings

import h5py
import numpy as np

from prelib.conventions import UNITS_LAT, UNITS_LON
from prelib.readers.errors import ProductError
from prelib.readers.hdf5_file import decode_attr, parse_pvl, read_masked, require

SUPPORTED_MAJOR_VERSIONS: tuple[str, ...] = ("V06", "V07")


def file_header(handle: h5py.File, path: str | os.PathLike) -> dict[str, str]:
    """The root ``FileHeader`` PVL attribute as a dict (empty dict when absent)."""
    if "FileHeader" not in handle.attrs:
        return {}
    return parse_pvl(str(decode_attr(handle.attrs["FileHeader"])))


LAYOUT_EQUIVALENTS: dict[str, str] = {"V05": "V06"}
"""Older versions whose swath layout is that of a supported one: V05's ``NS``/``MS``/``HS``
groups and dataset names are V06's (a real 2A-Ku V05A granule read through this reader gave a
near-surface rate bit-identical to h5py's)."""


def swath_layout(handle: h5py.File) -> str | None:
    """The layout the groups say: ``"V07"`` (``FS`` swath), ``"V06"`` (``NS``), else ``None``."""
    if "FS" in handle:
        return "V07"
    if "NS" in handle:
        return "V06"
    return None


def product_version(
    handle: h5py.File,
    path: str | os.PathLike,
    supported: tuple[str, ...] = SUPPORTED_MAJOR_VERSIONS,
    allow_version: str | None = None,
) -> str:
    """Major *layout* version (``"V06"``/``"V07"``) from the FileHeader or the file name.

    A version in :data:`LAYOUT_EQUIVALENTS` (V05) is read with the layout it shares when the
    file's groups have that layout. ``allow_version`` is the escape hatch for a version this
    reader does not know (``allow_version="V08"`` or ``"V08A"``): the file is read with the
    layout its groups show (``FS`` → V07, ``NS`` → V06) and a ``UserWarning`` says so.

    Raises
    ------
    ProductError
        If no version can be found, or it is neither supported, nor a layout equivalent with the
        matching groups, nor the allowed one.
    """
    version = file_header(handle, path).get("ProductVersion", "")
    if not version:
        match = re.search(r"\.(V\d{2}[A-Z])\.", os.fspath(path))
        version = match.group(1) if match else ""
    major = version[:3]
    if major in supported:
        return major
    layout = swath_layout(handle)
    equivalent = LAYOUT_EQUIVALENTS.get(major)
    if equivalent in supported and layout == equivalent:
        return equivalent
    if allow_version is not None and major and version.startswith(allow_version[:3]):
        if layout is None or layout not in supported:
            raise ProductError(
                path,
                f"version {version!r} allowed, but its groups {sorted(handle.keys())} match no "
                f"known layout ({list(supported)})",
            )
        warnings.warn(
            f"{os.path.basename(path)}: product version {version!r} is not one this reader "
            f"knows; reading it with the {layout} layout its groups show (allow_version="
            f"{allow_version!r})",
            UserWarning,
            stacklevel=3,
        )
        return layout
    hint = ""
    if equivalent is not None:
        hint = f" ({major} is read as {equivalent} only when it has the {equivalent} groups)"
    raise ProductError(
        path,
        f"unknown product version {version or '<none>'!r}; this reader knows {list(supported)}"
        f"{hint}; pass allow_version={version[:3] or 'V..'!r} to read it with the layout of its "
        "groups",
    )


def scan_times(group: h5py.Group, path: str | os.PathLike) -> np.ndarray:
    """Per-scan UTC times (nscan,) as ``datetime64[ns]``, NaT where any field is fill.

    Built from ``ScanTime/Year, Month, DayOfMonth, Hour, Minute, Second, MilliSecond``; the
    milliseconds are kept (scans are 1.875 s (GMI) or 0.7 s (DPR) apart).
    """
    scan_time = require(group, "ScanTime", path)
    parts = {}
    for key in ("Year", "Month", "DayOfMonth", "Hour", "Minute", "Second", "MilliSecond"):
        parts[key] = read_masked(require(scan_time, key, path)).astype(np.float64)
    bad = np.zeros(parts["Year"].shape, dtype=bool)
    for values in parts.values():
        bad |= ~np.isfinite(values)
    filled = {k: np.where(bad, 1, v).astype(np.int64) for k, v in parts.items()}
    months = (filled["Year"] - 1970) * 12 + filled["Month"] - 1
    day0 = months.astype("datetime64[M]").astype("datetime64[D]")
    times = (
        day0.astype("datetime64[ns]")
        + (filled["DayOfMonth"] - 1).astype("timedelta64[D]")
        + filled["Hour"].astype("timedelta64[h]")
        + filled["Minute"].astype("timedelta64[m]")
        + filled["Second"].astype("timedelta64[s]")
        + filled["MilliSecond"].astype("timedelta64[ms]")
    )
    times[bad] = np.datetime64("NaT")
    if times.size and bad.all():
        raise ProductError(path, f"{group.name}/ScanTime: every scan time is fill")
    return times


def geolocation(group: h5py.Group, path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """``Latitude`` and ``Longitude`` (nscan, npixel) float32 degrees, NaN for missing scans.

    Raises
    ------
    ProductError
        If every pixel is fill (an empty granule).
    """
    lat = read_masked(require(group, "Latitude", path))
    lon = read_masked(require(group, "Longitude", path))
    if lat.shape != lon.shape or lat.ndim != 2:
        raise ProductError(path, f"{group.name}: Latitude {lat.shape} and Longitude {lon.shape}")
    if not np.isfinite(lat).any():
        raise ProductError(path, f"{group.name}: every Latitude is fill (empty granule)")
    return lat, lon


def swath_coords(group: h5py.Group, path: str | os.PathLike, along: str, across: str) -> dict:
    """xarray coordinates ``lat``, ``lon`` (along, across) and ``time`` (along)."""
    lat, lon = geolocation(group, path)
    times = scan_times(group, path)
    if times.shape[0] != lat.shape[0]:
        raise ProductError(path, f"{group.name}: {times.size} scan times for {lat.shape[0]} scans")
    return {
        "lat": ((along, across), lat, {"standard_name": "latitude", "units": UNITS_LAT}),
        "lon": ((along, across), lon, {"standard_name": "longitude", "units": UNITS_LON}),
        "time": ((along,), times, {"long_name": "scan time (UTC)"}),
    }


def pick_scan_mode(
    handle: h5py.File, path: str | os.PathLike, requested: str | None, candidates: tuple[str, ...]
) -> str:
    """The requested swath group, else the first of ``candidates`` present."""
    if requested is not None:
        if requested not in handle:
            raise ProductError(
                path, f"scan mode {requested!r} not in file (groups: {sorted(handle.keys())})"
            )
        return requested
    for name in candidates:
        if name in handle:
            return name
    raise ProductError(
        path, f"none of the scan modes {list(candidates)} found (groups: {sorted(handle.keys())})"
    )


def granule_attrs(handle: h5py.File, path: str | os.PathLike, product: str) -> dict[str, str]:
    """Dataset attributes common to the GPM readers (provenance from the FileHeader)."""
    header = file_header(handle, path)
    keep = (
        "DOI",
        "AlgorithmID",
        "AlgorithmVersion",
        "ProductVersion",
        "GranuleNumber",
        "StartGranuleDateTime",
        "StopGranuleDateTime",
        "SatelliteName",
        "InstrumentName",
    )
    attrs = {k: header[k] for k in keep if k in header}
    attrs.update({"source": "real", "product": product, "filename": os.path.basename(path)})
    return attrs
