"""What every GPM PPS swath granule shares: FileHeader, version, scan times, geolocation, fill.

GPM HDF5 files (1C-GMI, 2A-DPR, 2B-CMB) have no dimension scales; each swath ("scan mode") is a
group holding ``Latitude``/``Longitude`` (nscan, npixel) and a ``ScanTime`` subgroup with one
entry per scan (data_formats.md §2.2–2.3, 3.5). Fill values are typed ``_FillValue`` attributes
(−9999.9 for floats, −9999/−99 for integers) and become NaN here.
"""

from __future__ import annotations

import os
import re

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


def product_version(
    handle: h5py.File,
    path: str | os.PathLike,
    supported: tuple[str, ...] = SUPPORTED_MAJOR_VERSIONS,
) -> str:
    """Major product version (``"V06"``/``"V07"``) from the FileHeader or the file name.

    Raises
    ------
    ProductError
        If no version can be found or it is not one of ``supported``.
    """
    version = file_header(handle, path).get("ProductVersion", "")
    if not version:
        match = re.search(r"\.(V\d{2}[A-Z])\.", os.fspath(path))
        version = match.group(1) if match else ""
    major = version[:3]
    if major not in supported:
        raise ProductError(
            path,
            f"unknown product version {version or '<none>'!r}; this reader knows {list(supported)}",
        )
    return major


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
